"""Files seen before they are downloaded: first-page thumbnails of PDFs, file cards on the
record page, PDFs opened in the browser's own viewer, thumbnails beside search results."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from playwright.sync_api import Browser
from sqlalchemy import select

from knowledge_hub import i18n
from knowledge_hub.extensions import db
from knowledge_hub.extraction.thumbnails import WIDTH
from knowledge_hub.models import AccessLevel
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import StoredFile
from knowledge_hub.services import previews
from knowledge_hub.services import review
from knowledge_hub.services import users
from knowledge_hub.services.documents import blob_store
from tests.conftest import shared_data
from tests.conftest import sign_in
from tests.test_browser import CHROMIUM
from tests.test_browser import browser  # noqa: F401  (the Chromium fixture)
from tests.test_browser import live_hub  # noqa: F401  (the hub with its demo, served)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def pdf_bytes() -> bytes:
    return (shared_data("files") / "pdf-raw_text.pdf").read_bytes()


def record(ref: str, **fields: str) -> dict:
    return dict(
        ref=ref,
        file=f"{ref.lower()}.pdf",
        title=f"Brief {ref}",
        content=pdf_bytes(),
        **fields,
    )


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    return struct.unpack(">II", data[16:24])


def files_of(app: Flask) -> dict[str, StoredFile]:
    """Each record's (first) file by its record's reference."""
    with app.app_context():
        rows = db.session.execute(
            select(Document.ref, Document.id, StoredFile)
            .join_from(Document, Document.variants)
            .join(StoredFile)
        )
        out = {}
        for ref, document_id, stored in rows:
            stored.document_id = document_id  # for the tests' addresses
            db.session.expunge(stored)
            out.setdefault(ref, stored)
        return out


@dataclass(frozen=True)
class Answer:
    status_code: int
    headers: dict[str, str]
    data: bytes
    mimetype: str


def fetch(client: FlaskClient, url: str) -> Answer:
    """GET url and close the answer (a file sent is open until then)."""
    with client.get(url) as response:
        return Answer(
            response.status_code, dict(response.headers), response.get_data(), response.mimetype
        )


def thumbnail_url(stored: StoredFile) -> str:
    return f"/documents/{stored.document_id}/files/{stored.id}/thumbnail.png"


@pytest.mark.slow
def test_a_stored_pdf_gets_a_png_thumbnail_that_identical_files_share(
    app: Flask, import_rows
) -> None:
    report = import_rows([record("PV-1"), record("PV-2")])
    assert report.failed == 0, report.summary()
    files = files_of(app)
    assert files["PV-1"].sha256 == files["PV-2"].sha256
    with app.app_context():
        store = blob_store()
        path = previews.thumbnail_path(store, files["PV-1"].sha256)
        thumbnails = sorted(p.name for p in store.root.rglob("*.thumb.png"))
    width, height = png_size(path)
    assert width == WIDTH and height > WIDTH  # a portrait page
    assert thumbnails == [path.name]  # one for both records
    response = fetch(app.test_client(), thumbnail_url(files["PV-2"]))
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data == path.read_bytes()
    assert "max-age=3600" in response.headers["Cache-Control"]


def test_a_broken_pdf_has_no_thumbnail_and_says_why(app: Flask, tmp_path: Path) -> None:
    with app.app_context():
        store = blob_store()
        blob = store.put_file(shared_data("realfiles") / "ocrmypdf__invalid.pdf")
        error = previews.make_thumbnail(store, blob.sha256, previews.PDF)
        assert error is not None and "could not be opened" in error
        assert not previews.has_thumbnail(store, blob.sha256)
        # Not a PDF: nothing to draw, and nothing wrong.
        assert previews.make_thumbnail(store, blob.sha256, "text/plain") is None


@pytest.mark.slow
def test_reextract_draws_a_lost_thumbnail_again(app: Flask, runner, import_rows) -> None:
    assert import_rows([record("PV-1")]).failed == 0
    stored = files_of(app)["PV-1"]
    with app.app_context():
        path = previews.thumbnail_path(blob_store(), stored.sha256)
    path.unlink()
    assert fetch(app.test_client(), thumbnail_url(stored)).status_code == 404
    result = runner.invoke(args=["hub", "reextract", "--type", "pdf"])
    assert result.exit_code == 0, result.output
    assert "Thumbnails: 1 drawn, 0 could not be drawn." in result.output
    assert png_size(path)[0] == WIDTH
    assert fetch(app.test_client(), thumbnail_url(stored)).status_code == 200


@pytest.mark.slow
def test_members_only_and_withdrawn_files_and_thumbnails_are_not_served_to_everyone(
    app: Flask, import_rows, make_user
) -> None:
    report = import_rows(
        [record("PV-M", access="members"), record("PV-W"), record("PV-P", access="members")]
    )
    assert report.failed == 0, report.summary()
    files = files_of(app)
    with app.app_context():
        withdrawn = db.session.get(Document, files["PV-W"].document_id)
        review.withdraw(users.system_user(), withdrawn, "Replaced by a newer brief.")
    anonymous = app.test_client()
    staff = app.test_client()
    sign_in(staff, make_user("staff"))
    members = files["PV-M"]
    for url in (
        thumbnail_url(members),
        f"/documents/{members.document_id}/files/{members.id}",
        f"/documents/{members.document_id}/files/{members.id}/view",
    ):
        assert fetch(anonymous, url).status_code == 404, url
        response = fetch(staff, url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "private, no-store", url
    gone = files["PV-W"]
    for url in (thumbnail_url(gone), f"/documents/{gone.document_id}/files/{gone.id}"):
        assert fetch(anonymous, url).status_code == 404, url
        assert fetch(staff, url).status_code == 404, url
    # The anonymous reader's search page does not point at a thumbnail it may not have.
    assert "thumbnail.png" not in anonymous.get("/search?q=brief").get_data(as_text=True)


@pytest.mark.slow
def test_a_pdf_opens_inline_in_a_sandbox_and_a_word_file_never_does(
    app: Flask, import_rows
) -> None:
    word = dict(
        ref="PV-D",
        file="brief.docx",
        title="Word brief",
        content=(shared_data("files") / "docx-raw_text.docx").read_bytes(),
    )
    assert import_rows([record("PV-1"), word]).failed == 0
    files = files_of(app)
    client = app.test_client()
    pdf = files["PV-1"]
    response = fetch(client, f"/documents/{pdf.document_id}/files/{pdf.id}/view")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.headers["Content-Security-Policy"].split(";")[0] == "sandbox"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data[:5] == b"%PDF-"
    docx = files["PV-D"]
    assert fetch(client, f"/documents/{docx.document_id}/files/{docx.id}/view").status_code == 404
    download = fetch(client, f"/documents/{docx.document_id}/files/{docx.id}")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert fetch(client, thumbnail_url(docx)).status_code == 404


@pytest.mark.slow
def test_the_record_page_shows_each_file_as_a_card_in_the_readers_language(
    app: Flask, import_rows
) -> None:
    word = dict(
        ref="PV-D",
        file="annexe.docx",
        title="Word brief",
        content=(shared_data("files") / "docx-raw_text.docx").read_bytes(),
    )
    assert import_rows([record("PV-1"), word]).failed == 0
    files = files_of(app)
    pdf, docx = files["PV-1"], files["PV-D"]
    assert pdf.page_count
    client = app.test_client()

    def card_of(stored: StoredFile) -> str:
        page = client.get(f"/documents/{stored.document_id}?lang=fr").get_data(as_text=True)
        cards = re.findall(r'<li class="file-card"[^>]*>(.*?)</li>', page, re.S)
        assert len(cards) == 1
        return cards[0]

    pdf_card = card_of(pdf)
    facts = re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", " ", pdf_card))
    with app.test_request_context(), force_locale("fr"):
        size = i18n.format_size(pdf.size)
    assert size.endswith("ko")
    pages = "page" if pdf.page_count == 1 else "pages"
    assert f"PDF, {pdf.page_count} {pages}, {size}" in facts
    assert "anglais" in facts  # the version's language, in French
    assert f'src="/documents/{pdf.document_id}/files/{pdf.id}/thumbnail.png"' in pdf_card
    assert 'alt=""' in pdf_card  # the file's name is next to it
    assert f'href="/documents/{pdf.document_id}/files/{pdf.id}/view"' in pdf_card
    assert ">Télécharger<" in pdf_card and ">Afficher<" in pdf_card
    # A Word file: its type's name, a placeholder in place of a thumbnail, no viewer.
    word_card = card_of(docx)
    assert "Document Word" in word_card
    assert "<img" not in word_card and 'class="file-thumb file-icon"' in word_card
    assert "/view" not in word_card and f"/files/{docx.id}" in word_card


@pytest.mark.slow
def test_a_search_result_shows_the_thumbnail_of_its_pdf(app: Flask, import_rows) -> None:
    assert import_rows([record("PV-1")]).failed == 0
    pdf = files_of(app)["PV-1"]
    page = app.test_client().get("/search?q=lovely").get_data(as_text=True)
    images = re.findall(r'<img class="hit-thumb"[^>]*>', page)
    assert len(images) == 1
    assert thumbnail_url(pdf) in images[0] and 'loading="lazy"' in images[0]


def a_public_record_with_a_pdf(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(
            select(Document.id)
            .join(Document.variants)
            .join(StoredFile)
            .where(
                StoredFile.media_type == previews.PDF,
                Document.status == DocumentStatus.RELEASED,
                Document.access == AccessLevel.PUBLIC,
            )
            .order_by(Document.id)
            .limit(1)
        )


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is installed by tests/setup.sh")
def test_a_reader_sees_the_thumbnails_and_opens_a_pdf_in_the_browser(
    app: Flask,
    live_hub: str,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    document_id = a_public_record_with_a_pdf(app)
    page = browser.new_page()
    page.goto(f"{live_hub}/documents/{document_id}?lang=en")
    card = page.locator("li.file-card").filter(has=page.locator("img.file-thumb")).first
    thumbnail = card.locator("img.file-thumb")
    thumbnail.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
    )
    assert thumbnail.evaluate("img => img.naturalWidth") == WIDTH
    download = card.get_by_role("link", name=re.compile("^Download"))
    assert download.is_visible() and download.get_attribute("download") is not None
    box = download.bounding_box()
    assert box is not None and box["height"] >= 44  # a tap target
    view = card.get_by_role("link", name=re.compile("^View"))
    assert view.is_visible()
    answer = page.request.get(f"{live_hub}{view.get_attribute('href')}")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith("inline")
    assert answer.headers["content-security-policy"].startswith("sandbox")
    assert answer.body()[:5] == b"%PDF-"
    page.close()
