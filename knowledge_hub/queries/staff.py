"""Read-only queries for the secretariat's pages: record lists, vocabularies, one record."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from knowledge_hub import access
from knowledge_hub.extensions import db
from knowledge_hub.models import DocType
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentKind
from knowledge_hub.models import DocumentOrganization
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import Meeting
from knowledge_hub.models import Organization
from knowledge_hub.models import Topic
from knowledge_hub.models import User
from knowledge_hub.models import Variant


def _loader() -> tuple:
    return (
        selectinload(Document.variants).selectinload(Variant.files),
        selectinload(Document.doc_type),
        selectinload(Document.topics),
        selectinload(Document.regions),
        selectinload(Document.organization_links).selectinload(DocumentOrganization.organization),
    )


@dataclass(frozen=True)
class RecordFilter:
    """What the records list is narrowed to; empty strings mean no filter."""

    status: str = ""
    kind: str = ""
    doc_type: str = ""
    q: str = ""

    @classmethod
    def clean(cls, status: str, kind: str, doc_type: str, q: str) -> RecordFilter:
        """Keep only values that can match, so a typo in the address shows everything."""
        return cls(
            status=status if status in DocumentStatus._value2member_map_ else "",
            kind=kind if kind in DocumentKind._value2member_map_ else "",
            doc_type=doc_type.strip()[:40],
            q=q.strip()[:200],
        )


@dataclass
class RecordList:
    documents: list[Document]
    total: int
    counts: dict[str, int]
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def records(
    viewer: User | None, wanted: RecordFilter, page: int = 1, per_page: int = 50
) -> RecordList:
    """The records staff work on, filtered, newest change first, with counts by status."""
    conditions = [access.visible_to(viewer)]
    if wanted.kind:
        conditions.append(Document.kind == wanted.kind)
    if wanted.doc_type:
        conditions.append(
            Document.doc_type_id.in_(select(DocType.id).where(DocType.code == wanted.doc_type))
        )
    if wanted.q:
        pattern = f"%{_escape_like(wanted.q)}%"
        conditions.append(
            or_(
                Document.ref.ilike(pattern, escape="\\"),
                Document.id.in_(
                    select(Variant.document_id).where(Variant.title.ilike(pattern, escape="\\"))
                ),
            )
        )
    # The status counts follow the other filters, so each count says what its link shows.
    counts = {
        str(status): count
        for status, count in db.session.execute(
            select(Document.status, func.count(Document.id))
            .where(*conditions)
            .group_by(Document.status)
        ).all()
    }
    if wanted.status:
        conditions.append(Document.status == wanted.status)
    total = db.session.scalar(select(func.count(Document.id)).where(*conditions)) or 0
    page = max(1, page)
    documents = db.session.scalars(
        select(Document)
        .where(*conditions)
        .order_by(Document.updated_at.desc(), Document.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
        .options(*_loader())
    ).all()
    return RecordList(list(documents), total, counts, page, per_page)


def record(viewer: User | None, document_id: int) -> Document | None:
    """One record with its versions and files, if viewer may see it."""
    return db.session.scalar(
        select(Document)
        .where(Document.id == document_id, access.visible_to(viewer, include_withdrawn=True))
        .options(*_loader())
    )


@dataclass
class Vocabularies:
    """The controlled lists a record's form picks from."""

    doc_types: list[DocType]
    organizations: list[Organization]
    themes: list[Topic]
    sdgs: list[Topic]
    #: The meetings a record can belong to, newest first.
    meetings: list[Meeting]


def vocabularies(document: Document | None = None) -> Vocabularies:
    """What a record's form offers: entries in use, and the retired ones `document` has."""
    kept_topics = {t.id for t in document.topics} if document else set()
    kept_type = document.doc_type_id if document else None
    topics = [
        t
        for t in db.session.scalars(select(Topic).order_by(Topic.position, Topic.code))
        if t.is_active or t.id in kept_topics
    ]
    return Vocabularies(
        doc_types=[
            t
            for t in db.session.scalars(select(DocType).order_by(DocType.position))
            if t.is_active or t.id == kept_type
        ],
        organizations=list(
            db.session.scalars(select(Organization).order_by(func.lower(Organization.acronym)))
        ),
        themes=[t for t in topics if not t.is_sdg],
        sdgs=[t for t in topics if t.is_sdg],
        meetings=list(db.session.scalars(select(Meeting).order_by(Meeting.number.desc()))),
    )
