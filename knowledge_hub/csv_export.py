"""CSV files that people open in a spreadsheet: every export of the hub is written here.

Every cell goes through `safe_cell`, so a value that a spreadsheet would read as a
formula (a title starting with "=HYPERLINK(...)") is shown as text and never runs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from collections.abc import Iterator

#: First characters that make a spreadsheet read a cell as a formula (or, for a tab or
#: a carriage return, shift it into one): =HYPERLINK(...) in a title would run.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A value as a CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The header, then each row, as CSV lines (one string per row, for streaming a long
    export without holding it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: Iterable[object]) -> str:
        writer.writerow(safe_cell(cell) for cell in cells)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(header)
    for row in rows:
        yield line(row)


def csv_text(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """The whole CSV file as one string."""
    return "".join(csv_lines(header, rows))
