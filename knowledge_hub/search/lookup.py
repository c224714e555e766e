"""What the values of fielded words name (`org:OIT`, `type:"Policy brief"`,
`year:2019..2023`), and the record a ref or a document symbol typed alone stands for."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
from flask import current_app
from flask import has_app_context
from flask_babel import force_locale
from flask_babel import gettext
from whoosh.reading import IndexReader

from knowledge_hub.i18n.organization_names import acronyms_named
from knowledge_hub.i18n.organization_names import folded
from knowledge_hub.i18n.vocabularies import DOC_TYPES
from knowledge_hub.search.columns import Columns
from knowledge_hub.search.columns import cached_postings
from knowledge_hub.search.schema import REF_FIELD
from knowledge_hub.search.schema import SYMBOL_FIELD

#: `year:2023` or `year:2019..2023`.
_YEARS = re.compile(r"(\d{1,4})(?:\.\.(\d{1,4}))?")

#: What looks like a ref or a symbol typed alone: one word, no quotes, no operators.
_ONE_NAME = re.compile(r'[^\s"()]+')


def organizations_named(text: str, known: Iterable[str]) -> set[str]:
    """The acronyms of the organizations text names: an acronym of the hub's (any case)
    or a name or acronym in any of the six languages (organization_names.py)."""
    wanted = folded(text)
    found = {acronym for acronym in known if folded(acronym) == wanted}
    return found | set(acronyms_named(text))


def type_codes_named(text: str, known: Iterable[str]) -> set[str]:
    """The document types text names: a type code, or a seeded type's label in one of
    the interface languages ("Policy brief", "Note d'orientation")."""
    wanted = folded(text)
    found = {code for code in known if folded(code) == wanted}
    for code, labels in _type_labels().items():
        if wanted in labels:
            found.add(code)
    return found


def _type_labels() -> dict[str, frozenset[str]]:
    languages = tuple(current_app.config["LANGUAGES"]) if has_app_context() else ()
    return _labels_in(languages)


@lru_cache(maxsize=8)
def _labels_in(languages: tuple[str, ...]) -> dict[str, frozenset[str]]:
    labels = {code: {folded(str(label))} for code, label in DOC_TYPES.items()}
    for language in languages:
        with force_locale(language):
            for code, label in DOC_TYPES.items():
                labels[code].add(folded(gettext(label.msgid)))
    return {code: frozenset(names) for code, names in labels.items()}


def years_named(text: str, known: Iterable[str]) -> set[str]:
    """The years of the index that `2023` or `2019..2023` (both ends included) name."""
    match = _YEARS.fullmatch(text.strip())
    if match is None:
        return set()
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) else first
    return {year for year in known if year.isdigit() and first <= int(year) <= last}


def entries_named(reader: IndexReader, size: int, text: str) -> np.ndarray:
    """A mask of the entries whose record has text as its ref or as a document symbol,
    without case."""
    name = text.strip().lower()
    entries = np.zeros(size, dtype=bool)
    for leaf, offset in reader.leaf_readers():
        for fieldname in (REF_FIELD, SYMBOL_FIELD):
            if name and (fieldname, name) in leaf:
                entries[cached_postings(leaf, fieldname, name) + offset] = True
    return entries


def record_named(reader: IndexReader, columns: Columns, visible: np.ndarray, q: str) -> int | None:
    """The document id of the one record the reader may see whose ref or document
    symbol is q, typed alone (any case, spaces around); None when q is something else,
    or names no such record, or several."""
    text = q.strip()
    if not _ONE_NAME.fullmatch(text):
        return None
    entries = entries_named(reader, len(visible), text) & visible
    records = np.unique(columns.record[np.flatnonzero(entries)])
    if len(records) != 1:
        return None
    return int(columns.record_document_id[records[0]])
