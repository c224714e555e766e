"""Concepts named in the six UN languages: the Task Force's own terms (sse_terms.tsv, in
the repository) and, when THESAURUS_PATH names it, the UN's UNBIS Thesaurus, read at run
time because its terms of use ask for an acknowledgement wherever they are shown
(UNBIS_ACKNOWLEDGEMENT) and the hub does not ship them.

Labels are compared folded (fold()): Unicode NFKD with its combining marks dropped and
lower case, since the UNBIS French and Spanish labels lost their accents and readers
often type without them; Arabic words also lose the conjunction or preposition written
onto their article, as the Arabic analyzer does. Labels are found in a text by their
folded words, except Chinese ones, written without spaces, which are found as
substrings of a run of Chinese characters.

Pure: nothing here knows about Flask or the index; the thesaurus is loaded once per
process and path, on first use."""

from __future__ import annotations

import csv
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from knowledge_hub.search.analyzers import normalize_arabic

#: The columns of a terms file, in order (its header line).
LANGUAGES = ("en", "fr", "es", "ru", "ar", "zh")

#: The Task Force's terms that UNBIS lacks (it was collected in 2016), in the six
#: languages with the UN's own wording, shipped with the hub.
SSE_TERMS = Path(__file__).with_name("sse_terms.tsv")

#: What the UNBIS terms of use ask to be shown wherever its terms are shipped or shown.
UNBIS_ACKNOWLEDGEMENT = "© United Nations, UNBIS Thesaurus, https://metadata.un.org/thesaurus"

#: Labels longer than this many words are not looked for (UNBIS has a few of 8+).
LONGEST_LABEL_WORDS = 8


def _is_word_character(character: str) -> bool:
    # Marks (accents typed as combining characters, Arabic vowel signs) stay inside
    # their word instead of splitting it.
    return character.isalnum() or unicodedata.category(character)[0] == "M"


def is_chinese(character: str) -> bool:
    return "\u3400" <= character <= "\u9fff" or "\uf900" <= character <= "\ufaff"


def fold(text: str) -> str:
    """Text as labels are compared: NFKD without combining marks, lower case, and Arabic
    words normalised as the Arabic analyzer normalises them."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    if any("\u0600" <= c <= "\u06ff" for c in bare):
        return " ".join(normalize_arabic(word) for word in bare.split(" "))
    return bare


@dataclass(frozen=True)
class Token:
    """A word of a text: where it is in the text as written, and its folded form."""

    start: int
    end: int
    folded: str

    @property
    def chinese(self) -> bool:
        return any(is_chinese(c) for c in self.folded)


def tokens(text: str) -> Iterator[Token]:
    """The words of text (runs of letters, digits and marks), folded."""
    start = None
    for place, character in enumerate(f"{text} "):
        if place < len(text) and _is_word_character(character):
            if start is None:
                start = place
        elif start is not None:
            folded = fold(text[start:place])
            if folded:
                yield Token(start, place, folded)
            start = None


@dataclass(frozen=True)
class Concept:
    """One concept's label in each language ("" where it has none), as written."""

    labels: tuple[str, ...]
    #: From UNBIS (the acknowledgement is due where it is shown), else the hub's own.
    unbis: bool

    def label(self, language: str) -> str:
        return self.labels[LANGUAGES.index(language)]


class Thesaurus:
    """Concepts, and their labels indexed for finding them in a query."""

    def __init__(self, concepts: list[Concept]) -> None:
        self.concepts = concepts
        #: Folded words of a label (all languages but Chinese) -> (concept, language).
        self.by_words: dict[tuple[str, ...], list[tuple[int, str]]] = {}
        #: Folded Chinese label -> concepts.
        self.by_chinese: dict[str, list[int]] = {}
        for number, concept in enumerate(concepts):
            for language, label in zip(LANGUAGES, concept.labels, strict=True):
                if not label:
                    continue
                if language == "zh":
                    key = "".join(t.folded for t in tokens(label))
                    if key:
                        self.by_chinese.setdefault(key, []).append(number)
                    continue
                words = tuple(t.folded for t in tokens(label))
                if 0 < len(words) <= LONGEST_LABEL_WORDS:
                    self.by_words.setdefault(words, []).append((number, language))
        self.longest_chinese = max(map(len, self.by_chinese), default=0)

    @property
    def has_unbis(self) -> bool:
        return any(c.unbis for c in self.concepts)


def read_terms(path: Path, *, unbis: bool) -> list[Concept]:
    """The concepts of a terms file: tab-separated, a header line naming LANGUAGES."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(rows, None)
        if header is None or tuple(h.strip() for h in header) != LANGUAGES:
            raise ValueError(f"{path}: the header must be {' '.join(LANGUAGES)}")
        concepts = []
        for row in rows:
            labels = tuple(cell.strip() for cell in row[: len(LANGUAGES)])
            labels += ("",) * (len(LANGUAGES) - len(labels))
            if any(labels):
                concepts.append(Concept(labels, unbis))
    return concepts


_loaded: dict[str | None, Thesaurus] = {}
_loading = threading.Lock()


def thesaurus(unbis_path: str | Path | None) -> Thesaurus:
    """The hub's terms and, when unbis_path is set, UNBIS's: read on first use and kept
    for the process (one per path)."""
    key = str(unbis_path) if unbis_path else None
    found = _loaded.get(key)
    if found is not None:
        return found
    with _loading:
        if key not in _loaded:
            concepts = read_terms(SSE_TERMS, unbis=False)
            if key is not None:
                concepts += read_terms(Path(key), unbis=True)
            _loaded[key] = Thesaurus(concepts)
        return _loaded[key]
