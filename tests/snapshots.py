"""States built once per test process and copied into each test that needs them.

Each test has its own database, index and upload folder. Making the tables and the
vocabularies takes a good part of a second, and importing records through text
extraction and the indexer, or making an account (its password hash is made to be
slow), takes longer; the same states come back in test after test. So each process
(each xdist worker is one) builds them once and copies them:

- the template: the tables and seeded vocabularies, which `running_app` copies into a
  test's empty database (a file copy on SQLite, `CREATE DATABASE ... TEMPLATE` on
  PostgreSQL) instead of making them again;
- steps: what the database, the index folder and the upload folder hold after a test's
  fixtures made a step through the application's own services (an import through
  `import_rows`, an account through `make_user`, the `criteria` set, the demonstration
  catalogue), starting from the template, possibly after earlier steps. Another test
  that makes the same steps, from the same state, with the same settings, gets a copy
  of that state and of the step's result instead of making the step again.

A step is only served from a copy when nothing else wrote to the test's database,
index or upload folder since the template was copied or the last step was made (the
folders' files and, on SQLite, the database's bytes are compared; on PostgreSQL, where
the cluster's write-ahead log ends), when it is not made inside an application context of the
caller's, and when the test has not patched anything (`monkeypatch`). Otherwise it is
made for real, and the test makes no more copies. (What the comparison cannot see is a
lock held on the index by another application object or process; no test holds one
across a step made outside an application context.) Nothing kept here is written to by a
test: each gets its own copy. What a copy cannot carry over is the time things were
made: it is the time of the test that first made them, earlier in the same session.

Kept out of conftest.py so that one store serves conftest and the tests that import
`tests.conftest` (pytest loads conftest under a second name).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import os
import re
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask import has_app_context

from knowledge_hub import create_app
from knowledge_hub import search
from knowledge_hub import seed
from knowledge_hub.extensions import db
from tests import postgres

SQLITE_PREFIX = "sqlite:///"


def _sqlite_path(url: str) -> Path | None:
    return Path(url.removeprefix(SQLITE_PREFIX)) if url.startswith(SQLITE_PREFIX) else None


def _postgres_name(url: str) -> str | None:
    """The database's name when it lives in this process's PostgreSQL test cluster."""
    cluster = postgres.running
    if cluster is None or not cluster.owns(url):
        return None
    return url.rsplit("/", 1)[1]


def _digest_file(path: Path, digest: Any) -> None:
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)


def _folder_fingerprint(folder: Path) -> tuple | None:
    """What a folder holds: every folder's path, every file's path, size and
    modification time (None: there is no folder)."""
    if not folder.exists():
        return None
    entries: list[tuple] = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        entries.extend((str(Path(root, name).relative_to(folder)),) for name in dirs)
        for name in sorted(files):
            path = Path(root, name)
            st = path.lstat()
            entries.append((str(path.relative_to(folder)), st.st_size, st.st_mtime_ns))
    return tuple(entries)


def _folder_contents(folder: Path) -> str:
    """A digest of every file's path and bytes in a folder."""
    digest = hashlib.sha256()
    if folder.exists():
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                path = Path(root, name)
                digest.update(str(path.relative_to(folder)).encode() + b"\0")
                _digest_file(path, digest)
                digest.update(b"\0")
    return digest.hexdigest()


def _copy_folder(source: Path, target: Path) -> None:
    """Make target hold what source holds, or not be there when source is not."""
    if not source.exists():
        if target.exists():
            shutil.rmtree(target)
        return
    if target.exists():
        # Its contents only: the folder itself may be a mount point.
        for child in target.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)


@dataclass
class Snapshot:
    """The state after some steps: a database copy, the two folders, the last step's
    result."""

    database: str  # a file path (SQLite) or a database name (PostgreSQL)
    folder: Path  # holds index/ and uploads/
    result: Any


class Store:
    """The states of one test process."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.numbers = itertools.count(1)
        self._template: str | None = None
        #: What each database filled from the template held then, by database URL.
        self.filled: dict[str, Any] = {}
        self.snapshots: dict[tuple, Snapshot] = {}
        #: Steps served from a kept state, and steps made.
        self.served = 0
        self.ran = 0

    # --- the template

    def template(self, config: dict) -> str:
        """The template database (a file path, or a database name on PostgreSQL)."""
        if self._template is None:
            folder = self.folder / "template"
            folder.mkdir()
            cluster = postgres.running
            if cluster is not None:
                name = f"hub_template_{os.getpid()}"
                url = cluster.create_database(name)
                self._template = name
            else:
                url = f"{SQLITE_PREFIX}{folder / 'hub.sqlite'}"
                self._template = str(folder / "hub.sqlite")
            app = create_app(
                {
                    **config,
                    "SQLALCHEMY_DATABASE_URI": url,
                    "INDEX_DIR": folder / "index",
                    "UPLOAD_DIR": folder / "uploads",
                }
            )
            with app.app_context():
                db.create_all()
                seed.vocabularies(db.session)
                db.session.commit()
                db.session.remove()
                db.engine.dispose()
            if cluster is None:
                # The last connection closed folds the write-ahead log into the file.
                assert not Path(f"{self._template}-wal").exists()
        return self._template

    def fill(self, config: dict) -> bool:
        """Fill the configured database, when it is empty, with a copy of the template:
        the tables and the seeded vocabularies. False when it was not empty."""
        url = config["SQLALCHEMY_DATABASE_URI"]
        path = _sqlite_path(url)
        if path is not None:
            if path.exists() and path.stat().st_size > 0:
                return False
            for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
                if leftover.exists():
                    return False
            template = self.template(config)
            shutil.copyfile(template, path)
        else:
            name = _postgres_name(url)
            if name is None:
                return False
            template = self.template(config)
            assert postgres.running is not None
            if not postgres.running.fill_from(name, template):
                return False
        self.filled[url] = self.database_fingerprint(url)
        return True

    # --- what a database holds, to see whether anything wrote to it

    @staticmethod
    def database_fingerprint(url: str) -> Any:
        path = _sqlite_path(url)
        if path is not None:
            digest = hashlib.sha256()
            _digest_file(path, digest)
            wal = Path(f"{path}-wal")
            # Readers make an empty write-ahead log; only a write puts pages in it.
            if wal.exists() and wal.stat().st_size > 0:
                digest.update(b"wal")
                _digest_file(wal, digest)
            return digest.hexdigest()
        assert postgres.running is not None
        return postgres.running.write_position()

    # --- the states steps leave

    def save(self, key: tuple, config: dict, result: Any, app: Flask | None = None) -> None:
        """Keep the state config's database and folders hold now, reached by key (app,
        if given, is the application object open on them)."""
        url = config["SQLALCHEMY_DATABASE_URI"]
        folder = self.folder / f"state-{next(self.numbers)}"
        folder.mkdir()
        path = _sqlite_path(url)
        if path is not None:
            database = str(folder / "hub.sqlite")
            with sqlite3.connect(path) as live, sqlite3.connect(database) as copied:
                live.backup(copied)
            live.close()
            copied.close()
        else:
            name = _postgres_name(url)
            assert name is not None and postgres.running is not None
            database = f"hub_state_{os.getpid()}_{next(self.numbers)}"
            if app is not None:
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
            if not postgres.running.copy_database(name, database):
                shutil.rmtree(folder)
                return
        _copy_folder(Path(config["INDEX_DIR"]), folder / "index")
        _copy_folder(Path(config["UPLOAD_DIR"]), folder / "uploads")
        self.snapshots[key] = Snapshot(database, folder, copy.deepcopy(result))

    def restore(self, snapshot: Snapshot, config: dict, app: Flask | None = None) -> bool:
        """Put a kept state into config's database and folders (app, if given, is the
        application object open on them); False if it could not (PostgreSQL: something
        else is connected to the database)."""
        url = config["SQLALCHEMY_DATABASE_URI"]
        path = _sqlite_path(url)
        with app.app_context() if app is not None else nullcontext():
            if path is not None:
                # Through SQLite, as any writer would: connections open on the file
                # (the application's pool) read the new contents.
                with sqlite3.connect(snapshot.database) as kept, sqlite3.connect(path) as live:
                    kept.backup(live)
                kept.close()
                live.close()
            else:
                name = _postgres_name(url)
                assert name is not None and postgres.running is not None
                if app is not None:
                    db.session.remove()
                    db.engine.dispose()
                if not postgres.running.replace_database(name, snapshot.database):
                    return False
            if app is not None:
                search.get_index().close()
        _copy_folder(snapshot.folder / "index", Path(config["INDEX_DIR"]))
        _copy_folder(snapshot.folder / "uploads", Path(config["UPLOAD_DIR"]))
        return True

    def installed(self, key: tuple, config: dict, install: Callable[[], None]) -> None:
        """Give config's new database and folders (the database empty, no folders) what
        install() makes of them, or a copy of what it made in an earlier test with the
        same key and settings. install() works through new processes (the hub's own
        commands): nothing in this process holds the database open."""
        url = config["SQLALCHEMY_DATABASE_URI"]
        folders = (Path(config["INDEX_DIR"]), Path(config["UPLOAD_DIR"]))
        tmp_path = folders[0].parent
        key = ("installed", key, _settings_key(config, tmp_path))
        path = _sqlite_path(url)
        if path is not None:
            new = not path.exists()
        else:
            name = _postgres_name(url)
            new = name is not None and postgres.running is not None
            new = new and postgres.running.is_empty(name)
        new = new and not any(folder.exists() for folder in folders)
        kept = self.snapshots.get(key) if new else None
        if kept is not None and self.restore(kept, config):
            self.served += 1
            return
        self.ran += 1
        install()
        if new and not _names_the_folder(tmp_path, url, None):
            self.save(key, config, None)


#: The store of this test process, while the session runs.
store: Store | None = None


def _names_the_folder(tmp_path: Path, url: str, result: Any) -> bool:
    """Whether a state names the test's own folder (in a step's result, or in the
    database on SQLite): it would be wrong in another test's copy."""
    here = str(tmp_path).encode()
    if here in repr(result).encode():
        return True
    path = _sqlite_path(url)
    if path is None:
        return False
    return any(file.exists() and here in file.read_bytes() for file in (path, Path(f"{path}-wal")))


def _settings_key(config: dict, tmp_path: Path) -> tuple:
    """The application's settings, with the test's own folder taken out."""
    here = str(tmp_path)
    return tuple(
        (name, re.sub(r" at 0x[0-9a-f]+", "", repr(value)).replace(here, "<tmp>"))
        for name, value in sorted(config.items())
        if name != "SQLALCHEMY_DATABASE_URI"  # the test's own database
    )


class KeptStates:
    """One test's steps (imports, accounts, the criteria set...), each served from a
    kept state when an earlier test made the same steps from the same state."""

    def __init__(self, app: Flask, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        self.app = app
        self.tmp_path = tmp_path
        self.request = request
        self.url = app.config["SQLALCHEMY_DATABASE_URI"]
        self.index = Path(app.config["INDEX_DIR"])
        self.uploads = Path(app.config["UPLOAD_DIR"])
        #: The key of the last step made (each key holds the ones before it).
        self.made: tuple = ()
        #: What the database and the two folders held after the last step; None once
        #: this test makes no more kept steps.
        self.expected: tuple | None = None
        if store is not None and self.url in store.filled:
            self.expected = (store.filled[self.url], None, None)

    def _now(self) -> tuple:
        assert store is not None
        return (
            store.database_fingerprint(self.url),
            _folder_fingerprint(self.index),
            _folder_fingerprint(self.uploads),
        )

    def _patched(self) -> bool:
        if "monkeypatch" not in self.request.fixturenames:
            return False
        patches = self.request.getfixturevalue("monkeypatch")
        return bool(
            patches._setattr
            or patches._setitem
            or patches._cwd is not None
            or patches._savesyspath is not None
        )

    def stop(self) -> None:
        """Something else writes: no more kept states in this test."""
        self.expected = None

    def run(self, call: tuple, build: Callable[[], Any], folder: Path | None = None) -> Any:
        """Make a step (build(), which returns its result), or copy in the state it
        left and its result. call names the step and its arguments; folder is a folder
        of files it reads, besides the database and the application's folders."""
        if store is None or self.expected is None or has_app_context() or self._patched():
            # In the caller's application context, the caller's session may hold
            # objects that a copied state would not match.
            self.stop()
            return build()
        if self._now() != self.expected:
            self.stop()
            return build()
        key = (
            self.made,
            call,
            None if folder is None else _folder_contents(folder),
            _settings_key(self.app.config, self.tmp_path),
        )
        kept = store.snapshots.get(key)
        if kept is not None and store.restore(kept, self.app.config, self.app):
            store.served += 1
            result = copy.deepcopy(kept.result)
        else:
            store.ran += 1
            result = build()
            if not _names_the_folder(self.tmp_path, self.url, result):
                store.save(key, self.app.config, result, self.app)
        self.made = key
        self.expected = self._now()
        return result
