"""Creating records, their language versions and their files."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from flask import current_app
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub import access
from knowledge_hub import extraction
from knowledge_hub.extensions import db
from knowledge_hub.metadata import normalize_language
from knowledge_hub.metadata import parse_partial_date
from knowledge_hub.models import AccessLevel
from knowledge_hub.models import DocType
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentKind
from knowledge_hub.models import DocumentOrganization
from knowledge_hub.models import Organization
from knowledge_hub.models import OrganizationRole
from knowledge_hub.models import Region
from knowledge_hub.models import StoredFile
from knowledge_hub.models import Topic
from knowledge_hub.models import User
from knowledge_hub.models import Variant
from knowledge_hub.models import VariantStatus
from knowledge_hub.services import Invalid
from knowledge_hub.services import NotFound
from knowledge_hub.services import transaction
from knowledge_hub.storage import BlobStore
from knowledge_hub.storage import StoredBlob


@dataclass
class RecordFields:
    """A record's metadata as given by a person or a manifest: codes, not objects."""

    ref: str
    kind: str
    doc_type: str = ""
    date: str = ""
    organizations: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    access: str = AccessLevel.PUBLIC.value
    series: str = ""


@dataclass
class ResolvedFields:
    """RecordFields checked against the vocabularies."""

    ref: str
    kind: DocumentKind
    doc_type: DocType | None
    date: str | None
    organizations: list[Organization]
    authors: list[str]
    topics: list[Topic]
    regions: list[Region]
    access: AccessLevel
    series: str | None


def blob_store() -> BlobStore:
    return BlobStore(current_app.config["UPLOAD_DIR"])


def resolve(fields: RecordFields) -> ResolvedFields:
    """Check metadata against the vocabularies; raise Invalid naming every problem.

    Unknown organizations, topics and types are errors, never silently created.
    """
    session = db.session
    problems: dict[str, str] = {}
    ref = fields.ref.strip()
    if not ref:
        problems["ref"] = "The reference is missing."
    elif len(ref) > 200:
        problems["ref"] = "The reference is longer than 200 characters."
    kind = _enum_value(DocumentKind, fields.kind, "kind", problems)
    level = _enum_value(AccessLevel, fields.access or "public", "access", problems)
    doc_type = None
    if fields.doc_type.strip():
        code = fields.doc_type.strip().lower()
        doc_type = session.scalar(select(DocType).where(DocType.code == code))
        if doc_type is None:
            problems["type"] = f"Unknown document type {fields.doc_type!r}."
    date = None
    if fields.date.strip():
        try:
            date = parse_partial_date(fields.date)
        except ValueError as e:
            problems["date"] = str(e)
    organizations = _lookup(
        Organization, Organization.acronym, fields.organizations, "organizations", problems
    )
    topics = _lookup(Topic, Topic.code, fields.topics, "topics", problems)
    regions = _lookup(Region, Region.code, fields.regions, "regions", problems)
    if problems:
        raise Invalid(" ".join(problems.values()), problems)
    return ResolvedFields(
        ref=ref,
        kind=kind,
        doc_type=doc_type,
        date=date,
        organizations=organizations,
        authors=[a.strip() for a in fields.authors if a.strip()],
        topics=topics,
        regions=regions,
        access=level,
        series=fields.series.strip() or None,
    )


def _enum_value(enum_class, value: str, name: str, problems: dict[str, str]):
    try:
        return enum_class(value.strip().lower())
    except ValueError:
        allowed = " | ".join(m.value for m in enum_class)
        problems[name] = f"{name} must be one of {allowed}, not {value!r}."
        return None


def _lookup(model, column, codes: list[str], name: str, problems: dict[str, str]) -> list:
    """Find vocabulary entries by code, case-insensitively, keeping the given order."""
    if not codes:
        return []
    wanted = [c.strip() for c in codes if c.strip()]
    found = {
        row_code.lower(): row
        for row, row_code in db.session.execute(
            select(model, column).where(func.lower(column).in_([c.lower() for c in wanted]))
        ).all()
    }
    unknown = [c for c in wanted if c.lower() not in found]
    if unknown:
        problems[name] = f"Unknown {name}: {', '.join(unknown)}."
    seen: set[str] = set()
    ordered = []
    for code in wanted:
        key = code.lower()
        if key in found and key not in seen:
            seen.add(key)
            ordered.append(found[key])
    return ordered


def find_by_ref(ref: str) -> Document | None:
    return db.session.scalar(select(Document).where(Document.ref == ref.strip()))


def create_document(actor: User | None, fields: RecordFields, language: str) -> Document:
    """Create a draft record whose original language is `language`."""
    access.require(actor, "create")
    with transaction() as session:
        resolved = resolve(fields)
        if find_by_ref(resolved.ref) is not None:
            raise Invalid(f"A record with reference {resolved.ref!r} already exists.")
        document = Document(
            ref=resolved.ref,
            kind=resolved.kind,
            doc_type=resolved.doc_type,
            date=resolved.date,
            authors=resolved.authors,
            access=resolved.access,
            series=resolved.series,
            original_language=normalize_language(language),
            topics=resolved.topics,
            regions=resolved.regions,
            created_by_id=actor.id if actor else None,
        )
        document.organization_links = [
            DocumentOrganization(
                organization=org,
                role=OrganizationRole.LEAD if i == 0 else OrganizationRole.CONTRIBUTOR,
                position=i,
            )
            for i, org in enumerate(resolved.organizations)
        ]
        session.add(document)
        session.flush()
        return document


def add_variant(
    actor: User | None,
    document: Document,
    language: str,
    title: str,
    summary: str = "",
    *,
    is_original: bool = False,
) -> Variant:
    """Add a language version to a record; one per language."""
    access.require(actor, "edit")
    with transaction() as session:
        try:
            language = normalize_language(language)
        except ValueError as e:
            raise Invalid(str(e), {"language": str(e)}) from e
        title = title.strip()
        if not title:
            raise Invalid("The title is missing.", {"title": "The title is missing."})
        if document.variant_in(language) is not None:
            raise Invalid(f"{document.ref} already has a version in {language}.")
        variant = Variant(
            document=document,
            language=language,
            title=title[:1000],
            summary=summary.strip() or None,
            is_original=is_original,
            status=VariantStatus.SUBMITTED,
        )
        session.add(variant)
        session.flush()
        return variant


@dataclass(frozen=True)
class PreparedFile:
    """A file stored in the blob store, typed and with its text, not yet on any record."""

    blob: StoredBlob
    media_type: str
    original_name: str
    extraction: extraction.Extraction


def prepare_file(path: Path, original_name: str) -> PreparedFile:
    """Sniff, store and extract a file before any transaction opens.

    Extraction can take seconds, so it must not hold the database; a blob left behind
    by a failed transaction is harmless and found by `hub check`.
    """
    try:
        media_type = extraction.sniff_file(path, original_name)
    except extraction.UnsupportedType as e:
        raise Invalid(str(e), {"file": str(e)}) from e
    except OSError as e:
        raise Invalid(f"The file cannot be read: {e.strerror}.") from e
    config = current_app.config
    blob = blob_store().put_file(path, max_size=config["MAX_CONTENT_LENGTH"])
    earlier = db.session.scalar(
        select(StoredFile)
        .where(StoredFile.sha256 == blob.sha256, StoredFile.extraction_error.is_(None))
        .limit(1)
    )
    if earlier is not None:
        # The same bytes were extracted before: their text is the same.
        result = extraction.Extraction(earlier.text or "", earlier.page_count, None)
    else:
        result = extraction.extract(
            blob.path,
            media_type,
            seconds=config["EXTRACTION_SECONDS"],
            memory_mb=config["EXTRACTION_MEMORY_MB"],
        )
    return PreparedFile(blob, media_type, Path(original_name).name[:300], result)


def attach_file(actor: User | None, variant: Variant, prepared: PreparedFile) -> StoredFile:
    """Attach a prepared file to a language version."""
    access.require(actor, "upload")
    with transaction() as session:
        stored = StoredFile(
            variant=variant,
            sha256=prepared.blob.sha256,
            size=prepared.blob.size,
            media_type=prepared.media_type,
            original_name=prepared.original_name,
            page_count=prepared.extraction.page_count,
            # PostgreSQL text cannot hold NUL, and no reader needs one.
            text=prepared.extraction.text.replace("\x00", "") or None,
            extraction_error=prepared.extraction.error,
            created_by_id=actor.id if actor else None,
        )
        session.add(stored)
        session.flush()
        return stored


def get_document(document_id: int) -> Document:
    document = db.session.get(Document, document_id)
    if document is None:
        raise NotFound(f"There is no record {document_id}.")
    return document
