"""Extract text in the current process: pick the reader, and turn every failure into a message.

``extract_guarded`` is the body of the sandboxed child process (see
``sandbox``); ``extract_in_process`` runs it without limits.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException

from knowledge_hub.extraction.formats import EXTRACTORS
from knowledge_hub.extraction.media import ACCEPTED_TYPES
from knowledge_hub.extraction.media import NOT_EXTRACTED_REASONS
from knowledge_hub.extraction.media import Damaged
from knowledge_hub.extraction.media import Extraction
from knowledge_hub.extraction.media import reason
from knowledge_hub.extraction.safezip import UnsafeZip
from knowledge_hub.extraction.text import Sink
from knowledge_hub.extraction.text import SinkFull

_ZIP_BOMB_ERROR = (
    "The file looks like a ZIP bomb (it would unpack to far more data than it "
    "holds, or to too many parts), so it was not unpacked."
)
_XML_ENTITY_ERROR = (
    "The document contains XML with a DTD or entity declarations; entities "
    "are not allowed, because they can hide XML bombs or reach external files."
)


def extract_in_process(path: Path, media_type: str) -> Extraction:
    """Extract the text of a file in the current process, without limits.

    This is the body of the child process; use ``extract`` for untrusted
    files. Raises nothing for bad, broken or hostile content.
    """
    return extract_guarded(Path(path), media_type, None)


def extract_guarded(
    path: Path,
    media_type: str,
    memory_mb: int | None,
    on_page: Callable[[str, int, int | None], None] | None = None,
) -> Extraction:
    """Run the extractor for media_type and turn every failure into an Extraction.

    Readers of paged formats hand each page to on_page(text, pages_read,
    page_count) as soon as it is read (see ``Sink``).
    """
    if media_type in NOT_EXTRACTED_REASONS:
        return Extraction("", None, NOT_EXTRACTED_REASONS[media_type])
    extractor = EXTRACTORS.get(media_type)
    if extractor is None:
        label = ACCEPTED_TYPES.get(media_type, media_type)
        return Extraction("", None, f"Text cannot be extracted from files of type {label}.")
    sink = Sink(on_page)
    error: str | None
    try:
        try:
            error = extractor(path, sink)
        except SinkFull:
            error = None
        except UnsafeZip:
            # The extractor's limits refuse only counts, sizes and ratios.
            return Extraction("", None, _ZIP_BOMB_ERROR)
        except Damaged as exc:
            return Extraction("", sink.page_count, str(exc))
        except DefusedXmlException:
            return Extraction("", None, _XML_ENTITY_ERROR)
        except ParseError as exc:
            return Extraction(
                "", None, f"The document is damaged: its XML cannot be read ({reason(exc)})."
            )
        except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError) as exc:
            return Extraction(
                "", None, f"The file is damaged: its ZIP container cannot be read ({reason(exc)})."
            )
        except RecursionError:
            return Extraction("", None, "The file is nested too deeply to be read.")
        except FileNotFoundError:
            return Extraction("", None, "The file could not be found.")
        except OSError as exc:
            return Extraction("", None, f"The file could not be read ({reason(exc)}).")
        text = sink.text()
    except MemoryError:
        # Drop what was collected so the message itself can be built.
        sink.clear()
        return Extraction("", None, memory_message(memory_mb))
    except Exception as exc:  # parsers fail in unforeseeable ways
        return Extraction("", None, f"The file could not be read ({reason(exc)}).")
    return Extraction(text, sink.page_count, error)


def memory_message(memory_mb: int | None) -> str:
    """Return the message for an extraction that ran out of memory."""
    if memory_mb is None:
        return "Extraction ran out of memory."
    return f"Extraction ran out of memory (limit {memory_mb} MB)."
