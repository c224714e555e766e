"""The readers by media type, filled by the ``register`` decorator.

A reader takes the path of a file and a ``Sink`` to write its text into,
and returns None, or a message for staff that is recorded as the
extraction error next to whatever text it found. It raises ``Damaged``
with a message for content it cannot read; ``core`` turns anything else it
raises into a message (``SinkFull`` only ends the reading).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from knowledge_hub.extraction.text import Sink

Extractor = Callable[[Path, Sink], "str | None"]

EXTRACTORS: dict[str, Extractor] = {}


def register(*media_types: str) -> Callable[[Extractor], Extractor]:
    """Return a decorator that makes a function the reader of media_types."""

    def decorate(extractor: Extractor) -> Extractor:
        for media_type in media_types:
            if media_type in EXTRACTORS:
                raise ValueError(f"A reader for {media_type} is already registered.")
            EXTRACTORS[media_type] = extractor
        return extractor

    return decorate
