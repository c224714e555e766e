"""Crash safety: an import killed with SIGKILL at each step of ingest, and in the middle
of a bulk import, then run again, loses no committed record, shows nothing half-made,
makes no duplicate and leaves no temporary file; `hub check` is clean afterwards."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub import search
from knowledge_hub.access import visible_levels
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import PendingIndex
from knowledge_hub.models import StoredFile
from knowledge_hub.models import Variant
from knowledge_hub.search import SearchRequest
from knowledge_hub.storage import TEMP_PREFIX
from tests.conftest import shared_data
from tests.conftest import write_manifest
from tests.crashing import STEPS
from tests.server import PROJECT_ROOT
from tests.server import environment
from tests.server import run_hub

pytestmark = pytest.mark.slow

#: Real files of other types among the plain-text ones.
REAL_FILES = (
    "pdf-raw_text.pdf",
    "pdf-two_column.pdf",
    "docx-paragraphs_and_tables.docx",
    "odt-raw_text.odt",
    "html-raw_text.html",
)


def write_import(tmp_path: Path, count: int) -> tuple[Path, Path]:
    """A folder of `count` files, one record each, and its manifest."""
    folder = tmp_path / "incoming"
    folder.mkdir()
    rows = []
    for n in range(count):
        if n < len(REAL_FILES):
            name = REAL_FILES[n]
            shutil.copy(shared_data("files", name), folder / name)
        else:
            name = f"minutes-{n:03d}.txt"
            (folder / name).write_text(
                f"Minutes of meeting {n} of the Task Force on social and solidarity "
                f"economy: the tamarind cooperative reported on item {n}.\n",
                encoding="utf-8",
            )
        rows.append(
            {
                "ref": f"CRASH-{n:03d}",
                "file": name,
                "language": "en",
                "kind": "archive",
                "title": f"Meeting {n}: tamarind cooperative",
            }
        )
    return folder, write_manifest(tmp_path / "manifest.csv", rows)


def import_args(folder: Path, manifest: Path) -> list[str]:
    return ["hub", "import", str(folder), "--manifest", str(manifest), "--release"]


def prepare(app: Flask) -> None:
    """Create the index, then let go of the database, so the commands own them."""
    with app.app_context():
        __ = search.get_index().ix  # opening it makes the index folder
        search.get_index().close()
        db.session.remove()
        db.engine.dispose()


def assert_nothing_half_made(app: Flask) -> None:
    """Every record holds a version with its file, and the public sees only released ones."""
    with app.app_context():
        bare = db.session.scalars(
            select(Document.ref).where(~Document.variants.any(Variant.files.any()))
        ).all()
        assert bare == [], f"records without a stored file: {bare}"
        found = search.search(
            search.get_index(), visible_levels(None), SearchRequest(q="tamarind", per_page=100)
        )
        released = set(db.session.scalars(select(Document.id).where(Document.status == "released")))
        assert {hit.document_id for hit in found.hits} <= released
        search.get_index().close()
        db.session.remove()
        db.engine.dispose()


def assert_complete(app: Flask, count: int) -> None:
    """Exactly `count` released records, one version and one file each, all searchable."""
    with app.app_context():
        refs = db.session.scalars(select(Document.ref)).all()
        assert len(refs) == count == len(set(refs))
        assert db.session.scalar(select(func.count()).select_from(Variant)) == count
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == count
        statuses = set(db.session.scalars(select(Document.status)))
        assert {s.value for s in statuses} == {"released"}
        assert db.session.scalar(select(func.count()).select_from(PendingIndex)) == 0
        found = search.search(search.get_index(), visible_levels(None), SearchRequest(q="tamarind"))
        assert found.total == count
        search.get_index().close()
        db.session.remove()
        db.engine.dispose()
    upload_dir = Path(app.config["UPLOAD_DIR"])
    assert list(upload_dir.glob(TEMP_PREFIX + "*")) == []


def assert_check_is_clean(app: Flask) -> None:
    check = run_hub(app.config, "hub", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No problems found." in check.stdout


#: The how-manieth time each step is reached when the process is killed: the third file
#: (two records already in), or the one index commit of the import.
NTH = {
    "blob-write": 3,
    "after-blob-write": 3,
    "before-commit": 3,
    "after-commit": 3,
    "index-commit": 1,
}


#: What each kill leaves behind, at least, for the next run to mend; the records
#: committed before it also wait in the index outbox (a bulk import indexes at its end).
LEFT_BEHIND = {
    "blob-write": {"temp file"},
    "after-blob-write": {"unused blob"},
    "before-commit": {"unused blob"},
    "after-commit": {"queued for the index"},
    "index-commit": {"queued for the index"},
}


def what_the_crash_left(app: Flask) -> set[str]:
    upload_dir = Path(app.config["UPLOAD_DIR"])
    left = set()
    if list(upload_dir.glob(TEMP_PREFIX + "*")):
        left.add("temp file")
    with app.app_context():
        used = set(db.session.scalars(select(StoredFile.sha256)))
        if any(p.name not in used for p in upload_dir.glob("??/??/*")):
            left.add("unused blob")
        if db.session.scalar(select(func.count()).select_from(PendingIndex)):
            left.add("queued for the index")
        db.session.remove()
        db.engine.dispose()
    return left


@pytest.mark.parametrize("step", STEPS)
def test_an_import_killed_at_each_step_of_ingest_loses_nothing(
    app: Flask, tmp_path: Path, step: str
) -> None:
    count = 6
    folder, manifest = write_import(tmp_path, count)
    prepare(app)
    crashed = run_hub(
        app.config, step, str(NTH[step]), *import_args(folder, manifest), module="tests.crashing"
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    assert LEFT_BEHIND[step] <= what_the_crash_left(app)
    assert_nothing_half_made(app)

    again = run_hub(app.config, *import_args(folder, manifest))
    assert again.returncode == 0, again.stdout + again.stderr
    assert_complete(app, count)
    assert_check_is_clean(app)


def test_an_import_of_300_files_killed_midway_then_run_again_gives_exactly_300(
    app: Flask, tmp_path: Path
) -> None:
    count = 300
    folder, manifest = write_import(tmp_path, count)
    prepare(app)
    importing = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", *import_args(folder, manifest)],
        cwd=PROJECT_ROOT,
        env=environment(app.config),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with app.app_context():
            deadline = time.monotonic() + 300
            while (done := db.session.scalar(select(func.count()).select_from(Document))) < 100:
                db.session.rollback()
                assert importing.poll() is None, "the import ended before it was killed"
                assert time.monotonic() < deadline, f"only {done} records after 300 s"
                time.sleep(0.05)
            db.session.remove()
            db.engine.dispose()
    finally:
        importing.send_signal(signal.SIGKILL)
        importing.wait()
    assert importing.returncode == -signal.SIGKILL
    assert_nothing_half_made(app)

    again = run_hub(app.config, *import_args(folder, manifest))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 errors" in again.stdout
    assert_complete(app, count)
    assert_check_is_clean(app)
