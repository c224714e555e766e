"""Usage statistics as COUNTER counts them: views of record pages and downloads of files."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from knowledge_hub.models.base import db
from knowledge_hub.models.base import str_enum


class UsageMetric(enum.StrEnum):
    VIEW = "view"  # the record's landing page
    DOWNLOAD = "download"  # one of its files, downloaded or opened in the browser


class UsageCount(db.Model):
    """How often a record was viewed or its files downloaded in one month, per language
    version and file type: one row per combination, its count raised in place.

    Counts only: no visitor, address or browser is kept here.
    """

    __tablename__ = "usage_count"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), index=True
    )
    #: YYYY-MM, UTC: months sort and group as text on every database.
    month: Mapped[str] = mapped_column(String(7), index=True)
    metric: Mapped[UsageMetric] = mapped_column(str_enum(UsageMetric))
    #: The language version viewed, or the one the downloaded file belongs to.
    language: Mapped[str] = mapped_column(String(16))
    #: The downloaded file's media type; empty for a view.
    media_type: Mapped[str] = mapped_column(String(100), default="")
    count: Mapped[int] = mapped_column(default=0)

    __table_args__ = (UniqueConstraint("document_id", "month", "metric", "language", "media_type"),)

    def __repr__(self) -> str:
        return f"<UsageCount {self.id} {self.month} {self.metric} {self.count}>"


class RecentClick(db.Model):
    """When a visitor's request for an item was last counted, kept for the double-click
    window only (about 30 seconds), so that every worker counts a double click once.

    The visitor is a daily-salted hash (knowledge_hub.counter), never an address.
    """

    __tablename__ = "usage_click"

    visitor: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: "view:<document id>" or "download:<file id>".
    item: Mapped[str] = mapped_column(String(40), primary_key=True)
    counted_at: Mapped[datetime]
    #: counted_at + 30 s: a request after it counts again. Kept, not computed, so that
    #: the database compares two columns and needs no date arithmetic of its own.
    counts_again_at: Mapped[datetime] = mapped_column(index=True)

    def __repr__(self) -> str:
        return f"<RecentClick {self.item} {self.counted_at}>"
