"""Read a stored extraction back: text in full, text in part, or no text, and why.

The hub stores what ``extract`` returned: the text and the message
(``Extraction.error``). A message beside text means some of the file could
not be read: a PDF stopped by the time or memory limit keeps the pages read
before ("Read pages 1–40 of 352 before the time limit (60 s); pages 41–352
are missing."), one whose pages are mostly scans says which have no text
layer, one with a broken page names it. A message without text says why there
is none. ``text_outcome`` turns the two back into a state, the pages missing
and what stopped them, for the listings that group files by reason and for
the sentence shown to staff. It reads the messages this package writes (those
of ``sandbox`` and the readers, and those of earlier versions stored before),
so it lives beside them; tests feed it the readers' real messages.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class TextState(enum.StrEnum):
    """What became of a file's text."""

    #: The whole text was read.
    COMPLETE = "complete"
    #: Some text was read; the message says what is missing.
    PARTIAL = "partial"
    #: No text: the file is scanned pages or an image, and OCR is not available.
    NEEDS_OCR = "needs_ocr"
    #: No text: the file is protected by a password (or an encryption it cannot open).
    PASSWORD = "password"
    #: No text: the file is damaged, its reading was stopped, or it holds none.
    FAILED = "failed"


class Stop(enum.StrEnum):
    """Why the missing pages of a partly read file could not be read."""

    TIME_LIMIT = "time_limit"
    MEMORY_LIMIT = "memory_limit"
    SCANNED = "scanned"
    DAMAGED = "damaged"
    OTHER = "other"


#: Page spans, as (first, last), e.g. ((41, 352),) for pages 41–352.
Spans = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class TextOutcome:
    """A file's text state, and for a partial one which pages are missing and why."""

    state: TextState
    #: The pages known to be missing (empty when the message does not name them).
    missing: Spans = ()
    #: When only the pages read are known: the last of them (the rest is missing).
    missing_after: int | None = None
    stop: Stop | None = None

    @property
    def missing_count(self) -> int:
        """How many pages are named as missing."""
        return sum(last - first + 1 for first, last in self.missing)

    def missing_pages(self) -> str:
        """The missing pages as numbers and ranges: "41–352", "4", "3, 5–9"."""
        return ", ".join(
            str(first) if first == last else f"{first}\u2013{last}" for first, last in self.missing
        )


# The forms of page_ranges (extraction.text): "page 4", "pages 1–3, 5–6", with " of N"
# after them when the page count is known.
_PAGES = r"pages? (?P<{name}>\d+(?:\u2013\d+)?(?:, \d+(?:\u2013\d+)?)*)(?: of \d+)?"
_MISSING = re.compile(_PAGES.format(name="pages") + " (?:is|are) missing")
_READ_THEN_REST = re.compile(
    r"(?:Read|Only) " + _PAGES.format(name="pages") + r".*the rest is missing"
)
_NO_TEXT_LAYER_ON = re.compile("No text layer on " + _PAGES.format(name="pages"))
_BROKEN_PAGE = re.compile(r"damaged or truncated: page (?P<pages>\d+):")

_PASSWORD_WORDS = re.compile(r"password|encrypted", re.IGNORECASE)
_OCR_WORDS = re.compile(r"\bOCR\b|scanned|no text layer", re.IGNORECASE)


def text_outcome(has_text: bool, message: str | None) -> TextOutcome:
    """Tell the state of a file's text from whether it has any and the stored message."""
    message = (message or "").strip()
    if has_text:
        if not message:
            return TextOutcome(TextState.COMPLETE)
        return _partial(message)
    if _PASSWORD_WORDS.search(message):
        return TextOutcome(TextState.PASSWORD)
    if _OCR_WORDS.search(message):
        return TextOutcome(TextState.NEEDS_OCR)
    return TextOutcome(TextState.FAILED)


def _partial(message: str) -> TextOutcome:
    stop = _stop(message)
    for pattern in (_MISSING, _NO_TEXT_LAYER_ON, _BROKEN_PAGE):
        found = pattern.search(message)
        if found:
            return TextOutcome(TextState.PARTIAL, _spans(found.group("pages")), None, stop)
    found = _READ_THEN_REST.search(message)
    if found:
        last_read = _spans(found.group("pages"))[-1][1]
        return TextOutcome(TextState.PARTIAL, (), last_read, stop)
    return TextOutcome(TextState.PARTIAL, (), None, stop)


def _stop(message: str) -> Stop:
    if "time limit" in message or "took longer than" in message:
        return Stop.TIME_LIMIT
    if "out of memory" in message:
        return Stop.MEMORY_LIMIT
    if _OCR_WORDS.search(message):
        return Stop.SCANNED
    if "damaged" in message or "truncated" in message:
        return Stop.DAMAGED
    return Stop.OTHER


def _spans(described: str) -> Spans:
    spans = []
    for part in described.split(", "):
        first, __, last = part.partition("\u2013")
        spans.append((int(first), int(last or first)))
    return tuple(spans)
