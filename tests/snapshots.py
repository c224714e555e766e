"""A template database built once per test process and copied into each test.

Each test has its own database. Making the tables and seeding the vocabularies takes a
good part of a second; each process (each xdist worker is one) does it once, in a
template, and `running_app` copies the template into a test's empty database instead:
a file copy on SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL. Nothing writes to
the template.

Kept out of conftest.py so that one store serves conftest and the tests that import
`tests.conftest` (pytest loads conftest under a second name).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from knowledge_hub import create_app
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


class Store:
    """The template of one test process."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._template: str | None = None

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
        return True


#: The store of this test process, while the session runs.
store: Store | None = None
