"""OCR of scanned PDF pages, in the background: the queue, the worker (`hub ocr`), re-queueing.

A PDF page without a text layer is queued when its file is stored (and `hub ocr` queues
those of files stored before OCR existed). OCR never runs inside a web request: the
worker claims one page at a time, reads it in a child process with a time and memory
limit (extraction/ocr.py), and commits in one transaction the page's text, its state,
the file's new text and (through the flush listener) its language version in the index
outbox. So a worker killed mid-page loses nothing and repeats no finished page: the page
it held stays claimed until its lease runs out, or at once when the worker is seen dead
on this machine, and the next worker reads it again.

Claiming is a conditional UPDATE checked by its row count, so two workers, on SQLite or
PostgreSQL, never read the same page at the same time. The lease outlasts the page's time
limit, so a live worker never loses a page it is still reading.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from knowledge_hub import access
from knowledge_hub import extraction
from knowledge_hub.extensions import db
from knowledge_hub.extraction import ocr as reader
from knowledge_hub.extraction.text import join_pages
from knowledge_hub.extraction.text import page_ranges
from knowledge_hub.models import OcrPage
from knowledge_hub.models import OcrState
from knowledge_hub.models import StoredFile
from knowledge_hub.models import User
from knowledge_hub.models.base import utcnow
from knowledge_hub.services import NotFound
from knowledge_hub.services import audit
from knowledge_hub.services import transaction
from knowledge_hub.storage import BlobStore

#: Limits for reading one page (seconds of wall-clock time, MB of address space).
DEFAULT_SECONDS = 180.0
DEFAULT_MEMORY_MB = 2048
#: A claimed page is held this much longer than its time limit before others may take it.
LEASE_MARGIN_SECONDS = 60.0
#: A page whose reading was started this many times without finishing is given up.
MAX_ATTEMPTS = 3
#: How long `hub ocr --watch` sleeps when the queue is empty.
WATCH_POLL_SECONDS = 5.0

_OPEN = (OcrState.WAITING, OcrState.WORKING)


# --- queueing


def queue_scanned_pages(stored: StoredFile) -> int:
    """Queue the pages of a stored PDF that have no text layer, within the caller's
    transaction; return how many were queued (pages queued before are left alone)."""
    pages = scanned_pages(stored)
    if not pages:
        return 0
    session = db.session
    queued = set(session.scalars(select(OcrPage.page).where(OcrPage.stored_file_id == stored.id)))
    languages = reader.tesseract_languages(stored.variant.language)
    new = [page for page in pages if page not in queued]
    for page in new:
        session.add(OcrPage(stored_file_id=stored.id, page=page, languages=languages))
    return len(new)


def scanned_pages(stored: StoredFile) -> list[int]:
    """The pages the PDF reader found without a text layer, from its message."""
    if stored.media_type != extraction.PDF or not stored.extraction_error:
        return []
    outcome = extraction.text_outcome(bool(stored.text), stored.extraction_error)
    if outcome.state == extraction.TextState.NEEDS_OCR and stored.page_count:
        return list(range(1, stored.page_count + 1))
    if outcome.state == extraction.TextState.PARTIAL and outcome.stop == extraction.Stop.SCANNED:
        return [page for first, last in outcome.missing for page in range(first, last + 1)]
    return []


def queue_files_stored_before() -> int:
    """Queue the scanned pages of PDFs stored before OCR was there (or before a restore)."""
    with transaction() as session:
        files = session.scalars(
            select(StoredFile)
            .where(
                StoredFile.media_type == extraction.PDF,
                StoredFile.extraction_error.is_not(None),
                StoredFile.ocr_pages.is_(None),
                ~select(OcrPage.id).where(OcrPage.stored_file_id == StoredFile.id).exists(),
            )
            .order_by(StoredFile.id)
        )
        return sum(queue_scanned_pages(stored) for stored in files)


def requeue(actor: User | None, document_id: int, file_id: int) -> StoredFile:
    """Put every page of a record's file read by OCR (or failed) back in the queue: staff
    do, when a page failed or the right language pack has been installed since."""
    access.require(actor, "upload")
    with transaction() as session:
        stored = session.get(StoredFile, file_id)
        if stored is None or stored.variant.document_id != document_id:
            raise NotFound(_("The file was not found on this record."))
        pages = session.scalars(select(OcrPage).where(OcrPage.stored_file_id == file_id)).all()
        languages = reader.tesseract_languages(stored.variant.language)
        count = 0
        for page in pages:
            if page.state != OcrState.WORKING:
                page.state, page.attempts, page.error = OcrState.WAITING, 0, None
                page.languages = languages
                count += 1
        count += queue_scanned_pages(stored)
        _audit_file(actor, "requeue_ocr", stored, pages=count)
        return stored


# --- the worker


@dataclass
class OcrReport:
    """What a run of `hub ocr` did."""

    pages_read: int = 0
    pages_failed: int = 0
    files_finished: int = 0
    queued: int = 0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = list(self.notes)
        out.append(
            f"OCR: pages read: {self.pages_read}, failed: {self.pages_failed}; "
            f"files finished: {self.files_finished}; pages newly queued: {self.queued}."
        )
        return out


def run(
    *,
    limit: int | None = None,
    watch: bool = False,
    echo: Callable[[str], None] | None = None,
) -> OcrReport:
    """Read queued pages one at a time until the queue is empty (or `limit` pages are read);
    with `watch`, keep waiting for new ones."""
    config = current_app.config
    seconds = float(config.get("OCR_SECONDS", DEFAULT_SECONDS))
    memory_mb = int(config.get("OCR_MEMORY_MB", DEFAULT_MEMORY_MB))
    worker = f"{socket.gethostname()}:{os.getpid()}"
    report = OcrReport()
    layers: dict[str, list[str]] = {}
    while limit is None or report.pages_read + report.pages_failed < limit:
        report.queued += queue_files_stored_before()
        page_id = claim_next_page(worker, seconds + LEASE_MARGIN_SECONDS)
        if page_id is None:
            if not watch:
                break
            time.sleep(float(config.get("OCR_WATCH_POLL_SECONDS", WATCH_POLL_SECONDS)))
            continue
        _read_and_record(page_id, worker, seconds, memory_mb, layers, report, echo)
    return report


def claim_next_page(worker: str, lease_seconds: float) -> int | None:
    """Claim the oldest page that waits (or whose worker is gone); return its id, or None."""
    now = utcnow()
    here = socket.gethostname()
    candidates = db.session.execute(
        select(OcrPage.id, OcrPage.state, OcrPage.worker, OcrPage.attempts, OcrPage.lease_until)
        .where(
            or_(
                OcrPage.state == OcrState.WAITING,
                and_(
                    OcrPage.state == OcrState.WORKING,
                    # Held past its lease, or by a worker of this machine that may be dead.
                    or_(
                        OcrPage.lease_until < now,
                        OcrPage.worker.startswith(f"{here}:", autoescape=True),
                    ),
                ),
            )
        )
        .order_by(OcrPage.id)
        .limit(50)
    ).all()
    db.session.rollback()  # end the read, so that no snapshot outlives it
    for page_id, state, holder, attempts, lease_until in candidates:
        if state == OcrState.WORKING and lease_until >= now and alive_here(holder):
            continue
        if attempts >= MAX_ATTEMPTS:
            _give_up(page_id, state, holder)
            continue
        # The row is claimed only if nobody changed it since it was read.
        taken = and_(OcrPage.state == state, _same_holder(holder), OcrPage.attempts == attempts)
        with transaction() as session:
            claimed = session.execute(
                update(OcrPage)
                .where(OcrPage.id == page_id, taken)
                .values(
                    state=OcrState.WORKING,
                    worker=worker,
                    lease_until=now + timedelta(seconds=lease_seconds),
                    attempts=OcrPage.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
        if claimed == 1:
            return page_id
    return None


def _same_holder(holder: str | None):
    return OcrPage.worker.is_(None) if holder is None else OcrPage.worker == holder


def alive_here(holder: str | None) -> bool:
    """Whether the worker "host:pid" holding a page is a live process of this machine."""
    pid = (holder or "").rpartition(":")[2]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _give_up(page_id: int, state: OcrState, holder: str | None) -> None:
    """Fail a page whose reading kept stopping its worker, rather than try it for ever."""
    with transaction() as session:
        page = session.get(OcrPage, page_id)
        if page is None or page.state != state or page.worker != holder:
            return
        _finish(page, "", f"OCR stopped before the end of the page {MAX_ATTEMPTS} times.")


def _read_and_record(
    page_id: int,
    worker: str,
    seconds: float,
    memory_mb: int,
    layers: dict[str, list[str]],
    report: OcrReport,
    echo: Callable[[str], None] | None,
) -> None:
    """Read one claimed page outside any transaction, then commit what came of it."""
    with transaction() as session:
        page = session.get(OcrPage, page_id)
        assert page is not None
        stored = session.get(StoredFile, page.stored_file_id)
        assert stored is not None
        number, languages, sha256 = page.page, page.languages, stored.sha256
        who = f"{stored.variant.document.ref} [{stored.variant.language}] {stored.original_name}"
    path = BlobStore(current_app.config["UPLOAD_DIR"]).path(sha256)
    layer = layers.get(sha256)
    if layer is None:
        layers.clear()  # one file at a time: its pages are queued together
        try:
            layer = layers[sha256] = reader.read_text_layer(path)
        except OSError as exc:
            reading = reader.PageReading("", f"The PDF could not be read: {exc}")
    if layer is not None:
        reading = reader.read_page(path, number, languages, seconds=seconds, memory_mb=memory_mb)
    with transaction() as session:
        page = session.get(OcrPage, page_id)
        if page is None or page.state != OcrState.WORKING or page.worker != worker:
            return  # the file was removed, or the page re-queued, meanwhile
        finished = _finish(page, reading.text, reading.error, layer)
    if reading.error:
        report.pages_failed += 1
        line = f"failed: {who} page {number}: {reading.error}"
    else:
        report.pages_read += 1
        line = f"read: {who} page {number} ({len(reading.text.split())} words)"
    report.files_finished += finished
    if echo is not None:
        echo(line)


def _finish(page: OcrPage, text: str, error: str | None, layer: list[str] | None = None) -> bool:
    """Store a page's outcome and its file's new text; tell whether the file is finished."""
    session = db.session
    page.state = OcrState.FAILED if error else OcrState.DONE
    page.text = text.replace("\x00", "") or None
    page.error = error
    page.finished_at = utcnow()
    page.lease_until = None
    session.flush()
    stored = session.get(StoredFile, page.stored_file_id)
    assert stored is not None
    pages = session.scalars(select(OcrPage).where(OcrPage.stored_file_id == stored.id)).all()
    if layer is not None:
        read = {p.page: p.text or "" for p in pages if p.state == OcrState.DONE}
        composed = join_pages([read.get(n, layer_text) for n, layer_text in enumerate(layer, 1)])
        if composed != (stored.text or ""):
            stored.text = composed or None
    done = sum(1 for p in pages if p.state == OcrState.DONE)
    stored.ocr_pages = done or None
    stored.extraction_error = file_message(pages, stored.page_count)
    finished = not any(p.state in _OPEN for p in pages)
    if finished:
        _audit_file(None, "ocr", stored, pages_read=done, pages_failed=len(pages) - done)
    return finished


def _audit_file(actor: User | None, action: str, stored: StoredFile, **details: int) -> None:
    """Record an OCR event on a file, under its record, naming its language version."""
    variant = stored.variant
    audit(
        actor,
        action,
        stored,
        document_id=variant.document_id,
        language=variant.language,
        name=stored.original_name,
        **details,
    )


def file_message(pages: Iterable[OcrPage], page_count: int | None) -> str | None:
    """The file's extraction message once OCR has had its say: which pages still wait,
    which failed and why; None when every page has its text."""
    pages = list(pages)
    waiting = [p.page for p in pages if p.state in _OPEN]
    failed = [p for p in pages if p.state == OcrState.FAILED]
    parts = []
    if waiting:
        parts.append(f"No text layer on {page_ranges(waiting, page_count)}: waiting for OCR.")
    if failed:
        first = min(failed, key=lambda p: p.page)
        parts.append(f"OCR failed on {page_ranges(p.page for p in failed)}: {first.error}")
    return " ".join(parts) or None
