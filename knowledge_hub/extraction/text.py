"""Collect, tidy and decode text.

``Sink`` collects what a reader finds up to the raw character cap and
returns it normalised; ``SinkFull`` stops a reader once there is enough.
The decoding helpers honour a BOM, then a declared charset, then try UTF-8;
when that encoding does not fit the bytes, charset-normalizer finds the one
that does, and Windows-1252 is the last resort.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import charset_normalizer

from knowledge_hub.extraction.media import MAX_RAW_CHARS
from knowledge_hub.extraction.media import MAX_TEXT_CHARS


class SinkFull(Exception):
    """Signal that enough text has been collected."""


class Sink:
    """Collect text pieces up to the raw character cap.

    Readers of paged formats call ``end_page`` after each page: the page is
    tidied at once (which frees its raw pieces), kept, and handed to
    ``on_page`` when one is given, so that a caller can keep the pages read
    so far if the reader is stopped later. ``page_count`` is the number of
    pages the document says it has, when the reader knows it.
    """

    def __init__(self, on_page: Callable[[str, int, int | None], None] | None = None) -> None:
        """Start empty; on_page(text, pages_read, page_count) is called after each page."""
        self.parts: list[str] = []
        self.length = 0
        self.page_count: int | None = None
        self.pages: list[str] = []
        self._on_page = on_page

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

    def end_page(self) -> None:
        """Close the current page: tidy its text, keep it, and report it."""
        page = normalise_text("".join(self.parts))
        self.parts.clear()
        self.pages.append(page)
        if self._on_page is not None:
            self._on_page(page, len(self.pages), self.page_count)

    def clear(self) -> None:
        """Drop everything collected so far."""
        self.parts.clear()
        self.pages.clear()
        self.length = 0

    def end_line(self) -> None:
        """End the current line unless it has just ended (table cells hold paragraphs)."""
        if self.parts and not self.parts[-1].endswith("\n"):
            self.write("\n")

    def text(self) -> str:
        """Return the collected text, normalised and capped."""
        if not self.pages:
            return normalise_text("".join(self.parts))
        pieces = [*self.pages, normalise_text("".join(self.parts))]
        return join_pages(pieces)


def join_pages(pages: list[str]) -> str:
    """Join tidy page texts with a blank line, skipping empty pages, within the text cap."""
    text = "\n\n".join(page for page in pages if page)
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS].rstrip()
    return text


def page_ranges(numbers: Iterable[int], total: int | None = None) -> str:
    """Describe page numbers in ranges: "page 4", "pages 1–3, 5–6 of 6"."""
    spans: list[list[int]] = []
    for number in sorted(set(numbers)):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    single = len(spans) == 1 and spans[0][0] == spans[0][1]
    described = ", ".join(str(a) if a == b else f"{a}\u2013{b}" for a, b in spans)
    of = f" of {total}" if total is not None else ""
    return f"{'page' if single else 'pages'} {described}{of}"


# --- text normalisation ------------------------------------------------------

_SURROGATES = re.compile("[\ud800-\udfff]")
_LETTER = "[^\\W\\d_]"
# PDFium replaces a hyphen that breaks a word at the end of a line with U+0002
# (U+FFFE through its UCS-2 interface) and joins the two halves. Before a
# capital the hyphen belongs to a compound ("Schwarz-Weiß"), so it is put back.
_PDFIUM_HYPHEN = re.compile(f"(?<!{_LETTER})({_LETTER}+)[\x02\ufffe](?:\r\n?|\n)?({_LETTER}+)")
_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
# A soft hyphen at the end of a line marks where a word was broken.
_SOFT_HYPHEN_BREAK = re.compile(f"(?<={_LETTER})\u00ad[^\\S\n]*\n[^\\S\n]*(?={_LETTER})")
# C0 and C1 controls except tab and line ends, soft hyphens, zero-width spaces,
# byte order marks, and the noncharacters U+FFFE and U+FFFF.
_DROPPED_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u200b\ufeff\ufffe\uffff]")
# Full-width punctuation and symbols (the letters and digits are left out).
_FULL_WIDTH_PUNCTUATION = re.compile("([\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff64])")
# Runs of horizontal space that are not already one plain space: a page holds
# thousands of single spaces, and rewriting each would cost more than the rest.
_HORIZONTAL_SPACE = re.compile(r" [^\S\n]+|[^\S\n ][^\S\n]*")
_SPACE_AROUND_NEWLINE = re.compile(r" \n ?|\n ")
_MANY_NEWLINES = re.compile(r"\n{3,}")
# A word broken by a hyphen at the end of a line (one line break, not a paragraph).
# Each pattern that starts with a run of letters starts only where a run does,
# so that a long unbroken run (Chinese has no spaces) is scanned once, not once
# per character.
_LINE_END_HYPHEN = re.compile(f"(?<!{_LETTER})({_LETTER}+)[-\u2010]\n({_LETTER}+)")
_WORD = re.compile(f"{_LETTER}+(?:[-\u2010]{_LETTER}+)*")


def normalise_text(text: str) -> str:
    """Return text tidied for storage and search, capped in length.

    - Unicode NFKC: ligatures (ﬁ), Arabic presentation forms, full-width
      letters and digits and other compatibility characters become the
      ordinary characters that people type and search for. It also flattens
      superscripts (x² → x2) and fractions, which is acceptable for search.
      Full-width punctuation ("，") is how Chinese is written, so it stays.
    - A word broken by a hyphen at the end of a line is joined again
      (``rejoin_hyphens``), as is one broken at a soft hyphen or where PDFium
      left its hyphenation mark.
    - Control characters, soft hyphens, zero-width spaces and byte order
      marks are dropped; runs of spaces and tabs collapse to one space, lines
      are trimmed, and at most one blank line is kept between paragraphs.

    The cap is MAX_TEXT_CHARS characters.
    """
    if _SURROGATES.search(text):
        # RTF and some PDFs encode astral characters as surrogate pairs; join
        # them and replace strays, which could not be stored as UTF-8.
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if "\x02" in text or "\ufffe" in text:
        text = _PDFIUM_HYPHEN.sub(_pdfium_hyphen, text)
    # Each pass runs only when its characters are there: "in" is a fast scan, and
    # a page of text rarely needs more than two of them.
    text = text.replace("\r\n", "\n")
    if _LINE_BREAKS.search(text):
        text = _LINE_BREAKS.sub("\n", text)
    if "\u00ad" in text:
        text = _SOFT_HYPHEN_BREAK.sub("", text)
    text = _DROPPED_CHARS.sub("", text)
    text = _compatibility_forms(text)
    text = _HORIZONTAL_SPACE.sub(" ", text)
    text = _SPACE_AROUND_NEWLINE.sub("\n", text)
    text = rejoin_hyphens(text)
    if "\n\n\n" in text:
        text = _MANY_NEWLINES.sub("\n\n", text)
    text = text.strip()
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS].rstrip()
    return text


def _compatibility_forms(text: str) -> str:
    """Apply NFKC to text, except to the full-width punctuation of Chinese and Japanese.

    Full-width letters and digits become ASCII, but "，" and "（" are how
    Chinese is written, so they stay (a search matches them either way).
    """
    if unicodedata.is_normalized("NFKC", text):
        return text
    if _FULL_WIDTH_PUNCTUATION.search(text) is None:
        return unicodedata.normalize("NFKC", text)
    pieces = _FULL_WIDTH_PUNCTUATION.split(text)
    # split() with a group alternates text and kept punctuation.
    for index in range(0, len(pieces), 2):
        pieces[index] = unicodedata.normalize("NFKC", pieces[index])
    return "".join(pieces)


def _pdfium_hyphen(match: re.Match[str]) -> str:
    """Drop PDFium's hyphenation mark, or make it a hyphen again before a capital."""
    left, right = match.group(1), match.group(2)
    if _is_compound(left, right):
        return f"{left}-{right}"
    return left + right


def _is_compound(left: str, right: str) -> bool:
    """Tell whether a hyphen between two halves of a word joins a compound.

    A capital after the hyphen starts a new word ("Franco-German",
    "Schwarz-Weiß", "non-UN"), unless the whole word is in capitals.
    """
    return right[0].isupper() and not (left.isupper() and right.isupper())


def rejoin_hyphens(text: str) -> str:
    """Join words broken by a hyphen at the end of a line ("finan-\\ncial" → "financial").

    Both sides must be letters. The hyphen is kept, and only the line break
    removed, when the second half starts with a capital ("Franco-\\nGerman",
    unless the whole word is in capitals),
    or when the text writes the compound with a hyphen elsewhere and never
    as one word ("decision-\\nmaking" where "decision-making" occurs). Otherwise
    the break is taken for hyphenation, as it nearly always is in typeset text.
    """
    if "-\n" not in text and "\u2010\n" not in text:
        return text
    words: set[str] | None = None

    def join(match: re.Match[str]) -> str:
        nonlocal words
        left, right = match.group(1), match.group(2)
        if _is_compound(left, right):
            return f"{left}-{right}"
        if words is None:
            words = {word.casefold() for word in _WORD.findall(text)}
        joined = (left + right).casefold()
        if joined not in words and f"{left}-{right}".casefold() in words:
            return f"{left}-{right}"
        return left + right

    return _LINE_END_HYPHEN.sub(join, text)


# --- decoding ----------------------------------------------------------------


TEXT_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its little-endian BOM begins with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# How much of a file charset-normalizer reads when its encoding has to be found.
DETECT_BYTES = 512 * 1024
# At most this many of the encodings it finds are tried on the whole file.
_MAX_DETECTED = 3
# The legacy encoding of most Western text (and what HTML reads Latin-1 as).
_WESTERN = "cp1252"
# Windows-1252 goes first when charset-normalizer finds its reading at most this
# much messier than the best one, and its language coherence at most this much lower.
_WESTERN_MESS_MARGIN = 0.1
_WESTERN_COHERENCE_MARGIN = 0.01
# Text counts as UTF-8 with a few bad bytes, not as another encoding, when its
# valid multi-byte characters outnumber the bytes that cannot be decoded this many times.
_DAMAGED_UTF8_RATIO = 8


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


def detect_encodings(sample: bytes, complete: bool) -> list[str]:
    """Return the encodings that read sample as text, the likeliest first.

    sample is the start of a file, the whole of it when complete is true.
    charset-normalizer judges the readings; Windows-1252 goes first whenever
    its reading is about as good as the best one, because on short Western
    text, by far the most common in the archive, charset-normalizer ranks the
    Central European and Baltic code pages as high or higher.
    """
    if not complete:
        # Do not judge a character cut in two at the end: no multi-byte
        # encoding but UTF-16 uses a line feed or a space inside a character.
        cut = max(sample.rfind(b"\n"), sample.rfind(b" "))
        if cut > 0:
            sample = sample[: cut + 1]
    matches = list(charset_normalizer.from_bytes(sample))
    names = [_codec_name(match.encoding) for match in matches]
    if matches:
        best = matches[0]
        if any(
            _WESTERN in match.could_be_from_charset
            and match.chaos <= best.chaos + _WESTERN_MESS_MARGIN
            and match.coherence >= best.coherence - _WESTERN_COHERENCE_MARGIN
            for match in matches
        ):
            names.insert(0, _WESTERN)
    return list(dict.fromkeys(names))


def _codec_name(encoding: str) -> str:
    """Return Python's canonical name of an encoding."""
    return codecs.lookup(encoding).name


def _damaged_utf8(sample: bytes) -> bool:
    """Tell UTF-8 text with a few bad bytes from text in another encoding."""
    text = sample.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    # Each valid multi-byte character makes the text shorter than its bytes.
    multibyte = len(sample) - len(text)
    return multibyte > 0 and multibyte >= _DAMAGED_UTF8_RATIO * bad


def _attempts(
    first: str, has_bom: bool, declared: bool, sample: Callable[[], tuple[bytes, bool]]
) -> Iterator[tuple[str, str]]:
    """Yield the encodings to read a file with, each with its error handling.

    first (from a BOM, a declared charset or UTF-8 by default) comes first.
    If it fails, text with a UTF-16 or UTF-32 BOM is read with replacement
    characters. Otherwise sample() gives the start of the file and whether that
    is the whole of it: UTF-8 with a few bad bytes is then read with
    replacement characters; otherwise the encodings charset-normalizer finds,
    then Windows-1252 (not after a UTF-8 BOM), are each tried strictly, and
    the likeliest is finally read with replacement characters.
    """
    yield first, "strict"
    first = _codec_name(first)
    if has_bom and first != "utf-8":
        # A UTF-16 or UTF-32 BOM leaves no doubt: the bytes are damaged.
        yield first, "replace"
        return
    data, complete = sample()
    if first == "utf-8" and _damaged_utf8(data):
        yield first, "replace"
        return
    detected = [name for name in detect_encodings(data, complete) if name != first]
    others = detected[:_MAX_DETECTED]
    if not has_bom and _WESTERN not in others and first != _WESTERN:
        others.append(_WESTERN)
    for encoding in others:
        yield encoding, "strict"
    if detected:
        yield detected[0], "replace"
    elif has_bom or declared:
        yield first, "replace"
    else:
        yield _WESTERN, "replace"


def _first_choice(head: bytes, declared: str | None) -> tuple[str, int]:
    """Return the encoding to try first and the length of the BOM it comes with."""
    for bom, encoding in TEXT_BOMS:
        if head.startswith(bom):
            return encoding, len(bom)
    return declared or "utf-8", 0


def undecodable_message(encoding: str) -> str:
    """Return the message for text that no encoding reads cleanly."""
    name = _codec_name(encoding)
    label = f"Windows-{name[2:]}" if re.fullmatch(r"cp125\d", name) else name.upper()
    return (
        f"Part of the text could not be decoded: it was read as {label}, the encoding "
        "that fits it best, and the bytes that do not fit are shown as \ufffd."
    )


def decode_document(data: bytes, truncated: bool, declared: str | None = None) -> str:
    """Decode text honouring a BOM, then a declared charset, then UTF-8, then what fits.

    See ``decode_file`` for what is tried when that encoding fails; truncated
    says that data is cut short, so that a character cut at its end is dropped.
    """
    first, skip = _first_choice(data, declared)
    body = data[skip:]
    for encoding, errors in _attempts(
        first, skip > 0, bool(declared), lambda: (body[:DETECT_BYTES], not truncated)
    ):
        decoder = codecs.getincrementaldecoder(encoding)(errors)
        try:
            return decoder.decode(body, final=not truncated)
        except UnicodeDecodeError:
            continue
    raise AssertionError("the last attempt replaces what it cannot decode")


_READ_CHUNK = 1024 * 1024


def decode_file(
    path: Path,
    limit: int,
    consume: Callable[[str], None],
    restart: Callable[[], None],
    declared: str | None = None,
) -> str | None:
    """Decode at most limit bytes of a file into consume, a chunk at a time.

    A BOM decides the encoding, then a declared charset, then UTF-8. If the
    bytes turn out not to be in that encoding, the reading starts again from
    the start (restart is called first): the first DETECT_BYTES tell whether
    the file is UTF-8 with a few bad bytes, or else which encodings
    charset-normalizer finds, and those and Windows-1252 are tried in turn.
    Return None, or, when none of them reads the file cleanly, a message for
    staff: the likeliest is then read with replacement characters. Decoding in
    chunks keeps memory flat: consume stops the reading by raising once it has
    enough text.
    """
    with path.open("rb") as handle:
        first, skip = _first_choice(handle.read(4), declared)

        def sample() -> tuple[bytes, bool]:
            handle.seek(skip)
            data = handle.read(min(limit, DETECT_BYTES))
            return data, not handle.read(1)

        for number, (encoding, errors) in enumerate(
            _attempts(first, skip > 0, bool(declared), sample)
        ):
            if number:
                restart()
            if _decode_stream(handle, skip, limit, encoding, errors, consume):
                return undecodable_message(encoding) if errors == "replace" else None
    raise AssertionError("the last attempt replaces what it cannot decode")


def _decode_stream(
    handle: BinaryIO,
    skip: int,
    limit: int,
    encoding: str,
    errors: str,
    consume: Callable[[str], None],
) -> bool:
    """Decode the file from skip into consume; return False if a byte does not fit."""
    handle.seek(skip)
    decoder = codecs.getincrementaldecoder(encoding)(errors)
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
        return False
    return True
