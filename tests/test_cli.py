"""The `hub` commands, run as a script would run them."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect
from sqlalchemy import select

from knowledge_hub import create_app
from knowledge_hub.cli.terminal import progress_line
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import Organization
from knowledge_hub.models import Region
from knowledge_hub.models import Topic
from knowledge_hub.models import User
from tests.conftest import make_config
from tests.conftest import write_manifest
from tests.server import PROJECT_ROOT
from tests.server import environment
from tests.server import run_hub


def test_init_creates_everything_and_can_run_again(tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path))
    runner = app.test_cli_runner()
    for __ in range(2):
        result = runner.invoke(args=["hub", "init"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert "alembic_version" in inspect(db.engine).get_table_names()
        assert db.session.scalar(select(Organization).where(Organization.acronym == "UNRISD"))
        assert db.session.scalar(select(Topic).where(Topic.code == "sdg-17"))
        regions = set(db.session.scalars(select(Region.code)))
        assert {"SN", "BR", "CN", "002", "419", "001"} <= regions
        assert "ZZ" not in regions and "EU" not in regions
        # Hand the session's connection back before closing the pool, or it is left open.
        db.session.remove()
        db.engine.dispose()
    assert (tmp_path / "index").is_dir()


def test_create_user_reads_the_password_from_stdin(app: Flask) -> None:
    runner = app.test_cli_runner()
    args = [
        "hub",
        "create-user",
        "ana@unrisd.org",
        "--name",
        "Ana",
        "--role",
        "staff",
        "--role",
        "reviewer",
        "--organization",
        "unrisd",
        "--language",
        "fr",
    ]
    result = runner.invoke(args=args, input="a long enough passphrase\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "ana@unrisd.org"))
        assert user.roles == ["reviewer", "staff"]
        assert user.organization.acronym == "UNRISD"
        assert user.password_hash.startswith("$argon2id$")
    again = runner.invoke(args=args, input="a long enough passphrase\n")
    assert again.exit_code == 1
    assert "already an account" in again.output


def test_create_user_refuses_an_unknown_role(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["hub", "create-user", "x@y.org", "--name", "X", "--role", "king"],
        input="a long enough passphrase\n",
    )
    assert result.exit_code == 1
    assert "Unknown role king" in result.output


def test_import_reports_each_row_and_fails_on_a_bad_one(app: Flask, tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "minutes.txt").write_text("Minutes of the 43rd meeting, 16 May 2023.")
    manifest = write_manifest(
        tmp_path / "m.csv",
        [
            dict(
                ref="MIN-43",
                file="minutes.txt",
                language="en",
                title="Minutes of the 43rd meeting",
                kind="archive",
                type="meeting-minutes",
                date="2023-05-16",
            ),
            dict(ref="MIN-44", file="absent.txt", language="en", title="Minutes", kind="archive"),
        ],
    )
    runner = app.test_cli_runner()
    dry = runner.invoke(
        args=["hub", "import", str(folder), "--manifest", str(manifest), "--dry-run"]
    )
    assert "line 2: MIN-43 [en] created" in dry.output
    assert "line 3: MIN-44 [en] error: file not found: absent.txt" in dry.output
    assert dry.exit_code == 1
    real = runner.invoke(args=["hub", "import", str(folder), "--manifest", str(manifest)])
    assert real.exit_code == 1
    assert "1 records created" in real.output
    with app.app_context():
        assert db.session.scalar(select(Document.status)) == DocumentStatus.DRAFT

    released = runner.invoke(args=["hub", "release", "MIN-43"])
    assert released.exit_code == 0 and "MIN-43: released" in released.output
    missing = runner.invoke(args=["hub", "release", "NOPE"])
    assert missing.exit_code == 1 and "no record" in missing.output

    reindexed = runner.invoke(args=["hub", "reindex"])
    assert reindexed.exit_code == 0 and "Indexed 1 language versions." in reindexed.output
    with app.test_client() as client:
        assert client.get("/api/search?q=minutes").get_json()["total"] == 1


def test_import_of_a_missing_folder_fails_with_a_reason(app: Flask, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "m.csv", [])
    result = app.test_cli_runner().invoke(
        args=["hub", "import", str(tmp_path / "nope"), "--manifest", str(manifest)]
    )
    assert result.exit_code != 0


def test_the_progress_line_shows_the_share_the_rate_and_the_time_left() -> None:
    line = progress_line("Importing", 2345, 5000, 166.0, width=20)
    assert line.startswith("Importing [#########-----------] 2345 of 5000  47%")
    assert "14.1/s, 3 min 7 s left" in line
    assert progress_line("Importing", 0, 10, 0.0).startswith("Importing [" + "-" * 30 + "] 0 of 10")


@pytest.mark.slow
def test_import_draws_a_progress_bar_on_a_terminal_only(app: Flask, tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    rows = []
    for n in range(3):
        (folder / f"agenda-{n}.txt").write_text(f"Agenda of meeting {n} of the Task Force.")
        rows.append(
            dict(
                ref=f"AG-{n}",
                file=f"agenda-{n}.txt",
                language="en",
                title=f"Agenda {n}",
                kind="archive",
            )
        )
    manifest = write_manifest(tmp_path / "m.csv", rows)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    args = ["hub", "import", str(folder), "--manifest", str(manifest), "--dry-run"]
    controller, terminal = pty.openpty()
    try:
        shown = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=PROJECT_ROOT,
            env=environment(app.config),
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
        )
        os.close(terminal)
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # everything read: the terminal's other end is closed
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(controller)
    assert shown.returncode == 0, shown.stdout
    assert "Checking [" + "#" * 30 + "] 3 of 3 100%" in drawn.decode()
    piped = run_hub(app.config, *args)
    assert "Checking [" not in piped.stderr + piped.stdout
