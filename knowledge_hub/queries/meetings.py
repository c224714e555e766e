"""The Task Force's meetings as readers see them: each with the documents of it the
reader may see, in the order of a meeting's file (agenda, minutes, notes, presentations,
decisions, the rest). Read-only; documents are counted and listed through
`access.visible_to` only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from knowledge_hub import access
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import Meeting
from knowledge_hub.models import MeetingOrganization
from knowledge_hub.models import User
from knowledge_hub.models import Variant
from knowledge_hub.models.meetings import meeting_document
from knowledge_hub.queries.public import pick_variant
from knowledge_hub.queries.public import visible_variants

#: Where each type of document stands in a meeting's file; any other type comes last.
MEETING_ORDER = ("agenda", "meeting-minutes", "session-notes", "presentation", "workplan")


def meeting_order(type_code: str | None, date: str | None, title: str) -> tuple:
    """The sort key of a meeting's document: its type's place, then date (undated ones
    last), then title."""
    place = MEETING_ORDER.index(type_code) if type_code in MEETING_ORDER else len(MEETING_ORDER)
    return (place, date is None, date or "", title.casefold())


@dataclass
class MeetingEntry:
    """A meeting in the list, with how many of its documents the reader may see."""

    meeting: Meeting
    documents: int


@dataclass
class MeetingDocument:
    document: Document
    shown: Variant | None  # the version in the reader's language, else the original

    @property
    def title(self) -> str:
        return self.shown.title if self.shown else self.document.ref


def _visible_counts(viewer: User | None) -> dict[int, int]:
    rows = db.session.execute(
        select(meeting_document.c.meeting_id, func.count(Document.id))
        .join(Document, Document.id == meeting_document.c.document_id)
        .where(access.visible_to(viewer))
        .group_by(meeting_document.c.meeting_id)
    )
    return {meeting_id: count for meeting_id, count in rows}


def meetings_list(viewer: User | None) -> list[MeetingEntry]:
    """Every meeting, newest first, with the number of its documents viewer may see."""
    counts = _visible_counts(viewer)
    meetings = db.session.scalars(
        select(Meeting).order_by(Meeting.held_on.desc(), Meeting.number.desc())
    )
    return [MeetingEntry(meeting, counts.get(meeting.id, 0)) for meeting in meetings]


def meeting_numbered(number: int) -> Meeting | None:
    return db.session.scalar(
        select(Meeting)
        .where(Meeting.number == number)
        .options(
            selectinload(Meeting.organization_links).selectinload(MeetingOrganization.organization)
        )
    )


def meeting_documents(
    viewer: User | None, meeting: Meeting, languages: Sequence[str]
) -> list[MeetingDocument]:
    """The meeting's documents viewer may see, each in the first of `languages` it has."""
    documents = db.session.scalars(
        select(Document)
        .join(meeting_document, meeting_document.c.document_id == Document.id)
        .where(meeting_document.c.meeting_id == meeting.id, access.visible_to(viewer))
        .options(selectinload(Document.variants), selectinload(Document.doc_type))
    )
    entries = [
        MeetingDocument(document, pick_variant(visible_variants(viewer, document), languages))
        for document in documents
    ]
    return sorted(
        entries,
        key=lambda entry: meeting_order(
            entry.document.doc_type.code if entry.document.doc_type else None,
            entry.document.date,
            entry.title,
        ),
    )
