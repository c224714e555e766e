"""The vocabulary shared by the whole package.

Media types, which of them are accepted and which have their text extracted
(with the reason recorded for the others), the size limits on text, the
outcome of an extraction, and the exception and the helper that readers use
for their messages to staff.
"""

from __future__ import annotations

from dataclasses import dataclass

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
HTML = "text/html"
PLAIN = "text/plain"
MARKDOWN = "text/markdown"
RTF = "application/rtf"
EPUB = "application/epub+zip"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"
PPT = "application/vnd.ms-powerpoint"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"

ACCEPTED_TYPES: dict[str, str] = {
    PDF: "PDF",
    DOCX: "Word (DOCX)",
    ODT: "OpenDocument Text (ODT)",
    HTML: "HTML",
    PLAIN: "Plain text",
    MARKDOWN: "Markdown",
    RTF: "Rich Text (RTF)",
    EPUB: "EPUB",
    PPTX: "PowerPoint (PPTX)",
    XLSX: "Excel (XLSX)",
    ODS: "OpenDocument Spreadsheet (ODS)",
    ODP: "OpenDocument Presentation (ODP)",
    DOC: "Word 97-2003 (DOC)",
    XLS: "Excel 97-2003 (XLS)",
    PPT: "PowerPoint 97-2003 (PPT)",
    PNG: "PNG image",
    JPEG: "JPEG image",
    TIFF: "TIFF image",
}

#: The short names people know the extractable types by (mostly the usual suffix).
TYPE_NAMES: dict[str, str] = {
    "pdf": PDF,
    "doc": DOC,
    "docx": DOCX,
    "xls": XLS,
    "xlsx": XLSX,
    "ods": ODS,
    "ppt": PPT,
    "pptx": PPTX,
    "odp": ODP,
    "odt": ODT,
    "rtf": RTF,
    "html": HTML,
    "txt": PLAIN,
    "md": MARKDOWN,
    "epub": EPUB,
}

EXTRACTABLE_TYPES: frozenset[str] = frozenset(
    {PDF, DOCX, ODT, HTML, PLAIN, MARKDOWN, RTF, EPUB, PPTX, XLSX, ODS, ODP, DOC, XLS, PPT}
)

# Accepted for storage only; the reason is recorded as the extraction error.
NOT_EXTRACTED_REASONS: dict[str, str] = {
    PNG: "An image has no text layer, and OCR is not available.",
    JPEG: "An image has no text layer, and OCR is not available.",
    TIFF: "An image has no text layer, and OCR is not available.",
}

MARKDOWN_SUFFIXES = (".md", ".markdown")

# --- limits -------------------------------------------------------------------

MAX_TEXT_CHARS = 10_000_000
# Raw text is collected up to twice the cap, because whitespace normalisation
# usually shrinks it; anything beyond would be cut off anyway.
MAX_RAW_CHARS = 2 * MAX_TEXT_CHARS
# Enough bytes for MAX_TEXT_CHARS characters in any encoding we decode.
MAX_TEXT_FILE_BYTES = 64 * 1024 * 1024
MAX_MARKUP_FILE_BYTES = 256 * 1024 * 1024

SNIFF_BYTES = 64 * 1024


class UnsupportedType(ValueError):
    """Signal a file whose bytes are not one of the accepted types."""

    def __init__(self, description: str) -> None:
        """Build a message for people from a description of what the file seems to be."""
        self.description = description
        super().__init__(f"{description} {_accepted_sentence()}")

    def __reduce__(self) -> tuple[type[UnsupportedType], tuple[str]]:
        """Pickle by description, so the accepted types are not appended twice."""
        return (type(self), (self.description,))


def _accepted_sentence() -> str:
    """Return a sentence listing the accepted file types."""
    labels = list(ACCEPTED_TYPES.values())
    return "Accepted types are: " + ", ".join(labels[:-1]) + f" and {labels[-1]}."


@dataclass(frozen=True)
class Extraction:
    """Hold the outcome of extracting the text of one file."""

    text: str
    page_count: int | None
    error: str | None


class Damaged(Exception):
    """Signal content that cannot be read, with a message for staff."""


def password_message(what: str) -> str:
    """Return the message for a document whose text is locked by a password.

    what names the document for staff, e.g. "Word document".
    """
    return (
        f"The {what} is protected by a password, so its text cannot be read: "
        "upload an unprotected copy."
    )


def reason(exc: BaseException) -> str:
    """Return a short, single-line description of an exception."""
    message = str(exc).strip() or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        message = exc.strerror
    message = " ".join(message.split())
    if len(message) > 200:
        return message[:197] + "..."
    # Callers end their sentence themselves.
    return message.rstrip(".")
