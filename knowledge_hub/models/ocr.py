"""The OCR queue: the pages of stored PDFs that have no text layer, waiting to be read."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from knowledge_hub.models.base import db
from knowledge_hub.models.base import str_enum
from knowledge_hub.models.base import utcnow


class OcrState(enum.StrEnum):
    WAITING = "waiting"
    #: Claimed by a worker until `lease_until`; a worker that dies leaves it to be claimed again.
    WORKING = "working"
    DONE = "done"
    FAILED = "failed"


class OcrPage(db.Model):
    """One page of a stored file to be read by OCR, and what came of it.

    A page's text is committed in the same transaction as its state and the file's new
    text, so a worker killed mid-page loses nothing and repeats no finished page.
    """

    __table_args__ = (UniqueConstraint("stored_file_id", "page"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stored_file_id: Mapped[int] = mapped_column(
        ForeignKey("stored_file.id", ondelete="CASCADE"), index=True
    )
    #: The page number, from 1.
    page: Mapped[int]
    #: Tesseract's language packs for the page: "fra", or "eng+fra+spa+rus+ara+chi_sim".
    languages: Mapped[str] = mapped_column(String(64))
    state: Mapped[OcrState] = mapped_column(
        str_enum(OcrState), default=OcrState.WAITING, index=True
    )
    #: How many times a worker has claimed the page.
    attempts: Mapped[int] = mapped_column(default=0)
    #: Who holds a working page ("host:pid"), and until when.
    worker: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    text: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<OcrPage {self.id} file {self.stored_file_id} page {self.page} {self.state}>"
