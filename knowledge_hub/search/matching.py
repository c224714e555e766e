"""Which records a query's tree (syntax.py) matches, decided per record over the language
versions the reader may see, as masks over the records.

A word matches a record when one of its visible versions holds it, in that version's
language (each language's field is read with its own analyzer, as the index wrote it);
words joined by a hyphen or a slash (`high-speed`, `A/RES/77/281`) when one version
holds all of them (Chinese written without spaces is words side by side: any of them);
a phrase when one field of one version holds it. Versions the reader may not see never
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
from knowledge_hub.search.schema import text_field
from knowledge_hub.search.schema import title_field
from knowledge_hub.search.syntax import AllOf
from knowledge_hub.search.syntax import Node
from knowledge_hub.search.syntax import Not
from knowledge_hub.search.syntax import Phrase
from knowledge_hub.search.syntax import Word
from knowledge_hub.search.syntax import joined


def word_terms(schema: object, language: str, word: str) -> list[str]:
    """The distinct terms a query word becomes in one language's fields."""
    analyzer = schema[text_field(language)].analyzer  # type: ignore[index]
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
        parse_words: Callable[[str], Query],
        deadline: Deadline,
    ) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.columns = columns
        self.languages = (*languages, OTHER_LANGUAGE)
        self.visible = visible
        self.parse_words = parse_words
        self.deadline = deadline
        self.records = len(columns.record_document_id)
        self._leaves: dict[Word | Phrase, np.ndarray] = {}

    def records_of(self, node: Node) -> np.ndarray:
        """A mask of the records the tree matches (a lone exclusion matches none)."""
        if isinstance(node, Word | Phrase):
            if node not in self._leaves:
                self.deadline.check()
                self._leaves[node] = self._records_holding(node)
            return self._leaves[node]
        if isinstance(node, Not):
            return np.zeros(self.records, dtype=bool)
        sought = [part for part in node.parts if not isinstance(part, Not)]
        if not sought:
            return np.zeros(self.records, dtype=bool)
        found = self.records_of(sought[0]).copy()
        for part in sought[1:]:
            if isinstance(node, AllOf):
                found &= self.records_of(part)
            else:
                found |= self.records_of(part)
        for part in node.parts:
            if isinstance(part, Not) and found.any():
                # What an exclusion names is read as a query of its own: `-(a -b)`
                # takes away the records with a and without b.
                found &= ~self.records_of(part.part)
        return found

    def _records_holding(self, leaf: Word | Phrase) -> np.ndarray:
        if isinstance(leaf, Word) and "*" not in leaf.text:
            entries = self._entries_with_word(leaf.text)
        else:
            text = leaf.text if isinstance(leaf, Word) else f'"{leaf.text}"'
            query = expand_patterns(
                self.parse_words(text), self.reader, self.visible, self.deadline
            )
            entries = np.zeros(len(self.visible), dtype=bool)
            ids = np.fromiter(self.searcher.docs_for_query(query), dtype=np.int64)
            entries[ids] = True
        return self._records_of_entries(entries)

    def _records_of_entries(self, entries: np.ndarray) -> np.ndarray:
        found = np.zeros(self.records, dtype=bool)
        found[self.columns.record[np.flatnonzero(entries & self.visible)]] = True
        return found

    def _entries_with_word(self, word: str) -> np.ndarray:
        """The entries whose version holds every term the word becomes in its language."""
        schema = self.reader.schema
        holding = np.zeros(len(self.visible), dtype=bool)
        for language in self.languages:
            terms = word_terms(schema, language, word)
            if not terms:
                continue
            fields = (title_field(language), text_field(language))
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
