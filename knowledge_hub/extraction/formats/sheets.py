"""Spreadsheets (XLSX, XLS, ODS) through python-calamine: each sheet's name, then its rows.

A row becomes a line of its non-empty cells separated by tabs. Formulas give
the value last computed, numbers are written as a spreadsheet shows them
(at most 15 significant digits, no ".0" on whole numbers), dates and times
in ISO 8601, booleans as TRUE and FALSE.

calamine builds a whole sheet in memory, as a dense rectangle from its first
to its last cell, before handing over any row; a tiny file naming one cell
at A1 and one at XFD1048576 would ask it for 17 billion cells, and it
aborts the process when an allocation fails. So the cells of ZIP-based
workbooks (XLSX, ODS) are scanned first, and a sheet spanning more than
``MAX_SHEET_SPAN`` cells is left out with a message (an ODS, which calamine
reads whole as it opens it, is then read as text instead). Those workbooks are
also checked against the ZIP-bomb limits and for OpenDocument encryption
before calamine opens them. An XLS sheet cannot exceed 65,536 rows of 256
columns; the sandbox's limits bound it. The cells visited in a workbook are
capped, and the sink caps the text.
"""

from __future__ import annotations

import datetime
import io
import posixpath
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_xml
import python_calamine

from knowledge_hub.extraction.formats.odf import check_not_encrypted
from knowledge_hub.extraction.formats.odf import odf_text
from knowledge_hub.extraction.formats.registry import register
from knowledge_hub.extraction.formats.xmlparts import relationships
from knowledge_hub.extraction.media import ODS
from knowledge_hub.extraction.media import XLS
from knowledge_hub.extraction.media import XLSX
from knowledge_hub.extraction.media import Damaged
from knowledge_hub.extraction.media import password_message
from knowledge_hub.extraction.media import reason
from knowledge_hub.extraction.safezip import SafeZip
from knowledge_hub.extraction.text import Sink

# About 150 MB in calamine for numbers, 500 MB for distinct strings.
MAX_SHEET_SPAN = 4_000_000
# Cells visited (empty ones included) in a whole workbook.
MAX_WORKBOOK_CELLS = 10_000_000
# Chart sheets hold no cells; macro sheets hold Excel 4 programs.
_READ_SHEETS = (python_calamine.SheetTypeEnum.WorkSheet, python_calamine.SheetTypeEnum.DialogSheet)

_SML = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
# Beyond the largest sheet any spreadsheet program makes.
_MAX_ROWS, _MAX_COLUMNS = 1 << 20, 1 << 14


def cell_text(value: object) -> str:
    """Return a cell value as a spreadsheet would show it, in a locale-neutral way."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return format(value, ".15g")
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        return value.isoformat(timespec="seconds")
    return str(value).strip()


# --- how far the cells of each sheet reach -------------------------------------------


def _column_number(reference: str) -> int:
    """Return the 1-based column of a cell reference such as "AB12"."""
    number = 0
    for char in reference:
        if not "A" <= char <= "Z":
            break
        number = number * 26 + ord(char) - 64
    return number


def _row_number(reference: str) -> int:
    """Return the row of a cell reference such as "AB12", or 0 if it has none."""
    digits = reference.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return int(digits) if digits.isdigit() and len(digits) <= 8 else 0


def _elements(data: bytes) -> Iterator[tuple[str, Element]]:
    """Yield ("start" or "end", element) over an XML part, forgetting each finished element.

    Finished elements are dropped from their parents, so memory stays flat
    however many rows a sheet has; an end event sees the element whole.
    """
    stack: list[Element] = []
    for event, element in safe_xml.iterparse(
        io.BytesIO(data), ("start", "end"), forbid_dtd=True, forbid_entities=True
    ):
        if event == "start":
            stack.append(element)
            yield event, element
        else:
            stack.pop()
            yield event, element
            if stack:
                del stack[-1][:]


def _xlsx_span(data: bytes) -> int:
    """Return how many cells the rectangle up to a worksheet's farthest cell holds."""
    last_row = last_column = row = column = 0
    for event, element in _elements(data):
        if event != "start":
            continue
        if element.tag == _SML + "row":
            number = element.get("r", "")
            row = int(number) if number.isdigit() and len(number) <= 8 else row + 1
            column = 0
        elif element.tag == _SML + "c":
            reference = element.get("r", "")
            column = _column_number(reference) or column + 1
            row = _row_number(reference) or row
            last_row, last_column = max(last_row, row), max(last_column, column)
    return last_row * last_column


def _xlsx_spans(zip_file: SafeZip) -> dict[str, int]:
    """Return the span of each sheet of an XLSX workbook, by sheet name."""
    workbook = "xl/workbook.xml"
    for __, rel_type, name in relationships(zip_file, "_rels/.rels", ""):
        if rel_type.endswith("/officeDocument") and zip_file.has(name):
            workbook = name
    if not zip_file.has(workbook):
        return {}
    directory, file_name = posixpath.split(workbook)
    rels = posixpath.join(directory, "_rels", file_name + ".rels")
    parts = {rel_id: name for rel_id, __, name in relationships(zip_file, rels, directory)}
    spans = {}
    for sheet in zip_file.xml(workbook).iter(_SML + "sheet"):
        part = parts.get(sheet.get(_REL_ID, ""))
        if part and zip_file.has(part):
            spans[sheet.get("name", "")] = _xlsx_span(zip_file.read(part))
    return spans


def _repeat(element: Element, attribute: str, limit: int) -> int:
    """Return a number-…-repeated attribute as a count from 1 to limit."""
    value = element.get(attribute, "1")
    return max(1, min(int(value), limit)) if value.isdigit() and len(value) <= 8 else 1


def _ods_spans(data: bytes) -> dict[str, int]:
    """Return the span of each sheet in an ODS content.xml, counting repeated rows and cells.

    Repeated empty rows and cells, which OpenDocument writers put after the
    data, do not count: calamine leaves them out too.
    """
    spans: dict[str, int] = {}
    row = last_row = last_column = column = row_last_column = 0
    for event, element in _elements(data):
        tag = element.tag
        if tag == _TABLE + "table":
            if event == "start":
                row = last_row = last_column = 0
            else:
                spans[element.get(_TABLE + "name", "")] = last_row * last_column
        elif tag == _TABLE + "table-row":
            if event == "start":
                column = row_last_column = 0
            else:
                repeats = _repeat(element, _TABLE + "number-rows-repeated", _MAX_ROWS)
                if row_last_column:
                    last_row = max(last_row, row + repeats)
                    last_column = max(last_column, row_last_column)
                row += repeats
        elif tag in (_TABLE + "table-cell", _TABLE + "covered-table-cell") and event == "end":
            repeats = _repeat(element, _TABLE + "number-columns-repeated", _MAX_COLUMNS)
            if len(element) or element.get(_OFFICE + "value-type"):
                row_last_column = column + repeats
            column += repeats
    return spans


def _check_zip(path: Path, media_type: str) -> dict[str, int]:
    """Check a ZIP-based workbook before calamine opens it; return each sheet's span.

    Refuse ZIP bombs and encrypted OpenDocument spreadsheets.
    """
    with SafeZip(path) as zip_file:
        # calamine reads the members itself: check what they declare first.
        for info in zip_file.names.values():
            zip_file.check_ratio(info)
        if media_type == ODS:
            check_not_encrypted(zip_file, "spreadsheet")
            if not zip_file.has("content.xml"):
                raise Damaged("The ODS file is damaged: it has no content.xml.")
            return _ods_spans(zip_file.read("content.xml"))
        return _xlsx_spans(zip_file)


# --- reading ---------------------------------------------------------------------------


def _write_sheet(sheet: python_calamine.CalamineSheet, sink: Sink, budget: int) -> int:
    """Write the rows of a sheet into sink, visiting at most budget cells; return those visited."""
    visited = 0
    for row in sheet.iter_rows():
        cells = [text for text in map(cell_text, row) if text]
        if cells:
            sink.write("\t".join(cells))
            sink.write("\n")
        visited += max(len(row), 1)
        if visited >= budget:
            break
    return visited


def _read_workbook(path: Path, sink: Sink, spans: dict[str, int] | None = None) -> str | None:
    """Write every sheet of the workbook at path into sink; return a message for sheets left out."""
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(path)
    except python_calamine.PasswordError:
        raise Damaged(password_message("spreadsheet")) from None
    except python_calamine.CalamineError as exc:
        raise Damaged(f"The spreadsheet is damaged: {reason(exc)}.") from None
    budget = MAX_WORKBOOK_CELLS
    left_out: list[str] = []
    with workbook:
        if not workbook.sheets_metadata:
            raise Damaged("The spreadsheet is damaged: no sheet can be found in it.")
        for metadata in workbook.sheets_metadata:
            if metadata.typ not in _READ_SHEETS:
                continue
            if (spans or {}).get(metadata.name, 0) > MAX_SHEET_SPAN or budget <= 0:
                left_out.append(metadata.name)
                continue
            try:
                sheet = workbook.get_sheet_by_name(metadata.name)
            except python_calamine.PasswordError:
                raise Damaged(password_message("spreadsheet")) from None
            except python_calamine.CalamineError as exc:
                raise Damaged(
                    f"The spreadsheet is damaged: sheet {metadata.name!r} cannot be read "
                    f"({reason(exc)})."
                ) from None
            sink.write(metadata.name)
            sink.write("\n")
            budget -= _write_sheet(sheet, sink, budget)
            sink.write("\n")
    if not left_out:
        return None
    names = ", ".join(repr(name) for name in left_out[:5]) + (", …" if len(left_out) > 5 else "")
    return (
        f"Some sheets were too large to read ({names}): at most {MAX_SHEET_SPAN:,} cells "
        f"are read per sheet and {MAX_WORKBOOK_CELLS:,} per workbook."
    )


@register(XLSX)
def _extract_xlsx(path: Path, sink: Sink) -> str | None:
    """Extract an Excel (XLSX) workbook."""
    return _read_workbook(path, sink, _check_zip(path, XLSX))


@register(ODS)
def _extract_ods(path: Path, sink: Sink) -> str | None:
    """Extract an OpenDocument spreadsheet (ODS).

    calamine reads every sheet of an ODS as it opens it, so a workbook with
    a sheet too large for it is read as text instead: each cell as shown,
    and a repeated cell once.
    """
    spans = _check_zip(path, ODS)
    if max(spans.values(), default=0) <= MAX_SHEET_SPAN:
        return _read_workbook(path, sink, spans)
    with SafeZip(path) as zip_file:
        root = zip_file.xml("content.xml")
        for table in root.iter(_TABLE + "table"):
            sink.write(table.get(_TABLE + "name", ""))
            sink.write("\n")
            odf_text(table, sink)
            sink.write("\n")
    return None


@register(XLS)
def _extract_xls(path: Path, sink: Sink) -> str | None:
    """Extract an Excel 97-2003 (XLS) workbook."""
    return _read_workbook(path, sink)
