"""EPUB: the XHTML chapters of the spine, in reading order."""

from __future__ import annotations

import posixpath
from pathlib import Path
from urllib.parse import unquote

from knowledge_hub.extraction.formats.html import declared_html_charset
from knowledge_hub.extraction.formats.html import html_to_text
from knowledge_hub.extraction.formats.registry import register
from knowledge_hub.extraction.formats.xmlparts import local
from knowledge_hub.extraction.media import EPUB
from knowledge_hub.extraction.media import Damaged
from knowledge_hub.extraction.safezip import SafeZip
from knowledge_hub.extraction.text import Sink
from knowledge_hub.extraction.text import decode_document

_HTML_MEDIA_TYPES = frozenset({"application/xhtml+xml", "text/html"})


@register(EPUB)
def _extract_epub(path: Path, sink: Sink) -> str | None:
    """Extract an EPUB book: the XHTML documents of its spine, in reading order."""
    with SafeZip(path) as zip_file:
        opf_name = None
        if zip_file.has("META-INF/container.xml"):
            container = zip_file.xml("META-INF/container.xml")
            for rootfile in container.iter():
                if local(rootfile.tag) == "rootfile" and rootfile.get("full-path"):
                    opf_name = posixpath.normpath(unquote(rootfile.get("full-path", "")))
                    break
        if opf_name is None or not zip_file.has(opf_name):
            opf_name = next((n for n in sorted(zip_file.names) if n.lower().endswith(".opf")), None)
        chapters = _epub_spine(zip_file, opf_name) if opf_name else []
        if not chapters:
            chapters = sorted(
                n for n in zip_file.names if n.lower().endswith((".xhtml", ".html", ".htm"))
            )
        if not chapters:
            raise Damaged("The EPUB file is damaged: it has no readable chapters.")
        for name in chapters:
            data = zip_file.read(name)
            # Chapters are XHTML, usually with a DOCTYPE and HTML entities; the
            # HTML parser reads them without any DTD or entity expansion.
            markup = decode_document(data, False, declared_html_charset(data))
            html_to_text(markup, sink, keep_title=False)
            sink.write("\n\n")
    return None


def _epub_spine(zip_file: SafeZip, opf_name: str) -> list[str]:
    """Return the chapter members listed in the spine of the package document."""
    package = zip_file.xml(opf_name)
    base_dir = posixpath.dirname(opf_name)
    manifest: dict[str, str] = {}
    for item in package.iter():
        if local(item.tag) != "item":
            continue
        href = item.get("href")
        media_type = item.get("media-type", "")
        if (
            item.get("id")
            and href
            and (
                media_type in _HTML_MEDIA_TYPES
                or href.lower().endswith((".xhtml", ".html", ".htm"))
            )
        ):
            href = unquote(href.split("#", 1)[0])
            manifest[item.get("id", "")] = posixpath.normpath(posixpath.join(base_dir, href))
    chapters: list[str] = []
    for itemref in package.iter():
        if local(itemref.tag) != "itemref":
            continue
        name = manifest.get(itemref.get("idref", ""))
        if name and zip_file.has(name) and name not in chapters:
            chapters.append(name)
    return chapters
