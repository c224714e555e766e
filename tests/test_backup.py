"""`hub backup` and `hub restore`: a round trip loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub import create_app
from knowledge_hub import search
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import StoredFile
from knowledge_hub.models import User
from knowledge_hub.models import Variant
from knowledge_hub.services import backup as backups
from knowledge_hub.services import users
from knowledge_hub.services.documents import blob_store
from tests.conftest import PASSWORD
from tests.conftest import make_config

ROWS = [
    dict(
        ref="PB-2023-01",
        title="Cooperatives and decent work",
        type="policy-brief",
        date="2023-05",
        organizations="ILO",
        content="Cooperatives create decent work in the informal economy of Senegal.",
    ),
    dict(
        ref="PB-2023-01",
        language="fr",
        title="Coopératives et travail décent",
        content="Les coopératives créent du travail décent dans l'économie informelle.",
    ),
    dict(
        ref="MIN-43",
        title="Minutes of the 43rd meeting",
        kind="archive",
        type="meeting-minutes",
        date="2023-05-16",
        content="Minutes of the 43rd meeting: solidarity finance and cooperatives.",
    ),
    dict(
        ref="GUIDE-1",
        title="A guide to solidarity finance",
        type="guide",
        date="2021",
        access="members",
        content="Solidarity finance for social enterprises, a guide.",
    ),
]


@pytest.fixture
def empty_hub(tmp_path: Path) -> Iterator[Flask]:
    """A second installation, made by `hub init` and nothing else."""
    folder = tmp_path / "restored"
    folder.mkdir()
    app = create_app(make_config(folder))
    assert app.test_cli_runner().invoke(args=["hub", "init"]).exit_code == 0
    yield app
    with app.app_context():
        search.get_index().close()
        db.session.remove()
        db.engine.dispose()


def records(app: Flask) -> list[tuple]:
    with app.app_context():
        return db.session.execute(
            select(
                Document.ref,
                Document.status,
                Document.access,
                Variant.language,
                Variant.title,
                StoredFile.sha256,
                StoredFile.text,
            )
            .join(Variant, Variant.document_id == Document.id)
            .join(StoredFile, StoredFile.variant_id == Variant.id)
            .order_by(Document.ref, Variant.language)
        ).all()


def search_results(app: Flask, q: str) -> list[tuple]:
    response = app.test_client().get("/api/search", query_string={"q": q})
    assert response.status_code == 200
    return [(r["ref"], r["language"], r["title"]) for r in response.get_json()["results"]]


@pytest.mark.slow
def test_a_round_trip_keeps_records_files_and_search_results(
    app: Flask, import_rows, empty_hub: Flask, tmp_path: Path
) -> None:
    report = import_rows(ROWS)
    assert not report.failed
    destination = tmp_path / "backup"
    made = app.test_cli_runner().invoke(args=["hub", "backup", str(destination)])
    assert made.exit_code == 0, made.output
    assert "and 4 files" in made.output
    assert not (destination / "index").exists()
    assert backups.verify_backup(destination) == []

    restored = empty_hub.test_cli_runner().invoke(args=["hub", "restore", str(destination)])
    assert restored.exit_code == 0, restored.output
    assert "indexed 4 language versions" in restored.output

    assert records(empty_hub) == records(app)
    with empty_hub.app_context():
        store = blob_store()
        assert {store.verify(sha256) for *__, sha256, __text in records(empty_hub)} == {"match"}
    for q in ("cooperatives", "solidarity finance", "travail", "minutes"):
        assert search_results(empty_hub, q) == search_results(app, q), q
    assert search_results(empty_hub, "cooperatives")
    # The restored hub checks clean.
    check = empty_hub.test_cli_runner().invoke(args=["hub", "check"])
    assert check.exit_code == 0, check.output
    # And goes on working: new rows take ids after the restored ones (sequences came along).
    with empty_hub.app_context():
        users.create_user(None, "new@hub.test", "New", PASSWORD, ["staff"], None, [])
        assert db.session.scalar(select(func.count(User.id))) >= 2


def test_restore_refuses_a_hub_that_is_not_empty(app: Flask, import_rows, tmp_path: Path) -> None:
    import_rows(ROWS[:1])
    runner = app.test_cli_runner()
    assert runner.invoke(args=["hub", "backup", str(tmp_path / "backup")]).exit_code == 0
    result = runner.invoke(args=["hub", "restore", str(tmp_path / "backup")])
    assert result.exit_code == 1
    assert "restore into an empty one" in result.output
    assert len(records(app)) == 1


@pytest.mark.slow
def test_a_damaged_backup_is_refused(
    app: Flask, import_rows, empty_hub: Flask, tmp_path: Path
) -> None:
    import_rows(ROWS[:1])
    destination = tmp_path / "backup"
    assert app.test_cli_runner().invoke(args=["hub", "backup", str(destination)]).exit_code == 0
    (copy,) = (destination / "files").glob("??/??/*")
    copy.write_bytes(b"not what was backed up")
    result = empty_hub.test_cli_runner().invoke(args=["hub", "restore", str(destination)])
    assert result.exit_code == 1
    assert "damaged" in result.output and copy.name in result.output
    assert records(empty_hub) == []


def test_backup_refuses_a_folder_that_is_not_empty(app: Flask, tmp_path: Path) -> None:
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "something").write_text("keep me")
    result = app.test_cli_runner().invoke(args=["hub", "backup", str(tmp_path / "backup")])
    assert result.exit_code == 1
    assert "is not empty" in result.output
