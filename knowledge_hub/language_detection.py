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
