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

import pickle
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import numpy as np
from whoosh import columns as whoosh_columns
from whoosh.codec import whoosh3
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

from knowledge_hub.search.coordination import WordsMatcher
from knowledge_hub.search.coordination import coordinate
from knowledge_hub.search.schema import FACET_FIELDS

#: Fields whose values filter what a viewer may see (see query.restriction).
VISIBILITY_FIELDS = ("status", "access", "variant_status")

#: Memory for the posting lists kept read (see PostingCache): 8 bytes an entry, about
#: a hundred and fifty lists of the commonest words of a 100k-version catalogue.
POSTING_CACHE_BYTES = 32 * 1024 * 1024

#: Field length as Whoosh decodes it from the byte it stores per entry and field.
LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


class Unsupported(Exception):
    """A matcher or index shape the array scorer does not reproduce exactly."""


@dataclass(frozen=True)
class ValueColumn:
    """The values of one field for every entry, as value numbers (indexes into names).

    A field that holds at most one value per entry (kind, type, year, language, the
    visibility fields) keeps one number per entry in `single`, -1 for none; the others
    keep compressed rows: entry n holds value_ids[starts[n]:starts[n + 1]]."""

    names: tuple[str, ...]
    single: np.ndarray | None  # int32 per entry
    starts: np.ndarray | None  # int64, one more than there are entries
    value_ids: np.ndarray | None  # int32

    def entries_with_any(self, names: Iterable[str]) -> np.ndarray:
        """A mask of the entries that hold at least one of the names."""
        chosen = set(names)
        wanted = np.zeros(len(self.names) + 1, dtype=bool)  # [0] stands for "none"
        wanted[[i + 1 for i, name in enumerate(self.names) if name in chosen]] = True
        if self.single is not None:
            return wanted[self.single + 1]
        hits = wanted[self.value_ids + 1]
        # Running count of hits, so that empty rows need no special case.
        running = np.concatenate(([0], np.cumsum(hits)))
        return running[self.starts[1:]] > running[self.starts[:-1]]

    def count(self, entries: np.ndarray) -> np.ndarray:
        """How many of the entries hold each value (an entry counts a value once)."""
        if self.single is not None:
            values = self.single[entries]
            return np.bincount(values[values >= 0], minlength=len(self.names))
        return np.bincount(self.value_ids[self.positions(entries)], minlength=len(self.names))

    def positions(self, entries: np.ndarray) -> np.ndarray:
        """Where the values of the entries are in value_ids, row after row."""
        starts = self.starts[entries]
        lengths = self.starts[entries + 1] - starts
        row_begins = np.cumsum(lengths) - lengths
        return np.arange(int(lengths.sum())) + np.repeat(starts - row_begins, lengths)

    def values_of(self, entry: int) -> tuple[str, ...]:
        if self.single is not None:
            number = int(self.single[entry])
            return () if number < 0 else (self.names[number],)
        begin, end = self.starts[entry], self.starts[entry + 1]
        return tuple(self.names[i] for i in self.value_ids[begin:end])

    def rows(self, entries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(entry, value number) for every value the entries hold."""
        if self.single is not None:
            values = self.single[entries]
            held = values >= 0
            return entries[held], values[held]
        lengths = self.starts[entries + 1] - self.starts[entries]
        return np.repeat(entries, lengths), self.value_ids[self.positions(entries)]


class PostingCache:
    """Posting lists read lately, as arrays of document numbers and weights, up to a
    number of bytes, the least recently used going first.

    A search for a common word decompresses and unpickles hundreds of blocks (about a
    microsecond an entry), and the words people search for repeat. A segment never
    changes once written (deletions are kept apart), so the lists are keyed by segment
    and serve every searcher that still has the segment, across index updates."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.held = 0
        self._lists: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()  # searchers of several indexes may share it

    def get(
        self, key: tuple, read: Callable[[], tuple[np.ndarray, np.ndarray]]
    ) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            if key in self._lists:
                self._lists.move_to_end(key)
                return self._lists[key]
        ids, weights = read()
        ids = ids.astype(np.int32)  # document numbers within a segment fit
        if np.array_equal(weights.astype(np.float32), weights):
            weights = weights.astype(np.float32)  # half the memory, the same numbers
        size = ids.nbytes + weights.nbytes
        with self._lock:
            if size <= self.budget and key not in self._lists:
                while self.held + size > self.budget:
                    __, (old_ids, old_weights) = self._lists.popitem(last=False)
                    self.held -= old_ids.nbytes + old_weights.nbytes
                self._lists[key] = (ids, weights)
                self.held += size
        return ids, weights

    def clear(self) -> None:
        with self._lock:
            self._lists.clear()
            self.held = 0


#: The process's posting lists (see PostingCache).
read_postings = PostingCache(POSTING_CACHE_BYTES)


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
    #: The live entries by record, then document number; and each entry's place there.
    by_record: np.ndarray
    place_by_record: np.ndarray
    #: Index field -> its values (the facet fields and the visibility fields).
    values: dict[str, ValueColumn]
    #: Facet field -> True when the live entries of one record hold the same values of
    #: it (the record's metadata), False when they hold different values (language).
    shared_by_record: dict[str, bool]
    #: Facet field -> entries of records that break that rule (an index that is part
    #: way through an update): their facet counts are made one by one.
    irregular: dict[str, np.ndarray]
    #: Visibility -> the entries it lets see (computed at its first search).
    visible: dict[Any, np.ndarray] = field(default_factory=dict)
    #: (segment offset, field) -> length byte of every entry of the segment.
    length_bytes: dict[tuple[int, str], np.ndarray | None] = field(default_factory=dict)
    #: (visibility, field) -> the field's average length over the entries it lets see.
    average_lengths: dict[tuple[Any, str], float] = field(default_factory=dict)


def build_columns(searcher: Searcher) -> Columns:
    """Read the record number, date, facet and visibility values of every entry."""
    reader = searcher.reader()
    size = reader.doc_count_all()
    leaves = list(reader.leaf_readers())
    live = np.zeros(size, dtype=bool)
    for leaf, offset in leaves:
        live[offset : offset + leaf.doc_count_all()] = True
        if leaf.has_deletions():
            live[np.fromiter(leaf.deleted_docs_set, dtype=np.int64) + offset] = False
    if size == 0:  # an empty index's reader has no columns at all
        document_id = np.zeros(0, dtype=np.int64)
        sort_date = np.zeros(0, dtype=np.int64)
    else:
        document_id = _numbers(leaves, "document_id", size)
        sort_date = _numbers(leaves, "sort_date", size)
    record_document_id, inverse = np.unique(document_id[live], return_inverse=True)
    record = np.full(size, -1, dtype=np.int64)
    record[live] = inverse
    entries = np.flatnonzero(live)
    by_record = entries[np.argsort(record[entries], kind="stable")]
    place_by_record = np.full(size, -1, dtype=np.int64)
    place_by_record[by_record] = np.arange(len(by_record))
    fieldnames = (*FACET_FIELDS.values(), *VISIBILITY_FIELDS)
    values = {name: _value_column(reader, leaves, name, size) for name in fieldnames}
    shared_by_record, irregular = {}, {}
    for name in FACET_FIELDS.values():
        shared, breaking = _record_rule(values[name], record, by_record, size)
        shared_by_record[name] = shared
        irregular[name] = breaking
    return Columns(
        live,
        document_id,
        sort_date,
        record,
        record_document_id,
        by_record,
        place_by_record,
        values,
        shared_by_record,
        irregular,
    )


def _numbers(leaves: list[tuple[IndexReader, int]], fieldname: str, size: int) -> np.ndarray:
    """A NUMERIC field's column for every entry, read a segment at a time."""
    numbers = np.zeros(size, dtype=np.int64)
    for leaf, offset in leaves:
        count = leaf.doc_count_all()
        numbers[offset : offset + count] = _segment_numbers(leaf, fieldname, count)
    return numbers


def _segment_numbers(leaf: Any, fieldname: str, count: int) -> np.ndarray:
    field_ = leaf.schema[fieldname]
    column = leaf.column_reader(fieldname, translate=False)
    width = {"B": 1, "H": 2, "I": 4, "Q": 8}.get(field_.sortable_typecode)
    if (
        field_.numtype is not int
        or field_.decimal_places
        or width is None
        or type(column) is not whoosh_columns.NumericColumn.Reader
    ):
        return np.array(list(leaf.column_reader(fieldname)), dtype=np.int64)
    # The stored numbers are Whoosh's "sortable" form: unsigned, big-endian, and
    # shifted by half the range when signed (whoosh.util.numeric.from_sortable).
    raw = np.full(count, column._default, dtype=np.uint64)
    stored = column._dbfile.get(column._basepos, column._count * width)
    raw[: column._count] = np.frombuffer(stored, dtype=f">u{width}")
    if field_.signed:
        raw = raw - np.uint64(1 << (field_.bits - 1))  # wraps around, as intended
    return raw.view(np.int64) if field_.bits == 64 else raw.astype(np.int64)


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
    held = np.bincount(entry, minlength=size)
    if size == 0 or held.max() <= 1:
        single = np.full(size, -1, dtype=np.int32)
        single[entry] = value_ids
        return ValueColumn(names, single, None, None)
    order = np.argsort(entry, kind="stable")  # rows by entry, values in term order
    starts = np.concatenate(([0], np.cumsum(held))).astype(np.int64)
    return ValueColumn(names, None, starts, value_ids[order])


def _record_rule(
    column: ValueColumn, record: np.ndarray, by_record: np.ndarray, size: int
) -> tuple[bool, np.ndarray]:
    """Whether the live entries of a record share this field's values (else: hold
    different ones), and the entries of the records that break the rule chosen."""
    irregular = np.zeros(size, dtype=bool)
    if len(by_record) == 0:
        return True, irregular
    records = int(record[by_record[-1]]) + 1
    width = len(column.names) + 1
    # Every (record, value) pair, with how many entries of the record hold it.
    pair_entry, pair_value = column.rows(by_record)
    pairs = record[pair_entry] * width + pair_value
    unique_pairs, pair_counts = np.unique(pairs, return_counts=True)
    entries_per_record = np.bincount(record[by_record], minlength=records)
    # Shared: each value of a record held by every entry of it.
    not_shared = np.zeros(records, dtype=bool)
    pair_record = unique_pairs // width
    not_shared[pair_record[pair_counts != entries_per_record[pair_record]]] = True
    # Apart: no value held by two entries of a record.
    not_apart = np.zeros(records, dtype=bool)
    not_apart[pair_record[pair_counts > 1]] = True
    shared = int(not_shared.sum()) <= int(not_apart.sum())
    breaking = not_shared if shared else not_apart
    irregular[by_record] = breaking[record[by_record]]
    return shared, irregular


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
        if matcher._all_weights:
            weights = np.full(len(ids), matcher._all_weights, dtype=np.float64)
        elif matcher._weights:
            weights = np.asarray(matcher._weights, dtype=np.float64)
        else:
            weights = np.ones(len(ids), dtype=np.float64)
        return ids, weights
    if type(matcher) is whoosh3.W3LeafMatcher:
        return _block_arrays(matcher)
    raise Unsupported(type(matcher).__name__)


def _block_arrays(matcher: Any) -> tuple[np.ndarray, np.ndarray]:
    """Read every block of an on-disk posting list (whoosh.codec.whoosh3's layout)."""
    id_parts, weight_parts = [], []
    matcher.reset()
    while True:
        ids, weights = _ids_and_weights(matcher)
        ids = np.asarray(ids, dtype=np.int64)
        id_parts.append(ids if matcher._byteids else np.cumsum(ids))
        count = matcher._blocklength
        if weights is None:
            weight_parts.append(np.ones(count, dtype=np.float64))
        elif isinstance(weights, float):
            # Whoosh expands a block's single weight into a float32 array.
            weight_parts.append(np.full(count, np.float32(weights), dtype=np.float64))
        else:
            weight_parts.append(np.asarray(weights, dtype=np.float64))
        if matcher._lastblock:
            break
        matcher._goto(matcher._nextoffset)
    return np.concatenate(id_parts), np.concatenate(weight_parts)


#: How a bytes object starts in a protocol 2 pickle, the protocol of Whoosh's posting
#: blocks: a call to _codecs.encode, or to bytes() for an empty one. Nothing else in a
#: block (integers, floats, None, tuples) calls anything.
_BYTES_IN_PICKLE = (b"c_codecs\nencode\n", b"c__builtin__\nbytes\n")
_MARK = ord("(")
_TUPLE2_STOP = b"\x86."


def _ids_and_weights(matcher: Any) -> tuple[Any, Any]:
    """The document numbers and weights of the posting block the matcher is on."""
    length = matcher._nextoffset - matcher._dataoffset
    raw = matcher._postfile.get(matcher._dataoffset, length)
    if matcher._compression:
        raw = zlib.decompress(raw)
    found = ids_and_weights_of_block(raw, matcher._blocklength)
    if found is None:
        data = pickle.loads(raw)
        return data[0], data[1]
    return found


def ids_and_weights_of_block(raw: bytes, count: int) -> tuple[Any, Any] | None:
    """(ids, weights) of a block of count postings, from its uncompressed pickle.

    A block is the pickle of (ids, weights, values), and the values (each posting's
    positions, as bytes) take two thirds of the time to unpickle, so the pickle is cut
    where its first bytes object begins and closed as the pair (ids, weights). None when
    the block has no bytes to cut at (no positions) or does not read as expected: the
    caller then unpickles it whole, as Whoosh does."""
    found = [at for at in map(raw.find, _BYTES_IN_PICKLE) if at > 0]
    if not found:
        return None
    cut = min(found)
    # The values open with a MARK unless there are at most three of them.
    end = cut - 1 if raw[cut - 1] == _MARK else cut
    try:
        ids, weights = pickle.loads(raw[:end] + _TUPLE2_STOP)
    except (pickle.UnpicklingError, ValueError, TypeError, EOFError):
        return None
    shaped = (
        type(ids) is tuple
        and len(ids) == count
        and (weights is None or type(weights) is float or len(weights) == count)
    )
    return (ids, weights) if shaped else None


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


def length_bytes_of(
    columns: Columns, reader: Any, offset: int, fieldname: str
) -> np.ndarray | None:
    """The length byte of a field for every entry of the segment at offset, read once
    per searcher (None: no lengths)."""
    key = (offset, fieldname)
    if key not in columns.length_bytes:
        columns.length_bytes[key] = _length_bytes(reader, fieldname)
    return columns.length_bytes[key]


@dataclass
class _Node:
    """A matcher's part in the matched documents of a segment."""

    present: np.ndarray  # bool per matched document
    score: np.ndarray  # float64, 0 where absent


#: id(leaf matcher) -> (its document numbers, its scores)
_Leaves = dict[int, tuple[np.ndarray, np.ndarray]]


def score_every_match(
    searcher: Searcher,
    columns: Columns,
    query: Any,
    deadline: Any = None,
    weighting: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Every document matching query with its score, exactly as an unlimited Whoosh
    search with the weighting (default: the searcher's) scores it, in document number
    order.

    deadline.check() (bounds.Deadline) is called before each posting list is read.
    Raises Unsupported for a query whose matchers this does not reproduce."""
    all_ids, all_scores = [], []
    check = deadline.check if deadline is not None else _never
    context = searcher.context(weighting=weighting or searcher.weighting)
    for sub, offset in searcher.leaf_searchers():
        check()
        matcher = query.matcher(sub, context)
        leaves: _Leaves = {}
        _read_leaves(matcher, sub.reader(), offset, columns, leaves, check)
        if not leaves:
            continue
        hit = np.zeros(sub.doc_count_all(), dtype=bool)
        for ids, __ in leaves.values():
            hit[ids] = True
        matched = np.flatnonzero(hit)
        if len(matched) == 0:
            continue
        place = np.cumsum(hit) - 1  # a matched document's place in matched
        root = _evaluate(matcher, len(matched), place, leaves)
        if root is None:
            continue
        all_ids.append(matched[root.present] + offset)
        all_scores.append(root.score[root.present])
    if not all_ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    return np.concatenate(all_ids), np.concatenate(all_scores)


def _never() -> None:
    pass


def _read_leaves(
    matcher: Matcher,
    reader: Any,
    offset: int,
    columns: Columns,
    leaves: _Leaves,
    check: Callable[[], None],
) -> None:
    kind = type(matcher)
    if kind is NullMatcherClass:
        return
    if kind is UnionMatcher:
        _read_leaves(matcher.a, reader, offset, columns, leaves, check)
        _read_leaves(matcher.b, reader, offset, columns, leaves, check)
    elif kind is WordsMatcher:
        for child in matcher.children():
            _read_leaves(child, reader, offset, columns, leaves, check)
    elif kind is WrappingMatcher:
        _read_leaves(matcher.child, reader, offset, columns, leaves, check)
    elif kind is FilterMatcher or kind is ListMatcher or kind is whoosh3.W3LeafMatcher:
        check()
        leaves[id(matcher)] = _scored_postings(matcher, reader, offset, columns)
    else:
        raise Unsupported(kind.__name__)


def cached_postings(reader: Any, fieldname: str, word: bytes | str) -> np.ndarray:
    """The document numbers of a word in a segment, deleted entries included, through
    the process's posting cache (where scoring finds them again)."""
    ids, __ = cached_posting_arrays(reader, fieldname, word)
    return ids


def cached_posting_arrays(
    reader: Any, fieldname: str, word: bytes | str
) -> tuple[np.ndarray, np.ndarray]:
    """The document numbers and weights of a word in a segment that holds it, deleted
    entries included, through the process's posting cache. The key is the one scoring
    reads (the segment and the term as its leaf matcher names it), made without a
    matcher: opening one looks the word up in the segment's term file, which took most
    of the time of a word already in the cache."""
    term = (fieldname, reader._text_to_bytes(fieldname, word))
    return read_postings.get(
        (*_segment_key(reader), term), lambda: _unfiltered_arrays(reader, term)
    )


def _unfiltered_arrays(reader: Any, term: tuple[str, bytes]) -> tuple[np.ndarray, np.ndarray]:
    matcher = reader.postings(*term)
    return posting_arrays(matcher.child if type(matcher) is FilterMatcher else matcher)


def held_by_any(
    reader: IndexReader, fieldname: str, word: bytes | str, entries: np.ndarray
) -> bool:
    """Whether one of the entries (a mask by document number) holds the word: the
    reader's term dictionary keeps the words of deleted entries until segments merge."""
    for leaf, offset in reader.leaf_readers():
        if (fieldname, word) in leaf and entries[
            cached_postings(leaf, fieldname, word) + offset
        ].any():
            return True
    return False


def _segment_key(reader: Any) -> tuple:
    """What tells a segment apart from any other in the process: its folder and id."""
    storage = reader._storage
    folder = getattr(getattr(storage, "b", storage), "folder", None)
    return (folder, reader._segment.segment_id(), reader.doc_count_all())


def _scored_postings(
    matcher: Matcher, reader: Any, offset: int, columns: Columns
) -> tuple[np.ndarray, np.ndarray]:
    """A posting list without its deleted entries, and whoosh.scoring.bm25 over it in
    Whoosh's order of operations (times the boost of a filter around it, as
    WrappingMatcher.score does)."""
    leaf = matcher.child if type(matcher) is FilterMatcher else matcher
    if type(leaf) is not ListMatcher and type(leaf) is not whoosh3.W3LeafMatcher:
        raise Unsupported(type(leaf).__name__)
    scorer = leaf.scorer if type(leaf) is whoosh3.W3LeafMatcher else leaf._scorer
    if type(scorer) is not BM25FScorer:
        raise Unsupported("a weighting other than BM25F")
    fieldname = leaf.term()[0]
    key = (*_segment_key(reader), leaf.term())
    ids, weights = read_postings.get(key, lambda: posting_arrays(leaf))
    if type(matcher) is FilterMatcher:
        if matcher._exclude and matcher._ids is reader.deleted_docs_set:
            keep = columns.live[ids + offset]  # the same deletions, as a mask
        else:
            held = np.isin(ids, np.fromiter(matcher._ids, dtype=np.int64))
            keep = ~held if matcher._exclude else held
        ids, weights = ids[keep], weights[keep]
    lengths = field_lengths(columns, reader, offset, fieldname, ids)
    scores = bm25(weights, lengths, scorer.idf, scorer.avgfl, scorer.B, scorer.K1)
    if type(matcher) is FilterMatcher:
        scores = scores * matcher.boost
    return ids.astype(np.int64), scores


def field_lengths(
    columns: Columns, reader: Any, offset: int, fieldname: str, ids: np.ndarray
) -> np.ndarray:
    """The field's length in each of a segment's documents (ids), as Whoosh reads it
    back from the byte it stores (1 for a field without lengths)."""
    length_bytes = length_bytes_of(columns, reader, offset, fieldname)
    if length_bytes is None:
        return np.ones(len(ids), dtype=np.float64)
    found = length_bytes[ids]
    if not found.all():  # Whoosh would find no length there and fail
        raise Unsupported("an entry without a length")
    return LENGTH_OF_BYTE[found]


def bm25(
    weights: np.ndarray, lengths: np.ndarray, idf: float, avgfl: float, b: float, k1: float
) -> np.ndarray:
    """whoosh.scoring.bm25 over arrays, in Whoosh's order of operations (the same
    floating-point results)."""
    weights = weights.astype(np.float64)
    return idf * ((weights * (k1 + 1)) / (weights + k1 * ((1 - b) + b * lengths / avgfl)))


def _evaluate(matcher: Matcher, size: int, place: np.ndarray, leaves: _Leaves) -> _Node | None:
    """A matcher's scores over the matched documents; None where it matches nothing."""
    kind = type(matcher)
    if kind is NullMatcherClass:
        return None
    if kind is UnionMatcher:
        a = _evaluate(matcher.a, size, place, leaves)
        b = _evaluate(matcher.b, size, place, leaves)
        if a is None or b is None:
            return b if a is None else a
        # UnionMatcher.score adds a's score and b's; where one side is absent its 0
        # adds nothing, exactly.
        return _Node(a.present | b.present, a.score + b.score)
    if kind is WrappingMatcher:
        child = _evaluate(matcher.child, size, place, leaves)
        if child is not None:
            child.score = child.score * matcher.boost
        return child
    if kind is WordsMatcher:
        # WordsMatcher.score: the words' scores added in the query's order, then
        # coordinated by how many words matched.
        present = np.zeros(size, dtype=bool)
        total = np.zeros(size, dtype=np.float64)
        matched = np.zeros(size, dtype=np.int64)
        for child in matcher.children():
            word = _evaluate(child, size, place, leaves)
            if word is not None:
                present |= word.present
                total = total + word.score
                matched += word.present
        if not present.any():
            return None
        score = np.zeros(size, dtype=np.float64)
        score[present] = coordinate(total[present], matched[present], matcher.words, matcher.scale)
        return _Node(present, score)
    ids, scores = leaves[id(matcher)]
    if len(ids) == 0:
        return None
    where = place[ids]
    present = np.zeros(size, dtype=bool)
    present[where] = True
    score = np.zeros(size, dtype=np.float64)
    score[where] = scores
    return _Node(present, score)
