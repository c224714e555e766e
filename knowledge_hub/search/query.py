"""Searching: parse across every language's fields, filter by what the viewer may see
inside the search, collapse to one result per record, count facets, highlight."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

import numpy as np
from flask_babel import gettext as _
from whoosh import highlight
from whoosh.qparser import FieldsPlugin
from whoosh.qparser import MultifieldParser
from whoosh.qparser import OrGroup
from whoosh.qparser import WildcardPlugin
from whoosh.query import And
from whoosh.query import Or
from whoosh.query import Query
from whoosh.query import Term
from whoosh.searching import Searcher

from knowledge_hub.access import Visibility
from knowledge_hub.search.analyzers import analyzer_for
from knowledge_hub.search.analyzers import spelling_analyzer
from knowledge_hub.search.columns import MATCHES_BETWEEN_PRUNINGS
from knowledge_hub.search.columns import Columns
from knowledge_hub.search.columns import Unsupported
from knowledge_hub.search.columns import score_every_match
from knowledge_hub.search.index import SearchIndex
from knowledge_hub.search.indexer import OTHER_LANGUAGE
from knowledge_hub.search.indexer import index_language
from knowledge_hub.search.schema import FACET_FIELDS
from knowledge_hub.search.schema import text_field
from knowledge_hub.search.schema import title_field

SORTS = ("relevance", "newest", "oldest")
MAX_QUERY_LENGTH = 1000
MAX_RESULT_WINDOW = 10_000
FEW_RESULTS = 3


class BadQuery(ValueError):
    """The query cannot be run; the message is worded for people."""


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    page: int = 1
    per_page: int = 20
    sort: str = "relevance"
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """One record in the results, with the language version whose text matched best."""

    document_id: int
    variant_id: int
    language: str
    score: float
    #: Language versions of the record that matched, best first.
    matched_variant_ids: tuple[int, ...] = ()


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]
    suggestion: str | None = None
    query: Query | None = None


class _MarkFormatter(highlight.Formatter):
    """Wrap matched words in a bare <mark>, escaping everything else."""

    between = " … "

    def format_token(self, text: str, token: object, replace: bool = False) -> str:
        return f"<mark>{highlight.htmlescape(highlight.get_text(text, token, replace))}</mark>"

    def _text(self, text: str) -> str:
        return highlight.htmlescape(text, quote=False)


def _visibility_filter(seen: Visibility) -> Query | None:
    """The viewer's rights as a filter applied inside the search (None: sees everything)."""
    if seen.everything:
        return None
    return And(
        [
            Or([Term("status", s.value) for s in sorted(seen.statuses)]),
            Or([Term("access", a.value) for a in sorted(seen.access_levels)]),
            Or([Term("variant_status", v.value) for v in sorted(seen.variant_statuses)]),
        ]
    )


def _refuse_unknown_facets(filters: Mapping[str, Sequence[str]]) -> None:
    for facet in filters:
        if facet not in FACET_FIELDS:
            raise BadQuery(_("Unknown filter %(name)s.", name=repr(facet)))


def _facet_filter(filters: Mapping[str, Sequence[str]]) -> list[Query]:
    """Values of one facet are alternatives; different facets must all hold."""
    _refuse_unknown_facets(filters)
    clauses = []
    for facet, values in filters.items():
        values = [v for v in values if v]
        if values:
            clauses.append(Or([Term(FACET_FIELDS[facet], v) for v in values]))
    return clauses


def restriction(seen: Visibility, filters: Mapping[str, Sequence[str]]) -> Query | None:
    """The entries a search may return, the facet filters and what the viewer may see,
    as one Whoosh filter (None: no restriction).

    search() applies the same terms as a mask read from the columns
    (_allowed_entries); this form serves plain Whoosh searches, which the tests and
    benchmarks compare with it."""
    constraints = _facet_filter(filters)
    visibility = _visibility_filter(seen)
    if visibility is not None:
        constraints.append(visibility)
    return And(constraints) if constraints else None


#: Weight of a match in a title field against one in the text. A version's text holds
#: its title as well (the file's own title page, the summary), and the title field is
#: indexed with TITLE_BOOST, so a title match is a bonus on top of the text's; counted
#: in full it drowned the text (Cranfield, benchmarks/README.md: nDCG@10 0.379 with
#: 1.0, 0.390 with 0.3, 0.386 with 0.5).
TITLE_MATCH_WEIGHT = 0.3


class _StarWildcardPlugin(WildcardPlugin):
    """Wildcards with `*` only: a question mark ends a question ("what is slip flow?"),
    where Whoosh would read "flow?" as "flow and one more letter" and miss "flow"."""

    qmarks = ""
    expr = r"(?P<text>\*)"


def parse(index: SearchIndex, q: str) -> Query:
    """Parse q against the title and text fields of every language, each with its own
    analyzer, so that words are matched in whichever language they are.

    Natural-language questions work as typed (punctuation, "?", lowercase and/or/not
    are words), while the explicit syntax stays: "quoted phrases", AND, OR, NOT,
    (groups) and a trailing * for a prefix."""
    languages = (*index.languages, OTHER_LANGUAGE)
    fields = [f for lang in languages for f in (title_field(lang), text_field(lang))]
    boosts = {title_field(lang): TITLE_MATCH_WEIGHT for lang in languages}
    # Records matching more of the words rank higher (a coordination bonus).
    parser = MultifieldParser(
        fields, index.schema, fieldboosts=boosts, group=OrGroup.factory(0.9)
    )
    # Field names are internal; "status:draft" must be read as words, not a field.
    parser.remove_plugin_class(FieldsPlugin)
    parser.remove_plugin_class(WildcardPlugin)
    parser.add_plugin(_StarWildcardPlugin())
    return parser.parse(q)


def search(index: SearchIndex, seen: Visibility, request: SearchRequest) -> SearchResult:
    """Run a search as a viewer with the given visibility."""
    q = request.q.strip()
    if len(q) > MAX_QUERY_LENGTH:
        raise BadQuery(
            _("The query is longer than %(count)s characters.", count=MAX_QUERY_LENGTH)
        )
    if request.sort not in SORTS:
        raise BadQuery(
            _(
                "Unknown sort %(sort)s: use one of %(sorts)s.",
                sort=repr(request.sort),
                sorts=", ".join(SORTS),
            )
        )
    if request.page < 1 or request.page * request.per_page > MAX_RESULT_WINDOW:
        raise BadQuery(_("Pages go from 1 up to result %(count)s.", count=MAX_RESULT_WINDOW))
    _refuse_unknown_facets(request.filters)

    query = parse(index, q) if q else None
    with index.searching() as (searcher, columns):
        allowed = _allowed_entries(columns, seen, request.filters)
        if query is not None:
            docnums, scores = _scored_matches(searcher, columns, query, allowed)
        else:
            docnums = np.flatnonzero(allowed)
            scores = np.zeros(len(docnums))
        found = _collapse(docnums, scores, columns)
        order = _order(found, columns, request.sort if query is not None else "newest")
        start = (request.page - 1) * request.per_page
        page = order[start : start + request.per_page]
        hits = [_hit(searcher, found, columns, group) for group in page.tolist()]
        facets = _count_facets(found, columns)
        suggestion = None
        if query is not None and found.records < FEW_RESULTS:
            suggestion = _suggest(searcher, q)
    return SearchResult(found.records, hits, facets, suggestion, query)


def _allowed_entries(
    columns: Columns, seen: Visibility, filters: Mapping[str, Sequence[str]]
) -> np.ndarray:
    """The entries restriction() lets through, as a mask: the same terms, read from
    the columns instead of the postings at every search."""
    allowed = columns.live.copy()
    for facet, values in filters.items():
        wanted = [v for v in values if v]
        if wanted:
            allowed &= columns.values[FACET_FIELDS[facet]].entries_with_any(wanted)
    if not seen.everything:
        for fieldname, levels in (
            ("status", seen.statuses),
            ("access", seen.access_levels),
            ("variant_status", seen.variant_statuses),
        ):
            allowed &= columns.values[fieldname].entries_with_any(v.value for v in levels)
    return allowed


def _scored_matches(
    searcher: Searcher, columns: Columns, query: Query, allowed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The allowed entries that match, with the scores an unlimited Whoosh search gives
    them: computed over whole posting lists at once where the query is made of words
    and prefixes (nearly always), else by stepping Whoosh's own matchers."""
    try:
        docnums, scores = score_every_match(searcher, columns, query)
    except Unsupported:
        return _scored_by_matchers(searcher, query, allowed)
    keep = allowed[docnums]
    return docnums[keep], scores[keep]


def _scored_by_matchers(
    searcher: Searcher, query: Query, allowed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Step Whoosh's matchers the way its unlimited collector does (pruning the tree
    before every tenth match, which the scores depend on), scoring the allowed
    entries only."""
    docnums: list[int] = []
    scores: list[float] = []
    for sub, offset in searcher.leaf_searchers():
        matcher = query.matcher(sub, searcher.context())
        until_pruning = 0
        while matcher.is_active():
            if until_pruning == 0:
                matcher = matcher.replace(0)
                if not matcher.is_active():
                    break
                until_pruning = MATCHES_BETWEEN_PRUNINGS
            until_pruning -= 1
            docnum = offset + matcher.id()
            if allowed[docnum]:
                docnums.append(docnum)
                scores.append(matcher.score())
            matcher.next()
    return np.array(docnums, dtype=np.int64), np.array(scores, dtype=np.float64)


@dataclass(frozen=True)
class _Found:
    """Matched entries grouped by record, the best entry of each record first (then by
    document number); group g is docnums[starts[g]:starts[g + 1]]."""

    docnums: np.ndarray
    scores: np.ndarray
    starts: np.ndarray
    record: np.ndarray  # record number of each group

    @property
    def records(self) -> int:
        return len(self.record)

    @property
    def best(self) -> np.ndarray:
        return self.docnums[self.starts[:-1]]


def _collapse(docnums: np.ndarray, scores: np.ndarray, columns: Columns) -> _Found:
    """Group matched entries by record, best entry first."""
    record = columns.record[docnums]
    order = np.lexsort((docnums, -scores, record))
    docnums, scores, record = docnums[order], scores[order], record[order]
    firsts = np.flatnonzero(np.concatenate(([True], record[1:] != record[:-1])))
    if len(docnums) == 0:
        firsts = np.zeros(0, dtype=np.int64)
    starts = np.concatenate((firsts, [len(docnums)]))
    return _Found(docnums, scores, starts, record[firsts])


def _order(found: _Found, columns: Columns, sort: str) -> np.ndarray:
    """The groups in the order shown: best score, then newest, then the latest record."""
    date = columns.sort_date[found.best]
    document_id = columns.record_document_id[found.record]
    if sort == "relevance":
        return np.lexsort((-document_id, -date, -found.scores[found.starts[:-1]]))
    if sort == "oldest":
        return np.lexsort((document_id, date))
    return np.lexsort((-document_id, -date))


def _hit(searcher: Searcher, found: _Found, columns: Columns, group: int) -> Hit:
    begin, end = found.starts[group], found.starts[group + 1]
    stored = [searcher.stored_fields(docnum) for docnum in found.docnums[begin:end].tolist()]
    best = stored[0]
    return Hit(
        document_id=int(columns.record_document_id[found.record[group]]),
        variant_id=int(best["variant_id"]),
        language=best["language"],
        score=round(float(found.scores[begin]), 4),
        matched_variant_ids=tuple(int(s["variant_id"]) for s in stored),
    )


def _count_facets(found: _Found, columns: Columns) -> dict[str, list[tuple[str, int]]]:
    """Count records (not versions) per facet value over the matched set.

    A value shared by the versions of a record (its metadata) is counted on the record's
    best entry; one that differs between them (the language) on every entry. Records
    whose entries break that rule (an index part way through an update) are counted
    one by one."""
    facets = {}
    for facet, fieldname in FACET_FIELDS.items():
        column = columns.values[fieldname]
        entries = found.best if columns.shared_by_record[fieldname] else found.docnums
        irregular = columns.irregular[fieldname]
        counts = column.count(entries[~irregular[entries]])
        counter = Counter({column.names[i]: int(n) for i, n in enumerate(counts.tolist()) if n})
        for group in np.flatnonzero(irregular[found.best]).tolist():
            values: set[str] = set()
            for docnum in found.docnums[found.starts[group] : found.starts[group + 1]]:
                values.update(column.values_of(int(docnum)))
            counter.update(values)
        facets[facet] = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    return facets


RULE_LINE = re.compile(r"[-=_*#~]{3,}")


def _suggest(searcher: Searcher, q: str) -> str | None:
    """A respelling of q from the words of released public text, or None."""
    changed = False
    corrected = q
    words = {t.text for t in spelling_analyzer()(q)}
    for word in sorted(words, key=len, reverse=True):
        if len(word) < 3 or word.isdigit() or searcher.doc_frequency("spelling", word):
            continue
        options = searcher.suggest("spelling", word, limit=1, maxdist=2, prefix=1)
        if options and options[0] != word:
            corrected = re.sub(rf"(?i)\b{re.escape(word)}\b", options[0], corrected)
            changed = True
    return corrected if changed else None


def snippet(query: Query | None, index: SearchIndex, language: str, text: str, top: int = 3) -> str:
    """Return up to `top` fragments of text around the query's words, marked, as safe HTML."""
    if query is None or not text:
        return ""
    lang = index_language(language, index.languages)
    fields = {title_field(lang), text_field(lang)}
    terms = {
        word.decode("utf-8") if isinstance(word, bytes) else word
        for fieldname, word in query.iter_all_terms()
        if fieldname in fields
    }
    if not terms:
        return ""
    fragmenter = highlight.ContextFragmenter(maxchars=300, surround=60)
    # Rules and underlines of plain-text layouts ("=====", "-----") say nothing in a snippet.
    text = RULE_LINE.sub(" ", text)
    return highlight.highlight(
        text, frozenset(terms), analyzer_for(lang), fragmenter, _MarkFormatter(), top=top
    )
