"""Bulk import of a folder of files described by a manifest CSV.

One row is one file; rows sharing a `ref` are language versions of one record, the
first of them the original. Each row is its own transaction, so a bad row is reported
and skipped while the good ones go in, and nothing half-made is left behind.
Importing the same manifest again creates nothing new.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from sqlalchemy import select

from knowledge_hub import access
from knowledge_hub import extraction
from knowledge_hub.extensions import db
from knowledge_hub.metadata import normalize_language
from knowledge_hub.metadata import split_list
from knowledge_hub.models import Document
from knowledge_hub.models import StoredFile
from knowledge_hub.models import User
from knowledge_hub.models import Variant
from knowledge_hub.services import Invalid
from knowledge_hub.services import ServiceError
from knowledge_hub.services import deferred_indexing
from knowledge_hub.services import documents
from knowledge_hub.services import review
from knowledge_hub.services import transaction
from knowledge_hub.storage import sha256_of

COLUMNS = (
    "ref",
    "file",
    "language",
    "title",
    "summary",
    "kind",
    "type",
    "date",
    "organizations",
    "authors",
    "topics",
    "regions",
    "access",
)
REQUIRED = ("ref", "file", "language", "title", "kind")

CREATED, ADDED, REPLACED, SKIPPED, CONFLICT, ERROR = (
    "created",
    "added",
    "replaced",
    "skipped",
    "conflict",
    "error",
)


@dataclass
class RowOutcome:
    line: int
    ref: str
    language: str
    outcome: str
    message: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}: {self.ref or '?'} [{self.language or '?'}]"
        return f"{where} {self.outcome}" + (f": {self.message}" if self.message else "")


@dataclass
class ImportReport:
    dry_run: bool
    rows: list[RowOutcome] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    not_released: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def failed(self) -> int:
        return self.count(ERROR) + self.count(CONFLICT)

    def summary(self) -> str:
        verb = "would be " if self.dry_run else ""
        parts = [
            f"{len(self.rows)} rows",
            f"{self.count(CREATED)} records {verb}created",
            f"{self.count(ADDED)} language versions {verb}added",
            f"{self.count(REPLACED)} {verb}replaced",
            f"{self.count(SKIPPED)} skipped",
            f"{self.count(CONFLICT)} conflicts",
            f"{self.count(ERROR)} errors",
        ]
        if self.released or self.not_released:
            parts.append(f"{len(self.released)} released, {len(self.not_released)} not released")
        return ", ".join(parts) + "."


ProgressCallback = Callable[[int, int], None]


def read_manifest(manifest: Path) -> tuple[list[dict[str, str]], list[str]]:
    """Read the manifest's rows; raise Invalid if it cannot be used at all."""
    try:
        with open(manifest, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            reader.fieldnames = header
            rows = [
                {k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader
            ]
    except UnicodeDecodeError as e:
        raise Invalid(f"The manifest is not UTF-8 text (byte {e.start}).") from e
    except OSError as e:
        raise Invalid(f"The manifest cannot be read: {e.strerror}.") from e
    except csv.Error as e:
        raise Invalid(f"The manifest is not valid CSV: {e}.") from e
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise Invalid(f"The manifest lacks the column(s) {', '.join(missing)}.")
    notes = []
    ignored = [h for h in header if h not in COLUMNS]
    if ignored:
        notes.append(f"Columns ignored: {', '.join(ignored)}.")
    return rows, notes


def import_manifest(
    actor: User | None,
    folder: Path,
    manifest: Path,
    *,
    dry_run: bool = False,
    release: bool = False,
    replace: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import the files of `folder` that `manifest` describes, and report on every row."""
    access.require(actor, "import")
    if release:
        access.require(actor, "release")
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise Invalid(f"{folder} is not a folder.")
    rows, notes = read_manifest(Path(manifest))
    report = ImportReport(dry_run=dry_run, notes=notes)
    touched: list[str] = []
    with deferred_indexing():
        for number, row in enumerate(rows, start=2):  # line 1 is the header
            outcome = _import_row(actor, folder, row, number, dry_run, replace)
            report.rows.append(outcome)
            if outcome.outcome in (CREATED, ADDED, REPLACED, SKIPPED) and outcome.ref not in touched:
                touched.append(outcome.ref)
            if progress:
                progress(number - 1, len(rows))
        if release and not dry_run:
            _release_all(actor, touched, report)
    return report


def _import_row(
    actor: User | None, folder: Path, row: dict[str, str], line: int, dry_run: bool, replace: bool
) -> RowOutcome:
    ref, language = row.get("ref", ""), row.get("language", "")
    try:
        missing = [c for c in REQUIRED if not row.get(c)]
        if missing:
            raise Invalid(f"missing {', '.join(missing)}")
        language = normalize_language(language)
        fields = documents.RecordFields(
            ref=ref,
            kind=row.get("kind", ""),
            doc_type=row.get("type", ""),
            date=row.get("date", ""),
            organizations=split_list(row.get("organizations")),
            authors=split_list(row.get("authors")),
            topics=split_list(row.get("topics")),
            regions=split_list(row.get("regions")),
            access=row.get("access", "") or "public",
        )
        documents.resolve(fields)
        path = _file_in(folder, row["file"])
        if dry_run:
            return _preview_row(path, row, line, language, replace)
        return _write_row(actor, path, row, line, language, fields, replace)
    except ValueError as e:  # a bad language tag
        return RowOutcome(line, ref, language, ERROR, str(e))
    except ServiceError as e:
        db.session.rollback()
        return RowOutcome(line, ref, language, ERROR, str(e))


def _file_in(folder: Path, name: str) -> Path:
    """The row's file, which must lie inside the import folder."""
    path = (folder / name).resolve()
    if not path.is_relative_to(folder):
        raise Invalid(f"{name!r} is outside the import folder.")
    if not path.is_file():
        raise Invalid(f"file not found: {name}")
    return path


def _preview_row(
    path: Path, row: dict[str, str], line: int, language: str, replace: bool
) -> RowOutcome:
    try:
        media_type = extraction.sniff_file(path, path.name)
    except extraction.UnsupportedType as e:
        raise Invalid(str(e)) from e
    label = extraction.ACCEPTED_TYPES.get(media_type, media_type)
    document = documents.find_by_ref(row["ref"])
    if document is None:
        return RowOutcome(line, row["ref"], language, CREATED, f"{label}, new record")
    if document.variant_in(language) is None:
        return RowOutcome(line, row["ref"], language, ADDED, label)
    if replace:
        return RowOutcome(line, row["ref"], language, REPLACED, label)
    return RowOutcome(
        line, row["ref"], language, CONFLICT, "this language version exists; use --replace"
    )


def _write_row(
    actor: User | None,
    path: Path,
    row: dict[str, str],
    line: int,
    language: str,
    fields: documents.RecordFields,
    replace: bool,
) -> RowOutcome:
    ref = fields.ref.strip()
    document = documents.find_by_ref(ref)
    existing = document.variant_in(language) if document else None
    if existing is not None and not replace:
        if sha256_of(path) in {f.sha256 for f in existing.files}:
            return RowOutcome(line, ref, language, SKIPPED, "already imported")
        return RowOutcome(
            line, ref, language, CONFLICT, "this language version exists; use --replace"
        )
    prepared = documents.prepare_file(path, path.name)
    with transaction() as session:
        outcome = ADDED
        if document is None:
            document = documents.create_document(actor, fields, language)
            outcome = CREATED
        if existing is not None:
            existing.title = row["title"][:1000]
            existing.summary = row.get("summary") or None
            existing.files.clear()
            variant = existing
            outcome = REPLACED
        else:
            variant = documents.add_variant(
                actor,
                document,
                language,
                row["title"],
                row.get("summary", ""),
                is_original=outcome == CREATED,
            )
        documents.attach_file(actor, variant, prepared)
        session.flush()
    notes = []
    if prepared.extraction.error:
        notes.append(f"text not extracted: {prepared.extraction.error}")
    twin = _other_record_with(prepared.blob.sha256, document.id)
    if twin:
        notes.append(f"same file as {twin}")
    return RowOutcome(line, ref, language, outcome, "; ".join(notes))


def _other_record_with(sha256: str, document_id: int) -> str | None:
    return db.session.scalar(
        select(Document.ref)
        .join(Variant, Variant.document_id == Document.id)
        .join(StoredFile, StoredFile.variant_id == Variant.id)
        .where(StoredFile.sha256 == sha256, Document.id != document_id)
        .limit(1)
    )


def _release_all(actor: User | None, refs: list[str], report: ImportReport) -> None:
    for ref in refs:
        document = documents.find_by_ref(ref)
        if document is None:
            continue
        try:
            review.release(actor, document)
        except ServiceError as e:
            db.session.rollback()
            report.not_released[ref] = str(e)
        else:
            report.released.append(ref)
