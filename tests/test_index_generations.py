"""Index generations: `reindex` builds a new folder beside the one in use and switches
to it atomically; searches and writes in every process follow without a restart, no
change is lost, and a broken index is found by `hub check` and rebuilt by `hub reindex`."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from whoosh import index as whoosh_index

from knowledge_hub import create_app
from knowledge_hub import search
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import PendingIndex
from knowledge_hub.models import Variant
from knowledge_hub.models.base import utcnow
from knowledge_hub.search import index as index_module
from knowledge_hub.search.index import BuildingWriter
from knowledge_hub.search.indexer import index_fields
from knowledge_hub.services import transaction
from tests.conftest import make_config

TOPICS = ["cooperatives", "solidarity finance", "social enterprises", "mutual insurance"]
#: One word found in one record only.
MARKS = ["amber", "basalt", "cobalt", "dolomite", "emerald", "feldspar", "garnet", "hematite"]
ROWS = [
    dict(
        ref=f"REC-{n}",
        title=f"Report {n} on {TOPICS[n % 4]}",
        type="report",
        date=f"20{10 + n}",
        organizations="ILO",
        content=f"Record {n} ({MARKS[n]}): {TOPICS[n % 4]}.",
    )
    for n in range(8)
]


def refs(client: FlaskClient, q: str) -> list[str]:
    response = client.get("/api/search", query_string={"q": q, "per_page": 100})
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted(r["ref"] for r in response.get_json()["results"])


def generation_folders(app: Flask) -> list[str]:
    return sorted(p.name for p in Path(app.config["INDEX_DIR"]).glob("gen-*"))


def pointer(app: Flask) -> str:
    return (Path(app.config["INDEX_DIR"]) / "CURRENT").read_text().strip()


def entries_per_version(app: Flask) -> Counter[int]:
    """How many index entries each language version has, read afresh from disk."""
    with app.app_context():
        ix = whoosh_index.open_dir(str(search.get_index().current_generation()))
        with ix.reader() as reader:
            return Counter(int(f["variant_id"]) for f in reader.all_stored_fields())


def version_ids(app: Flask) -> list[int]:
    with app.app_context():
        return sorted(db.session.scalars(select(Variant.id)))


@pytest.fixture
def second_worker(app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """Another application object on the same database and index folder, as a second
    server process (or `hub reindex` from a shell) would have."""
    other = create_app(make_config(tmp_path))
    yield other
    with other.app_context():
        search.get_index().close()
        db.session.remove()
        db.engine.dispose()


def test_reindex_switches_to_a_new_folder_and_old_searchers_go_on(
    app: Flask, client: FlaskClient, import_rows
) -> None:
    import_rows(ROWS[:3])
    first = generation_folders(app)
    assert len(first) == 1 and pointer(app) == first[0]
    with app.app_context():
        old_searcher = search.get_index().ix.searcher()
        try:
            assert search.reindex(processes=2) == 3
            second = generation_folders(app)
            assert pointer(app) != first[0] and pointer(app) in second
            # The retired folder stays for searchers still open on it...
            assert first[0] in second
            assert old_searcher.doc_count() == 3
            assert old_searcher.document(variant_id=str(version_ids(app)[0])) is not None
            # ...and the process's own searcher moves to the new one at its next search.
            assert refs(client, "cooperatives") == ["REC-0"]
            with search.get_index().searching() as (searcher, __):
                assert searcher is not old_searcher and searcher.doc_count() == 3
            assert search.get_index().current_generation().name == pointer(app)

            assert search.reindex(processes=1) == 3
        finally:
            old_searcher.close()
    # Two switches later only the current and the previous generation are left.
    third = generation_folders(app)
    assert first[0] not in third and len(third) == 2 and pointer(app) in third
    assert refs(client, "cooperatives") == ["REC-0"]


@pytest.mark.slow
def test_searching_goes_on_while_another_worker_reindexes(
    app: Flask, client: FlaskClient, second_worker: Flask, import_rows
) -> None:
    import_rows(ROWS)
    expected = refs(client, "solidarity")
    assert expected == ["REC-1", "REC-5"]
    building = threading.Event()
    searched_meanwhile = threading.Event()
    failures: list[BaseException] = []

    def hold_until_searched(done: int, total: int) -> None:
        if not building.is_set():
            building.set()
            assert searched_meanwhile.wait(30)

    def rebuild_twice() -> None:
        try:
            with second_worker.app_context():
                search.reindex(processes=2, progress=hold_until_searched)
                search.reindex(processes=1)
        except BaseException as e:  # noqa: BLE001  (reported by the main thread)
            failures.append(e)
            building.set()

    rebuilding = threading.Thread(target=rebuild_twice)
    rebuilding.start()
    try:
        assert building.wait(30)
        # Mid-build, the current generation still answers.
        for __ in range(3):
            assert refs(client, "solidarity") == expected
        searched_meanwhile.set()
        while rebuilding.is_alive():  # and through the switch
            assert refs(client, "solidarity") == expected
    finally:
        searched_meanwhile.set()
        rebuilding.join()
    assert not failures, failures
    assert refs(client, "solidarity") == expected
    assert entries_per_version(app) == Counter({vid: 1 for vid in version_ids(app)})


@pytest.mark.slow
@pytest.mark.parametrize("processes", [1, 2])
def test_changes_committed_during_a_reindex_are_neither_lost_nor_doubled(
    app: Flask, client: FlaskClient, second_worker: Flask, import_rows, monkeypatch, processes: int
) -> None:
    import_rows(ROWS)
    # Small batches, so that the rebuild reports progress (and is held) half way.
    monkeypatch.setattr(index_module, "BATCH", 2)
    ids = version_ids(app)
    half_way = threading.Event()
    changed = threading.Event()
    failures: list[BaseException] = []

    def hold_half_way(done: int, total: int) -> None:
        if 0 < done < total and not half_way.is_set():
            half_way.set()
            assert changed.wait(30)

    def rebuild() -> None:
        try:
            with second_worker.app_context():
                search.reindex(processes=processes, progress=hold_half_way)
        except BaseException as e:  # noqa: BLE001
            failures.append(e)
            half_way.set()

    rebuilding = threading.Thread(target=rebuild)
    rebuilding.start()
    try:
        assert half_way.wait(30)
        started = time.monotonic()
        with app.app_context():
            with transaction() as session:
                session.get(Variant, ids[0]).title = "Bakeries run as cooperatives"
                session.get(Variant, ids[-1]).title = "Fisheries run as cooperatives"
                session.delete(session.get(Variant, ids[3]))
            # The outbox waits for the rebuild; the request neither fails nor waits long.
            assert db.session.scalar(select(func.count(PendingIndex.id))) > 0
        report = import_rows(
            [
                dict(
                    ROWS[0],
                    ref="NEW-1",
                    title="Orchards run as cooperatives",
                    file="new-1.txt",
                    content="Orchards and cooperatives.",
                )
            ]
        )
        assert report.released == ["NEW-1"]
        assert time.monotonic() - started < 10  # text extraction included
    finally:
        changed.set()
        rebuilding.join()
    assert not failures, failures

    now = version_ids(app)
    assert ids[3] not in now and len(now) == len(ids)
    assert entries_per_version(app) == Counter({vid: 1 for vid in now})
    with app.app_context():
        assert db.session.scalar(select(func.count(PendingIndex.id))) == 0
        assert search.get_index().stale_entries(db.session) == {
            "missing": [],
            "stale": [],
            "orphaned": [],
        }
    assert refs(client, "bakeries") == ["REC-0"]
    assert refs(client, "fisheries") == ["REC-7"]
    assert refs(client, "orchards") == ["NEW-1"]
    assert refs(client, MARKS[3]) == []
    assert refs(client, MARKS[2]) == ["REC-2"]


def test_a_drain_that_meets_a_reindex_returns_at_once(
    app: Flask, second_worker: Flask, import_rows
) -> None:
    import_rows(ROWS[:2])
    building = threading.Event()
    drained = threading.Event()

    def hold(done: int, total: int) -> None:
        building.set()
        assert drained.wait(30)

    def rebuild() -> None:
        with second_worker.app_context():
            search.reindex(processes=1, progress=hold)

    rebuilding = threading.Thread(target=rebuild)
    rebuilding.start()
    try:
        assert building.wait(30)
        with app.app_context():
            db.session.add(PendingIndex(variant_id=version_ids(app)[0], queued_at=utcnow()))
            db.session.commit()
            started = time.monotonic()
            assert search.apply_pending() == 0
            assert time.monotonic() - started < 0.5
            assert db.session.scalar(select(func.count(PendingIndex.id))) == 1
    finally:
        drained.set()
        rebuilding.join()
    with app.app_context():
        # The rebuild applied what waited once it had switched.
        assert db.session.scalar(select(func.count(PendingIndex.id))) == 0


@pytest.mark.slow
def test_the_outbox_clears_only_the_rows_it_read(app: Flask, import_rows) -> None:
    """PostgreSQL hands out ids before commit, so a row with a smaller id than the ones
    read can become visible afterwards; it must stay for the next drain."""
    import_rows(ROWS[:1])
    with app.app_context():
        variant_id = version_ids(app)[0]
        queued = utcnow()
        db.session.execute(
            insert(PendingIndex),
            [
                dict(id=1000, variant_id=variant_id, queued_at=queued),
                dict(id=1002, variant_id=variant_id, queued_at=queued),
            ],
        )
        db.session.commit()
        late: list[int] = []

        @event.listens_for(db.session, "do_orm_execute")
        def a_late_row_appears(state) -> None:  # noqa: ANN001
            if (
                state.is_select
                and not late
                and Variant in [d["entity"] for d in state.statement.column_descriptions]
            ):
                late.append(1001)
                state.session.execute(
                    insert(PendingIndex).values(id=1001, variant_id=variant_id, queued_at=queued)
                )

        try:
            # Two rounds: the late row is applied by a round that read it, not cleared
            # unread by the first (which read 1000 and 1002, and 1001 was not there).
            assert search.apply_pending() == 2
        finally:
            event.remove(db.session, "do_orm_execute", a_late_row_appears)
        assert late == [1001]
        assert db.session.scalar(select(func.count(PendingIndex.id))) == 0


def _current_folder(app: Flask) -> Path:
    with app.app_context():
        return search.get_index().current_generation()


def _segment_file(app: Flask) -> Path:
    (segment,) = _current_folder(app).glob("*.seg")
    return segment


def truncate_segment(app: Flask) -> None:
    # Replaced, not cut in place: a file cut under a live memory map kills the process
    # that maps it (SIGBUS), which no code can catch.
    segment = _segment_file(app)
    data = segment.read_bytes()
    broken = segment.with_suffix(".broken")
    broken.write_bytes(data[: len(data) // 2])
    os.replace(broken, segment)


def garble_segment(app: Flask) -> None:
    segment = _segment_file(app)
    size = segment.stat().st_size
    with open(segment, "r+b") as f:
        f.seek(size // 8)
        f.write(b"\xff" * (size * 3 // 4))


def garble_toc(app: Flask) -> None:
    (toc,) = _current_folder(app).glob("_MAIN_*.toc")
    toc.write_bytes(b"\x00garbage" * 40)


def remove_generation(app: Flask) -> None:
    shutil.rmtree(_current_folder(app))


@pytest.mark.slow
@pytest.mark.parametrize(
    "damage", [truncate_segment, garble_segment, garble_toc, remove_generation]
)
def test_a_broken_index_is_found_by_check_and_rebuilt_by_reindex(
    app: Flask, client: FlaskClient, import_rows, damage
) -> None:
    import_rows(ROWS)
    assert refs(client, "cooperatives") == ["REC-0", "REC-4"]
    damage(app)
    runner = app.test_cli_runner()
    checked = runner.invoke(args=["hub", "check"])
    assert checked.exit_code == 1, checked.output
    assert "index unreadable:" in checked.output
    assert "hub reindex" in checked.output
    assert "Problems found." in checked.output

    rebuilt = runner.invoke(args=["hub", "reindex", "--processes", "2"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "Indexed 8 language versions." in rebuilt.output
    checked = runner.invoke(args=["hub", "check"])
    assert checked.exit_code == 0, checked.output
    assert "Index: 0 missing, 0 stale, 0 orphaned" in checked.output
    # The running application moves to the rebuilt index without a restart.
    assert refs(client, "cooperatives") == ["REC-0", "REC-4"]


def test_a_search_on_a_missing_generation_raises_a_clear_error(
    app: Flask, client: FlaskClient, import_rows
) -> None:
    import_rows(ROWS[:1])
    remove_generation(app)
    response = client.get("/api/search", query_string={"q": "cooperatives"})
    assert response.status_code == 500
    assert response.get_json()["error"] == "server_error"
    assert "Traceback" not in response.get_data(as_text=True)
    with app.app_context():
        index = search.get_index()
        with pytest.raises(search.IndexUnreadable, match="hub reindex"):
            with index.searching():
                pass
        index.close()
        with pytest.raises(search.IndexUnreadable, match="hub reindex"):
            with index.searching():
                pass


def test_an_index_made_before_generations_still_opens_and_is_moved_by_reindex(
    app: Flask, client: FlaskClient, import_rows
) -> None:
    import_rows(ROWS[:2])
    index_dir = Path(app.config["INDEX_DIR"])
    with app.app_context():
        search.get_index().close()
    # The layout of an install made before generations: the index directly in INDEX_DIR.
    (folder,) = index_dir.glob("gen-*")
    for path in folder.iterdir():
        os.replace(path, index_dir / path.name)
    folder.rmdir()
    (index_dir / "CURRENT").unlink()

    assert refs(client, "cooperatives") == ["REC-0"]
    with app.app_context(), transaction() as session:
        session.scalar(select(Variant).order_by(Variant.id)).title = "Bakeries run as cooperatives"
    assert refs(client, "bakeries") == ["REC-0"]
    assert not (index_dir / "CURRENT").exists() and generation_folders(app) == []

    runner = app.test_cli_runner()
    assert runner.invoke(args=["hub", "check"]).exit_code == 0
    assert runner.invoke(args=["hub", "reindex"]).exit_code == 0
    assert pointer(app) in generation_folders(app)
    assert any(index_dir.glob("_MAIN_*.toc")), "the retired index stays until the next switch"
    assert refs(client, "bakeries") == ["REC-0"]
    assert runner.invoke(args=["hub", "reindex"]).exit_code == 0
    assert not any(index_dir.glob("_MAIN_*.toc")) and not any(index_dir.glob("MAIN_*.seg"))
    assert refs(client, "bakeries") == ["REC-0"]
    assert runner.invoke(args=["hub", "check"]).exit_code == 0


@pytest.mark.slow
def test_the_building_writer_writes_what_whoosh_writes(
    app: Flask, import_rows, tmp_path: Path
) -> None:
    import_rows(
        [
            *ROWS[:4],
            dict(
                ref="FR-1",
                language="fr",
                title="Les coopératives",
                file="fr.txt",
                content="Les coopératives créent du travail décent dans l'économie sociale.",
            ),
            dict(
                ref="ZH-1",
                language="zh",
                title="社会团结经济",
                file="zh.txt",
                content="社会团结经济促进体面劳动和合作社的发展。",
            ),
            # Diacritics and a tatweel standing alone: tokens the Arabic filter drops.
            dict(
                ref="AR-1",
                language="ar",
                title="الاقتصاد الاجتماعي والتضامني",
                file="ar.txt",
                content=(
                    "يعزز الاقتصادُ الاجتماعي ً ـ والتضامني العمل اللائق والتعاونيات والتعاونيات."
                ),
            ),
            dict(
                ref="ES-1",
                language="es",
                title="Economía social y solidaria",
                file="es.txt",
                content="La economía social y solidaria crea empleo. Economía, economia, ECONOMÍA.",
            ),
            dict(
                ref="RU-1",
                language="ru",
                title="Солидарная экономика",
                file="ru.txt",
                content="Её ещё ёлка: солидарная экономика и кооперативы, кооперативы.",
            ),
            dict(
                ref="PT-1",
                language="pt",
                title="Economia solidária",
                file="pt.txt",
                content="A economia solidária e as cooperativas; ＦＵＬＬ width ﬁ ligature.",
            ),
            # Stop words first: positions count on from the first word kept.
            dict(
                ref="EN-STOP",
                title="The and of cooperatives",
                file="stop.txt",
                content="The of and a an cooperatives the cooperatives 2030 of decent work work.",
            ),
            dict(
                ref="MEM-1",
                access="members",
                title="Members' guide",
                file="m.txt",
                content="A guide for members only, on cooperatives.",
            ),
        ]
    )
    with app.app_context():
        index = search.get_index()
        entries = [index_fields(v, index.languages) for v in index_module.each_variant(db.session)]
        readers = {}
        for name in ("whoosh", "building"):
            (tmp_path / name).mkdir()
            ix = whoosh_index.create_in(str(tmp_path / name), index.schema)
            if name == "whoosh":
                writer = ix.writer()
                for fields in entries:
                    writer.add_document(**fields)
                writer.commit()
            else:
                # A memory limit this small writes a run file after every entry, so the
                # merging of runs is compared too; so are the terms it finds itself.
                building = BuildingWriter(ix, limitmb=0)
                building._postings_limit = 1
                for fields in entries:
                    building.add_document(**fields)
                segment = building._finalize_segment()
                finishing = ix.writer()
                finishing._close_segment()
                finishing._commit_toc([segment])
                finishing._finish()
            readers[name] = ix.reader()
        try:
            described = {
                name: _everything_in(reader, index.schema) for name, reader in readers.items()
            }
        finally:
            for reader in readers.values():
                reader.close()
    assert described["building"] == described["whoosh"]
    assert len(described["whoosh"]["stored"]) == 12


def _everything_in(reader, schema) -> dict:  # noqa: ANN001
    terms = []
    for fieldname, text in reader.all_terms():
        info = reader.term_info(fieldname, text)
        matcher = reader.postings(fieldname, text)
        postings = []
        while matcher.is_active():
            postings.append(
                (
                    matcher.id(),
                    matcher.weight(),
                    matcher.value(),
                    matcher.block_min_length(),
                    matcher.block_max_length(),
                    matcher.block_max_weight(),
                )
            )
            matcher.next()
        terms.append(
            (
                fieldname,
                text,
                info.weight(),
                info.doc_frequency(),
                info.min_length(),
                info.max_length(),
                info.max_weight(),
                info.min_id(),
                info.max_id(),
                postings,
            )
        )
    size = reader.doc_count_all()
    return {
        "terms": terms,
        "stored": list(reader.all_stored_fields()),
        "lengths": {
            name: (
                [reader.doc_field_length(n, name) for n in range(size)],
                reader.field_length(name),
            )
            for name in schema.names()
            if schema[name].scorable
        },
        "columns": {
            name: list(reader.column_reader(name))
            for name in schema.names()
            if reader.has_column(name)
        },
    }


def test_a_second_reindex_waits_for_the_first(
    app: Flask, second_worker: Flask, import_rows
) -> None:
    import_rows(ROWS[:2])
    building = threading.Event()
    release = threading.Event()

    def hold(done: int, total: int) -> None:
        building.set()
        assert release.wait(30)

    def first() -> None:
        with second_worker.app_context():
            search.reindex(processes=1, progress=hold)

    rebuilding = threading.Thread(target=first)
    rebuilding.start()
    try:
        assert building.wait(30)
        threading.Timer(0.3, release.set).start()
        with app.app_context():
            assert search.reindex(processes=1) == 2
            assert release.is_set()
    finally:
        release.set()
        rebuilding.join()
    assert len(generation_folders(app)) == 2
    assert entries_per_version(app) == Counter({vid: 1 for vid in version_ids(app)})


def scored(client: FlaskClient, q: str) -> list[tuple[str, float]]:
    response = client.get("/api/search", query_string={"q": q, "per_page": 100})
    return [(r["ref"], r["score"]) for r in response.get_json()["results"]]


@pytest.mark.slow
def test_a_rebuild_with_as_many_processes_gives_the_same_scores(
    app: Flask, client: FlaskClient, import_rows, monkeypatch
) -> None:
    """Whoosh's scores depend on which segment holds which entry, so the processes'
    shares are dealt out the same way every time."""
    import_rows(ROWS)
    monkeypatch.setattr(index_module, "BATCH", 2)  # four shares for two processes
    queries = ["cooperatives finance", "social insurance report", "record"]
    with app.app_context():
        search.reindex(processes=2)
        with search.get_index().searching() as (searcher, __):
            assert len(searcher.reader().leaf_readers()) == 2
    first = [scored(client, q) for q in queries]
    with app.app_context():
        search.reindex(processes=2)
    assert [scored(client, q) for q in queries] == first
    assert all(first)


def test_reindex_with_no_versions_makes_an_empty_generation(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        assert search.reindex(processes=2) == 0
        assert db.session.scalar(select(func.count(Document.id))) == 0
    assert refs(client, "cooperatives") == []
    assert app.test_cli_runner().invoke(args=["hub", "check"]).exit_code == 0


def test_writers_waiting_in_two_threads_of_one_process_each_find_the_index_busy(
    app: Flask, import_rows
) -> None:
    """A request and the outbox drainer of one process wait for the same lock: each
    is told the index is busy, and neither one's failure touches the other's files."""
    import_rows(ROWS[:1])
    with app.app_context():
        holder = search.get_index().writer()  # another writer holds the lock
    outcomes: list[str] = []

    def wait_for_the_lock() -> None:
        with app.app_context():
            try:
                search.get_index().writer().cancel()
                outcomes.append("written")
            except Exception as e:
                outcomes.append(type(e).__name__)

    first = threading.Thread(target=wait_for_the_lock)
    second = threading.Thread(target=wait_for_the_lock)
    try:
        first.start()
        time.sleep(app.config["INDEX_LOCK_TIMEOUT"] / 4)  # the second waits while the first does
        second.start()
        first.join(30)
        second.join(30)
    finally:
        holder.cancel()
    assert outcomes == ["IndexBusy", "IndexBusy"]
    with app.app_context():
        search.get_index().writer().cancel()  # the lock is free again, the index readable
