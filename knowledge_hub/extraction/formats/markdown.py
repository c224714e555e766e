"""Markdown: the text as a reader sees it, without the markup.

markdown-it-py parses CommonMark, with the tables and strikethrough of GitHub's
dialect, and its tokens are walked for their text: headings without their
``#``, list items without their markers, emphasis without its asterisks,
links as their text, images as their description, code as it is written,
table rows with their cells apart, and HTML reduced to its visible text.
Headings, paragraphs, list items and table rows end lines, so that search
snippets read as the document does.

A large file is parsed a stretch at a time, cut between two top-level blocks
(outside fenced code), which keeps the parser's tokens few. Parsing is linear
in the length of the text; the parser leaves out what is nested more than 20
levels deep.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from collections.abc import Sequence
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from knowledge_hub.extraction.formats.html import SKIPPED_TAGS
from knowledge_hub.extraction.formats.html import html_to_text
from knowledge_hub.extraction.formats.registry import register
from knowledge_hub.extraction.media import MARKDOWN
from knowledge_hub.extraction.media import MAX_TEXT_FILE_BYTES
from knowledge_hub.extraction.text import Sink
from knowledge_hub.extraction.text import decode_file

# The CommonMark preset's limit of 20 nested block quotes, lists and links
# stays: the parser's work per bracket grows with it, and a document nested
# deeper is hostile (the deeper blocks are left out).
_PARSER = MarkdownIt("commonmark").enable(["table", "strikethrough"])

# Text is parsed once this much of it is waiting ...
_CHUNK_CHARS = 1024 * 1024
# ... and cut at a line break, even inside a block, when it holds no place
# between two blocks by this length.
_MAX_BUFFER_CHARS = 4 * _CHUNK_CHARS

# A blank line followed by a line that starts a top-level block.
_BETWEEN_BLOCKS = re.compile(r"\n[ \t\r]*\n(?=[^ \t\r\n])")
# A line that opens or closes fenced code.
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$", re.MULTILINE)
_INLINE_TAG = re.compile(r"<(/?)([a-z][a-z0-9-]*)", re.IGNORECASE)

_BLOCK_ENDS = frozenset(
    {"heading_close", "hr", "table_close", "fence", "code_block", "html_block", "blockquote_close"}
)
_LIST_ENDS = frozenset({"bullet_list_close", "ordered_list_close"})


def block_boundary(text: str) -> int:
    """Return where text can be cut between two top-level blocks, or 0 if nowhere.

    The cut is the last one after a blank line; fenced code that is still
    open there is left whole for the next stretch.
    """
    cut = 0
    for match in _BETWEEN_BLOCKS.finditer(text):
        cut = match.end()
    fence: tuple[str, int, int] | None = None  # its character, length and start
    for match in _FENCE.finditer(text, 0, cut):
        marker, info = match.group(1), match.group(2)
        if fence is None:
            # The info string of a backtick fence cannot hold a backtick.
            if not (marker[0] == "`" and "`" in info):
                fence = (marker[0], len(marker), match.start())
        elif marker[0] == fence[0] and len(marker) >= fence[1] and not info.strip():
            fence = None
    return cut if fence is None else fence[2]


class _MarkdownText:
    """Write the text of Markdown, fed a piece at a time, into a sink."""

    def __init__(self, sink: Sink) -> None:
        """Write into sink."""
        self.sink = sink
        self.pending: list[str] = []
        self.size = 0

    def feed(self, text: str) -> None:
        """Take the next piece of the text; parse what lies before the last block boundary."""
        # The parser would make a NUL a replacement character; elsewhere it is dropped.
        text = text.replace("\x00", "")
        self.pending.append(text)
        self.size += len(text)
        if self.size < _CHUNK_CHARS:
            return
        buffered = "".join(self.pending)
        cut = block_boundary(buffered)
        if not cut:
            if len(buffered) < _MAX_BUFFER_CHARS:
                self.pending = [buffered]
                return
            cut = buffered.rfind("\n", 0, _MAX_BUFFER_CHARS) + 1 or _MAX_BUFFER_CHARS
        rest = buffered[cut:]
        self.pending, self.size = [rest], len(rest)
        self._write(buffered[:cut])

    def close(self) -> None:
        """Parse what is left."""
        text = "".join(self.pending)
        self.pending, self.size = [], 0
        self._write(text)

    def _write(self, source: str) -> None:
        """Write the text of a stretch of whole blocks."""
        if not source:
            return
        sink = self.sink
        for token in _PARSER.parse(source):
            kind = token.type
            if kind == "inline":
                self._write_inline(token.children or ())
            elif kind == "paragraph_close":
                # Paragraphs of tight lists are hidden: the item ends the line.
                sink.write("\n" if token.hidden else "\n\n")
            elif kind in ("fence", "code_block"):
                sink.end_line()
                sink.write(token.content)
            elif kind == "html_block":
                sink.end_line()
                html_to_text(token.content, sink, keep_title=False)
            elif kind == "list_item_open":
                sink.end_line()
            elif kind in ("th_open", "td_open"):
                sink.write("\t")
            elif kind == "tr_close":
                sink.write("\n")
            if kind in _BLOCK_ENDS or (kind in _LIST_ENDS and token.level == 0):
                sink.end_line()
                sink.write("\n")

    def _write_inline(self, children: Sequence[Token]) -> None:
        """Write the text of a paragraph, heading or table cell."""
        sink = self.sink
        # Images hold their description as tokens of their own; a stack, not
        # recursion, walks descriptions within descriptions.
        stack: list[Iterator[Token]] = [iter(children)]
        skipping = 0  # depth of inline <script> and <style>
        while stack:
            token = next(stack[-1], None)
            if token is None:
                stack.pop()
                continue
            kind = token.type
            if kind == "html_inline":
                skipping = self._inline_tag(token.content, skipping)
            elif skipping:
                continue
            elif kind in ("text", "code_inline", "text_special"):
                sink.write(token.content)
            elif kind in ("softbreak", "hardbreak"):
                sink.write("\n")
            elif kind == "image" and token.children:
                stack.append(iter(token.children))

    def _inline_tag(self, tag: str, skipping: int) -> int:
        """Act on an inline HTML tag: a line break, or the start or end of hidden text.

        Return the new depth of hidden elements.
        """
        match = _INLINE_TAG.match(tag)
        if match is None:  # a comment, declaration or processing instruction
            return skipping
        closing, name = match.group(1), match.group(2).lower()
        if name in SKIPPED_TAGS:
            return max(0, skipping - 1) if closing else skipping + 1
        if name == "br" and not skipping:
            self.sink.write("\n")
        return skipping


@register(MARKDOWN)
def _extract_markdown(path: Path, sink: Sink) -> str | None:
    """Extract a Markdown file."""
    readers = [_MarkdownText(sink)]

    def restart() -> None:
        sink.clear()
        readers[0] = _MarkdownText(sink)

    message = decode_file(path, MAX_TEXT_FILE_BYTES, lambda text: readers[0].feed(text), restart)
    readers[0].close()
    return message
