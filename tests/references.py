"""Independent readers of the real files, and how their words are compared with ours.

Each format has a reader that shares no code with the hub's extractor: poppler's
pdftotext for PDF, antiword for Word 97-2003, python-docx for DOCX, openpyxl for XLSX,
xlrd for XLS, python-pptx for PPTX (and for the PPT files whose PPTX twin holds the same
slides), odfpy for OpenDocument, striprtf for RTF, inscriptis for HTML and for the
chapters of an EPUB. tests/setup.sh installs the two Debian programs.

``reference_text`` gives a file's text as its reader sees it (None when no reader is
meant to read it); ``recovered`` the share of those words that the hub's text holds.
The extraction tests (tests/test_extraction_realfiles.py) and the extraction benchmark
(benchmarks/extraction.py) both read the files through here.
"""

from __future__ import annotations

import datetime
import difflib
import re
import subprocess
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

#: A reader gives a file's text.
Reader = Callable[[Path], str]


# --- comparing words -------------------------------------------------------------------


def words(text: str) -> list[str]:
    """The words in order: NFKC, casefolded, without punctuation or format characters.

    Han and kana are taken one character at a time (neither side puts spaces between
    Chinese or Japanese words, and the two readers need not cut a run at the same place).
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    found = []
    for word in re.findall(r"\w+", text):
        if any(_is_ideographic(c) for c in word):
            found.extend(re.findall(r"[^\W\d_]|\d+", word) if _all_ideographic(word) else [word])
        else:
            found.append(word)
    return found


def _is_ideographic(c: str) -> bool:
    name = unicodedata.name(c, "")
    return any(script in name for script in ("CJK", "HIRAGANA", "KATAKANA"))


def _all_ideographic(word: str) -> bool:
    return all(_is_ideographic(c) or c.isdigit() for c in word)


def recovered(reference: str, found: str) -> float | None:
    """The share of the reference's words (with repeats) that found holds, or None when
    the reference has no words."""
    wanted, got = Counter(words(reference)), Counter(words(found))
    total = sum(wanted.values())
    if not total:
        return None
    return sum(min(count, got[word]) for word, count in wanted.items()) / total


#: The scripts whose order is checked, by a letter's Unicode name.
SCRIPTS = {"Arabic": "ARABIC", "Chinese": "CJK", "Russian": "CYRILLIC"}


def script_of(word: str) -> str | None:
    """The script of a word's first letter among SCRIPTS, or None."""
    for c in word:
        if c.isalpha():
            name = unicodedata.name(c, "")
            return next((script for script, key in SCRIPTS.items() if key in name), None)
    return None


def in_order(reference: str, found: str, script: str) -> float | None:
    """The share of the reference's words in script that found gives in the same order
    (their longest common subsequence), or None when the reference has none."""
    wanted = [w for w in words(reference) if script_of(w) == script]
    if not wanted:
        return None
    got = [w for w in words(found) if script_of(w) == script]
    matcher = difflib.SequenceMatcher(None, wanted, got, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(wanted)


# --- the readers -------------------------------------------------------------------------


def shown(value: object) -> str:
    """A reference reader's cell value, written the way a locale-neutral display would."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return f"{value:.15g}"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, datetime.time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def pdftotext_text(path: Path) -> str:
    return _run(["pdftotext", "-enc", "UTF-8", str(path), "-"])


def antiword_text(path: Path) -> str:
    # -w 0: paragraphs on one line, so no word is cut where antiword wraps. "[pic]"
    # is antiword's mark for a picture, not the document's text.
    text = _run(["antiword", "-m", "UTF-8.txt", "-w", "0", str(path)])
    return text.replace("[pic]", " ")


def _run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, timeout=120)
    if done.returncode:
        raise ReferenceRefuses(done.stderr.decode(errors="replace").strip())
    return done.stdout.decode("utf-8", errors="replace")


class ReferenceRefuses(Exception):
    """The independent reader could not read the file either."""


def python_docx_text(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
    parts = []
    for block in document.iter_inner_content():  # paragraphs and tables, in order
        if isinstance(block, docx.table.Table):
            parts.extend(cell.text for row in block.rows for cell in row.cells)
        else:
            parts.append(block.text)
    for section in document.sections:
        for part in (section.header, section.footer):
            parts.extend(p.text for p in part.paragraphs)
    return "\n".join(parts)


def openpyxl_text(path: Path) -> str:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    lines = []
    for sheet in workbook.worksheets:
        lines.append(sheet.title)
        for row in sheet.iter_rows(values_only=True):
            lines.append("\t".join(shown(v) for v in row if v is not None))
    workbook.close()
    return "\n".join(lines)


def xlrd_text(path: Path) -> str:
    import xlrd

    book = xlrd.open_workbook(path)
    lines = []
    for sheet in book.sheets():
        lines.append(sheet.name)
        for number in range(sheet.nrows):
            for cell in sheet.row(number):
                value = cell.value
                if cell.ctype == xlrd.XL_CELL_DATE:
                    value = xlrd.xldate.xldate_as_datetime(value, book.datemode)
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    value = bool(value)
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                    value = None
                lines.append(shown(value))
    return "\n".join(lines)


def python_pptx_text(path: Path) -> str:
    import pptx
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    def shapes(collection):
        for shape in collection:
            if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
                yield from shapes(shape.shapes)
            else:
                yield shape

    parts = []
    for slide in pptx.Presentation(path).slides:
        for shape in shapes(slide.shapes):
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                parts.extend(cell.text for row in shape.table.rows for cell in row.cells)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            parts.append(slide.notes_slide.notes_text_frame.text)
    return "\n".join(parts)


#: PPT files whose PPTX twin holds the same slides (testPPT's twin is another deck).
PPT_TWINS = {"tika__testPPT_various.ppt", "tika__testMSChart-govdocs-428996.ppt"}


def twin_pptx_text(path: Path) -> str:
    """The slides of a PPT, as python-pptx reads its PPTX twin (the same deck saved again)."""
    if path.name not in PPT_TWINS:
        raise NoReference("no reader of PowerPoint 97-2003 files is at hand, nor a twin")
    return python_pptx_text(path.with_suffix(".pptx"))


def odfpy_text(path: Path) -> str:
    """The paragraphs and headings of an OpenDocument body, as odfpy reads them."""
    from odf import teletype
    from odf import text

    body = _odfpy_load(path).body
    elements = body.getElementsByType(text.P) + body.getElementsByType(text.H)
    return "\n".join(teletype.extractText(element) for element in elements)


def odfpy_cell_values(path: Path) -> str:
    """The sheet names and cell values of an ODS, as odfpy reads them (values, not display)."""
    from odf import table
    from odf import teletype

    lines = []
    for sheet in _odfpy_load(path).spreadsheet.getElementsByType(table.Table):
        lines.append(sheet.getAttribute("name"))
        for cell in sheet.getElementsByType(table.TableCell):
            kind = cell.getAttribute("valuetype")
            if kind in ("float", "percentage", "currency"):
                lines.append(shown(float(cell.getAttribute("value"))))
            elif kind == "date":
                lines.append(shown(datetime.datetime.fromisoformat(cell.getAttribute("datevalue"))))
            elif kind == "boolean":
                lines.append(shown(cell.getAttribute("booleanvalue") == "true"))
            elif kind == "time":
                match = re.fullmatch(
                    r"PT(\d+)H(\d+)M(\d+)(?:\.\d+)?S", cell.getAttribute("timevalue")
                )
                assert match, cell.getAttribute("timevalue")
                lines.append(shown(datetime.time(*(int(g) % 24 for g in match.groups()))))
            else:
                lines.append(teletype.extractText(cell))
    return "\n".join(lines)


def _odfpy_load(path: Path):
    from odf import opendocument

    try:
        return opendocument.load(str(path))
    except Exception as e:  # odfpy refuses parts that name a DTD (defusedxml forbids it)
        raise ReferenceRefuses(f"odfpy: {e!r}") from e


def striprtf_text(path: Path) -> str:
    from striprtf.striprtf import rtf_to_text

    raw = path.read_bytes().decode("latin-1")
    # striprtf decodes \'xx escapes in the code page the caller names: the document's own.
    match = re.search(r"\\ansicpg(\d+)", raw)
    encoding = f"cp{match.group(1)}" if match else "cp1252"
    return rtf_to_text(raw, encoding=encoding, errors="replace")


#: The real HTML files' true charsets, read off them by hand: the reference decodes with
#: these, so a page whose own declaration lies is compared with what it really says.
HTML_CHARSETS = {
    "tika__testArabicMisleadingCharset.html": "cp1256",
    "tika__testHTML_charset_utf16le.html": "utf-16",
    "tika__test_ignore_IBM420.html": "cp1252",
}


def inscriptis_text(path: Path) -> str:
    import inscriptis

    data = path.read_bytes()
    charset = HTML_CHARSETS.get(path.name) or _declared_or_utf8(data)
    return inscriptis.get_text(data.decode(charset, errors="replace"))


def _declared_or_utf8(data: bytes) -> str:
    match = re.search(rb"""charset\s*=\s*["']?([\w-]+)""", data[:4096], re.I)
    if match:
        name = match.group(1).decode("ascii")
        try:
            data.decode(name)
            return name
        except (LookupError, UnicodeDecodeError):
            pass
    return "utf-8"


def epub_text(path: Path) -> str:
    """The chapters of an EPUB's spine, in order, each read by inscriptis."""
    import inscriptis

    with zipfile.ZipFile(path) as book:
        container = ElementTree.fromstring(book.read("META-INF/container.xml"))
        rootfile = next(e for e in container.iter() if e.tag.endswith("rootfile"))
        opf_name = rootfile.get("full-path", "")
        opf = ElementTree.fromstring(book.read(opf_name))
        base = opf_name.rpartition("/")[0]
        items = {e.get("id"): e.get("href") for e in opf.iter() if e.tag.endswith("}item")}
        chapters = [e.get("idref") for e in opf.iter() if e.tag.endswith("}itemref")]
        parts = []
        for idref in chapters:
            href = items.get(idref)
            if href:
                name = f"{base}/{href}" if base else href
                parts.append(inscriptis.get_text(book.read(name).decode("utf-8", "replace")))
    return "\n".join(parts)


class NoReference(Exception):
    """No independent reader is meant for this file."""


READERS: dict[str, Reader] = {
    ".pdf": pdftotext_text,
    ".doc": antiword_text,
    ".docx": python_docx_text,
    ".xlsx": openpyxl_text,
    ".xls": xlrd_text,
    ".pptx": python_pptx_text,
    ".ppt": twin_pptx_text,
    ".odt": odfpy_text,
    ".odp": odfpy_text,
    ".ods": odfpy_cell_values,
    ".rtf": striprtf_text,
    ".html": inscriptis_text,
    ".epub": epub_text,
}


def reference_text(path: Path) -> str:
    """path's text as its independent reader gives it.

    Raises NoReference when no reader is meant for the file, ReferenceRefuses when its
    reader cannot read it either."""
    reader = READERS.get(path.suffix)
    if reader is None:
        raise NoReference(f"no independent reader of {path.suffix} files")
    try:
        return reader(path)
    except (NoReference, ReferenceRefuses):
        raise
    except Exception as e:  # whatever the reader's own way of saying it cannot
        raise ReferenceRefuses(f"{reader.__name__}: {e!r}") from e
