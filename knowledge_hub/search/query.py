"""Searching: parse across every language's fields, filter by what the viewer may see
inside the search, collapse to one result per record, count facets (the snippets of
the results are cut in snippets.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import numpy as np
from flask_babel import gettext as _
from whoosh.qparser import EveryPlugin
from whoosh.qparser import FieldsPlugin
from whoosh.qparser import MultifieldPlugin
from whoosh.qparser import QueryParser
from whoosh.qparser import RangePlugin
from whoosh.qparser import WildcardPlugin
from whoosh.query import And
from whoosh.query import NullQuery
from whoosh.query import Or
from whoosh.query import Query
from whoosh.query import Term
from whoosh.searching import Searcher

from knowledge_hub.access import Visibility
from knowledge_hub.search.analyzers import spelling_analyzer
from knowledge_hub.search.bounds import BadQuery
from knowledge_hub.search.bounds import Deadline
from knowledge_hub.search.bounds import expand_patterns
from knowledge_hub.search.bounds import means_everything
from knowledge_hub.search.bounds import refuse_deep_nesting
from knowledge_hub.search.columns import Columns
from knowledge_hub.search.columns import Unsupported
from knowledge_hub.search.columns import held_by_any
from knowledge_hub.search.columns import score_every_match
from knowledge_hub.search.coordination import FieldsGroup
from knowledge_hub.search.coordination import WordsGroup
from knowledge_hub.search.coordination import WordsOr
from knowledge_hub.search.expansion import AlsoOr
from knowledge_hub.search.expansion import Expansion
from knowledge_hub.search.expansion import add_matches
from knowledge_hub.search.expansion import as_query
from knowledge_hub.search.expansion import find
from knowledge_hub.search.expansion import label_word_scorer
from knowledge_hub.search.facets import Groups
from knowledge_hub.search.facets import count_facets
from knowledge_hub.search.index import SearchIndex
from knowledge_hub.search.indexer import OTHER_LANGUAGE
from knowledge_hub.search.lookup import record_named
from knowledge_hub.search.matching import RecordMatcher
from knowledge_hub.search.schema import AUTHOR_FIELD
from knowledge_hub.search.schema import FACET_FIELDS
from knowledge_hub.search.schema import META_FIELD
from knowledge_hub.search.schema import ORG_FIELD
from knowledge_hub.search.schema import text_field
from knowledge_hub.search.schema import title_field
from knowledge_hub.search.snippets import Highlight
from knowledge_hub.search.snippets import highlight_of
from knowledge_hub.search.statistics import VisibleBM25F
from knowledge_hub.search.syntax import AllOf
from knowledge_hub.search.syntax import Fielded
from knowledge_hub.search.syntax import Node
from knowledge_hub.search.syntax import Not
from knowledge_hub.search.syntax import Word
from knowledge_hub.search.syntax import as_words
from knowledge_hub.search.syntax import fielded
from knowledge_hub.search.syntax import has_operators
from knowledge_hub.search.syntax import joined
from knowledge_hub.search.syntax import read
from knowledge_hub.search.syntax import sought
from knowledge_hub.search.syntax import unfielded

SORTS = ("relevance", "newest", "oldest")
MAX_QUERY_LENGTH = 1000
MAX_RESULT_WINDOW = 10_000
FEW_RESULTS = 3


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    page: int = 1
    per_page: int = 20
    sort: str = "relevance"
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    #: Also search the labels, in the other languages, of the concepts the query names
    #: (expansion.py); False searches only the words typed.
    expand: bool = True


@dataclass(frozen=True)
class Hit:
    """One record in the results, with the language version whose text matched best."""

    document_id: int
    variant_id: int
    language: str
    score: float
    #: Language versions of the record that matched, best first.
    matched_variant_ids: tuple[int, ...] = ()
    #: Their scores, in the same order.
    matched_scores: tuple[float, ...] = ()


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]
    suggestion: str | None = None
    #: Whether the query searched for words (else it browses: every record, or filters).
    searched_words: bool = False
    #: The terms the matched versions' snippets mark (snippets.highlight_of).
    highlight: Highlight = frozenset()
    #: When the search must be done by; what follows it (snippets) stops there too.
    deadline: Deadline = field(default_factory=lambda: Deadline(None))
    #: The document id of the record whose ref or document symbol the query is, typed
    #: alone, when the reader may see exactly one such record: the reader goes there.
    go_to: int | None = None
    #: The concepts named in the query whose labels in other languages were searched too.
    also_searched: list[Expansion] = field(default_factory=list)


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
#: 1.0, 0.390 with 0.3, 0.386 with 0.5). With the metadata searched too (META_FIELD),
#: 0.2 measures 0.3859 (tests/test_search_quality.py).
TITLE_MATCH_WEIGHT = 0.2

#: Weight of a match in the record's metadata (authors, organizations, topics, regions,
#: ref, symbols: the `meta` field). The field is short, so BM25 scores a match there
#: high; at half weight a record tagged ILO comes up for "ILO" without outranking one
#: whose text is about the words asked for.
META_MATCH_WEIGHT = 0.5

#: The fields a fielded word of the query language is ranked in, where it has any: the
#: others (`org:` by acronym, `type:`, `year:`, `ref:`) only choose records.
RANKED_FIELDS = ("title", "author", "org")


class _StarWildcardPlugin(WildcardPlugin):
    """Wildcards with `*` only: a question mark ends a question ("what is slip flow?"),
    where Whoosh would read "flow?" as "flow and one more letter" and miss "flow"."""

    qmarks = ""
    expr = r"(?P<text>\*)"


def query_parser(index: SearchIndex, *, bounded: bool = True) -> QueryParser:
    """The parser of readers' queries: every language's title and text fields, and the
    record's metadata. `bounded=False` keeps Whoosh's ranges and `*:*` (the benchmarks'
    "before")."""
    languages = (*index.languages, OTHER_LANGUAGE)
    fields = [f for lang in languages for f in (title_field(lang), text_field(lang))]
    boosts = {title_field(lang): TITLE_MATCH_WEIGHT for lang in languages}
    fields.append(META_FIELD)
    boosts[META_FIELD] = META_MATCH_WEIGHT
    return _words_parser(index, fields, boosts, bounded=bounded)


def field_parser(index: SearchIndex, field: str) -> QueryParser:
    """The parser of the words of `title:`, `author:` or `org:` (syntax.FIELDS), in that
    field alone: a title in every language's title field."""
    if field == "title":
        languages = (*index.languages, OTHER_LANGUAGE)
        return _words_parser(index, [title_field(lang) for lang in languages], {})
    return _words_parser(index, [AUTHOR_FIELD if field == "author" else ORG_FIELD], {})


def _words_parser(
    index: SearchIndex, fields: list[str], boosts: dict[str, float], *, bounded: bool = True
) -> QueryParser:
    # Records matching more of the words rank higher (see coordination.py).
    parser = QueryParser(None, index.schema, group=WordsGroup)
    parser.add_plugin(MultifieldPlugin(fields, fieldboosts=boosts, group=FieldsGroup))
    # Field names are internal; "status:draft" must be read as words, not a field.
    parser.remove_plugin_class(FieldsPlugin)
    parser.remove_plugin_class(WildcardPlugin)
    parser.add_plugin(_StarWildcardPlugin())
    if bounded:
        # A range or "every entry" expands over whole term dictionaries (see bounds.py).
        parser.remove_plugin_class(RangePlugin)
        parser.remove_plugin_class(EveryPlugin)
    return parser


def parse(index: SearchIndex, q: str, field: str | None = None) -> Query:
    """Parse q against the title and text fields of every language, each with its own
    analyzer, so that words are matched in whichever language they are, and against the
    record's metadata (names in every language, refs, symbols).

    Natural-language questions work as typed (punctuation, "?", lowercase and/or/not
    are words), while the explicit syntax stays: "quoted phrases", OR, (groups) and *
    for any letters (`econ*`). AND, NOT and -word are read by read_query(), record by
    record, before the words get here.

    Term ranges (`[a TO z]`) and `*:*` are not query syntax here: their brackets and
    colons are read as punctuation. Raises BadQuery for parentheses nested too deep.

    With a field of the query language (`title`, `author`, `org`), q is looked for in
    that field only."""
    refuse_deep_nesting(q)
    try:
        parser = query_parser(index) if field is None else field_parser(index, field)
        return parser.parse(q)
    except (RecursionError, IndexError):
        # Whoosh's parser fails on some operator sequences ("NOT NOT a"), and nesting is
        # bounded above, so a stack overflow here would come from a shape not foreseen.
        raise BadQuery(
            _("The query could not be read: check its parentheses and its AND, OR and NOT.")
        ) from None


def _decides_by_record(node: Node) -> bool:
    """Whether the tree joins (AND, or words joined by a hyphen or a slash) or excludes
    (NOT, -word) anywhere; otherwise a record matches when it holds one of its words."""
    if isinstance(node, AllOf | Not | Fielded):
        return True
    if isinstance(node, Word):
        return joined(node.text)
    return any(_decides_by_record(part) for part in getattr(node, "parts", ()))


def read_query(index: SearchIndex, q: str) -> tuple[Query, Node | None]:
    """The query that finds and ranks the language versions, and the tree that decides
    which records match (syntax.py, matching.py), or None when every record holding
    one of the query's words or phrases matches.

    A query of words, phrases, OR and groups only is read by parse() as it is. One with
    AND, NOT, -word or joined words is ranked by the words and phrases it looks for
    (not those it excludes), side by side, and its tree keeps the records it matches;
    with nothing to look for it matches nothing. Raises BadQuery as parse() does."""
    refuse_deep_nesting(q)
    tree = read(q)
    if tree is None:
        return NullQuery, None
    decides = _decides_by_record(tree)
    if not decides and not has_operators(q):
        return parse(index, q), None
    leaves = sought(tree)
    words = as_words(unfielded(leaves))
    query = parse(index, words) if words else NullQuery
    in_fields = [_ranked_in_field(index, leaf) for leaf in fielded(leaves)]
    in_fields = [part for part in in_fields if part is not NullQuery]
    if in_fields:
        # Side by side with the other words, each counting as one word of the query.
        parts = [query, *in_fields] if query is not NullQuery else in_fields
        query = parts[0] if len(parts) == 1 else WordsOr(parts).normalize()
    return query, (tree if decides else None)


def _ranked_in_field(index: SearchIndex, leaf: Fielded) -> Query:
    """What ranks the records a fielded word matches: its words in its field, for the
    fields that have words (RANKED_FIELDS); nothing for the others."""
    if leaf.field not in RANKED_FIELDS:
        return NullQuery
    words = as_words(unfielded(sought(leaf.part)))
    return parse(index, words, leaf.field) if words else NullQuery


def search(
    index: SearchIndex, seen: Visibility, request: SearchRequest, seconds: float | None = None
) -> SearchResult:
    """Run a search as a viewer with the given visibility, within `seconds` (default:
    the index's search_seconds; None there too: no limit).

    Raises BadQuery for a request that cannot be run or would cost too much (bounds.py),
    and SearchTooLong, a BadQuery, when it runs out of time before its results are known."""
    q = request.q.strip()
    if len(q) > MAX_QUERY_LENGTH:
        raise BadQuery(_("The query is longer than %(count)s characters.", count=MAX_QUERY_LENGTH))
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

    # A bare * means every record: browsing, not a pattern over every word.
    query, tree = read_query(index, q) if q and not means_everything(q) else (None, None)
    # Cross-language search (expansion.py): a query of words alone also looks for the
    # labels, in the other languages, of the concepts it names.
    also_searched, labels = [], None
    if request.expand and query is not None and query is not NullQuery and tree is None:
        also_searched = find(q)
        labels = as_query(also_searched, index.schema, index.languages, TITLE_MATCH_WEIGHT)
    with index.searching() as (searcher, columns):
        # The budget starts once the searcher is ready: opening it after an index change
        # (its columns) is the process's work, not this query's.
        deadline = Deadline(index.search_seconds if seconds is None else seconds)
        allowed = _allowed_entries(columns, seen, request.filters)
        # Matches are found among the entries the reader may see, and the facet choices
        # applied after: facets are counted without their own choice (facets.py).
        visible = _allowed_entries(columns, seen, {})
        if query is not None:
            query = expand_patterns(query, searcher.reader(), visible, deadline)
            deadline.check()
            # Scores from the statistics of what the reader may see (statistics.py).
            weighting = VisibleBM25F(searcher.reader(), columns, visible, seen)
            docnums, scores = _scored_matches(
                searcher, columns, query, visible, deadline, weighting
            )
            if labels is not None:
                docnums, scores = add_matches(
                    docnums,
                    scores,
                    labels,
                    label_word_scorer(
                        weighting,
                        lambda part: _scored_matches(
                            searcher, columns, part, visible, deadline, weighting
                        ),
                        deadline.check,
                    ),
                    searcher.reader(),
                    columns.record,
                )
                query = AlsoOr([query, labels])
            if tree is not None:
                docnums, scores = _of_matching_records(
                    searcher, columns, index, tree, visible, deadline, docnums, scores
                )
        else:
            docnums = np.flatnonzero(visible)
            scores = np.zeros(len(docnums))
        matched = docnums
        chosen = allowed[docnums]
        found = _collapse(docnums[chosen], scores[chosen], columns)
        sort = request.sort if query is not None else "newest"
        start = (request.page - 1) * request.per_page
        page = _page(found, columns, sort, start, request.per_page)
        hits = [_hit(searcher, found, columns, g) for g in page.tolist()]
        results = Groups(found.entries, found.starts)
        facets = count_facets(columns, results, matched, request.filters)
        suggestion = None
        if query is not None and found.records < FEW_RESULTS and not deadline.passed():
            suggestion = _suggest(searcher, q, _allowed_entries(columns, seen, {}), deadline)
        go_to = record_named(searcher.reader(), columns, visible, _named_alone(q, tree))
    return SearchResult(
        found.records,
        hits,
        facets,
        suggestion,
        searched_words=query is not None,
        highlight=highlight_of(query),
        deadline=deadline,
        go_to=go_to,
        also_searched=also_searched if labels else [],
    )


def _named_alone(q: str, tree: Node | None) -> str:
    """The ref or symbol a query may be, typed alone (`A/RES/77/281`) or as `ref:...`."""
    if isinstance(tree, Fielded) and tree.field == "ref" and isinstance(tree.part, Word):
        return tree.part.text
    return q


def _of_matching_records(
    searcher: Searcher,
    columns: Columns,
    index: SearchIndex,
    tree: Node,
    visible: np.ndarray,
    deadline: Deadline,
    docnums: np.ndarray,
    scores: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The matched entries of the records the tree matches, decided over the versions
    the reader may see, whatever the facet filters keep."""
    matcher = RecordMatcher(
        searcher,
        columns,
        index.languages,
        visible,
        lambda text, field: parse(index, text, field),
        deadline,
    )
    records = matcher.records_of(tree)
    keep = records[columns.record[docnums]]
    docnums, scores = docnums[keep], scores[keep]
    # A record matched by what ranks nothing (`org:ILO`, `year:2023`) is found by its
    # visible versions, with no score.
    unranked = records.copy()
    unranked[columns.record[docnums]] = False
    if unranked.any():
        extra = np.flatnonzero(visible & unranked[columns.record] & (columns.record >= 0))
        docnums = np.concatenate((docnums, extra))
        scores = np.concatenate((scores, np.zeros(len(extra))))
    return docnums, scores


def _allowed_entries(
    columns: Columns, seen: Visibility, filters: Mapping[str, Sequence[str]]
) -> np.ndarray:
    """The entries restriction() lets through, as a mask: the same terms, read from
    the columns instead of the postings at every search."""
    if seen not in columns.visible:
        visible = columns.live.copy()
        if not seen.everything:
            for fieldname, levels in (
                ("status", seen.statuses),
                ("access", seen.access_levels),
                ("variant_status", seen.variant_statuses),
            ):
                visible &= columns.values[fieldname].entries_with_any(v.value for v in levels)
        columns.visible[seen] = visible
    allowed = columns.visible[seen]
    for facet, values in filters.items():
        wanted = [v for v in values if v]
        if wanted:
            allowed = allowed & columns.values[FACET_FIELDS[facet]].entries_with_any(wanted)
    return allowed


def _scored_matches(
    searcher: Searcher,
    columns: Columns,
    query: Query,
    allowed: np.ndarray,
    deadline: Deadline,
    weighting: VisibleBM25F,
) -> tuple[np.ndarray, np.ndarray]:
    """The allowed entries that match, with the scores an unlimited Whoosh search gives
    them: computed over whole posting lists at once where the query is made of words
    and prefixes (nearly always), else by stepping Whoosh's own matchers."""
    try:
        docnums, scores = score_every_match(searcher, columns, query, deadline, weighting)
    except Unsupported:
        return _scored_by_matchers(searcher, query, allowed, deadline, weighting)
    keep = allowed[docnums]
    return docnums[keep], scores[keep]


#: Drop finished subtrees of a matcher before every this many matches, as Whoosh's
#: collectors do (ScoredCollector, replace=10): fewer matchers to step.
MATCHES_BETWEEN_PRUNINGS = 10


#: Matches stepped between two looks at the deadline.
MATCHES_BETWEEN_DEADLINE_CHECKS = 1024


def _scored_by_matchers(
    searcher: Searcher,
    query: Query,
    allowed: np.ndarray,
    deadline: Deadline | None = None,
    weighting: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Step Whoosh's matchers the way its unlimited collector does (dropping finished
    subtrees before every tenth match), scoring the allowed entries only."""
    docnums: list[int] = []
    scores: list[float] = []
    deadline = deadline or Deadline(None)
    context = searcher.context(weighting=weighting or searcher.weighting)
    stepped = 0
    for sub, offset in searcher.leaf_searchers():
        deadline.check()
        matcher = query.matcher(sub, context)
        until_pruning = 0
        while matcher.is_active():
            stepped += 1
            if stepped % MATCHES_BETWEEN_DEADLINE_CHECKS == 0:
                deadline.check()
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
    """Matched entries grouped by record (by document number within a record); group g
    is entries[starts[g]:starts[g + 1]], and best[g] is the place of its best entry
    (highest score, then lowest document number)."""

    entries: np.ndarray
    scores: np.ndarray
    starts: np.ndarray
    record: np.ndarray  # record number of each group
    best: np.ndarray

    @property
    def records(self) -> int:
        return len(self.record)

    @property
    def best_entries(self) -> np.ndarray:
        return self.entries[self.best]

    def group(self, g: int) -> list[tuple[int, float]]:
        """A group's (document number, score), best first."""
        begin, end = int(self.starts[g]), int(self.starts[g + 1])
        pairs = zip(self.entries[begin:end].tolist(), self.scores[begin:end].tolist(), strict=True)
        return sorted(pairs, key=lambda entry: (-entry[1], entry[0]))


def _collapse(docnums: np.ndarray, scores: np.ndarray, columns: Columns) -> _Found:
    """Group matched entries by record, and find each record's best entry."""
    # Marking the entries in the columns' by-record order groups them without a sort.
    places = columns.place_by_record[docnums]
    marked = np.zeros(len(columns.by_record), dtype=bool)
    marked[places] = True
    in_order = np.flatnonzero(marked)
    entries = columns.by_record[in_order]
    placed_scores = np.zeros(len(columns.by_record))
    placed_scores[places] = scores
    scores = placed_scores[in_order]
    record = columns.record[entries]
    if len(entries) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _Found(entries, scores, np.zeros(1, dtype=np.int64), empty, empty)
    firsts = np.flatnonzero(np.concatenate(([True], record[1:] != record[:-1])))
    lengths = np.diff(np.concatenate((firsts, [len(entries)])))
    top = np.maximum.reduceat(scores, firsts)
    # The first entry of each group that has the group's top score.
    at_top = np.flatnonzero(scores == np.repeat(top, lengths))
    group_of = np.repeat(np.arange(len(firsts)), lengths)[at_top]
    best = at_top[np.concatenate(([True], group_of[1:] != group_of[:-1]))]
    starts = np.concatenate((firsts, [len(entries)]))
    return _Found(entries, scores, starts, record[firsts], best)


def _page(found: _Found, columns: Columns, sort: str, start: int, count: int) -> np.ndarray:
    """The groups of one page, in the order shown: best score (for relevance), then
    date (newest first unless oldest is asked for), then the latest record."""
    date = columns.sort_date[found.best_entries]
    document_id = columns.record_document_id[found.record]
    wanted = start + count
    # Date and record in one number, where they fit, to pick a page without sorting all.
    if len(date) and date.min() >= 0 and date.max() < 2**30 and document_id.max() < 2**32:
        newest = date * 2**32 + document_id
    else:
        newest = None
    if sort == "relevance":
        top = found.scores[found.best]
        candidates = np.arange(found.records)
        if wanted < found.records:
            # Everything that scores as high as the page's last record, ties included.
            cut = np.partition(top, found.records - wanted)[found.records - wanted]
            candidates = np.flatnonzero(top >= cut)
        order = np.lexsort((-document_id[candidates], -date[candidates], -top[candidates]))
        return candidates[order][start:wanted]
    if newest is None:
        order = np.lexsort((document_id, date) if sort == "oldest" else (-document_id, -date))
        return order[start:wanted]
    key = newest if sort == "oldest" else -newest
    if wanted < found.records:
        candidates = np.argpartition(key, wanted - 1)[:wanted]
    else:
        candidates = np.arange(found.records)
    return candidates[np.argsort(key[candidates])][start:wanted]


def _hit(searcher: Searcher, found: _Found, columns: Columns, g: int) -> Hit:
    entries = found.group(g)
    stored = [searcher.stored_fields(docnum) for docnum, __ in entries]
    best = stored[0]
    return Hit(
        document_id=int(columns.record_document_id[found.record[g]]),
        variant_id=int(best["variant_id"]),
        language=best["language"],
        score=round(entries[0][1], 4),
        matched_variant_ids=tuple(int(s["variant_id"]) for s in stored),
        matched_scores=tuple(round(score, 4) for __, score in entries),
    )


#: Respellings of a word Whoosh proposes, best first, of which the first the reader
#: may see is taken.
SUGGESTION_CANDIDATES = 10


def _suggest(searcher: Searcher, q: str, visible: np.ndarray, deadline: Deadline) -> str | None:
    """A respelling of q from the words of released public text that the reader may see
    now (visible: a mask of the entries they may see), or None.

    Whoosh's term dictionary still holds the words of entries replaced or deleted (a
    record withdrawn, edited or made internal) until their segment is merged, so every
    word is checked against the entries that hold it."""
    reader = searcher.reader()
    changed = False
    corrected = q
    words = {t.text for t in spelling_analyzer()(q)}
    for word in sorted(words, key=len, reverse=True):
        if deadline.passed():
            break
        if len(word) < 3 or word.isdigit() or held_by_any(reader, "spelling", word, visible):
            continue
        options = searcher.suggest(
            "spelling", word, limit=SUGGESTION_CANDIDATES, maxdist=2, prefix=1
        )
        option = next(
            (o for o in options if o != word and held_by_any(reader, "spelling", o, visible)),
            None,
        )
        if option is not None:
            corrected = re.sub(rf"(?i)\b{re.escape(word)}\b", option, corrected)
            changed = True
    return corrected if changed else None
