"""Search quality and speed on the Cranfield collection: the hub against plain BM25.

    .venv/bin/python -m benchmarks.cranfield [--data DIR] [--keep DIR]

Builds a hub in a temporary folder (SQLite, index, uploads), imports the 1,400
abstracts through the hub's own import path (one record per abstract, released), runs
the 225 queries through the hub's search service and through `GET /api/search` (as a
researcher without an account), scores both rankings, and does the same with a plain
Okapi BM25 over the same texts. Prints one table; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from collections.abc import Mapping
from pathlib import Path

from benchmarks import ir

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cranfield"


def hub_config(folder: Path) -> dict:
    """The same configuration the test suite uses, in `folder`."""
    return {
        "TESTING": True,
        "SECRET_KEY": "benchmark",
        "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'hub.sqlite'}",
        "INDEX_DIR": folder / "index",
        "UPLOAD_DIR": folder / "uploads",
        "EXTRACTION_SECONDS": 20.0,
        "SERVER_NAME": "hub.test",
    }


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def timed_runs(
    queries: Mapping[int, str], run: Callable[[str], list[int]]
) -> tuple[dict[int, list[int]], list[float]]:
    """Run every query once; return the rankings and each query's time in ms."""
    runs, times = {}, []
    for number, text in queries.items():
        started = time.perf_counter()
        runs[number] = run(text)
        times.append((time.perf_counter() - started) * 1000)
    return runs, times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the cranfield folder")
    parser.add_argument("--keep", type=Path, help="build the hub here and keep it")
    args = parser.parse_args(argv)
    if not (args.data / "cran.all.1400").is_file():
        print(f"The Cranfield collection is not in {args.data}.", file=sys.stderr)
        return 2
    documents = ir.read_documents(args.data / "cran.all.1400")
    queries = ir.read_queries(args.data / "cran.qry")
    judgements = ir.read_judgements(args.data / "cranqrel")

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args.keep, documents, queries, judgements)
    with tempfile.TemporaryDirectory(prefix="hub-cranfield-") as folder:
        return run(Path(folder), documents, queries, judgements)


def run(
    folder: Path,
    documents: list[ir.CranfieldDocument],
    queries: dict[int, str],
    judgements: ir.Judgements,
) -> int:
    """Build the hub in folder, import, run and score; print the table."""
    from knowledge_hub import create_app
    from knowledge_hub import search
    from knowledge_hub import seed
    from knowledge_hub.access import visible_levels
    from knowledge_hub.extensions import db
    from knowledge_hub.models import Document
    from knowledge_hub.services import imports
    from knowledge_hub.services import users

    rows: list[tuple[str, ir.Scores, list[float]]] = []
    app = create_app(hub_config(folder))
    with app.app_context():
        db.create_all()
        seed.vocabularies(db.session)
        db.session.commit()

        manifest = ir.write_import_folder(documents, folder / "import")
        started = time.perf_counter()
        report = imports.import_manifest(
            users.system_user(), folder / "import", manifest, release=True
        )
        import_seconds = time.perf_counter() - started
        problems = [str(r) for r in report.rows if r.outcome == imports.ERROR]
        problems += [f"{ref}: {why}" for ref, why in report.not_released.items()]
        if problems or len(report.released) != len(documents):
            print(report.summary(), *problems[:10], sep="\n", file=sys.stderr)
            return 1

        index = search.get_index()
        anyone = visible_levels(None)
        ref_by_document = dict(db.session.execute(db.select(Document.id, Document.ref)).all())

        def hub_service(text: str) -> list[int]:
            request = search.SearchRequest(q=text, per_page=ir.MAP_DEPTH)
            result = search.search(index, anyone, request)
            return [ir.number_of(ref_by_document[h.document_id]) for h in result.hits]

        service_runs, service_times = timed_runs(queries, hub_service)
        rows.append(("hub (search service)", ir.evaluate(service_runs, judgements), service_times))

    client = app.test_client()

    def hub_api(text: str) -> list[int]:
        response = client.get("/api/search", query_string={"q": text, "per_page": ir.MAP_DEPTH})
        if response.status_code != 200:
            raise RuntimeError(f"{text!r}: {response.status_code} {response.get_data(True)}")
        return [ir.number_of(r["ref"]) for r in response.get_json()["results"]]

    api_runs, api_times = timed_runs(queries, hub_api)
    rows.append(("hub (GET /api/search)", ir.evaluate(api_runs, judgements), api_times))
    with app.app_context():
        search.get_index().close()
        db.session.remove()
        db.engine.dispose()

    started = time.perf_counter()
    baseline = ir.BM25({d.number: d.body() for d in documents})
    baseline_build = time.perf_counter() - started
    bm25_runs, bm25_times = timed_runs(
        queries, lambda text: [n for n, __ in baseline.rank(text, ir.MAP_DEPTH)]
    )
    rows.append(("plain BM25 (k1=1.2, b=0.75)", ir.evaluate(bm25_runs, judgements), bm25_times))

    print(
        f"Cranfield: {len(documents)} abstracts, {len(queries)} queries, "
        f"{sum(len(j) for j in judgements.values())} relevant judgements"
    )
    print(
        f"import through the hub ({len(documents):,} files, released, indexed): "
        f"{import_seconds:.1f} s; "
        f"BM25 baseline built in {baseline_build:.2f} s"
    )
    print()
    header = (
        "system",
        f"nDCG@{ir.NDCG_DEPTH}",
        f"MAP@{ir.MAP_DEPTH}",
        "mean query ms",
        "p95 query ms",
    )
    table = [header] + [
        (name, f"{s.ndcg:.4f}", f"{s.map:.4f}", f"{statistics.fmean(t):.1f}", f"{p95(t):.1f}")
        for name, s, t in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print(
            "| "
            + " | ".join(
                cell.ljust(w) if c == 0 else cell.rjust(w)
                for c, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
            + " |"
        )
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return 0


if __name__ == "__main__":
    sys.exit(main())
