"""Plain text, as it is written."""

from __future__ import annotations

from pathlib import Path

from knowledge_hub.extraction.formats.registry import register
from knowledge_hub.extraction.media import MAX_TEXT_FILE_BYTES
from knowledge_hub.extraction.media import PLAIN
from knowledge_hub.extraction.text import Sink
from knowledge_hub.extraction.text import decode_file


@register(PLAIN)
def _extract_text(path: Path, sink: Sink) -> str | None:
    """Extract a plain text file."""
    return decode_file(path, MAX_TEXT_FILE_BYTES, sink.write, sink.clear)
