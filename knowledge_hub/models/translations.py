"""Requests to translate a record into another language."""

from __future__ import annotations

import enum
from datetime import date
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from knowledge_hub.models.base import db
from knowledge_hub.models.base import str_enum
from knowledge_hub.models.base import utcnow
from knowledge_hub.models.documents import Document
from knowledge_hub.models.documents import StoredFile
from knowledge_hub.models.documents import Variant
from knowledge_hub.models.people import User


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    SUBMITTED = "submitted"
    DONE = "done"
    CANCELLED = "cancelled"


#: Requests still being worked on; a record has at most one per language.
ACTIVE_REQUEST_STATUSES = (RequestStatus.OPEN, RequestStatus.CLAIMED, RequestStatus.SUBMITTED)


class TranslationRequest(db.Model):
    """Staff ask for a record in a language; one translator claims and delivers it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[RequestStatus] = mapped_column(
        str_enum(RequestStatus), default=RequestStatus.OPEN, index=True
    )
    note: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date | None]
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    claimed_at: Mapped[datetime | None]
    #: The language version delivered for this request.
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variant.id", ondelete="SET NULL"))

    document: Mapped[Document] = relationship()
    variant: Mapped[Variant | None] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])

    def __repr__(self) -> str:
        return f"<TranslationRequest {self.id} {self.language} {self.status}>"


# A change to the original's title, summary or files makes its translations out of date.


@event.listens_for(Session, "before_flush")
def _count_original_revisions(session: Session, flush_context: object, instances: object) -> None:
    """Bump the record's original_revision when the original's title, summary or files change."""
    bumped: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        variant = None
        if isinstance(obj, Variant) and obj in session.dirty:
            state = inspect(obj)
            if obj.is_original and (
                state.attrs.title.history.has_changes() or state.attrs.summary.history.has_changes()
            ):
                variant = obj
        elif isinstance(obj, StoredFile) and obj.variant is not None and obj.variant.is_original:
            if obj in session.new or obj in session.deleted:
                variant = obj.variant
        if variant is None or variant.document is None:
            continue
        document = variant.document
        if document.id not in bumped and document.id is not None:
            bumped.add(document.id)
            document.original_revision = (document.original_revision or 1) + 1
