"""One reader per format, and the registry through which the dispatcher finds them.

Each module registers its reader with ``registry.register(media_type)``;
importing this package imports every one of them, so ``EXTRACTORS`` is
complete once this package is loaded. A new format is a new module here,
imported below, whose media type is also added to ``media`` (accepted,
extractable) and to the hostile-file tests.

* ``plain``: plain text.
* ``markdown``: Markdown, rendered to its text with markdown-it-py.
* ``html``: HTML (and the HTML-to-text conversion EPUB uses).
* ``rtf``: RTF.
* ``pdf``: PDF.
* ``docx``: Word (DOCX).
* ``doc``: Word 97-2003 and Word 6/95 (DOC).
* ``odf``: OpenDocument Text (ODT) and Presentation (ODP).
* ``pptx``: PowerPoint (PPTX).
* ``ppt``: PowerPoint 97-2003 (PPT).
* ``sheets``: spreadsheets (XLSX, XLS, ODS), through python-calamine.
* ``epub``: EPUB.
* ``xmlparts``: walking XML parts and following OOXML relationships, for the
  ZIP-based formats.
* ``ole``: opening OLE2 compound files (DOC, XLS, PPT) within bounds, and
  telling them apart; ``sniff`` uses it too.
"""

from __future__ import annotations

from knowledge_hub.extraction.formats import doc
from knowledge_hub.extraction.formats import docx
from knowledge_hub.extraction.formats import epub
from knowledge_hub.extraction.formats import html
from knowledge_hub.extraction.formats import markdown
from knowledge_hub.extraction.formats import odf
from knowledge_hub.extraction.formats import pdf
from knowledge_hub.extraction.formats import plain
from knowledge_hub.extraction.formats import ppt
from knowledge_hub.extraction.formats import pptx
from knowledge_hub.extraction.formats import rtf
from knowledge_hub.extraction.formats import sheets
from knowledge_hub.extraction.formats.registry import EXTRACTORS
from knowledge_hub.extraction.formats.registry import Extractor
from knowledge_hub.extraction.formats.registry import register

__all__ = [
    "EXTRACTORS",
    "Extractor",
    "doc",
    "docx",
    "epub",
    "html",
    "markdown",
    "odf",
    "pdf",
    "plain",
    "ppt",
    "pptx",
    "register",
    "rtf",
    "sheets",
]
