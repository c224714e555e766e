"""HTML: the visible text of a document, plus its title.

The EPUB reader uses ``html_to_text`` and ``declared_html_charset`` for its chapters.
"""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser
from pathlib import Path

from knowledge_hub.extraction.formats.registry import register
from knowledge_hub.extraction.media import HTML
from knowledge_hub.extraction.media import MAX_MARKUP_FILE_BYTES
from knowledge_hub.extraction.text import Sink
from knowledge_hub.extraction.text import decode_file

_BLOCK_TAGS = frozenset(
    """address article aside blockquote body caption center dd details dialog dir
    div dl dt fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup
    hr li main menu nav ol p pre section summary table tbody tfoot thead tr ul
    legend option""".split()
)
_CELL_TAGS = frozenset({"td", "th"})
SKIPPED_TAGS = frozenset({"script", "style", "template", "noscript"})
_HEAD_TAGS = frozenset(
    {"title", "meta", "link", "base", "script", "style", "noscript", "template", "head", "html"}
)
_HTML_WHITESPACE = re.compile(r"\s+")


class _HTMLText(HTMLParser):
    """Collect the visible text of an HTML document, plus its title."""

    def __init__(self, sink: Sink, keep_title: bool) -> None:
        """Write into sink; keep_title says whether the <title> is part of the text."""
        super().__init__(convert_charrefs=True)
        self.sink = sink
        self.keep_title = keep_title
        self.skip_depth = 0
        self.in_head = False
        self.in_title = False
        self.pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Track structure: skipped elements, head, title and block breaks."""
        if tag in SKIPPED_TAGS:
            self.skip_depth += 1
            return
        if tag == "head":
            self.in_head = True
        elif tag == "title":
            self.in_title = True
        elif tag not in _HEAD_TAGS:
            # Body content without a closing </head> still ends the head.
            self.in_head = False
        if tag == "pre":
            self.pre_depth += 1
        if tag == "br":
            self.sink.write("\n")
        elif tag in _BLOCK_TAGS:
            self.sink.write("\n")
        elif tag in _CELL_TAGS:
            self.sink.write("\t")

    def handle_endtag(self, tag: str) -> None:
        """Close what handle_starttag opened."""
        if tag in SKIPPED_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag == "head":
            self.in_head = False
        elif tag == "title":
            if self.in_title and self.keep_title:
                self.sink.write("\n\n")
            self.in_title = False
        if tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
        if tag in _BLOCK_TAGS:
            self.sink.write("\n")

    def handle_data(self, data: str) -> None:
        """Keep visible text, collapsing source whitespace outside <pre>."""
        if self.skip_depth:
            return
        if self.in_title:
            if self.keep_title:
                self.sink.write(_HTML_WHITESPACE.sub(" ", data))
            return
        if self.in_head:
            return
        if self.pre_depth:
            self.sink.write(data)
        else:
            self.sink.write(_HTML_WHITESPACE.sub(" ", data))


_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)


def declared_html_charset(data: bytes) -> str | None:
    """Return the encoding named by a <meta> charset in the first KiB, if usable."""
    match = _META_CHARSET.search(data[:4096])
    if not match:
        return None
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    # The HTML standard reads these labels as Windows-1252, and a UTF-16
    # label without a BOM is a lie (the bytes matched as ASCII).
    if name in ("latin-1", "iso8859-1", "ascii"):
        return "cp1252"
    if name.startswith(("utf-16", "utf-32")):
        return None
    return name


def html_to_text(markup: str, sink: Sink, keep_title: bool) -> None:
    """Write the visible text of markup into sink."""
    parser = _HTMLText(sink, keep_title)
    chunk = 1024 * 1024
    for start in range(0, len(markup), chunk):
        parser.feed(markup[start : start + chunk])
    parser.close()


@register(HTML)
def _extract_html(path: Path, sink: Sink) -> str | None:
    """Extract an HTML document."""
    with path.open("rb") as handle:
        declared = declared_html_charset(handle.read(4096))
    parsers = [_HTMLText(sink, keep_title=True)]

    def restart() -> None:
        sink.clear()
        parsers[0] = _HTMLText(sink, keep_title=True)

    message = decode_file(
        path, MAX_MARKUP_FILE_BYTES, lambda text: parsers[0].feed(text), restart, declared
    )
    parsers[0].close()
    return message
