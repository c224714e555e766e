"""Facet counts: how many matched records hold each value of each facet.

The values of one facet are alternatives (a record of either type) and different facets
must all hold (search.query._allowed_entries). Each facet is counted the way faceted
search is usually counted ("disjunctive" facets): over the records that match the query
and every *other* facet's choice, leaving out its own. With "Policy brief" chosen, the
type facet still counts the case studies, reports and so on that the reader could add
to the choice, while the organization facet counts the policy briefs of each
organization. A facet nobody chose is counted over the results as they are.

Every count is over entries the reader may see: the caller passes the matched entries
already restricted to them, and only the facet choices are taken off here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge_hub.search.columns import Columns
from knowledge_hub.search.schema import FACET_FIELDS

FacetCounts = dict[str, list[tuple[str, int]]]


@dataclass(frozen=True)
class Groups:
    """Entries grouped by record, in the columns' by-record order: group g is
    entries[starts[g]:starts[g + 1]]."""

    entries: np.ndarray
    starts: np.ndarray

    @property
    def firsts(self) -> np.ndarray:
        """The first entry of each group."""
        return self.entries[self.starts[:-1]]

    def group(self, g: int) -> np.ndarray:
        return self.entries[int(self.starts[g]) : int(self.starts[g + 1])]


def group_by_record(entries: np.ndarray, columns: Columns) -> Groups:
    """Group entries (document numbers, in any order, each once) by record."""
    # Marking the entries in the columns' by-record order groups them without a sort.
    marked = np.zeros(len(columns.by_record), dtype=bool)
    marked[columns.place_by_record[entries]] = True
    in_order = columns.by_record[np.flatnonzero(marked)]
    if len(in_order) == 0:
        return Groups(in_order, np.zeros(1, dtype=np.int64))
    record = columns.record[in_order]
    firsts = np.flatnonzero(np.concatenate(([True], record[1:] != record[:-1])))
    return Groups(in_order, np.concatenate((firsts, [len(in_order)])))


def choice_masks(columns: Columns, filters: Mapping[str, Sequence[str]]) -> dict[str, np.ndarray]:
    """Facet -> the entries holding one of the values chosen in it (facets with a choice)."""
    masks = {}
    for facet, values in filters.items():
        wanted = [v for v in values if v]
        if wanted:
            masks[facet] = columns.values[FACET_FIELDS[facet]].entries_with_any(wanted)
    return masks


def count_facets(
    columns: Columns,
    results: Groups,
    matched: np.ndarray,
    filters: Mapping[str, Sequence[str]],
) -> FacetCounts:
    """Count every facet's values, in records, most first (ties by value).

    results: the matched entries that every facet choice lets through, by record (the
    records found); matched: the entries that match the query and that the reader may
    see, before any facet choice. A facet with a choice is counted over the matched
    entries that the other facets' choices let through."""
    masks = choice_masks(columns, filters)
    facets = {}
    for facet, fieldname in FACET_FIELDS.items():
        if facet in masks:
            others = [mask for other, mask in masks.items() if other != facet]
            entries = matched
            for mask in others:
                entries = entries[mask[entries]]
            groups = group_by_record(entries, columns)
        else:
            groups = results
        facets[facet] = _count(columns, fieldname, groups)
    return facets


def _count(columns: Columns, fieldname: str, groups: Groups) -> list[tuple[str, int]]:
    """Records per value of one field.

    A value shared by the versions of a record (its metadata) is counted on one entry
    of the record; one that differs between them (the language) on every entry. Records
    whose entries break that rule (an index part way through an update) are counted one
    by one."""
    column = columns.values[fieldname]
    firsts = groups.firsts
    entries = firsts if columns.shared_by_record[fieldname] else groups.entries
    irregular = columns.irregular[fieldname]
    counts = column.count(entries[~irregular[entries]])
    counter = Counter({column.names[i]: n for i, n in enumerate(counts.tolist()) if n})
    for g in np.flatnonzero(irregular[firsts]).tolist():
        values: set[str] = set()
        for docnum in groups.group(g).tolist():
            values.update(column.values_of(docnum))
        counter.update(values)
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))
