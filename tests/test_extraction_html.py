"""HTML known by its first element, text decoded in the encoding that fits it, Markdown
read for its text without the markup.

The real pages of shared/data/realfiles (Apache Tika's HTML test documents: pages that
open with a script or a div, a UTF-16 page, Arabic under a false or a noisy charset, a
page with stray binary bytes in it) go through the sniffer and the real sandbox; the
rest is built here, byte by byte. The demonstration catalogue's Markdown files are read
as they are shipped.
"""

from __future__ import annotations

import random
import re
import time
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from knowledge_hub import extraction
from knowledge_hub.extraction import UnsupportedType
from knowledge_hub.extraction import extract
from knowledge_hub.extraction import extract_in_process
from knowledge_hub.extraction import sniff
from knowledge_hub.extraction import sniff_file
from knowledge_hub.extraction.formats.markdown import block_boundary
from knowledge_hub.extraction.text import DETECT_BYTES
from tests.conftest import shared_data

HTML = extraction.HTML
PLAIN = extraction.PLAIN
MARKDOWN = extraction.MARKDOWN

#: A bound that only a hang reaches: these tests check that the work ends, not how fast.
HANG_GUARD_SECONDS = 60

DEMO_FILES = Path(__file__).resolve().parents[1] / "knowledge_hub" / "demo" / "files"
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


def words(text: str) -> Counter[str]:
    """The multiset of words: NFKC, casefolded, without punctuation."""
    return Counter(re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold()))


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


# --- Markdown without its markup -----------------------------------------------------------

MARKDOWN_SAMPLE = """\
Notice of the meeting
=====================

# Minutes of the *41st* meeting

The **Task Force** met in _Geneva_ on ~~2~~ 3 June: see [the agenda](https://example.org "Agenda")
and ![the logo of the *Task Force*](logo.png),
`code()` &amp; <span>inline HTML</span><br>after a break.\\
A hard break.

* Opening
+ Minutes
  1. Adopted
  2) Corrected

> A **quoted** remark
> - with a list

| Item | Outcome |
|------|--------:|
| Budget \\| plan | `approved` |

<div align="center">
  <b>Signed</b> by the Chair <script>alert(1)</script>
</div>

```python
# a comment in code
print("kept")
```

    indented code

<https://example.org/minutes>

[a reference][ref] and text with <script>hidden()</script> parts.

[ref]: https://example.org/ref

---
The end.
"""

MARKDOWN_TEXT = """\
Notice of the meeting

Minutes of the 41st meeting

The Task Force met in Geneva on 2 3 June: see the agenda
and the logo of the Task Force,
code() & inline HTML
after a break.
A hard break.

Opening

Minutes
Adopted
Corrected

A quoted remark

with a list

Item Outcome
Budget | plan approved

Signed by the Chair

# a comment in code
print("kept")

indented code

https://example.org/minutes

a reference and text with parts.

The end."""


def test_markdown_is_read_without_its_markup(tmp_path: Path) -> None:
    path = written(tmp_path, "minutes.md", MARKDOWN_SAMPLE.encode())
    assert sniff_file(path) == MARKDOWN
    assert extract_in_process(path, MARKDOWN) == extraction.Extraction(MARKDOWN_TEXT, None, None)
    # Windows line ends and a legacy encoding change nothing.
    legacy = MARKDOWN_SAMPLE.replace("\n", "\r\n").replace("&amp;", "&amp; «»").encode("cp1252")
    path = written(tmp_path, "minutes-cp1252.md", legacy)
    text = MARKDOWN_TEXT.replace(" & ", " & «» ")
    assert extract_in_process(path, MARKDOWN).text == text


def test_markdown_that_opens_with_html_reads_as_text(tmp_path: Path) -> None:
    data = b"<p align='center'><img src='logo.png' alt='Logo'>Hub</p>\n\n## Setup\n\n- one\n"
    path = written(tmp_path, "README.md", data)
    assert sniff_file(path) == MARKDOWN
    assert extract_in_process(path, MARKDOWN).text == "Hub\n\nSetup\n\none"


def test_the_demo_markdown_files_read_as_plain_text() -> None:
    files = sorted(DEMO_FILES.rglob("*.md"))
    assert len(files) >= 10
    for path in files:
        source = path.read_text(encoding="utf-8")
        assert sniff_file(path) == MARKDOWN
        result = extract_in_process(path, MARKDOWN)
        assert result.error is None
        lines = result.text.splitlines()
        assert not [line for line in lines if line.startswith(("#", "- ", "|"))], path.name
        assert "**" not in result.text and "---" not in result.text, path.name
        # Every word is there but the numbers of numbered lists.
        assert words(result.text) == words(re.sub(r"(?m)^\d+\. ", "", source)), path.name


def test_block_boundary_keeps_fenced_code_whole() -> None:
    assert block_boundary("one\n\ntwo\n\nthree") == len("one\n\ntwo\n\n")
    # Indented lines continue the block above (a list item, code): no cut before them.
    assert block_boundary("- one\n\n  two") == 0
    fenced = "one\n\n```\ncode\n\n# not a heading\n\nmore"
    assert block_boundary(fenced) == len("one\n\n")
    closed = "one\n\n~~~~\ncode\n\n~~~\n\nstill code\n~~~~\n\nafter"
    assert block_boundary(closed) == len(closed) - len("after")
    assert block_boundary("no blank line\nat all") == 0


@pytest.mark.slow
def test_large_markdown_is_read_a_stretch_at_a_time(tmp_path: Path) -> None:
    section = (
        "## Section {n}\n\nParagraph {n} of the *report*, with a [link](https://example.org).\n\n"
        "```\n# comment {n} in code\n\n# more code\n```\n\n- item {n}\n- item {n}b\n\n"
    )
    source = "".join(section.format(n=n) for n in range(14_000))
    # More than the MiB that is parsed at a time.
    assert len(source) > 1.2 * 1024 * 1024
    path = written(tmp_path, "large.md", source.encode())
    # The content is checked here, not the speed: a loaded machine must not turn the
    # default 30 s into a time-out.
    result = extract(path, MARKDOWN, seconds=120)
    assert result.error is None
    lines = result.text.splitlines()
    assert lines.count("Section 13999") == 1
    assert sum(line.startswith("Section ") for line in lines) == 14_000
    # Code keeps its "#", headings lose theirs, wherever the stretches were cut.
    assert sum(line.startswith("# comment ") for line in lines) == 14_000
    assert lines.count("# more code") == 14_000
    assert sum(line.startswith(("## ", "- ")) for line in lines) == 0
    assert "Paragraph 12345 of the report, with a link." in lines


@pytest.mark.slow
@pytest.mark.parametrize(
    ("source", "kept"),
    [
        (">" * 100_000 + " deep", ""),
        ("".join("  " * depth + "- level\n" for depth in range(1000)), "level"),
        ("- " * 100_000 + "list", ""),
        ("[" * 100_000 + "brackets", "brackets"),
        ("*a **b " * 50_000, "*a **b *a"),
        ("<" * 100_000 + "angles", "angles"),
        ("a " + "`" * 50_000 + " ticks", "ticks"),
    ],
    ids=["quotes", "nested-lists", "list-markers", "brackets", "emphasis", "angles", "ticks"],
)
def test_hostile_markdown_ends(tmp_path: Path, source: str, kept: str) -> None:
    """Nesting past 20 levels is left out; nothing makes the parser hang or recurse."""
    path = written(tmp_path, "hostile.md", source.encode())
    started = time.perf_counter()
    result = extract(path, MARKDOWN)
    assert time.perf_counter() - started < HANG_GUARD_SECONDS
    assert result.error is None
    assert kept in result.text
