"""`hub check`: fixity of the stored files, the index against the database, the store."""

from __future__ import annotations

import io
import os
import time

import pytest
from flask import Flask
from sqlalchemy import select

from knowledge_hub import search
from knowledge_hub.extensions import db
from knowledge_hub.models import StoredFile
from knowledge_hub.models import Variant
from knowledge_hub.models.fixity import FileCheck
from knowledge_hub.models.fixity import FixityOutcome
from knowledge_hub.services import fixity
from knowledge_hub.services.documents import blob_store
from knowledge_hub.storage import TEMP_PREFIX
from tests.conftest import shared_data
from tests.conftest import sign_in
from tests.test_extraction_pdf import memory_bomb_pdf

ROWS = [
    dict(
        ref="MIN-41",
        file="minutes-41.txt",
        title="Minutes of the 41st meeting",
        kind="archive",
        content="Minutes of the 41st meeting of the Task Force, held in Geneva.",
    ),
    dict(
        ref="MIN-42",
        file="minutes-42.txt",
        title="Minutes of the 42nd meeting",
        kind="archive",
        content="Minutes of the 42nd meeting of the Task Force, held online.",
    ),
    dict(
        ref="MIN-43",
        file="minutes-43.txt",
        title="Minutes of the 43rd meeting",
        kind="archive",
        content="Minutes of the 43rd meeting of the Task Force, held in New York.",
    ),
]


def stored(app: Flask) -> dict[str, str]:
    """The sha256 of each record's file, by reference."""
    with app.app_context():
        rows = db.session.execute(
            select(StoredFile.original_name, StoredFile.sha256).order_by(StoredFile.id)
        )
        return {name.split(".")[0].replace("minutes", "MIN"): sha256 for name, sha256 in rows}


def age(path: os.PathLike) -> None:
    """Make a file look an hour old, past the grace given to uploads in progress."""
    old = time.time() - 3600
    os.utime(path, (old, old))


def test_a_healthy_hub_checks_clean(app: Flask, import_rows) -> None:
    import_rows(ROWS)
    result = app.test_cli_runner().invoke(args=["hub", "check"])
    assert result.exit_code == 0, result.output
    assert "Files: 3 checked, 3 match, 0 with problems, 0 not reached." in result.output
    assert "Text: 0 files without text" in result.output
    assert "not extracted in full" not in result.output
    assert "No problems found." in result.output


@pytest.mark.slow
def test_files_without_text_are_listed_by_reason_and_do_not_fail_the_check(
    app: Flask, import_rows, tmp_path
) -> None:
    long_pdf = memory_bomb_pdf(tmp_path / "long.pdf")
    app.config["EXTRACTION_MEMORY_MB"] = 48
    real = shared_data("realfiles")
    files = {
        "LONG": ("long.pdf", long_pdf),
        "LOCKED": ("locked.pdf", real / "pypdf__libreoffice-writer-password.pdf"),
        "SEALED": ("sealed.odt", real / "tika__testODTEncrypted.odt"),
        "SCAN": ("scan.pdf", shared_data("files", "pdf-ocr_text.pdf")),
        "PHOTO": ("photo.png", shared_data("files", "png-raw_text.png")),
        "BROKEN": ("broken.pdf", real / "ocrmypdf__invalid.pdf"),
    }
    import_rows(
        [
            dict(ref=ref, file=name, title=ref, kind="archive", content=path.read_bytes())
            for ref, (name, path) in files.items()
        ]
        + ROWS[:1]
    )
    result = app.test_cli_runner().invoke(args=["hub", "check"])
    assert result.exit_code == 0, result.output
    listing = result.output.split("Files: ")[0].splitlines()
    assert listing == [
        "Files whose text was not extracted in full (not a fixity problem):",
        "  extraction error (1):",
        "    BROKEN [en] broken.pdf: "
        "The PDF is damaged or truncated: its structure cannot be read.",
        "  needs OCR (2):",
        "    PHOTO [en] photo.png: An image has no text layer, and OCR is not available.",
        "    SCAN [en] scan.pdf: "
        "No text layer: the PDF looks like a scanned image, and OCR is not available.",
        "  password-protected (2):",
        "    LOCKED [en] locked.pdf: The PDF is protected by a password, so its text cannot "
        "be read: upload a copy without the password.",
        "    SEALED [en] sealed.odt: The OpenDocument text is protected by a password, so its "
        "text cannot be read: upload an unprotected copy.",
        "  extracted in part (1):",
        "    LONG [en] long.pdf: Extraction ran out of memory (limit 48 MB). "
        "Only pages 1\u20133 of 4 were read; page 4 is missing.",
    ]
    assert (
        "Text: 5 files without text (extraction error: 1, needs OCR: 2, "
        "password-protected: 2), 1 extracted in part." in result.output
    )
    assert "Files: 7 checked, 7 match, 0 with problems, 0 not reached." in result.output
    assert result.output.rstrip().endswith("No problems found.")


def test_a_corrupted_and_a_deleted_file_are_named_and_fail_the_check(
    app: Flask, import_rows
) -> None:
    import_rows(ROWS)
    sha = stored(app)
    store_path = blob_store_path(app)
    (store_path(sha["MIN-41"])).write_bytes(b"Minutes of the 41st meeting, silently changed.")
    store_path(sha["MIN-42"]).unlink()

    result = app.test_cli_runner().invoke(args=["hub", "check"])
    assert result.exit_code == 1
    assert f"mismatch: {sha['MIN-41']} (minutes-41.txt, MIN-41 [en])" in result.output
    assert f"missing: {sha['MIN-42']} (minutes-42.txt, MIN-42 [en])" in result.output
    assert sha["MIN-43"] not in result.output
    assert "Problems found." in result.output
    with app.app_context():
        outcomes = dict(db.session.execute(select(FileCheck.sha256, FileCheck.outcome)).all())
    assert outcomes == {
        sha["MIN-41"]: FixityOutcome.MISMATCH,
        sha["MIN-42"]: FixityOutcome.MISSING,
        sha["MIN-43"]: FixityOutcome.MATCH,
    }


def blob_store_path(app: Flask):
    with app.app_context():
        store = blob_store()
    return store.path


def test_the_check_resumes_with_the_oldest_checked_files(app: Flask, import_rows) -> None:
    import_rows(ROWS)
    sha = stored(app)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["hub", "check", "--limit", "2"])
    assert first.exit_code == 0, first.output
    assert "Files: 2 checked, 2 match, 0 with problems, 1 not reached." in first.output
    with app.app_context():
        checked = set(db.session.scalars(select(FileCheck.sha256)))
        assert len(checked) == 2
        (never,) = set(sha.values()) - checked
        # Each outcome was committed as it was known: the next run starts with the file
        # never checked, then the one checked longest ago.
        outcomes, remaining = fixity.check_files(limit=2)
        assert [o.sha256 for o in outcomes][0] == never
        assert remaining == 1
        first_checked = db.session.scalars(
            select(FileCheck.sha256).order_by(FileCheck.checked_at, FileCheck.id)
        ).first()
        outcomes, __ = fixity.check_files(limit=1)
        assert outcomes[0].sha256 == first_checked
    # A problem found earlier still fails a limited run that does not reach it.
    blob_store_path(app)(sha["MIN-43"]).unlink()
    with app.app_context():
        fixity.check_files()
    limited = runner.invoke(args=["hub", "check", "--limit", "0"])
    assert limited.exit_code == 1
    assert f"missing: {sha['MIN-43']}" in limited.output


def test_max_seconds_stops_the_run_after_the_file_in_hand(app: Flask, import_rows) -> None:
    import_rows(ROWS)
    ticks = iter(range(0, 1000, 10))
    with app.app_context():
        outcomes, remaining = fixity.check_files(max_seconds=5, clock=lambda: next(ticks))
    assert len(outcomes) == 1 and remaining == 2
    result = app.test_cli_runner().invoke(args=["hub", "check", "--max-seconds", "600"])
    assert result.exit_code == 0 and "3 checked" in result.output


def test_orphan_blobs_and_leftover_temp_files_are_reported(app: Flask, import_rows) -> None:
    import_rows(ROWS[:1])
    with app.app_context():
        store = blob_store()
        orphan = store.put(io.BytesIO(b"bytes no record refers to")).sha256
        temp = store.root / f"{TEMP_PREFIX}interrupted"
        temp.write_bytes(b"half an upload")
    runner = app.test_cli_runner()
    # Fresh ones may belong to an upload in progress.
    assert runner.invoke(args=["hub", "check"]).exit_code == 0
    age(store.path(orphan))
    age(temp)
    result = runner.invoke(args=["hub", "check"])
    assert result.exit_code == 1
    assert f"orphan blob: {orphan}" in result.output
    assert f"leftover temporary file: {temp}" in result.output
    assert "1 orphan blobs, 1 leftover temporary files" in result.output


def test_index_drift_is_reported_both_ways(app: Flask, import_rows) -> None:
    import_rows(ROWS)
    with app.app_context():
        variant_ids = sorted(db.session.scalars(select(Variant.id)))
        index = search.get_index()
        with index.writing() as writer:
            writer.delete_by_term("variant_id", str(variant_ids[0]))
            writer.add_document(variant_id="9999", document_id=9999, stamp="gone")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["hub", "check"])
    assert result.exit_code == 1
    assert f"index missing: language version {variant_ids[0]}" in result.output
    assert "index orphaned: language version 9999" in result.output
    assert "Index: 1 missing, 0 stale, 1 orphaned" in result.output
    assert runner.invoke(args=["hub", "reindex"]).exit_code == 0
    assert runner.invoke(args=["hub", "check"]).exit_code == 0


def test_an_unreadable_index_fails_the_check_and_the_files_are_still_checked(
    app: Flask, import_rows
) -> None:
    import_rows(ROWS)
    with app.app_context():
        folder = search.get_index().current_generation()
    for toc in folder.glob("_MAIN_*.toc"):
        toc.write_bytes(b"not a table of contents")
    result = app.test_cli_runner().invoke(args=["hub", "check"])
    assert result.exit_code == 1
    assert f"index unreadable: The search index in {folder} cannot be read" in result.output
    assert "Index: unreadable, rebuild it with `hub reindex`; 0 waiting in the outbox." in (
        result.output
    )
    assert "Files: 3 checked, 3 match, 0 with problems, 0 not reached." in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_staff_see_the_report_with_the_problems_first(app: Flask, import_rows, make_user) -> None:
    import_rows(ROWS)
    sha = stored(app)
    blob_store_path(app)(sha["MIN-42"]).unlink()
    assert app.test_cli_runner().invoke(args=["hub", "check"]).exit_code == 1
    client = app.test_client()
    assert client.get("/staff/fixity/").status_code == 302  # sign in first
    sign_in(client, make_user("staff"))
    page = client.get("/staff/fixity/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.index(sha["MIN-42"]) < html.index(sha["MIN-41"])
    assert "minutes-42.txt, MIN-42 [en]" in html
