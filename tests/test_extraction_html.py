"""HTML known by its first element, and text decoded in the encoding that fits it.

The real pages of shared/data/realfiles (Apache Tika's HTML test documents: pages that
open with a script or a div, a UTF-16 page, Arabic under a false or a noisy charset, a
page with stray binary bytes in it) go through the sniffer and the real sandbox; the
rest is built here, byte by byte.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from knowledge_hub import extraction
from knowledge_hub.extraction import UnsupportedType
from knowledge_hub.extraction import extract
from knowledge_hub.extraction import extract_in_process
from knowledge_hub.extraction import sniff
from knowledge_hub.extraction import sniff_file
from knowledge_hub.extraction.text import DETECT_BYTES
from tests.conftest import shared_data

HTML = extraction.HTML
PLAIN = extraction.PLAIN
MARKDOWN = extraction.MARKDOWN

UNDECODABLE = "Part of the text could not be decoded: it was read as"

RUSSIAN = "Все люди рождаются свободными и равными в своем достоинстве и правах."
ARABIC = "يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق."
JAPANESE = "すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。"
CHINESE = "人人生而自由，在尊严和权利上一律平等。他们赋有理性和良心，并应以兄弟关系的精神相对待。"
FRENCH = "Le comité a décidé d’étendre la portée du programme à l’économie sociale — déjà."


def realfile(name: str) -> Path:
    """A real file of the shared material (the test is skipped without it)."""
    path = shared_data("realfiles", name)
    if not path.is_file():
        pytest.skip(f"{name} is not in the shared material")
    return path


def real_pages() -> list[Path]:
    """Every real HTML page of the shared material."""
    folder = shared_data("realfiles")
    if not folder.is_dir():
        pytest.skip(f"the real files are not at {folder}")
    return sorted(folder.glob("*.html"))


def written(tmp_path: Path, name: str, data: bytes) -> Path:
    """Write data to a file called name in tmp_path."""
    path = tmp_path / name
    path.write_bytes(data)
    return path


def cuts_a_character(prefix: bytes) -> bool:
    """Tell whether a prefix of Shift_JIS text ends inside a character."""
    try:
        prefix.decode("shift_jis")
    except UnicodeDecodeError:
        return True
    return False


# --- HTML is known by the element it opens with ------------------------------------------


@pytest.mark.slow
def test_every_real_page_is_html_and_reads_without_script_or_style() -> None:
    pages = real_pages()
    assert len(pages) >= 8
    for path in pages:
        assert sniff_file(path) == HTML, path.name
        result = extract(path, HTML)
        assert result.text, path.name
        assert "function" not in result.text and "{" not in result.text, path.name


def test_pages_that_open_with_a_script_or_a_div_lose_their_code() -> None:
    """Saved from old sites, these two were stored as plain text with their code."""
    preamble = realfile("tika__big-preamble.html")
    assert preamble.read_bytes().startswith(b"<script")
    text = extract_in_process(preamble, sniff_file(preamble)).text
    # Windows-1251, as its <meta> says, behind 20 KB of JavaScript.
    assert "Аренда квартир, снять квартиру, аренда офисов в Москве." in text
    assert "addToList" not in text

    resume = realfile("tika__resume.html")
    assert resume.read_bytes().startswith(b'<div class="js-helper">')
    text = extract_in_process(resume, sniff_file(resume)).text
    assert "Предлагаем Вам ознакомиться со списком зарегистрированных компаний" in text
    assert "background-color" not in text


@pytest.mark.parametrize(
    "data",
    [
        b"<script language='javascript'>var a = 1 < 2;</script>\n<html><body>Text</body></html>",
        b"<DIV class=x><P>Text</P></DIV>",
        b"<meta http-equiv=Content-Type content='text/html; charset=utf-8'>\n<p>Text",
        b"<table border=1><tr><td>Text</td></tr></table>",
        b"<!-- saved from url=(0022)http://example.org/ -->\r\n<title>Text</title>",
        b"\xef\xbb\xbf \r\n\t<!--a--><!--b--><font face=Arial>Text</font>",
        b"<?php include 'top.php'; ?>\n<center>Text</center>",
        b"<p/>",
        b"<!DOCTYPE html>\n<p>Text",
        "<div>Текст</div>".encode("utf-16"),
        b"<table xmlns='http://www.w3.org/1999/xhtml'><tr><td>Text</td></tr></table>",
    ],
)
def test_a_page_that_opens_with_any_html_element_is_html(data: bytes) -> None:
    assert sniff(data, "page.txt") == HTML


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # XML: an HTML element name as its root after a declaration, or in another
        # namespace, or a root that is not HTML.
        (b"<?xml version='1.0'?>\n<table><row>1</row></table>", PLAIN),
        (b"<table xmlns='urn:example:tables'><row>1</row></table>", PLAIN),
        (b"<note><to>Alex</to><body>Text</body></note>", PLAIN),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'><title>News</title></feed>", PLAIN),
        # Text with a "<" that does not open an HTML element.
        (b"a < b, and <p>later</p> is not the start.", PLAIN),
        (b"<3 to all of you\n", PLAIN),
        (b"<Alex Sample> wrote:\n> <b>quoted</b>\n", PLAIN),
        (b"<https://example.org/> is the address.\n", PLAIN),
        (b"<p", PLAIN),
        (b"<!-- a comment -->\nand then text <b>bold</b>\n", PLAIN),
        # A start tag with no end within the prefix.
        (b"<div " + b"x" * 100 + b"\n", PLAIN),
    ],
)
def test_xml_and_text_with_angle_brackets_are_not_html(data: bytes, expected: str) -> None:
    assert sniff(data, "notes.txt") == expected


MARKDOWN_WITH_HTML_LATER = b"# Minutes\n\nThe *Task Force* met.\n\n<div>Signed</div>\n"
# Markdown may open with HTML of its own; without the Markdown name it is a page.
MARKDOWN_OPENING_WITH_HTML = b"<p align='center'><img src='logo.png' alt='Logo'></p>\n\n# Hub\n"


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (MARKDOWN_WITH_HTML_LATER, "minutes.md", MARKDOWN),
        (MARKDOWN_WITH_HTML_LATER, "minutes.txt", PLAIN),
        (MARKDOWN_OPENING_WITH_HTML, "README.md", MARKDOWN),
        (MARKDOWN_OPENING_WITH_HTML, "README.txt", HTML),
        # A whole document is HTML whatever its name.
        (b"<html><body>Text</body></html>", "page.md", HTML),
    ],
)
def test_markdown_with_html_in_it_stays_markdown(data: bytes, name: str, expected: str) -> None:
    assert sniff(data, name) == expected


def test_svg_is_still_refused() -> None:
    for data in (
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"<?xml version='1.0'?>\n<!-- Generator: an editor -->\n<svg width='10'/>",
        b"<!DOCTYPE svg PUBLIC '-//W3C//DTD SVG 1.1//EN' 'x'>\n<svg/>",
    ):
        with pytest.raises(UnsupportedType, match="SVG image"):
            sniff(data, "chart.html")


def test_sniffing_looks_only_at_a_prefix(tmp_path: Path) -> None:
    """The first element must lie in the sniffed prefix, past a bounded number of
    comments, so a sniff costs the same on any file."""
    far = written(tmp_path, "far.txt", b" " * extraction.SNIFF_BYTES + b"<div>Text</div>")
    assert sniff_file(far) == PLAIN
    near = written(tmp_path, "near.txt", b" " * (extraction.SNIFF_BYTES - 100) + b"<div>x</div>")
    assert sniff_file(near) == HTML
    assert sniff(b"<!--c-->" * 99 + b"<div>Text</div>", "") == HTML
    assert sniff(b"<!--c-->" * 1000 + b"<div>Text</div>", "") == PLAIN
    # A comment that never ends is scanned once.
    assert sniff(b"<!--" + b"-" * 10_000_000, "") == PLAIN


def test_a_page_with_stray_binary_bytes_is_html_but_binary_data_is_not() -> None:
    page = realfile("tika__test_ignore_IBM420.html")
    assert b"\x00" in page.read_bytes()
    assert sniff_file(page) == HTML
    result = extract_in_process(page, HTML)
    assert "Hi, Luis, good morning." in result.text
    assert "Company: XXXXX Brazil" in result.text
    # Neither its charset label (quoted-printable: "charset=3Dwindows-1252") nor any
    # encoding reads the stray bytes: what was read, and how, is said.
    assert result.error is not None and result.error.startswith(UNDECODABLE)

    stray = b"Text with a stray \x00 byte in one of the longer sentences of the page. "
    built = b"<html><body><p>" + stray * 20 + b"</p></body></html>"
    assert sniff(built, "page.html") == HTML
    noise = random.Random(7).randbytes(4096)
    with pytest.raises(UnsupportedType, match="binary data"):
        sniff(b"<html><body>" + noise, "page.html")


# --- the encoding that fits ---------------------------------------------------------------


def test_arabic_under_a_false_charset_is_read_as_arabic() -> None:
    page = realfile("tika__testArabicMisleadingCharset.html")
    # The page says UTF-8; its bytes are Windows-1256.
    assert b"charset=UTF-8" in page.read_bytes()
    result = extract_in_process(page, sniff_file(page))
    assert result.error is None
    assert "\ufffd" not in result.text
    assert "في قرية من القرى كان هناك رجل حكيم يعرف كل شيء عن الحياة" in result.text
    assert "اللغة العربية هي واحدة من أكثر اللغات انتشارا في العالم" in result.text


def test_noisy_meta_charset_and_utf16_pages_read_correctly() -> None:
    noisy = realfile("tika__testHTMLNoisyMetaEncoding_1.html")
    result = extract_in_process(noisy, sniff_file(noisy))
    assert result.error is None and "\ufffd" not in result.text
    assert "وأعرب الاتحاد الجزائري وقتها عن" in result.text
    assert "@font-face" not in result.text

    utf16 = realfile("tika__testHTML_charset_utf16le.html")
    assert utf16.read_bytes().startswith(b"\xff\xfe<\x00")
    result = extract_in_process(utf16, sniff_file(utf16))
    assert (result.text, result.error) == ("Title\n\nThis is a sample text", None)


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (RUSSIAN, "cp1251"),
        (RUSSIAN, "koi8-r"),
        (ARABIC, "cp1256"),
        (JAPANESE, "shift_jis"),
        (CHINESE, "gbk"),
        (FRENCH, "cp1252"),
        ("Café “déjà vu” – naïve", "cp1252"),
    ],
)
def test_undeclared_legacy_text_is_read_in_the_encoding_that_fits(
    tmp_path: Path, text: str, encoding: str
) -> None:
    path = written(tmp_path, "note.txt", f"{text}\n{text}\n".encode(encoding))
    assert sniff_file(path) == PLAIN
    assert extract_in_process(path, PLAIN) == extraction.Extraction(f"{text}\n{text}", None, None)


def test_a_declared_charset_that_does_not_fit_gives_way(tmp_path: Path) -> None:
    page = (
        "<html><head><meta charset='utf-8'><title>Отчёт</title></head>"
        f"<body><p>{RUSSIAN}</p><p>{RUSSIAN}</p></body></html>"
    ).encode("cp1251")
    path = written(tmp_path, "report.html", page)
    assert sniff_file(path) == HTML
    assert extract_in_process(path, HTML).text == f"Отчёт\n\n{RUSSIAN}\n\n{RUSSIAN}"

    # A charset that fits is kept, even where a guess would differ.
    greek = "Η κοινωνική και αλληλέγγυα οικονομία."
    path = written(
        tmp_path,
        "greek.html",
        f"<meta charset='iso-8859-7'><p>{greek}</p>".encode("iso-8859-7"),
    )
    assert extract_in_process(path, HTML).text == greek


def test_utf8_with_a_few_bad_bytes_stays_utf8_and_says_so(tmp_path: Path) -> None:
    data = f"{FRENCH}\n".encode() * 20 + b"caf\xe9\n" + f"{RUSSIAN}\n".encode() * 20
    path = written(tmp_path, "mixed.txt", data)
    result = extract_in_process(path, PLAIN)
    assert FRENCH in result.text and RUSSIAN in result.text
    assert "caf\ufffd" in result.text
    assert result.error is not None
    assert result.error.startswith(f"{UNDECODABLE} UTF-8")


def test_a_damaged_utf16_file_keeps_its_text_and_says_so(tmp_path: Path) -> None:
    data = b"\xff\xfe" + "Hello ".encode("utf-16-le") + b"\x00\xd8" + " world".encode("utf-16-le")
    result = extract_in_process(written(tmp_path, "damaged.txt", data), PLAIN)
    assert result.text == "Hello \ufffd world"
    assert result.error is not None and result.error.startswith(f"{UNDECODABLE} UTF-16-LE")


def test_detection_reads_the_start_of_a_large_file(tmp_path: Path) -> None:
    """Only the first DETECT_BYTES are judged, and a character they cut in two
    does not mislead the judgement."""
    line = f"{JAPANESE}\n".encode("shift_jis")
    data = line * (2 * DETECT_BYTES // len(line))
    if not cuts_a_character(data[:DETECT_BYTES]):
        data = b"x" + data
    assert cuts_a_character(data[:DETECT_BYTES])
    path = written(tmp_path, "long.txt", data)
    result = extract_in_process(path, PLAIN)
    assert result.error is None
    assert result.text.count(JAPANESE) == data.count(b"\n")
