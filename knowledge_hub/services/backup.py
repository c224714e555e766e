"""Backup and restore: a consistent snapshot of the database plus the stored files by
hash, with a checksum manifest. The search index is not copied: it is rebuilt."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy.engine import URL

from knowledge_hub import search
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import StoredFile
from knowledge_hub.models import User
from knowledge_hub.models.base import utcnow
from knowledge_hub.services import ServiceError
from knowledge_hub.services.documents import blob_store
from knowledge_hub.services.users import SYSTEM_EMAIL
from knowledge_hub.storage import BlobStore
from knowledge_hub.storage import sha256_of

FORMAT = 1
INFO_NAME = "backup.json"
MANIFEST_NAME = "SHA256SUMS"
SQLITE_NAME = "database.sqlite"
PG_DUMP_NAME = "database.pgdump"
FILES_DIR = "files"

ProgressCallback = Callable[[int, int], None]


class BackupError(ServiceError):
    """A backup or restore could not be made; the message says why."""


@dataclass
class BackupReport:
    destination: Path
    database: str
    files: int = 0
    bytes: int = 0
    #: Blobs a record uses that could not be copied intact: sha256 → outcome.
    problems: dict[str, str] = field(default_factory=dict)


@dataclass
class RestoreReport:
    source: Path
    database: str
    files: int = 0
    indexed: int = 0


def _pg_program(name: str) -> str:
    """pg_dump or pg_restore; Debian keeps the newest major version's out of PATH."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if not candidates:
        raise BackupError(f"{name} was not found; install Debian's postgresql-client.")
    return str(candidates[-1])


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the PostgreSQL tools, the password in the environment."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {result.stderr.strip()}")


def _database_kind() -> str:
    backend = db.engine.url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups of a {backend} database are not supported.")
    return backend


def _sha256s_in_sqlite(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return [row[0] for row in connection.execute("SELECT DISTINCT sha256 FROM stored_file")]
    finally:
        connection.close()


def _snapshot_sqlite(target: Path) -> list[str]:
    """Copy the live database page by page (SQLite's online backup API)."""
    source = sqlite3.connect(db.engine.url.database)
    destination = sqlite3.connect(target)
    try:
        with destination:
            source.backup(destination)
    finally:
        destination.close()
        source.close()
    # The files to copy are the ones the snapshot refers to, not the live database.
    return _sha256s_in_sqlite(target)


def _snapshot_postgresql(target: Path) -> list[str]:
    """pg_dump in custom format, sharing one snapshot with the list of files to copy."""
    conninfo, env = _libpq(db.engine.url)
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            sha256s = list(connection.scalars(select(StoredFile.sha256).distinct()))
            _run(
                [
                    _pg_program("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    "--no-acl",
                    f"--snapshot={snapshot}",
                    f"--file={target}",
                    f"--dbname={conninfo}",
                ],
                env,
            )
    return sha256s


def backup(destination: Path, progress: ProgressCallback | None = None) -> BackupReport:
    """Write a snapshot of the database and every stored file it uses into destination.

    The hub may keep serving meanwhile: the database is copied as of one moment, and
    files, which are never changed in place, are copied by hash and checked on the way.
    """
    destination = Path(destination)
    if destination.exists() and any(destination.iterdir()):
        raise BackupError(f"{destination} is not empty; give a new or empty folder.")
    kind = _database_kind()
    destination.mkdir(parents=True, exist_ok=True)
    database_file = destination / (SQLITE_NAME if kind == "sqlite" else PG_DUMP_NAME)
    if kind == "sqlite":
        sha256s = _snapshot_sqlite(database_file)
    else:
        sha256s = _snapshot_postgresql(database_file)
    report = BackupReport(destination, kind)
    store = blob_store()
    copies = BlobStore(destination / FILES_DIR)
    manifest = [(sha256_of(database_file), database_file.name)]
    for number, sha256 in enumerate(sorted(sha256s), 1):
        outcome = store.verify(sha256)
        if outcome != "match":
            report.problems[sha256] = outcome
            continue
        target = copies.path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(store.path(sha256), target)
        # Checked again after the copy: what is in the backup is what the manifest says.
        if sha256_of(target) != sha256:
            target.unlink()
            report.problems[sha256] = "mismatch"
            continue
        manifest.append((sha256, target.relative_to(destination).as_posix()))
        report.files += 1
        report.bytes += target.stat().st_size
        if progress is not None:
            progress(number, len(sha256s))
    (destination / MANIFEST_NAME).write_text(
        "".join(f"{digest}  {name}\n" for digest, name in manifest), encoding="utf-8"
    )
    info = {
        "format": FORMAT,
        "database": kind,
        "database_file": database_file.name,
        "created_at": utcnow().isoformat(timespec="seconds") + "Z",
        "files": report.files,
        "missing_or_damaged": report.problems,
    }
    (destination / INFO_NAME).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return report


def read_manifest(source: Path) -> list[tuple[str, str]]:
    """The (sha256, relative path) lines of a backup's manifest."""
    path = Path(source) / MANIFEST_NAME
    if not path.is_file():
        raise BackupError(f"{source} is not a hub backup: {MANIFEST_NAME} is missing.")
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        digest, __, name = line.partition("  ")
        if len(digest) != 64 or not name or name.startswith("/") or ".." in Path(name).parts:
            raise BackupError(f"{MANIFEST_NAME} has a line that is not a checksum: {line!r}")
        entries.append((digest, name))
    return entries


def verify_backup(source: Path) -> list[str]:
    """Re-hash every file the manifest lists; returns the names that do not match."""
    bad = []
    for digest, name in read_manifest(source):
        path = Path(source) / name
        if not path.is_file() or sha256_of(path) != digest:
            bad.append(name)
    return bad


def instance_is_empty() -> bool:
    """True when there are no records, no accounts but the command line's, no files."""
    tables = set(inspect(db.engine).get_table_names())
    if "document" in tables and db.session.scalar(select(func.count(Document.id))):
        return False
    if "user" in tables and db.session.scalar(
        select(func.count(User.id)).where(User.email != SYSTEM_EMAIL)
    ):
        return False
    db.session.rollback()
    return next(iter(blob_store()), None) is None


def _restore_sqlite(database_file: Path) -> None:
    db.session.remove()
    db.engine.dispose()
    target = Path(db.engine.url.database)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(database_file)
    destination = sqlite3.connect(target)
    try:
        with destination:
            source.backup(destination)
    finally:
        destination.close()
        source.close()


def _restore_postgresql(database_file: Path) -> None:
    db.session.remove()
    db.engine.dispose()
    conninfo, env = _libpq(db.engine.url)
    # --clean drops what `hub init` may have made before recreating it from the dump.
    _run(
        [
            _pg_program("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-acl",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={conninfo}",
            str(database_file),
        ],
        env,
    )


def restore(source: Path, progress: ProgressCallback | None = None) -> RestoreReport:
    """Restore a backup into this empty instance, then rebuild the search index."""
    source = Path(source)
    info_path = source / INFO_NAME
    if not info_path.is_file():
        raise BackupError(f"{source} is not a hub backup: {INFO_NAME} is missing.")
    info = json.loads(info_path.read_text(encoding="utf-8"))
    if info.get("format") != FORMAT:
        raise BackupError(f"{source} was written in an unknown backup format.")
    kind = _database_kind()
    if info["database"] != kind:
        raise BackupError(f"The backup holds a {info['database']} database; this hub uses {kind}.")
    bad = verify_backup(source)
    if bad:
        raise BackupError(f"The backup is damaged; these files do not match: {', '.join(bad)}")
    if not instance_is_empty():
        raise BackupError(
            "This hub already has records, accounts or files; restore into an empty one."
        )
    database_file = source / info["database_file"]
    if kind == "sqlite":
        _restore_sqlite(database_file)
    else:
        _restore_postgresql(database_file)
    # A backup made by an earlier version is brought up to this version's schema. One
    # without a migration revision was made from the models directly (`db.create_all`,
    # as the tests do) and is taken as it is.
    if inspect(db.engine).has_table("alembic_version"):
        upgrade(directory=str(current_app.config["MIGRATIONS_DIR"]))
    report = RestoreReport(source, kind)
    store = blob_store()
    entries = [(d, n) for d, n in read_manifest(source) if n.startswith(FILES_DIR + "/")]
    for number, (digest, name) in enumerate(entries, 1):
        if not store.exists(digest):
            store.put_file(source / name)
        report.files += 1
        if progress is not None:
            progress(number, len(entries))
    report.indexed = search.reindex()
    return report
