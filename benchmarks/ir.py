"""Helpers for measuring search quality on the Cranfield collection.

Shared by `tests/test_search_quality.py` and `python -m benchmarks.cranfield`; nothing
here imports the hub, so the same code scores the hub and the plain BM25 baseline.

- Reading the collection: `read_documents` (cran.all.1400), `read_queries` (cran.qry,
  numbered by position: the N-th query in the file is query N in cranqrel, whatever id
  is printed above it), `read_judgements` (cranqrel).
- Writing it as an import folder: `write_import_folder` (one plain-text file per
  abstract plus a manifest CSV in the hub's import format).
- Scoring: `ndcg_at` (nDCG@10, gain = 5 - grade for grades 1..4), `average_precision`
  (AP@100, grades 1..4 relevant), `evaluate` (the means over all queries).
- `BM25`: a plain Okapi BM25 ranking over the same texts, the bar to beat.

Every one of the 225 Cranfield queries has at least one judged relevant document
(grade 1..4), so no query has to be left out; a query without any would count as 0.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge_hub.services.imports import COLUMNS

#: The columns of the hub's import manifest (see "Import manifest" in the design).
MANIFEST_COLUMNS = COLUMNS

REF_PREFIX = "CRAN-"
NDCG_DEPTH = 10
MAP_DEPTH = 100
RELEVANT_GRADES = (1, 2, 3, 4)

#: query number -> {document number: grade}; only grades 1..4 are kept.
Judgements = dict[int, dict[int, int]]


@dataclass(frozen=True)
class CranfieldDocument:
    number: int
    title: str
    authors: str
    source: str
    text: str

    @property
    def display_title(self) -> str:
        return self.title or f"Cranfield document {self.number}"

    def body(self) -> str:
        """The text of the document's file: title, authors and abstract (the fallback
        title for the two records of the collection that are empty)."""
        parts = [p for p in (self.title, self.authors, self.text) if p] or [self.display_title]
        return "\n\n".join(parts) + "\n"


def _squash(lines: Iterable[str]) -> str:
    return " ".join(" ".join(lines).split())


def _records(path: Path) -> Iterable[tuple[str, dict[str, list[str]]]]:
    """Yield (printed id, {field letter: lines}) for each `.I` record of a SMART file."""
    printed_id = None
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\r\n")
            if line.startswith(".I"):
                if printed_id is not None:
                    yield printed_id, fields
                printed_id = line[2:].strip()
                fields = {}
                current = None
            elif re.fullmatch(r"\.[A-Z]\s*", line):
                current = fields.setdefault(line[1], [])
            elif current is not None:
                current.append(line)
    if printed_id is not None:
        yield printed_id, fields


def read_documents(path: Path) -> list[CranfieldDocument]:
    """Read cran.all.1400: `.I n`, then `.T` title, `.A` authors, `.B` source, `.W` text."""
    return [
        CranfieldDocument(
            number=int(printed_id),
            title=_squash(fields.get("T", [])),
            authors=_squash(fields.get("A", [])),
            source=_squash(fields.get("B", [])),
            text=_squash(fields.get("W", [])),
        )
        for printed_id, fields in _records(path)
    ]


def read_queries(path: Path) -> dict[int, str]:
    """Read cran.qry as {query number: text}, numbered 1.. by position in the file."""
    return {
        number: _squash(fields.get("W", []))
        for number, (__, fields) in enumerate(_records(path), start=1)
    }


def read_judgements(path: Path) -> Judgements:
    """Read cranqrel (`query document grade`), keeping the grades 1..4 (relevant).

    Should a pair be judged twice, its best (lowest) grade counts.
    """
    judgements: Judgements = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 3:
                continue
            query, document, grade = (int(p) for p in parts[:3])
            if grade not in RELEVANT_GRADES:
                continue
            graded = judgements.setdefault(query, {})
            graded[document] = min(grade, graded.get(document, grade))
    return judgements


def ref_of(number: int) -> str:
    return f"{REF_PREFIX}{number}"


def number_of(ref: str) -> int | None:
    """The Cranfield document number behind a record reference, or None."""
    if not ref.startswith(REF_PREFIX):
        return None
    try:
        return int(ref[len(REF_PREFIX) :])
    except ValueError:
        return None


def manifest_rows(documents: Sequence[CranfieldDocument]) -> list[dict[str, str]]:
    """One manifest row per abstract, naming the file that `write_import_folder` writes."""
    return [
        {
            "ref": ref_of(d.number),
            "file": f"cran-{d.number:04d}.txt",
            "language": "en",
            "title": d.display_title,
            "summary": "",
            "kind": "archive",
            "type": "report",
            "date": "",
            "authors": "",
        }
        for d in documents
    ]


def write_import_folder(documents: Sequence[CranfieldDocument], folder: Path) -> Path:
    """Write one plain-text file per abstract and a manifest into folder; return the
    manifest's path (`manifest.csv`, itself not listed as a file to import)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = manifest_rows(documents)
    for document, row in zip(documents, rows, strict=True):
        (folder / row["file"]).write_text(document.body(), encoding="utf-8")
    manifest = folder / "manifest.csv"
    with open(manifest, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in MANIFEST_COLUMNS})
    return manifest


# --- Scoring ---------------------------------------------------------------------------


def gain(grade: int | None) -> int:
    """Graded gain: 4 for a complete answer (grade 1) down to 1 for minimum interest."""
    return 5 - grade if grade in RELEVANT_GRADES else 0


def _dcg(gains: Iterable[int]) -> float:
    return sum(g / math.log2(rank + 1) for rank, g in enumerate(gains, start=1))


def ndcg_at(ranking: Sequence[int], graded: Mapping[int, int], k: int = NDCG_DEPTH) -> float:
    """nDCG@k with linear gains; the ideal ranking is built from every judged relevant
    document of the query, whether the system found it or not."""
    ideal = _dcg(sorted((gain(g) for g in graded.values()), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return _dcg(gain(graded.get(d)) for d in _unique(ranking)[:k]) / ideal


def average_precision(
    ranking: Sequence[int], graded: Mapping[int, int], k: int = MAP_DEPTH
) -> float:
    """AP over the first k results, divided by the number of judged relevant documents
    (as trec_eval does), so a relevant document not found within k counts as a miss."""
    if not graded:
        return 0.0
    found = 0
    total = 0.0
    for rank, document in enumerate(_unique(ranking)[:k], start=1):
        if document in graded:
            found += 1
            total += found / rank
    return total / len(graded)


def _unique(ranking: Sequence[int]) -> list[int]:
    seen: set[int] = set()
    return [d for d in ranking if not (d in seen or seen.add(d))]


@dataclass(frozen=True)
class Scores:
    ndcg: float
    map: float
    queries: int

    def __str__(self) -> str:
        return f"nDCG@{NDCG_DEPTH}={self.ndcg:.4f} MAP@{MAP_DEPTH}={self.map:.4f}"


def evaluate(runs: Mapping[int, Sequence[int]], judgements: Judgements) -> Scores:
    """Mean nDCG@10 and MAP@100 over every judged query; a query the run lacks scores 0."""
    queries = sorted(judgements)
    if not queries:
        raise ValueError("no judged queries")
    ndcg = sum(ndcg_at(runs.get(q, ()), judgements[q]) for q in queries) / len(queries)
    ap = sum(average_precision(runs.get(q, ()), judgements[q]) for q in queries) / len(queries)
    return Scores(ndcg, ap, len(queries))


# --- The plain BM25 baseline -----------------------------------------------------------

TOKEN = re.compile(r"\w+")


class EnglishAnalyzer:
    """Lowercase \\w+ tokens, English stop words (Whoosh's list) dropped, Snowball stems."""

    def __init__(self) -> None:
        import Stemmer
        from whoosh.lang import stopwords_for_language

        self._stemmer = Stemmer.Stemmer("english")
        self._stop = frozenset(stopwords_for_language("en"))

    def __call__(self, text: str) -> list[str]:
        words = [w for w in TOKEN.findall(text.lower()) if w not in self._stop]
        return self._stemmer.stemWords(words)


class BM25:
    """Okapi BM25 (k1=1.2, b=0.75) over whole documents, in pure Python.

    idf = ln(1 + (N - n + 0.5) / (n + 0.5)) (never negative, as in Lucene); a word
    repeated in the query counts once per occurrence.
    """

    def __init__(
        self, texts: Mapping[int, str], *, k1: float = 1.2, b: float = 0.75, analyzer=None
    ) -> None:
        self.k1, self.b = k1, b
        self.analyze = analyzer or EnglishAnalyzer()
        self.lengths: dict[int, int] = {}
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for number, text in texts.items():
            counts = Counter(self.analyze(text))
            self.lengths[number] = sum(counts.values())
            for term, tf in counts.items():
                self.postings.setdefault(term, []).append((number, tf))
        self.count = len(self.lengths)
        self.average_length = sum(self.lengths.values()) / max(1, self.count)

    def idf(self, term: str) -> float:
        n = len(self.postings.get(term, ()))
        return math.log(1 + (self.count - n + 0.5) / (n + 0.5))

    def rank(self, query: str, limit: int = MAP_DEPTH) -> list[tuple[int, float]]:
        """The best `limit` documents for query, as (number, score), best first."""
        scores: dict[int, float] = {}
        k1, b, average = self.k1, self.b, self.average_length
        for term, qtf in Counter(self.analyze(query)).items():
            idf = self.idf(term)
            for number, tf in self.postings.get(term, ()):
                norm = k1 * (1 - b + b * self.lengths[number] / average)
                scores[number] = scores.get(number, 0.0) + qtf * idf * tf * (k1 + 1) / (tf + norm)
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
