"""PowerPoint (PPTX): the text of each slide, in presentation order.

After the slides comes, once, the text that the layouts and masters they use
put on them: shapes added there, such as a line on every slide, but not the
placeholders ("Click to edit Master title style"), which the slides fill.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from xml.etree.ElementTree import Element

from knowledge_hub.extraction.formats.registry import register
from knowledge_hub.extraction.formats.xmlparts import relationships
from knowledge_hub.extraction.formats.xmlparts import walk
from knowledge_hub.extraction.media import PPTX
from knowledge_hub.extraction.safezip import SafeZip
from knowledge_hub.extraction.text import Sink

_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_SLIDE_NAME = re.compile(r"^ppt/slides/slide(\d+)\.xml$")


def _pptx_text(root: Element, sink: Sink) -> None:
    """Write the text runs of one slide into sink, a line per paragraph."""

    def start(element: Element, parent: Element | None) -> bool:
        tag = element.tag
        if tag == _A + "t":
            sink.write(element.text or "")
            return False
        if tag == _A + "br":
            sink.write("\n")
            return False
        return True

    def end(element: Element) -> None:
        if element.tag == _A + "p":
            sink.write("\n")
        elif element.tag == _A + "tc":
            sink.end_line()

    walk(root, start, end)


def _pptx_slide_names(zip_file: SafeZip) -> list[str]:
    """Return the slide parts in presentation order."""
    ordered: list[str] = []
    if zip_file.has("ppt/presentation.xml"):
        targets = {
            rel_id: name
            for rel_id, _, name in relationships(zip_file, "ppt/_rels/presentation.xml.rels", "ppt")
        }
        presentation = zip_file.xml("ppt/presentation.xml")
        for slide_id in presentation.iter(_P + "sldId"):
            name = targets.get(slide_id.get(_R + "id", ""))
            if name and zip_file.has(name) and name not in ordered:
                ordered.append(name)
    if not ordered:
        numbered = [
            (int(match.group(1)), name)
            for name in zip_file.names
            if (match := _SLIDE_NAME.match(name))
        ]
        ordered = [name for _, name in sorted(numbered)]
    return ordered


def _related(zip_file: SafeZip, part: str, kind: str) -> list[str]:
    """Return the parts of a relationship type (e.g. "/slideLayout") that part refers to."""
    directory, file_name = posixpath.split(part)
    rels_name = posixpath.join(directory, "_rels", file_name + ".rels")
    return [
        name
        for __, rel_type, name in relationships(zip_file, rels_name, directory)
        if rel_type.endswith(kind) and zip_file.has(name)
    ]


def _pptx_design_text(zip_file: SafeZip, slide_names: list[str], sink: Sink) -> None:
    """Write the non-placeholder text of the layouts and masters the slides use, once each."""
    layouts: list[str] = []
    for slide in slide_names:
        layouts.extend(
            name for name in _related(zip_file, slide, "/slideLayout") if name not in layouts
        )
    masters: list[str] = []
    for layout in layouts:
        masters.extend(
            name for name in _related(zip_file, layout, "/slideMaster") if name not in masters
        )
    for part in layouts + masters:
        for shape in zip_file.xml(part).iter(_P + "sp"):
            properties = shape.find(f"{_P}nvSpPr/{_P}nvPr")
            if properties is not None and properties.find(_P + "ph") is not None:
                continue
            _pptx_text(shape, sink)


@register(PPTX)
def _extract_pptx(path: Path, sink: Sink) -> str | None:
    """Extract a PowerPoint (PPTX) presentation, slide by slide, then its design's own text."""
    with SafeZip(path) as zip_file:
        slide_names = _pptx_slide_names(zip_file)
        for name in slide_names:
            _pptx_text(zip_file.xml(name), sink)
            sink.write("\n\n")
        _pptx_design_text(zip_file, slide_names, sink)
    return None
