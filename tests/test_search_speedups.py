"""The array-based search gives exactly what the plain Whoosh search gave: the same
scores bit for bit, the same records in the same order, the same facet counts.

The catalogue is written straight into an index (no database): several segments, some
entries replaced or deleted, records in up to six languages, hidden records, and two
records whose entries disagree, as they do while an update is part way through. The
oracle is the search as it was before the arrays: `searcher.search(query, filter=...,
limit=None)`, then collapsing and counting in Python over every matched entry. A facet
with a choice is counted by the oracle over the search without that choice (the rule
of search/facets.py), so the oracle runs one search more per facet chosen.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from whoosh.query import And
from whoosh.query import Every
from whoosh.searching import Searcher

from knowledge_hub.access import Visibility
from knowledge_hub.models import AccessLevel
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import VariantStatus
from knowledge_hub.search import Hit
from knowledge_hub.search import SearchIndex
from knowledge_hub.search import SearchRequest
from knowledge_hub.search import search
from knowledge_hub.search.bounds import Deadline
from knowledge_hub.search.bounds import expand_patterns
from knowledge_hub.search.columns import Unsupported
from knowledge_hub.search.columns import score_every_match
from knowledge_hub.search.expansion import Expansion
from knowledge_hub.search.expansion import as_query
from knowledge_hub.search.expansion import label_word_scorer
from knowledge_hub.search.query import TITLE_MATCH_WEIGHT
from knowledge_hub.search.query import _allowed_entries
from knowledge_hub.search.query import _scored_matches
from knowledge_hub.search.query import parse
from knowledge_hub.search.query import read_query
from knowledge_hub.search.query import restriction
from knowledge_hub.search.schema import FACET_FIELDS
from knowledge_hub.search.schema import text_field
from knowledge_hub.search.schema import title_field
from knowledge_hub.search.statistics import VisibleBM25F
from knowledge_hub.search.syntax import AllOf
from knowledge_hub.search.syntax import Not
from knowledge_hub.search.syntax import Phrase
from knowledge_hub.search.syntax import Word
from knowledge_hub.search.syntax import joined

LANGUAGES = ("ar", "zh", "en", "fr", "ru", "es")

ANONYMOUS = Visibility(
    False,
    frozenset({DocumentStatus.RELEASED}),
    frozenset({AccessLevel.PUBLIC}),
    frozenset({VariantStatus.APPROVED}),
)
MEMBER = Visibility(
    False,
    frozenset({DocumentStatus.RELEASED}),
    frozenset({AccessLevel.PUBLIC, AccessLevel.MEMBERS}),
    frozenset({VariantStatus.APPROVED}),
)
STAFF = Visibility(
    True, frozenset(DocumentStatus), frozenset(AccessLevel), frozenset(VariantStatus)
)

WORDS = {
    "en": "flow heat boundary layer pressure wing shock velocity surface solution "
    "cooperative economy social solidarity finance women decent work local policy",
    "fr": "économie sociale solidaire coopérative travail politique femmes finance "
    "développement local droit homme liberté",
    "es": "economía social solidaria cooperativa trabajo política mujeres finanzas "
    "desarrollo local derecho libertad",
    "ru": "экономика социальная солидарная кооператив труд политика женщины финансы "
    "развитие право свобода",
    "ar": "الاقتصاد الاجتماعي التضامني التعاونية العمل السياسة المرأة التمويل التنمية الحق الحرية",
    "zh": "社会 团结 经济 合作社 工作 政策 妇女 金融 发展 权利 自由",
}
ORGANIZATIONS = ("ILO", "UNRISD", "UNCTAD", "FAO", "UN Women")
TOPICS = ("sdg-1", "sdg-5", "sdg-8", "cooperatives", "statistics")
REGIONS = ("001", "002", "019", "FR", "KE")


def entry(rng: random.Random, document_id: int, variant_id: int, language: str, meta: dict) -> dict:
    words = WORDS[language].split()
    # Skewed draws, so that some words are common and some rare.
    text = " ".join(words[min(int(rng.expovariate(0.25)), len(words) - 1)] for __ in range(30))
    title = " ".join(rng.choice(words) for __ in range(4))
    fields = {
        "variant_id": str(variant_id),
        "stamp": "",
        "document_id": document_id,
        "language": language,
        "variant_status": rng.choice(["approved"] * 8 + ["submitted", "sent_back"]),
        title_field(language): title,
        text_field(language): text,
        **meta,
    }
    if language == "zh":
        fields[text_field(language)] = text.replace(" ", "")
    return fields


def record_meta(rng: random.Random, document_id: int) -> dict:
    year = rng.randint(2013, 2026)
    meta = {
        "kind": rng.choice(["publication", "archive"]),
        "doc_type": rng.choice(["report", "agenda", "guide"]),
        "year": str(year),
        "status": rng.choice(["released"] * 6 + ["draft", "in_review", "withdrawn"]),
        "access": rng.choice(["public"] * 6 + ["members", "internal"]),
        "sort_date": year * 10000 + rng.choice([0, 100, 315]),
        "organization": ",".join(rng.sample(ORGANIZATIONS, rng.randint(1, 3))),
        "topic": ",".join(rng.sample(TOPICS, rng.randint(1, 2))),
    }
    if rng.random() < 0.5:
        meta["region"] = ",".join(rng.sample(REGIONS, rng.randint(1, 2)))
    if document_id % 7 == 0:
        meta["sort_date"] = 20200000  # many records of the same date: ties to break
    return meta


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    rng = random.Random(20261127)
    index = SearchIndex(Path(tmp_path_factory.mktemp("speedups")) / "index", LANGUAGES)
    variant_id = 0
    documents = {}
    for segment in range(3):
        with index.writing(merge=False) as writer:
            for document_id in range(segment * 150 + 1, segment * 150 + 151):
                meta = record_meta(rng, document_id)
                languages = rng.sample(LANGUAGES, rng.choice([1, 1, 1, 2, 3, 6]))
                documents[document_id] = (meta, languages)
                for language in languages:
                    variant_id += 1
                    writer.add_document(**entry(rng, document_id, variant_id, language, meta))
    with index.writing(merge=False) as writer:
        # Replaced and deleted entries leave deleted documents in older segments.
        for gone in range(5, 200, 9):
            writer.delete_by_term("variant_id", str(gone))
        for document_id in range(10, 400, 13):
            meta, languages = documents[document_id]
            meta = {**meta, "status": rng.choice(["released", "withdrawn"])}
            for language in languages[:1]:
                variant_id += 1
                writer.add_document(**entry(rng, document_id, variant_id, language, meta))
        # Records part way through an update: versions that disagree on the
        # organizations, and two entries in one language.
        meta, __ = documents[3]
        writer.add_document(**entry(rng, 3, 9001, "en", {**meta, "organization": "FAO,UN Women"}))
        meta, languages = documents[4]
        writer.add_document(**entry(rng, 4, 9002, languages[0], meta))
    with index.searching() as (searcher, __):
        assert len(searcher.leaf_searchers()) > 1
        assert searcher.doc_count() < searcher.doc_count_all()
    return index


QUERIES = [
    "flow",
    "heat boundary",
    "cooperative economy social",
    "économie",
    "economia sociale",
    "экономика",
    "الاقتصاد",
    "经济",
    "合作社 women",
    "finance*",
    "sol*",
    "solidarity OR women",
    "wing NOT shock",
    '"boundary layer"',
    "heat AND flow",
    "economy -合作社 (flow OR sol*)",
    "nothingmatchesthis",
    "layer?",
]


@pytest.mark.slow
@pytest.mark.parametrize("q", QUERIES)
def test_scores_are_whooshs_to_the_last_bit(index: SearchIndex, q: str) -> None:
    query = parse(index, q)
    with index.searching() as (searcher, columns):
        expected = {hit.docnum: hit.score for hit in searcher.search(query, limit=None)}
        try:
            docnums, scores = score_every_match(searcher, columns, query)
        except Unsupported:
            pytest.skip("scored by Whoosh's matchers")
    assert dict(zip(docnums.tolist(), scores.tolist(), strict=True)) == expected


@pytest.mark.slow
def test_words_and_prefixes_are_scored_over_arrays(index: SearchIndex) -> None:
    # The test above skips a query the arrays leave to Whoosh's matchers; these must
    # never be left: each is scored over the arrays, with Whoosh's matches and scores.
    with index.searching() as (searcher, columns):
        for q in ("flow", "heat boundary", "经济", "sol*"):
            query = parse(index, q)
            expected = {hit.docnum: hit.score for hit in searcher.search(query, limit=None)}
            try:
                docnums, scores = score_every_match(searcher, columns, query)
            except Unsupported:
                pytest.fail(f"{q!r} was left to Whoosh's matchers")
            assert expected, q
            assert dict(zip(docnums.tolist(), scores.tolist(), strict=True)) == expected, q


VIEWERS = {"anonymous": ANONYMOUS, "member": MEMBER, "staff": STAFF}


@pytest.mark.parametrize("viewer", VIEWERS)
def test_labels_words_are_scored_from_the_posting_lists_as_whoosh_scores_them(
    index: SearchIndex, viewer: str
) -> None:
    # A cross-language label's words skip Whoosh's matchers (expansion.py): they must
    # match the same visible entries with the same scores, deleted entries and several
    # segments included, in every language's own fields.
    labels = (
        ("en", "cooperative economy"),
        ("fr", "économie sociale"),
        ("ru", "экономика"),
        ("ar", "الاقتصاد"),
        ("zh", "合作社"),
        ("es", "palabraquenoexiste"),
    )
    seen = VIEWERS[viewer]
    query = as_query([Expansion("x", labels, False)], index.schema, LANGUAGES, TITLE_MATCH_WEIGHT)
    assert query is not None
    with index.searching() as (searcher, columns):
        visible = _allowed_entries(columns, seen, {})
        weighting = VisibleBM25F(searcher.reader(), columns, visible, seen)

        def through_whooshs_matchers(word):  # noqa: ANN001, ANN202
            return _scored_matches(searcher, columns, word, visible, Deadline(None), weighting)

        def never(word):  # noqa: ANN001, ANN202
            raise AssertionError(f"{word} was not scored from the posting lists")

        scored, words = label_word_scorer(weighting, never, lambda: None), 0
        for label in query.subqueries:
            for word in label.subqueries if isinstance(label, And) else [label]:
                docnums, scores = scored(word)
                expected = through_whooshs_matchers(word)
                assert docnums.tolist() == expected[0].tolist(), word
                assert scores.tolist() == expected[1].tolist(), word
                words += len(docnums) > 0
    assert words >= 5


FILTERS = [
    {},
    {"kind": ["publication"]},
    {"language": ["en", "fr"]},
    {"organization": ["ILO"], "year": ["2020", "2021", "2022"]},
    {"topic": ["sdg-8"], "region": ["002"]},
    {"organization": ["FAO"]},
    {"type": ["nonsense"]},
]


@pytest.mark.slow
@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("filters", FILTERS)
def test_the_mask_lets_through_what_the_whoosh_filter_does(
    index: SearchIndex, viewer: str, filters: dict
) -> None:
    seen = VIEWERS[viewer]
    with index.searching() as (searcher, columns):
        expected = set(searcher.docs_for_query(restriction(seen, filters) or Every()))
        allowed = set(np.flatnonzero(_allowed_entries(columns, seen, filters)).tolist())
    assert allowed == expected


@pytest.mark.slow
@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("q", ["", *QUERIES])
def test_results_and_facets_are_as_before(index: SearchIndex, viewer: str, q: str) -> None:
    seen = VIEWERS[viewer]
    for filters in FILTERS[:5]:
        for sort, page in (("relevance", 1), ("relevance", 2), ("newest", 1), ("oldest", 2)):
            # The reference searches the words typed (cross-language labels aside).
            request = SearchRequest(
                q=q, page=page, per_page=7, sort=sort, filters=filters, expand=False
            )
            result = search(index, seen, request)
            expected = reference_search(index, seen, request)
            assert (result.total, result.hits, result.facets) == expected, (filters, sort)


def test_records_part_way_through_an_update_are_counted_once(index: SearchIndex) -> None:
    result = search(index, STAFF, SearchRequest())
    organizations = dict(result.facets["organization"])
    languages = dict(result.facets["language"])
    expected = reference_search(index, STAFF, SearchRequest())[2]
    assert organizations == dict(expected["organization"])
    assert languages == dict(expected["language"])
    with index.searching() as (__, columns):
        assert columns.irregular["organization"].any()
        assert columns.irregular["language"].any()


# --- the search as it was, entry by entry

_reference_columns: dict[int, tuple] = {}


def reference_columns(searcher: Searcher) -> tuple:
    """Record number, date and facet values of every entry, as plain lists."""
    if id(searcher) not in _reference_columns:
        reader = searcher.reader()
        document_id = list(reader.column_reader("document_id"))
        sort_date = list(reader.column_reader("sort_date"))
        facet_values: dict[str, list[tuple[str, ...]]] = {}
        for facet, fieldname in FACET_FIELDS.items():
            values: list[tuple[str, ...]] = [()] * reader.doc_count_all()
            for term in reader.field_terms(fieldname):
                for docnum in reader.postings(fieldname, term).all_ids():
                    values[docnum] = (*values[docnum], term)
            facet_values[facet] = values
        _reference_columns[id(searcher)] = (document_id, sort_date, facet_values)
    return _reference_columns[id(searcher)]


def reference_search(index: SearchIndex, seen: Visibility, request: SearchRequest) -> tuple:
    with index.searching() as (searcher, columns):
        has_query, by_record, counts = reference_matches(index, searcher, columns, seen, request)
        # A facet with a choice counts the records found without that choice, with
        # every other facet's (facets.py): the reader sees what else they could add to
        # it, not only what they chose. The search without it is another search.
        counts = dict(counts)
        for facet, values in request.filters.items():
            if any(values):
                others = {f: v for f, v in request.filters.items() if f != facet}
                without = replace(request, filters=others)
                counts[facet] = reference_matches(index, searcher, columns, seen, without)[2][facet]
        document_id, sort_date, facet_values = reference_columns(searcher)

        def date_of(d: int) -> int:
            return sort_date[by_record[d][0][0]]

        sort = request.sort if has_query else "newest"
        if sort == "relevance":
            order = sorted(by_record, key=lambda d: (-by_record[d][0][1], -date_of(d), -d))
        elif sort == "oldest":
            order = sorted(by_record, key=lambda d: (date_of(d), d))
        else:
            order = sorted(by_record, key=lambda d: (-date_of(d), -d))
        start = (request.page - 1) * request.per_page
        hits = []
        for d in order[start : start + request.per_page]:
            stored = [searcher.stored_fields(n) for n, __ in by_record[d]]
            hits.append(
                (
                    d,
                    int(stored[0]["variant_id"]),
                    stored[0]["language"],
                    round(by_record[d][0][1], 4),
                    tuple(int(s["variant_id"]) for s in stored),
                    tuple(round(score, 4) for __, score in by_record[d]),
                )
            )
    facets = {
        facet: sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        for facet, counter in counts.items()
    }
    return len(by_record), [_as_hit(h) for h in hits], facets


#: What reference_matches found, by searcher, viewer, query and filters: the pages and
#: orders of one search share it. The searcher is kept in the value, so that no other
#: searcher can take its id while the entry lasts.
_reference_matches: dict[tuple, tuple] = {}


def reference_matches(
    index: SearchIndex, searcher: Searcher, columns, seen: Visibility, request: SearchRequest
) -> tuple[bool, dict[int, list[tuple[int, float]]], dict[str, Counter[str]]]:
    """Whether there is a query, every matched entry by record (best first), and the
    facet counts over the matched records."""
    key = (id(searcher), seen, request.q, repr(sorted(request.filters.items())))
    found = _reference_matches.get(key)
    if found is not None and found[0] is searcher:
        return found[1]
    query, tree = read_query(index, request.q) if request.q.strip() else (None, None)
    allowed = restriction(seen, request.filters)
    document_id, sort_date, facet_values = reference_columns(searcher)
    if query is not None:
        # Patterns stand for the words of the entries the viewer may see.
        visible = np.zeros(searcher.doc_count_all(), dtype=bool)
        visible[list(searcher.docs_for_query(restriction(seen, {}) or Every()))] = True
        query = expand_patterns(query, searcher.reader(), visible, Deadline(None))
        # Scores from the statistics of the entries the viewer may see.
        weighting = VisibleBM25F(searcher.reader(), columns, visible, ("reference", seen))
        scoring = Searcher(searcher.reader(), weighting=weighting, closereader=False)
    if query is not None:
        scored = [(h.docnum, h.score) for h in scoring.search(query, filter=allowed, limit=None)]
    else:
        scored = [(n, 0.0) for n in searcher.docs_for_query(allowed or Every())]
    by_record: dict[int, list[tuple[int, float]]] = {}
    for docnum, score in scored:
        by_record.setdefault(document_id[docnum], []).append((docnum, score))
    if tree is not None:
        matching = reference_records(index, searcher, seen, tree)
        by_record = {d: entries for d, entries in by_record.items() if d in matching}
    for entries in by_record.values():
        entries.sort(key=lambda e: -e[1])
    counts: dict[str, Counter[str]] = {facet: Counter() for facet in FACET_FIELDS}
    for entries in by_record.values():
        for facet, values_by_doc in facet_values.items():
            held: set[str] = set()
            for docnum, __ in entries:
                held.update(values_by_doc[docnum])
            counts[facet].update(held)
    found = (searcher, (query is not None, by_record, counts))
    _reference_matches[key] = found
    return found[1]


def reference_records(index: SearchIndex, searcher: Searcher, seen: Visibility, tree) -> set:
    """The document ids of the records the tree matches, leaf by leaf with Whoosh over
    the entries the viewer may see (the queries here have no joined words)."""
    document_id = reference_columns(searcher)[0]
    visible = set(searcher.docs_for_query(restriction(seen, {}) or Every()))
    records = {document_id[n] for n in visible}

    def holding(node) -> set:
        if isinstance(node, Word | Phrase):
            assert not (isinstance(node, Word) and joined(node.text))
            text = node.text if isinstance(node, Word) else f'"{node.text}"'
            reader = searcher.reader()
            query = expand_patterns(parse(index, text), reader, visible_mask, Deadline(None))
            return {document_id[n] for n in searcher.docs_for_query(query) if n in visible}
        if isinstance(node, Not):
            return set()
        sought = [holding(p) for p in node.parts if not isinstance(p, Not)]
        if not sought:
            return set()
        found = set.intersection(*sought) if isinstance(node, AllOf) else set.union(*sought)
        for part in node.parts:
            if isinstance(part, Not):
                found -= holding(part.part)
        return found & records

    visible_mask = np.zeros(searcher.doc_count_all(), dtype=bool)
    visible_mask[list(visible)] = True
    return holding(tree)


def _as_hit(row: tuple) -> Hit:
    d, variant_id, language, score, matched, scores = row
    return Hit(d, variant_id, language, score, matched, scores)


def test_posting_lists_read_before_an_update_serve_after_it(tmp_path: Path) -> None:
    rng = random.Random(7)
    index = SearchIndex(tmp_path / "index", LANGUAGES)
    with index.writing() as writer:
        for document_id in range(1, 80):
            meta = record_meta(rng, document_id)
            writer.add_document(**entry(rng, document_id, document_id, "en", meta))
    request = SearchRequest(q="flow heat", per_page=50)
    assert search(index, STAFF, request).hits == reference_search(index, STAFF, request)[1]
    with index.writing(merge=False) as writer:
        for gone in range(1, 80, 3):
            writer.delete_by_term("variant_id", str(gone))
        for document_id in range(80, 90):
            meta = record_meta(rng, document_id)
            writer.add_document(**entry(rng, document_id, document_id, "en", meta))
    result = search(index, STAFF, request)
    assert (result.total, result.hits, result.facets) == reference_search(index, STAFF, request)
