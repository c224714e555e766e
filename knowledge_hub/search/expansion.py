"""Cross-language search: the concepts a query names (thesaurus.py), looked for in the
other languages too, so that a Spanish or Arabic query finds a paper that exists in
English only.

find() recognises the longest concept labels in the query, in any of the six languages;
as_query() searches each of their labels in the other five languages in that language's
own fields and with its analyzer, every word of a label required; add_matches() adds
what those find to the typed words' matches, weighted below them (EXPANSION_WEIGHT)."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Protocol

import numpy as np
from flask import current_app
from flask import has_app_context
from whoosh.fields import Schema
from whoosh.lang import stopwords_for_language
from whoosh.query import And
from whoosh.query import Or
from whoosh.query import Query
from whoosh.query import Term
from whoosh.reading import IndexReader

from knowledge_hub.search.analyzers import ARABIC_STOPWORDS
from knowledge_hub.search.columns import Unsupported
from knowledge_hub.search.coordination import FieldsOr
from knowledge_hub.search.schema import text_field
from knowledge_hub.search.schema import title_field
from knowledge_hub.search.thesaurus import LANGUAGES
from knowledge_hub.search.thesaurus import Thesaurus
from knowledge_hub.search.thesaurus import Token
from knowledge_hub.search.thesaurus import fold
from knowledge_hub.search.thesaurus import thesaurus
from knowledge_hub.search.thesaurus import tokens

#: How much a match through another language's label counts against one of the words
#: typed: a record holding the typed words stays above one found only through a label.
EXPANSION_WEIGHT = 0.4

#: At most this many spans of a query are expanded (the longest kept): a long question
#: naming many concepts would otherwise search dozens of labels.
MAX_EXPANSIONS = 4

#: At most this many concepts for one span (a label can name several concepts in
#: different languages: "information" in English and French).
MAX_CONCEPTS_PER_SPAN = 2

#: A span shorter than this many letters is not expanded ("un", "eu", "ai").
SHORTEST_SPAN = 3

#: A Chinese label shorter than this many characters is not looked for.
SHORTEST_CHINESE_SPAN = 2


@dataclass(frozen=True)
class Expansion:
    """A part of the query naming a concept, and the concept's labels in the other
    languages (language, label as written), which were searched as well."""

    typed: str
    labels: tuple[tuple[str, str], ...]
    #: Whether the labels are UNBIS's (its acknowledgement is then shown with them).
    unbis: bool


def configured_thesaurus() -> Thesaurus:
    """The hub's terms, and UNBIS's when the application's THESAURUS_PATH names them."""
    path = current_app.config.get("THESAURUS_PATH") if has_app_context() else None
    return thesaurus(path)


@cache
def _stop_words() -> frozenset[str]:
    words = {fold(w) for lang in ("en", "fr", "es", "ru") for w in stopwords_for_language(lang)}
    return frozenset(words | ARABIC_STOPWORDS)


def _worth_expanding(words: Sequence[str]) -> bool:
    """Not a span of stop words only ("de la"), nor a very short one."""
    stop = _stop_words()
    return sum(map(len, words)) >= SHORTEST_SPAN and not all(w in stop for w in words)


@dataclass(frozen=True)
class _Span:
    start: int  # in the query as typed
    end: int
    typed: str
    #: (concept, language of the label that matched)
    concepts: tuple[tuple[int, str], ...]


def _chinese_spans(text: str, token: Token, terms: Thesaurus) -> list[_Span]:
    """The longest Chinese labels inside a run of Chinese characters, left to right."""
    run = token.folded
    # Folding keeps a Chinese run's length but for rare compatibility forms; where it
    # did not, the folded run is shown instead of what was typed.
    typed = text[token.start : token.end]
    same_length = len(typed) == len(run)
    spans = []
    place = 0
    while place < len(run):
        longest = min(terms.longest_chinese, len(run) - place)
        for length in range(longest, SHORTEST_CHINESE_SPAN - 1, -1):
            label = run[place : place + length]
            concepts = terms.by_chinese.get(label)
            if concepts:
                shown = typed[place : place + length] if same_length else label
                spans.append(
                    _Span(
                        token.start + place,
                        token.start + place + length,
                        shown,
                        tuple((c, "zh") for c in concepts),
                    )
                )
                place += length
                break
        else:
            place += 1
    return spans


def _word_spans(text: str, words: list[Token], terms: Thesaurus) -> list[_Span]:
    """The longest labels made of the query's words, left to right."""
    spans = []
    place = 0
    while place < len(words):
        if words[place].chinese:
            spans += _chinese_spans(text, words[place], terms)
            place += 1
            continue
        found = False
        for length in range(min(len(words) - place, 8), 0, -1):
            part = words[place : place + length]
            if any(w.chinese for w in part):
                continue
            key = tuple(w.folded for w in part)
            concepts = terms.by_words.get(key)
            if concepts and _worth_expanding(key):
                start, end = part[0].start, part[-1].end
                spans.append(_Span(start, end, text[start:end], tuple(concepts)))
                place += length
                found = True
                break
        if not found:
            place += 1
    return spans


def find(q: str, terms: Thesaurus | None = None) -> list[Expansion]:
    """The concepts q names (the longest labels first, up to MAX_EXPANSIONS, in the
    query's order), each with its labels in the languages other than the one typed."""
    terms = terms if terms is not None else configured_thesaurus()
    spans, named = [], set()
    for span in _word_spans(q, list(tokens(q)), terms):
        # A concept named twice ("自由 … 自由") is searched once.
        concepts = {concept for concept, __ in span.concepts}
        if not concepts <= named:
            spans.append(span)
            named |= concepts
    kept = sorted(spans, key=lambda s: -(s.end - s.start))[:MAX_EXPANSIONS]
    expansions = []
    for span in sorted(kept, key=lambda s: s.start):
        typed_as = fold(span.typed)
        concepts: dict[int, set[str]] = {}
        for concept, language in span.concepts:
            if concept in concepts or len(concepts) < MAX_CONCEPTS_PER_SPAN:
                concepts.setdefault(concept, set()).add(language)
        labels: dict[tuple[str, str], tuple[str, str]] = {}
        unbis = False
        for concept, typed_in in concepts.items():
            entry = terms.concepts[concept]
            for language in LANGUAGES:
                label = entry.label(language)
                key = (language, fold(label))
                if language in typed_in or not label or key[1] == typed_as or key in labels:
                    continue
                labels[key] = (language, label)
                unbis = unbis or entry.unbis
        if labels:
            expansions.append(Expansion(span.typed, tuple(labels.values()), unbis))
    return expansions


class LabelsOr(Or):
    """The labels searched for a query's concepts: stepped as a tree of unions, and its
    own class so that normalising never merges it into the typed words' query."""

    matcher_type = Or.DEFAULT_MATCHER


class AlsoOr(Or):
    """The typed words' query and the labels' side by side (what snippets highlight)."""

    matcher_type = Or.DEFAULT_MATCHER


def _label_query(schema: Schema, language: str, label: str, title_weight: float) -> Query | None:
    """Every word of label, each in the language's title or text field."""
    title, text = title_field(language), text_field(language)
    if title not in schema or text not in schema:
        return None
    analyzer = schema[text].analyzer
    words = list(dict.fromkeys(t.text for t in analyzer(label, mode="query")))
    if not words:
        return None
    parts = [FieldsOr([Term(title, w, boost=title_weight), Term(text, w)]) for w in words]
    return parts[0] if len(parts) == 1 else And(parts)


def as_query(
    expansions: Sequence[Expansion], schema: Schema, languages: Sequence[str], title_weight: float
) -> Query | None:
    """The expansions' labels, each in its own language's fields (None: nothing to
    search, such as labels only in languages the index does not hold)."""
    labels = [
        query
        for expansion in expansions
        for language, label in expansion.labels
        if language in languages
        and (query := _label_query(schema, language, label, title_weight)) is not None
    ]
    return LabelsOr(labels, boost=EXPANSION_WEIGHT) if labels else None


Scorer = Callable[[Query], tuple[np.ndarray, np.ndarray]]


class WordScores(Protocol):
    """What scores one term over the entries the reader may see (statistics.py's
    VisibleBM25F.scores_of)."""

    def scores_of(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]: ...


def label_word_scorer(weighting: WordScores, other: Scorer, check: Callable[[], None]) -> Scorer:
    """How a label's word is scored: the word as _label_query() writes it (its title
    and text fields, each a plain term) straight from the posting lists, its fields'
    scores added as Whoosh's union adds them; anything else by `other`.

    A label's word names a concept, often a common one: opening Whoosh's matchers for
    its two fields in every segment took most of the time of a query naming one.
    check() (the search's deadline) is called before each word."""

    def score(word: Query) -> tuple[np.ndarray, np.ndarray]:
        check()
        terms = word.subqueries if isinstance(word, FieldsOr) else [word]
        if not all(type(term) is Term for term in terms):
            return other(word)
        try:
            parts = [(weighting.scores_of(t.fieldname, t.text), t.boost) for t in terms]
        except Unsupported:
            return other(word)
        ids = np.concatenate([ids for (ids, __), __ in parts])
        if len(ids) == 0:
            return ids, np.zeros(0, dtype=np.float64)
        # A term's score times its boost (Whoosh's WrappingMatcher), then the fields'
        # scores added in the query's order from 0, as UnionMatcher adds them.
        scores = np.concatenate(
            [found * boost if boost != 1.0 else found for (__, found), boost in parts]
        )
        union, place = np.unique(ids, return_inverse=True)
        return union, np.bincount(place, weights=scores, minlength=len(union))

    return score


def _added(
    docnums: np.ndarray,
    scores: np.ndarray,
    more: np.ndarray,
    more_scores: np.ndarray,
    size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The union of two sets of matches (each without repeats) in document number order,
    scores added where both match. Marked over every document number rather than merged
    (np.union1d sorts): the labels of a common concept match half of a large index."""
    total = np.zeros(size, dtype=np.float64)
    hit = np.zeros(size, dtype=bool)
    total[docnums] += scores
    total[more] += more_scores
    hit[docnums] = True
    hit[more] = True
    union = np.flatnonzero(hit)
    return union, total[union]


def _every_word(words: Sequence[Query], score: Scorer) -> tuple[np.ndarray, np.ndarray]:
    """The matches holding every word, with the words' scores added, as Whoosh's
    intersection scores them."""
    docnums, scores = score(words[0])
    for word in words[1:]:
        more, more_scores = score(word)
        both, here, there = np.intersect1d(docnums, more, assume_unique=True, return_indices=True)
        docnums, scores = both, scores[here] + more_scores[there]
    return docnums, scores


def _in_index(word: Query, reader: IndexReader) -> bool:
    """Whether one of the word's terms (its title and text fields) is in the index."""
    return any((fieldname, text) in reader for fieldname, text in word.iter_all_terms())


def add_matches(
    docnums: np.ndarray,
    scores: np.ndarray,
    labels: Query,
    score: Scorer,
    reader: IndexReader,
    record_of: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The typed words' matches (in document number order) with those of the labels
    (as_query()) added: every label scored by `score` word by word (posting lists read
    whole, columns.py), which Whoosh's intersections could not be, its words' scores
    added, and the labels' added.

    The labels count for the record (record_of: its number by document number): the
    best of its versions' label scores is added to the version the typed words matched
    best, which stays the one shown (a French query shows the French version of a
    record, even where a label matches its English one too), or, in a record the typed
    words did not find, the versions that labels matched come in with their scores."""
    size = len(record_of)
    label_total = np.zeros(size, dtype=np.float64)
    labelled_mask = np.zeros(size, dtype=bool)
    for label in labels.subqueries:
        words = label.subqueries if isinstance(label, And) else [label]
        # A label with a word in no version matches nothing: most labels, in a
        # collection of few languages (Cranfield's questions took 14 % longer without).
        if all(_in_index(word, reader) for word in words):
            matched, matched_scores = _every_word(words, score)
            label_total[matched] += matched_scores
            labelled_mask[matched] = True
    labelled = np.flatnonzero(labelled_mask)
    label_scores = label_total[labelled] * labels.boost
    if len(labelled) == 0:
        return docnums, scores
    typed_records, labelled_records = record_of[docnums], record_of[labelled]
    records, place = np.unique(labelled_records, return_inverse=True)
    bonus = np.zeros(len(records), dtype=np.float64)
    np.maximum.at(bonus, place, label_scores)
    # Each typed record's best version (highest score, then lowest document number).
    order = np.lexsort((-scores, typed_records))
    ordered = typed_records[order]
    best = order[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(order) else order
    found_by_typing = np.isin(records, typed_records)
    scores = scores.copy()
    targets = best[np.searchsorted(typed_records[best], records[found_by_typing])]
    scores[targets] += bonus[found_by_typing]
    only_labelled = ~np.isin(labelled_records, typed_records)
    return _added(docnums, scores, labelled[only_labelled], label_scores[only_labelled], size)
