"""Tell what an uploaded file is from its bytes, and pull its text out safely.

This package is deliberately pure: it imports nothing else from the project
and knows nothing about Flask or the database, so it can be preloaded into a
small fork server and run in throw-away child processes.

Two halves:

* ``sniff`` / ``sniff_file`` decide the media type from the bytes alone. The
  client's file name and declared type are never trusted; the name is consulted
  only to tell Markdown from plain text once the bytes are known to be text
  (and from HTML that only opens with an element, as Markdown may).
* ``extract`` runs ``extract_in_process`` in a child process with a wall-clock,
  CPU and address-space limit, because document parsers fed hostile input can
  loop, balloon or crash, and none of that may reach the web server.

Modules:

* ``media``: the media types, which are accepted and which have their text
  extracted (and why not), ``UnsupportedType``, ``Extraction``, the limits on
  text, and ``Damaged`` and ``reason`` for the readers' messages.
* ``sources``: random access to a file or to an in-memory prefix of one.
* ``sniff``: ``sniff`` and ``sniff_file``: signatures, text, RTF, HTML and SVG
  detection, and a look inside OLE2 compound files (with ``formats.ole``) and
  ZIP containers.
* ``safezip``: a bounded reader of ZIP central directories, and ``SafeZip``,
  which reads the members of untrusted archives within a caller's
  ``ZipLimits`` (``EXTRACTION_LIMITS`` here) and refuses with ``UnsafeZip``;
  the bulk import unpacks uploaded folders with it too.
* ``text``: the ``Sink`` that collects text up to its cap, text
  normalisation, and decoding (BOM, declared charset, UTF-8, then the encoding
  charset-normalizer finds, and Windows-1252).
* ``core``: ``extract_in_process`` and the guarded dispatch that picks the
  reader and turns every failure into an ``Extraction`` with a message.
* ``sandbox``: ``extract``: the fork server, the child process with its
  limits, and the messages for children that die without a result.
* ``outcome``: ``text_outcome``, which reads a stored text and message back
  into a state (complete, partial, needs OCR, password, failed) and, for a
  partial one, the pages missing and what stopped them.
* ``ocr``: ``read_page``, a scanned PDF page rendered by PDFium and read by
  the ``tesseract`` program in a child process with its own limits, and
  ``read_text_layer``, the tidy text of each page; the OCR worker
  (services/ocr.py) imports it, the fork server does not preload it.
* ``formats``: one reader per format (``plain``, ``markdown``, ``html``,
  ``rtf``, ``pdf``, ``docx``, ``doc``, ``odf``, ``pptx``, ``ppt``, ``sheets``,
  ``epub``), registered by media type, with ``xmlparts`` for the ZIP-based
  ones and ``ole`` for the compound files.

The fork server preloads this package by name; through ``core`` it imports
``formats``, which imports every reader, so each child starts with all
parsers loaded.
"""

from __future__ import annotations

from knowledge_hub.extraction import formats  # noqa: F401 (every reader is preloaded)
from knowledge_hub.extraction.core import extract_in_process
from knowledge_hub.extraction.media import ACCEPTED_TYPES
from knowledge_hub.extraction.media import DOC as DOC
from knowledge_hub.extraction.media import DOCX as DOCX
from knowledge_hub.extraction.media import EPUB as EPUB
from knowledge_hub.extraction.media import EXTRACTABLE_TYPES
from knowledge_hub.extraction.media import HTML as HTML
from knowledge_hub.extraction.media import JPEG as JPEG
from knowledge_hub.extraction.media import MARKDOWN as MARKDOWN
from knowledge_hub.extraction.media import MARKDOWN_SUFFIXES as MARKDOWN_SUFFIXES
from knowledge_hub.extraction.media import MAX_TEXT_CHARS as MAX_TEXT_CHARS
from knowledge_hub.extraction.media import ODP as ODP
from knowledge_hub.extraction.media import ODS as ODS
from knowledge_hub.extraction.media import ODT as ODT
from knowledge_hub.extraction.media import PDF as PDF
from knowledge_hub.extraction.media import PLAIN as PLAIN
from knowledge_hub.extraction.media import PNG as PNG
from knowledge_hub.extraction.media import PPT as PPT
from knowledge_hub.extraction.media import PPTX as PPTX
from knowledge_hub.extraction.media import RTF as RTF
from knowledge_hub.extraction.media import SNIFF_BYTES as SNIFF_BYTES
from knowledge_hub.extraction.media import TIFF as TIFF
from knowledge_hub.extraction.media import TYPE_NAMES
from knowledge_hub.extraction.media import XLS as XLS
from knowledge_hub.extraction.media import XLSX as XLSX
from knowledge_hub.extraction.media import Extraction
from knowledge_hub.extraction.media import UnsupportedType
from knowledge_hub.extraction.outcome import Stop
from knowledge_hub.extraction.outcome import TextOutcome
from knowledge_hub.extraction.outcome import TextState
from knowledge_hub.extraction.outcome import text_outcome
from knowledge_hub.extraction.safezip import MAX_ZIP_MEMBERS as MAX_ZIP_MEMBERS
from knowledge_hub.extraction.safezip import MAX_ZIP_RATIO as MAX_ZIP_RATIO
from knowledge_hub.extraction.safezip import MAX_ZIP_TOTAL_BYTES as MAX_ZIP_TOTAL_BYTES
from knowledge_hub.extraction.sandbox import extract
from knowledge_hub.extraction.sniff import sniff
from knowledge_hub.extraction.sniff import sniff_file

__all__ = [
    "ACCEPTED_TYPES",
    "EXTRACTABLE_TYPES",
    "Extraction",
    "Stop",
    "TYPE_NAMES",
    "TextOutcome",
    "TextState",
    "UnsupportedType",
    "extract",
    "extract_in_process",
    "sniff",
    "sniff_file",
    "text_outcome",
]
