"""Search speed on a large catalogue: the hub's search service against raw Whoosh.

    .venv/bin/python -m benchmarks.search_speed --dir DIR [--rounds 3] [--seed 7]

DIR is a catalogue made by `benchmarks.generate`. The script runs a fixed query mix,
drawn with the seed from the same word lists the generator uses (so the words have the
catalogue's frequency profile):

- one word, rare (rank 1000-3000 in its language, or the last tenth of a smaller list),
  medium (rank 100-300) and common (rank 10-40) in English, and one of each in French,
  Spanish, Russian, Arabic and Chinese;
- 2 and 3 words (English, French, Spanish), a quoted two-word phrase, a prefix (`abc*`);
- a common word with facet filters (kind; language; year and topic; organization and
  region);
- the empty query (browsing, newest first) with no filter, a type, an organization and
  a year;
- a medium word sorted newest first, and page 2 of a common word.

Each query runs as a researcher without an account and as staff, through

- the hub: `search.search(index, visibility, SearchRequest(...))`, which scores every
  match, collapses to one result per record and counts seven facets over records;
- raw Whoosh: the same parsed query on the same searcher with the same filter
  (visibility and facet filters), `searcher.search(query, filter=..., limit=20)` (limit
  40 for page 2; sorted by `sort_date` for browsing and "newest"), no collapse, no facets.

One warm-up pass opens the searcher and builds its columns (timed on its own), then
`--rounds` timed passes. It prints p50/p95/p99/mean in ms per system and viewer, the
hub/raw ratios, a row per kind of query, and the process's memory (after the hub's
warm-up, then after everything).

The hub keeps the posting lists it read lately (knowledge_hub.search.columns,
PostingCache), and the mix repeats, so the timed rounds find them there. `--cold`
empties that cache before each hub query: every query then reads its posting lists
from the index, as the first search for a word in a new process does.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import numpy as np
from whoosh.query import Every
from whoosh.query import Query
from whoosh.searching import Searcher

from benchmarks.generate import DATA
from benchmarks.generate import Vocabulary
from benchmarks.generate import app_for
from benchmarks.generate import vocabularies
from knowledge_hub import search
from knowledge_hub.access import Visibility
from knowledge_hub.access import visible_levels
from knowledge_hub.models import AccessLevel
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import VariantStatus
from knowledge_hub.search import SearchIndex
from knowledge_hub.search import SearchRequest
from knowledge_hub.search.analyzers import analyzer_for
from knowledge_hub.search.columns import read_postings
from knowledge_hub.search.query import parse
from knowledge_hub.search.query import restriction

ANONYMOUS = visible_levels(None)
STAFF = Visibility(
    True, frozenset(DocumentStatus), frozenset(AccessLevel), frozenset(VariantStatus)
)
VIEWERS = {"anonymous": ANONYMOUS, "staff": STAFF}

COMMON = (10, 40)
MEDIUM = (100, 300)
RARE = (1000, 3000)


@dataclass(frozen=True)
class Case:
    """One query of the mix."""

    kind: str
    q: str = ""
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1

    def request(self) -> SearchRequest:
        return SearchRequest(q=self.q, page=self.page, sort=self.sort, filters=self.filters)


def is_searchable(language: str, word: str) -> bool:
    """A word the index holds: not a stop word, nor a letter or two."""
    return len(word) >= (2 if language == "zh" else 3) and any(
        True for __ in analyzer_for(language)(word)
    )


def word_at(vocabulary: Vocabulary, ranks: tuple[int, int], rng: np.random.Generator) -> str:
    """A searchable word whose frequency rank lies in ranks (scaled down in proportion
    for the shorter word lists of the UDHR)."""
    size = len(vocabulary.words)
    low, high = ranks
    if high > size:
        low, high = int(size * low / RARE[1]), int(size * high / RARE[1])
    candidates = [
        str(w) for w in vocabulary.words[low:high] if is_searchable(vocabulary.language, str(w))
    ]
    return candidates[int(rng.integers(len(candidates)))]


def query_mix(words: Mapping[str, Vocabulary], seed: int) -> list[Case]:
    """The fixed query mix for a seed."""
    rng = np.random.default_rng(seed)
    en = words["en"]
    bands = (("rare", RARE), ("medium", MEDIUM), ("common", COMMON))
    cases = [
        Case(f"1 word {band} en", word_at(en, ranks, rng)) for __ in (1, 2) for band, ranks in bands
    ]
    for lang in ("fr", "es", "ru", "ar", "zh"):
        for band, ranks in bands:
            cases.append(Case(f"1 word {band} other", word_at(words[lang], ranks, rng)))
    for lang, count in (("en", 2), ("en", 3), ("en", 2), ("fr", 2), ("es", 3)):
        bands = [MEDIUM, COMMON, MEDIUM][:count]
        cases.append(Case(f"{count} words", " ".join(word_at(words[lang], b, rng) for b in bands)))
    cases.append(Case("phrase", f'"{word_at(en, COMMON, rng)} {word_at(en, COMMON, rng)}"'))
    cases.append(Case("prefix", word_at(en, MEDIUM, rng)[:4] + "*"))
    common = word_at(en, COMMON, rng)
    for filters in (
        {"kind": ["publication"]},
        {"language": ["en"]},
        {"year": ["2024"], "topic": ["sdg-8"]},
        {"organization": ["ILO"], "region": ["002"]},
    ):
        cases.append(Case("word + filters", common, filters))
    for filters in ({}, {"type": ["report"]}, {"organization": ["UNRISD"]}, {"year": ["2020"]}):
        cases.append(Case("browse", "", filters))
    cases.append(Case("newest", word_at(en, MEDIUM, rng), sort="newest"))
    cases.append(Case("page 2", word_at(en, COMMON, rng), page=2))
    return cases


def raw_whoosh(index: SearchIndex, seen: Visibility, case: Case) -> Callable[[], object]:
    """The case as one plain Whoosh search: same query, same filter, no collapse or facets."""
    query = parse(index, case.q) if case.q else Every()
    allowed = restriction(seen, case.filters)
    limit = case.page * 20
    by_date = not case.q or case.sort != "relevance"

    def run() -> object:
        with index.searching() as (searcher, __):
            return _raw_search(searcher, query, allowed, limit, by_date)

    return run


def _raw_search(
    searcher: Searcher, query: Query, allowed: Query | None, limit: int, by_date: bool
) -> object:
    if by_date:
        return searcher.search(
            query, filter=allowed, limit=limit, sortedby="sort_date", reverse=True
        ).scored_length()
    return searcher.search(query, filter=allowed, limit=limit).scored_length()


def hub_search(
    index: SearchIndex, seen: Visibility, case: Case, cold: bool = False
) -> Callable[[], object]:
    request = case.request()

    def run() -> object:
        if cold:  # as if no search had read these words since the process started
            read_postings.clear()
        return search.search(index, seen, request)

    return run


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(np.ceil(share * len(ordered))) - 1))]


def summary(values: Sequence[float]) -> tuple[float, float, float, float]:
    return (
        percentile(values, 0.50),
        percentile(values, 0.95),
        percentile(values, 0.99),
        statistics.fmean(values),
    )


def resident_mb() -> float:
    """The process's resident memory now, in MB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, required=True, help="a generated catalogue")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes (default 3)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the query mix")
    parser.add_argument("--data", type=Path, default=DATA, help="the shared test material")
    parser.add_argument("--show", action="store_true", help="print each query and its total")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="empty the hub's cache of posting lists before each of its queries",
    )
    args = parser.parse_args(argv)
    if not (args.dir / "index").is_dir():
        print(f"{args.dir} holds no catalogue: run benchmarks.generate first.", file=sys.stderr)
        return 2
    cases = query_mix(vocabularies(args.data), args.seed)
    app = app_for(args.dir)
    with app.app_context(), app.test_request_context():
        index = search.get_index()
        before = resident_mb()
        started = time.perf_counter()
        with index.searching() as (searcher, __):
            entries = searcher.doc_count()
        opened = time.perf_counter()
        first = search.search(index, ANONYMOUS, SearchRequest())
        print(
            f"{args.dir}: {entries} index entries, {first.total} records visible "
            f"without an account; searcher opened and its columns built in "
            f"{opened - started:.2f} s, first search {time.perf_counter() - opened:.2f} s"
        )
        systems = {
            (system, viewer): [(case, make(index, seen, case)) for case in cases]
            for system, make in (
                ("hub", lambda i, s, c: hub_search(i, s, c, args.cold)),
                ("raw Whoosh", raw_whoosh),
            )
            for viewer, seen in VIEWERS.items()
        }
        # Warm-up: caches, analyzers, the OS page cache; the hub first, to see its memory.
        for (system, __), runs in systems.items():
            if system == "hub":
                for __, run in runs:
                    run()
        after_hub = resident_mb()
        for (system, __), runs in systems.items():
            if system != "hub":
                for __, run in runs:
                    run()
        if args.show:
            for case in cases:
                result = search.search(index, ANONYMOUS, case.request())
                print(f"  {case.kind:22} {case.q!r:40} {dict(case.filters)} -> {result.total}")
        times: dict[tuple[str, str], list[tuple[str, float]]] = {key: [] for key in systems}
        for __ in range(args.rounds):
            for key, runs in systems.items():
                times[key].extend((case.kind, timed(run)) for case, run in runs)
        after = resident_mb()
    if args.cold:
        print("\nthe hub's posting cache emptied before each of its queries")
    report(times, len(cases), args.rounds)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nmemory: {before:.0f} MB before opening the index; {after_hub:.0f} MB after the "
        f"hub's warm-up (+{after_hub - before:.0f} MB: searcher, columns, caches); "
        f"{after:.0f} MB after every run; peak {peak:.0f} MB"
    )
    return 0


def report(times: dict[tuple[str, str], list[tuple[str, float]]], cases: int, rounds: int) -> None:
    print(f"\n{cases} queries x {rounds} rounds per system and viewer (ms)\n")
    print("| system     | viewer    |    p50 |    p95 |    p99 |   mean |")
    print("|------------|-----------|--------|--------|--------|--------|")
    for (system, viewer), samples in times.items():
        p50, p95, p99, mean = summary([t for __, t in samples])
        print(f"| {system:10} | {viewer:9} | {p50:6.1f} | {p95:6.1f} | {p99:6.1f} | {mean:6.1f} |")
    print("\nhub / raw Whoosh")
    for viewer in VIEWERS:
        hub = summary([t for __, t in times[("hub", viewer)]])
        raw = summary([t for __, t in times[("raw Whoosh", viewer)]])
        print(
            f"  {viewer:9}  p50 x{hub[0] / raw[0]:.2f}  p95 x{hub[1] / raw[1]:.2f}  "
            f"p99 x{hub[2] / raw[2]:.2f}  mean x{hub[3] / raw[3]:.2f}"
        )
    print("\nby kind of query, both viewers (p50 / p95 ms)\n")
    print("| query                 |   hub p50 |   hub p95 |   raw p50 |   raw p95 |")
    print("|-----------------------|-----------|-----------|-----------|-----------|")
    kinds = list(dict.fromkeys(kind for kind, __ in times[("hub", "anonymous")]))
    for kind in kinds:
        hub = [t for v in VIEWERS for k, t in times[("hub", v)] if k == kind]
        raw = [t for v in VIEWERS for k, t in times[("raw Whoosh", v)] if k == kind]
        print(
            f"| {kind:21} | {percentile(hub, 0.5):9.1f} | {percentile(hub, 0.95):9.1f} "
            f"| {percentile(raw, 0.5):9.1f} | {percentile(raw, 0.95):9.1f} |"
        )


if __name__ == "__main__":
    sys.exit(main())
