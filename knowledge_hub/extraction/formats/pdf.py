"""PDF: the text layer, page by page, through pypdf."""

from __future__ import annotations

from pathlib import Path

from pypdf import PasswordType
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError
from pypdf.errors import LimitReachedError

from knowledge_hub.extraction.formats.registry import register
from knowledge_hub.extraction.media import PDF
from knowledge_hub.extraction.media import Damaged
from knowledge_hub.extraction.media import reason
from knowledge_hub.extraction.text import Sink
from knowledge_hub.extraction.text import SinkFull

_NO_TEXT_LAYER = "No text layer: the PDF looks like a scanned image, and OCR is not available."


@register(PDF)
def _extract_pdf(path: Path, sink: Sink) -> str | None:
    """Extract the text layer of a PDF, page by page."""
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            # Many PDFs are "encrypted" with an empty password only to set
            # permissions; those open fine.
            try:
                opened = reader.decrypt("")
            except Exception as exc:  # missing crypto backends raise their own errors
                raise FileNotDecryptedError(str(exc)) from exc
            if opened == PasswordType.NOT_DECRYPTED:
                raise FileNotDecryptedError("a password is needed")
        pages = reader.pages
        sink.page_count = len(pages)
    except (SinkFull, MemoryError):
        raise
    except LimitReachedError as exc:
        raise Damaged(f"The PDF exceeds a safety limit and was not read: {reason(exc)}.") from exc
    except FileNotDecryptedError as exc:
        raise Damaged("The PDF is protected by a password, so its text cannot be read.") from exc
    except Exception as exc:  # pypdf raises many kinds of errors on bad input
        raise Damaged(f"The PDF is damaged or truncated: {reason(exc)}.") from exc

    if sink.page_count == 0:
        return "The PDF has no pages."
    first_failure: str | None = None
    found_text = False
    for number in range(sink.page_count):
        try:
            page = pages[number]
            text = page.extract_text() or ""
        except (SinkFull, MemoryError):
            raise
        except LimitReachedError as exc:
            first_failure = first_failure or (
                f"The PDF exceeds a safety limit on page {number + 1}: {reason(exc)}."
            )
            continue
        except FileNotDecryptedError:
            return "The PDF is protected by a password, so its text cannot be read."
        except Exception as exc:  # one broken page must not lose the rest
            first_failure = first_failure or (
                f"The PDF is damaged or truncated: page {number + 1}: {reason(exc)}."
            )
            continue
        if text.strip():
            found_text = True
        sink.write(text)
        sink.write("\n\n")
    if first_failure:
        return first_failure
    if not found_text:
        if _pdf_has_images(reader):
            return _NO_TEXT_LAYER
        return "The PDF contains no text."
    return None


def _pdf_has_images(reader: PdfReader) -> bool:
    """Tell whether any of the first pages draws an image (a sign of a scan)."""
    try:
        for number in range(min(len(reader.pages), 50)):
            resources = reader.pages[number].get("/Resources")
            if resources is None:
                continue
            xobjects = resources.get_object().get("/XObject")
            if xobjects is None:
                continue
            for item in xobjects.get_object().values():
                if item.get_object().get("/Subtype") == "/Image":
                    return True
    except (SinkFull, MemoryError):
        raise
    except Exception:  # only a hint for the message
        return True
    return False
