"""OpenDocument Text (ODT): the paragraphs and headings of the body."""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element

from knowledge_hub.extraction.formats.registry import register
from knowledge_hub.extraction.formats.xmlparts import walk
from knowledge_hub.extraction.media import ODT
from knowledge_hub.extraction.media import Damaged
from knowledge_hub.extraction.safezip import SafeZip
from knowledge_hub.extraction.text import Sink

_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_SVG = "{urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0}"
_ODT_PARAGRAPHS = frozenset({_TEXT + "p", _TEXT + "h"})
_ODT_SKIPPED = frozenset(
    {
        _OFFICE + "annotation",
        _OFFICE + "annotation-end",
        _TEXT + "tracked-changes",
        _SVG + "title",
        _SVG + "desc",
    }
)
_ODT_LINE_ENDS = frozenset({_TABLE + "table-cell", _TABLE + "table-row"})


def _odt_text(root: Element, sink: Sink) -> None:
    """Write the text of an OpenDocument body into sink."""
    depth = 0  # inside how many paragraphs/headings; text outside them is layout

    def start(element: Element, parent: Element | None) -> bool:
        nonlocal depth
        tag = element.tag
        if tag in _ODT_SKIPPED:
            return False
        if tag == _TEXT + "s":
            try:
                count = int(element.get(_TEXT + "c", "1"))
            except ValueError:
                count = 1
            sink.write(" " * max(1, min(count, 100)))
            return False
        if tag == _TEXT + "tab":
            sink.write("\t")
            return False
        if tag == _TEXT + "line-break":
            sink.write("\n")
            return False
        if tag in _ODT_PARAGRAPHS:
            depth += 1
        if depth and element.text:
            sink.write(element.text)
        return True

    def end(element: Element) -> None:
        nonlocal depth
        tag = element.tag
        if tag in _ODT_PARAGRAPHS:
            sink.write("\n")
            depth -= 1
        elif tag in _ODT_LINE_ENDS:
            sink.end_line()
        if depth and element.tail:
            sink.write(element.tail)

    walk(root, start, end)


@register(ODT)
def _extract_odt(path: Path, sink: Sink) -> str | None:
    """Extract an OpenDocument Text (ODT) document."""
    with SafeZip(path) as zip_file:
        if not zip_file.has("content.xml"):
            raise Damaged("The ODT file is damaged: it has no content.xml.")
        root = zip_file.xml("content.xml")
        body = root.find(_OFFICE + "body")
        _odt_text(body if body is not None else root, sink)
    return None
