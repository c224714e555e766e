"""What the hub writes into CSV files that people open in a spreadsheet."""

from __future__ import annotations

#: First characters that make a spreadsheet read a cell as a formula (or, for a tab or
#: a carriage return, shift it into one): =HYPERLINK(...) in a title would run.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A value as a CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
