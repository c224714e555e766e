"""The Task Force's meetings and what belongs to each: the organizations present and the
documents (agenda, minutes, presentations, decisions)."""

from __future__ import annotations

from datetime import date
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from knowledge_hub.models.base import db
from knowledge_hub.models.base import utcnow
from knowledge_hub.models.people import Organization

if TYPE_CHECKING:
    from knowledge_hub.models.documents import Document

#: A document belongs to one meeting at most: the document is the key. A table of its
#: own, not a column on `document`, so a record's row is not rebuilt to add it.
meeting_document = Table(
    "meeting_document",
    db.Model.metadata,
    Column("document_id", ForeignKey("document.id", ondelete="CASCADE"), primary_key=True),
    Column("meeting_id", ForeignKey("meeting.id", ondelete="CASCADE"), index=True, nullable=False),
)


class Meeting(db.Model):
    """A regular meeting of the Task Force, known by its number (the 45th)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    held_on: Mapped[date]
    #: Where it was held; None with `is_virtual` for an online meeting, or when unknown.
    place: Mapped[str | None] = mapped_column(String(200))
    is_virtual: Mapped[bool] = mapped_column(default=False)
    participants_count: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organization_links: Mapped[list[MeetingOrganization]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan"
    )
    documents: Mapped[list[Document]] = relationship(
        secondary=meeting_document, back_populates="meeting"
    )

    @property
    def members_present(self) -> list[Organization]:
        return _by_acronym(link for link in self.organization_links if not link.is_observer)

    @property
    def observers_present(self) -> list[Organization]:
        return _by_acronym(link for link in self.organization_links if link.is_observer)

    def __repr__(self) -> str:
        return f"<Meeting {self.id} no. {self.number}>"


class MeetingOrganization(db.Model):
    """An organization present at a meeting, as a member or as an observer.

    The part is kept with the meeting, not read from the organization's kind today: an
    observer then may be a member now.
    """

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), primary_key=True)
    is_observer: Mapped[bool] = mapped_column(default=False)

    meeting: Mapped[Meeting] = relationship(back_populates="organization_links")
    organization: Mapped[Organization] = relationship()


def _by_acronym(links) -> list[Organization]:
    return sorted((link.organization for link in links), key=lambda org: org.acronym.lower())
