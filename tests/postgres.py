"""A throw-away PostgreSQL cluster for the test session (HUB_TEST_DATABASE=postgresql).

Kept out of conftest.py so that the one running cluster is shared by conftest and the
tests that import `tests.conftest` (pytest loads conftest under a second name).
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


def _postgres_bin(name: str) -> str:
    """A PostgreSQL server program: Debian keeps them out of PATH, per major version."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if not versions:
        raise RuntimeError(f"{name} not found: run `bash tests/setup.sh` to install PostgreSQL")
    return str(versions[-1])


class PostgresCluster:
    """A throw-away cluster in a temporary folder, on a free port of 127.0.0.1 only."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="hub-test-pg-"))
        self.data = self.folder / "data"
        self.port = 0
        self.names = itertools.count(1)
        self.by_folder: dict[Path, str] = {}
        self.created: list[str] = []
        # The server refuses to run as root; run it as the unprivileged `postgres` user.
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            self.as_owner = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.folder, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self.as_owner, *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.folder,
        )

    def start(self) -> None:
        self._run(
            _postgres_bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        # Trust, but only over TCP from this machine; no Unix socket at all.
        (self.data / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\n")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        # A test database is thrown away: durability only costs time here.
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories=''"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=200"
        )
        self._run(
            _postgres_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _create(self, name: str, template: str = "template1") -> None:
        # Copying the template's files is quicker than through the write-ahead log (the
        # default) for databases this small.
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')

    def _admin(self, sql: str) -> None:
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(sql)

    def _url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def owns(self, url: str) -> bool:
        return url.startswith(self._url(""))

    def create_database(self, name: str) -> str:
        """A database kept for the whole session (not dropped after each test)."""
        self._create(name)
        return self._url(name)

    def write_position(self) -> str:
        """Where the cluster's write-ahead log ends: it moves with every write."""
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as connection:
            return str(connection.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0])

    def _unused(self, name: str, seconds: float = 1.0) -> bool:
        """Whether nothing is connected to the database (connections just closed may
        take a moment to go)."""
        deadline = time.monotonic() + seconds
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as connection:
            while True:
                (count,) = connection.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)
                ).fetchone()
                if count == 0:
                    return True
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.01)

    def copy_database(self, source: str, target: str) -> bool:
        """Make target, kept for the session, a copy of source; False if something is
        connected to source."""
        if not self._unused(source):
            return False
        self._create(target, source)
        return True

    def replace_database(self, name: str, source: str) -> bool:
        """Make the database `name` a copy of `source`; False if something is
        connected to it."""
        if not self._unused(name):
            return False
        self._admin(f'DROP DATABASE "{name}" WITH (FORCE)')
        self._create(name, source)
        return True

    def is_empty(self, name: str) -> bool:
        """Whether the database has no table (nor anything else of its own)."""
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=name, autocommit=True
        ) as connection:
            (empty,) = connection.execute(
                "SELECT NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE n.nspname = 'public')"
            ).fetchone()
        return empty

    def fill_from(self, name: str, template: str) -> bool:
        """Make the database `name` a copy of `template` if it is still empty (no
        table); False if it was not."""
        if not self.is_empty(name):
            return False
        # Nothing but readers of an empty database can be connected: let them go.
        self._admin(f'DROP DATABASE "{name}" WITH (FORCE)')
        self._create(name, template)
        return True

    def database_url(self, tmp_path: Path) -> str:
        """A fresh database for this test folder (the same one when asked again)."""
        name = self.by_folder.get(tmp_path)
        if name is None:
            name = f"hub_test_{os.getpid()}_{next(self.names)}"
            self._create(name)
            self.by_folder[tmp_path] = name
            self.created.append(name)
        return self._url(name)

    def drop_databases(self) -> None:
        while self.created:
            name = self.created.pop()
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.by_folder.clear()


#: The cluster of this test session, while it runs.
running: PostgresCluster | None = None
