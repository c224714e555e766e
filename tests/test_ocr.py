"""OCR of scanned pages: the reader (extraction/ocr.py), the queue and worker
(services/ocr.py, `hub ocr`), what staff see, and a worker killed mid-page.

The words expected of the real scans are those a person reads on the rendered pages
(pdftoppm -r 100): the French pangram of ocrmypdf__francais.pdf and the opening of
the LinnSequencer leaflet of ocrmypdf__linn.pdf. The Arabic, Chinese and Russian scans
are made here: text drawn with Pillow (Noto CJK, DejaVu) into an image-only PDF.
"""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont
from sqlalchemy import select

from knowledge_hub import search
from knowledge_hub.access import visible_levels
from knowledge_hub.extensions import db
from knowledge_hub.extraction import ocr as reader
from knowledge_hub.models import Document
from knowledge_hub.models import OcrPage
from knowledge_hub.models import OcrState
from knowledge_hub.models import StoredFile
from knowledge_hub.models import User
from knowledge_hub.search import SearchRequest
from knowledge_hub.services import documents
from knowledge_hub.services import ocr
from knowledge_hub.services import review
from tests.conftest import shared_data
from tests.conftest import sign_in
from tests.conftest import write_manifest
from tests.server import PROJECT_ROOT
from tests.server import environment
from tests.server import run_hub

REALFILES = shared_data("realfiles")

# What a person reads on ocrmypdf__francais.pdf (one page).
FRENCH = (
    "Portez ce vieux whisky au juge blond qui fume sur son île intérieure, à côté de "
    "l'alcôve ovoïde, où les bûches se consument dans l'âtre, ce qui lui permet de penser "
    "à la cænogénèse de l'être dont il est question dans la cause ambiguë entendue à Moÿ, "
    "dans un capharnaüm qui, pense-t-il, diminue çà et là la qualité de son œuvre."
)
# The title and first paragraph of ocrmypdf__linn.pdf.
ENGLISH = (
    "The LinnSequencer 32 Track MIDI Sequence Recorder The LinnSequencer is a "
    "state-of-the-art composition and performance tool for the professional musician. "
    "It is extremely powerful, yet amazingly simple to learn and use. It's many "
    "remarkable features include: Operation is similar to multi-track tape recorder "
    "with PLAY, STOP, RECORD, FAST FORWARD, REWIND, and LOCATE controls."
)
MADE = {
    "ar": "الاقتصاد الاجتماعي والتضامني يساهم في تحقيق أهداف التنمية المستدامة "
    "في جميع أنحاء العالم",
    "zh": "社会与团结经济有助于在世界各地实现可持续发展目标",
    "ru": "Социальная и солидарная экономика помогает достичь целей устойчивого развития "
    "во всём мире",
}


def words(text: str) -> Counter[str]:
    """The words of a text, case-folded, without punctuation or Arabic vowel marks."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return Counter(re.findall(r"\w+", text))


def recovered(expected: str, read: str) -> float:
    """The share of the expected words found in what OCR read (characters, for Chinese)."""
    if re.search("[\u4e00-\u9fff]", expected):
        want, got = Counter(expected), Counter(read)
    else:
        want, got = words(expected), words(read)
    return sum((want & got).values()) / sum(want.values())


def font_for(language: str, size: int) -> ImageFont.FreeTypeFont:
    """A font that draws the language, found by fontconfig (Noto CJK for Chinese)."""
    found = subprocess.run(
        ["fc-match", "-f", "%{file}", f"sans:lang={'zh-cn' if language == 'zh' else language}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    index = 2 if found.endswith(".ttc") else 0  # Noto Sans CJK: JP, KR, SC, ...
    return ImageFont.truetype(found, size, index=index)


def scan_pdf(pages: list[str], language: str = "en") -> bytes:
    """An image-only PDF, one 300 dpi A5-ish page per text, its lines drawn with Pillow."""
    font = font_for(language, 40)
    direction = "rtl" if language == "ar" else None
    images = []
    for text in pages:
        image = Image.new("L", (1750, 2480), 255)
        draw = ImageDraw.Draw(image)
        lines, line = [], ""
        unit = "" if language == "zh" else " "
        for word in text.split(" ") if unit else list(text):
            candidate = f"{line}{unit}{word}" if line else word
            if draw.textlength(candidate, font=font, direction=direction) > 1500:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
        for n, line in enumerate(lines):
            anchor, x = ("ra", 1625) if direction else ("la", 125)
            place = (x, 150 + 70 * n)
            draw.text(place, line, font=font, fill=0, anchor=anchor, direction=direction)
        images.append(image)
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=300, save_all=True, append_images=images[1:])
    return out.getvalue()


def make_record(app: Flask, email: str, ref: str, language: str) -> int:
    with app.app_context():
        actor = db.session.scalar(select(User).where(User.email == email))
        document = documents.create_record(
            actor,
            documents.RecordFields(
                ref=ref,
                kind="archive",
                doc_type="meeting-minutes",
                date="1985",
                organizations=["ILO"],
                topics=["cooperatives"],
            ),
            language,
            f"Scanned minutes {ref}",
            "A scanned archive.",
        )
        return document.id


def upload(app: Flask, email: str, document_id: int, language: str, name: str, data: bytes):
    with app.app_context():
        actor = db.session.scalar(select(User).where(User.email == email))
        variant = db.session.get(Document, document_id).variant_in(language)
        documents.upload_files(actor, variant, [(name, io.BytesIO(data))])
        return db.session.scalar(select(StoredFile.id).order_by(StoredFile.id.desc()))


def queue(app: Flask) -> list[tuple[int, int, str, str, int]]:
    """The queue: (file, page, languages, state, attempts) of every page."""
    with app.app_context():
        rows = db.session.execute(
            select(
                OcrPage.stored_file_id,
                OcrPage.page,
                OcrPage.languages,
                OcrPage.state,
                OcrPage.attempts,
            ).order_by(OcrPage.id)
        ).all()
        db.session.remove()
        return [(f, p, lang, str(s), a) for f, p, lang, s, a in rows]


def found(app: Flask, email: str, q: str) -> set[int]:
    """The records staff find with a query."""
    with app.app_context():
        viewer = db.session.scalar(select(User).where(User.email == email))
        result = search.search(search.get_index(), visible_levels(viewer), SearchRequest(q=q))
        return {hit.document_id for hit in result.hits}


def processes_reading(folder: Path) -> list[int]:
    """The processes whose command line names a file under the folder (a page's reader)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        if entry.name.isdigit() and str(folder) in command:
            pids.append(int(entry.name))
    return pids


@pytest.fixture
def staff(app: Flask, make_user) -> str:
    return make_user("staff")


# --- the reader


def test_tesseract_languages_follow_the_record_or_try_all_six() -> None:
    assert reader.tesseract_languages("fr") == "fra"
    assert reader.tesseract_languages("zh-Hans") == "chi_sim"
    assert reader.tesseract_languages(None) == "eng+fra+spa+rus+ara+chi_sim"
    assert reader.tesseract_languages("de") == "eng+fra+spa+rus+ara+chi_sim"
    assert reader.debian_package("chi_sim") == "tesseract-ocr-chi-sim"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "language", "expected"),
    [("ocrmypdf__francais.pdf", "fr", FRENCH), ("ocrmypdf__linn.pdf", "en", ENGLISH)],
)
def test_real_scans_are_read_as_a_person_reads_them(name, language, expected) -> None:
    reading = reader.read_page(REALFILES / name, 1, reader.tesseract_languages(language))
    assert reading.error is None
    assert recovered(expected, reading.text) >= 0.9, reading.text


@pytest.mark.slow
@pytest.mark.parametrize("language", sorted(MADE))
def test_made_scans_in_arabic_chinese_and_russian_are_read_back(language, tmp_path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(scan_pdf([MADE[language]], language))
    reading = reader.read_page(path, 1, reader.tesseract_languages(language))
    assert reading.error is None
    assert recovered(MADE[language], reading.text) >= 0.9, reading.text


def test_a_page_that_is_not_there_or_not_a_pdf_is_a_message_not_a_crash(tmp_path) -> None:
    assert reader.read_page(REALFILES / "ocrmypdf__francais.pdf", 2, "fra").error == (
        "The PDF has no such page."
    )
    broken = reader.read_page(REALFILES / "ocrmypdf__invalid.pdf", 1, "eng")
    assert broken.text == "" and broken.error.startswith("The PDF could not be opened")


def test_a_page_over_its_time_or_memory_limit_is_stopped_with_a_reason() -> None:
    path = REALFILES / "ocrmypdf__linn.pdf"
    reading = reader.read_page(path, 1, "eng", seconds=0.2)
    assert reading == reader.PageReading("", "OCR took longer than 0.2 s and was stopped.")
    reading = reader.read_page(path, 1, "eng", memory_mb=30)
    assert reading == reader.PageReading("", "OCR ran out of memory on this page (limit 30 MB).")


# --- the queue


@pytest.mark.slow
def test_a_partly_scanned_pdf_queues_only_its_pages_without_text(app, staff) -> None:
    document_id = make_record(app, staff, "MIN-1", "en")
    data = (REALFILES / "ocrmypdf__multipage.pdf").read_bytes()
    file_id = upload(app, staff, document_id, "en", "minutes.pdf", data)
    assert [(f, p, lang, s) for f, p, lang, s, __ in queue(app)] == [
        (file_id, page, "eng", "waiting") for page in (1, 2, 3, 5, 6)
    ]


def mixed_pdf(typed: str, scanned: str, last: str) -> bytes:
    """Three pages: text typed into the PDF, a scan, typed text again."""
    from fpdf import FPDF
    from pypdf import PdfReader
    from pypdf import PdfWriter

    def typed_page(text: str) -> PdfReader:
        document = FPDF()
        document.add_page()
        document.set_font("helvetica", size=14)
        document.multi_cell(w=0, text=text)
        return PdfReader(io.BytesIO(bytes(document.output())))

    writer = PdfWriter()
    for reader_ in (
        typed_page(typed),
        PdfReader(io.BytesIO(scan_pdf([scanned]))),
        typed_page(last),
    ):
        writer.append(reader_)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.slow
def test_a_partly_scanned_pdf_gets_its_scanned_page_read_in_its_place(app, staff) -> None:
    document_id = make_record(app, staff, "MIN-6", "en")
    data = mixed_pdf(
        "Agenda typed by the secretariat.", "Handwritten notes of the chair.", "Annex."
    )
    file_id = upload(app, staff, document_id, "en", "mixed.pdf", data)
    assert [(p, s) for __, p, ___, s, ____ in queue(app)] == [(2, "waiting")]
    with app.app_context():
        stored = db.session.get(StoredFile, file_id)
        assert stored.extraction_error == (
            "No text layer on page 2 of 3: it looks like a scanned image, and OCR is not available."
        )
    result = app.test_cli_runner().invoke(args=["hub", "ocr"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        stored = db.session.get(StoredFile, file_id)
        assert stored.extraction_error is None and stored.ocr_pages == 1
        text = stored.text
    assert text.index("secretariat") < text.index("chair") < text.index("Annex")
    assert found(app, staff, "handwritten") == {document_id}


@pytest.mark.slow
def test_two_workers_never_claim_the_same_page(app, staff) -> None:
    document_id = make_record(app, staff, "MIN-2", "fr")
    upload(app, staff, document_id, "fr", "a.pdf", scan_pdf(["un", "deux"], "fr"))
    with app.app_context():
        first = ocr.claim_next_page("elsewhere:1", 600)
        second = ocr.claim_next_page("elsewhere:2", 600)
        third = ocr.claim_next_page("elsewhere:3", 600)
        assert first != second and None not in (first, second) and third is None
        # A worker on another machine holds its page until its lease runs out.
        db.session.execute(
            OcrPage.__table__.update()
            .where(OcrPage.id == first)
            .values(lease_until=datetime(2000, 1, 1))
        )
        db.session.commit()
        assert ocr.claim_next_page("elsewhere:3", 600) == first
        # On this machine, a live worker keeps its page; a dead one's is taken at once.
        here = socket.gethostname()
        alive, dead = f"{here}:{os.getpid()}", f"{here}:{dead_pid()}"
        for holder in (alive, dead):
            db.session.execute(
                OcrPage.__table__.update().where(OcrPage.id == second).values(worker=holder)
            )
            db.session.commit()
            taken = ocr.claim_next_page("elsewhere:4", 600)
            assert taken == (None if holder == alive else second)
    assert [attempts for *__, attempts in queue(app)] == [2, 2]


def dead_pid() -> int:
    """The id of a process that has ended."""
    ended = subprocess.Popen(["true"])
    ended.wait()
    return ended.pid


@pytest.mark.slow
def test_hub_ocr_makes_a_scan_findable_and_staff_see_it(app, client, staff) -> None:
    document_id = make_record(app, staff, "MIN-3", "fr")
    data = (REALFILES / "ocrmypdf__francais.pdf").read_bytes()
    file_id = upload(app, staff, document_id, "fr", "pangramme.pdf", data)
    sign_in(client, staff)
    page = client.get(f"/staff/{document_id}/versions").get_data(as_text=True)
    assert "waiting for OCR" in page
    assert found(app, staff, "capharnaüm") == set()
    with app.app_context():
        facts = review.version_facts(db.session.get(Document, document_id).original)
        assert not any(f.has_text or f.ocr_done for f in facts.files)

    result = app.test_cli_runner().invoke(args=["hub", "ocr"])
    assert result.exit_code == 0, result.output
    assert "read: MIN-3 [fr] pangramme.pdf page 1" in result.output
    assert "pages read: 1, failed: 0; files finished: 1" in result.output

    assert found(app, staff, "capharnaüm") == {document_id}
    assert found(app, staff, "whisky") == {document_id}
    with app.app_context():
        stored = db.session.get(StoredFile, file_id)
        assert (stored.ocr_pages, stored.extraction_error) == (1, None)
        facts = review.version_facts(stored.variant)
        assert facts.files[0].ocr_done and facts.files[0].has_text
    page = client.get(f"/staff/{document_id}/versions").get_data(as_text=True)
    assert "OCR done (pages read: 1)" in page
    assert "Text read by OCR: it may contain errors." in page
    landing = client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert "text read by OCR (it may contain errors)" in landing

    response = client.post(f"/staff/{document_id}/files/{file_id}/ocr")
    assert response.status_code == 302
    assert [s for *__, s, ___ in queue(app)] == ["waiting"]
    assert "pangramme.pdf waits for OCR again." in client.get(
        f"/staff/{document_id}/versions"
    ).get_data(as_text=True)
    assert client.post(f"/staff/{document_id + 1}/files/{file_id}/ocr").status_code == 404


@pytest.mark.slow
def test_hub_ocr_limit_reads_that_many_pages_and_leaves_the_rest_waiting(app, staff) -> None:
    document_id = make_record(app, staff, "MIN-9", "en")
    upload(app, staff, document_id, "en", "two.pdf", scan_pdf(["First.", "Second."]))
    result = app.test_cli_runner().invoke(args=["hub", "ocr", "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "pages read: 1, failed: 0; files finished: 0" in result.output
    assert [(p, s) for __, p, ___, s, ____ in queue(app)] == [(1, "done"), (2, "waiting")]
    with app.app_context():
        stored = db.session.scalar(select(StoredFile))
        assert "First" in stored.text and stored.ocr_pages == 1
        assert stored.extraction_error == "No text layer on page 2 of 2: waiting for OCR."


@pytest.mark.slow
def test_a_page_that_fails_says_why_to_staff_and_can_be_queued_again(app, client, staff) -> None:
    document_id = make_record(app, staff, "MIN-7", "en")
    file_id = upload(app, staff, document_id, "en", "scan.pdf", scan_pdf(["A page."]))
    app.config["OCR_SECONDS"] = 0.01
    result = app.test_cli_runner().invoke(args=["hub", "ocr"])
    assert result.exit_code == 0, result.output
    assert "pages read: 0, failed: 1; files finished: 1" in result.output
    with app.app_context():
        stored = db.session.get(StoredFile, file_id)
        message = "OCR failed on page 1: OCR took longer than 0.01 s and was stopped."
        assert (stored.text, stored.ocr_pages, stored.extraction_error) == (None, None, message)
        facts = review.version_facts(stored.variant)
        assert not facts.files[0].ocr_done
    sign_in(client, staff)
    page = client.get(f"/staff/{document_id}/versions").get_data(as_text=True)
    assert "OCR failed: OCR took longer than 0.01 s and was stopped." in page
    assert f"/staff/{document_id}/files/{file_id}/ocr" in page
    client.post(f"/staff/{document_id}/files/{file_id}/ocr")
    assert [(s, a) for *__, s, a in queue(app)] == [("waiting", 0)]


@pytest.mark.slow
def test_without_tesseract_files_wait_and_staff_are_told_what_to_install(
    app, client, staff, monkeypatch, tmp_path
) -> None:
    document_id = make_record(app, staff, "MIN-4", "en")
    upload(app, staff, document_id, "en", "scan.pdf", scan_pdf(["page"]))
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract on it
    result = app.test_cli_runner().invoke(args=["hub", "ocr"])
    assert result.exit_code == 1
    assert "OCR cannot run: install tesseract-ocr tesseract-ocr-eng" in result.output
    assert [s for *__, s, ___ in queue(app)] == ["waiting"]
    sign_in(client, staff)
    page = client.get(f"/staff/{document_id}/versions").get_data(as_text=True)
    assert "waiting for OCR" in page
    assert "OCR cannot run on this server yet: install tesseract-ocr tesseract-ocr-eng" in page


# --- real processes


@pytest.mark.slow
def test_a_scan_imported_after_hub_init_is_found_after_hub_ocr(tmp_path) -> None:
    from tests.conftest import make_config

    config = make_config(tmp_path)
    assert run_hub(config, "hub", "init").returncode == 0
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "leaflet.pdf").write_bytes((REALFILES / "ocrmypdf__linn.pdf").read_bytes())
    manifest = write_manifest(
        tmp_path / "m.csv",
        [dict(ref="LEAF-1", file="leaflet.pdf", language="en", title="Leaflet", kind="archive")],
    )
    imported = run_hub(config, "hub", "import", str(folder), "--manifest", str(manifest))
    assert imported.returncode == 0, imported.stderr
    done = run_hub(config, "hub", "ocr")
    assert done.returncode == 0, done.stderr
    assert "pages read: 1, failed: 0; files finished: 1" in done.stdout
    assert run_hub(config, "hub", "ocr").stdout.startswith("OCR: pages read: 0,")
    # Staff search, in a process of its own, finds words read off the page.
    from knowledge_hub import create_app

    app = create_app(config)
    with app.app_context():
        staff = User(email="s@hub.test", name="S", roles=["staff"], is_active=True)
        levels = visible_levels(staff)
        leaflet = db.session.scalar(select(Document.id).where(Document.ref == "LEAF-1"))
        for q in ("LinnSequencer", "polyphonic", "TRANSPOSED"):
            hits = search.search(search.get_index(), levels, SearchRequest(q=q)).hits
            assert [h.document_id for h in hits] == [leaflet], q
        search.get_index().close()
        db.session.remove()
        db.engine.dispose()


@pytest.mark.slow
def test_a_worker_killed_mid_page_loses_nothing_and_repeats_nothing(app, staff) -> None:
    first_page = "The first page of the minutes names the cooperative delegates."
    # A long second page, so that the worker is caught reading it.
    second_page = " ".join(["Solidarity economy workers gathered in Geneva."] * 40)
    document_id = make_record(app, staff, "MIN-5", "en")
    file_id = upload(app, staff, document_id, "en", "two.pdf", scan_pdf([first_page, second_page]))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "hub", "ocr"],
        cwd=PROJECT_ROOT,
        env=environment(app.config),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            states = [s for *__, s, ___ in queue(app)]
            if states == ["done", "working"]:
                break
            assert worker.poll() is None, "the worker ended before it was caught mid-page"
            time.sleep(0.05)
        assert states == ["done", "working"]
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait()
    # The page's reader dies with the worker instead of running on (and its tesseract
    # with it, by the same means).
    deadline = time.monotonic() + 1
    while processes_reading(app.config["UPLOAD_DIR"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_reading(app.config["UPLOAD_DIR"]) == []
    with app.app_context():
        page_one = db.session.scalar(select(OcrPage).where(OcrPage.page == 1))
        first_finished = page_one.finished_at
        text = db.session.get(StoredFile, file_id).text
        assert "cooperative delegates" in text and "Geneva" not in text
        db.session.remove()

    # The next worker takes the dead worker's page at once, and only that page.
    result = app.test_cli_runner().invoke(args=["hub", "ocr"])
    assert result.exit_code == 0, result.output
    assert "pages read: 1, failed: 0; files finished: 1" in result.output
    assert [(p, s, a) for __, p, ___, s, a in queue(app)] == [(1, "done", 1), (2, "done", 2)]
    with app.app_context():
        assert db.session.scalar(select(OcrPage.finished_at).where(OcrPage.page == 1)) == (
            first_finished
        )
        stored = db.session.get(StoredFile, file_id)
        assert words(stored.text)["delegates"] == 1
        assert words(stored.text)["geneva"] >= 36  # 40 on the page; OCR may miss a few
        assert stored.text.index("delegates") < stored.text.index("Geneva")
        assert stored.ocr_pages == 2 and stored.extraction_error is None
    assert found(app, staff, "delegates") == found(app, staff, "Geneva") == {document_id}
    assert all(state == OcrState.DONE for *__, state, ___ in queue(app))


@pytest.mark.slow
def test_hub_ocr_watch_reads_scans_stored_while_it_runs(app, staff) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "hub", "ocr", "--watch"],
        cwd=PROJECT_ROOT,
        env=environment(app.config, FLASK_OCR_WATCH_POLL_SECONDS="0.2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        document_id = make_record(app, staff, "MIN-8", "en")
        scan = scan_pdf(["Minutes of the plenary on cooperatives."])
        upload(app, staff, document_id, "en", "plenary.pdf", scan)
        # The page is committed first, then the index follows it.
        deadline = time.monotonic() + 120
        while not found(app, staff, "plenary") and time.monotonic() < deadline:
            assert worker.poll() is None, worker.stdout.read()
            time.sleep(0.1)
        assert found(app, staff, "plenary") == {document_id}
        assert [s for *__, s, ___ in queue(app)] == ["done"]
        assert worker.poll() is None  # still watching
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
    assert "read: MIN-8 [en] plenary.pdf page 1" in output
