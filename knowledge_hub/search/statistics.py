"""Scores from what the reader may see: BM25F with its collection statistics (how many
entries there are, how many hold a word, how long a field is on average) taken over the
entries visible to the reader, not over the whole index.

Whoosh takes them over every entry of the index, drafts, internal records and deleted
entries included, so a public record's score moved when a draft used the same word: an
anonymous reader could learn that hidden records hold a word by watching a score (the
security probe of issue 12). Over the visible entries a score depends only on what the
reader may see; it no longer depends on deleted entries waiting for a merge either.
"""

from __future__ import annotations

from math import log
from typing import Any

import numpy as np
from whoosh.reading import IndexReader
from whoosh.scoring import BM25F
from whoosh.scoring import BM25FScorer

from knowledge_hub.search.columns import LENGTH_OF_BYTE
from knowledge_hub.search.columns import Columns
from knowledge_hub.search.columns import bm25
from knowledge_hub.search.columns import cached_posting_arrays
from knowledge_hub.search.columns import cached_postings
from knowledge_hub.search.columns import field_lengths
from knowledge_hub.search.columns import length_bytes_of


class VisibleBM25F(BM25F):
    """Whoosh's BM25F (the same B and K1, the same formula) whose document frequencies,
    entry count and average field lengths count the visible entries only."""

    def __init__(self, reader: IndexReader, columns: Columns, visible: np.ndarray, key: Any):
        """visible: a mask of the entries the reader may see; key: what the mask stands
        for (the reader's Visibility), under which average lengths are kept in columns."""
        super().__init__()
        self._reader = reader
        self._leaves = list(reader.leaf_readers())
        self._columns = columns
        self._visible = visible
        self._key = key
        self._entries = max(1, int(np.count_nonzero(visible)))
        self._idf: dict[tuple[str, bytes], float] = {}

    def scorer(self, searcher: Any, fieldname: str, text: bytes, qf: int = 1) -> Any:
        if not searcher.schema[fieldname].scorable:
            return super().scorer(searcher, fieldname, text, qf=qf)
        # BM25FScorer.__init__ without its statistics over the whole index, which would
        # be replaced at once: it looked each word up once more in every segment.
        scorer = BM25FScorer.__new__(BM25FScorer)
        scorer.idf = self.visible_idf(fieldname, text)
        scorer.avgfl = self.average_length(fieldname)
        scorer.B = self._field_B.get(fieldname, self.B)
        scorer.K1 = self.K1
        scorer.qf = qf
        scorer.setup(searcher, fieldname, text)
        return scorer

    def visible_idf(self, fieldname: str, text: bytes) -> float:
        """Whoosh's idf, log(entries / (holding + 1)) + 1, over the visible entries."""
        term = (fieldname, text)
        if term not in self._idf:
            holding = 0
            for leaf, offset in self._leaves:
                if term in leaf:
                    ids = cached_postings(leaf, fieldname, text)
                    holding += int(np.count_nonzero(self._visible[ids + offset]))
            self._idf[term] = log(self._entries / (holding + 1)) + 1
        return self._idf[term]

    def scores_of(self, fieldname: str, text: bytes | str) -> tuple[np.ndarray, np.ndarray]:
        """The visible entries whose field holds the word, in document number order,
        with the score this weighting's scorer gives each (as columns.py scores a
        posting list), read from the posting cache without opening Whoosh's matchers.

        Raises columns.Unsupported where Whoosh would score differently (a field
        without lengths for BM25F)."""
        id_parts, score_parts = [], []
        idf, avgfl = self.visible_idf(fieldname, text), self.average_length(fieldname)
        b = self._field_B.get(fieldname, self.B)
        for leaf, offset in self._leaves:
            if (fieldname, text) not in leaf:
                continue
            ids, weights = cached_posting_arrays(leaf, fieldname, text)
            keep = self._visible[ids + offset]
            ids, weights = ids[keep].astype(np.int64), weights[keep]
            lengths = field_lengths(self._columns, leaf, offset, fieldname, ids)
            id_parts.append(ids + offset)
            score_parts.append(bm25(weights, lengths, idf, avgfl, b, self.K1))
        if not id_parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        return np.concatenate(id_parts), np.concatenate(score_parts)

    def average_length(self, fieldname: str) -> float:
        """The field's average length over the visible entries (1 when it is nowhere),
        from the length byte Whoosh stores per entry, kept with the searcher's columns."""
        key = (self._key, fieldname)
        averages = self._columns.average_lengths
        if key not in averages:
            total = 0.0
            for leaf, offset in self._leaves:
                lengths = length_bytes_of(self._columns, leaf, offset, fieldname)
                if lengths is None:
                    continue
                seen = self._visible[offset : offset + len(lengths)]
                total += float(LENGTH_OF_BYTE[lengths[seen]].sum())
            averages[key] = total / self._entries or 1.0
        return averages[key]
