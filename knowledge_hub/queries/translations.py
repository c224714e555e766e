"""Read-only selects for the translation pages: the translator's queue, the review list
of language versions, and the coverage of the catalogue by language."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from knowledge_hub import access
from knowledge_hub.extensions import db
from knowledge_hub.models import ACTIVE_REQUEST_STATUSES
from knowledge_hub.models import AuditEvent
from knowledge_hub.models import DocType
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentOrganization
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import Organization
from knowledge_hub.models import RequestStatus
from knowledge_hub.models import TranslationRequest
from knowledge_hub.models import User
from knowledge_hub.models import Variant
from knowledge_hub.models import VariantStatus

#: The six UN languages, in the order the coverage table shows them.
UN_LANGUAGES = ("ar", "zh", "en", "fr", "ru", "es")

#: Every state a coverage cell can take.
COVERAGE_STATES = (
    "original",
    "released",
    "approved",
    "in review",
    "sent back",
    "requested",
    "claimed",
    "out of date",
    "missing",
)

#: Cells that count as the record being available in a language.
AVAILABLE_STATES = frozenset({"original", "released", "approved"})


def _same_language(tag: str, language: str) -> bool:
    return tag == language or tag.split("-")[0] == language


def coverage_state(
    document: Document, language: str, requests: Iterable[TranslationRequest]
) -> str:
    """The state of one record in one language, for the coverage page and its CSV.

    `requests` are the record's translation requests (any status; only active ones count).
    """
    variant = next((v for v in document.variants if _same_language(v.language, language)), None)
    if variant is not None and variant.is_original:
        return "original"
    if variant is not None and variant.status in (VariantStatus.IN_REVIEW, VariantStatus.SUBMITTED):
        return "in review"
    if variant is not None and variant.status == VariantStatus.SENT_BACK:
        return "sent back"
    active = next(
        (
            r
            for r in requests
            if r.document_id == document.id
            and _same_language(r.language, language)
            and r.status in ACTIVE_REQUEST_STATUSES
        ),
        None,
    )
    if active is not None:
        return {
            RequestStatus.OPEN: "requested",
            RequestStatus.CLAIMED: "claimed",
            RequestStatus.SUBMITTED: "in review",
        }[active.status]
    if variant is not None and variant.status == VariantStatus.APPROVED:
        if variant.is_out_of_date:
            return "out of date"
        return "released" if document.status == DocumentStatus.RELEASED else "approved"
    return "missing"


@dataclass(frozen=True)
class CoverageFilter:
    doc_type: str = ""
    year: int | None = None
    organization: str = ""

    @classmethod
    def clean(cls, doc_type: str, year: str, organization: str) -> CoverageFilter:
        year = (year or "").strip()
        return cls(
            (doc_type or "").strip(),
            int(year) if year.isdigit() and len(year) == 4 else None,
            (organization or "").strip(),
        )


@dataclass
class CoverageRow:
    document: Document
    cells: dict[str, str]


@dataclass
class Coverage:
    languages: tuple[str, ...]
    rows: list[CoverageRow]
    counts: dict[str, int] = field(default_factory=dict)


def coverage(viewer: User | None, wanted: CoverageFilter) -> Coverage:
    """One row per record the viewer may see, one cell per UN language."""
    query = (
        select(Document)
        .where(access.visible_to(viewer, include_withdrawn=True))
        .options(selectinload(Document.variants), selectinload(Document.doc_type))
        .order_by(Document.ref)
    )
    if wanted.doc_type:
        query = query.join(DocType, Document.doc_type_id == DocType.id).where(
            DocType.code == wanted.doc_type
        )
    if wanted.year is not None:
        query = query.where(Document.date.like(f"{wanted.year:04d}%"))
    if wanted.organization:
        query = query.where(
            Document.id.in_(
                select(DocumentOrganization.document_id)
                .join(Organization, DocumentOrganization.organization_id == Organization.id)
                .where(Organization.acronym == wanted.organization)
            )
        )
    documents = list(db.session.scalars(query))
    requests_by_document: dict[int, list[TranslationRequest]] = {}
    if documents:
        for request in db.session.scalars(
            select(TranslationRequest).where(
                TranslationRequest.document_id.in_([d.id for d in documents]),
                TranslationRequest.status.in_(ACTIVE_REQUEST_STATUSES),
            )
        ):
            requests_by_document.setdefault(request.document_id, []).append(request)
    rows = [
        CoverageRow(
            document,
            {
                language: coverage_state(
                    document, language, requests_by_document.get(document.id, [])
                )
                for language in UN_LANGUAGES
            },
        )
        for document in documents
    ]
    counts = {
        language: sum(1 for row in rows if row.cells[language] in AVAILABLE_STATES)
        for language in UN_LANGUAGES
    }
    return Coverage(UN_LANGUAGES, rows, counts)


def coverage_choices() -> tuple[list[DocType], list[int], list[Organization]]:
    """The values the coverage filters offer: types, years and organizations."""
    types = list(db.session.scalars(select(DocType).order_by(DocType.position)))
    dates = db.session.scalars(select(Document.date).where(Document.date.is_not(None)).distinct())
    years = sorted({int(d[:4]) for d in dates if d and d[:4].isdigit()}, reverse=True)
    organizations = list(db.session.scalars(select(Organization).order_by(Organization.acronym)))
    return types, years, organizations


# --- the translator's queue


@dataclass
class MyWork:
    request: TranslationRequest
    variant: Variant | None
    #: The reviewer's comment when the version was sent back.
    comment: str = ""


@dataclass
class TranslatorQueue:
    open: list[TranslationRequest]
    mine: list[MyWork]


def translator_queue(translator: User) -> TranslatorQueue:
    """Open requests in the translator's languages, and the requests they claimed."""
    languages = list(translator.languages or [])
    open_requests = [
        r
        for r in db.session.scalars(
            select(TranslationRequest)
            .where(TranslationRequest.status == RequestStatus.OPEN)
            .options(selectinload(TranslationRequest.document).selectinload(Document.variants))
            .order_by(
                TranslationRequest.due_on.is_(None),
                TranslationRequest.due_on,
                TranslationRequest.id,
            )
        )
        if any(
            _same_language(r.language, tag.split("-")[0]) or r.language == tag for tag in languages
        )
    ]
    mine = []
    for request in db.session.scalars(
        select(TranslationRequest)
        .where(
            TranslationRequest.claimed_by_id == translator.id,
            TranslationRequest.status.in_((RequestStatus.CLAIMED, RequestStatus.SUBMITTED)),
        )
        .options(selectinload(TranslationRequest.document).selectinload(Document.variants))
        .order_by(TranslationRequest.id)
    ):
        variant = request.document.variant_in(request.language)
        comment = ""
        if variant is not None and variant.status == VariantStatus.SENT_BACK:
            comment = send_back_comment(variant)
        mine.append(MyWork(request, variant, comment))
    return TranslatorQueue(open_requests, mine)


def send_back_comment(variant: Variant) -> str:
    """The reviewer's comment of the latest send-back of a language version."""
    event = db.session.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.action == "send_back_translation",
            AuditEvent.object_type == "variant",
            AuditEvent.object_id == variant.id,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return (event.details or {}).get("comment", "") if event is not None else ""


# --- the reviewers' list


#: A translation waits for a reviewer from its submission until approved or sent back.
TRANSLATION_WAITING = (VariantStatus.IN_REVIEW, VariantStatus.SUBMITTED)


def translations_in_review() -> list[Variant]:
    """Language versions waiting for a reviewer, the longest waiting first."""
    return list(
        db.session.scalars(
            select(Variant)
            .where(Variant.is_original.is_(False), Variant.status.in_(TRANSLATION_WAITING))
            .options(selectinload(Variant.document).selectinload(Document.variants))
            .order_by(Variant.updated_at, Variant.id)
        )
    )


def out_of_date_translations() -> list[Variant]:
    """Approved translations made from an earlier revision of the original."""
    approved = db.session.scalars(
        select(Variant)
        .where(Variant.is_original.is_(False), Variant.status == VariantStatus.APPROVED)
        .options(selectinload(Variant.document))
        .order_by(Variant.id)
    )
    return [v for v in approved if v.is_out_of_date]


def record(viewer: User | None, document_id: int) -> Document | None:
    """A record with its versions and files, as viewer may see it."""
    return db.session.scalar(
        select(Document)
        .where(Document.id == document_id, access.visible_to(viewer, include_withdrawn=True))
        .options(selectinload(Document.variants).selectinload(Variant.files))
    )
