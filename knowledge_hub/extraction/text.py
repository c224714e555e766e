"""Collect, tidy and decode text.

``Sink`` collects what a reader finds up to the raw character cap and
returns it normalised; ``SinkFull`` stops a reader once there is enough.
The decoding helpers honour a BOM, then a declared charset, then try UTF-8
and fall back to Windows-1252 (and Latin-1).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from pathlib import Path

from knowledge_hub.extraction.media import MAX_RAW_CHARS
from knowledge_hub.extraction.media import MAX_TEXT_CHARS


class SinkFull(Exception):
    """Signal that enough text has been collected."""


class Sink:
    """Collect text pieces up to the raw character cap."""

    def __init__(self) -> None:
        """Start empty."""
        self.parts: list[str] = []
        self.length = 0
        self.page_count: int | None = None

    def write(self, piece: str) -> None:
        """Append a piece; raise SinkFull once the cap is reached."""
        if not piece:
            return
        room = MAX_RAW_CHARS - self.length
        if len(piece) >= room:
            self.parts.append(piece[:room])
            self.length += room
            raise SinkFull
        self.parts.append(piece)
        self.length += len(piece)

    def clear(self) -> None:
        """Drop everything collected so far."""
        self.parts.clear()
        self.length = 0

    def end_line(self) -> None:
        """End the current line unless it has just ended (table cells hold paragraphs)."""
        if self.parts and not self.parts[-1].endswith("\n"):
            self.write("\n")

    def text(self) -> str:
        """Return the collected text, normalised and capped."""
        return _normalise_text("".join(self.parts))


# --- text normalisation ------------------------------------------------------

_SURROGATES = re.compile("[\ud800-\udfff]")
_DROPPED_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u200b\ufeff]")
_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_SPACE_AROUND_NEWLINE = re.compile(r" ?\n ?")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def _normalise_text(text: str) -> str:
    """Return text with tidy whitespace and no stray control characters, capped in length.

    The cap is MAX_TEXT_CHARS characters. Runs of spaces and tabs collapse
    to one space, lines are trimmed, and at most one blank line is kept
    between paragraphs.
    """
    if _SURROGATES.search(text):
        # RTF and some PDFs encode astral characters as surrogate pairs; join
        # them and replace strays, which could not be stored as UTF-8.
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = _LINE_BREAKS.sub("\n", text)
    text = _DROPPED_CHARS.sub("", text)
    text = _HORIZONTAL_SPACE.sub(" ", text)
    text = _SPACE_AROUND_NEWLINE.sub("\n", text)
    text = _MANY_NEWLINES.sub("\n\n", text)
    text = text.strip()
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS].rstrip()
    return text


# --- decoding ----------------------------------------------------------------


TEXT_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its little-endian BOM begins with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_prefix(data: bytes, encoding: str) -> str:
    """Decode data that may end in the middle of a character."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    return decoder.decode(data, final=False)


def decode_legacy(data: bytes) -> str:
    """Decode non-UTF-8 text as Windows-1252, or Latin-1 where that fails."""
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five byte values undefined; Latin-1 maps every byte.
        return data.decode("latin-1")


def read_capped(path: Path, limit: int) -> tuple[bytes, bool]:
    """Return at most limit bytes of the file and whether it was longer."""
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    return data[:limit], len(data) > limit


def decode_document(data: bytes, truncated: bool, declared: str | None = None) -> str:
    """Decode text honouring a BOM, then a declared charset, then UTF-8, then Windows-1252."""
    for bom, encoding in TEXT_BOMS:
        if data.startswith(bom):
            return _decode_lenient(data[len(bom) :], encoding, truncated)
    if declared:
        return _decode_lenient(data, declared, truncated)
    try:
        if truncated:
            return decode_prefix(data, "utf-8")
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return decode_legacy(data)


def _decode_lenient(data: bytes, encoding: str, truncated: bool) -> str:
    """Decode with replacement characters for bad bytes, ignoring a cut final character."""
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    return decoder.decode(data, final=not truncated)


_READ_CHUNK = 1024 * 1024


def decode_file(
    path: Path,
    limit: int,
    consume: Callable[[str], None],
    restart: Callable[[], None],
    declared: str | None = None,
) -> None:
    """Decode at most limit bytes of a file into consume, a chunk at a time.

    A BOM decides the encoding, then a declared charset; otherwise UTF-8 is
    tried, and if the bytes turn out not to be UTF-8, Windows-1252 and then
    Latin-1 from the start again (restart is called first). Decoding in
    chunks keeps memory flat: consume stops the reading by raising once it
    has enough text.
    """
    with path.open("rb") as handle:
        head = handle.read(4)
        skip = 0
        candidates = ["utf-8", "cp1252", "latin-1"]
        for bom, encoding in TEXT_BOMS:
            if head.startswith(bom):
                candidates, skip = [encoding], len(bom)
                break
        else:
            if declared:
                candidates = [declared]
        for number, encoding in enumerate(candidates):
            last = number == len(candidates) - 1
            if number:
                restart()
            handle.seek(skip)
            decoder = codecs.getincrementaldecoder(encoding)("replace" if last else "strict")
            remaining = limit
            try:
                while remaining > 0:
                    chunk = handle.read(min(_READ_CHUNK, remaining))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                    consume(decoder.decode(chunk))
                # A character cut by the read limit is dropped, not replaced.
                truncated = remaining <= 0 and bool(handle.read(1))
                consume(decoder.decode(b"", final=not truncated))
            except UnicodeDecodeError:
                continue
            return
