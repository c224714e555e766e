"""PDF: the text layer, page by page, through PDFium (pypdfium2), with pypdf for Arabic pages.

PDFium is the main reader. pypdf, the reader before it, left CID-font
garbage, glyph names ("g3", "g135"), glued words and unresolved ligatures in
some PDFs; PDFium also spaces words that are only placed apart. Measured with pypdfium2 5.15.2
(PDFium 159), pypdf 7.1.0 and pdftotext (poppler 22.12) on the PDFs of the
shared real files, as the share of pdftotext's words (NFKC, case-folded,
with repeats) that each recovers after this package's clean-up: PDFium 1.000
on the hyperspot, graph_ocred, multipage and multicolumn files (pypdf 0.974
on hyperspot's international file, where it glues words), 0.995 on
google-doc (pypdf 0.984), 0.968 on GeoTopo (pypdf 0.929), where what is left
is in formulas ("R²" as "r2" or "r 2"), not in the prose. Speed on GeoTopo (117
pages): PDFium 0.34 s, pdftotext 1.0 s, pypdf 7.2 s.

PDFium is not thread-safe, so it is only ever called in the sandboxed child
process. It is imported inside the reader, not at the top of this module,
because the web process imports this package too (to sniff uploads); the
fork server preloads it instead (see ``sandbox``), so each child starts with
the library loaded and initialised once.

Arabic. A PDF draws Arabic glyphs in visual order, from the left, and a
reader must put the letters back into logical order; lam-alef ("لا") is one
glyph standing for two letters. Measured on four kinds of file (the last two
written by the tests with fpdf2):

==============================  ===========================  ======================
file                            PDFium                       pypdf
==============================  ===========================  ======================
hyperspot two_pages_inter-      right: "مرحبا بالعالم"        words glued:
national (LibreOffice)                                       "مرحبابالعالم"
pypdf habibi (WeasyPrint: one   reversed, "يبيبَح", with      right: "حَبيبي habibi
glyph carries a whole word)     junk ("ϲΒϴΒ")                 حَبيبي"
shaped glyphs whose text is     every lam-alef as "ال":      right: "اللائحة الداخلية
letters, the lam-alef glyph     "الالئحة الداخلية ال تسمح"    لا تسمح"
"لا" (as word processors that
shape with HarfBuzz write)
presentation forms (ﻻ, ﺍ),      right                        right once NFKC makes
as older generators write                                    the forms letters
==============================  ===========================  ======================

pdftotext makes PDFium's two mistakes too. So a page whose letters are at
least a third Arabic script is also read with pypdf, and pypdf's reading is
kept when it is the same text (nearly the same letters, and no more than a
tenth of the Arabic words lost by gluing); otherwise PDFium's stays. Pages
with less Arabic (an English page quoting an Arabic phrase) keep PDFium's
reading, and are never read twice.

Pages: the text of each page goes to the sink as soon as it is read, so that
the pages read before a time or memory limit stops the child are kept (see
``sandbox``). Pages without text that draw an image are scanned pages: the
message names them (all of them: "No text layer"; some: "No text layer on
pages 1–3 of 6"), and OCR reads those pages in the background.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from knowledge_hub.extraction.formats.registry import register
from knowledge_hub.extraction.media import PDF
from knowledge_hub.extraction.media import Damaged
from knowledge_hub.extraction.media import reason
from knowledge_hub.extraction.text import Sink
from knowledge_hub.extraction.text import SinkFull
from knowledge_hub.extraction.text import normalise_text
from knowledge_hub.extraction.text import page_ranges

_NO_TEXT_LAYER = "No text layer: the PDF looks like a scanned image, and OCR is not available."
_PASSWORD = (
    "The PDF is protected by a password, so its text cannot be read: "
    "upload a copy without the password."
)
_UNSUPPORTED_SECURITY = (
    "The PDF is encrypted in a way that cannot be read: upload a copy without the protection."
)

# Arabic script: the Arabic, Arabic Supplement and Arabic Extended-A and -B
# blocks (presentation forms become these letters under NFKC).
_ARABIC_LETTER = re.compile("[\u0600-\u06ff\u0750-\u077f\u0870-\u08ff]")
# The same with the presentation forms, to skip pages without Arabic at once.
_ANY_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u0870-\u08ff\ufb50-\ufdff\ufe70-\ufefc]")
_ARABIC_SHARE = 1 / 3
# Anything but white space and control characters (a text layer of those is none).
_VISIBLE = re.compile("[^\\s\x00-\x1f\x7f-\x9f\ufffe]")


@register(PDF)
def _extract_pdf(path: Path, sink: Sink) -> str | None:
    """Extract the text layer of a PDF, page by page."""
    import pypdfium2

    document = _open(pypdfium2, path)
    try:
        sink.page_count = len(document)
        if sink.page_count == 0:
            return "The PDF has no pages."
        return _read_pages(pypdfium2, document, path, sink)
    finally:
        document.close()


def _open(pypdfium2: Any, path: Path) -> Any:
    """Open a PDF with PDFium, trying the empty user password; raise Damaged if it cannot."""
    raw = pypdfium2.raw
    # The raw call, because the PdfDocument constructor treats a PDF without
    # pages as a failure, and reports it with whatever error came last.
    handle = raw.FPDF_LoadDocument(os.fsencode(path), None)
    if handle:
        return pypdfium2.PdfDocument(handle)
    code = raw.FPDF_GetLastError()
    if code == raw.FPDF_ERR_PASSWORD:
        raise Damaged(_PASSWORD)
    if code == raw.FPDF_ERR_SECURITY:
        raise Damaged(_UNSUPPORTED_SECURITY)
    if code == raw.FPDF_ERR_FILE:
        path.open("rb").close()  # raises the real reason: missing, unreadable...
        raise Damaged("The PDF could not be opened.")
    if code == raw.FPDF_ERR_FORMAT:
        raise Damaged("The PDF is damaged or truncated: its structure cannot be read.")
    raise Damaged(f"The PDF is damaged or truncated: PDFium cannot open it (error {code}).")


def _read_pages(pypdfium2: Any, document: Any, path: Path, sink: Sink) -> str | None:
    """Write the text of every page to the sink; return a message about what was missing."""
    count = len(document)
    scanned: list[int] = []
    found_text = False
    first_failure: str | None = None
    second = _SecondReader(path)
    for number in range(1, count + 1):
        try:
            text, has_image = _page_text(pypdfium2, document, number - 1)
        except (SinkFull, MemoryError):
            raise
        except Exception as exc:  # one broken page must not lose the rest
            first_failure = first_failure or (
                f"The PDF is damaged or truncated: page {number}: {reason(exc)}."
            )
            sink.end_page()
            continue
        if _mostly_arabic(text):
            text = _better_arabic_reading(text, second.page_text(number - 1))
        sink.write(text)
        sink.end_page()
        if sink.pages[-1]:
            found_text = True
        elif has_image:
            scanned.append(number)
    if first_failure:
        return first_failure
    if not found_text:
        return _NO_TEXT_LAYER if scanned else "The PDF contains no text."
    # Named however few, so that OCR reads exactly these pages (services/ocr.py).
    if len(scanned) == 1:
        return (
            f"No text layer on {page_ranges(scanned, count)}: it looks like a scanned image, "
            "and OCR is not available."
        )
    if scanned:
        return (
            f"No text layer on {page_ranges(scanned, count)}: they look like scanned images, "
            "and OCR is not available."
        )
    return None


def _page_text(pypdfium2: Any, document: Any, index: int) -> tuple[str, bool]:
    """Return the text of a page, and for a page without text whether it draws an image."""
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            # The bounded form, unlike get_text_range, is not limited to UCS-2.
            text = textpage.get_text_bounded()
        finally:
            textpage.close()
        if _VISIBLE.search(text):
            return text, False
        # Only a page without text needs the image check (a sign of a scan).
        image = next(page.get_objects(filter=[pypdfium2.raw.FPDF_PAGEOBJ_IMAGE]), None)
        return text, image is not None
    finally:
        page.close()


def _mostly_arabic(text: str) -> bool:
    """Tell whether at least a third of the letters of a page are Arabic script."""
    if _ANY_ARABIC.search(text) is None:
        return False
    letters = [char for char in normalise_text(text) if char.isalpha()]
    if not letters:
        return False
    arabic = sum(1 for char in letters if _ARABIC_LETTER.match(char))
    return arabic >= _ARABIC_SHARE * len(letters)


def _better_arabic_reading(pdfium_text: str, pypdf_text: str | None) -> str:
    """Return pypdf's reading of an Arabic page when it is the same text as PDFium's.

    The same text: pypdf's letters are nearly all among PDFium's (it is not
    reading garbage), it has most of PDFium's letters (it has not lost a
    part), and it has at least nine tenths as many Arabic words (it has not
    glued them together, as it does on LibreOffice's files).
    """
    if not pypdf_text:
        return pdfium_text
    ours, theirs = normalise_text(pdfium_text), normalise_text(pypdf_text)
    our_letters = Counter(char for char in ours.casefold() if char.isalpha())
    their_letters = Counter(char for char in theirs.casefold() if char.isalpha())
    common = sum((our_letters & their_letters).values())
    if common < 0.9 * sum(their_letters.values()) or common < 0.75 * sum(our_letters.values()):
        return pdfium_text
    if _arabic_words(theirs) < 0.9 * _arabic_words(ours):
        return pdfium_text
    return pypdf_text


def _arabic_words(text: str) -> int:
    """Count the words that hold Arabic letters."""
    return sum(1 for word in text.split() if _ARABIC_LETTER.search(word))


class _SecondReader:
    """pypdf on the same file, opened only when a page needs a second reading."""

    def __init__(self, path: Path) -> None:
        """Remember the file; nothing is read yet."""
        self.path = path
        self.reader: Any = None
        self.failed = False

    def page_text(self, index: int) -> str | None:
        """Return pypdf's text of a page, or None if pypdf cannot read it."""
        if self.failed:
            return None
        try:
            if self.reader is None:
                reader = PdfReader(self.path, strict=False)
                if reader.is_encrypted:
                    reader.decrypt("")
                self.reader = reader
            if index >= len(self.reader.pages):
                return None
            return self.reader.pages[index].extract_text() or ""
        except (SinkFull, MemoryError):
            raise
        except Exception:  # a second opinion only; PDFium's reading stands
            self.failed = True
            return None
