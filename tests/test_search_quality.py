"""Search quality end to end on the Cranfield collection.

The 1,400 abstracts go in through the hub's own import path (one released record per
abstract), the 225 queries go through `GET /api/search` as a researcher without an
account, and the rankings are scored with nDCG@10 and MAP@100 (benchmarks/ir.py). The
hub must stay above the bar measured for it; `python -m benchmarks.cranfield` compares
it with a plain BM25 and times it.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from whoosh.query import Phrase
from whoosh.query import Prefix
from whoosh.query import Wildcard

from benchmarks import ir
from knowledge_hub import search
from knowledge_hub.search.query import parse
from knowledge_hub.services import imports
from knowledge_hub.services import users
from tests.conftest import shared_data

#: Plain BM25 over the same texts scores nDCG@10 0.376; the hub measured 0.3859 with a
#: title match weighted 0.2 and the records' metadata searched (query.py). Falling under
#: this bar is a regression in ranking.
MIN_NDCG = 0.385


@pytest.mark.slow
def test_cranfield_ranking_quality(
    app: Flask, client: FlaskClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = shared_data("cranfield")
    documents = ir.read_documents(folder / "cran.all.1400")
    queries = ir.read_queries(folder / "cran.qry")
    judgements = ir.read_judgements(folder / "cranqrel")
    assert (len(documents), len(queries), len(judgements)) == (1400, 225, 225)

    manifest = ir.write_import_folder(documents, tmp_path / "cranfield")
    started = time.perf_counter()
    with app.app_context():
        report = imports.import_manifest(
            users.system_user(), tmp_path / "cranfield", manifest, release=True
        )
    import_seconds = time.perf_counter() - started
    problems = [str(row) for row in report.rows if row.outcome != imports.CREATED]
    assert not problems, problems[:5]
    assert len(report.released) == len(documents), list(report.not_released.items())[:5]

    runs: dict[int, list[int]] = {}
    started = time.perf_counter()
    for number, text in queries.items():
        response = client.get("/api/search", query_string={"q": text, "per_page": ir.MAP_DEPTH})
        assert response.status_code == 200, (number, text, response.get_json())
        refs = [result["ref"] for result in response.get_json()["results"]]
        runs[number] = [n for n in map(ir.number_of, refs) if n is not None]
        assert len(runs[number]) == len(refs), refs
    query_ms = (time.perf_counter() - started) * 1000 / len(queries)

    scores = ir.evaluate(runs, judgements)
    with capsys.disabled():
        print(
            f"\nCranfield: {scores} ({scores.queries} queries; import {import_seconds:.1f} s, "
            f"{query_ms:.0f} ms per query)"
        )
    assert scores.ndcg >= MIN_NDCG, f"Cranfield: {scores}, below nDCG@10 {MIN_NDCG}"


def test_questions_are_read_as_words(app: Flask) -> None:
    """Cranfield's queries are questions with punctuation: "?" ends them rather than
    standing for a letter, while the explicit syntax keeps working."""
    with app.app_context():
        index = search.get_index()
        question = parse(index, "what is slip flow? (the ?slip? effect) -dash, and not /heat/")
        assert not [q for q in question.leaves() if isinstance(q, Wildcard)]
        assert {("text_en", "flow"), ("text_en", "slip"), ("text_en", "heat")} <= {
            (field, text) for field, text in question.iter_all_terms()
        }
        assert [q for q in parse(index, "aerodyn*").leaves() if isinstance(q, Prefix)]
        assert [q for q in parse(index, "he*t").leaves() if isinstance(q, Wildcard)]
        assert [q for q in parse(index, '"slip flow" heat').leaves() if isinstance(q, Phrase)]
