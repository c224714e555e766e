"""Tests for knowledge_hub.extraction: sniffing by bytes and safe text extraction.

Real files only: the shared test documents, the running Python binary as an
executable, and hostile archives and PDFs built byte by byte in tmp_path.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import random
import re
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import pytest

from knowledge_hub.extraction import ACCEPTED_TYPES
from knowledge_hub.extraction import EXTRACTABLE_TYPES
from knowledge_hub.extraction import Extraction
from knowledge_hub.extraction import Stop
from knowledge_hub.extraction import TextState
from knowledge_hub.extraction import UnsupportedType
from knowledge_hub.extraction import extract
from knowledge_hub.extraction import extract_in_process
from knowledge_hub.extraction import sniff
from knowledge_hub.extraction import sniff_file
from knowledge_hub.extraction import text_outcome
from tests.conftest import shared_data
from tests.test_extraction_pdf import memory_bomb_pdf

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = SHARED_DATA / "files"
MISSING_SHARED = f"shared test material not found at {FILES}"

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
EPUB = "application/epub+zip"
HTML = "text/html"
PLAIN = "text/plain"
MARKDOWN = "text/markdown"
RTF = "application/rtf"
DOC = "application/msword"
PNG = "image/png"

# The prefix of each shared file's name says what it really is.
KIND_BY_PREFIX = {
    "pdf": PDF,
    "docx": DOCX,
    "odt": ODT,
    "pptx": PPTX,
    "epub": EPUB,
    "html": HTML,
    "txt": PLAIN,
    "rtf": RTF,
    "doc": DOC,
    "png": PNG,
}

# Recorded reasons for the files that are kept but yield no text.
EXPECTED_REASONS = {
    "pdf-ocr_text.pdf": (
        "No text layer: the PDF looks like a scanned image, and OCR is not available."
    ),
    "png-raw_text.png": "An image has no text layer, and OCR is not available.",
}

# Words that must come out of the files that have no X.expected.txt.
EXPECTED_PHRASES = {
    "odt-standardized_text.odt": "the quick brown fox jumps over the lazy dog",
    "pdf-standardized_text.pdf": "the quick brown fox jumps over the lazy dog",
    "no_ext-pdf_standardized_text": "the quick brown fox jumps over the lazy dog",
    "no_ext-docx_paragraphs_and_tables": "this is the paragraph before the table",
    "pptx-raw_text.pptx": "i love powerpoint a lot",
    "doc-raw_text.doc": "i love word documents they are lovely",
    "txt-raw_text.txt": "little bo peep has lost her sheep",
    "LICENSE-textract.txt": "the mit license",
}

PAGE_COUNTS = {
    "pdf-raw_text.pdf": 2,
    "pdf-two_column.pdf": 6,
    "pdf-ocr_text.pdf": 3,
    "pdf-standardized_text.pdf": 1,
    "no_ext-pdf_standardized_text": 1,
}

ZIP_BOMB = "The file looks like a ZIP bomb"


def shared_documents() -> list[object]:
    """List the shared documents (not their expected texts) as test parameters."""
    if not FILES.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING_SHARED))]
    return [
        pytest.param(path, id=path.name)
        for path in sorted(FILES.iterdir())
        if path.is_file() and not path.name.endswith(".expected.txt")
    ]


def true_kind(path: Path) -> str:
    """Return the media type a shared document really has, from its name."""
    if path.name == "LICENSE-textract.txt":
        return PLAIN
    stem = path.name.removeprefix("no_ext-")
    prefix = re.split(r"[-_]", stem, maxsplit=1)[0]
    return KIND_BY_PREFIX[prefix]


def words(text: str) -> Counter[str]:
    """Return the multiset of lowercased words in text."""
    return Counter(re.findall(r"\w+", text.lower()))


def coverage(expected: str, found: str) -> float:
    """Return the share of expected words (with repeats) that occur in found."""
    wanted = words(expected)
    got = words(found)
    return sum(min(count, got[word]) for word, count in wanted.items()) / sum(wanted.values())


@pytest.fixture(scope="module")
def warm_worker(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Start the extraction fork server so timing tests measure only the work."""
    sample = tmp_path_factory.mktemp("warm") / "warm.txt"
    sample.write_text("warm up\n", encoding="utf-8")
    assert extract(sample, PLAIN).text == "warm up"


# ---------------------------------------------------------------------------
# The public surface
# ---------------------------------------------------------------------------


def test_public_constants_are_consistent() -> None:
    assert EXTRACTABLE_TYPES <= ACCEPTED_TYPES.keys()
    assert ACCEPTED_TYPES[PDF] == "PDF"
    for media_type in (PDF, DOCX, ODT, HTML, PLAIN, MARKDOWN, RTF, EPUB, PPTX, DOC):
        assert media_type in EXTRACTABLE_TYPES
    for media_type in (PNG, "image/jpeg", "image/tiff"):
        assert media_type in ACCEPTED_TYPES
        assert media_type not in EXTRACTABLE_TYPES
    assert issubclass(UnsupportedType, ValueError)
    with pytest.raises(AttributeError):
        Extraction("", None, None).text = "changed"  # type: ignore[misc]


# ---------------------------------------------------------------------------
# Shared documents
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", shared_documents())
def test_shared_document_is_sniffed_from_its_bytes(path: Path) -> None:
    kind = true_kind(path)
    assert sniff_file(path) == kind
    # The first 64 KiB suffice too, even for these ZIP-based documents.
    with path.open("rb") as handle:
        assert sniff(handle.read(64 * 1024), path.name) == kind


@pytest.mark.slow
@pytest.mark.parametrize("path", shared_documents())
def test_shared_document_yields_its_text_or_a_reason(path: Path, warm_worker: None) -> None:
    result = extract(path, sniff_file(path))

    assert result.page_count == PAGE_COUNTS.get(path.name)
    expected_file = path.with_name(path.stem + ".expected.txt")
    if path.name in EXPECTED_REASONS:
        assert result.error == EXPECTED_REASONS[path.name]
        assert result.text == ""
    elif expected_file.exists():
        assert result.error is None
        expected = expected_file.read_text(encoding="utf-8")
        assert coverage(expected, result.text) >= 0.95
    else:
        assert result.error is None
        phrase = EXPECTED_PHRASES[path.name]
        assert phrase in " ".join(re.findall(r"\w+", result.text.lower()))


@pytest.mark.skipif(not FILES.is_dir(), reason=MISSING_SHARED)
def test_docx_table_cells_become_separate_lines() -> None:
    result = extract_in_process(FILES / "docx-paragraphs_and_tables.docx", DOCX)
    lines = result.text.splitlines()
    assert lines[0] == "This is the paragraph before the table. It should appear first."
    assert "Row 1, Column 1" in lines and "Row 2, Column 3" in lines
    assert lines.index("Row 1, Column 1") < lines.index("Inner 1,1")
    assert lines[-1] == "This is the paragraph after the table. It should appear last."


@pytest.mark.skipif(not FILES.is_dir(), reason=MISSING_SHARED)
def test_pptx_slides_come_in_presentation_order() -> None:
    text = extract_in_process(FILES / "pptx-raw_text.pptx", PPTX).text
    assert text.startswith("I love PowerPoint. A lot.")


# ---------------------------------------------------------------------------
# Sniffing never trusts the name
# ---------------------------------------------------------------------------


@pytest.mark.skipif(not FILES.is_dir(), reason=MISSING_SHARED)
def test_pdf_named_docx_is_a_pdf() -> None:
    pdf = FILES / "pdf-raw_text.pdf"
    assert sniff_file(pdf, "report.docx") == PDF
    assert sniff(pdf.read_bytes()[:65536], "report.docx") == PDF
    docx = FILES / "docx-raw_text.docx"
    assert sniff_file(docx, "notes.md") == DOCX


def test_executable_named_pdf_is_refused(tmp_path: Path) -> None:
    program = Path(sys.executable).resolve()
    with program.open("rb") as handle:
        head = handle.read(65536)
    with pytest.raises(UnsupportedType) as refused:
        sniff(head, "invoice.pdf")
    message = str(refused.value)
    assert "program" in message
    assert "Accepted types are:" in message and "PDF" in message

    windows = tmp_path / "setup.pdf"
    windows.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(200))
    with pytest.raises(UnsupportedType, match="Windows program"):
        sniff_file(windows, "setup.pdf")


def test_random_bytes_named_pdf_are_refused(tmp_path: Path) -> None:
    noise = tmp_path / "scan.pdf"
    noise.write_bytes(random.Random(20240611).randbytes(100_000))
    with pytest.raises(UnsupportedType, match="not recognised"):
        sniff_file(noise, "scan.pdf")


def test_empty_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(UnsupportedType, match="empty"):
        sniff_file(empty)
    with pytest.raises(UnsupportedType, match="empty"):
        sniff(b"\xef\xbb\xbf", "bom-only.txt")


def test_other_archives_and_office_files_are_refused(tmp_path: Path) -> None:
    plain_zip = tmp_path / "letter.docx"
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("letter.txt", "Dear committee,")
    with pytest.raises(UnsupportedType, match="ZIP archive"):
        sniff_file(plain_zip, "letter.docx")

    drawing = tmp_path / "budget.odt"
    with zipfile.ZipFile(drawing, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.graphics")
        archive.writestr("content.xml", "<office:document-content/>")
    with pytest.raises(UnsupportedType, match="OpenDocument drawing"):
        sniff_file(drawing)

    gzip_file = tmp_path / "notes.txt"
    gzip_file.write_bytes(b"\x1f\x8b\x08\x00" + bytes(64) + os.urandom(64))
    with pytest.raises(UnsupportedType, match="gzip"):
        sniff_file(gzip_file)


def test_name_only_separates_markdown_from_plain_text() -> None:
    text = b"# Minutes\n\nThe *Task Force* met on 3 June.\n"
    assert sniff(text, "minutes.md") == MARKDOWN
    assert sniff(text, "minutes.MARKDOWN") == MARKDOWN
    assert sniff(text, "minutes.txt") == PLAIN
    assert sniff(text, "") == PLAIN
    page = b"<!DOCTYPE html>\n<html><body><p>Hello</p></body></html>"
    assert sniff(page, "page.md") == HTML
    assert sniff(page, "page.txt") == HTML
    assert sniff(b"{\\rtf1\\ansi Hello}", "hello.md") == RTF


def test_text_in_various_encodings_is_text() -> None:
    assert sniff("Доклад о работе".encode("utf-16"), "report.txt") == PLAIN
    assert sniff("Café “déjà vu”".encode("cp1252"), "note.txt") == PLAIN
    # A multi-byte character cut at the end of the sniffed prefix is still text.
    assert sniff("典型".encode()[:-1], "") == PLAIN
    assert (
        sniff(b"<?xml version='1.0'?>\n<!-- x -->\n<html xmlns='http://www.w3.org/1999/xhtml'/>")
        == HTML
    )


# ---------------------------------------------------------------------------
# Text in several scripts
# ---------------------------------------------------------------------------

ARABIC = "يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق."
CHINESE = "人人生而自由，在尊严和权利上一律平等。"
RUSSIAN = "Все люди рождаются свободными и равными в своем достоинстве и правах."


@pytest.mark.slow
def test_markdown_plain_text_and_html_keep_their_scripts(tmp_path: Path) -> None:
    markdown = tmp_path / "upload-1"
    markdown.write_text(f"# Статья 1\n\n{RUSSIAN}\n\n{ARABIC}\n\n{CHINESE}\n", encoding="utf-8")
    utf16 = tmp_path / "upload-2"
    utf16.write_text(f"{CHINESE}\r\n{ARABIC}\r\n", encoding="utf-16")
    page = tmp_path / "upload-3"
    page.write_bytes(
        (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Всеобщая декларация</title>"
            "<style>p { color: red }</style><script>var hidden = 'скрыто';</script></head>"
            f"<body><h1>Статья&nbsp;1</h1><p>{RUSSIAN}</p><p dir='rtl'>{ARABIC}</p>"
            f"<div>{CHINESE} &amp; &#x4eba;</div></body></html>"
        ).encode()
    )

    assert sniff_file(markdown, "article-1.md") == MARKDOWN
    assert sniff_file(utf16, "article-1.txt") == PLAIN
    assert sniff_file(page, "article-1.md") == HTML

    text = extract(markdown, MARKDOWN).text
    assert RUSSIAN in text and ARABIC in text and CHINESE in text
    assert text.startswith("Статья 1\n\n")  # the heading without its markup

    assert extract(utf16, PLAIN).text == f"{CHINESE}\n{ARABIC}"

    lines = extract(page, HTML).text.splitlines()
    assert lines[0] == "Всеобщая декларация"
    assert "Статья 1" in lines
    assert RUSSIAN in lines and ARABIC in lines
    assert f"{CHINESE} & 人" in lines
    assert not any("скрыто" in line or "color" in line for line in lines)


def test_legacy_and_rtf_text_is_decoded(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.txt"
    legacy.write_bytes("Café “déjà vu” – naïve".encode("cp1252"))
    assert extract_in_process(legacy, PLAIN).text == "Café “déjà vu” – naïve"

    rtf = tmp_path / "letter.rtf"
    # \u escapes carry Cyrillic, and an emoji as a UTF-16 surrogate pair.
    rtf.write_bytes(
        b"{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Arial;}}"
        b"\\f0 \\u1042?\\u1089?\\u1077? \\u-10179?\\u-8704? caf\\'e9\\par}"
    )
    assert sniff_file(rtf) == RTF
    assert extract_in_process(rtf, RTF).text == "Все \U0001f600 café"


@pytest.mark.slow
def test_whitespace_is_normalised_and_text_is_capped(tmp_path: Path) -> None:
    messy = tmp_path / "messy.txt"
    messy.write_bytes(b"one  \t two\r\n\r\n\r\n\r\nthree\x00\x07 four  \n")
    assert extract_in_process(messy, PLAIN).text == "one two\n\nthree four"

    huge = tmp_path / "huge.txt"
    # 12 million characters; the emoji makes Python store each one in 4 bytes.
    huge.write_bytes("\U0001f600 ".encode() + b"word " * 2_400_000)
    result = extract(huge, PLAIN)
    assert result.error is None
    assert len(result.text) == 10_000_000
    assert result.text.startswith("\U0001f600 word word")
    assert result.text.endswith(" wor")


# ---------------------------------------------------------------------------
# Hostile files
# ---------------------------------------------------------------------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def write_docx(path: Path, document_xml: bytes, extra_members: int = 0) -> None:
    """Write a minimal DOCX package around document_xml."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", document_xml)
        for number in range(extra_members):
            archive.writestr(f"word/media/part{number}.bin", b"")


def test_small_docx_built_here_is_read(tmp_path: Path) -> None:
    path = tmp_path / "built.docx"
    write_docx(
        path,
        (
            f'<w:document xmlns:w="{W_NS}"><w:body>'
            "<w:p><w:pPr><w:tabs><w:tab w:val='left' w:pos='720'/></w:tabs></w:pPr>"
            "<w:r><w:t>Name</w:t><w:tab/><w:t>Value</w:t></w:r></w:p>"
            "<w:p><w:r><w:t xml:space='preserve'>Line one</w:t><w:br/><w:t>Line two</w:t></w:r>"
            "<w:del><w:r><w:delText>deleted</w:delText></w:r></w:del></w:p>"
            "</w:body></w:document>"
        ).encode(),
    )
    assert sniff_file(path) == DOCX
    assert extract(path, DOCX).text == "Name Value\nLine one\nLine two"


def test_zip_bomb_docx_is_not_unpacked(tmp_path: Path, warm_worker: None) -> None:
    bomb = tmp_path / "bomb.docx"
    # 64 MiB of blanks deflate to about 64 KiB: a 1000:1 ratio.
    padding = b" " * (64 * 1024 * 1024)
    write_docx(
        bomb,
        f'<w:document xmlns:w="{W_NS}"><w:body>'.encode() + padding + b"</w:body></w:document>",
    )
    assert bomb.stat().st_size < 1024 * 1024
    assert sniff_file(bomb) == DOCX

    started = time.monotonic()
    result = extract(bomb, DOCX, seconds=5)
    assert time.monotonic() - started < 2
    assert result.text == ""
    assert result.error is not None and result.error.startswith(ZIP_BOMB)


def test_zip_with_too_many_members_is_not_unpacked(tmp_path: Path) -> None:
    crowded = tmp_path / "crowded.docx"
    write_docx(crowded, f'<w:document xmlns:w="{W_NS}"><w:body/></w:document>'.encode(), 10_001)
    assert sniff_file(crowded) == DOCX
    result = extract(crowded, DOCX, seconds=5)
    assert result.error is not None and result.error.startswith(ZIP_BOMB)


def test_zip_member_lying_about_its_size_is_cut_off(tmp_path: Path) -> None:
    honest = io.BytesIO()
    body = f'<w:document xmlns:w="{W_NS}"><w:body>'.encode() + b" " * (8 * 1024 * 1024)
    with zipfile.ZipFile(honest, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", body)
    data = bytearray(honest.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        local = archive.getinfo("word/document.xml").header_offset
    # The central record's name follows its 46 fixed bytes; the local one's follows 30.
    central = data.rindex(b"word/document.xml") - 46
    assert data[local : local + 4] == b"PK\x03\x04" and data[central : central + 4] == b"PK\x01\x02"
    # Claim 1000 bytes uncompressed in both the local and the central header.
    struct.pack_into("<I", data, local + 22, 1000)
    struct.pack_into("<I", data, central + 24, 1000)
    liar = tmp_path / "liar.docx"
    liar.write_bytes(bytes(data))

    result = extract(liar, DOCX, seconds=5)
    assert result.text == ""
    assert result.error is not None
    assert result.error.startswith(("The file is damaged", ZIP_BOMB))


def test_billion_laughs_docx_is_refused(tmp_path: Path) -> None:
    entities = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    laughs = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY lol0 "lol">{entities}]>'
        f'<w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>'
        "</w:body></w:document>"
    )
    path = tmp_path / "laughs.docx"
    write_docx(path, laughs.encode())

    started = time.monotonic()
    result = extract(path, DOCX, seconds=5)
    assert time.monotonic() - started < 3
    assert result.text == ""
    assert result.error is not None and "entities are not allowed" in result.error


def test_odt_with_external_entity_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-MARKER-93172", encoding="utf-8")
    content = (
        f'<?xml version="1.0"?><!DOCTYPE office:document-content ['
        f'<!ENTITY leak SYSTEM "{secret.as_uri()}">]>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
        "<office:body><office:text><text:p>&leak;</text:p></office:text></office:body>"
        "</office:document-content>"
    )
    path = tmp_path / "leak.odt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", ODT, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", "<manifest/>")
    assert sniff_file(path) == ODT
    with path.open("rb") as handle:
        assert sniff(handle.read(), "leak.odt") == ODT

    result = extract(path, ODT, seconds=5)
    assert "SECRET-MARKER" not in result.text
    assert result.error is not None and "entities are not allowed" in result.error


def build_pdf(content_chunks: list[bytes] | None = None, content: bytes = b"") -> bytes:
    """Return a one-page PDF whose content stream is content, FlateDecode-compressed."""
    compressor = zlib.compressobj(6)
    stream = b"".join(compressor.compress(chunk) for chunk in (content_chunks or [content]))
    stream += compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
        b" /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


SHOW_TEXT = b"BT /F1 12 Tf 72 700 Td (Hello Task Force) Tj ET\n"


def slow_pdf() -> bytes:
    """Return a small PDF that takes PDFium seconds: 160 MB of graphics-state operators.

    (PDFium drops text repeated at one place, so repeating SHOW_TEXT is fast.)
    """
    return build_pdf([b"q Q " * 1_000_000] * 40 + [SHOW_TEXT])


def test_pdf_built_here_is_read(tmp_path: Path) -> None:
    path = tmp_path / "hello.pdf"
    path.write_bytes(build_pdf(content=SHOW_TEXT))
    assert extract(path, PDF) == Extraction("Hello Task Force", 1, None)


def test_pdf_made_with_fpdf2_is_read(tmp_path: Path) -> None:
    fpdf = pytest.importorskip("fpdf")
    document = fpdf.FPDF()
    for number in (1, 2):
        document.add_page()
        document.set_font("helvetica", size=12)
        document.cell(text=f"Meeting {number} of the Task Force")
    path = tmp_path / "meetings.pdf"
    document.output(str(path))
    result = extract(path, sniff_file(path))
    assert result.page_count == 2 and result.error is None
    assert result.text.splitlines()[0] == "Meeting 1 of the Task Force"
    assert "Meeting 2 of the Task Force" in result.text


def test_truncated_pdf_is_reported_damaged(tmp_path: Path) -> None:
    whole = build_pdf(content=SHOW_TEXT * 50)
    path = tmp_path / "truncated.pdf"
    path.write_bytes(whole[: len(whole) // 2])
    assert sniff_file(path) == PDF
    result = extract(path, PDF, seconds=5)
    assert result.text == ""
    assert result.error is not None
    assert result.error.startswith("The PDF is damaged or truncated: ")


@pytest.mark.slow
def test_pdf_that_takes_too_long_is_stopped(tmp_path: Path, warm_worker: None) -> None:
    path = tmp_path / "slow.pdf"
    path.write_bytes(slow_pdf())
    assert path.stat().st_size < 200_000

    started = time.monotonic()
    result = extract(path, PDF, seconds=1)
    elapsed = time.monotonic() - started
    assert result == Extraction("", None, "Extraction took longer than 1 s and was stopped.")
    assert elapsed < 1 + 1 + 0.5  # the limit, the grace, and some slack for a busy machine


def flate_bomb_pdf(path: Path) -> Path:
    """Write a PDF whose content stream inflates from about 128 KiB to 128 MiB."""
    zeros = bytes(8 * 1024 * 1024)
    path.write_bytes(build_pdf([zeros] * 16))
    assert path.stat().st_size < 1024 * 1024
    return path


@pytest.mark.slow
def test_flate_bomb_pdf_is_stopped(tmp_path: Path, warm_worker: None) -> None:
    bomb = flate_bomb_pdf(tmp_path / "flate-bomb.pdf")
    started = time.monotonic()
    result = extract(bomb, PDF, seconds=5, memory_mb=512)
    assert time.monotonic() - started < 5
    assert result.text == ""
    # PDFium inflates the zeros within this limit and finds nothing to read;
    # a smaller limit stops it (below).
    assert result.error in (
        "The PDF contains no text.",
        "Extraction ran out of memory (limit 512 MB).",
    )


@pytest.mark.slow
def test_pdf_that_balloons_runs_out_of_memory(tmp_path: Path, warm_worker: None) -> None:
    small = tmp_path / "small.pdf"
    small.write_bytes(build_pdf(content=SHOW_TEXT))
    # Less room than the 128 MiB the content stream inflates to.
    limit = 48
    bomb = flate_bomb_pdf(tmp_path / "balloon.pdf")

    started = time.monotonic()
    result = extract(bomb, PDF, seconds=10, memory_mb=limit)
    assert time.monotonic() - started < 5
    assert result == Extraction("", None, f"Extraction ran out of memory (limit {limit} MB).")
    # The same limit leaves room for an ordinary PDF, and this process is unharmed.
    assert extract(small, PDF, memory_mb=limit) == Extraction("Hello Task Force", 1, None)


def test_broken_files_never_raise(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage"
    garbage.write_bytes(random.Random(7).randbytes(5000))
    for media_type in sorted(EXTRACTABLE_TYPES):
        result = extract_in_process(garbage, media_type)
        assert isinstance(result, Extraction)
        if media_type in (PDF, DOCX, ODT, EPUB, PPTX):
            assert result.error, media_type
    missing = extract_in_process(tmp_path / "missing.pdf", PDF)
    assert missing.error is not None and missing.text == ""
    assert extract(garbage, "application/x-unknown").error is not None


# ---------------------------------------------------------------------------
# The worker process
# ---------------------------------------------------------------------------


def open_descriptors() -> int:
    """Count this process's open file descriptors."""
    return len(os.listdir("/proc/self/fd"))


def zombie_children() -> list[int]:
    """Return the pids of this process's children that have exited but not been reaped."""
    zombies = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            zombies.append(int(entry.name))
    return zombies


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_workers_leak_no_processes_or_pipes(tmp_path: Path, warm_worker: None) -> None:
    sample = tmp_path / "sample.txt"
    sample.write_text("Task Force on Social and Solidarity Economy\n", encoding="utf-8")
    slow = tmp_path / "slow.pdf"
    slow.write_bytes(slow_pdf())
    extract(sample, PLAIN)  # settle any descriptors opened on first use
    before = open_descriptors()

    durations = []
    for __ in range(20):
        started = time.perf_counter()
        assert extract(sample, PLAIN).text == "Task Force on Social and Solidarity Economy"
        durations.append(time.perf_counter() - started)
    assert extract(slow, PDF, seconds=0.3).error is not None  # one killed worker too

    assert open_descriptors() == before
    assert multiprocessing.active_children() == []
    assert zombie_children() == []
    # The per-call cost of a worker stays small: a few milliseconds (a fork of
    # the preloaded server, without the main module), never a fresh interpreter.
    assert sorted(durations)[len(durations) // 2] < 0.2


#: A main module that refuses to run anywhere but as the main module: an extraction
#: child that imported it again (as multiprocessing does for its non-fork children)
#: would leave the mark and die.
REFUSING_MAIN = """
import sys
from pathlib import Path

if __name__ != "__main__":
    Path(sys.argv[1] if len(sys.argv) > 1 else {mark!r}).write_text(__name__)
    raise SystemExit("imported again")

from knowledge_hub.extraction import extract
from knowledge_hub.extraction import sniff_file

for name in sys.argv[2:]:
    path = Path(name)
    result = extract(path, sniff_file(path, path.name))
    print(len(result.text.split()), result.error)
"""


@pytest.mark.slow
@pytest.mark.parametrize("started_as", ["script", "module"])
def test_children_do_not_run_the_parents_main_module_again(tmp_path: Path, started_as: str) -> None:
    mark = tmp_path / "imported-again"
    (tmp_path / "refusing_main.py").write_text(REFUSING_MAIN.format(mark=str(mark)))
    sample = tmp_path / "sample.txt"
    sample.write_text("Task Force on Social and Solidarity Economy\n", encoding="utf-8")
    pdf = FILES / "pdf-raw_text.pdf"
    if started_as == "script":
        command = [sys.executable, str(tmp_path / "refusing_main.py")]
    else:
        command = [sys.executable, "-m", "refusing_main"]
    root = Path(__file__).resolve().parents[1]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(root)])}
    finished = subprocess.run(
        [*command, str(mark), str(sample), str(pdf)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    assert not mark.exists()
    counts = [line.split(" ", 1) for line in finished.stdout.splitlines()]
    assert counts[0] == ["7", "None"]
    assert int(counts[1][0]) > 50 and counts[1][1] == "None"


def test_extract_works_from_threads(tmp_path: Path, warm_worker: None) -> None:
    from concurrent.futures import ThreadPoolExecutor

    paths = []
    for number in range(8):
        path = tmp_path / f"note-{number}.txt"
        path.write_text(f"Note number {number}\n", encoding="utf-8")
        paths.append(path)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda p: extract(p, PLAIN), paths))
    assert [r.text for r in results] == [f"Note number {n}" for n in range(8)]


# ---------------------------------------------------------------------------
# The stored outcome read back (outcome.py)
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_the_outcome_is_read_back_from_what_the_readers_store(
    tmp_path: Path, warm_worker: None
) -> None:
    real = shared_data("realfiles")
    long_pdf = memory_bomb_pdf(tmp_path / "long.pdf")
    expected = {
        FILES / "txt-raw_text.txt": TextState.COMPLETE,
        real / "pypdf__libreoffice-writer-password.pdf": TextState.PASSWORD,
        real / "tika__testODTEncrypted.odt": TextState.PASSWORD,
        real / "tika__testWORD_protected_passtika.doc": TextState.PASSWORD,
        FILES / "pdf-ocr_text.pdf": TextState.NEEDS_OCR,
        FILES / "png-raw_text.png": TextState.NEEDS_OCR,
        real / "ocrmypdf__invalid.pdf": TextState.FAILED,
        long_pdf: TextState.PARTIAL,
    }
    for path, state in expected.items():
        result = extract(path, sniff_file(path, path.name), memory_mb=48)
        outcome = text_outcome(bool(result.text), result.error)
        assert outcome.state == state, (path.name, result.error)
    partial = extract(long_pdf, PDF, memory_mb=48)
    outcome = text_outcome(bool(partial.text), partial.error)
    assert (outcome.missing, outcome.stop, outcome.missing_pages()) == (
        ((4, 4),),
        Stop.MEMORY_LIMIT,
        "4",
    )

    # The messages of the readers and the sandbox for what takes long or many pages,
    # and those earlier versions stored.
    read_back = {
        "Read pages 1\u201340 of 352 before the time limit (60 s); "
        "pages 41\u2013352 are missing.": (((41, 352),), None, Stop.TIME_LIMIT),
        "Read page 1 before the time limit (60 s); the rest is missing.": (
            (),
            1,
            Stop.TIME_LIMIT,
        ),
        "No text layer on pages 3\u20139, 12 of 12: they look like scanned images, and OCR "
        "is not available.": (((3, 9), (12, 12)), None, Stop.SCANNED),
        "The PDF is damaged or truncated: page 5: bad xref.": (((5, 5),), None, Stop.DAMAGED),
        "Read all 352 pages, but the time limit (60 s) stopped extraction before it had "
        "finished.": ((), None, Stop.TIME_LIMIT),
    }
    for message, (missing, after, stop) in read_back.items():
        outcome = text_outcome(True, message)
        assert outcome.state == TextState.PARTIAL
        assert (outcome.missing, outcome.missing_after, outcome.stop) == (missing, after, stop)
    assert outcome.missing_count == 0
    legacy = "Legacy Word (.doc) files are not supported for text extraction: save as DOCX."
    assert text_outcome(False, legacy).state == TextState.FAILED
    assert text_outcome(False, None).state == TextState.FAILED
