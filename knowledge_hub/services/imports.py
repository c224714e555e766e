"""Bulk import of a folder of files described by a manifest CSV.

One row is one file; rows sharing a `ref` are language versions of one record, the
first of them the original. Each row is its own transaction, so a bad row is reported
and skipped while the good ones go in, and nothing half-made is left behind.
Importing the same manifest again creates nothing new.
"""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import shutil
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from pathlib import PurePosixPath
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from knowledge_hub import access
from knowledge_hub import extraction
from knowledge_hub.csv_export import csv_text
from knowledge_hub.extensions import db
from knowledge_hub.extraction.safezip import Refusal
from knowledge_hub.extraction.safezip import SafeZip
from knowledge_hub.extraction.safezip import UnsafeZip
from knowledge_hub.extraction.safezip import ZipLimits
from knowledge_hub.extraction.safezip import member_path
from knowledge_hub.field_values import normalize_language
from knowledge_hub.field_values import split_list
from knowledge_hub.i18n.messages import translate
from knowledge_hub.models import User
from knowledge_hub.models.base import utcnow
from knowledge_hub.services import Invalid
from knowledge_hub.services import NotFound
from knowledge_hub.services import Refused
from knowledge_hub.services import ServiceError
from knowledge_hub.services import deferred_indexing
from knowledge_hub.services import documents
from knowledge_hub.services import review
from knowledge_hub.services import transaction
from knowledge_hub.storage import CHUNK
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
    "meeting",
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
        raise Invalid(_("The manifest is not UTF-8 text (byte %(byte)s).", byte=e.start)) from e
    except OSError as e:
        raise Invalid(_("The manifest cannot be read: %(reason)s.", reason=e.strerror)) from e
    except csv.Error as e:
        raise Invalid(_("The manifest is not valid CSV: %(reason)s.", reason=e)) from e
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise Invalid(
            _("The manifest lacks the column(s) %(columns)s.", columns=", ".join(missing))
        )
    notes = []
    ignored = [h for h in header if h not in COLUMNS]
    if ignored:
        notes.append(_("Columns ignored: %(columns)s.", columns=", ".join(ignored)))
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
        raise Invalid(_("%(folder)s is not a folder.", folder=folder))
    rows, notes = read_manifest(Path(manifest))
    report = ImportReport(dry_run=dry_run, notes=notes)
    if not dry_run:
        # A run killed mid-file (the same import, most likely) left its temporary copy.
        documents.blob_store().remove_abandoned_temp_files()
    touched: list[str] = []
    # What a dry run would have written so far, so that later rows are previewed after it.
    planned: set[tuple[str, str]] = set()
    with deferred_indexing():
        for number, row in enumerate(rows, start=2):  # line 1 is the header
            outcome = _import_row(actor, folder, row, number, dry_run, replace, planned)
            report.rows.append(outcome)
            if (
                outcome.outcome in (CREATED, ADDED, REPLACED, SKIPPED)
                and outcome.ref not in touched
            ):
                touched.append(outcome.ref)
            if progress:
                progress(number - 1, len(rows))
        if release and not dry_run:
            _release_all(actor, touched, report)
    return report


def _import_row(
    actor: User | None,
    folder: Path,
    row: dict[str, str],
    line: int,
    dry_run: bool,
    replace: bool,
    planned: set[tuple[str, str]],
) -> RowOutcome:
    ref, language = row.get("ref", ""), row.get("language", "")
    try:
        missing = [c for c in REQUIRED if not row.get(c)]
        if missing:
            raise Invalid(_("missing %(columns)s", columns=", ".join(missing)))
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
            # A blank cell says nothing of a meeting: a record named again keeps its own.
            meeting=row.get("meeting") or None,
        )
        documents.resolve(fields)
        path = _file_in(folder, row["file"])
        if dry_run:
            outcome = _preview_row(path, row, line, language, replace, planned)
            if outcome.outcome in (CREATED, ADDED, REPLACED):
                planned.add((outcome.ref, language))
            return outcome
        return _write_row(actor, path, row, line, language, fields, replace)
    except ValueError as e:  # a bad language tag
        return RowOutcome(line, ref, language, ERROR, translate(e.args[0]))
    except ServiceError as e:
        db.session.rollback()
        return RowOutcome(line, ref, language, ERROR, str(e))


def _file_in(folder: Path, name: str) -> Path:
    """The row's file, which must lie inside the import folder."""
    path = (folder / name).resolve()
    if not path.is_relative_to(folder):
        raise Invalid(_("%(name)s is outside the import folder.", name=repr(name)))
    if not path.is_file():
        raise Invalid(_("file not found: %(name)s", name=name))
    return path


def _preview_row(
    path: Path,
    row: dict[str, str],
    line: int,
    language: str,
    replace: bool,
    planned: set[tuple[str, str]],
) -> RowOutcome:
    try:
        media_type = extraction.sniff_file(path, path.name)
    except extraction.UnsupportedType as e:
        raise Invalid(str(e)) from e
    label = extraction.ACCEPTED_TYPES.get(media_type, media_type)
    ref = row["ref"].strip()
    document = documents.find_by_ref(ref)
    twin = documents.other_record_with(sha256_of(path), document.id if document else None)
    if twin:
        label += "; " + _("same file as %(ref)s", ref=twin)
    if (ref, language) in planned:
        if replace:
            return RowOutcome(line, ref, language, REPLACED, label)
        return RowOutcome(
            line,
            ref,
            language,
            CONFLICT,
            _("an earlier row of the manifest has this language version"),
        )
    if document is None:
        if any(planned_ref == ref for planned_ref, __ in planned):
            return RowOutcome(line, ref, language, ADDED, label)
        return RowOutcome(line, ref, language, CREATED, _("%(label)s, new record", label=label))
    if document.variant_in(language) is None:
        return RowOutcome(line, row["ref"], language, ADDED, label)
    if replace:
        return RowOutcome(line, row["ref"], language, REPLACED, label)
    return RowOutcome(
        line, row["ref"], language, CONFLICT, _("this language version exists; use --replace")
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
            return RowOutcome(line, ref, language, SKIPPED, _("already imported"))
        return RowOutcome(
            line, ref, language, CONFLICT, _("this language version exists; use --replace")
        )
    prepared = documents.prepare_file(path, path.name)
    with transaction() as session:
        outcome = ADDED
        if document is None:
            document = documents.create_document(actor, fields, language)
            outcome = CREATED
        if existing is not None:
            documents.edit_variant(actor, existing, row["title"], row.get("summary", ""))
            documents.detach_files(actor, existing)
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
        notes.append(_("text not extracted: %(reason)s", reason=prepared.extraction.error))
    twin = documents.other_record_with(prepared.blob.sha256, document.id)
    if twin:
        notes.append(_("same file as %(ref)s", ref=twin))
    return RowOutcome(line, ref, language, outcome, "; ".join(notes))


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


# ---------------------------------------------------------------------------
# Import batches: a manifest and its files uploaded through the web
# ---------------------------------------------------------------------------

#: A batch is kept this long for its preview to be confirmed or its report downloaded.
BATCH_MAX_AGE = timedelta(days=1)
#: Defaults for what one uploaded batch may unpack to (config: IMPORT_MAX_FILES, IMPORT_MAX_BYTES).
MAX_BATCH_FILES = 5000
MAX_BATCH_BYTES = 2 * 1024 * 1024 * 1024
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
# What operating systems add to a folder they zip, and nobody means to import.
_CLUTTER = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$|desktop\.ini$)", re.IGNORECASE)

Upload = tuple[str, BinaryIO]


@dataclass
class Batch:
    """A manifest and its files, unpacked under the instance folder, previewed, then imported."""

    id: str
    path: Path
    actor_id: int | None
    created_at: datetime
    replace: bool
    manifest_name: str
    file_names: list[str]
    preview: ImportReport | None = None
    report: ImportReport | None = None
    imported_at: datetime | None = None

    @property
    def files_dir(self) -> Path:
        return self.path / "files"

    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.csv"

    @property
    def is_imported(self) -> bool:
        return self.report is not None

    @property
    def expires_at(self) -> datetime:
        return self.created_at + BATCH_MAX_AGE

    def save(self) -> None:
        data = {
            "actor_id": self.actor_id,
            "created_at": self.created_at.isoformat(),
            "replace": self.replace,
            "manifest_name": self.manifest_name,
            "file_names": self.file_names,
            "preview": asdict(self.preview) if self.preview else None,
            "report": asdict(self.report) if self.report else None,
            "imported_at": self.imported_at.isoformat() if self.imported_at else None,
        }
        temp = self.path / "batch.json.tmp"
        temp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(temp, self.path / "batch.json")

    @classmethod
    def load(cls, batch_id: str, path: Path) -> Batch:
        data = json.loads((path / "batch.json").read_text(encoding="utf-8"))
        return cls(
            id=batch_id,
            path=path,
            actor_id=data["actor_id"],
            created_at=datetime.fromisoformat(data["created_at"]),
            replace=data["replace"],
            manifest_name=data["manifest_name"],
            file_names=data["file_names"],
            preview=_report_from(data["preview"]),
            report=_report_from(data["report"]),
            imported_at=(
                datetime.fromisoformat(data["imported_at"]) if data["imported_at"] else None
            ),
        )


def _report_from(data: dict | None) -> ImportReport | None:
    if data is None:
        return None
    return ImportReport(
        dry_run=data["dry_run"],
        rows=[RowOutcome(**row) for row in data["rows"]],
        released=data["released"],
        not_released=data["not_released"],
        notes=data["notes"],
    )


def batches_root() -> Path:
    """Where uploaded batches wait: IMPORT_BATCH_DIR, else the instance's `import-batches`."""
    configured = current_app.config.get("IMPORT_BATCH_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "import-batches"


def stage_batch(
    actor: User | None,
    manifest: Upload,
    archive: Upload | None = None,
    files: list[Upload] | None = None,
    *,
    replace: bool = False,
) -> Batch:
    """Keep an uploaded manifest and its files (a ZIP of the folder, or the files) and preview them.

    The preview is a dry run: it writes nothing to the records, the files or the index.
    An unsafe ZIP (absolute paths, `..`, links, too many or too large members) is refused
    whole, before anything of it is written.
    """
    access.require(actor, "import")
    sweep_batches()
    files = [(name, stream) for name, stream in files or [] if name]
    if archive is None and not files:
        message = _("Add the files: a ZIP of the folder, or the files themselves.")
        raise Invalid(message, {"files": message})
    root = batches_root()
    root.mkdir(parents=True, exist_ok=True)
    batch_id = secrets.token_urlsafe(24)
    path = root / batch_id
    path.mkdir(mode=0o700)
    batch = Batch(
        id=batch_id,
        path=path,
        actor_id=actor.id if actor else None,
        created_at=utcnow(),
        replace=replace,
        manifest_name=_plain_name(manifest[0]) or "manifest.csv",
        file_names=[],
    )
    try:
        _copy(manifest[1], batch.manifest_path, _batch_limits()[1], "manifest")
        batch.files_dir.mkdir()
        if archive is not None:
            _unpack_zip(archive, path / "upload.zip", batch.files_dir)
        _save_files(files, batch.files_dir)
        batch.file_names = sorted(
            p.relative_to(batch.files_dir).as_posix()
            for p in batch.files_dir.rglob("*")
            if p.is_file()
        )
        try:
            read_manifest(batch.manifest_path)
        except Invalid as e:
            raise Invalid(str(e), {"manifest": str(e)}) from e
        batch.preview = import_manifest(
            actor, _import_folder(batch), batch.manifest_path, dry_run=True, replace=replace
        )
        batch.save()
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    return batch


def load_batch(actor: User | None, batch_id: str) -> Batch:
    """The actor's own batch, while it is kept; NotFound for anything else."""
    access.require(actor, "import")
    missing = NotFound(_("This import batch does not exist or has expired: upload it again."))
    if not _BATCH_ID.match(batch_id or ""):
        raise missing
    path = batches_root() / batch_id
    try:
        batch = Batch.load(batch_id, path)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise missing from e
    if batch.actor_id != (actor.id if actor else None):
        raise missing
    if utcnow() - batch.created_at > BATCH_MAX_AGE:
        shutil.rmtree(path, ignore_errors=True)
        raise missing
    return batch


def run_batch(actor: User | None, batch_id: str, *, release: bool = False) -> Batch:
    """Import a previewed batch for real, keep its report, and delete its files."""
    access.require(actor, "import")
    if release:
        access.require(actor, "release")
    batch = load_batch(actor, batch_id)
    if batch.is_imported:
        raise Refused(_("This batch is already imported; its report is below."))
    lock = batch.path / "importing"
    try:
        # A second click on "Import now" must not import the batch twice.
        os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError as e:
        raise Refused(_("This batch is being imported already.")) from e
    try:
        batch.report = import_manifest(
            actor,
            _import_folder(batch),
            batch.manifest_path,
            release=release,
            replace=batch.replace,
        )
        batch.imported_at = utcnow()
        batch.save()
    finally:
        lock.unlink(missing_ok=True)
    shutil.rmtree(batch.files_dir, ignore_errors=True)
    batch.manifest_path.unlink(missing_ok=True)
    return batch


def sweep_batches() -> int:
    """Delete the batches older than a day; return how many went."""
    root = batches_root()
    if not root.is_dir():
        return 0
    cutoff = time.time() - BATCH_MAX_AGE.total_seconds()
    removed = 0
    for path in root.iterdir():
        try:
            if path.is_dir() and path.stat().st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


REPORT_COLUMNS = ("line", "ref", "language", "outcome", "message", "release")


def report_csv(report: ImportReport) -> str:
    """The report as CSV, one row per manifest row, with each record's release outcome."""

    def released(ref: str) -> str:
        if ref in report.released:
            return "released"
        if ref in report.not_released:
            return f"not released: {report.not_released[ref]}"
        return ""

    return csv_text(
        REPORT_COLUMNS,
        (
            (row.line, row.ref, row.language, row.outcome, row.message, released(row.ref))
            for row in report.rows
        ),
    )


def _batch_limits() -> tuple[int, int]:
    config = current_app.config
    return (
        int(config.get("IMPORT_MAX_FILES", MAX_BATCH_FILES)),
        int(config.get("IMPORT_MAX_BYTES", MAX_BATCH_BYTES)),
    )


#: What _copy may be copying, as the sentence about its size names it.
_COPIED = {"manifest": _l("manifest"), "ZIP": _l("ZIP"), "upload": _l("upload")}


def _copy(stream: BinaryIO, target: Path, limit: int, what: str) -> int:
    size = 0
    with open(target, "wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                message = _(
                    "The %(what)s is larger than the limit of %(size)s MB.",
                    what=_COPIED.get(what, what),
                    size=limit // (1024 * 1024),
                )
                raise Invalid(message, {"files": message})
            out.write(chunk)
    return size


def _plain_name(name: str) -> str:
    """The last part of a client's file name; never a path."""
    return PurePosixPath((name or "").replace("\\", "/")).name.strip()


def _refuse_zip(message: str) -> Invalid:
    refusal = _("The ZIP is refused: %(reason)s", reason=message)
    return Invalid(refusal, {"archive": refusal})


def _unpack_zip(archive: Upload, zip_path: Path, dest: Path) -> None:
    """Unpack a ZIP of the import folder into dest, refusing it whole if any member is unsafe."""
    max_files, max_bytes = _batch_limits()
    _copy(archive[1], zip_path, max_bytes, "ZIP")
    limits = ZipLimits(
        max_members=max_files,
        # A folder zipped on a Mac holds up to about four records per file and
        # folder counted (its __MACOSX copies and .DS_Store files are not).
        max_records=4 * max_files,
        max_total_bytes=max_bytes,
        folder=True,
        ignore=_CLUTTER,
    )
    try:
        with SafeZip(zip_path, limits) as zf:
            root = dest.resolve()
            for info in zf.members:
                if info.is_dir():
                    continue
                target = (root / member_path(info.filename)).resolve()
                if not target.is_relative_to(root) or target == root:
                    raise _refuse_zip(
                        _(
                            "the member %(name)s points outside the folder.",
                            name=repr(info.filename),
                        )
                    )
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "xb") as out:
                    for chunk in zf.chunks(info):
                        out.write(chunk)
    except UnsafeZip as e:
        raise _refuse_zip(_unsafe_zip_reason(e, max_bytes)) from e
    except zipfile.BadZipFile as e:
        raise _refuse_zip(_("it is not a readable ZIP file (%(reason)s).", reason=e)) from e
    except (NotImplementedError, RuntimeError, EOFError) as e:
        # An unsupported compression method or a damaged stream.
        raise _refuse_zip(_("it cannot be unpacked (%(reason)s).", reason=e)) from e
    except (FileExistsError, NotADirectoryError, IsADirectoryError) as e:
        raise _refuse_zip(_("two members would be written to the same file.")) from e
    finally:
        zip_path.unlink(missing_ok=True)


#: The import's sentence for a member the shared ZIP reader refuses, by its reason.
_MEMBER_REFUSALS = {
    Refusal.ABSOLUTE_PATH: _l("the member %(name)s has an absolute path."),
    Refusal.OUTSIDE: _l("the member %(name)s points outside the folder."),
    Refusal.CONTROL_CHARACTERS: _l("the member %(name)s has control characters in its name."),
    Refusal.SYMBOLIC_LINK: _l("the member %(name)s is a symbolic link."),
    Refusal.ENCRYPTED: _l("the member %(name)s is encrypted."),
    Refusal.DUPLICATE: _l("the member %(name)s appears twice."),
}


def _unsafe_zip_reason(refusal: UnsafeZip, max_bytes: int) -> str:
    """Say why the shared ZIP reader refused an uploaded folder."""
    if refusal.reason in _MEMBER_REFUSALS:
        return str(_MEMBER_REFUSALS[refusal.reason] % {"name": repr(refusal.params["name"])})
    if refusal.reason == Refusal.TOO_MANY_MEMBERS:
        return _(
            "it holds %(count)s members; the limit is %(limit)s.",
            count=refusal.params["count"],
            limit=refusal.params["limit"],
        )
    # Too large (the import sets no cap per member and no ratio).
    return _("it unpacks to more than the limit of %(size)s MB.", size=max_bytes // (1024 * 1024))


def _save_files(files: list[Upload], dest: Path) -> None:
    """Save files uploaded one by one into dest, under their own names (no folders)."""
    max_files, max_bytes = _batch_limits()
    existing = [p for p in dest.rglob("*") if p.is_file()]
    if len(existing) + len(files) > max_files:
        message = _("There are more than %(limit)s files; the limit is %(limit)s.", limit=max_files)
        raise Invalid(message, {"files": message})
    total = sum(p.stat().st_size for p in existing)
    for raw_name, stream in files:
        name = _plain_name(raw_name)
        if name in ("", ".", "..") or any(ord(c) < 32 for c in name):
            message = _("%(name)s is not a usable file name.", name=repr(raw_name))
            raise Invalid(message, {"files": message})
        target = dest / name
        if target.exists():
            message = _("Two files are named %(name)s.", name=repr(name))
            raise Invalid(message, {"files": message})
        total += _copy(stream, target, max_bytes - total, "upload")


def _import_folder(batch: Batch) -> Path:
    """The folder the manifest's paths are relative to.

    A ZIP of a folder often holds the folder itself: when everything lies in one
    top-level folder and the manifest's paths do not name it, import from inside it.
    """
    top = batch.files_dir
    entries = list(top.iterdir()) if top.is_dir() else []
    if len(entries) != 1 or not entries[0].is_dir():
        return top
    try:
        rows, __ = read_manifest(batch.manifest_path)
    except Invalid:
        return top
    wanted = [row.get("file", "") for row in rows if row.get("file")]
    found_at_top = sum((top / name).is_file() for name in wanted)
    found_inside = sum((entries[0] / name).is_file() for name in wanted)
    return entries[0] if found_inside > found_at_top else top
