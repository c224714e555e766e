"""Creating or upgrading an installation, and loading the demonstration catalogue."""

from __future__ import annotations

import csv
import fcntl
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy import text
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

#: How long a first start waits for the index to take in what it loaded, at most.
INDEX_CATCH_UP_SECONDS = 20.0

#: The PostgreSQL advisory lock that `hub init` and first starts take turns on.
SETUP_LOCK_KEY = 0x48554249  # "HUBI"


def initialize() -> None:
    """Create or upgrade the database, the vocabularies and the index. Again is harmless.

    Waits for a server's first start setting the hub up at the same moment, and the
    other way round (setup_lock)."""
    with setup_lock():
        _initialize()


def _initialize() -> None:
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
    then loading the demonstration catalogue when `choice` is "demo"; "off" leaves an
    empty database to the person. Whether the hub is set up afterwards.

    The look and the setup happen under setup_lock, so a process never takes a hub that
    another is still setting up for a ready one: they wait for it and find it done.
    """
    with setup_lock(shared=True):
        if is_set_up():
            return True
    if choice == "off":
        return False
    with setup_lock():
        if is_set_up():
            return True
        log.warning(
            "first start: setting the hub up (%s)",
            "hub init, hub demo" if choice == "demo" else "hub init",
        )
        with _server_logging_kept():
            _initialize()
        if choice == "demo":
            report = load_demo()
            if report is not None:
                log.warning("first start: %s", report.summary())
        _wait_for_the_index()
    return True


def set_up_for_serving(app: Flask) -> bool:
    """What a server process does before it answers: set_up_on_first_start under the
    app's FIRST_START, once. A hub found set up is marked on the app, so neither a later
    request nor `flask run`'s loading of the application asks again."""
    if is_known_set_up(app):
        return True
    with app.app_context():
        done = set_up_on_first_start(app.config["FIRST_START"])
    app.extensions[_SET_UP] = done
    return done


def is_known_set_up(app: Flask) -> bool:
    """Whether this process has already found the hub set up (nothing asked)."""
    return bool(app.extensions.get(_SET_UP))


#: app.extensions' mark that this process found the hub set up.
_SET_UP = "hub.set_up"


def _wait_for_the_index() -> None:
    """Let the first answers search everything just loaded: other processes' drainers
    may hold the index lock while the outbox empties. Bounded: past it, the drainers
    finish the work while the hub answers."""
    deadline = time.monotonic() + INDEX_CATCH_UP_SECONDS
    try:
        while db.session.scalar(select(PendingIndex.id).limit(1)) is not None:
            db.session.rollback()  # the next look sees what the drainers committed
            if time.monotonic() > deadline:
                log.warning("first start: the index is still catching up; it will shortly")
                return
            if search.apply_pending() == 0:
                time.sleep(0.2)
    except Exception:
        # The hub is set up; the outbox keeps the work for the drainers.
        log.exception("first start: the index could not catch up yet")
    finally:
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
def setup_lock(shared: bool = False) -> Iterator[None]:
    """Held while a hub is set up (`hub init`, a first start), `shared` to look whether
    it is. PostgreSQL's processes, on whatever machine, take turns on an advisory lock;
    SQLite's, on a lock file beside the database file."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        suffix = "_shared" if shared else ""
        with engine.connect() as connection:
            connection.execute(
                text(f"SELECT pg_advisory_lock{suffix}(:key)"), {"key": SETUP_LOCK_KEY}
            )
            connection.commit()  # the lock is the session's: no transaction held open
            try:
                yield
            finally:
                connection.execute(
                    text(f"SELECT pg_advisory_unlock{suffix}(:key)"), {"key": SETUP_LOCK_KEY}
                )
                connection.commit()
        return
    name = engine.url.database
    database = Path(name) if name and name != ":memory:" else None
    if engine.dialect.name == "sqlite" and database and database.parent.is_dir():
        lock_path = database.with_name(database.name + ".setup-lock")
    else:  # a database elsewhere, or a folder that does not exist (the database says so)
        lock_path = Path(current_app.instance_path) / "setup.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)  # freed on close
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
