"""OpenDocument Text (ODT) and Presentation (ODP): the paragraphs and headings of the body.

An ODP's slides are draw pages whose frames hold ordinary text paragraphs,
so both are read by the same walk; a slide's notes follow it. A document
saved with a password keeps its manifest readable and says there which
parts are encrypted: such a file gets the password message rather than
"damaged XML".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as safe_xml

from knowledge_hub.extraction.formats.registry import register
from knowledge_hub.extraction.formats.xmlparts import walk
from knowledge_hub.extraction.media import ODP
from knowledge_hub.extraction.media import ODT
from knowledge_hub.extraction.media import Damaged
from knowledge_hub.extraction.media import password_message
from knowledge_hub.extraction.safezip import SafeZip
from knowledge_hub.extraction.text import Sink

_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_SVG = "{urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0}"
_DRAW = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"
_MANIFEST = "{urn:oasis:names:tc:opendocument:xmlns:manifest:1.0}"
_PRESENTATION = "{urn:oasis:names:tc:opendocument:xmlns:presentation:1.0}"
_STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
# On a master page, only text that shows on the slides: not the empty
# placeholders, nor the fields for page numbers and dates.
_MASTER_FIELDS = frozenset(
    {_TEXT + "page-number", _TEXT + "date", _TEXT + "time", _PRESENTATION + "date-time"}
)
_MASTER_FIELD_FRAMES = frozenset({"page-number", "date-time", "header"})
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


def odf_text(root: Element, sink: Sink, skip: Callable[[Element], bool] | None = None) -> None:
    """Write the text of an OpenDocument body into sink, leaving out what skip says."""
    depth = 0  # inside how many paragraphs/headings; text outside them is layout

    def start(element: Element, parent: Element | None) -> bool:
        nonlocal depth
        tag = element.tag
        if tag in _ODT_SKIPPED or (skip is not None and skip(element)):
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


def check_not_encrypted(zip_file: SafeZip, what: str) -> None:
    """Raise the password message if the manifest says content.xml is encrypted.

    what names the document for staff, e.g. "OpenDocument text".
    """
    if not zip_file.has("META-INF/manifest.xml"):
        return
    # Manifests written by OpenOffice 2 declare a DTD (without entities).
    try:
        manifest = safe_xml.fromstring(
            zip_file.read("META-INF/manifest.xml"),
            forbid_dtd=False,
            forbid_entities=True,
            forbid_external=True,
        )
    except ParseError:
        return  # content.xml will tell whether the document can be read
    for entry in manifest.iter(_MANIFEST + "file-entry"):
        path = entry.get(_MANIFEST + "full-path", "").lstrip("/")
        if path == "content.xml" and entry.find(_MANIFEST + "encryption-data") is not None:
            raise Damaged(password_message(what))


def _body(zip_file: SafeZip, label: str, what: str) -> Element:
    """Return the office:body of content.xml, after checking the file is not encrypted."""
    check_not_encrypted(zip_file, what)
    if not zip_file.has("content.xml"):
        raise Damaged(f"The {label} file is damaged: it has no content.xml.")
    root = zip_file.xml("content.xml")
    body = root.find(_OFFICE + "body")
    return body if body is not None else root


@register(ODT)
def _extract_odt(path: Path, sink: Sink) -> str | None:
    """Extract an OpenDocument Text (ODT) document."""
    with SafeZip(path) as zip_file:
        odf_text(_body(zip_file, "ODT", "OpenDocument text"), sink)
    return None


def _master_skip(element: Element) -> bool:
    """Tell whether a master page element is a placeholder or a field rather than text."""
    if element.tag in _MASTER_FIELDS:
        return True
    if element.tag == _DRAW + "frame":
        return element.get(_PRESENTATION + "placeholder") == "true" or (
            element.get(_PRESENTATION + "class") in _MASTER_FIELD_FRAMES
        )
    return False


@register(ODP)
def _extract_odp(path: Path, sink: Sink) -> str | None:
    """Extract an OpenDocument presentation (ODP): the slides, then what their masters show."""
    with SafeZip(path) as zip_file:
        body = _body(zip_file, "ODP", "OpenDocument presentation")
        for page in body.iter(_DRAW + "page"):
            odf_text(page, sink)
            sink.write("\n\n")
        # Footers set for the slides are declared once, before the first one.
        for tag in ("header-decl", "footer-decl"):
            for declaration in body.iter(_PRESENTATION + tag):
                sink.write("".join(declaration.itertext()))
                sink.write("\n")
        if zip_file.has("styles.xml"):
            for master in zip_file.xml("styles.xml").iter(_STYLE + "master-page"):
                odf_text(master, sink, _master_skip)
    return None
