"""`hub reextract`: the current extractor run again over stored files, the texts updated in
the database, the index following through the outbox, and nothing of the files touched."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub import create_app
from knowledge_hub import search
from knowledge_hub.extensions import db
from knowledge_hub.models import AuditEvent
from knowledge_hub.models import PendingIndex
from knowledge_hub.models import ReextractionRun
from knowledge_hub.models import StoredFile
from knowledge_hub.models.fixity import FileCheck
from knowledge_hub.services import Invalid
from knowledge_hub.services import NotAllowed
from knowledge_hub.services import texts
from knowledge_hub.services import transaction
from knowledge_hub.services import users
from knowledge_hub.services.documents import blob_store
from tests.conftest import make_config
from tests.conftest import shared_data
from tests.server import run_hub
from tests.test_extraction_pdf import memory_bomb_pdf
from tests.test_fixity import ROWS

MINUTES = ROWS  # three archive records, each with a text file


def realfile(name: str) -> bytes:
    return shared_data("realfiles", name).read_bytes()


def stored_file(name: str) -> StoredFile:
    stored = db.session.scalar(select(StoredFile).where(StoredFile.original_name == name))
    assert stored is not None, name
    return stored


def make_stale(app: Flask, name: str, text: str | None, error: str | None = None) -> None:
    """Give a stored file the text and message an older extractor left, as a change the
    index follows (the outbox), so that the index holds the old text too."""
    with app.app_context(), transaction():
        stored = stored_file(name)
        stored.text = text
        stored.extraction_error = error


def found(app: Flask, query: str) -> list[str]:
    """The references a public search finds."""
    with app.test_client() as client:
        answer = client.get("/api/search", query_string={"q": query}).get_json()
    return [result["ref"] for result in answer["results"]]


def reextract(app: Flask, *options: str) -> str:
    """Run `hub reextract` with options; its output, once it has ended with status 0."""
    result = app.test_cli_runner().invoke(args=["hub", "reextract", *options])
    assert result.exit_code == 0, result.output
    return result.output


def summary(output: str) -> str:
    (line,) = [line for line in output.splitlines() if line.startswith("Files: ")]
    return line


def counts(
    read: int,
    changed: int = 0,
    newly: int = 0,
    still: int = 0,
    unchanged: int = 0,
    kept: int = 0,
    not_read: int = 0,
) -> str:
    """The summary line a run with these counts ends with."""
    return (
        f"Files: {read} read, {changed} text changed, {newly} newly readable, "
        f"{still} still unreadable, {unchanged} unchanged, {kept} earlier text kept, "
        f"{not_read} not read."
    )


def facts(app: Flask) -> dict:
    """What re-extraction must not change: each file's bytes, hash, size and type, the
    fixity checks and the upload events."""
    with app.app_context():
        store = blob_store()
        files = {
            f.original_name: (f.sha256, f.size, f.media_type, store.path(f.sha256).read_bytes())
            for f in db.session.scalars(select(StoredFile))
        }
        checks = db.session.execute(
            select(FileCheck.sha256, FileCheck.checked_at, FileCheck.outcome)
        ).all()
        uploads = db.session.execute(
            select(AuditEvent.id, AuditEvent.details).where(AuditEvent.action == "upload")
        ).all()
    return {"files": files, "checks": sorted(checks), "uploads": sorted(uploads)}


@pytest.mark.slow
def test_a_stale_text_is_read_again_and_the_index_follows(app: Flask, import_rows) -> None:
    import_rows(MINUTES)
    assert app.test_cli_runner().invoke(args=["hub", "check"]).exit_code == 0
    make_stale(app, "minutes-41.txt", "Minutes of the 41st meeting of the Task Force.")
    assert found(app, "Geneva") == []
    before = facts(app)

    output = reextract(app)
    assert "text changed: MIN-41 [en] minutes-41.txt (46 -> 62 characters)" in output
    assert summary(output) == (
        "Files: 3 read, 1 text changed, 0 newly readable, 0 still unreadable, 2 unchanged, "
        "0 earlier text kept, 0 not read."
    )
    with app.app_context():
        assert stored_file("minutes-41.txt").text == MINUTES[0]["content"]
        assert db.session.scalar(select(func.count(PendingIndex.id))) == 0
        (event,) = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "reextract")
        ).all()
        assert event.details["before"]["text_length"] == 46
        assert event.details["after"] == {
            "text_length": 62,
            "page_count": None,
            "extraction_error": None,
        }
        assert event.document_id is not None and event.details["name"] == "minutes-41.txt"
    # The word only the new text has is found: the index followed through the outbox.
    assert found(app, "Geneva") == ["MIN-41"]
    assert facts(app) == before

    assert summary(reextract(app)) == counts(3, unchanged=3)
    with app.app_context():
        reextracted = select(func.count(AuditEvent.id)).where(AuditEvent.action == "reextract")
        assert db.session.scalar(reextracted) == 1
        # Each run is kept with its counts; neither is waiting to be continued.
        runs = db.session.scalars(select(ReextractionRun).order_by(ReextractionRun.id)).all()
        assert [(r.files_read, r.text_changed, r.unchanged) for r in runs] == [(3, 1, 2), (3, 0, 3)]
        assert all(r.finished_at is not None for r in runs)
    assert app.test_cli_runner().invoke(args=["hub", "check"]).exit_code == 0


@pytest.mark.slow
def test_files_unreadable_when_stored_become_readable_and_a_lesser_reading_is_refused(
    app: Flask, import_rows, tmp_path: Path
) -> None:
    long_pdf = memory_bomb_pdf(tmp_path / "long.pdf")
    app.config["EXTRACTION_MEMORY_MB"] = 48
    import_rows(
        [
            dict(
                ref="DOC-1", file="word.doc", title="Word", content=realfile("tika__testWORD.doc")
            ),
            dict(ref="PDF-1", file="long.pdf", title="Long report", content=long_pdf.read_bytes()),
            dict(
                ref="PDF-2",
                file="locked.pdf",
                title="Locked",
                content=realfile("pypdf__libreoffice-writer-password.pdf"),
            ),
            dict(
                ref="PPT-1",
                file="slides.ppt",
                title="Slides",
                content=realfile("tika__testPPT.ppt"),
            ),
        ]
    )
    # Stored by older extractors: the .doc was not read at all, the long PDF lost every
    # page to the memory limit, and the locked PDF was given a text it does not hold.
    legacy = (
        "Legacy Word (.doc) files are not supported for text extraction: "
        "save the file as DOCX or PDF."
    )
    make_stale(app, "word.doc", None, legacy)
    make_stale(app, "long.pdf", None, "Extraction ran out of memory (limit 48 MB).")
    make_stale(app, "locked.pdf", "Text an older reader made up")
    assert found(app, "subtitle") == []

    output = reextract(app, "--type", "doc", "--type", "PDF")
    assert summary(output) == counts(3, newly=2, kept=1)
    assert "newly readable: DOC-1 [en] word.doc (658 characters)" in output
    assert (
        "  in part: Extraction ran out of memory (limit 48 MB). Only pages 1\u20133 of 4 were "
        "read; page 4 is missing." in output
    )
    assert (
        "earlier text kept: PDF-2 [en] locked.pdf: the new reading gave less: The PDF is "
        "protected by a password" in output
    )
    assert "slides.ppt" not in output  # not of the types asked for
    with app.app_context():
        assert "Sample Word Document" in stored_file("word.doc").text
        assert stored_file("word.doc").extraction_error is None
        long = stored_file("long.pdf")
        assert long.text.startswith("Page 1 line 0 of the report") and long.page_count == 4
        assert stored_file("locked.pdf").text == "Text an older reader made up"
    assert found(app, "subtitle") == ["DOC-1"]


def test_since_and_type_choose_the_files(app: Flask, import_rows) -> None:
    import_rows(MINUTES)
    with app.app_context(), transaction():
        stored_file("minutes-41.txt").created_at = datetime(2021, 6, 30, 23, 59)
        stored_file("minutes-42.txt").created_at = datetime(2021, 7, 1, 0, 0)
    for options, read in (
        (("--since", "2021-07-01"), 2),  # uploaded on that day or after, in UTC
        (("--since", "2999-01-01"), 0),
        (("--type", "pdf", "--since", "2000-01-01"), 0),
        (("--type", "txt"), 3),
        (("--type", "TXT", "--type", "md", "--since", "2021-06-30"), 3),
    ):
        assert summary(reextract(app, *options)) == counts(read, unchanged=read), options


def test_a_file_missing_from_the_upload_folder_is_reported_not_fatal(
    app: Flask, import_rows
) -> None:
    import_rows(MINUTES)
    make_stale(app, "minutes-43.txt", "stale")
    with app.app_context():
        missing = stored_file("minutes-42.txt")
        sha256 = missing.sha256
        blob_store().path(sha256).unlink()
    output = reextract(app)
    assert (
        "not read: MIN-42 [en] minutes-42.txt: the file is missing from the upload folder "
        f"(sha256 {sha256}; see `hub check`)" in output
    )
    assert summary(output) == counts(2, changed=1, unchanged=1, not_read=1)
    with app.app_context():
        assert stored_file("minutes-42.txt").text == MINUTES[1]["content"]
        assert stored_file("minutes-43.txt").text == MINUTES[2]["content"]


@pytest.mark.slow
def test_an_interrupted_run_is_continued_by_the_next(app: Flask, import_rows) -> None:
    import_rows(MINUTES)
    for row in MINUTES:
        make_stale(app, row["file"], "stale")

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt  # as Ctrl-C would, once the first file is committed

    with app.app_context(), pytest.raises(KeyboardInterrupt):
        texts.reextract(users.system_user(), progress=interrupt)
    with app.app_context():
        assert [stored_file(row["file"]).text for row in MINUTES] == [
            MINUTES[0]["content"],
            "stale",
            "stale",
        ]
        # What the first file changed reached the index though the run was cut short.
        assert db.session.scalar(select(func.count(PendingIndex.id))) == 0
    assert found(app, "Geneva") == ["MIN-41"]

    # Another selection is a run of its own; the same one continues where it stopped.
    assert "Continued" not in reextract(app, "--type", "pdf")
    output = reextract(app)
    assert re.search(
        r"Continued the run started \d{4}-\d\d-\d\d \d\d:\d\d UTC, from where it stopped "
        r"\(files done before: 1\)\.",
        output,
    ), output
    assert "MIN-41" not in output  # not read twice
    assert summary(output) == counts(3, changed=3)  # counted over the whole run
    with app.app_context():
        assert [stored_file(row["file"]).text for row in MINUTES] == [
            row["content"] for row in MINUTES
        ]
    assert "Continued" not in reextract(app)


def test_bad_options_are_refused_with_the_accepted_values(app: Flask) -> None:
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["hub", "reextract", "--type", "png"])
    assert unknown.exit_code == 2
    assert "Invalid value for '--type': 'png' is not one of" in unknown.output
    for name in texts.TYPE_NAMES:
        assert f"'{name}'" in unknown.output
    for day in ("2024-13-01", "yesterday", "01/02/2024"):
        bad = runner.invoke(args=["hub", "reextract", "--since", day])
        assert bad.exit_code == 2
        assert f"'{day}' is not a day written YYYY-MM-DD, such as 2024-03-31." in bad.output
    with app.app_context():
        with pytest.raises(Invalid, match="Text is not extracted from files of type image/png"):
            texts.reextract(users.system_user(), ["image/png"])
        with pytest.raises(NotAllowed):
            texts.reextract(None)  # only an administrator (the command line is one)
        assert db.session.scalar(select(func.count(ReextractionRun.id))) == 0


def test_every_extracted_type_has_a_short_name() -> None:
    from knowledge_hub.extraction import EXTRACTABLE_TYPES

    assert set(texts.TYPE_NAMES.values()) == EXTRACTABLE_TYPES
    assert len(texts.TYPE_NAMES) == len(EXTRACTABLE_TYPES)


@pytest.mark.slow
def test_reextract_over_the_demo_catalogue_as_the_readme_installs_it(
    tmp_path: Path, installed
) -> None:
    config = make_config(tmp_path)

    def install() -> None:
        for command in (("hub", "init"), ("hub", "demo")):
            done = run_hub(config, *command)
            assert done.returncode == 0, done.stderr

    installed((__name__, "readme_state"), config, install)

    def searched() -> dict:
        app = create_app(config)
        with app.test_client() as client:
            answer = client.get("/api/search", query_string={"q": "cooperatives"}).get_json()
        with app.app_context():
            search.get_index().close()
            db.session.remove()
            db.engine.dispose()
        return answer

    before = searched()
    assert before["total"] > 0
    done = run_hub(config, "hub", "reextract")
    assert done.returncode == 0, done.stderr
    files = re.fullmatch(
        r"Files: (\d+) read, 0 text changed, 0 newly readable, 0 still unreadable, "
        r"(\d+) unchanged, 0 earlier text kept, 0 not read\.",
        done.stdout.strip().splitlines()[0],
    )
    assert files and files.group(1) == files.group(2) and int(files.group(1)) >= 70, done.stdout
    thumbnails = re.fullmatch(
        r"Thumbnails: (\d+) drawn, 0 could not be drawn\.", done.stdout.strip().splitlines()[-1]
    )
    assert thumbnails and int(thumbnails.group(1)) >= 10, done.stdout
    assert searched() == before
    checked = run_hub(config, "hub", "check")
    assert checked.returncode == 0, checked.stdout
    assert "Text: 0 files without text" in checked.stdout
