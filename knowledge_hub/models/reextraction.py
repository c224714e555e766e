"""Runs of `hub reextract`: which files each covers, how far it got, what it found."""

from __future__ import annotations

from datetime import date
from datetime import datetime

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from knowledge_hub.models.base import db
from knowledge_hub.models.base import utcnow


class ReextractionRun(db.Model):
    """One run of the current extractor over stored files, and its counts so far.

    Each file's new text is committed together with the run's progress (the last file
    done, in the order of their ids), so a run stopped part-way is continued by the next
    run over the same selection instead of starting again.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The media types it covers; empty for every type.
    media_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Only files uploaded on or after this day, when set.
    since: Mapped[date | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    finished_at: Mapped[datetime | None]
    last_file_id: Mapped[int] = mapped_column(default=0)
    files_read: Mapped[int] = mapped_column(default=0)
    text_changed: Mapped[int] = mapped_column(default=0)
    newly_readable: Mapped[int] = mapped_column(default=0)
    still_unreadable: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    #: Files whose earlier text was kept because the new reading gave less.
    earlier_text_kept: Mapped[int] = mapped_column(default=0)
    #: Files missing from the upload folder, or whose bytes no longer match their sha256.
    not_read: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<ReextractionRun {self.id} {self.started_at:%Y-%m-%d %H:%M}>"
