"""RTF, through striprtf."""

from __future__ import annotations

from pathlib import Path

from striprtf.striprtf import rtf_to_text

from knowledge_hub.extraction.formats.registry import register
from knowledge_hub.extraction.media import MAX_MARKUP_FILE_BYTES
from knowledge_hub.extraction.media import RTF
from knowledge_hub.extraction.media import Damaged
from knowledge_hub.extraction.media import reason
from knowledge_hub.extraction.text import Sink
from knowledge_hub.extraction.text import decode_legacy
from knowledge_hub.extraction.text import read_capped


@register(RTF)
def _extract_rtf(path: Path, sink: Sink) -> str | None:
    """Extract an RTF document."""
    data, _ = read_capped(path, MAX_MARKUP_FILE_BYTES)
    # RTF is 7-bit with escapes; stray 8-bit bytes are most likely cp1252.
    source = decode_legacy(data)
    try:
        text = rtf_to_text(source, encoding="cp1252", errors="replace")
    except (ValueError, IndexError, KeyError, LookupError) as exc:
        raise Damaged(f"The RTF file is damaged: {reason(exc)}.") from exc
    sink.write(text)
    return None
