"""Searching: parse across every language's fields, filter by what the viewer may see
inside the search, collapse to one result per record, count facets, highlight."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

from flask_babel import gettext as _
from whoosh import highlight
from whoosh.qparser import FieldsPlugin
from whoosh.qparser import MultifieldParser
from whoosh.qparser import OrGroup
from whoosh.qparser import WildcardPlugin
from whoosh.query import And
from whoosh.query import Every
from whoosh.query import Or
from whoosh.query import Query
from whoosh.query import Term
from whoosh.searching import Searcher

from knowledge_hub.access import Visibility
from knowledge_hub.search.analyzers import analyzer_for
from knowledge_hub.search.analyzers import spelling_analyzer
from knowledge_hub.search.columns import Columns
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


def _facet_filter(filters: Mapping[str, Sequence[str]]) -> list[Query]:
    """Values of one facet are alternatives; different facets must all hold."""
    clauses = []
    for facet, values in filters.items():
        if facet not in FACET_FIELDS:
            raise BadQuery(_("Unknown filter %(name)s.", name=repr(facet)))
        values = [v for v in values if v]
        if values:
            clauses.append(Or([Term(FACET_FIELDS[facet], v) for v in values]))
    return clauses


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
    constraints = _facet_filter(request.filters)
    visibility = _visibility_filter(seen)
    if visibility is not None:
        constraints.append(visibility)
    restriction = And(constraints) if constraints else None

    query = parse(index, q) if q else None
    with index.searching() as (searcher, columns):
        if query is not None:
            results = searcher.search(query, filter=restriction, limit=None)
            scored = [(hit.docnum, hit.score) for hit in results]
        else:
            scored = [(n, 0.0) for n in searcher.docs_for_query(restriction or Every())]
        by_record = _collapse(scored, columns)
        order = _order(by_record, columns, request.sort if query is not None else "newest")
        start = (request.page - 1) * request.per_page
        page = order[start : start + request.per_page]
        hits = [_hit(searcher, document_id, by_record[document_id]) for document_id in page]
        facets = _count_facets(by_record, columns)
        suggestion = None
        if query is not None and len(by_record) < FEW_RESULTS:
            suggestion = _suggest(searcher, q)
    return SearchResult(len(by_record), hits, facets, suggestion, query)


def _collapse(
    scored: list[tuple[int, float]], columns: Columns
) -> dict[int, list[tuple[int, float]]]:
    """Group matched entries by record, best entry first."""
    by_record: dict[int, list[tuple[int, float]]] = {}
    for docnum, score in scored:
        by_record.setdefault(columns.document_id[docnum], []).append((docnum, score))
    for entries in by_record.values():
        entries.sort(key=lambda e: -e[1])
    return by_record


def _order(by_record: dict[int, list[tuple[int, float]]], columns: Columns, sort: str) -> list[int]:
    def date_of(document_id: int) -> int:
        return columns.sort_date[by_record[document_id][0][0]]

    if sort == "relevance":
        return sorted(by_record, key=lambda d: (-by_record[d][0][1], -date_of(d), -d))
    if sort == "oldest":
        return sorted(by_record, key=lambda d: (date_of(d), d))
    return sorted(by_record, key=lambda d: (-date_of(d), -d))


def _hit(searcher: Searcher, document_id: int, entries: list[tuple[int, float]]) -> Hit:
    stored = [searcher.stored_fields(docnum) for docnum, __ in entries]
    best = stored[0]
    return Hit(
        document_id=document_id,
        variant_id=int(best["variant_id"]),
        language=best["language"],
        score=round(entries[0][1], 4),
        matched_variant_ids=tuple(int(s["variant_id"]) for s in stored),
    )


def _count_facets(
    by_record: dict[int, list[tuple[int, float]]], columns: Columns
) -> dict[str, list[tuple[str, int]]]:
    """Count records (not versions) per facet value over the matched set."""
    counts: dict[str, Counter[str]] = {facet: Counter() for facet in FACET_FIELDS}
    for entries in by_record.values():
        for facet, values_by_doc in columns.facets.items():
            values: set[str] = set()
            for docnum, __ in entries:
                values.update(values_by_doc[docnum])
            counts[facet].update(values)
    return {
        facet: sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        for facet, counter in counts.items()
    }


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
