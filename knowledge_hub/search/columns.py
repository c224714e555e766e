"""Per-searcher columns: the record number, date and facet values of every index entry,
read once per searcher so that collapsing and facet counts need no stored fields."""

from __future__ import annotations

from dataclasses import dataclass

from whoosh.searching import Searcher

from knowledge_hub.search.schema import FACET_FIELDS


@dataclass
class Columns:
    """Per-searcher arrays indexed by document number, for collapsing and facet counts
    without Whoosh's own (slow) grouping."""

    document_id: list[int]
    sort_date: list[int]
    facets: dict[str, list[tuple[str, ...]]]


def build_columns(searcher: Searcher) -> Columns:
    """Read the record number, date and facet values of every entry into plain lists."""
    reader = searcher.reader()
    size = reader.doc_count_all()
    if size == 0:  # an empty index's reader has no columns at all
        return Columns([], [], {facet: [] for facet in FACET_FIELDS})
    document_id = list(reader.column_reader("document_id"))
    sort_date = list(reader.column_reader("sort_date"))
    facets: dict[str, list[tuple[str, ...]]] = {}
    for facet, fieldname in FACET_FIELDS.items():
        values: list[tuple[str, ...]] = [()] * size
        for term in reader.field_terms(fieldname):
            for docnum in reader.postings(fieldname, term).all_ids():
                values[docnum] = (*values[docnum], term)
        facets[facet] = values
    return Columns(document_id, sort_date, facets)
