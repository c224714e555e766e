"""Tests for PDF extraction through PDFium, and for the text clean-up every format goes through.

Real files: the PDFs of the shared real files (skipped when that folder is
absent), and PDFs written here with fpdf2 or byte by byte. Every extraction
runs in the real sandbox. The word counts to reach come from pdftotext
(poppler 22.12), an independent reader, run on the same files.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import unicodedata
import zlib
from pathlib import Path

import pytest

from knowledge_hub.extraction import PDF
from knowledge_hub.extraction import Extraction
from knowledge_hub.extraction import extract
from knowledge_hub.extraction import sniff_file
from knowledge_hub.extraction.text import normalise_text
from knowledge_hub.extraction.text import page_ranges
from tests.conftest import shared_data

#: A bound that only a hang reaches (a cyclic chain read forever, a child never
#: stopped): these tests check that the work ends, not how fast; the speed figures
#: are benchmarks/ business.
HANG_GUARD_SECONDS = 60


NO_TEXT_LAYER = "No text layer: the PDF looks like a scanned image, and OCR is not available."
PASSWORD = (
    "The PDF is protected by a password, so its text cannot be read: "
    "upload a copy without the password."
)


def realfile(name: str) -> Path:
    """A PDF of the shared real files (the test is skipped if they are absent)."""
    path = shared_data("realfiles", name)
    assert path.is_file(), path
    return path


def word_count(text: str) -> int:
    """Count words as pdftotext's figures below were counted."""
    return len(re.findall(r"\w+", text))


@pytest.fixture(scope="module")
def warm_worker(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Start the extraction fork server so timing tests measure only the work."""
    sample = tmp_path_factory.mktemp("warm") / "warm.txt"
    sample.write_text("warm up\n", encoding="utf-8")
    assert extract(sample, "text/plain").text == "warm up"


# ---------------------------------------------------------------------------
# Clean-up of extracted text (all formats)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        # Ligatures and other compatibility characters.
        ("the \ufb01nancial \ufb02ow, e\ufb03cient", "the financial flow, efficient"),
        ("\uff21\uff22\uff23 \uff11\uff12\uff13", "ABC 123"),
        ("x\u00b2 and \u2460", "x2 and 1"),
        # Arabic presentation forms become letters, lam-alef included.
        ("\ufe8d\ufedf\ufefc\ufe8b\ufea4\ufe94 \ufefb", "اللائحة لا"),
        # Chinese keeps its full-width punctuation; full-width digits become ASCII.
        (
            "人人生而自由，在尊严和权利上一律平等。\uff12\uff10\uff12\uff14年（草案）",
            "人人生而自由，在尊严和权利上一律平等。2024年（草案）",
        ),
        ("Привет. Как дела? مرحبا بالعالم 你好 世界 حَبيبي", None),
        # Words broken at the end of a line.
        ("the finan-\ncial report", "the financial report"),
        ("social and solidarity eco-\nnomy", "social and solidarity economy"),
        ("Franco-\nGerman talks", "Franco-German talks"),
        ("cooperation with non-\nUN bodies", "cooperation with non-UN bodies"),
        ("THE FINAN-\nCIAL YEAR", "THE FINANCIAL YEAR"),
        ("decision-making, as in decision-\nmaking", "decision-making, as in decision-making"),
        ("COVID-\n19", "COVID-\n19"),
        ("end of page-\n\nnext page", "end of page-\n\nnext page"),
        ("- first\n- second", "- first\n- second"),
        ("soft\u00ad\nhyphen", "softhyphen"),
        # PDFium's marks where it joined a hyphenated word.
        ("consectetuer adip\x02iscing elit", "consectetuer adipiscing elit"),
        ("adip\ufffeiscing", "adipiscing"),
        ("A5 (Schwarz\x02Weiß, Ringbindung)", "A5 (Schwarz-Weiß, Ringbindung)"),
        # Control characters go; tabs, line ends and page breaks become spaces and lines.
        ("abgeschlossen. \x04\r\nBeispiel\x13 \x08", "abgeschlossen.\nBeispiel"),
        ("a\tb\x00c\x1bd\u200be\ufeff", "a bcde"),
        ("one\x0ctwo\r\nthree\rfour", "one\ntwo\nthree\nfour"),
    ],
)
def test_text_clean_up(raw: str, clean: str | None) -> None:
    assert normalise_text(raw) == (raw if clean is None else clean)


def test_clean_up_keeps_the_order_of_right_to_left_text() -> None:
    arabic = "يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق."
    assert normalise_text(f"Article 1: {arabic}") == f"Article 1: {arabic}"


def test_clean_up_stays_fast_on_long_runs_without_spaces() -> None:
    chinese = "人人生而自由" * 200_000 + "-\n好"
    started = time.perf_counter()
    assert normalise_text(chinese + "adip\x02iscing").endswith("好adipiscing")
    assert time.perf_counter() - started < HANG_GUARD_SECONDS


def test_page_ranges() -> None:
    assert page_ranges([4], 6) == "page 4 of 6"
    assert page_ranges([1, 2, 3, 5, 6], 6) == "pages 1\u20133, 5\u20136 of 6"
    assert page_ranges(range(213, 353)) == "pages 213\u2013352"


# ---------------------------------------------------------------------------
# The real files
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_pdfium_stays_out_of_the_web_process() -> None:
    # PDFium is not thread-safe: only the fork server and its children load it.
    probe = "import sys, knowledge_hub.extraction; print('pypdfium2' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.stdout.strip() == "False"


EXACT_TEXTS = {
    "hyperspot__test_file_one_page_en.pdf": (1, "test pdf file"),
    "hyperspot__test_file_one_page_international.pdf": (
        1,
        "This is a façade file — déjà vu with naïve coöperation and touch of jalapeño.",
    ),
    # Two blank pages: no text, no image, so not scans.
    "hyperspot__test_file_three_pages_two_empty_en.pdf": (
        3,
        "test pdf file with 3 pages total and 2 empty pages",
    ),
    # pypdf reads this Arabic right where PDFium reverses it (see formats/pdf.py).
    "pypdf__habibi.pdf": (1, "حَبيبي habibi حَبيبي"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXACT_TEXTS))
def test_real_pdf_exact_text(name: str) -> None:
    pages, text = EXACT_TEXTS[name]
    assert extract(realfile(name), PDF) == Extraction(text, pages, None)


# name: (pages, words pdftotext finds, share of them to reach, phrases in order)
PHRASES = {
    "hyperspot__test_file_two_pages_international.pdf": (
        2,
        76,
        1.0,
        [
            "Spanish: ¡Hola! ¿Cómo estás?",
            "Russian: Привет. Как дела?",
            # Spaced, in logical order (pypdf glues them: "مرحبابالعالم").
            "مرحبا بالعالم",
            "שלום עולם",
            "Chinese (Simplified): 你好 世界",
            "Japanese:こんにちは",
            "- Infinity: ∞",
        ],
    ),
    "pypdf__GeoTopo-komprimiert.pdf": (
        117,
        27_443,
        0.99,
        [
            "Einführung in die\nGeometrie und Topologie",
            # Words that were broken at line ends, joined again; a compound keeps its hyphen.
            "in A5 (Schwarz-Weiß, Ringbindung)",
            "ihre Übungsaufgaben und Lösungen zu benutzen",
            "mittels Widerspruchsbeweisen sollte bekannt sein",
            "Schnitte zweier Kugeln mit unterschiedlichem Mittelpunkt",
            "Satz 1.1 (Heine-Borel)",
        ],
    ),
    "pypdf__google-doc-document.pdf": (
        1,
        183,
        1.0,
        ["Example document", "Beautiful is better than ugly.", "Explicit is better than implicit."],
    ),
    "pypdf__multicolumn.pdf": (
        3,
        1051,
        1.0,
        [
            "Two-Column Document with Lorem Ipsum",
            "Lorem ipsum dolor sit amet, consectetuer adipiscing elit.",
        ],
    ),
    # An OCR layer over the scan (graph_ocred), and the one page that has one.
    "ocrmypdf__graph_ocred.pdf": (1, 19, 1.0, ["Oppose"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PHRASES))
def test_real_pdf_words_and_phrases(name: str) -> None:
    pages, reference_words, share, phrases = PHRASES[name]
    result = extract(realfile(name), PDF)
    assert result.error is None and result.page_count == pages
    assert word_count(result.text) >= share * reference_words
    position = 0
    for phrase in phrases:
        found = result.text.find(phrase, position)
        assert found >= 0, phrase
        position = found + len(phrase)
    assert not re.search("[\x00-\x08\x0e-\x1f\ufffe]", result.text)


SCANS = {
    "ocrmypdf__c02-22.pdf": 1,
    "ocrmypdf__cardinal.pdf": 4,
    "ocrmypdf__ccitt.pdf": 1,
    "ocrmypdf__francais.pdf": 1,
    "ocrmypdf__jbig2.pdf": 1,
    "ocrmypdf__linn.pdf": 1,
    "ocrmypdf__skew.pdf": 1,
}


@pytest.mark.parametrize("name", sorted(SCANS))
def test_scanned_pdf_needs_ocr(name: str) -> None:
    assert extract(realfile(name), PDF) == Extraction("", SCANS[name], NO_TEXT_LAYER)


def test_mostly_scanned_pdf_is_flagged_and_keeps_its_text() -> None:
    # Six scanned pages; only page 4 has an OCR layer.
    result = extract(realfile("ocrmypdf__multipage.pdf"), PDF)
    assert result.page_count == 6
    assert result.error == (
        "No text layer on pages 1\u20133, 5\u20136 of 6: they look like scanned images, "
        "and OCR is not available."
    )
    assert "Oppose" in result.text and word_count(result.text) == 19


def test_password_protected_pdf() -> None:
    path = realfile("pypdf__libreoffice-writer-password.pdf")
    assert extract(path, PDF) == Extraction("", None, PASSWORD)


def test_invalid_pdf_is_reported_damaged() -> None:
    path = realfile("ocrmypdf__invalid.pdf")
    assert sniff_file(path) == PDF
    assert extract(path, PDF) == Extraction(
        "", None, "The PDF is damaged or truncated: its structure cannot be read."
    )


# ---------------------------------------------------------------------------
# PDFs written here
# ---------------------------------------------------------------------------


def write_pdf(path: Path, pages: list[list[bytes]]) -> Path:
    """Write a PDF with one page per list of content-stream chunks (Helvetica is /F1)."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    kids = []
    for number, chunks in enumerate(pages, start=1):
        page_id, content_id = 2 + 2 * number, 3 + 2 * number
        compressor = zlib.compressobj(6)
        stream = b"".join(compressor.compress(chunk) for chunk in chunks) + compressor.flush()
        objects[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
            b" /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content_id
        )
        objects[content_id] = (
            b"<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(stream)
            + stream
            + b"\nendstream"
        )
        kids.append(b"%d 0 R" % page_id)
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(pages))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    size = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    path.write_bytes(bytes(out))
    return path


def report_page(number: int, lines: int) -> list[bytes]:
    """The content of a page of text lines, each naming its page."""
    return [
        b"BT /F1 10 Tf 40 %d Td (Page %d line %d of the report) Tj ET\n"
        % (780 - 12 * (line % 60), number, line)
        for line in range(lines)
    ]


def test_pdf_without_pages(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "empty.pdf", [])
    assert extract(path, PDF) == Extraction("", 0, "The PDF has no pages.")


@pytest.mark.slow
def test_timeout_keeps_the_pages_read(tmp_path: Path, warm_worker: None) -> None:
    # 3,000 pages take PDFium seconds (about 9 s on the development machine).
    total = 3000
    path = write_pdf(tmp_path / "long.pdf", [report_page(n, 120) for n in range(1, total + 1)])

    started = time.monotonic()
    result = extract(path, PDF, seconds=0.5)
    assert time.monotonic() - started < HANG_GUARD_SECONDS  # stopped, not left running
    assert result.page_count == total
    assert result.error is not None
    found = re.fullmatch(
        r"Read pages 1\u2013(\d+) of 3000 before the time limit \(0\.5 s\); "
        r"pages (\d+)\u20133000 are missing\.",
        result.error,
    )
    assert found, result.error
    read = int(found.group(1))
    assert int(found.group(2)) == read + 1 and 1 <= read < total
    assert result.text.startswith("Page 1 line 0 of the report")
    assert f"Page {read} line 119 of the report" in result.text
    assert f"Page {read + 1} line" not in result.text


def memory_bomb_pdf(path: Path) -> Path:
    """Write a PDF of three pages of text and a fourth whose content inflates to 128 MiB,
    far beyond a 48 MB limit: read under that limit, it keeps pages 1–3 and misses 4."""
    bomb = [bytes(8 * 1024 * 1024)] * 16
    return write_pdf(path, [*(report_page(n, 3) for n in (1, 2, 3)), bomb])


@pytest.mark.slow
def test_out_of_memory_keeps_the_pages_read(tmp_path: Path, warm_worker: None) -> None:
    path = memory_bomb_pdf(tmp_path / "bomb.pdf")
    result = extract(path, PDF, seconds=10, memory_mb=48)
    pages = ["\n".join(f"Page {n} line {m} of the report" for m in range(3)) for n in (1, 2, 3)]
    assert result == Extraction(
        "\n\n".join(pages),
        4,
        "Extraction ran out of memory (limit 48 MB). Only pages 1\u20133 of 4 were read; "
        "page 4 is missing.",
    )


def test_pdf_with_an_empty_user_password_opens(tmp_path: Path) -> None:
    from fpdf import FPDF
    from fpdf.enums import EncryptionMethod

    for user_password, expected in (
        ("", Extraction("Only the owner may edit this", 1, None)),
        ("user-secret", Extraction("", None, PASSWORD)),
    ):
        document = FPDF()
        document.add_page()
        document.set_font("helvetica", size=12)
        document.cell(text="Only the owner may edit this")
        document.set_encryption(
            owner_password="owner-secret",
            user_password=user_password,
            encryption_method=EncryptionMethod.RC4,
        )
        path = tmp_path / f"protected-{bool(user_password)}.pdf"
        document.output(str(path))
        assert extract(path, PDF) == expected


# --- Arabic -----------------------------------------------------------------

RULE = "اللائحة الداخلية لا تسمح بذلك"
RULE_2 = "قررت اللجنة أن تنظر في التقرير السنوي"


def arabic_font() -> Path:
    """A font on this machine with Arabic presentation forms, lam-alef included."""
    from fontTools.ttLib import TTFont

    listed = subprocess.run(
        ["fc-list", ":lang=ar", "file"], capture_output=True, text=True, check=False
    ).stdout
    needed = {ord(char) for char in "\ufefb\ufefc\ufedf\ufe8d\ufe94"}
    for line in sorted(listed.splitlines()):
        path = Path(line.rstrip().rstrip(":"))
        if path.suffix.lower() != ".ttf":
            continue
        with TTFont(path, lazy=True) as font:
            if needed <= set(font.getBestCmap()):
                return path
    pytest.skip("no font with Arabic presentation forms (fonts-dejavu-core has them)")


def shaped(text: str) -> str:
    """Shape Arabic words into presentation forms, in logical order (a small shaper).

    Each letter takes its isolated, initial, medial or final form by whether
    it joins its neighbours; lam followed by alef becomes the lam-alef ligature.
    """

    def form(char: str, kind: str) -> str:
        return unicodedata.lookup(f"{unicodedata.name(char)} {kind} FORM")

    def joins_next(char: str) -> bool:
        try:
            form(char, "INITIAL")
        except KeyError:
            return False
        return True

    words = []
    for word in text.split(" "):
        out, index = [], 0
        while index < len(word):
            char = word[index]
            after_joining = index > 0 and joins_next(word[index - 1])
            if char == "ل" and word[index + 1 : index + 2] == "ا":
                kind = "FINAL" if after_joining else "ISOLATED"
                out.append(unicodedata.lookup(f"ARABIC LIGATURE LAM WITH ALEF {kind} FORM"))
                index += 2
                continue
            before_joining = index + 1 < len(word) and joins_next(char)
            kind = {
                (True, True): "MEDIAL",
                (True, False): "FINAL",
                (False, True): "INITIAL",
                (False, False): "ISOLATED",
            }[(after_joining, before_joining)]
            out.append(form(char, kind))
            index += 1
        words.append("".join(out))
    return " ".join(words)


def arabic_pdf(path: Path, lines: list[str], ligature_text: str) -> Path:
    """Write an Arabic PDF as generators do: shaped glyphs drawn left to right (visual order).

    ligature_text says what the text layer maps each glyph to:
    "forms" keeps the presentation forms, as older generators write;
    "letters" maps each glyph to its letters, the lam-alef glyph to the two
    letters lam and alef, as current word processors (shaping with HarfBuzz) do.
    """
    from fpdf import FPDF
    from pypdf import PdfReader
    from pypdf import PdfWriter
    from pypdf.generic import NameObject

    document = FPDF()
    document.add_page()
    document.add_font("arabic", fname=str(arabic_font()))
    document.set_font("arabic", size=14)
    for line in lines:
        # Visual order: the line reversed, as it is drawn from the left.
        document.cell(h=10, text=shaped(line)[::-1], new_x="LMARGIN", new_y="NEXT")
    document.output(str(path))
    if ligature_text == "forms":
        return path

    writer = PdfWriter(clone_from=PdfReader(path))
    font = writer.pages[0]["/Resources"]["/Font"]
    for name in font:
        cmap = font[name].get_object()[NameObject("/ToUnicode")].get_object()

        def letters(match: re.Match[str]) -> str:
            target = unicodedata.normalize("NFKC", chr(int(match.group(2), 16)))
            return f"<{match.group(1)}> <{target.encode('utf-16-be').hex().upper()}>"

        data = re.sub(r"<([0-9A-F]{4})> <([0-9A-F]{4})>", letters, cmap.get_data().decode())
        cmap.set_data(data.encode())
    with path.open("wb") as handle:
        writer.write(handle)
    return path


@pytest.mark.parametrize("ligature_text", ["forms", "letters"])
def test_generated_arabic_pdf_reads_in_logical_order(tmp_path: Path, ligature_text: str) -> None:
    path = arabic_pdf(tmp_path / f"rule-{ligature_text}.pdf", [RULE, RULE_2], ligature_text)
    result = extract(path, PDF)
    assert result == Extraction(f"{RULE}\n{RULE_2}", 1, None)
    assert "لا" in result.text.split()


def test_mostly_latin_page_keeps_pdfium_reading_of_its_arabic() -> None:
    # A few Arabic words on an English page stay with PDFium, which spaces them.
    result = extract(realfile("hyperspot__test_file_two_pages_international.pdf"), PDF)
    assert "مرحبا بالعالم" in result.text and "مرحبابالعالم" not in result.text
