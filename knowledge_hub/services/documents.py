"""Creating records, their language versions and their files."""

from __future__ import annotations

import hashlib
import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub import access
from knowledge_hub import extraction
from knowledge_hub.extensions import db
from knowledge_hub.field_values import normalize_language
from knowledge_hub.field_values import parse_partial_date
from knowledge_hub.i18n.messages import translate
from knowledge_hub.i18n.vocabularies import status_label
from knowledge_hub.models import AccessLevel
from knowledge_hub.models import DocType
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentKind
from knowledge_hub.models import DocumentOrganization
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import Meeting
from knowledge_hub.models import Organization
from knowledge_hub.models import OrganizationRole
from knowledge_hub.models import Region
from knowledge_hub.models import StoredFile
from knowledge_hub.models import Topic
from knowledge_hub.models import User
from knowledge_hub.models import Variant
from knowledge_hub.models import VariantStatus
from knowledge_hub.services import Invalid
from knowledge_hub.services import ReleaseRefused
from knowledge_hub.services import ReviewRequired
from knowledge_hub.services import audit
from knowledge_hub.services import meetings
from knowledge_hub.services import ocr
from knowledge_hub.services import previews
from knowledge_hub.services import transaction
from knowledge_hub.storage import CHUNK
from knowledge_hub.storage import BlobStore
from knowledge_hub.storage import StorageError
from knowledge_hub.storage import StorageFull
from knowledge_hub.storage import StoredBlob
from knowledge_hub.storage import new_temp_file
from knowledge_hub.storage import storage_error


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
    #: The meeting's number ("45"); "" for none; None leaves the record's meeting as it is.
    meeting: str | None = None


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
    meeting: Meeting | None = None
    #: False when the fields did not speak of a meeting: the record keeps its own.
    sets_meeting: bool = False


def blob_store() -> BlobStore:
    return BlobStore(current_app.config["UPLOAD_DIR"])


def resolve(fields: RecordFields, existing: Document | None = None) -> ResolvedFields:
    """Check metadata against the vocabularies; raise Invalid naming every problem.

    Unknown organizations, topics and types are errors, never silently created. A
    retired type or topic is refused, except on the record (`existing`) that has it.
    """
    session = db.session
    problems: dict[str, str] = {}
    ref = fields.ref.strip()
    if not ref:
        problems["ref"] = _("The reference is missing.")
    elif len(ref) > 200:
        problems["ref"] = _("The reference is longer than 200 characters.")
    kind = _enum_value(DocumentKind, fields.kind, "kind", problems)
    level = _enum_value(AccessLevel, fields.access or "public", "access", problems)
    doc_type = None
    if fields.doc_type.strip():
        code = fields.doc_type.strip().lower()
        doc_type = session.scalar(select(DocType).where(DocType.code == code))
        if doc_type is None:
            problems["type"] = _("Unknown document type %(code)s.", code=repr(fields.doc_type))
        elif not doc_type.is_active and not (existing and existing.doc_type_id == doc_type.id):
            problems["type"] = _("The document type %(code)s is retired.", code=repr(code))
    date = None
    if fields.date.strip():
        try:
            date = parse_partial_date(fields.date)
        except ValueError as e:
            problems["date"] = translate(e.args[0])
    organizations = _lookup(
        Organization, Organization.acronym, fields.organizations, "organizations", problems
    )
    topics = _lookup(Topic, Topic.code, fields.topics, "topics", problems)
    kept = {t.id for t in existing.topics} if existing else set()
    retired = [t.code for t in topics if not t.is_active and t.id not in kept]
    if retired:
        problems["topics"] = _("Retired topics: %(codes)s.", codes=", ".join(retired))
    regions = _lookup(Region, Region.code, fields.regions, "regions", problems)
    meeting = None
    if fields.meeting and fields.meeting.strip():
        try:
            meeting = meetings.meeting_numbered(fields.meeting)
        except Invalid as e:
            problems["meeting"] = str(e)
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
        meeting=meeting,
        sets_meeting=fields.meeting is not None,
    )


def _enum_value(enum_class, value: str, name: str, problems: dict[str, str]):
    try:
        return enum_class(value.strip().lower())
    except ValueError:
        allowed = " | ".join(m.value for m in enum_class)
        problems[name] = _(
            "%(name)s must be one of %(allowed)s, not %(value)s.",
            name=name,
            allowed=allowed,
            value=repr(value),
        )
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
        problems[name] = _("Unknown %(name)s: %(codes)s.", name=name, codes=", ".join(unknown))
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


def _language(tag: str, problems: dict[str, str]) -> str | None:
    try:
        return normalize_language(tag)
    except ValueError as e:
        problems["language"] = translate(e.args[0])
        return None


def _check(
    fields: RecordFields, problems: dict[str, str], existing: Document | None = None
) -> ResolvedFields | None:
    """Resolve the fields, adding their problems to the others instead of stopping."""
    try:
        return resolve(fields, existing)
    except Invalid as e:
        problems.update(e.problems)
        return None


def create_document(actor: User | None, fields: RecordFields, language: str) -> Document:
    """Create a draft record whose original language is `language`."""
    access.require(actor, "create")
    with transaction() as session:
        problems: dict[str, str] = {}
        resolved = _check(fields, problems)
        original_language = _language(language, problems)
        if resolved is not None and find_by_ref(resolved.ref) is not None:
            problems["ref"] = _(
                "A record with reference %(ref)s already exists.", ref=repr(resolved.ref)
            )
        if problems or resolved is None or original_language is None:
            raise Invalid(" ".join(problems.values()), problems)
        document = Document(
            ref=resolved.ref,
            kind=resolved.kind,
            doc_type=resolved.doc_type,
            date=resolved.date,
            authors=resolved.authors,
            access=resolved.access,
            series=resolved.series,
            original_language=original_language,
            topics=resolved.topics,
            regions=resolved.regions,
            meeting=resolved.meeting,
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
        audit(actor, "create", document, **_snapshot(document))
        return document


def create_record(
    actor: User | None, fields: RecordFields, language: str, title: str, summary: str = ""
) -> Document:
    """Create a draft record together with its original language version."""
    access.require(actor, "create")
    with transaction():
        # Check everything first, so that a person sees every problem at once.
        problems: dict[str, str] = {}
        resolved = _check(fields, problems)
        _language(language, problems)
        if resolved is not None and find_by_ref(resolved.ref) is not None:
            problems["ref"] = _(
                "A record with reference %(ref)s already exists.", ref=repr(resolved.ref)
            )
        if not title.strip():
            problems["title"] = _("The title is missing.")
        if problems:
            raise Invalid(" ".join(problems.values()), problems)
        document = create_document(actor, fields, language)
        add_variant(actor, document, document.original_language, title, summary, is_original=True)
        return document


def _snapshot(document: Document) -> dict[str, Any]:
    """A record's metadata as plain values, for the audit trail's before and after."""
    return {
        "ref": document.ref,
        "kind": document.kind.value if document.kind else None,
        "type": document.doc_type.code if document.doc_type else None,
        "date": document.date,
        "organizations": [link.organization.acronym for link in document.organization_links],
        "authors": list(document.authors or []),
        # Topics and regions have no order of their own: compare them sorted.
        "topics": sorted(t.code for t in document.topics),
        "regions": sorted(r.code for r in document.regions),
        "access": document.access.value if document.access else None,
        "series": document.series,
        "original_language": document.original_language,
        "meeting": document.meeting.number if document.meeting else None,
    }


#: Metadata a released record's review vouched for: the kind decides which criteria
#: apply, the credits are what "reviewed by two member organizations" and "logo use
#: approved" attest, the original language is checked against the text. Cataloguing
#: (type, date, topics, regions, series) and a narrower access level are corrections
#: that take effect at once, recorded in the history.
REVIEWED_FIELDS = ("kind", "organizations", "authors", "original_language")

#: Access levels from the narrowest audience to the widest.
_AUDIENCE = {
    AccessLevel.INTERNAL.value: 0,
    AccessLevel.MEMBERS.value: 1,
    AccessLevel.PUBLIC.value: 2,
}


def _reviewed_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The fields of a metadata change that a released record must pass review for."""
    fields = [key for key in REVIEWED_FIELDS if before.get(key) != after.get(key)]
    if _AUDIENCE.get(after.get("access"), 0) > _AUDIENCE.get(before.get("access"), 0):
        fields.insert(0, "access")  # a wider audience than the release was checked for
    return fields


def _is_live(document: Document, variant: Variant | None = None) -> bool:
    """Whether readers see the record (and this version) as it was reviewed."""
    if document.status != DocumentStatus.RELEASED:
        return False
    return variant is None or variant.status == VariantStatus.APPROVED


def _through_review(actor: User | None, document: Document, fields: list[str]) -> None:
    """Let a change to what a released record's review vouched for through only as a
    reviewed change: by someone who may release it, and passing the gate again.

    Called inside the change's transaction, after the change is made and flushed, so
    that the gate judges the record as it would be; raising rolls the change back.
    """
    if not fields:
        return
    if not access.may_change_released(actor):
        raise ReviewRequired(document.ref, fields)
    from knowledge_hub.services import review  # review reads records; it never edits them

    result = review.gate_result(document)
    if not result.passed:
        raise ReleaseRefused(document.ref, list(result.missing))
    audit(actor, "reviewed_change", document, fields=fields)


def _changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    changed = [key for key in after if before.get(key) != after[key]]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def edit_document(
    actor: User | None, document: Document, fields: RecordFields, language: str | None = None
) -> Document:
    """Change a record's metadata (and, given `language`, its original language).

    Only what changed is recorded, with its value before and after. A released record
    may be corrected, but keeps its reference: it is how the record is cited.
    """
    access.require(actor, "edit")
    with transaction() as session:
        problems: dict[str, str] = {}
        resolved = _check(fields, problems, existing=document)
        new_ref = fields.ref.strip()
        if new_ref and new_ref != document.ref:
            if document.status in (DocumentStatus.RELEASED, DocumentStatus.WITHDRAWN):
                problems["ref"] = _(
                    "%(ref)s is %(status)s: its reference is cited and cannot change.",
                    ref=document.ref,
                    status=status_label(document.status.value).lower(),
                )
            elif find_by_ref(new_ref) is not None:
                problems["ref"] = _(
                    "A record with reference %(ref)s already exists.", ref=repr(new_ref)
                )
        original_language = document.original_language
        if language is not None and language.strip():
            original_language = _language(language, problems) or original_language
        original = document.original
        if original_language != document.original_language:
            other = document.variant_in(original_language)
            if other is not None and other is not original:
                problems["language"] = _(
                    "%(ref)s already has a version in %(language)s; "
                    "it cannot become the original language.",
                    ref=document.ref,
                    language=original_language,
                )
        if problems or resolved is None:
            raise Invalid(" ".join(problems.values()), problems)
        before = _snapshot(document)
        document.ref = resolved.ref
        document.kind = resolved.kind
        document.doc_type = resolved.doc_type
        document.date = resolved.date
        document.authors = resolved.authors
        document.access = resolved.access
        document.series = resolved.series
        if sorted(t.code for t in document.topics) != sorted(t.code for t in resolved.topics):
            document.topics = resolved.topics
        if sorted(r.code for r in document.regions) != sorted(r.code for r in resolved.regions):
            document.regions = resolved.regions
        _set_organizations(document, resolved.organizations)
        if resolved.sets_meeting and document.meeting is not resolved.meeting:
            document.meeting = resolved.meeting
        if original_language != document.original_language:
            if original is not None and original.language == document.original_language:
                original.language = original_language
            document.original_language = original_language
        session.flush()
        after = _snapshot(document)
        old, new = _changes(before, after)
        if new:
            audit(actor, "edit", document, before=old, after=new)
        if _is_live(document):
            _through_review(actor, document, _reviewed_changes(before, after))
        return document


def _set_organizations(document: Document, organizations: list[Organization]) -> None:
    """Credit the organizations in order, the first as lead, reusing the existing links."""
    links = {link.organization_id: link for link in document.organization_links}
    wanted = []
    for position, org in enumerate(organizations):
        link = links.pop(org.id, None) or DocumentOrganization(organization=org)
        link.role = OrganizationRole.LEAD if position == 0 else OrganizationRole.CONTRIBUTOR
        link.position = position
        wanted.append(link)
    if [link.organization_id for link in document.organization_links] != [
        org.id for org in organizations
    ] or links:
        document.organization_links = wanted


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
        problems: dict[str, str] = {}
        normalized = _language(language, problems)
        title = title.strip()
        if not title:
            problems["title"] = _("The title is missing.")
        if normalized and document.variant_in(normalized) is not None:
            problems["language"] = _(
                "%(ref)s already has a version in %(language)s.",
                ref=document.ref,
                language=normalized,
            )
        if problems or normalized is None:
            raise Invalid(" ".join(problems.values()), problems)
        variant = Variant(
            document=document,
            language=normalized,
            title=title[:1000],
            summary=summary.strip() or None,
            is_original=is_original,
            status=VariantStatus.SUBMITTED,
            # A version added beside the original translates it as it stands now.
            source_revision=None if is_original else document.original_revision,
        )
        session.add(variant)
        session.flush()
        audit(
            actor,
            "create",
            variant,
            language=variant.language,
            title=variant.title,
            summary=variant.summary,
            is_original=is_original,
        )
        return variant


def edit_variant(actor: User | None, variant: Variant, title: str, summary: str) -> Variant:
    """Change a language version's title and summary, recording what changed."""
    access.require(actor, "edit")
    with transaction() as session:
        title = title.strip()
        if not title:
            missing = _("The title is missing.")
            raise Invalid(missing, {"title": missing})
        before = {"title": variant.title, "summary": variant.summary}
        variant.title = title[:1000]
        variant.summary = summary.strip() or None
        old, new = _changes(before, {"title": variant.title, "summary": variant.summary})
        if new:
            session.flush()
            audit(actor, "edit", variant, language=variant.language, before=old, after=new)
            # What readers see of a released version (its title and summary) was reviewed.
            if _is_live(variant.document, variant):
                _through_review(actor, variant.document, sorted(new))
        return variant


def update_record(
    actor: User | None,
    document: Document,
    fields: RecordFields,
    language: str,
    title: str,
    summary: str = "",
) -> bool:
    """Save a record's metadata with its original version's title and summary.

    Every problem is reported at once; tell whether anything changed.
    """
    access.require(actor, "edit")
    with transaction():
        problems: dict[str, str] = {}
        if not title.strip():
            problems["title"] = _("The title is missing.")
        original = document.original
        before = (_snapshot(document), _texts(original))
        try:
            edit_document(actor, document, fields, language)
        except Invalid as e:
            problems = {**e.problems, **problems}
        if problems:
            raise Invalid(" ".join(problems.values()), problems)
        if original is None:
            original = add_variant(
                actor, document, document.original_language, title, summary, is_original=True
            )
        else:
            edit_variant(actor, original, title, summary)
        return before != (_snapshot(document), _texts(original))


def _texts(variant: Variant | None) -> tuple[str | None, str | None]:
    return (variant.title, variant.summary) if variant is not None else (None, None)


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
        raise Invalid(_("The file cannot be read: %(reason)s.", reason=e.strerror)) from e
    config = current_app.config
    store = blob_store()
    try:
        blob = store.put_file(path, max_size=config["MAX_CONTENT_LENGTH"])
    except StorageError as e:
        message = storage_full_message() if isinstance(e, StorageFull) else str(e)
        raise Invalid(message, {"file": message}) from e
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
    previews.make_thumbnail(store, blob.sha256, media_type)  # logged, never refused
    return PreparedFile(blob, media_type, safe_file_name(original_name), result)


#: Characters that reorder or hide what a name shows: bidirectional embeddings,
#: overrides and isolates, and the direction marks ("invoice\u202efdp.exe").
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
MAX_NAME_CHARS = 255


def safe_file_name(name: str) -> str:
    """The last part of a name a client sent, fit to record and to offer on download.

    Files are stored under their hash, so the name is only shown: it loses any folder
    part (Windows ones too), control characters (NUL, CR, LF...), direction overrides and
    surrogates, and is cut to 255 characters keeping its extension; a name left empty or
    made only of dots becomes "upload".
    """
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        c
        for c in name
        if unicodedata.category(c) not in ("Cc", "Cs", "Co", "Cn") and c not in _BIDI_CONTROLS
    )
    name = " ".join(name.split()).strip(" .")
    if len(name) > MAX_NAME_CHARS:
        stem, dot, suffix = name.rpartition(".")
        if dot and 0 < len(suffix) <= 16 and stem:
            name = stem[: MAX_NAME_CHARS - len(suffix) - 1].rstrip(" .") + "." + suffix
        else:
            name = name[:MAX_NAME_CHARS]
    return name or "upload"


def attach_file(
    actor: User | None, variant: Variant, prepared: PreparedFile, *, permission: str = "upload"
) -> StoredFile:
    """Attach a prepared file to a language version.

    `permission` names the action the actor needs: staff upload, translators deliver
    ("submit_translation", with their claim checked by the translations service).
    """
    access.require(actor, permission)
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
        ocr.queue_scanned_pages(stored)  # read in the background by `hub ocr`
        audit(
            actor,
            "upload",
            stored,
            document_id=variant.document_id,
            language=variant.language,
            name=stored.original_name,
            sha256=stored.sha256,
            size=stored.size,
            media_type=stored.media_type,
            text_length=len(stored.text or ""),
            extraction_error=stored.extraction_error,
        )
        return stored


def detach_files(actor: User | None, variant: Variant) -> None:
    """Take every file off a language version (the blobs stay for other records)."""
    access.require(actor, "edit")
    if _is_live(variant.document, variant) and not access.may_change_released(actor):
        raise ReviewRequired(variant.document.ref, ["files"])
    with transaction() as session:
        for stored in list(variant.files):
            audit(
                actor,
                "remove_file",
                stored,
                document_id=variant.document_id,
                language=variant.language,
                name=stored.original_name,
                sha256=stored.sha256,
            )
        variant.files.clear()
        session.flush()


def other_record_with(sha256: str, document_id: int | None) -> str | None:
    """The reference of another record that holds the same bytes, if any."""
    stmt = (
        select(Document.ref)
        .join(Variant, Variant.document_id == Document.id)
        .join(StoredFile, StoredFile.variant_id == Variant.id)
        .where(StoredFile.sha256 == sha256)
        .order_by(Document.id)
        .limit(1)
    )
    if document_id is not None:
        stmt = stmt.where(Document.id != document_id)
    return db.session.scalar(stmt)


@dataclass(frozen=True)
class UploadOutcome:
    """What became of one uploaded file."""

    name: str
    stored: bool
    #: Why the file was refused, in words for people; empty when it was stored.
    error: str = ""
    media_type: str = ""
    size: int = 0
    page_count: int | None = None
    text_length: int = 0
    extraction_error: str | None = None
    #: The reference of another record that already holds the same bytes.
    same_as: str | None = None
    file_id: int | None = None

    @property
    def type_label(self) -> str:
        return extraction.ACCEPTED_TYPES.get(self.media_type, self.media_type)


Upload = tuple[str, BinaryIO]


def upload_files(
    actor: User | None,
    variant: Variant,
    uploads: Iterable[Upload],
    *,
    permission: str = "upload",
) -> list[UploadOutcome]:
    """Store, sniff, extract and attach each uploaded file; report on every one.

    A refused file never stops the others. Each upload is written to a temporary file
    first: the blob store is content-addressed, so the same bytes are stored once, and
    a file already on another record is linked again and reported as such.
    """
    access.require(actor, permission)
    # A released version's files are what its review checked (disclaimer, logo,
    # copyright, accessible format): new ones are reviewed before readers get them.
    if _is_live(variant.document, variant) and not access.may_change_released(actor):
        raise ReviewRequired(variant.document.ref, ["files"])
    return [_upload_one(actor, variant, name, stream, permission) for name, stream in uploads]


def _upload_one(
    actor: User | None, variant: Variant, name: str, stream: BinaryIO, permission: str
) -> UploadOutcome:
    # Some browsers send the whole client path; only the last part is the file's name.
    name = safe_file_name(name)
    try:
        fd, temp = new_temp_file(Path(current_app.config["UPLOAD_DIR"]))
    except OSError as e:
        return UploadOutcome(name, False, _storage_refusal(e))
    try:
        try:
            sha256, size = _receive(stream, fd)
        except OSError as e:  # a full disk, most likely: nothing of the file is kept
            return UploadOutcome(name, False, _storage_refusal(e))
        except Invalid as e:
            return UploadOutcome(name, False, str(e))
        if any(f.sha256 == sha256 for f in variant.files):
            return UploadOutcome(name, False, _("This version already has this file."), size=size)
        try:
            prepared = prepare_file(temp, name)
        except Invalid as e:
            return UploadOutcome(name, False, str(e), size=size)
        same_as = other_record_with(sha256, variant.document_id)
        stored = attach_file(actor, variant, prepared, permission=permission)
        return UploadOutcome(
            name,
            True,
            media_type=stored.media_type,
            size=stored.size,
            page_count=stored.page_count,
            text_length=len(stored.text or ""),
            extraction_error=stored.extraction_error,
            same_as=same_as,
            file_id=stored.id,
        )
    finally:
        temp.unlink(missing_ok=True)


def _receive(stream: BinaryIO, fd: int) -> tuple[str, int]:
    """Copy an upload into the open temporary file; return its sha256 and size."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(fd, "wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if limit is not None and size > limit:
                raise Invalid(
                    _(
                        "The file is larger than the limit of %(size)s MB.",
                        size=limit // (1024 * 1024),
                    )
                )
            digest.update(chunk)
            out.write(chunk)
        out.flush()
    if size == 0:
        raise Invalid(_("The file is empty."))
    return digest.hexdigest(), size


def _storage_refusal(e: OSError) -> str:
    refusal = storage_error(e)
    return storage_full_message() if isinstance(refusal, StorageFull) else str(refusal)


def storage_full_message() -> str:
    return _(
        "The hub's storage is full: the file was not stored and nothing of it was kept. "
        "Please tell the secretariat."
    )
