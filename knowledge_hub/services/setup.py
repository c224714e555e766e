"""Creating or upgrading an installation, and loading the demonstration catalogue."""

from __future__ import annotations

import csv
import fcntl
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy import update

from knowledge_hub import search
from knowledge_hub import seed
from knowledge_hub.extensions import db
from knowledge_hub.field_values import split_list
from knowledge_hub.models import Document
from knowledge_hub.models import Meeting
from knowledge_hub.models import PendingIndex
from knowledge_hub.models import User
from knowledge_hub.services import ServiceError
from knowledge_hub.services import deferred_indexing
from knowledge_hub.services import documents
from knowledge_hub.services import imports
from knowledge_hub.services import meetings
from knowledge_hub.services import review
from knowledge_hub.services import transaction
from knowledge_hub.services.users import system_user

log = logging.getLogger(__name__)

DEMO_FOLDER = Path(__file__).resolve().parent.parent / "demo"
SAMPLE_ATTESTATION = "Sample record: attested for the demonstration catalogue."

#: What a server does on its first start, when its database has no tables yet
#: (FIRST_START): what `hub init` and `hub demo` do, `hub init` alone, or nothing (every
#: page then says to run `hub init`).
FIRST_START_CHOICES = ("demo", "init", "off")


def initialize() -> None:
    """Create or upgrade the database, the vocabularies and the index. Again is harmless."""
    Path(current_app.instance_path).mkdir(parents=True, exist_ok=True)
    upgrade(directory=str(current_app.config["MIGRATIONS_DIR"]))
    with transaction() as session:
        seed.vocabularies(session)
        seed.criteria(session)
    index = search.get_index()
    index.ix  # creates the index folder on first run  # noqa: B018
    if not index.schema_is_current():
        # An upgrade changed what the index holds: searches would miss what the old
        # generation lacks until it is rebuilt.
        search.reindex()


def is_set_up() -> bool:
    """Whether `hub init` has made the tables (SQLAlchemyError when the database cannot
    be asked)."""
    return sa_inspect(db.engine).has_table(Document.__tablename__)


def set_up_on_first_start(choice: str) -> bool:
    """Set a hub up on its first start, a database without tables: as `hub init` does,
    then loading the demonstration catalogue when `choice` is "demo". Whether the hub is
    set up afterwards ("off" leaves an empty database to the person).

    Processes that start together (gunicorn's workers, two servers on one folder) take
    turns on a lock file in the instance folder: one sets the hub up, the others wait
    and then find it done.
    """
    if choice not in FIRST_START_CHOICES:
        raise ValueError(f"FIRST_START is one of {', '.join(FIRST_START_CHOICES)}, not {choice!r}")
    if is_set_up():
        return True
    if choice == "off":
        return False
    with _first_start_lock():
        if is_set_up():
            return True
        log.warning(
            "first start: setting the hub up (%s)",
            "hub init, hub demo" if choice == "demo" else "hub init",
        )
        with _server_logging_kept():
            initialize()
        if choice == "demo":
            report = load_demo()
            if report is not None:
                log.warning("first start: %s", report.summary())
        _wait_for_the_index()
    return True


def _wait_for_the_index(seconds: float = 120.0) -> None:
    """Let the first answers search everything just loaded: other processes' drainers
    may hold the index lock while the outbox empties."""
    deadline = time.monotonic() + seconds
    while db.session.scalar(select(PendingIndex.id).limit(1)) is not None:
        db.session.rollback()  # the next look sees what the drainers committed
        if time.monotonic() > deadline:
            log.warning("first start: the index is still catching up; it will shortly")
            return
        if search.apply_pending() == 0:
            time.sleep(0.2)
    db.session.rollback()


@contextmanager
def _server_logging_kept() -> Iterator[None]:
    """The migrations configure logging for the command line (migrations/alembic.ini); a
    server keeps its own handlers rather than writing every line twice from then on."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@contextmanager
def _first_start_lock() -> Iterator[None]:
    folder = Path(current_app.instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "first-start.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        yield


def demo_is_loaded() -> bool:
    return db.session.scalar(select(Document.id).where(Document.is_sample).limit(1)) is not None


def load_demo(progress: imports.ProgressCallback | None = None) -> imports.ImportReport | None:
    """Import and release the demonstration catalogue, unless it is there already."""
    if demo_is_loaded():
        return None
    manifest = DEMO_FOLDER / "manifest.csv"
    actor = system_user()
    _record_demo_meetings(actor)
    with deferred_indexing():
        report = imports.import_manifest(actor, DEMO_FOLDER / "files", manifest, progress=progress)
        refs = list(dict.fromkeys(row.ref for row in report.rows))
        with transaction() as session:
            session.execute(update(Document).where(Document.ref.in_(refs)).values(is_sample=True))
        for ref in refs:
            _attest_and_release_sample(actor, ref, report)
    return report


def _record_demo_meetings(actor: User) -> None:
    """Record the meetings the demonstration manifest names, from demo/meetings.csv (the
    facts known of each; an unknown one is left empty), unless recorded already."""
    with open(DEMO_FOLDER / "meetings.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    recorded = set(db.session.scalars(select(Meeting.number)))
    for row in rows:
        if int(row["number"]) in recorded:
            continue
        meetings.create_meeting(
            actor,
            meetings.MeetingFields(
                number=row["number"],
                held_on=row["date"],
                place=row["place"],
                is_virtual=row["online"] == "yes",
                participants_count=row["participants"],
                members_present=split_list(row["members_present"]),
                observers_present=split_list(row["observers_present"]),
            ),
        )


def _attest_and_release_sample(actor: User, ref: str, report: imports.ImportReport) -> None:
    """Put a sample record through the gate, its attestations made for the demonstration."""
    document = documents.find_by_ref(ref)
    if document is None:
        return
    for spec in review.criteria_specs():
        if spec.kind == "attestation" and document.kind.value in spec.applies_to:
            review.attest(actor, document, spec.code, True, SAMPLE_ATTESTATION)
    try:
        review.release(actor, document)
    except ServiceError as e:
        report.not_released[ref] = str(e)
    else:
        report.released.append(ref)
