"""The index follows the database through the outbox, and can always be rebuilt from it."""

from __future__ import annotations

import shutil

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from knowledge_hub import search
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import PendingIndex
from knowledge_hub.models import Variant
from knowledge_hub.services import deferred_indexing
from knowledge_hub.services import documents
from knowledge_hub.services import transaction
from knowledge_hub.services.users import system_user

ROW = {
    "ref": "PB-2023-01",
    "language": "en",
    "title": "Policy brief on cooperatives and decent work",
    "type": "policy-brief",
    "date": "2023-05",
    "organizations": "ILO",
    "content": "Cooperatives create decent work in the informal economy of Senegal.",
}


def found_refs(client: FlaskClient, q: str) -> list[str]:
    response = client.get("/api/search", query_string={"q": q})
    assert response.status_code == 200
    return [r["ref"] for r in response.get_json()["results"]]


def pending_count() -> int:
    return db.session.scalar(select(func.count(PendingIndex.id))) or 0


@pytest.mark.slow
def test_a_change_queues_its_versions_in_the_same_transaction(app: Flask, import_rows) -> None:
    with app.app_context():
        with deferred_indexing():
            import_rows([ROW])
            # Committed, not yet drained: the outbox holds the work.
            assert pending_count() > 0
        assert pending_count() == 0


def test_a_rolled_back_change_leaves_nothing_in_the_outbox(app: Flask) -> None:
    with app.app_context():
        actor = system_user()
        with pytest.raises(RuntimeError), transaction():
            documents.create_document(
                actor, documents.RecordFields(ref="X-1", kind="archive"), "en"
            )
            raise RuntimeError("the use case failed half way")
        assert db.session.scalar(select(Document).where(Document.ref == "X-1")) is None
        assert pending_count() == 0


def test_a_crash_between_commit_and_index_write_loses_nothing(
    app: Flask, client: FlaskClient, import_rows
) -> None:
    app.config["INDEX_LOCK_TIMEOUT"] = 0.05
    with app.app_context():
        index = search.get_index()
        index.lock_timeout = 0.05
        blocker = index.ix.writer()  # another process holds the index lock
        try:
            report = import_rows([ROW])
            assert report.released == ["PB-2023-01"]
            assert pending_count() > 0, "the committed change waits in the outbox"
        finally:
            blocker.cancel()
    assert found_refs(client, "cooperatives") == []
    with app.app_context():
        assert search.apply_pending() > 0
        assert pending_count() == 0
    assert found_refs(client, "cooperatives") == ["PB-2023-01"]


def test_reindex_applies_what_the_outbox_held(app: Flask, client: FlaskClient, import_rows) -> None:
    with app.app_context():
        index = search.get_index()
        index.lock_timeout = 0.05
        blocker = index.ix.writer()
        try:
            import_rows([ROW])
        finally:
            blocker.cancel()
        assert search.reindex() == 1
        assert pending_count() == 0
    assert found_refs(client, "senegal") == ["PB-2023-01"]


def test_draining_twice_does_no_harm(app: Flask, client: FlaskClient, import_rows) -> None:
    import_rows([ROW])
    with app.app_context():
        db.session.add(PendingIndex(variant_id=db.session.scalar(select(Variant.id))))
        db.session.commit()
        assert search.apply_pending() == 1
        with search.get_index().searching() as (searcher, __):
            assert searcher.doc_count() == 1
    assert found_refs(client, "cooperatives") == ["PB-2023-01"]


def test_an_outbox_id_is_never_handed_out_twice(app: Flask, import_rows) -> None:
    # Two drains may read the same row; the later one deletes it by id after the other
    # already has. Had that id been handed out again meanwhile (SQLite reuses the largest
    # rowid once it is deleted), the late delete would drop a change no drain applied.
    import_rows([ROW])
    with app.app_context():
        variant_id = db.session.scalar(select(Variant.id))
        read_by_two_drains = PendingIndex(variant_id=variant_id)
        db.session.add(read_by_two_drains)
        db.session.commit()
        first_id = read_by_two_drains.id
        db.session.execute(delete(PendingIndex).where(PendingIndex.id == first_id))
        db.session.commit()
        newer_change = PendingIndex(variant_id=variant_id)
        db.session.add(newer_change)
        db.session.commit()
        assert newer_change.id != first_id
        db.session.execute(delete(PendingIndex).where(PendingIndex.id == first_id))
        db.session.commit()
        assert pending_count() == 1, "the late delete dropped the newer change"


def test_editing_a_title_reaches_the_index(app: Flask, client: FlaskClient, import_rows) -> None:
    import_rows([ROW])
    with app.app_context(), transaction():
        variant = db.session.scalar(select(Variant))
        variant.title = "Brief on mutual health insurance"
    assert found_refs(client, "insurance") == ["PB-2023-01"]


def test_deleting_a_version_removes_its_entry(app: Flask, client: FlaskClient, import_rows) -> None:
    import_rows(
        [
            ROW,
            dict(
                ROW,
                language="fr",
                title="Note sur les coopératives",
                file="fr.txt",
                content="Les coopératives créent du travail décent.",
            ),
        ]
    )
    assert found_refs(client, "coopératives") == ["PB-2023-01"]
    with app.app_context(), transaction() as session:
        session.delete(session.scalar(select(Variant).where(Variant.language == "fr")))
    assert found_refs(client, "coopératives") == []
    assert found_refs(client, "cooperatives") == ["PB-2023-01"]


def test_reindex_rebuilds_a_lost_index(app: Flask, client: FlaskClient, import_rows) -> None:
    import_rows([ROW])
    with app.app_context():
        search.get_index().close()
        shutil.rmtree(app.config["INDEX_DIR"])
        assert found_refs(client, "cooperatives") == []
        assert search.reindex() == 1
    assert found_refs(client, "cooperatives") == ["PB-2023-01"]


def test_stale_entries_are_found(app: Flask, import_rows) -> None:
    import_rows([ROW])
    with app.app_context():
        index = search.get_index()
        assert index.stale_entries(db.session) == {"missing": [], "stale": [], "orphaned": []}
        # A bulk UPDATE bypasses the session's change tracking, so nothing is queued.
        db.session.execute(update(Variant).values(title="Changed behind the index's back"))
        db.session.commit()
        variant_id = db.session.scalar(select(Variant.id))
        assert index.stale_entries(db.session)["stale"] == [variant_id]
