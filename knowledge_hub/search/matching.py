"""Which records a query's tree (syntax.py) matches, decided per record over the language
versions the reader may see, as masks over the records.

A word matches a record when one of its visible versions holds it, in that version's
language (each language's field is read with its own analyzer, as the index wrote it);
words joined by a hyphen or a slash (`high-speed`, `A/RES/77/281`) when one version
holds all of them (Chinese written without spaces is words side by side: any of them);
a phrase when one field of one version holds it. The record's metadata (the `meta`
field: authors, organizations, topics, regions, ref, symbols) counts as one more field
of every version. A fielded word (`title:`, `org:`...) is looked for in its field only.
Versions the reader may not see never
count: a hidden translation holding an excluded word must not take a public record out
of the results, which would tell that the translation exists.

Words are read from the posting lists as arrays (through the process's posting cache,
which scoring reads too); phrases and patterns (`econ*`) through Whoosh's own matchers.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from whoosh.query import Query
from whoosh.searching import Searcher

from knowledge_hub.search.bounds import Deadline
from knowledge_hub.search.bounds import expand_patterns
from knowledge_hub.search.columns import Columns
from knowledge_hub.search.columns import cached_postings
from knowledge_hub.search.indexer import OTHER_LANGUAGE
from knowledge_hub.search.lookup import entries_named
from knowledge_hub.search.lookup import organizations_named
from knowledge_hub.search.lookup import type_codes_named
from knowledge_hub.search.lookup import years_named
from knowledge_hub.search.schema import AUTHOR_FIELD
from knowledge_hub.search.schema import META_FIELD
from knowledge_hub.search.schema import ORG_FIELD
from knowledge_hub.search.schema import text_field
from knowledge_hub.search.schema import title_field
from knowledge_hub.search.syntax import AllOf
from knowledge_hub.search.syntax import Fielded
from knowledge_hub.search.syntax import Node
from knowledge_hub.search.syntax import Not
from knowledge_hub.search.syntax import Phrase
from knowledge_hub.search.syntax import Word
from knowledge_hub.search.syntax import joined


def word_terms(schema: object, language: str, word: str) -> list[str]:
    """The distinct terms a query word becomes in one language's fields."""
    return field_terms(schema, text_field(language), word)


def field_terms(schema: object, fieldname: str, word: str) -> list[str]:
    """The distinct terms a query word becomes in a field."""
    analyzer = schema[fieldname].analyzer  # type: ignore[index]
    terms: list[str] = []
    for token in analyzer(word, mode="query"):
        if token.text not in terms:
            terms.append(token.text)
    return terms


class RecordMatcher:
    """The records a tree matches, for one search: each word or phrase is read once."""

    def __init__(
        self,
        searcher: Searcher,
        columns: Columns,
        languages: tuple[str, ...],
        visible: np.ndarray,
        parse_words: Callable[[str, str | None], Query],
        deadline: Deadline,
    ) -> None:
        """parse_words(text, field): the query of words or a phrase, in every field
        (field None) or in the fields of `title:` or `author:` or `org:`."""
        self.searcher = searcher
        self.reader = searcher.reader()
        self.columns = columns
        self.languages = (*languages, OTHER_LANGUAGE)
        self.visible = visible
        self.parse_words = parse_words
        self.deadline = deadline
        self.records = len(columns.record_document_id)
        self._leaves: dict[tuple[str | None, Word | Phrase], np.ndarray] = {}

    def records_of(self, node: Node, field: str | None = None) -> np.ndarray:
        """A mask of the records the tree matches (a lone exclusion matches none),
        its words looked for in every field, or in `field` (syntax.FIELDS)."""
        if isinstance(node, Word | Phrase):
            if (field, node) not in self._leaves:
                self.deadline.check()
                self._leaves[field, node] = self._records_holding(node, field)
            return self._leaves[field, node]
        if isinstance(node, Fielded):
            return self.records_of(node.part, node.field)
        if isinstance(node, Not):
            return np.zeros(self.records, dtype=bool)
        sought = [part for part in node.parts if not isinstance(part, Not)]
        if not sought:
            return np.zeros(self.records, dtype=bool)
        found = self.records_of(sought[0], field).copy()
        for part in sought[1:]:
            if isinstance(node, AllOf):
                found &= self.records_of(part, field)
            else:
                found |= self.records_of(part, field)
        for part in node.parts:
            if isinstance(part, Not) and found.any():
                # What an exclusion names is read as a query of its own: `-(a -b)`
                # takes away the records with a and without b.
                found &= ~self.records_of(part.part, field)
        return found

    def _records_holding(self, leaf: Word | Phrase, field: str | None) -> np.ndarray:
        values = self.columns.values
        if field == "org":
            named = organizations_named(leaf.text, values["organization"].names)
            if named:
                return self._records_of_entries(values["organization"].entries_with_any(named))
            # Not a name known as a whole: words of the organizations' names.
        elif field == "type":
            codes = type_codes_named(leaf.text, values["doc_type"].names)
            return self._records_of_entries(values["doc_type"].entries_with_any(codes))
        elif field == "year":
            years = years_named(leaf.text, values["year"].names)
            return self._records_of_entries(values["year"].entries_with_any(years))
        elif field == "ref":
            return self._records_of_entries(
                entries_named(self.reader, len(self.visible), leaf.text)
            )
        if isinstance(leaf, Word) and "*" not in leaf.text:
            entries = self._entries_with_word(leaf.text, field)
        else:
            text = leaf.text if isinstance(leaf, Word) else f'"{leaf.text}"'
            query = expand_patterns(
                self.parse_words(text, field), self.reader, self.visible, self.deadline
            )
            entries = np.zeros(len(self.visible), dtype=bool)
            ids = np.fromiter(self.searcher.docs_for_query(query), dtype=np.int64)
            entries[ids] = True
        return self._records_of_entries(entries)

    def _records_of_entries(self, entries: np.ndarray) -> np.ndarray:
        found = np.zeros(self.records, dtype=bool)
        found[self.columns.record[np.flatnonzero(entries & self.visible)]] = True
        return found

    def _field_groups(self, field: str | None) -> list[tuple[str, tuple[str, ...]]]:
        """(field whose analyzer reads the word, fields that must hold its terms) for a
        word in every field (None) or in `title:`, `author:` or `org:`."""
        if field == "title":
            return [(text_field(lang), (title_field(lang),)) for lang in self.languages]
        if field == "author":
            return [(AUTHOR_FIELD, (AUTHOR_FIELD,))]
        if field == "org":
            return [(ORG_FIELD, (ORG_FIELD,))]
        in_text = [
            (text_field(lang), (title_field(lang), text_field(lang))) for lang in self.languages
        ]
        return [*in_text, (META_FIELD, (META_FIELD,))]

    def _entries_with_word(self, word: str, field: str | None = None) -> np.ndarray:
        """The entries whose version (or record's metadata) holds every term the word
        becomes in one language's fields, or in the metadata."""
        schema = self.reader.schema
        holding = np.zeros(len(self.visible), dtype=bool)
        for analyzed_as, fields in self._field_groups(field):
            terms = field_terms(schema, analyzed_as, word)
            if not terms:
                continue
            if not joined(word):
                # Words a segmenter finds in one written without spaces (Chinese) are
                # words side by side: any of them.
                for term in terms:
                    holding |= self._entries_with_term(fields, term)
                continue
            in_language = self._entries_with_term(fields, terms[0])
            for term in terms[1:]:
                if not in_language.any():
                    break
                in_language &= self._entries_with_term(fields, term)
            holding |= in_language
        return holding

    def _entries_with_term(self, fields: tuple[str, ...], term: str) -> np.ndarray:
        entries = np.zeros(len(self.visible), dtype=bool)
        for leaf, offset in self.reader.leaf_readers():
            for fieldname in fields:
                if (fieldname, term) in leaf:
                    entries[cached_postings(leaf, fieldname, term) + offset] = True
        return entries
