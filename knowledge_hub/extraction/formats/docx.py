"""Word (DOCX): the body, then footnotes and endnotes, then headers and footers."""

from __future__ import annotations

import posixpath
from pathlib import Path
from xml.etree.ElementTree import Element

from knowledge_hub.extraction.formats.registry import register
from knowledge_hub.extraction.formats.xmlparts import relationships
from knowledge_hub.extraction.formats.xmlparts import walk
from knowledge_hub.extraction.media import DOCX
from knowledge_hub.extraction.media import Damaged
from knowledge_hub.extraction.safezip import SafeZip
from knowledge_hub.extraction.text import Sink

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
# Properties, field codes and deleted text are not document text; properties
# also hold tab-stop definitions that would look like tabs.
_DOCX_SKIPPED = frozenset(
    _W + name
    for name in ("pPr", "rPr", "sectPr", "tblPr", "trPr", "tcPr", "instrText", "delText", "del")
) | {_MC_FALLBACK}
_DOCX_CELL_ENDS = frozenset({_W + "tc", _W + "tr"})


def _docx_text(root: Element, sink: Sink) -> None:
    """Write the text of a WordprocessingML part into sink."""

    def start(element: Element, parent: Element | None) -> bool:
        tag = element.tag
        if tag == _W + "t":
            sink.write(element.text or "")
            return False
        if tag in _DOCX_SKIPPED:
            return False
        if parent is not None and parent.tag == _W + "r":
            if tag == _W + "tab":
                sink.write("\t")
            elif tag in (_W + "br", _W + "cr"):
                sink.write("\n")
            elif tag == _W + "noBreakHyphen":
                sink.write("-")
        return True

    def end(element: Element) -> None:
        if element.tag == _W + "p":
            sink.write("\n")
        elif element.tag in _DOCX_CELL_ENDS:
            sink.end_line()

    walk(root, start, end)


@register(DOCX)
def _extract_docx(path: Path, sink: Sink) -> str | None:
    """Extract a Word (DOCX) document: body, notes, headers and footers."""
    with SafeZip(path) as zip_file:
        main = "word/document.xml"
        for __, rel_type, name in relationships(zip_file, "_rels/.rels", ""):
            if rel_type.endswith("/officeDocument") and zip_file.has(name):
                main = name
                break
        if not zip_file.has(main):
            raise Damaged("The DOCX file is damaged: it has no document body.")
        _docx_text(zip_file.xml(main), sink)
        main_dir, main_file = posixpath.split(main)
        rels_name = posixpath.join(main_dir, "_rels", main_file + ".rels")
        parts = relationships(zip_file, rels_name, main_dir)
        # Notes first, then headers and footers: a page header repeats on every page
        # and would otherwise stand before the body in snippets. Sections often share
        # one header part; each part is read once.
        read: set[str] = set()
        for kinds in (("/footnotes", "/endnotes"), ("/header", "/footer")):
            for __, rel_type, name in parts:
                if rel_type.endswith(kinds) and name not in read and zip_file.has(name):
                    read.add(name)
                    sink.write("\n\n")
                    _docx_text(zip_file.xml(name), sink)
    return None
