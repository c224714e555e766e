"""The text of stored files: read again with the current extractor (`hub reextract`),
and the files whose text was not read in full (listed by `hub check`).

Uploads keep the text the extractor of their day gave them, and a new upload of the
same bytes reuses it. When the extractor improves, `reextract` reads the stored files
again: it never touches their bytes, their sha256 or their fixity checks, and it
never replaces a text with less of one (a complete text with a partial one, any text
with none), since a time limit on a busy machine must not cost the archive a text it
had. Each file's new text is committed with the run's progress and queues its
language version in the index outbox, so the index follows, and a run stopped
part-way is continued by the next one over the same files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from collections.abc import Collection
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import time

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Row
from sqlalchemy import and_
from sqlalchemy import not_
from sqlalchemy import or_
from sqlalchemy import select

from knowledge_hub import access
from knowledge_hub import extraction
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import ReextractionRun
from knowledge_hub.models import StoredFile
from knowledge_hub.models import User
from knowledge_hub.models import Variant
from knowledge_hub.models.base import utcnow
from knowledge_hub.services import Invalid
from knowledge_hub.services import audit
from knowledge_hub.services import deferred_indexing
from knowledge_hub.services import transaction
from knowledge_hub.services.documents import blob_store
from knowledge_hub.storage import BlobStore

#: The short names of the types whose text is extracted: "pdf", "doc", "xlsx"...
TYPE_NAMES = extraction.TYPE_NAMES

ProgressCallback = Callable[[int, int], None]

_HAS_TEXT = and_(StoredFile.text.is_not(None), StoredFile.text != "")


# --- files whose text was not read in full


#: The reasons a file's text was not read in full, in the order `hub check` lists them.
REASONS = {
    extraction.TextState.FAILED: "extraction error",
    extraction.TextState.NEEDS_OCR: "needs OCR",
    extraction.TextState.PASSWORD: "password-protected",
    extraction.TextState.PARTIAL: "extracted in part",
}


@dataclass(frozen=True)
class FileText:
    """A stored file whose text was not read in full, with the extractor's message."""

    file_id: int
    ref: str
    language: str
    name: str
    message: str | None
    outcome: extraction.TextOutcome

    def __str__(self) -> str:
        return f"{self.ref} [{self.language}] {self.name}: {self.message or 'no text was found.'}"


def files_without_full_text() -> list[FileText]:
    """Every stored file without text, or with text and a message (read in part)."""
    rows = db.session.execute(
        _with_their_records(
            StoredFile.id,
            StoredFile.original_name,
            StoredFile.extraction_error,
            _HAS_TEXT.label("has_text"),
        )
        .where(or_(not_(_HAS_TEXT), StoredFile.extraction_error.is_not(None)))
        .order_by(Document.ref, Variant.language, StoredFile.id)
    )
    return [
        FileText(
            file_id, ref, language, name, message, extraction.text_outcome(bool(has_text), message)
        )
        for file_id, name, message, has_text, ref, language in rows
    ]


def _with_their_records(*columns):
    """A select of stored files' columns, then their record's reference and language."""
    return (
        select(*columns, Document.ref, Variant.language)
        .join(Variant, StoredFile.variant_id == Variant.id)
        .join(Document, Variant.document_id == Document.id)
    )


# --- reading the stored files again


@dataclass
class ReextractReport:
    """What a run of `hub reextract` did, counted over the whole run (a continued one
    included), with a line for each file that changed or could not be read."""

    started_at: datetime
    #: Whether this call continued a run that an earlier one left unfinished.
    continued: bool = False
    #: Files the run had done before this call took it up.
    done_before: int = 0
    files_read: int = 0
    text_changed: int = 0
    newly_readable: int = 0
    still_unreadable: int = 0
    unchanged: int = 0
    earlier_text_kept: int = 0
    not_read: int = 0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report for the command line: what happened to whom, then the counts."""
        out = []
        if self.continued:
            out.append(
                f"Continued the run started {self.started_at:%Y-%m-%d %H:%M} UTC, from where "
                f"it stopped (files done before: {self.done_before})."
            )
        out += self.notes
        out.append(
            f"Files: {self.files_read} read, {self.text_changed} text changed, "
            f"{self.newly_readable} newly readable, {self.still_unreadable} still unreadable, "
            f"{self.unchanged} unchanged, {self.earlier_text_kept} earlier text kept, "
            f"{self.not_read} not read."
        )
        if self.still_unreadable:
            out.append("`hub check` lists the files without text and why.")
        return out


#: What happened to one file's stored text (each the name of its count).
CHANGED, NEWLY_READABLE, STILL_UNREADABLE, UNCHANGED, KEPT = (
    "text_changed",
    "newly_readable",
    "still_unreadable",
    "unchanged",
    "earlier_text_kept",
)
#: What a run counts, on the run and in its report.
COUNTS = ("files_read", CHANGED, NEWLY_READABLE, STILL_UNREADABLE, UNCHANGED, KEPT, "not_read")


@dataclass(frozen=True)
class _Reading:
    """A stored file's bytes checked against their sha256, and their text if they match."""

    fixity: str
    result: extraction.Extraction | None


def reextract(
    actor: User | None,
    media_types: Collection[str] = (),
    since: date | None = None,
    progress: ProgressCallback | None = None,
) -> ReextractReport:
    """Extract the text of stored files again, with the current extractor.

    `media_types` limits the run to those types, `since` to files uploaded on or after
    that day (UTC). An unfinished run over the same selection is continued from the
    file after the last one it did. A file missing from the upload folder, or whose
    bytes no longer match their sha256, is reported and left as it is.
    """
    access.require(actor, "reindex")
    wanted = sorted(set(media_types))
    unknown = [t for t in wanted if t not in extraction.EXTRACTABLE_TYPES]
    if unknown:
        message = _("Text is not extracted from files of type %(types)s.", types=", ".join(unknown))
        raise Invalid(message, {"type": message})
    with transaction() as session:
        run = _unfinished_run(wanted, since)
        continued = run is not None
        if run is None:
            run = ReextractionRun(
                media_types=wanted, since=since, started_by_id=actor.id if actor else None
            )
            session.add(run)
            session.flush()
        report = ReextractReport(run.started_at, continued, run.files_read + run.not_read)
        run_id = run.id
        queue = session.execute(_selection(wanted, since, run.last_file_id)).all()
    store = blob_store()
    # Bytes stored for several records are read once; a reading is kept until its last use.
    uses = Counter(row.sha256 for row in queue)
    readings: dict[str, _Reading] = {}
    with deferred_indexing():
        for number, row in enumerate(queue, 1):
            # Read before the transaction: extraction can take a minute, and must not
            # hold the database meanwhile.
            reading = readings.pop(row.sha256, None) or _read(store, row.sha256, row.media_type)
            uses[row.sha256] -= 1
            if uses[row.sha256]:
                readings[row.sha256] = reading
            with transaction() as session:
                run = session.get(ReextractionRun, run_id)
                assert run is not None
                stored = session.get(StoredFile, row.id)
                if stored is not None:  # else taken off its record meanwhile
                    _record(actor, run, stored, row, reading, report)
                run.last_file_id = row.id
            if progress is not None:
                progress(number, len(queue))
        with transaction() as session:
            run = session.get(ReextractionRun, run_id)
            assert run is not None
            run.finished_at = utcnow()
            for name in COUNTS:
                setattr(report, name, getattr(run, name))
    return report


def _unfinished_run(media_types: list[str], since: date | None) -> ReextractionRun | None:
    """The latest run over the same selection that did not finish, if any."""
    runs = db.session.scalars(
        select(ReextractionRun)
        .where(ReextractionRun.finished_at.is_(None))
        .order_by(ReextractionRun.id.desc())
    )
    for run in runs:
        if sorted(run.media_types) == media_types and run.since == since:
            return run
    return None


def _selection(media_types: list[str], since: date | None, after_id: int):
    """The files a run covers that come after the last one it did, in the order of ids."""
    stmt = (
        _with_their_records(
            StoredFile.id, StoredFile.sha256, StoredFile.media_type, StoredFile.original_name
        )
        .where(StoredFile.id > after_id)
        .order_by(StoredFile.id)
    )
    if media_types:
        stmt = stmt.where(StoredFile.media_type.in_(media_types))
    if since is not None:
        stmt = stmt.where(StoredFile.created_at >= datetime.combine(since, time.min))
    return stmt


def _read(store: BlobStore, sha256: str, media_type: str) -> _Reading:
    """Check the stored bytes against their sha256, then extract their text."""
    fixity = store.verify(sha256)
    if fixity != "match":
        return _Reading(fixity, None)
    config = current_app.config
    result = extraction.extract(
        store.path(sha256),
        media_type,
        seconds=config["EXTRACTION_SECONDS"],
        memory_mb=config["EXTRACTION_MEMORY_MB"],
    )
    return _Reading(fixity, result)


_NOT_READ = {
    "missing": "the file is missing from the upload folder",
    "mismatch": "the stored bytes no longer match their sha256",
    "unreadable": "the stored file cannot be read",
}


def _record(
    actor: User | None,
    run: ReextractionRun,
    stored: StoredFile,
    row: Row,
    reading: _Reading,
    report: ReextractReport,
) -> None:
    """Store one file's new reading (within the run's transaction) and count it."""
    who = f"{row.ref} [{row.language}] {row.original_name}"
    if reading.result is None:
        run.not_read += 1
        why = _NOT_READ.get(reading.fixity, reading.fixity)
        report.notes.append(f"not read: {who}: {why} (sha256 {row.sha256}; see `hub check`)")
        return
    run.files_read += 1
    before = len(stored.text or "")
    outcome = _update(actor, stored, reading.result)
    setattr(run, outcome, getattr(run, outcome) + 1)
    after = len(stored.text or "")
    if outcome == CHANGED:
        report.notes.append(f"text changed: {who} ({before} -> {after} characters)")
    elif outcome == NEWLY_READABLE:
        report.notes.append(f"newly readable: {who} ({after} characters)")
    elif outcome == KEPT:
        report.notes.append(
            f"earlier text kept: {who}: the new reading gave less: {reading.result.error}"
        )
    if outcome in (CHANGED, NEWLY_READABLE) and stored.extraction_error:
        report.notes.append(f"  in part: {stored.extraction_error}")


def _update(actor: User | None, stored: StoredFile, result: extraction.Extraction) -> str:
    """Put a new reading on a stored file, unless it gives less text than the stored one;
    tell what happened to the text."""
    old_text = stored.text or ""
    # PostgreSQL text cannot hold NUL, and no reader needs one (as on upload).
    new_text = result.text.replace("\x00", "")
    was_complete = bool(old_text) and not stored.extraction_error
    if old_text and (not new_text or (was_complete and result.error)):
        return KEPT
    if not old_text:
        outcome = NEWLY_READABLE if new_text else STILL_UNREADABLE
    else:
        outcome = CHANGED if new_text != old_text else UNCHANGED
    before = _state(stored)
    # Only what differs is set: setting a column, even to its value, queues the version
    # for the index.
    new_values = {
        "text": new_text or None,
        "extraction_error": result.error,
        "page_count": result.page_count,
    }
    changed = [name for name, value in new_values.items() if getattr(stored, name) != value]
    for name in changed:
        setattr(stored, name, new_values[name])
    if changed:
        audit(
            actor,
            "reextract",
            stored,
            document_id=stored.variant.document_id,
            language=stored.variant.language,
            name=stored.original_name,
            sha256=stored.sha256,
            before=before,
            after=_state(stored),
        )
    return outcome


def _state(stored: StoredFile) -> dict:
    return {
        "text_length": len(stored.text or ""),
        "page_count": stored.page_count,
        "extraction_error": stored.extraction_error,
    }
