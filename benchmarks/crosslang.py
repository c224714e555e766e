"""Cross-language search: finding a record from another language than its own.

    .venv/bin/python -m benchmarks.crosslang [--unbis FILE] [--udhr DIR]

Builds a hub in a temporary folder holding one language version of each record: the
original of every demo record (its translations left out) and the 30 articles of the
English Universal Declaration of Human Rights, one record each. Each left-out version
then becomes queries (its title; its summary's first SUMMARY_WORDS words), and so does
each article in the other five languages (its first ARTICLE_WORDS words, or
ARTICLE_CHARACTERS characters in Chinese); the right answer is the record they are a
version of. Every query runs through the hub's search service three times: the words
typed only (expand=0), with the Task Force's terms (search/sse_terms.tsv), and with
UNBIS too (THESAURUS_PATH). Prints success@10 and MRR (over the first 100 results) per
query language; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import statistics
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from benchmarks.cranfield import hub_config
from benchmarks.cranfield import p95
from benchmarks.ir import MANIFEST_COLUMNS

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DEMO = Path(__file__).resolve().parents[1] / "knowledge_hub" / "demo"
UDHR_FILES = {
    "en": "udhr_eng.xml",
    "fr": "udhr_fra.xml",
    "es": "udhr_spa.xml",
    "ru": "udhr_rus.xml",
    "ar": "udhr_arb.xml",
    "zh": "udhr_cmn_hans.xml",
}
LANGUAGES = ("en", "fr", "es", "ru", "ar", "zh")
SUMMARY_WORDS = 40
ARTICLE_WORDS = 40
ARTICLE_CHARACTERS = 80
DEPTH = 100
SUCCESS_DEPTH = 10


@dataclass(frozen=True)
class Query:
    language: str
    text: str
    ref: str  # the record that answers it
    kind: str  # "title", "summary" or "article"


#: A Chinese query is typed as words side by side: between two runs of characters,
#: punctuation makes them words joined (the query language: all of them must then be
#: in a record, decided record by record, and nothing is added to such a query), so it
#: is read here as a space, as a reader types keywords.
CHINESE_PUNCTUATION = re.compile(r"[^\w\s]+")


def _beginning(text: str, language: str, words: int) -> str:
    if language == "zh":
        return CHINESE_PUNCTUATION.sub(" ", text[:ARTICLE_CHARACTERS]).strip()
    return " ".join(text.split()[:words])


def udhr_articles(folder: Path, language: str) -> list[str]:
    """The text of each of the declaration's 30 articles, in order."""
    ns = "{http://efele.net/udhr}"
    root = ET.parse(folder / UDHR_FILES[language]).getroot()
    return [
        " ".join(p.text.strip() for p in article.iter(f"{ns}para") if p.text)
        for article in root.iter(f"{ns}article")
    ]


def collection(folder: Path, udhr: Path) -> tuple[Path, list[Query]]:
    """Write the import folder (files and manifest) and return it with the queries."""
    with open(DEMO / "manifest.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    by_ref: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_ref[row["ref"]].append(row)
    files = folder / "files"
    files.mkdir(parents=True)
    kept, queries = [], []
    for ref, versions in by_ref.items():
        original, *others = versions  # the first row of a record is its original
        target = files / original["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DEMO / "files" / original["file"], target)
        kept.append(original)
        for other in others:
            language = other["language"]
            queries.append(Query(language, other["title"], ref, "title"))
            if other["summary"]:
                summary = _beginning(other["summary"], language, SUMMARY_WORDS)
                queries.append(Query(language, summary, ref, "summary"))
    english = udhr_articles(udhr, "en")
    for number, text in enumerate(english, start=1):
        name = f"udhr-article-{number}.en.txt"
        (files / name).write_text(f"Article {number}\n\n{text}\n", encoding="utf-8")
        ref = f"UDHR-ART-{number}"
        kept.append(
            {
                "ref": ref,
                "file": name,
                "language": "en",
                "title": f"Universal Declaration of Human Rights, article {number}",
                "kind": "publication",
                "type": "other",
                "date": "1948-12-10",
                "access": "public",
            }
        )
    for language in LANGUAGES[1:]:
        for number, text in enumerate(udhr_articles(udhr, language), start=1):
            article = _beginning(text, language, ARTICLE_WORDS)
            queries.append(Query(language, article, f"UDHR-ART-{number}", "article"))
    manifest = folder / "manifest.csv"
    with open(manifest, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in kept:
            writer.writerow({k: row.get(k, "") for k in MANIFEST_COLUMNS})
    return manifest, queries


@dataclass(frozen=True)
class Scores:
    queries: int
    success: float
    mrr: float


def score(ranks: list[int | None]) -> Scores:
    """success@10 and MRR from each query's rank of its answer (None: not in the 100)."""
    success = sum(1 for r in ranks if r is not None and r <= SUCCESS_DEPTH) / len(ranks)
    mrr = statistics.fmean(1 / r if r is not None else 0.0 for r in ranks)
    return Scores(len(ranks), success, mrr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--unbis", type=Path, default=SHARED / "unbis" / "terms.tsv")
    parser.add_argument("--udhr", type=Path, default=SHARED / "udhr")
    parser.add_argument(
        "--cranfield",
        type=Path,
        metavar="DIR",
        help="instead, score the Cranfield hub kept in DIR (benchmarks.cranfield --keep DIR) "
        "with expansion off and on, side by side",
    )
    args = parser.parse_args(argv)
    if args.cranfield:
        return english_side_by_side(args.cranfield, args.unbis)
    if not (args.udhr / UDHR_FILES["en"]).is_file() or not args.unbis.is_file():
        print(f"The UDHR ({args.udhr}) or UNBIS ({args.unbis}) is missing.", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="hub-crosslang-") as folder:
        return run(Path(folder), args.unbis, args.udhr)


#: (name, expand, THESAURUS_PATH wanted)
SETTINGS = (
    ("typed words only", False, False),
    ("+ Task Force terms", True, False),
    ("+ UNBIS", True, True),
)


def run(folder: Path, unbis: Path, udhr: Path) -> int:
    from knowledge_hub import create_app
    from knowledge_hub import search
    from knowledge_hub import seed
    from knowledge_hub.access import visible_levels
    from knowledge_hub.extensions import db
    from knowledge_hub.models import Document
    from knowledge_hub.services import imports
    from knowledge_hub.services import users

    manifest, queries = collection(folder / "import", udhr)
    app = create_app(hub_config(folder))
    with app.app_context():
        db.create_all()
        seed.vocabularies(db.session)
        db.session.commit()
        report = imports.import_manifest(
            users.system_user(), folder / "import" / "files", manifest, release=True
        )
        problems = [str(r) for r in report.rows if r.outcome == imports.ERROR]
        problems += [f"{ref}: {why}" for ref, why in report.not_released.items()]
        if problems:
            print(report.summary(), *problems[:10], sep="\n", file=sys.stderr)
            return 1
        index = search.get_index()
        anyone = visible_levels(None)
        ref_of = dict(db.session.execute(db.select(Document.id, Document.ref)).all())
        table: dict[str, dict[str, Scores]] = {}
        times: dict[str, list[float]] = {}
        # One pass first, so that no setting's times pay for reading the index.
        for query in queries:
            search.search(index, anyone, search.SearchRequest(q=query.text, expand=False))
        for name, expand, with_unbis in SETTINGS:
            app.config["THESAURUS_PATH"] = str(unbis) if with_unbis else None
            ranks: dict[str, list[int | None]] = defaultdict(list)
            spent = times[name] = []
            for query in queries:
                request = search.SearchRequest(q=query.text, per_page=DEPTH, expand=expand)
                started = time.perf_counter()
                hits = search.search(index, anyone, request).hits
                spent.append((time.perf_counter() - started) * 1000)
                found = [ref_of[h.document_id] for h in hits]
                rank = found.index(query.ref) + 1 if query.ref in found else None
                ranks[query.language].append(rank)
                ranks["all"].append(rank)
            table[name] = {language: score(r) for language, r in ranks.items()}
        search.get_index().close()
        db.session.remove()
        db.engine.dispose()
    records = len(set(ref_of.values()))
    print(f"{records} records (one version each), {len(queries)} queries in other languages")
    print()
    header = ["query language", "queries"] + [
        f"{name}: {measure}" for name, *__ in SETTINGS for measure in ("S@10", "MRR")
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for __ in header) + "|")
    for language in (*LANGUAGES, "all"):
        if language not in table[SETTINGS[0][0]]:
            continue
        cells = [language, str(table[SETTINGS[0][0]][language].queries)]
        for name, *__ in SETTINGS:
            s = table[name][language]
            cells += [f"{s.success:.3f}", f"{s.mrr:.3f}"]
        print("| " + " | ".join(cells) + " |")
    print()
    for name, *__ in SETTINGS:
        print(
            f"{name}: mean {statistics.fmean(times[name]):.1f} ms, "
            f"p95 {p95(times[name]):.1f} ms a query"
        )
    return 0


def english_side_by_side(folder: Path, unbis: Path) -> int:
    """Cranfield's English queries over its English abstracts, with the words typed
    only and with UNBIS's labels added: expansion must leave the ranking as it is."""
    from benchmarks import ir
    from benchmarks.cranfield import DEFAULT_DATA
    from knowledge_hub import create_app
    from knowledge_hub import search
    from knowledge_hub.access import visible_levels
    from knowledge_hub.extensions import db
    from knowledge_hub.models import Document

    queries = ir.read_queries(DEFAULT_DATA / "cran.qry")
    judgements = ir.read_judgements(DEFAULT_DATA / "cranqrel")
    app = create_app({**hub_config(folder), "THESAURUS_PATH": str(unbis)})
    with app.app_context():
        index = search.get_index()
        anyone = visible_levels(None)
        ref_of = dict(db.session.execute(db.select(Document.id, Document.ref)).all())
        for text in queries.values():  # warm the caches
            search.search(index, anyone, search.SearchRequest(q=text, expand=False))
        for expand in (False, True):
            runs, spent = {}, []
            for number, text in queries.items():
                request = search.SearchRequest(q=text, per_page=ir.MAP_DEPTH, expand=expand)
                started = time.perf_counter()
                hits = search.search(index, anyone, request).hits
                spent.append((time.perf_counter() - started) * 1000)
                runs[number] = [ir.number_of(ref_of[h.document_id]) for h in hits]
            scores = ir.evaluate(runs, judgements)
            print(
                f"expand={int(expand)}: nDCG@10 {scores.ndcg:.4f}, MAP@100 {scores.map:.4f}, "
                f"mean {statistics.fmean(spent):.1f} ms, p95 {p95(spent):.1f} ms a query"
            )
        search.get_index().close()
        db.session.remove()
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
