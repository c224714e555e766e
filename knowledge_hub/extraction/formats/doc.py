"""Word 97-2003 and Word 6/95 (.doc): the text of every story, from the piece table.

A .doc file is a compound file whose ``WordDocument`` stream begins with the
File Information Block (FIB). For Word 97 and later the FIB points into the
table stream (``1Table`` or ``0Table``) at the Clx, whose piece table maps
the character positions of the text to runs of bytes in ``WordDocument``:
Windows-1252 ("compressed") or UTF-16LE. Word 6 and 95 keep their 8-bit text
between ``fcMin`` and ``fcMac``, in the code page of the document's language.

The text holds every story in turn: the body, then footnotes, headers and
footers, comments, endnotes and text boxes. Word's control characters are
turned into text: a field (``\\x13`` code ``\\x14`` result ``\\x15``) keeps
only its result, cell marks (``\\x07``) end lines, optional hyphens vanish.
Word documents embedded as objects (``ObjectPool``) follow the main text.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import olefile

from knowledge_hub.extraction.formats.ole import CompoundFileError
from knowledge_hub.extraction.formats.ole import open_compound
from knowledge_hub.extraction.formats.ole import read_stream
from knowledge_hub.extraction.formats.registry import register
from knowledge_hub.extraction.media import DOC
from knowledge_hub.extraction.media import MAX_RAW_CHARS
from knowledge_hub.extraction.media import Damaged
from knowledge_hub.extraction.media import password_message
from knowledge_hub.extraction.text import Sink

_WORD97_IDENT = 0xA5EC
_WORD6_IDENT = 0xA5DC
_FIRST_WORD97_NFIB = 0xC1
_F_COMPLEX = 0x0004
_F_ENCRYPTED = 0x0100
_F_WHICH_TABLE = 0x0200
# Index of the Clx pair in FibRgFcLcb97, whose pairs are (fc, lcb) of 4 bytes each.
_CLX_PAIR = 33
# Word 6 and 95 keep the Clx in WordDocument, with its place at a fixed offset.
_WORD6_CLX = 0x160
# Embedded Word documents read after the main one, at most.
_MAX_EMBEDDED = 50

# Word 6/95 text is in the ANSI code page of the document's language (lid).
_CODE_PAGES = {
    "cp1250": (0x0405, 0x040E, 0x0415, 0x041B, 0x0424, 0x041A, 0x0418, 0x041C, 0x081A),
    "cp1251": (0x0419, 0x0422, 0x0423, 0x0402, 0x042F, 0x0C1A, 0x0440, 0x043F),
    "cp1253": (0x0408,),
    "cp1254": (0x041F, 0x042C),
    "cp1255": (0x040D,),
    "cp1256": (0x0401, 0x0801, 0x0C01, 0x1001, 0x1401, 0x1801, 0x1C01, 0x2001, 0x0429),
    "cp1257": (0x0425, 0x0426, 0x0427),
    "cp874": (0x041E,),
    "cp932": (0x0411,),
    "cp936": (0x0804, 0x1004),
    "cp949": (0x0412,),
    "cp950": (0x0404, 0x0C04, 0x1404),
}
_CODE_PAGE_BY_LID = {lid: page for page, lids in _CODE_PAGES.items() for lid in lids}


def _code_page(lid: int) -> str:
    """Return the code page of Word 6/95 text in the language lid (Windows-1252 by default)."""
    return _CODE_PAGE_BY_LID.get(lid, "cp1252")


def _u16(data: bytes, offset: int) -> int:
    """Return the little-endian 16-bit integer at offset, or 0 past the end."""
    if offset + 2 > len(data):
        return 0
    return int(struct.unpack_from("<H", data, offset)[0])


def _u32(data: bytes, offset: int) -> int:
    """Return the little-endian 32-bit integer at offset, or 0 past the end."""
    if offset + 4 > len(data):
        return 0
    return int(struct.unpack_from("<I", data, offset)[0])


def _piece_table(clx: bytes) -> bytes:
    """Return the PlcPcd of a Clx, skipping the property modifiers (Prc) before it."""
    position = 0
    while position < len(clx):
        kind = clx[position]
        if kind == 0x01:  # Prc: a 2-byte size, then the modifiers
            position += 3 + _u16(clx, position + 1)
        elif kind == 0x02:  # Pcdt: a 4-byte size, then the PlcPcd
            size = _u32(clx, position + 1)
            return clx[position + 5 : position + 5 + size]
        else:
            break
    raise Damaged("The Word document is damaged: its piece table cannot be found.")


def _pieces(plc: bytes) -> list[tuple[int, int, int]]:
    """Return (first character, character count, file offset field) for each piece."""
    count = (len(plc) - 4) // 12
    if count <= 0:
        return []
    positions = struct.unpack_from(f"<{count + 1}I", plc, 0)
    pieces = []
    for index in range(count):
        fc = _u32(plc, 4 * (count + 1) + 8 * index + 2)
        length = positions[index + 1] - positions[index]
        if length > 0:
            pieces.append((positions[index], length, fc))
    return pieces


def _word97_text(word: bytes, table: bytes, flags: int) -> str:
    """Return the raw text of a Word 97 or later document from its piece table."""
    csw = _u16(word, 0x20)
    cslw = _u16(word, 0x22 + 2 * csw)
    fc_lcb = 0x22 + 2 * csw + 2 + 4 * cslw + 2
    fc_clx = _u32(word, fc_lcb + 8 * _CLX_PAIR)
    lcb_clx = _u32(word, fc_lcb + 8 * _CLX_PAIR + 4)
    if lcb_clx == 0 or fc_clx + lcb_clx > len(table):
        raise Damaged("The Word document is damaged: its piece table cannot be found.")
    parts = []
    budget = MAX_RAW_CHARS  # pieces may repeat the same bytes: stop at the sink's cap
    for __, length, fc in _pieces(_piece_table(table[fc_clx : fc_clx + lcb_clx])):
        length = min(length, budget)
        if fc & 0x40000000:  # compressed: one Windows-1252 byte per character
            start = (fc & 0x3FFFFFFF) // 2
            parts.append(word[start : start + length].decode("cp1252", "replace"))
        else:
            start = fc & 0x3FFFFFFF
            parts.append(word[start : start + 2 * length].decode("utf-16-le", "replace"))
        budget -= len(parts[-1])
        if budget <= 0:
            break
    return "".join(parts)


def _word6_text(word: bytes, flags: int) -> str:
    """Return the raw text of a Word 6 or 95 document."""
    encoding = _code_page(_u16(word, 0x06))
    if flags & _F_COMPLEX:
        # A fast-saved file: the pieces, in order, are in the piece table.
        fc_clx, lcb_clx = _u32(word, _WORD6_CLX), _u32(word, _WORD6_CLX + 4)
        if lcb_clx and fc_clx + lcb_clx <= len(word):
            try:
                pieces = _pieces(_piece_table(word[fc_clx : fc_clx + lcb_clx]))
            except Damaged:
                pieces = []
            if pieces:
                parts = []
                budget = MAX_RAW_CHARS
                for __, length, fc in pieces:
                    parts.append(word[fc : fc + min(length, budget)].decode(encoding, "replace"))
                    budget -= len(parts[-1])
                    if budget <= 0:
                        break
                return "".join(parts)
    fc_min, fc_mac = _u32(word, 0x18), _u32(word, 0x1C)
    if not fc_min <= fc_mac <= len(word):
        raise Damaged("The Word document is damaged: its text cannot be found.")
    return word[fc_min:fc_mac].decode(encoding, "replace")


_FIELD_MARKS = re.compile("[\x13\x14\x15]")
# Cell and row ends, line and page breaks become line ends; a non-breaking
# hyphen is a hyphen; optional hyphens and Word's anchors for pictures,
# footnote references and comments disappear.
_SPECIAL = str.maketrans(
    {
        "\r": "\n",
        "\x07": "\n",
        "\x0b": "\n",
        "\x0c": "\n\n",
        "\x0e": "\n\n",
        "\x1e": "-",
        "\x1f": None,
        "\x01": None,
        "\x02": None,
        "\x03": None,
        "\x04": None,
        "\x05": None,
        "\x08": None,
    }
)


def _visible_text(raw: str) -> str:
    """Return Word text with field codes dropped (their results kept) and specials mapped.

    Fields nest: a code may hold fields of its own (all dropped), and a
    result may too (their codes dropped, their results kept).
    """
    parts = []
    # One entry per open field: True while in its code, False once in its result.
    fields: list[bool] = []
    in_code = 0  # how many of them are in their code
    position = 0
    for match in _FIELD_MARKS.finditer(raw):
        if not in_code:
            parts.append(raw[position : match.start()])
        mark = match.group()
        if mark == "\x13":
            fields.append(True)
            in_code += 1
        elif mark == "\x14":
            if fields and fields[-1]:
                fields[-1] = False
                in_code -= 1
        elif fields:
            in_code -= fields.pop()
        position = match.end()
    if not in_code:
        parts.append(raw[position:])
    return "".join(parts).translate(_SPECIAL)


def _document_text(ole: olefile.OleFileIO, storage: list[str]) -> str:
    """Return the visible text of the Word document in storage ([] for the file itself)."""
    word = read_stream(ole, [*storage, "WordDocument"])
    ident, nfib, flags = _u16(word, 0), _u16(word, 2), _u16(word, 0x0A)
    if ident not in (_WORD97_IDENT, _WORD6_IDENT) or len(word) < 0x20:
        raise Damaged("The Word document is damaged: its header is not a Word header.")
    if flags & _F_ENCRYPTED:
        raise Damaged(password_message("Word document"))
    if nfib < _FIRST_WORD97_NFIB:
        return _visible_text(_word6_text(word, flags))
    table_name = "1Table" if flags & _F_WHICH_TABLE else "0Table"
    if not ole.exists("/".join([*storage, table_name])):
        raise Damaged(f"The Word document is damaged: its {table_name} stream is missing.")
    table = read_stream(ole, [*storage, table_name])
    return _visible_text(_word97_text(word, table, flags))


def _embedded_documents(ole: olefile.OleFileIO) -> list[list[str]]:
    """Return the storages of Word documents embedded as objects, in directory order."""
    found = []
    for path in ole.listdir(streams=True, storages=False):
        if len(path) > 1 and path[-1] == "WordDocument" and "ObjectPool" in path[:-1]:
            found.append(path[:-1])
            if len(found) >= _MAX_EMBEDDED:
                break
    return found


@register(DOC)
def _extract_doc(path: Path, sink: Sink) -> str | None:
    """Extract a Word 97-2003 or Word 6/95 document, then the Word documents embedded in it."""
    try:
        with open_compound(path) as ole:
            if not ole.exists("WordDocument"):
                raise Damaged("The file is not a Word document: it has no WordDocument stream.")
            sink.write(_document_text(ole, []))
            for storage in _embedded_documents(ole):
                try:
                    text = _document_text(ole, storage)
                except (Damaged, CompoundFileError):
                    continue  # an unreadable embedded object does not spoil the document
                sink.write("\n\n")
                sink.write(text)
    except CompoundFileError as exc:
        raise Damaged(f"The Word document is damaged: {exc}.") from None
    return None
