"""The secretariat's pages: records, metadata forms, language versions, uploads, bulk import."""

from __future__ import annotations

import csv
import io
import os
import stat
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.extraction.thumbnails import SUFFIX
from knowledge_hub.models import AuditEvent
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import StoredFile
from knowledge_hub.models import Variant
from knowledge_hub.services import documents
from knowledge_hub.services import transaction
from knowledge_hub.services import users
from knowledge_hub.storage import BlobStore
from tests.conftest import MANIFEST_COLUMNS
from tests.conftest import shared_data
from tests.test_extraction_pdf import memory_bomb_pdf

PASSWORD = "a long enough password"
STAFF = "staff.member@example.org"


@pytest.fixture
def staff_app(app: Flask, tmp_path: Path, kept_states) -> Flask:
    app.config["SESSION_COOKIE_SECURE"] = False
    app.config["IMPORT_BATCH_DIR"] = tmp_path / "batches"

    def create() -> None:
        with app.app_context():
            users.create_user(None, STAFF, "Staff Member", PASSWORD, ["staff"], None, [])

    kept_states.run((__name__, "staff_app"), create)
    return app


def sign_in(client: FlaskClient, email: str) -> None:
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def staff(staff_app: Flask, client: FlaskClient) -> FlaskClient:
    sign_in(client, STAFF)
    return client


def make_record(app: Flask, ref: str = "PB-2024-01", **changes: str) -> int:
    """A draft record with its original English version, made through the services."""
    values = dict(kind="publication", doc_type="policy-brief", date="2024-03")
    values.update(changes)
    with app.app_context():
        actor = db.session.scalar(select(users.User).where(users.User.email == STAFF))
        document = documents.create_record(
            actor,
            documents.RecordFields(
                ref=ref,
                kind=values["kind"],
                doc_type=values["doc_type"],
                date=values["date"],
                organizations=["ILO"],
                topics=["cooperatives"],
            ),
            "en",
            values.get("title", f"Title of {ref}"),
            "A summary.",
        )
        return document.id


def events(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def record_form(**changes: object) -> dict:
    data: dict[str, object] = {
        "ref": "WP-2023-07",
        "kind": "publication",
        "doc_type": "working-paper",
        "date": "2023-09",
        "lead_organization": "UNRISD",
        "organizations": ["ILO", "OECD"],
        "authors": "Ilcheong Yi\nPeter Utting",
        "themes": ["cooperatives", "legal-frameworks"],
        "sdgs": ["sdg-8"],
        "regions": "002, sn; 419",
        "access": "public",
        "series": "",
        "language": "en",
        "other_language": "",
        "title": "Public policies for the social and solidarity economy",
        "summary": "How governments support SSE through law and finance.",
    }
    data.update(changes)
    return data


def upload(client: FlaskClient, document_id: int, language: str, *files: tuple[bytes, str]):
    return client.post(
        f"/staff/{document_id}/versions/{language}/upload",
        data={"files": [(io.BytesIO(content), name) for content, name in files]},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def shared_file(name: str) -> bytes:
    return shared_data("files", name).read_bytes()


# --- who may come in ----------------------------------------------------------------

STAFF_PAGES = ["/staff/", "/staff/new", "/staff/1/edit", "/staff/1/versions", "/staff/import"]


def test_anonymous_readers_are_sent_to_sign_in(staff_app: Flask, client: FlaskClient) -> None:
    for path in STAFF_PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/auth/login" in response.headers["Location"], path
    response = client.post("/staff/new", data=record_form())
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.slow
def test_a_member_cannot_reach_any_staff_page(staff_app: Flask, client: FlaskClient) -> None:
    document_id = make_record(staff_app)
    with staff_app.app_context():
        users.create_user(None, "member@example.org", "Member", PASSWORD, ["member"], None, [])
    sign_in(client, "member@example.org")
    for path in [*STAFF_PAGES, f"/staff/{document_id}/versions/en/edit"]:
        assert client.get(path.replace("/1/", f"/{document_id}/")).status_code == 403, path
    response = upload(client, document_id, "en", (b"some text", "note.txt"))
    assert response.status_code == 403
    assert client.post("/staff/new", data=record_form()).status_code == 403
    with staff_app.app_context():
        assert db.session.scalar(select(func.count(StoredFile.id))) == 0
        assert db.session.scalar(select(func.count(Document.id))) == 1


# --- the records list ---------------------------------------------------------------


def test_the_records_list_filters_and_links_to_each_records_pages(
    staff_app: Flask, staff: FlaskClient
) -> None:
    report_id = make_record(staff_app, "PB-2024-01", title="Financing cooperatives")
    minutes_id = make_record(
        staff_app,
        "TF-MIN-40",
        kind="archive",
        doc_type="meeting-minutes",
        title="Minutes of the 40th meeting",
    )
    html = staff.get("/staff/").get_data(as_text=True)
    assert "PB-2024-01" in html and "TF-MIN-40" in html
    assert f'href="/review/{report_id}"' in html
    assert f'href="/staff/{report_id}/edit"' in html
    assert f'href="/staff/{minutes_id}/versions"' in html
    assert '<label for="filter-status">' in html and '<th scope="col">' in html

    archives = staff.get("/staff/?kind=archive").get_data(as_text=True)
    assert "TF-MIN-40" in archives and "PB-2024-01" not in archives
    by_type = staff.get("/staff/?type=policy-brief").get_data(as_text=True)
    assert "PB-2024-01" in by_type and "TF-MIN-40" not in by_type
    by_title = staff.get("/staff/?q=cooperat").get_data(as_text=True)
    assert "PB-2024-01" in by_title and "TF-MIN-40" not in by_title
    by_ref = staff.get("/staff/?q=tf-min").get_data(as_text=True)
    assert "TF-MIN-40" in by_ref and "PB-2024-01" not in by_ref
    released = staff.get("/staff/?status=released").get_data(as_text=True)
    assert "TF-MIN-40" not in released and "No record matches." in released


# --- creating and editing a record --------------------------------------------------


@pytest.mark.slow
def test_creating_a_record_shows_each_problem_by_its_field_then_succeeds(
    staff_app: Flask, staff: FlaskClient
) -> None:
    form = staff.get("/staff/new").get_data(as_text=True)
    for control in (
        "ref",
        "kind",
        "doc_type",
        "date",
        "lead_organization",
        "regions",
        "access",
        "language",
        "title",
    ):
        assert f'<label for="{control}">' in form, control
    assert 'value="sdg-17"' in form and 'value="UNRISD"' in form

    response = staff.post(
        "/staff/new",
        data=record_form(ref="", date="2023-13", regions="SN, Africa", title="", language="other"),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Give the record a reference." in html
    assert "Write the date as YYYY, YYYY-MM or YYYY-MM-DD" in html
    assert "Not a country or area code: AFRICA" in html
    assert "Give the title." in html
    assert "Give the language&#39;s BCP 47 tag" in html
    assert 'aria-invalid="true"' in html

    # Well-formed but unknown to the vocabularies: the service says so, under the field.
    response = staff.post("/staff/new", data=record_form(regions="SN, QQ"))
    assert response.status_code == 400
    assert 'id="regions-errors"' in response.get_data(as_text=True)
    assert "Unknown regions: QQ" in response.get_data(as_text=True)

    response = staff.post("/staff/new", data=record_form())
    assert response.status_code == 302
    with staff_app.app_context():
        document = db.session.scalar(select(Document).where(Document.ref == "WP-2023-07"))
        assert response.headers["Location"].endswith(f"/staff/{document.id}/versions")
        assert document.status == DocumentStatus.DRAFT
        assert [o.acronym for o in document.organizations] == ["UNRISD", "ILO", "OECD"]
        assert document.organization_links[0].role.value == "lead"
        assert document.authors == ["Ilcheong Yi", "Peter Utting"]
        assert sorted(t.code for t in document.topics) == [
            "cooperatives",
            "legal-frameworks",
            "sdg-8",
        ]
        assert sorted(r.code for r in document.regions) == ["002", "419", "SN"]
        assert document.doc_type.code == "working-paper" and document.date == "2023-09"
        assert document.original.title == "Public policies for the social and solidarity economy"
        assert document.original.is_original and document.original_language == "en"
        created = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "create", AuditEvent.document_id == document.id
            )
        ).all()
        assert {e.object_type for e in created} == {"document", "variant"}

    # The reference is unique.
    again = staff.post("/staff/new", data=record_form(title="Another"))
    assert again.status_code == 400
    assert "already exists" in again.get_data(as_text=True)


def test_a_new_draft_offers_send_to_review_on_every_tab(
    staff_app: Flask, staff: FlaskClient
) -> None:
    created = staff.post("/staff/new", data=record_form())
    versions = created.headers["Location"]
    document_id = int(versions.rstrip("/").split("/")[-2])
    for path in (versions, f"/staff/{document_id}/edit"):
        page = staff.get(path).get_data(as_text=True)
        start = page.index('<nav class="record-nav"')
        nav = page[start : page.index("</nav>", start)]
        assert f'action="/review/{document_id}/submit"' in nav and "Send to review" in nav, path
    checklist = staff.get(f"/review/{document_id}").get_data(as_text=True)
    assert '<p><a href="/staff/">Records</a> ›' in checklist

    sent = staff.post(f"/review/{document_id}/submit")
    assert sent.status_code == 302
    with staff_app.app_context():
        assert db.session.get(Document, document_id).status == DocumentStatus.IN_REVIEW
    page = staff.get(versions).get_data(as_text=True)
    assert f'action="/review/{document_id}/submit"' not in page


def test_another_original_language_is_any_bcp47_tag(staff_app: Flask, staff: FlaskClient) -> None:
    response = staff.post(
        "/staff/new",
        data=record_form(language="other", other_language="pt_br", title="Economia solidária"),
    )
    assert response.status_code == 302
    with staff_app.app_context():
        document = db.session.scalar(select(Document))
        assert document.original_language == "pt-BR"
        assert document.original.language == "pt-BR"


@pytest.mark.slow
def test_editing_a_record_records_before_and_after(staff_app: Flask, staff: FlaskClient) -> None:
    document_id = make_record(staff_app, "PB-2024-01")
    page = staff.get(f"/staff/{document_id}/edit").get_data(as_text=True)
    assert 'value="PB-2024-01"' in page and "Title of PB-2024-01" in page

    response = staff.post(
        f"/staff/{document_id}/edit",
        data=record_form(
            ref="PB-2024-01",
            doc_type="policy-brief",
            date="2024-04",
            lead_organization="ILO",
            organizations=["UNCTAD"],
            themes=["cooperatives"],
            sdgs=["sdg-5"],
            regions="",
            authors="",
            title="A better title",
            summary="A summary.",
        ),
    )
    assert response.status_code == 302
    edit = [e for e in events(staff_app, "edit") if e.object_type == "document"]
    assert len(edit) == 1
    assert edit[0].document_id == document_id
    assert edit[0].details["before"] == {
        "date": "2024-03",
        "organizations": ["ILO"],
        "topics": ["cooperatives"],
    }
    assert edit[0].details["after"] == {
        "date": "2024-04",
        "organizations": ["ILO", "UNCTAD"],
        "topics": ["cooperatives", "sdg-5"],
    }
    title_edit = [e for e in events(staff_app, "edit") if e.object_type == "variant"]
    assert title_edit[0].details["before"] == {"title": "Title of PB-2024-01"}
    assert title_edit[0].details["after"] == {"title": "A better title"}
    assert title_edit[0].document_id == document_id
    assert "Saved." in staff.get(f"/staff/{document_id}/edit").get_data(as_text=True)

    # Saving again unchanged records nothing.
    same = staff.post(
        f"/staff/{document_id}/edit",
        data=record_form(
            ref="PB-2024-01",
            doc_type="policy-brief",
            date="2024-04",
            lead_organization="ILO",
            organizations=["UNCTAD"],
            themes=["cooperatives"],
            sdgs=["sdg-5"],
            regions="",
            authors="",
            title="A better title",
            summary="A summary.",
        ),
        follow_redirects=True,
    )
    assert "Nothing was changed." in same.get_data(as_text=True)
    assert len(events(staff_app, "edit")) == 2

    # The history page shows the change.
    history = staff.get(f"/review/{document_id}/history").get_data(as_text=True)
    assert "2024-04" in history


def test_a_released_record_can_be_corrected_but_keeps_its_reference(
    staff_app: Flask, staff: FlaskClient
) -> None:
    document_id = make_record(staff_app, "PB-2024-01")
    with staff_app.app_context():
        db.session.get(Document, document_id).status = DocumentStatus.RELEASED
        db.session.commit()
    base = dict(
        ref="PB-2024-01",
        doc_type="policy-brief",
        lead_organization="ILO",
        organizations=[],
        themes=["cooperatives"],
        sdgs=[],
        regions="",
        authors="",
        title="Title of PB-2024-01",
        summary="A summary.",
    )
    renamed = staff.post(
        f"/staff/{document_id}/edit", data=record_form(**{**base, "ref": "PB-2024-99"})
    )
    assert renamed.status_code == 400
    assert "its reference is cited and cannot change" in renamed.get_data(as_text=True)

    corrected = staff.post(
        f"/staff/{document_id}/edit", data=record_form(**{**base, "date": "2024-03-15"})
    )
    assert corrected.status_code == 302
    with staff_app.app_context():
        document = db.session.get(Document, document_id)
        assert document.date == "2024-03-15" and document.status == DocumentStatus.RELEASED
    (edit,) = events(staff_app, "edit")
    assert edit.details == {"before": {"date": "2024-03"}, "after": {"date": "2024-03-15"}}


# --- language versions and files --------------------------------------------------


@pytest.mark.slow
def test_uploading_a_pdf_and_a_docx_records_their_text(
    staff_app: Flask, staff: FlaskClient
) -> None:
    document_id = make_record(staff_app)
    page = staff.get(f"/staff/{document_id}/versions").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and '<label for="files-en">' in page

    response = upload(
        staff,
        document_id,
        "en",
        (shared_file("pdf-raw_text.pdf"), "raw text.pdf"),
        (shared_file("docx-raw_text.docx"), "raw.docx"),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "raw text.pdf is stored (PDF" in html
    assert "raw.docx is stored (Word (DOCX)" in html
    assert html.count("characters of text extracted") == 2
    with staff_app.app_context():
        files = db.session.scalars(select(StoredFile).order_by(StoredFile.id)).all()
        assert [f.original_name for f in files] == ["raw text.pdf", "raw.docx"]
        assert files[0].media_type == "application/pdf"
        assert files[1].media_type.endswith("wordprocessingml.document")
        for f in files:
            assert "lovely" in f.text and f.extraction_error is None
            assert BlobStore(staff_app.config["UPLOAD_DIR"]).verify(f.sha256) == "match"
        expected = {f.sha256: (f.original_name, f.size, f.media_type) for f in files}
    uploads = events(staff_app, "upload")
    assert len(uploads) == 2
    for event in uploads:
        assert event.document_id == document_id
        name, size, media_type = expected[event.details["sha256"]]
        assert event.details["name"] == name
        assert event.details["size"] == size
        assert event.details["media_type"] == media_type
        assert event.details["text_length"] > 100
    # The versions page shows each file's extraction outcome.
    page = staff.get(f"/staff/{document_id}/versions").get_data(as_text=True)
    assert "raw text.pdf" in page and "characters" in page
    # Nothing of the uploads is left behind in the upload folder's root.
    assert not list(Path(staff_app.config["UPLOAD_DIR"]).glob(".upload-*"))


def test_a_program_or_garbage_is_refused_with_the_reason(
    staff_app: Flask, staff: FlaskClient
) -> None:
    document_id = make_record(staff_app)
    response = upload(
        staff,
        document_id,
        "en",
        (b"MZ\x90\x00\x03\x00\x00\x00" + os.urandom(2048), "setup.pdf"),
        (bytes(range(256)) * 16, "data.bin"),
        (b"", "empty.txt"),
    )
    html = response.get_data(as_text=True)
    assert (
        "setup.pdf was refused: This file looks like a Windows program or library (EXE/DLL)."
        in html
    )
    assert "Accepted types are: PDF" in html
    assert "data.bin was refused:" in html
    assert "empty.txt was refused: The file is empty." in html
    with staff_app.app_context():
        assert db.session.scalar(select(func.count(StoredFile.id))) == 0
    assert events(staff_app, "upload") == []
    assert not any(p.is_file() for p in Path(staff_app.config["UPLOAD_DIR"]).rglob("*"))


def file_row(html: str, name: str) -> str:
    """The row of the versions page's file table that shows a file."""
    return html.split(f'<th scope="row">{name}</th>', 1)[1].split("</tr>", 1)[0]


@pytest.mark.slow
def test_a_file_read_in_part_says_which_pages_could_not_be_read(
    staff_app: Flask, staff: FlaskClient, tmp_path: Path
) -> None:
    document_id = make_record(staff_app)
    long_pdf = memory_bomb_pdf(tmp_path / "long.pdf")
    staff_app.config["EXTRACTION_MEMORY_MB"] = 48
    html = upload(
        staff,
        document_id,
        "en",
        (long_pdf.read_bytes(), "long.pdf"),
        (shared_file("pdf-ocr_text.pdf"), "scan.pdf"),
    ).get_data(as_text=True)
    in_part = "Text extracted in part: page 4 could not be read (memory limit)."
    assert f"characters of text extracted. {in_part}" in html
    assert "long.pdf is stored (PDF, " in html and "4 pages)" in html
    assert "scan.pdf is stored (PDF" in html
    assert "but its text could not be extracted: No text layer" in html

    page = staff.get(f"/staff/{document_id}/versions").get_data(as_text=True)
    row = file_row(page, "long.pdf")
    assert '<span class="badge partial">' in row and in_part in row
    assert "failed" not in row and "Text not extracted" not in row
    scan = file_row(page, "scan.pdf")
    assert '<span class="badge not-ok">needs OCR</span>' in scan
    assert "Text not extracted: No text layer: the PDF looks like a scanned image" in scan

    # The extractor's message for a long PDF that the time limit stopped.
    with staff_app.app_context(), transaction():
        stored = db.session.scalar(select(StoredFile).where(StoredFile.original_name == "long.pdf"))
        stored.page_count = 352
        stored.extraction_error = (
            "Read pages 1\u201340 of 352 before the time limit (60 s); "
            "pages 41\u2013352 are missing."
        )
    timed_out = "Text extracted in part: pages 41\u2013352 could not be read (time limit)."
    page = staff.get(f"/staff/{document_id}/versions").get_data(as_text=True)
    assert timed_out in file_row(page, "long.pdf")
    landing = staff.get(f"/documents/{document_id}").get_data(as_text=True)
    assert f'<p class="note">{timed_out}</p>' in landing
    french = staff.get(f"/staff/{document_id}/versions?lang=fr").get_data(as_text=True)
    assert "Texte extrait en partie : les pages 41\u2013352 n&#39;ont pas pu être lues" in french


@pytest.mark.slow
def test_the_same_file_on_two_records_is_stored_once_and_noticed(
    staff_app: Flask, staff: FlaskClient
) -> None:
    first = make_record(staff_app, "PB-2024-01")
    second = make_record(staff_app, "PB-2024-02")
    pdf = shared_file("pdf-raw_text.pdf")
    upload(staff, first, "en", (pdf, "brief.pdf"))
    html = upload(staff, second, "en", (pdf, "copy.pdf")).get_data(as_text=True)
    assert "Same file as PB-2024-01" in html
    assert "not stored twice" in html
    # The same file again on the same version is refused.
    html = upload(staff, second, "en", (pdf, "copy-again.pdf")).get_data(as_text=True)
    assert "copy-again.pdf was refused: This version already has this file." in html
    with staff_app.app_context():
        files = db.session.scalars(select(StoredFile)).all()
        assert len(files) == 2 and len({f.sha256 for f in files}) == 1
    # One stored copy of the bytes, and beside it the one thumbnail drawn from them.
    stored = sorted(p.name for p in Path(staff_app.config["UPLOAD_DIR"]).rglob("*") if p.is_file())
    sha256 = files[0].sha256
    assert stored == [sha256, sha256 + SUFFIX]


def test_an_upload_over_the_limit_gets_a_friendly_page(
    staff_app: Flask, staff: FlaskClient
) -> None:
    document_id = make_record(staff_app)
    staff_app.config["MAX_CONTENT_LENGTH"] = 4096
    response = staff.post(
        f"/staff/{document_id}/versions/en/upload",
        data={"files": [(io.BytesIO(b"x" * 10_000), "big.txt")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "The upload is too large" in html
    assert "Nothing was stored." in html
    with staff_app.app_context():
        assert db.session.scalar(select(func.count(StoredFile.id))) == 0


@pytest.mark.slow
def test_a_language_version_is_added_then_given_files(staff_app: Flask, staff: FlaskClient) -> None:
    document_id = make_record(staff_app)
    missing_title = staff.post(
        f"/staff/{document_id}/versions", data={"language": "fr", "title": "", "summary": ""}
    )
    assert missing_title.status_code == 400
    assert "Give the title." in missing_title.get_data(as_text=True)
    duplicate = staff.post(
        f"/staff/{document_id}/versions", data={"language": "en", "title": "Again", "summary": ""}
    )
    assert duplicate.status_code == 400
    assert "already has a version in en" in duplicate.get_data(as_text=True)

    response = staff.post(
        f"/staff/{document_id}/versions",
        data={"language": "fr", "title": "Note d'orientation", "summary": "Un résumé."},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/{document_id}/versions#v-fr")
    html = upload(staff, document_id, "fr", (shared_file("odt-raw_text.odt"), "note.odt")).get_data(
        as_text=True
    )
    assert "note.odt is stored (OpenDocument Text (ODT)" in html
    with staff_app.app_context():
        variant = db.session.scalar(select(Variant).where(Variant.language == "fr"))
        assert variant.title == "Note d'orientation" and not variant.is_original
        assert variant.files[0].text
    assert staff.get(f"/staff/{document_id}/versions/de/upload").status_code == 405
    assert upload(staff, document_id, "de", (b"text", "a.txt")).status_code == 404

    edited = staff.post(
        f"/staff/{document_id}/versions/fr/edit",
        data={"title": "Note d'orientation (révisée)", "summary": "Un résumé."},
    )
    assert edited.status_code == 302
    (event,) = [e for e in events(staff_app, "edit") if e.object_type == "variant"]
    assert event.details["after"] == {"title": "Note d'orientation (révisée)"}


# --- bulk import --------------------------------------------------------------------


def manifest_bytes(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=MANIFEST_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in MANIFEST_COLUMNS})
    return out.getvalue().encode("utf-8")


IMPORT_ROWS = [
    dict(
        ref="TF-MIN-40",
        file="minutes/min-40.pdf",
        language="en",
        title="Minutes of the 40th meeting",
        kind="archive",
        type="meeting-minutes",
        date="2019-06",
        organizations="UNRISD;ILO",
    ),
    dict(
        ref="TF-MIN-40",
        file="minutes/min-40.fr.docx",
        language="fr",
        title="Procès-verbal de la 40e réunion",
        kind="archive",
    ),
    dict(
        ref="TF-AG-41",
        file="agenda-41.txt",
        language="en",
        title="Agenda of the 41st meeting",
        kind="archive",
        type="agenda",
        date="2019-11",
    ),
    dict(
        ref="TF-BAD",
        file="missing.pdf",
        language="en",
        title="A row whose file is absent",
        kind="archive",
    ),
]


def zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return out.getvalue()


@pytest.mark.slow
def test_bulk_import_previews_then_imports_and_reports(
    staff_app: Flask, staff: FlaskClient, tmp_path: Path
) -> None:
    archive = zip_bytes(
        {
            "archive/minutes/min-40.pdf": shared_file("pdf-raw_text.pdf"),
            "archive/minutes/min-40.fr.docx": shared_file("docx-raw_text.docx"),
            "archive/agenda-41.txt": shared_file("txt-raw_text.txt"),
            "__MACOSX/archive/._agenda-41.txt": b"\x00\x05\x16\x07",
        }
    )
    form = staff.get("/staff/import").get_data(as_text=True)
    assert '<label for="manifest">' in form and '<label for="archive">' in form
    response = staff.post(
        "/staff/import",
        data={
            "manifest": (io.BytesIO(manifest_bytes(IMPORT_ROWS)), "manifest.csv"),
            "archive": (io.BytesIO(archive), "archive.zip"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    batch_url = response.headers["Location"]
    batch_id = batch_url.rstrip("/").rsplit("/", 1)[-1]

    preview = staff.get(batch_url).get_data(as_text=True)
    assert "Import preview" in preview
    assert preview.count("would create the record") == 2
    assert "would add a language version" in preview
    assert "file not found: missing.pdf" in preview
    assert "Import now" in preview
    # The preview wrote nothing: no record, no stored file, no event.
    with staff_app.app_context():
        assert db.session.scalar(select(func.count(Document.id))) == 0
        assert (
            db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action != "login"))
            == 0
        )
    assert not any(p.is_file() for p in Path(staff_app.config["UPLOAD_DIR"]).rglob("*"))

    done = staff.post(f"/staff/import/{batch_id}", data={}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "Import report" in html
    assert "Import done: 2 records created, 1 language versions added, 1 rows not imported." in html
    assert html.count("record created") == 2
    with staff_app.app_context():
        refs = db.session.scalars(select(Document.ref).order_by(Document.ref)).all()
        assert refs == ["TF-AG-41", "TF-MIN-40"]
        minutes = db.session.scalar(select(Document).where(Document.ref == "TF-MIN-40"))
        assert [v.language for v in minutes.variants] == ["en", "fr"]
        assert [o.acronym for o in minutes.organizations] == ["UNRISD", "ILO"]
        assert all(v.files[0].text for v in minutes.variants)
    # The import wrote the same events as the forms do.
    assert len([e for e in events(staff_app, "create") if e.object_type == "document"]) == 2
    assert len(events(staff_app, "upload")) == 3
    # Its files are gone; the report stays.
    batch_folder = Path(staff_app.config["IMPORT_BATCH_DIR"]) / batch_id
    assert not (batch_folder / "files").exists() and not (batch_folder / "manifest.csv").exists()

    report = staff.get(f"/staff/import/{batch_id}/report.csv")
    assert report.status_code == 200
    assert report.mimetype == "text/csv"
    assert "attachment" in report.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(report.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["line"], r["ref"], r["outcome"]) for r in rows] == [
        ("2", "TF-MIN-40", "created"),
        ("3", "TF-MIN-40", "added"),
        ("4", "TF-AG-41", "created"),
        ("5", "TF-BAD", "error"),
    ]
    # A second "Import now" imports nothing twice.
    again = staff.post(f"/staff/import/{batch_id}", data={}, follow_redirects=True)
    assert "already imported" in again.get_data(as_text=True)
    with staff_app.app_context():
        assert db.session.scalar(select(func.count(Document.id))) == 2


def test_bulk_import_takes_several_files_instead_of_a_zip(
    staff_app: Flask, staff: FlaskClient
) -> None:
    rows = [
        dict(ref="TF-AG-41", file="agenda-41.txt", language="en", title="Agenda", kind="archive"),
        dict(ref="TF-AG-42", file="agenda-42.odt", language="en", title="Agenda", kind="archive"),
    ]
    response = staff.post(
        "/staff/import",
        data={
            "manifest": (io.BytesIO(manifest_bytes(rows)), "manifest.csv"),
            "files": [
                (io.BytesIO(shared_file("txt-raw_text.txt")), "agenda-41.txt"),
                (io.BytesIO(shared_file("odt-raw_text.odt")), "agenda-42.odt"),
            ],
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert html.count("would create the record") == 2
    batch_id = response.request.path.rsplit("/", 1)[-1]
    staff.post(f"/staff/import/{batch_id}", data={})
    with staff_app.app_context():
        assert db.session.scalar(select(func.count(Document.id))) == 2


def unsafe_zip(name: str, *, link: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("agenda-41.txt", b"Agenda of the meeting.")
        info = zipfile.ZipInfo(name)
        if link:
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, b"/etc/passwd" if link else b"owned")
    return out.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("member", "link", "reason"),
    [
        ("../evil", False, "points outside the folder"),
        ("docs/../../evil", False, "points outside the folder"),
        ("/etc/evil", False, "has an absolute path"),
        ("link.txt", True, "is a symbolic link"),
    ],
)
def test_an_unsafe_zip_is_refused_whole(
    staff_app: Flask, staff: FlaskClient, tmp_path: Path, member: str, link: bool, reason: str
) -> None:
    rows = [
        dict(ref="TF-AG-41", file="agenda-41.txt", language="en", title="Agenda", kind="archive")
    ]
    response = staff.post(
        "/staff/import",
        data={
            "manifest": (io.BytesIO(manifest_bytes(rows)), "manifest.csv"),
            "archive": (io.BytesIO(unsafe_zip(member, link=link)), "folder.zip"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "The ZIP is refused" in html and reason in html
    assert not (tmp_path / "evil").exists()
    batches = Path(staff_app.config["IMPORT_BATCH_DIR"])
    assert not batches.exists() or not any(batches.iterdir())
    with staff_app.app_context():
        assert db.session.scalar(select(func.count(Document.id))) == 0


def test_a_zip_with_too_many_members_or_bytes_is_refused(
    staff_app: Flask, staff: FlaskClient
) -> None:
    rows = [dict(ref="X", file="a.txt", language="en", title="A", kind="archive")]
    members = {f"f{i}.txt": b"text" for i in range(12)}
    staff_app.config["IMPORT_MAX_FILES"] = 10
    response = staff.post(
        "/staff/import",
        data={
            "manifest": (io.BytesIO(manifest_bytes(rows)), "m.csv"),
            "archive": (io.BytesIO(zip_bytes(members)), "a.zip"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "it holds 12 members; the limit is 10" in response.get_data(as_text=True)

    staff_app.config["IMPORT_MAX_FILES"] = 100
    staff_app.config["IMPORT_MAX_BYTES"] = 1024 * 1024
    bomb = zip_bytes({"a.txt": b"a" * (3 * 1024 * 1024)})
    response = staff.post(
        "/staff/import",
        data={
            "manifest": (io.BytesIO(manifest_bytes(rows)), "m.csv"),
            "archive": (io.BytesIO(bomb), "a.zip"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "unpacks to more than the limit of 1 MB" in response.get_data(as_text=True)


def test_a_bad_manifest_is_reported_under_its_field(staff_app: Flask, staff: FlaskClient) -> None:
    response = staff.post(
        "/staff/import",
        data={
            "manifest": (io.BytesIO(b"title,language\nA,en\n"), "m.csv"),
            "files": [(io.BytesIO(b"text"), "a.txt")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="manifest-errors"' in html and "lacks the column(s) ref, file, kind" in html
    no_files = staff.post(
        "/staff/import",
        data={"manifest": (io.BytesIO(manifest_bytes([])), "m.csv")},
        content_type="multipart/form-data",
    )
    assert no_files.status_code == 400
    assert "a ZIP of the folder, or the files themselves" in no_files.get_data(as_text=True)


@pytest.mark.slow
def test_a_batch_belongs_to_whoever_uploaded_it(
    staff_app: Flask, staff: FlaskClient, client: FlaskClient
) -> None:
    rows = [dict(ref="TF-AG-41", file="a.txt", language="en", title="Agenda", kind="archive")]
    response = staff.post(
        "/staff/import",
        data={
            "manifest": (io.BytesIO(manifest_bytes(rows)), "m.csv"),
            "files": [(io.BytesIO(b"Agenda text."), "a.txt")],
        },
        content_type="multipart/form-data",
    )
    batch_id = response.headers["Location"].rsplit("/", 1)[-1]
    with staff_app.app_context():
        users.create_user(None, "other.staff@example.org", "Other", PASSWORD, ["staff"], None, [])
    other = staff_app.test_client()
    sign_in(other, "other.staff@example.org")
    assert other.get(f"/staff/import/{batch_id}").status_code == 404
    assert other.post(f"/staff/import/{batch_id}", data={}).status_code == 404
    assert other.get(f"/staff/import/{batch_id}/report.csv").status_code == 404
    assert other.get("/staff/import/..%2F..%2Fetc").status_code == 404
    with staff_app.app_context():
        assert db.session.scalar(select(func.count(Document.id))) == 0


def test_every_staff_form_carries_a_csrf_token(staff_app: Flask, staff: FlaskClient) -> None:
    document_id = make_record(staff_app)
    staff_app.config["WTF_CSRF_ENABLED"] = True
    for path in (
        "/staff/new",
        f"/staff/{document_id}/edit",
        f"/staff/{document_id}/versions",
        f"/staff/{document_id}/versions/en/edit",
        "/staff/import",
    ):
        html = staff.get(path).get_data(as_text=True)
        forms = html.count('<form method="post"')
        assert forms >= 1 and html.count('name="csrf_token"') >= forms, path
    refused = staff.post("/staff/new", data=record_form())
    assert refused.status_code == 400
    refused = upload(staff, document_id, "en", (b"Some text.", "note.txt"))
    assert refused.status_code == 400
    with staff_app.app_context():
        assert db.session.scalar(select(func.count(Document.id))) == 1
        assert db.session.scalar(select(func.count(StoredFile.id))) == 0
    # Too large is told as such even before the token is read.
    staff_app.config["MAX_CONTENT_LENGTH"] = 4096
    response = staff.post(
        f"/staff/{document_id}/versions/en/upload",
        data={"files": [(io.BytesIO(b"x" * 10_000), "big.txt")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "The upload is too large" in response.get_data(as_text=True)
