"""The index as arrays: per-searcher columns (record, date, facet and visibility values of
every entry) and whole posting lists read into numpy, so that scoring, filtering,
collapsing and facet counts run over arrays instead of one Python call per entry.

Whoosh's own grouping and its one-match-at-a-time matchers cost seconds at 100k entries
(DESIGN.md, "Scale"). What is read here is what Whoosh reads, and the scores are
computed with Whoosh's own formulas, parameters and order of operations, so that the
numbers come out bit for bit the same; anything this module does not know how to
reproduce raises Unsupported and the caller uses Whoosh's matchers instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import numpy as np
from whoosh.codec import whoosh3
from whoosh.matching import CoordMatcher
from whoosh.matching import FilterMatcher
from whoosh.matching import ListMatcher
from whoosh.matching import Matcher
from whoosh.matching import NullMatcherClass
from whoosh.matching import UnionMatcher
from whoosh.matching import WrappingMatcher
from whoosh.reading import IndexReader
from whoosh.scoring import BM25FScorer
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from knowledge_hub.search.schema import FACET_FIELDS

#: Fields whose values filter what a viewer may see (see query.restriction).
VISIBILITY_FIELDS = ("status", "access", "variant_status")

#: Whoosh re-prunes a matcher tree after every this many matches
#: (whoosh.collectors.ScoredCollector, replace=10); scores depend on it (see _coordinate).
MATCHES_BETWEEN_PRUNINGS = 10

#: Field length as Whoosh decodes it from the byte it stores per entry and field.
LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


class Unsupported(Exception):
    """A matcher or index shape the array scorer does not reproduce exactly."""


@dataclass(frozen=True)
class ValueColumn:
    """The values of one field for every entry, as value numbers in compressed rows:
    entry n holds value_ids[starts[n]:starts[n + 1]], each the index of a name."""

    names: tuple[str, ...]
    starts: np.ndarray  # int64, one more than there are entries
    value_ids: np.ndarray  # int32

    def entries_with_any(self, names: Iterable[str]) -> np.ndarray:
        """A mask of the entries that hold at least one of the names."""
        chosen = set(names)
        wanted = [i for i, name in enumerate(self.names) if name in chosen]
        hits = np.isin(self.value_ids, wanted)
        # Running count of hits, so that empty rows need no special case.
        running = np.concatenate(([0], np.cumsum(hits)))
        return running[self.starts[1:]] > running[self.starts[:-1]]

    def count(self, entries: np.ndarray) -> np.ndarray:
        """How many of the entries hold each value (an entry counts a value once)."""
        starts = self.starts[entries]
        lengths = self.starts[entries + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(len(self.names), dtype=np.int64)
        # Positions of every value of every entry, row after row.
        row_begins = np.cumsum(lengths) - lengths
        positions = np.arange(total) + np.repeat(starts - row_begins, lengths)
        return np.bincount(self.value_ids[positions], minlength=len(self.names))

    def values_of(self, entry: int) -> tuple[str, ...]:
        begin, end = self.starts[entry], self.starts[entry + 1]
        return tuple(self.names[i] for i in self.value_ids[begin:end])


@dataclass
class Columns:
    """Per-searcher arrays indexed by document number, for filtering, collapsing and
    facet counts without Whoosh's own (slow) grouping."""

    #: Not deleted.
    live: np.ndarray
    document_id: np.ndarray
    sort_date: np.ndarray
    #: Record number (0..records-1, by document id) of each live entry; -1 when deleted.
    record: np.ndarray
    #: Record number -> document id.
    record_document_id: np.ndarray
    #: Index field -> its values (the facet fields and the visibility fields).
    values: dict[str, ValueColumn]
    #: Facet field -> True when the live entries of one record hold the same values of
    #: it (the record's metadata), False when they hold different values (language).
    shared_by_record: dict[str, bool]
    #: Facet field -> entries of records that break that rule (an index that is part
    #: way through an update): their facet counts are made one by one.
    irregular: dict[str, np.ndarray]
    #: (segment offset, field) -> length byte of every entry of the segment.
    length_bytes: dict[tuple[int, str], np.ndarray | None] = field(default_factory=dict)


def build_columns(searcher: Searcher) -> Columns:
    """Read the record number, date, facet and visibility values of every entry."""
    reader = searcher.reader()
    size = reader.doc_count_all()
    leaves = [(leaf, offset) for leaf, offset in reader.leaf_readers()]
    live = np.zeros(size, dtype=bool)
    for leaf, offset in leaves:
        live[offset : offset + leaf.doc_count_all()] = True
        if leaf.has_deletions():
            live[np.fromiter(leaf.deleted_docs_set, dtype=np.int64) + offset] = False
    if size == 0:  # an empty index's reader has no columns at all
        document_id = np.zeros(0, dtype=np.int64)
        sort_date = np.zeros(0, dtype=np.int64)
    else:
        document_id = np.array(list(reader.column_reader("document_id")), dtype=np.int64)
        sort_date = np.array(list(reader.column_reader("sort_date")), dtype=np.int64)
    record_document_id, inverse = np.unique(document_id[live], return_inverse=True)
    record = np.full(size, -1, dtype=np.int64)
    record[live] = inverse
    fieldnames = (*FACET_FIELDS.values(), *VISIBILITY_FIELDS)
    values = {name: _value_column(reader, leaves, name, size) for name in fieldnames}
    shared_by_record, irregular = {}, {}
    for name in FACET_FIELDS.values():
        shared, breaking = _record_rule(values[name], record, live, len(record_document_id))
        shared_by_record[name] = shared
        irregular[name] = breaking
    return Columns(
        live,
        document_id,
        sort_date,
        record,
        record_document_id,
        values,
        shared_by_record,
        irregular,
    )


def _value_column(
    reader: IndexReader, leaves: list[tuple[IndexReader, int]], fieldname: str, size: int
) -> ValueColumn:
    names = tuple(reader.field_terms(fieldname)) if size else ()
    entries, numbers = [], []
    for leaf, offset in leaves:
        for number, name in enumerate(names):
            if (fieldname, name) not in leaf:
                continue
            ids, __ = posting_arrays(leaf.postings(fieldname, name))
            entries.append(ids + offset)
            numbers.append(np.full(len(ids), number, dtype=np.int32))
    entry = np.concatenate(entries) if entries else np.zeros(0, dtype=np.int64)
    value_ids = np.concatenate(numbers) if numbers else np.zeros(0, dtype=np.int32)
    order = np.argsort(entry, kind="stable")  # rows by entry, values in term order
    starts = np.concatenate(([0], np.cumsum(np.bincount(entry, minlength=size))))
    return ValueColumn(names, starts.astype(np.int64), value_ids[order])


def _record_rule(
    column: ValueColumn, record: np.ndarray, live: np.ndarray, records: int
) -> tuple[bool, np.ndarray]:
    """Whether the entries of a record share this field's values (else: hold different
    ones), and the entries of the records that break the rule chosen."""
    entries = np.flatnonzero(live)
    if len(entries) == 0:
        return True, np.zeros(len(live), dtype=bool)
    by_record = entries[np.argsort(record[entries], kind="stable")]
    records_of = record[by_record]
    first_of_record = np.searchsorted(records_of, np.arange(records))
    first = by_record[first_of_record[records_of]]
    not_same = np.zeros(records, dtype=bool)
    not_same[records_of[~_same_row(column, by_record, first)]] = True
    # Different values: no (record, value) pair twice.
    lengths = column.starts[by_record + 1] - column.starts[by_record]
    pair_record = np.repeat(records_of, lengths)
    pair_value = column.value_ids[_row_positions(column, by_record)]
    pairs = pair_record * max(1, len(column.names)) + pair_value
    unique, counts = np.unique(pairs, return_counts=True)
    not_apart = np.zeros(records, dtype=bool)
    not_apart[unique[counts > 1] // max(1, len(column.names))] = True
    shared = int(not_same.sum()) <= int(not_apart.sum())
    breaking = not_same if shared else not_apart
    irregular = np.zeros(len(live), dtype=bool)
    irregular[entries] = breaking[record[entries]]
    return shared, irregular


def _row_positions(column: ValueColumn, entries: np.ndarray) -> np.ndarray:
    starts = column.starts[entries]
    lengths = column.starts[entries + 1] - starts
    row_begins = np.cumsum(lengths) - lengths
    return np.arange(int(lengths.sum())) + np.repeat(starts - row_begins, lengths)


def _same_row(column: ValueColumn, entries: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Whether each entry holds exactly the values of the other entry beside it."""
    lengths = column.starts[entries + 1] - column.starts[entries]
    same = lengths == column.starts[others + 1] - column.starts[others]
    compared = np.flatnonzero(same & (lengths > 0))
    if len(compared):
        mine = column.value_ids[_row_positions(column, entries[compared])]
        theirs = column.value_ids[_row_positions(column, others[compared])]
        equal = mine == theirs
        running = np.concatenate(([0], np.cumsum(~equal)))
        row_ends = np.cumsum(lengths[compared])
        mismatches = running[row_ends] - running[row_ends - lengths[compared]]
        same[compared] = mismatches == 0
    return same


# --- posting lists and scores as arrays


def posting_arrays(matcher: Matcher) -> tuple[np.ndarray, np.ndarray]:
    """The document numbers (int64) and weights (float64, as Whoosh returns them) of a
    whole posting list, without the deleted entries its reader filters out."""
    if type(matcher) is FilterMatcher:
        ids, weights = posting_arrays(matcher.child)
        held = np.isin(ids, np.fromiter(matcher._ids, dtype=np.int64))
        keep = ~held if matcher._exclude else held
        return ids[keep], weights[keep]
    if type(matcher) is ListMatcher:
        ids = np.asarray(matcher._ids, dtype=np.int64)
        if matcher._weights is None:
            weights = np.full(len(ids), matcher._all_weights or 1.0, dtype=np.float64)
        else:
            weights = np.asarray(matcher._weights, dtype=np.float64)
        return ids, weights
    if type(matcher) is whoosh3.W3LeafMatcher:
        return _block_arrays(matcher)
    raise Unsupported(type(matcher).__name__)


def _block_arrays(matcher: Any) -> tuple[np.ndarray, np.ndarray]:
    """Read every block of an on-disk posting list (whoosh.codec.whoosh3's layout)."""
    id_parts, weight_parts = [], []
    matcher.reset()
    while True:
        matcher._read_data()
        ids, weights = matcher._data[0], matcher._data[1]
        ids = np.asarray(ids, dtype=np.int64)
        id_parts.append(ids if matcher._byteids else np.cumsum(ids))
        count = matcher._blocklength
        if weights is None:
            weight_parts.append(np.ones(count, dtype=np.float64))
        elif isinstance(weights, float):
            # Whoosh expands a block's single weight into a float32 array.
            weight_parts.append(np.full(count, np.float32(weights), dtype=np.float64))
        else:
            weight_parts.append(np.asarray(weights, dtype=np.float32).astype(np.float64))
        if matcher._lastblock:
            break
        matcher._goto(matcher._nextoffset)
    return np.concatenate(id_parts), np.concatenate(weight_parts)


def _length_bytes(reader: Any, fieldname: str) -> np.ndarray | None:
    """The length byte of a field for every entry of a segment (None: no lengths, so
    Whoosh takes 1)."""
    column = reader._perdoc._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)
    if column is None:
        return None
    if column._fixedlen != 1:
        raise Unsupported("lengths wider than a byte")
    lengths = np.zeros(reader.doc_count_all(), dtype=np.uint8)
    stored = np.frombuffer(column._dbfile.get(column._basepos, column._count), dtype=np.uint8)
    lengths[: len(stored)] = stored
    return lengths


@dataclass
class _Node:
    """A matcher's part in the matched documents of a segment."""

    present: np.ndarray  # bool per matched document
    score: np.ndarray  # float64, 0 where absent
    terms: np.ndarray  # how many term matchers below match there
    last_ids: list[int]  # the last document number of each term matcher below


#: id(leaf matcher) -> (its document numbers, its scores)
_Leaves = dict[int, tuple[np.ndarray, np.ndarray]]


def score_every_match(
    searcher: Searcher, columns: Columns, query: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Every document matching query with its score, exactly as an unlimited Whoosh
    search scores it, in document number order.

    Raises Unsupported for a query whose matchers this does not reproduce."""
    all_ids, all_scores = [], []
    for sub, offset in searcher.leaf_searchers():
        matcher = query.matcher(sub, searcher.context())
        leaves: _Leaves = {}
        _read_leaves(matcher, sub.reader(), offset, columns, leaves)
        if not leaves:
            continue
        matched = np.unique(np.concatenate([ids for ids, __ in leaves.values()]))
        if len(matched) == 0:
            continue
        # Whoosh prunes exhausted term matchers from the tree before every tenth match,
        # counted over all matches of the segment (allowed or not), and a coordination
        # bonus counts the term matchers left at that moment.
        pruned_at = matched[
            np.arange(len(matched)) // MATCHES_BETWEEN_PRUNINGS * MATCHES_BETWEEN_PRUNINGS
        ]
        root = _evaluate(matcher, matched, pruned_at, leaves)
        all_ids.append(matched[root.present] + offset)
        all_scores.append(root.score[root.present])
    if not all_ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    return np.concatenate(all_ids), np.concatenate(all_scores)


def _read_leaves(
    matcher: Matcher, reader: Any, offset: int, columns: Columns, leaves: _Leaves
) -> None:
    kind = type(matcher)
    if kind is NullMatcherClass:
        return
    if kind is UnionMatcher:
        _read_leaves(matcher.a, reader, offset, columns, leaves)
        _read_leaves(matcher.b, reader, offset, columns, leaves)
    elif kind is CoordMatcher or kind is WrappingMatcher:
        _read_leaves(matcher.child, reader, offset, columns, leaves)
    elif kind is FilterMatcher or kind is ListMatcher or kind is whoosh3.W3LeafMatcher:
        ids, weights = posting_arrays(matcher)
        leaves[id(matcher)] = (ids, _bm25(matcher, reader, offset, ids, weights, columns))
    else:
        raise Unsupported(kind.__name__)


def _bm25(
    matcher: Matcher,
    reader: Any,
    offset: int,
    ids: np.ndarray,
    weights: np.ndarray,
    columns: Columns,
) -> np.ndarray:
    """whoosh.scoring.bm25 over a posting list, in Whoosh's order of operations (and
    times the boost of a filter around it, as WrappingMatcher.score does)."""
    leaf = matcher.child if type(matcher) is FilterMatcher else matcher
    scorer = leaf.scorer if type(leaf) is whoosh3.W3LeafMatcher else leaf._scorer
    if type(scorer) is not BM25FScorer:
        raise Unsupported("a weighting other than BM25F")
    key = (offset, leaf.term()[0])
    if key not in columns.length_bytes:
        columns.length_bytes[key] = _length_bytes(reader, leaf.term()[0])
    length_bytes = columns.length_bytes[key]
    if length_bytes is None:
        lengths = np.ones(len(ids), dtype=np.float64)
    else:
        found = length_bytes[ids]
        if not found.all():  # Whoosh would find no length there and fail
            raise Unsupported("an entry without a length")
        lengths = LENGTH_OF_BYTE[found]
    idf, avgfl, b, k1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1
    scores = idf * ((weights * (k1 + 1)) / (weights + k1 * ((1 - b) + b * lengths / avgfl)))
    return scores * matcher.boost if type(matcher) is FilterMatcher else scores


def _evaluate(
    matcher: Matcher, matched: np.ndarray, pruned_at: np.ndarray, leaves: _Leaves
) -> _Node:
    kind = type(matcher)
    if kind is UnionMatcher:
        a = _evaluate(matcher.a, matched, pruned_at, leaves)
        b = _evaluate(matcher.b, matched, pruned_at, leaves)
        # UnionMatcher.score adds a's score and b's; where one side is absent its 0
        # adds nothing, exactly.
        return _Node(
            a.present | b.present, a.score + b.score, a.terms + b.terms, a.last_ids + b.last_ids
        )
    if kind is WrappingMatcher:
        child = _evaluate(matcher.child, matched, pruned_at, leaves)
        child.score = child.score * matcher.boost
        return child
    if kind is CoordMatcher:
        child = _evaluate(matcher.child, matched, pruned_at, leaves)
        child.score = _coordinate(child, matcher._scale, pruned_at)
        return child
    present = np.zeros(len(matched), dtype=bool)
    score = np.zeros(len(matched), dtype=np.float64)
    if kind is NullMatcherClass:
        return _Node(present, score, present.astype(np.int64), [])
    ids, scores = leaves[id(matcher)]
    where = np.searchsorted(matched, ids)
    present[where] = True
    score[where] = scores
    return _Node(present, score, present.astype(np.int64), [int(ids[-1])] if len(ids) else [])


def _coordinate(node: _Node, scale: float, pruned_at: np.ndarray) -> np.ndarray:
    """whoosh.matching.CoordMatcher's "SQR" score, with the term count Whoosh has at
    each match: the term matchers not exhausted when the tree was last pruned."""
    last_ids = np.sort(np.array(node.last_ids, dtype=np.int64))
    termcount = len(last_ids) - np.searchsorted(last_ids, pruned_at, side="left")
    # The two factors that depend on the term count alone, computed in Python as
    # Whoosh does (float ** 2 is C pow), for the few counts there are.
    counts = np.unique(termcount[node.present])
    spread = np.zeros(len(last_ids) + 1)
    share = np.zeros(len(last_ids) + 1)
    for count in counts.tolist():
        if count != 0 and count != scale:
            spread[count] = (count - scale) ** 2
            share[count] = (count - 1) / count
    usable = node.present & (spread[termcount] != 0)
    sqr = np.zeros(len(node.score))
    t = termcount[usable]
    sqr[usable] = (node.score[usable] + ((node.terms[usable] - 1) / spread[t])) * share[t]
    return sqr
