"""What one search may cost: a time budget, and patterns (`econ*`, `*tion`) expanded
only over the words the reader may see, up to a bounded number of them.

Whoosh expands a pattern over the whole term dictionary of each field it is looked for
in, hidden records' words included, and a search runs until it ends: `*` alone took
101 s on a catalogue of 149k English words, `*a*` or `[a TO z]` 6-8 s, while a worker
could do nothing else. Here a pattern is expanded once per search, over the dictionary
in order, keeping only words that occur in an entry the reader may see; it may look at
MAX_WORDS_SCANNED words of the dictionaries in all and keep MAX_WORDS_PER_PATTERN words
(MAX_WORDS_PER_QUERY for the query), and a search that would go further is refused with
a message saying what to change. Scoring checks its Deadline between posting lists and
refuses a search that has run out of time; what comes after scoring (snippets, "did
you mean") is left out instead.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from flask_babel import gettext as _
from whoosh.matching import NullMatcher
from whoosh.query import Every
from whoosh.query import MultiTerm
from whoosh.query import NullQuery
from whoosh.query import PatternQuery
from whoosh.query import Prefix
from whoosh.query import Query
from whoosh.query import Term
from whoosh.reading import IndexReader

from knowledge_hub.search.columns import held_by_any
from knowledge_hub.search.coordination import FieldsOr

#: Words of the term dictionaries one search may look at to expand its patterns: a
#: pattern that begins with letters reads only the words that begin with them; one that
#: begins with * reads its fields' whole dictionaries, so it is refused on a catalogue
#: whose dictionaries are larger than this.
MAX_WORDS_SCANNED = 20_000
#: Words one pattern may stand for, over all the fields it is looked for in.
MAX_WORDS_PER_PATTERN = 300
#: Words all the patterns of a query may stand for together.
MAX_WORDS_PER_QUERY = 1_000
#: Words matching a pattern that may be checked against what the reader may see (each
#: check can read a posting list); words of hidden records only are not kept, but count.
MAX_WORDS_CHECKED = 4 * MAX_WORDS_PER_QUERY
#: Parentheses nested deeper than this are refused: Whoosh's parser recurses once or
#: more for each, and 490 of them overflowed Python's stack.
MAX_NESTING = 20


class BadQuery(ValueError):
    """The query cannot be run; the message is worded for people."""


class SearchTooLong(BadQuery):
    """The search ran out of its time budget before its results were known."""


class Deadline:
    """When a search must have its results; None: never."""

    def __init__(self, seconds: float | None) -> None:
        self.at = None if seconds is None else time.monotonic() + seconds

    def passed(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def check(self) -> None:
        """Stop the search if its time is up."""
        if self.passed():
            raise SearchTooLong(
                _(
                    "The search took too long and was stopped. Use fewer words, or "
                    "longer beginnings of words before a *."
                )
            )


def refuse_deep_nesting(q: str) -> None:
    """Refuse a query whose parentheses (outside quotes) nest deeper than MAX_NESTING."""
    depth = deepest = 0
    quoted = False
    for char in q:
        if char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth = max(0, depth - 1)
    if deepest > MAX_NESTING:
        raise BadQuery(_("Parentheses may be nested at most %(count)s deep.", count=MAX_NESTING))


def means_everything(q: str) -> bool:
    """Whether q is only stars: "everything", that is, browsing."""
    return bool(q) and not q.replace("*", "").strip()


class VisiblePattern(MultiTerm):
    """A pattern's words in one field, found once for the search among the words that
    occur in entries the reader may see. It scores as the pattern did: Whoosh's
    MultiTerm over the words each segment holds."""

    def __init__(self, pattern: MultiTerm, words: tuple[bytes, ...]) -> None:
        self.fieldname = pattern.fieldname
        self.text = getattr(pattern, "text", "")
        self.boost = pattern.boost
        self.constantscore = pattern.constantscore
        self.words = words

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.fieldname!r}, {self.text!r}, {len(self.words)} words)"

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and (self.fieldname, self.text, self.boost, self.words)
            == (other.fieldname, other.text, other.boost, other.words)  # type: ignore[attr-defined]
        )

    def __hash__(self) -> int:
        return hash((self.fieldname, self.text, self.boost, self.words))

    def _btexts(self, ixreader: IndexReader) -> list[bytes]:
        return [word for word in self.words if (self.fieldname, word) in ixreader]

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        # The words' union as a tree of unions, which columns.py scores as arrays
        # (Whoosh's MultiTerm chooses an array union for small segments, which it
        # cannot), each word scored as the searcher's weighting scores it.
        words = self._btexts(searcher.reader())
        if not words:
            return NullMatcher()
        terms = [Term(self.fieldname, word, boost=self.boost) for word in words]
        if len(terms) == 1:
            return terms[0].matcher(searcher, context)
        return FieldsOr([Term(self.fieldname, word) for word in words], boost=self.boost).matcher(
            searcher, context
        )

    def has_terms(self) -> bool:
        return True

    def terms(self, phrases: bool = False) -> Iterator[tuple[str, bytes]]:
        # The words themselves, so that snippets mark what the pattern found.
        for word in self.words:
            yield self.fieldname, word


class _Expansion:
    """The running counts of one search's pattern expansion."""

    def __init__(self, reader: IndexReader, visible: np.ndarray, deadline: Deadline) -> None:
        self.reader = reader
        self.visible = visible
        self.deadline = deadline
        # An entry the reader may not see: hidden, or deleted. A word held by more
        # entries than there are of those is held by a visible one, unread.
        self.unseen = len(visible) - int(np.count_nonzero(visible))
        self.scanned = 0
        self.checked = 0
        self.kept = 0
        self.per_pattern: dict[str, int] = {}

    def words_of(self, pattern: MultiTerm) -> tuple[bytes, ...]:
        fieldname = pattern.fieldname
        shown = getattr(pattern, "text", "") or "*"
        if isinstance(pattern, Prefix):
            shown += "*"
            words = self.reader.expand_prefix(fieldname, pattern.text)
            candidates = self._counted(words, shown)
        elif isinstance(pattern, PatternQuery):
            candidates = self._matching(pattern, shown)
        else:  # a range or a fuzzy word: its own expansion, counted as it goes
            candidates = self._counted(pattern._btexts(self.reader), shown)
        kept = []
        for word in candidates:
            self.checked += 1
            if self.checked > MAX_WORDS_CHECKED:
                raise self._too_many(shown, MAX_WORDS_CHECKED)
            if self.checked % 256 == 0:
                self.deadline.check()
            if not self._seen(fieldname, word):
                continue
            kept.append(word)
            self.kept += 1
            self.per_pattern[shown] = self.per_pattern.get(shown, 0) + 1
            if self.per_pattern[shown] > MAX_WORDS_PER_PATTERN:
                raise self._too_many(shown, MAX_WORDS_PER_PATTERN)
            if self.kept > MAX_WORDS_PER_QUERY:
                raise BadQuery(
                    _(
                        "The patterns of this query stand for more than %(count)s words: "
                        "use fewer patterns, or longer beginnings before each *.",
                        count=MAX_WORDS_PER_QUERY,
                    )
                )
        return tuple(kept)

    def _matching(self, pattern: PatternQuery, shown: str) -> Iterator[bytes]:
        prefix = pattern._find_prefix(pattern.text)
        field = self.reader.schema[pattern.fieldname]
        if prefix:
            words = self.reader.expand_prefix(pattern.fieldname, prefix)
        else:
            words = self.reader.lexicon(pattern.fieldname)
        matches = re.compile(pattern._get_pattern()).match
        for word in self._counted(words, shown):
            if matches(field.from_bytes(word)):
                yield word

    def _counted(self, words: Iterator[bytes], shown: str) -> Iterator[bytes]:
        for word in words:
            self.scanned += 1
            if self.scanned > MAX_WORDS_SCANNED:
                raise BadQuery(
                    _(
                        "“%(pattern)s” would have to be looked for among more than "
                        "%(count)s words: begin it with a few letters.",
                        pattern=shown,
                        count=MAX_WORDS_SCANNED,
                    )
                )
            if self.scanned % 1024 == 0:
                self.deadline.check()
            yield word

    def _seen(self, fieldname: str, word: bytes) -> bool:
        """Whether an entry the reader may see holds the word."""
        if self.reader.doc_frequency(fieldname, word) > self.unseen:
            return True
        return held_by_any(self.reader, fieldname, word, self.visible)

    @staticmethod
    def _too_many(shown: str, count: int) -> BadQuery:
        return BadQuery(
            _(
                "“%(pattern)s” stands for more than %(count)s words: add letters before the *.",
                pattern=shown,
                count=count,
            )
        )


def expand_patterns(
    query: Query, reader: IndexReader, visible: np.ndarray, deadline: Deadline
) -> Query:
    """The query with each pattern replaced by the words it stands for among those the
    reader may see (visible: a mask of the entries they may see), and each bare `*`
    (any word) left out, since it adds nothing to the words beside it.

    Raises BadQuery when the patterns would cost more than the bounds above."""
    expansion = _Expansion(reader, visible, deadline)

    def rewrite(q: Any) -> Any:
        if isinstance(q, Every):
            return NullQuery
        if isinstance(q, MultiTerm) and not isinstance(q, VisiblePattern):
            return VisiblePattern(q, expansion.words_of(q))
        if q.is_leaf():
            return q
        return q.apply(rewrite)

    return rewrite(query).normalize()
