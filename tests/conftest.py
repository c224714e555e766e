"""Fixtures: a real application per test, with its own database, index and upload folder.

The database is a SQLite file, or, with HUB_TEST_DATABASE=postgresql, a fresh database
in a throw-away PostgreSQL cluster that the session starts and stops.
"""

from __future__ import annotations

import csv
import os
import subprocess
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import pytest
from flask import Flask
from flask import has_app_context
from flask.testing import FlaskClient
from flask.testing import FlaskCliRunner

from knowledge_hub import create_app
from knowledge_hub import search
from knowledge_hub import seed
from knowledge_hub.extensions import db
from knowledge_hub.services import imports
from knowledge_hub.services import users
from tests import postgres
from tests import snapshots
from tests.mailbox import Mailbox
from tests.postgres import PostgresCluster

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

MANIFEST_COLUMNS = list(imports.COLUMNS)


def shared_data(*parts: str) -> Path:
    """A path in the shared test material; the test is skipped if the folder is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the shared test material is not at {SHARED_DATA}")
    return path


#: "sqlite" (the default) or "postgresql".
TEST_DATABASE = os.environ.get("HUB_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
if TEST_DATABASE not in ("sqlite", "postgresql"):
    raise RuntimeError(f"HUB_TEST_DATABASE must be sqlite or postgresql, not {TEST_DATABASE!r}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In a test process of xdist's (pyproject.toml: a file's tests go to one process),
    the files with slow tests first, then the others by their number of tests: the long
    ones start at once instead of being the last ones left (xdist hands the files out in
    this order; its own, by number of tests alone, is turned off)."""
    if not hasattr(config, "workerinput"):
        return
    by_file: dict[str, list[pytest.Item]] = {}
    for item in items:
        by_file.setdefault(item.nodeid.split("::", 1)[0], []).append(item)

    def first(tests: list[pytest.Item]) -> tuple[bool, int]:
        return (not any(t.get_closest_marker("slow") for t in tests), -len(tests))

    items[:] = [item for tests in sorted(by_file.values(), key=first) for item in tests]


@pytest.fixture(scope="session", autouse=True)
def postgres_cluster() -> Iterator[PostgresCluster | None]:
    """Start the throw-away cluster for the session when PostgreSQL is asked for."""
    if TEST_DATABASE != "postgresql":
        yield None
        return
    cluster = PostgresCluster()
    try:
        cluster.start()
    except subprocess.CalledProcessError as e:
        cluster.stop()
        raise RuntimeError(f"PostgreSQL did not start: {e.stderr.decode(errors='replace')}") from e
    postgres.running = cluster
    try:
        yield cluster
    finally:
        postgres.running = None
        cluster.stop()


@pytest.fixture(scope="session", autouse=True)
def prebuilt_states(
    postgres_cluster: PostgresCluster | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[snapshots.Store]:
    """The template database and the kept states of this test process."""
    snapshots.store = snapshots.Store(tmp_path_factory.mktemp("prebuilt"))
    try:
        yield snapshots.store
    finally:
        snapshots.store = None


@pytest.fixture(autouse=True)
def _fresh_postgres_databases(postgres_cluster: PostgresCluster | None) -> Iterator[None]:
    """Drop the databases a test made, whatever still holds a connection to them."""
    yield
    if postgres_cluster is not None:
        postgres_cluster.drop_databases()


def database_url(tmp_path: Path) -> str:
    if TEST_DATABASE == "postgresql":
        if postgres.running is None:
            raise RuntimeError("the PostgreSQL test cluster is not running")
        return postgres.running.database_url(tmp_path)
    return f"sqlite:///{tmp_path / 'hub.sqlite'}"


def make_config(tmp_path: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test",
        "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
        "INDEX_DIR": tmp_path / "index",
        "UPLOAD_DIR": tmp_path / "uploads",
        "EXTRACTION_SECONDS": 20.0,
        # A search's time budget has tests of its own; elsewhere a loaded machine must
        # not turn a slow search into a refusal.
        "SEARCH_SECONDS": 60.0,
        "SERVER_NAME": "hub.test",
        # The test client speaks plain http; the Secure default is tested on its own.
        "SESSION_COOKIE_SECURE": False,
        # Each counted view or download written at the end of its request, not by a
        # background thread a second later: a test reads its counts at once.
        "USAGE_FLUSH_SECONDS": 0.0,
    }


def running_app(config: dict) -> Iterator[Flask]:
    """An application over config's database (tables and vocabularies made), closed after.

    An empty database gets a copy of the template the session made once (tests/snapshots.py);
    one that is not empty gets what it lacks."""
    filled = snapshots.store is not None and snapshots.store.fill(config)
    app = create_app(config)
    if not filled:
        with app.app_context():
            db.create_all()
            seed.vocabularies(db.session)
            db.session.commit()
    yield app
    with app.app_context():
        search.get_index().close()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    yield from running_app(make_config(tmp_path))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def write_manifest(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in MANIFEST_COLUMNS})
    return path


ImportFunction = Callable[..., imports.ImportReport]


@pytest.fixture
def kept_states(app: Flask, tmp_path: Path, request: pytest.FixtureRequest) -> snapshots.KeptStates:
    """The steps this test's fixtures make (tests/snapshots.py)."""
    return snapshots.KeptStates(app, tmp_path, request)


@pytest.fixture
def import_rows(app: Flask, tmp_path: Path, kept_states: snapshots.KeptStates) -> ImportFunction:
    """Import records through the real import service.

    Each row is a manifest row plus `content` (the file's text or bytes); the file is
    written under tmp_path/files with the row's `file` name.

    When an earlier test of this process made the same imports from the same state, the
    database, index and upload folder are given a copy of what that import left, and the
    report is its report (tests/snapshots.py says when).
    """
    folder = tmp_path / "files"
    folder.mkdir(exist_ok=True)
    counter = iter(range(1, 1_000_000))

    def run(
        rows: list[dict], *, release: bool = True, replace: bool = False
    ) -> imports.ImportReport:
        manifest_rows = []
        for row in rows:
            row = dict(row)
            content = row.pop("content", None)
            if content is not None:
                name = row.get("file") or f"file-{next(counter)}.txt"
                row["file"] = name
                data = content.encode("utf-8") if isinstance(content, str) else content
                (folder / name).write_bytes(data)
            row.setdefault("kind", "publication")
            row.setdefault("language", "en")
            manifest_rows.append(row)
        manifest = write_manifest(tmp_path / f"manifest-{next(counter)}.csv", manifest_rows)

        def importing() -> imports.ImportReport:
            # Join the caller's application context (and so its session) when there is one.
            with nullcontext() if has_app_context() else app.app_context():
                actor = users.system_user()
                return imports.import_manifest(
                    actor, folder, manifest, release=release, replace=replace
                )

        call = ("import", manifest.name, manifest.read_bytes(), release, replace)
        return kept_states.run(call, importing, folder)

    return run


PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_user(app: Flask, kept_states: snapshots.KeptStates) -> Callable[..., str]:
    """Create an account through the users service; returns its e-mail."""
    counter = iter(range(1, 1_000_000))

    def make(*roles: str, organization: str | None = None, languages: tuple[str, ...] = ()) -> str:
        email = f"{'-'.join(roles) or 'nobody'}{next(counter)}@hub.test"

        def create() -> None:
            with nullcontext() if has_app_context() else app.app_context():
                users.create_user(
                    None,
                    email,
                    email.split("@")[0].title(),
                    PASSWORD,
                    list(roles),
                    organization,
                    list(languages),
                )

        kept_states.run(("make_user", email, roles, organization, tuple(languages)), create)
        return email

    return make


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    response = client.post("/auth/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def installed() -> Callable[[tuple, dict, Callable[[], None]], None]:
    """installed(key, config, install): give a new configuration's database and folders
    what install() makes of them through the hub's own commands, or a copy of what it
    made in an earlier test of this process with the same key (tests/snapshots.py)."""
    assert snapshots.store is not None
    return snapshots.store.installed


def seed_criteria(app: Flask, kept_states: snapshots.KeptStates) -> None:
    """Seed the first criteria set, as `hub init` does."""

    def seeding() -> None:
        with app.app_context():
            seed.criteria(db.session)
            db.session.commit()

    kept_states.run(("criteria",), seeding)


@pytest.fixture
def criteria(app: Flask, kept_states: snapshots.KeptStates) -> None:
    """The first criteria set, as `hub init` seeds it."""
    seed_criteria(app, kept_states)


@pytest.fixture
def mailbox(app: Flask) -> Iterator[Mailbox]:
    """A real SMTP server on a free port of 127.0.0.1 (aiosmtpd), the app's mail sent to it."""
    box = Mailbox().start()
    box.attach(app)
    try:
        yield box
    finally:
        box.stop()
