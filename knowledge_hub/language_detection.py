"""Which language a text is written in: a pure function over py3langid's model."""

from __future__ import annotations

from functools import lru_cache

from py3langid.langid import MODEL_FILE
from py3langid.langid import LanguageIdentifier

#: Shorter texts give guesses, not answers.
MIN_CHARACTERS = 40
#: The opening of a document says which language it is in; the rest adds only time.
SAMPLE_CHARACTERS = 5000


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE)


def detect_language(text: str) -> str | None:
    """Return the ISO 639-1 code of the language of text, or None if too short to tell."""
    sample = " ".join(text.split())[:SAMPLE_CHARACTERS]
    if len(sample) < MIN_CHARACTERS:
        return None
    language, __ = _identifier().classify(sample)
    return language


#: The UN languages written in the Latin script, which the model tells apart in a query.
LATIN_LANGUAGES = ("en", "fr", "es")
#: How sure the model must be of a Latin-script query's language: a word or two shared
#: by English, French and Spanish ("social", "ILO") names none of them.
QUERY_CONFIDENCE = 0.8


@lru_cache(maxsize=1)
def _latin_identifier() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LATIN_LANGUAGES))
    return identifier


def _script_language(character: str) -> str | None:
    point = ord(character)
    if 0x0600 <= point <= 0x06FF or 0x0750 <= point <= 0x077F or 0xFB50 <= point <= 0xFEFF:
        return "ar"
    if 0x4E00 <= point <= 0x9FFF or 0x3400 <= point <= 0x4DBF or 0xF900 <= point <= 0xFAFF:
        return "zh"
    if 0x0400 <= point <= 0x052F:
        return "ru"
    return None


def query_language(q: str) -> str | None:
    """The UN language a search query is written in, or None where it cannot be told.

    Arabic, Chinese and Cyrillic letters name their language outright (the most frequent
    script of the query wins); Latin letters are English, French or Spanish when the
    model is sure enough of it, which takes more than a word most often ("travail
    décent", "coopératives", not "social")."""
    counts: dict[str, int] = {}
    for character in q:
        language = _script_language(character)
        if language:
            counts[language] = counts.get(language, 0) + 1
    if counts:
        return max(counts, key=lambda language: counts[language])
    letters = "".join(c if c.isalpha() else " " for c in q).split()
    if not letters:
        return None
    language, confidence = _latin_identifier().classify(" ".join(letters))
    return language if confidence >= QUERY_CONFIDENCE else None
