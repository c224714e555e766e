"""The coordination bonus: a version that matches more of the query's words ranks higher.

Whoosh gives the bonus with `Or(..., scale=s)` and its CoordMatcher, which counts the
term matchers still active in the matcher tree (one per word and field) when the tree
was last pruned. That count falls as posting lists run out, so the same version scored
differently by its place in its segment, and every version matched after all but one
list had ended scored 0 ("(terms - 1) / terms" with one term left). Results then
depended on segment boundaries and document order, not only on the text.

Here the bonus counts the words, not the (word, field) terms, out of the number of
words in the query, and neither depends on where a version is in the index. The formula
stays Whoosh's "SQR" (from the V-Twin search library), so that scores keep their scale:

    (sum of the words' scores + (matched - 1) / (words - scale) ** 2) * (words - 1) / words

`WordsGroup` makes the query parser build `WordsOr` for words side by side (and
`FieldsGroup` a `FieldsOr` for each word's fields, kept apart from it); its matcher
`WordsMatcher` steps the words' matchers as a union does and scores with `coordinate`,
which columns.py applies to whole arrays with the same floating-point operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from whoosh import matching
from whoosh.qparser import syntax
from whoosh.query import Or

#: How strongly matching more words counts (Whoosh's OrGroup scale; 0 < scale < 1).
WORDS_SCALE = 0.9


def coordinate(score: Any, matched: Any, words: int, scale: float) -> Any:
    """A version's score from the sum of its words' scores and how many words it
    matches (numbers or numpy arrays alike, with the same operations in the same order)."""
    return (score + (matched - 1) / (words - scale) ** 2) * ((words - 1) / words)


class WordsMatcher(matching.Matcher):
    """The union of the matchers of a query's words, one per word in the query's order;
    a version's score is the sum of its words' scores, in that order, coordinated."""

    def __init__(self, children: Sequence[matching.Matcher], words: int, scale: float) -> None:
        self._children = list(children)
        self.words = words
        self.scale = scale
        self._id: int | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._children!r}, words={self.words})"

    def children(self) -> list[matching.Matcher]:
        return list(self._children)

    def _active(self) -> list[matching.Matcher]:
        return [child for child in self._children if child.is_active()]

    def is_active(self) -> bool:
        return any(child.is_active() for child in self._children)

    def reset(self) -> None:
        self._id = None
        for child in self._children:
            child.reset()

    def copy(self) -> WordsMatcher:
        return WordsMatcher([child.copy() for child in self._children], self.words, self.scale)

    def replace(self, minquality: float = 0) -> matching.Matcher:
        # Dropping finished words changes nothing in the scores: `words` stays the
        # query's count.
        active = self._active()
        if not active:
            return matching.NullMatcher()
        replaced = [child.replace(0) for child in active]
        if len(replaced) == len(self._children) and all(
            new is old for new, old in zip(replaced, self._children, strict=True)
        ):
            self._id = None
            return self
        return WordsMatcher(replaced, self.words, self.scale)

    def supports_block_quality(self) -> bool:
        return False

    def max_quality(self) -> float:
        active = self._active()
        best = sum(child.max_quality() for child in active)
        return coordinate(best, len(active), self.words, self.scale)

    def id(self) -> int:
        if self._id is None:
            self._id = min(child.id() for child in self._active())
        return self._id

    def _current(self) -> list[matching.Matcher]:
        current = self.id()
        return [child for child in self._active() if child.id() == current]

    def next(self) -> bool:
        if not self.is_active():
            raise matching.ReadTooFar
        moved = False
        for child in self._current():
            moved = bool(child.next()) or moved
        self._id = None
        return moved

    def skip_to(self, id: int) -> bool:
        moved = False
        for child in self._active():
            if child.id() < id:
                moved = bool(child.skip_to(id)) or moved
        self._id = None
        return moved

    def weight(self) -> float:
        return sum(child.weight() for child in self._current())

    def score(self) -> float:
        total = 0.0
        matched = 0
        for child in self._current():
            total += child.score()
            matched += 1
        return coordinate(total, matched, self.words, self.scale)

    def spans(self) -> list:
        return sorted({span for child in self._current() for span in child.spans()})


class WordsOr(Or):
    """Or over a query's words, with the coordination bonus of `WordsMatcher`.

    The parser also joins with it the words an analyzer finds in what looked like one
    word (Chinese written without spaces), which then count as words too. Being its own
    class keeps each word's FieldsOr apart when the query is normalised (Whoosh merges
    nested Ors of one class into one)."""

    def __init__(
        self,
        subqueries: Sequence[Any],
        boost: float = 1.0,
        minmatch: int = 0,
        scale: float | None = None,
    ) -> None:
        super().__init__(subqueries, boost=boost, minmatch=minmatch, scale=scale or WORDS_SCALE)

    def _matcher(self, subs: Sequence[Any], searcher: Any, context: Any) -> matching.Matcher:
        children = [q.matcher(searcher, context) for q in subs]
        matcher: matching.Matcher = WordsMatcher(children, len(subs), self.scale)
        if self.boost != 1.0:
            matcher = matching.WrappingMatcher(matcher, self.boost)
        return matcher


class FieldsOr(Or):
    """Or over the fields that one word is looked for in, always stepped as Whoosh's
    tree of unions (which columns.py reads as arrays), whatever the index's size."""

    matcher_type = Or.DEFAULT_MATCHER


class FieldsGroup(syntax.OrGroup):
    """The query parser's group for one word's fields: a FieldsOr."""

    qclass = FieldsOr


class WordsGroup(syntax.OrGroup):
    """The query parser's group for words side by side: a WordsOr."""

    qclass = WordsOr
