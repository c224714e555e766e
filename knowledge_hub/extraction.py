"""Tell what an uploaded file is from its bytes, and pull its text out safely.

This module is deliberately pure: it imports nothing else from the project and
knows nothing about Flask or the database, so it can be preloaded into a small
fork server and run in throw-away child processes.

Two halves:

* ``sniff`` / ``sniff_file`` decide the media type from the bytes alone. The
  client's file name and declared type are never trusted; the name is consulted
  only to tell Markdown from plain text once the bytes are known to be text.
* ``extract`` runs ``extract_in_process`` in a child process with a wall-clock,
  CPU and address-space limit, because document parsers fed hostile input can
  loop, balloon or crash, and none of that may reach the web server.
"""

from __future__ import annotations

import codecs
import logging
import math
import multiprocessing
import os
import posixpath
import re
import resource
import signal
import struct
import threading
import time
import warnings
import zipfile
import zlib
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from typing import BinaryIO
from urllib.parse import unquote
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException
from pypdf import PasswordType
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError
from pypdf.errors import LimitReachedError
from striprtf.striprtf import rtf_to_text

__all__ = [
    "ACCEPTED_TYPES",
    "EXTRACTABLE_TYPES",
    "Extraction",
    "UnsupportedType",
    "extract",
    "extract_in_process",
    "sniff",
    "sniff_file",
]

# ---------------------------------------------------------------------------
# Media types
# ---------------------------------------------------------------------------

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
HTML = "text/html"
PLAIN = "text/plain"
MARKDOWN = "text/markdown"
RTF = "application/rtf"
EPUB = "application/epub+zip"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOC = "application/msword"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"

ACCEPTED_TYPES: dict[str, str] = {
    PDF: "PDF",
    DOCX: "Word (DOCX)",
    ODT: "OpenDocument Text (ODT)",
    HTML: "HTML",
    PLAIN: "Plain text",
    MARKDOWN: "Markdown",
    RTF: "Rich Text (RTF)",
    EPUB: "EPUB",
    PPTX: "PowerPoint (PPTX)",
    DOC: "Word 97-2003 (DOC)",
    PNG: "PNG image",
    JPEG: "JPEG image",
    TIFF: "TIFF image",
}

EXTRACTABLE_TYPES: frozenset[str] = frozenset(
    {PDF, DOCX, ODT, HTML, PLAIN, MARKDOWN, RTF, EPUB, PPTX}
)

# Accepted for storage only; the reason is recorded as the extraction error.
_NOT_EXTRACTED_REASONS: dict[str, str] = {
    DOC: (
        "Legacy Word (.doc) files are not supported for text extraction: "
        "save the file as DOCX or PDF."
    ),
    PNG: "An image has no text layer, and OCR is not available.",
    JPEG: "An image has no text layer, and OCR is not available.",
    TIFF: "An image has no text layer, and OCR is not available.",
}

MARKDOWN_SUFFIXES = (".md", ".markdown")

# ---------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------

MAX_TEXT_CHARS = 10_000_000
# Raw text is collected up to twice the cap, because whitespace normalisation
# usually shrinks it; anything beyond would be cut off anyway.
_MAX_RAW_CHARS = 2 * MAX_TEXT_CHARS
# Enough bytes for MAX_TEXT_CHARS characters in any encoding we decode.
_MAX_TEXT_FILE_BYTES = 64 * 1024 * 1024
_MAX_MARKUP_FILE_BYTES = 256 * 1024 * 1024

MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_TOTAL_BYTES = 512 * 1024 * 1024
MAX_ZIP_RATIO = 200
_ZIP_RATIO_FLOOR = 1024 * 1024  # small members may compress very well legitimately
_MAX_ZIP_MEMBER_BYTES = 256 * 1024 * 1024

SNIFF_BYTES = 64 * 1024
_GRACE_SECONDS = 1.0
# Exit status of a worker too short of memory to send its result (any value
# that Python itself does not use will do).
_EXIT_OUT_OF_MEMORY = 75

_ZIP_BOMB_ERROR = (
    "The file looks like a ZIP bomb (it would unpack to far more data than it "
    "holds, or to too many parts), so it was not unpacked."
)
_XML_ENTITY_ERROR = (
    "The document contains XML with a DTD or entity declarations; entities "
    "are not allowed, because they can hide XML bombs or reach external files."
)


class UnsupportedType(ValueError):
    """Signal a file whose bytes are not one of the accepted types."""

    def __init__(self, description: str) -> None:
        """Build a message for people from a description of what the file seems to be."""
        self.description = description
        super().__init__(f"{description} {_accepted_sentence()}")

    def __reduce__(self) -> tuple[type[UnsupportedType], tuple[str]]:
        """Pickle by description, so the accepted types are not appended twice."""
        return (type(self), (self.description,))


def _accepted_sentence() -> str:
    """Return a sentence listing the accepted file types."""
    labels = list(ACCEPTED_TYPES.values())
    return "Accepted types are: " + ", ".join(labels[:-1]) + f" and {labels[-1]}."


@dataclass(frozen=True)
class Extraction:
    """Hold the outcome of extracting the text of one file."""

    text: str
    page_count: int | None
    error: str | None


# ---------------------------------------------------------------------------
# Sniffing
# ---------------------------------------------------------------------------

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PDF_HEADER = re.compile(rb"%PDF-\d\.\d")

# Signatures of common formats we refuse, to tell people what they sent. They
# are consulted only once the bytes are known not to be text, so a text file
# that happens to start with "MZ" or "ID3" is still read as text.
_REFUSED_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x7fELF", 0, "This file looks like a program (a Linux/Unix ELF executable)."),
    (b"MZ", 0, "This file looks like a Windows program or library (EXE/DLL)."),
    (b"\xfe\xed\xfa\xce", 0, "This file looks like a macOS program (Mach-O)."),
    (b"\xfe\xed\xfa\xcf", 0, "This file looks like a macOS program (Mach-O)."),
    (b"\xce\xfa\xed\xfe", 0, "This file looks like a macOS program (Mach-O)."),
    (b"\xcf\xfa\xed\xfe", 0, "This file looks like a macOS program (Mach-O)."),
    (b"\xca\xfe\xba\xbe", 0, "This file looks like a program (Mach-O or Java class file)."),
    (b"\x00asm", 0, "This file looks like a WebAssembly program."),
    (
        b"GIF87a",
        0,
        "This file looks like a GIF image; only PNG, JPEG and TIFF images are accepted.",
    ),
    (
        b"GIF89a",
        0,
        "This file looks like a GIF image; only PNG, JPEG and TIFF images are accepted.",
    ),
    (b"WEBP", 8, "This file looks like a WebP image; only PNG, JPEG and TIFF images are accepted."),
    (b"WAVE", 8, "This file looks like an audio recording (WAV)."),
    (b"AVI ", 8, "This file looks like a video (AVI)."),
    (b"ftyp", 4, "This file looks like a video, audio or HEIC image file (MP4/MOV family)."),
    (b"\x1a\x45\xdf\xa3", 0, "This file looks like a video (Matroska/WebM)."),
    (b"OggS", 0, "This file looks like an audio or video file (Ogg)."),
    (b"fLaC", 0, "This file looks like an audio recording (FLAC)."),
    (b"ID3", 0, "This file looks like an audio recording (MP3)."),
    (b"\x1f\x8b", 0, "This file looks like a compressed archive (gzip)."),
    (b"\xfd7zXZ\x00", 0, "This file looks like a compressed archive (xz)."),
    (b"\x28\xb5\x2f\xfd", 0, "This file looks like a compressed archive (zstd)."),
    (b"7z\xbc\xaf\x27\x1c", 0, "This file looks like a compressed archive (7-Zip)."),
    (b"Rar!\x1a\x07", 0, "This file looks like a compressed archive (RAR)."),
    (b"SQLite format 3\x00", 0, "This file looks like a database (SQLite)."),
)


def sniff(head: bytes, filename: str = "") -> str:
    """Return the media type of a file from its first bytes.

    Pass at least the first 64 KiB. ZIP-based formats (DOCX, ODT, EPUB, PPTX)
    can only be told apart reliably with the whole file, so prefer
    ``sniff_file`` for stored files; from a prefix the local file headers are
    searched, which works for ordinary documents. Raise ``UnsupportedType`` for
    anything that is not accepted. ``filename`` is used only to tell Markdown
    from plain text.
    """
    return _sniff(_BytesSource(head, complete=False), head, filename)


def sniff_file(path: Path, filename: str = "") -> str:
    """Return the media type of the file at path, looking inside ZIP containers.

    The members of a ZIP container tell DOCX, ODT, EPUB and PPTX apart. Raise
    ``UnsupportedType`` for anything not accepted. ``filename`` is the
    name the file came with (defaults to the stored name) and is used only to
    tell Markdown from plain text.
    """
    path = Path(path)
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
        source = _FileSource(handle, os.fstat(handle.fileno()).st_size)
        return _sniff(source, head, filename or path.name)


class _BytesSource:
    """Give random access to an in-memory prefix of a file."""

    def __init__(self, data: bytes, *, complete: bool) -> None:
        """Wrap data; complete says whether it is known to be the whole file."""
        self.data = data
        self.size = len(data)
        self.complete = complete

    def read(self, offset: int, length: int) -> bytes:
        """Return up to length bytes from offset."""
        if offset < 0:
            return b""
        return self.data[offset : offset + length]


class _FileSource:
    """Give random access to an open file."""

    complete = True

    def __init__(self, handle: BinaryIO, size: int) -> None:
        """Wrap an open binary file of the given size."""
        self.handle = handle
        self.size = size

    def read(self, offset: int, length: int) -> bytes:
        """Return up to length bytes from offset."""
        if offset < 0 or offset >= self.size:
            return b""
        self.handle.seek(offset)
        return self.handle.read(length)


_Source = _BytesSource | _FileSource


def _sniff(source: _Source, head: bytes, filename: str) -> str:
    """Return the media type from the first bytes plus random access to the file."""
    if not head:
        raise UnsupportedType("The file is empty.")
    # PDF readers accept junk before the header, so look a little further in.
    if head.startswith(b"%PDF-") or _PDF_HEADER.search(head[:1024]):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(source, head)
    if head.startswith((b"PK\x05\x06", b"PK\x07\x08")):
        raise UnsupportedType("This file looks like an empty or split ZIP archive.")
    if head.startswith(_OLE2_MAGIC):
        return _sniff_ole2(source, head)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF

    decoded = _decode_text_prefix(head)
    if decoded is None:
        for signature, offset, description in _REFUSED_SIGNATURES:
            if head[offset : offset + len(signature)] == signature:
                raise UnsupportedType(description)
        raise UnsupportedType("This file looks like binary data of a kind that is not recognised.")
    if not decoded:
        raise UnsupportedType("The file is empty.")
    text = decoded.lstrip("\ufeff \t\r\n")
    if text.startswith("{\\rtf"):
        return RTF
    if text.startswith("#!"):
        raise UnsupportedType("This file looks like a script (a program that starts with #!).")
    if _looks_like_html(text):
        return HTML
    if _looks_like(text, _SVG_START):
        raise UnsupportedType(
            "This file looks like an SVG image; only PNG, JPEG and TIFF images are accepted."
        )
    if filename.lower().endswith(MARKDOWN_SUFFIXES):
        return MARKDOWN
    return PLAIN


_TEXT_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its little-endian BOM begins with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Control characters that do not occur in real text. Tab, line feed, vertical
# tab, form feed, carriage return, SUB (old DOS end of file) and ESC (terminal
# colours in logs) are tolerated.
_BINARY_CONTROLS = re.compile("[\x00-\x08\x0e-\x19\x1c-\x1f\x7f\x80-\x9f]")
_MAX_CONTROL_RATIO = 0.01


def _decode_text_prefix(head: bytes) -> str | None:
    """Return the decoded prefix if the bytes look like text, else None."""
    for bom, encoding in _TEXT_BOMS:
        if head.startswith(bom):
            try:
                text = _decode_prefix(head[len(bom) :], encoding)
            except UnicodeDecodeError:
                return None
            break
    else:
        if b"\x00" in head:
            return None
        try:
            text = _decode_prefix(head, "utf-8")
        except UnicodeDecodeError:
            text = _decode_legacy(head)
    if not text:
        return ""
    controls = len(_BINARY_CONTROLS.findall(text))
    if controls > _MAX_CONTROL_RATIO * len(text):
        return None
    return text


def _decode_prefix(data: bytes, encoding: str) -> str:
    """Decode data that may end in the middle of a character."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    return decoder.decode(data, final=False)


def _decode_legacy(data: bytes) -> str:
    """Decode non-UTF-8 text as Windows-1252, or Latin-1 where that fails."""
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five byte values undefined; Latin-1 maps every byte.
        return data.decode("latin-1")


_XML_PROLOGUE = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)
_HTML_START = re.compile(r"<(?:!doctype\s+html|html|head|body)[\s>/]", re.IGNORECASE)
_SVG_START = re.compile(r"<(?:!doctype\s+svg|(?:[\w.-]+:)?svg)[\s>/]", re.IGNORECASE)


def _looks_like_html(text: str) -> bool:
    """Tell whether text starts like an HTML or XHTML document."""
    return _looks_like(text, _HTML_START)


def _looks_like(text: str, start: re.Pattern[str]) -> bool:
    """Tell whether text, past any XML declaration and comments, begins with start."""
    position = 0
    for __ in range(100):  # bounded: a prefix cannot hold endless prologue items
        match = _XML_PROLOGUE.match(text, position)
        if not match:
            break
        position = match.end()
    rest = text[position:].lstrip()
    return bool(start.match(rest))


# --- OLE2 (legacy Office) ----------------------------------------------------

_WORD_STREAM = "WordDocument"


def _sniff_ole2(source: _Source, head: bytes) -> str:
    """Tell a legacy Word file from other OLE2 compound files (Excel, PowerPoint, Outlook)."""
    names = _ole2_directory_names(source, head)
    if names is None:
        # Directory unreadable from what we have: fall back to a byte search.
        if _WORD_STREAM.encode("utf-16-le") in head or not source.complete:
            return DOC
        names = []
    if _WORD_STREAM in names:
        return DOC
    if "Workbook" in names or "Book" in names:
        raise UnsupportedType("This file looks like a legacy Excel workbook (.xls).")
    if "PowerPoint Document" in names:
        raise UnsupportedType("This file looks like a legacy PowerPoint presentation (.ppt).")
    if any(name.startswith("__substg1.0_") for name in names):
        raise UnsupportedType("This file looks like an Outlook message (.msg).")
    raise UnsupportedType(
        "This file looks like a legacy Microsoft compound file, but not a Word document."
    )


def _ole2_directory_names(source: _Source, head: bytes) -> list[str] | None:
    """Return the stream names in the first directory sector of an OLE2 file."""
    if len(head) < 0x34:
        return None
    sector_shift = struct.unpack_from("<H", head, 0x1E)[0]
    first_dir_sector = struct.unpack_from("<I", head, 0x30)[0]
    if sector_shift not in (9, 12) or first_dir_sector >= 0xFFFFFFFA:
        return None
    sector_size = 1 << sector_shift
    # The header occupies sector -1, so sector n starts at (n + 1) * size.
    sector = source.read((first_dir_sector + 1) * sector_size, sector_size)
    if len(sector) < 128:
        return None
    names: list[str] = []
    for offset in range(0, len(sector) - 127, 128):
        length = struct.unpack_from("<H", sector, offset + 64)[0]
        if 2 <= length <= 64:
            raw = sector[offset : offset + length - 2]
            names.append(raw.decode("utf-16-le", errors="replace"))
    return names


# --- ZIP containers ------------------------------------------------------------


@dataclass(frozen=True)
class _ZipEntry:
    """Describe one member from a ZIP central directory."""

    name: str
    method: int
    compressed_size: int
    size: int
    local_offset: int


@dataclass(frozen=True)
class _ZipDirectory:
    """Hold the declared member count and the first entries of a ZIP file."""

    declared_count: int
    entries: list[_ZipEntry]


def _read_zip_directory(source: _Source, max_entries: int) -> _ZipDirectory:
    """Parse at most max_entries central directory records without trusting zipfile.

    zipfile builds an object per member up front, which a hostile archive with
    millions of tiny members turns into a memory attack; this reader stops
    early. Raise ValueError when the directory cannot be found or parsed.
    """
    tail_length = min(source.size, 22 + 65535)
    tail = source.read(source.size - tail_length, tail_length)
    eocd = tail.rfind(b"PK\x05\x06")
    if eocd < 0 or len(tail) - eocd < 22:
        raise ValueError("no end of central directory record")
    eocd_offset = source.size - tail_length + eocd
    (_, _, _, _, count, cd_size, cd_offset, _) = struct.unpack_from("<4sHHHHIIH", tail, eocd)
    directory_end = eocd_offset
    if count == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        locator = source.read(eocd_offset - 20, 20)
        if len(locator) == 20 and locator.startswith(b"PK\x06\x07"):
            zip64_offset = struct.unpack_from("<Q", locator, 8)[0]
            record = source.read(zip64_offset, 56)
            if len(record) == 56 and record.startswith(b"PK\x06\x06"):
                count, cd_size, cd_offset = struct.unpack_from("<QQQ", record, 32)
                directory_end = zip64_offset
    # Archives with data prepended (self-extractors) shift every offset.
    cd_start = directory_end - cd_size
    shift = cd_start - cd_offset
    if cd_start < 0:
        raise ValueError("central directory out of range")
    wanted = min(count, max_entries)
    # Each record is at least 46 bytes; read a bounded window.
    window = source.read(cd_start, min(cd_size, wanted * (46 + 1024) + 46))
    entries: list[_ZipEntry] = []
    position = 0
    while len(entries) < wanted:
        if window[position : position + 4] != b"PK\x01\x02" or position + 46 > len(window):
            break
        (method, _, _, _, compressed, size, name_len, extra_len, comment_len) = struct.unpack_from(
            "<HHHIIIHHH", window, position + 10
        )
        local_offset = struct.unpack_from("<I", window, position + 42)[0]
        raw_name = window[position + 46 : position + 46 + name_len]
        flags = struct.unpack_from("<H", window, position + 8)[0]
        encoding = "utf-8" if flags & 0x800 else "cp437"
        entries.append(
            _ZipEntry(
                name=raw_name.decode(encoding, errors="replace"),
                method=method,
                compressed_size=compressed,
                size=size,
                local_offset=local_offset + shift,
            )
        )
        position += 46 + name_len + extra_len + comment_len
    if wanted and not entries:
        raise ValueError("central directory unreadable")
    return _ZipDirectory(declared_count=count, entries=entries)


def _read_small_member(source: _Source, entry: _ZipEntry, limit: int = 256) -> bytes:
    """Return the first bytes of a small stored or deflated member, or b""."""
    header = source.read(entry.local_offset, 30)
    if len(header) < 30 or not header.startswith(b"PK\x03\x04"):
        return b""
    name_len, extra_len = struct.unpack_from("<HH", header, 26)
    data = source.read(
        entry.local_offset + 30 + name_len + extra_len, min(entry.compressed_size, 4096)
    )
    if entry.method == zipfile.ZIP_STORED:
        return data[:limit]
    if entry.method == zipfile.ZIP_DEFLATED:
        try:
            return zlib.decompressobj(-15).decompress(data, limit)
        except zlib.error:
            return b""
    return b""


_ODF_TYPES = {
    "application/vnd.oasis.opendocument.text": ODT,
    "application/epub+zip": EPUB,
}
_ODF_DESCRIPTIONS = {
    "application/vnd.oasis.opendocument.spreadsheet": "an OpenDocument spreadsheet (ODS)",
    "application/vnd.oasis.opendocument.presentation": "an OpenDocument presentation (ODP)",
    "application/vnd.oasis.opendocument.graphics": "an OpenDocument drawing (ODG)",
}


def _sniff_zip(source: _Source, head: bytes) -> str:
    """Tell DOCX, PPTX, ODT and EPUB apart from other ZIP archives."""
    try:
        directory = _read_zip_directory(source, MAX_ZIP_MEMBERS)
    except (ValueError, struct.error):
        if source.complete:
            raise UnsupportedType(
                "This file looks like a damaged ZIP archive (its directory cannot be read)."
            ) from None
        return _sniff_zip_prefix(head)
    entries = {entry.name: entry for entry in directory.entries}
    mimetype_entry = entries.get("mimetype")
    if mimetype_entry is not None:
        declared = _read_small_member(source, mimetype_entry).decode("ascii", "replace").strip()
        if declared in _ODF_TYPES:
            return _ODF_TYPES[declared]
        if declared in _ODF_DESCRIPTIONS:
            raise UnsupportedType(f"This file looks like {_ODF_DESCRIPTIONS[declared]}.")
    return _classify_zip_names(entries)


def _classify_zip_names(member_names: Iterable[str]) -> str:
    """Return the media type of an Office Open XML or EPUB archive from its member names."""
    names = set(member_names)
    if "[Content_Types].xml" in names:
        if any(name.startswith("word/") for name in names):
            return DOCX
        if any(name.startswith("ppt/") for name in names):
            return PPTX
        if any(name.startswith("xl/") for name in names):
            raise UnsupportedType("This file looks like an Excel workbook (XLSX).")
    if "META-INF/container.xml" in names and any(name.lower().endswith(".opf") for name in names):
        return EPUB
    if "content.xml" in names and "META-INF/manifest.xml" in names:
        # An OpenDocument file without its mimetype member: accept it as text
        # only if the manifest says so, which needs reading it; refuse instead.
        raise UnsupportedType("This file looks like an OpenDocument file of an unknown kind.")
    raise UnsupportedType(
        "This file looks like a ZIP archive that is not a DOCX, PPTX, ODT or EPUB document."
    )


def _sniff_zip_prefix(head: bytes) -> str:
    """Classify a ZIP archive from the local file headers in its first bytes."""
    names: set[str] = set()
    for match in re.finditer(rb"PK\x03\x04", head):
        start = match.start()
        if start + 30 > len(head):
            break
        (method,) = struct.unpack_from("<H", head, start + 8)
        (compressed,) = struct.unpack_from("<I", head, start + 18)
        name_len, extra_len = struct.unpack_from("<HH", head, start + 26)
        name = head[start + 30 : start + 30 + name_len].decode("utf-8", "replace")
        names.add(name)
        if name == "mimetype" and method == zipfile.ZIP_STORED:
            data_start = start + 30 + name_len + extra_len
            declared = head[data_start : data_start + min(compressed, 256)]
            media_type = _ODF_TYPES.get(declared.decode("ascii", "replace").strip())
            if media_type:
                return media_type
    return _classify_zip_names(names)


# ---------------------------------------------------------------------------
# Extraction in a child process
# ---------------------------------------------------------------------------

_MODULE_NAME = "knowledge_hub.extraction"
_context_lock = threading.Lock()
_context: Any = None


def _forkserver_context() -> Any:
    """Return the fork server context, starting the server once with this module preloaded.

    Forking from a small server that has already imported the parsers keeps
    each extraction cheap, and the children never inherit the web server's
    threads, locks or database connections.
    """
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([_MODULE_NAME])
            _start_forkserver()
            _context = context
        return _context


def _start_forkserver() -> None:
    """Start the fork server with this package importable whatever the working directory.

    Python 3.11's fork server ignores the parent's sys.path, so the project
    root is put on PYTHONPATH just for the launch of the server.
    """
    from multiprocessing import forkserver

    project_root = str(Path(__file__).resolve().parents[1])
    previous = os.environ.get("PYTHONPATH")
    parts = [project_root] + ([previous] if previous else [])
    os.environ["PYTHONPATH"] = os.pathsep.join(parts)
    try:
        forkserver.ensure_running()
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous


def extract(
    path: Path, media_type: str, *, seconds: float = 30.0, memory_mb: int = 768
) -> Extraction:
    """Extract the text of a file in a child process with a time and memory limit.

    Never raises for bad, broken or hostile file content, and never waits more
    than ``seconds`` plus a small grace after the child has started.
    ``memory_mb`` is the address space the extraction may add to the child's
    starting footprint.

    Children are forked from a fork server that has this module preloaded. As
    with every non-fork start method, multiprocessing re-imports the parent's
    main module in each child when it is a script file (not a ``-m`` module),
    so that script must be import-safe, and light for extraction to be cheap.
    """
    if media_type in _NOT_EXTRACTED_REASONS or media_type not in EXTRACTABLE_TYPES:
        # Nothing to parse, so no reason to pay for a process.
        return extract_in_process(path, media_type)

    context = _forkserver_context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child_main,
        args=(sender, os.fspath(path), media_type, seconds, memory_mb),
        name="knowledge-hub-extraction",
        daemon=True,
    )
    try:
        process.start()
    except BaseException:
        receiver.close()
        raise
    finally:
        # The child holds its own copy; keeping ours open would hide its EOF.
        sender.close()
    try:
        started = time.monotonic()
        payload: Any = None
        if receiver.poll(seconds + _GRACE_SECONDS):
            try:
                payload = receiver.recv()
            except (EOFError, OSError):
                payload = None  # the child died before answering
        timed_out = payload is None and time.monotonic() - started >= seconds
        if payload is None and not timed_out:
            process.join(0.5)  # it closed the pipe while dying; let it finish
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
    exitcode = process.exitcode
    process.close()

    result = _payload_to_extraction(payload)
    if result is not None:
        return result
    return Extraction("", None, _death_message(exitcode, timed_out, seconds, memory_mb))


def _payload_to_extraction(payload: Any) -> Extraction | None:
    """Return the Extraction a child sent, or None if it sent nothing usable."""
    if not (isinstance(payload, tuple) and len(payload) == 3):
        return None
    text, page_count, error = payload
    if not isinstance(text, str):
        return None
    if page_count is not None and not isinstance(page_count, int):
        return None
    if error is not None and not isinstance(error, str):
        return None
    return Extraction(text, page_count, error)


def _death_message(exitcode: int | None, timed_out: bool, seconds: float, memory_mb: int) -> str:
    """Explain for staff why a child process ended without a result."""
    if timed_out or exitcode == -signal.SIGXCPU:
        return _timeout_message(seconds)
    if exitcode == _EXIT_OUT_OF_MEMORY or exitcode == -signal.SIGKILL:
        # An unexpected SIGKILL is the kernel's out-of-memory killer.
        return f"Extraction ran out of memory (limit {memory_mb} MB)."
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"Extraction crashed ({name}) while reading the file."
    return f"Extraction stopped unexpectedly (exit code {exitcode})."


def _timeout_message(seconds: float) -> str:
    """Return the message for an extraction stopped by the time limit."""
    return f"Extraction took longer than {seconds:g} s and was stopped."


def _child_main(sender: Any, path: str, media_type: str, seconds: float, memory_mb: int) -> None:
    """Run one extraction in the child process under resource limits and send back the result."""
    try:
        _limit_resources(seconds, memory_mb)
        # Parser chatter about odd files is noise in the server log; the
        # outcome travels back in the Extraction instead.
        warnings.simplefilter("ignore")
        logging.disable(logging.CRITICAL)
        result = _extract_guarded(Path(path), media_type, memory_mb)
        try:
            sender.send((result.text, result.page_count, result.error))
        except MemoryError:
            sender.send(("", result.page_count, _memory_message(memory_mb)))
    except MemoryError:
        # Too little memory left even to report it; the exit code says it.
        os._exit(_EXIT_OUT_OF_MEMORY)
    except OSError:
        pass  # the parent stopped waiting and closed its end of the pipe
    finally:
        sender.close()


def _limit_resources(seconds: float, memory_mb: int) -> None:
    """Cap the child's address space and CPU time.

    The memory cap is counted on top of what the child already maps (the
    interpreter and whatever the package preloads), so the room left for the
    extraction does not shrink silently as the application grows.
    """
    soft_as = _address_space_in_use() + memory_mb * 1024 * 1024
    _, hard_as = resource.getrlimit(resource.RLIMIT_AS)
    if hard_as != resource.RLIM_INFINITY:
        soft_as = min(soft_as, hard_as)
    resource.setrlimit(resource.RLIMIT_AS, (soft_as, hard_as))
    # A CPU backstop in case the parent is gone and cannot kill us.
    cpu = max(1, math.ceil(seconds) + 1)
    _, hard_cpu = resource.getrlimit(resource.RLIMIT_CPU)
    if hard_cpu != resource.RLIM_INFINITY:
        cpu = min(cpu, hard_cpu)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, hard_cpu))
    # A child stopped by a limit or a crash must not litter core dumps.
    _, hard_core = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, hard_core))


def _address_space_in_use() -> int:
    """Return the bytes of address space this process maps now, or 0 if unknown."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * resource.getpagesize()


def _memory_message(memory_mb: int | None) -> str:
    """Return the message for an extraction that ran out of memory."""
    if memory_mb is None:
        return "Extraction ran out of memory."
    return f"Extraction ran out of memory (limit {memory_mb} MB)."


# ---------------------------------------------------------------------------
# Extraction proper
# ---------------------------------------------------------------------------


def extract_in_process(path: Path, media_type: str) -> Extraction:
    """Extract the text of a file in the current process, without limits.

    This is the body of the child process; use ``extract`` for untrusted
    files. Raises nothing for bad, broken or hostile content.
    """
    return _extract_guarded(Path(path), media_type, None)


class _SinkFull(Exception):
    """Signal that enough text has been collected."""


class _Sink:
    """Collect text pieces up to the raw character cap."""

    def __init__(self) -> None:
        """Start empty."""
        self.parts: list[str] = []
        self.length = 0
        self.page_count: int | None = None

    def write(self, piece: str) -> None:
        """Append a piece; raise _SinkFull once the cap is reached."""
        if not piece:
            return
        room = _MAX_RAW_CHARS - self.length
        if len(piece) >= room:
            self.parts.append(piece[:room])
            self.length += room
            raise _SinkFull
        self.parts.append(piece)
        self.length += len(piece)

    def clear(self) -> None:
        """Drop everything collected so far."""
        self.parts.clear()
        self.length = 0

    def end_line(self) -> None:
        """End the current line unless it has just ended (table cells hold paragraphs)."""
        if self.parts and not self.parts[-1].endswith("\n"):
            self.write("\n")

    def text(self) -> str:
        """Return the collected text, normalised and capped."""
        return _normalise_text("".join(self.parts))


class _ZipBomb(Exception):
    """Signal an archive that would unpack to too much data."""


class _Damaged(Exception):
    """Signal content that cannot be read, with a message for staff."""


_Extractor = Callable[[Path, _Sink], "str | None"]


def _extract_guarded(path: Path, media_type: str, memory_mb: int | None) -> Extraction:
    """Run the extractor for media_type and turn every failure into an Extraction."""
    if media_type in _NOT_EXTRACTED_REASONS:
        return Extraction("", None, _NOT_EXTRACTED_REASONS[media_type])
    extractor = _EXTRACTORS.get(media_type)
    if extractor is None:
        label = ACCEPTED_TYPES.get(media_type, media_type)
        return Extraction("", None, f"Text cannot be extracted from files of type {label}.")
    sink = _Sink()
    error: str | None
    try:
        try:
            error = extractor(path, sink)
        except _SinkFull:
            error = None
        except _ZipBomb:
            return Extraction("", None, _ZIP_BOMB_ERROR)
        except _Damaged as exc:
            return Extraction("", sink.page_count, str(exc))
        except DefusedXmlException:
            return Extraction("", None, _XML_ENTITY_ERROR)
        except ParseError as exc:
            return Extraction(
                "", None, f"The document is damaged: its XML cannot be read ({_reason(exc)})."
            )
        except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError) as exc:
            return Extraction(
                "", None, f"The file is damaged: its ZIP container cannot be read ({_reason(exc)})."
            )
        except RecursionError:
            return Extraction("", None, "The file is nested too deeply to be read.")
        except FileNotFoundError:
            return Extraction("", None, "The file could not be found.")
        except OSError as exc:
            return Extraction("", None, f"The file could not be read ({_reason(exc)}).")
        text = sink.text()
    except MemoryError:
        # Drop what was collected so the message itself can be built.
        sink.clear()
        return Extraction("", None, _memory_message(memory_mb))
    except Exception as exc:  # parsers fail in unforeseeable ways
        return Extraction("", None, f"The file could not be read ({_reason(exc)}).")
    return Extraction(text, sink.page_count, error)


def _reason(exc: BaseException) -> str:
    """Return a short, single-line description of an exception."""
    message = str(exc).strip() or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        message = exc.strerror
    message = " ".join(message.split())
    if len(message) > 200:
        return message[:197] + "..."
    # Callers end their sentence themselves.
    return message.rstrip(".")


# --- text normalisation ------------------------------------------------------

_SURROGATES = re.compile("[\ud800-\udfff]")
_DROPPED_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u200b\ufeff]")
_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_SPACE_AROUND_NEWLINE = re.compile(r" ?\n ?")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def _normalise_text(text: str) -> str:
    """Return text with tidy whitespace and no stray control characters, capped in length.

    The cap is MAX_TEXT_CHARS characters. Runs of spaces and tabs collapse
    to one space, lines are trimmed, and at most one blank line is kept
    between paragraphs.
    """
    if _SURROGATES.search(text):
        # RTF and some PDFs encode astral characters as surrogate pairs; join
        # them and replace strays, which could not be stored as UTF-8.
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = _LINE_BREAKS.sub("\n", text)
    text = _DROPPED_CHARS.sub("", text)
    text = _HORIZONTAL_SPACE.sub(" ", text)
    text = _SPACE_AROUND_NEWLINE.sub("\n", text)
    text = _MANY_NEWLINES.sub("\n\n", text)
    text = text.strip()
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS].rstrip()
    return text


def _read_capped(path: Path, limit: int) -> tuple[bytes, bool]:
    """Return at most limit bytes of the file and whether it was longer."""
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    return data[:limit], len(data) > limit


def _decode_document(data: bytes, truncated: bool, declared: str | None = None) -> str:
    """Decode text honouring a BOM, then a declared charset, then UTF-8, then Windows-1252."""
    for bom, encoding in _TEXT_BOMS:
        if data.startswith(bom):
            return _decode_lenient(data[len(bom) :], encoding, truncated)
    if declared:
        return _decode_lenient(data, declared, truncated)
    try:
        if truncated:
            return _decode_prefix(data, "utf-8")
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _decode_legacy(data)


def _decode_lenient(data: bytes, encoding: str, truncated: bool) -> str:
    """Decode with replacement characters for bad bytes, ignoring a cut final character."""
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    return decoder.decode(data, final=not truncated)


_READ_CHUNK = 1024 * 1024


def _decode_file(
    path: Path,
    limit: int,
    consume: Callable[[str], None],
    restart: Callable[[], None],
    declared: str | None = None,
) -> None:
    """Decode at most limit bytes of a file into consume, a chunk at a time.

    A BOM decides the encoding, then a declared charset; otherwise UTF-8 is
    tried, and if the bytes turn out not to be UTF-8, Windows-1252 and then
    Latin-1 from the start again (restart is called first). Decoding in
    chunks keeps memory flat: consume stops the reading by raising once it
    has enough text.
    """
    with path.open("rb") as handle:
        head = handle.read(4)
        skip = 0
        candidates = ["utf-8", "cp1252", "latin-1"]
        for bom, encoding in _TEXT_BOMS:
            if head.startswith(bom):
                candidates, skip = [encoding], len(bom)
                break
        else:
            if declared:
                candidates = [declared]
        for number, encoding in enumerate(candidates):
            last = number == len(candidates) - 1
            if number:
                restart()
            handle.seek(skip)
            decoder = codecs.getincrementaldecoder(encoding)("replace" if last else "strict")
            remaining = limit
            try:
                while remaining > 0:
                    chunk = handle.read(min(_READ_CHUNK, remaining))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                    consume(decoder.decode(chunk))
                # A character cut by the read limit is dropped, not replaced.
                truncated = remaining <= 0 and bool(handle.read(1))
                consume(decoder.decode(b"", final=not truncated))
            except UnicodeDecodeError:
                continue
            return


# --- plain text and Markdown ---------------------------------------------------


def _extract_text(path: Path, sink: _Sink) -> str | None:
    """Extract a plain text or Markdown file."""
    _decode_file(path, _MAX_TEXT_FILE_BYTES, sink.write, sink.clear)
    return None


# --- HTML ---------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    """address article aside blockquote body caption center dd details dialog dir
    div dl dt fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup
    hr li main menu nav ol p pre section summary table tbody tfoot thead tr ul
    legend option""".split()
)
_CELL_TAGS = frozenset({"td", "th"})
_SKIPPED_TAGS = frozenset({"script", "style", "template", "noscript"})
_HEAD_TAGS = frozenset(
    {"title", "meta", "link", "base", "script", "style", "noscript", "template", "head", "html"}
)
_HTML_WHITESPACE = re.compile(r"\s+")


class _HTMLText(HTMLParser):
    """Collect the visible text of an HTML document, plus its title."""

    def __init__(self, sink: _Sink, keep_title: bool) -> None:
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
        if tag in _SKIPPED_TAGS:
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
        if tag in _SKIPPED_TAGS:
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


def _declared_html_charset(data: bytes) -> str | None:
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


def _html_to_text(markup: str, sink: _Sink, keep_title: bool) -> None:
    """Write the visible text of markup into sink."""
    parser = _HTMLText(sink, keep_title)
    chunk = 1024 * 1024
    for start in range(0, len(markup), chunk):
        parser.feed(markup[start : start + chunk])
    parser.close()


def _extract_html(path: Path, sink: _Sink) -> str | None:
    """Extract an HTML document."""
    with path.open("rb") as handle:
        declared = _declared_html_charset(handle.read(4096))
    parsers = [_HTMLText(sink, keep_title=True)]

    def restart() -> None:
        sink.clear()
        parsers[0] = _HTMLText(sink, keep_title=True)

    _decode_file(
        path, _MAX_MARKUP_FILE_BYTES, lambda text: parsers[0].feed(text), restart, declared
    )
    parsers[0].close()
    return None


# --- RTF ----------------------------------------------------------------------


def _extract_rtf(path: Path, sink: _Sink) -> str | None:
    """Extract an RTF document."""
    data, _ = _read_capped(path, _MAX_MARKUP_FILE_BYTES)
    # RTF is 7-bit with escapes; stray 8-bit bytes are most likely cp1252.
    source = _decode_legacy(data)
    try:
        text = rtf_to_text(source, encoding="cp1252", errors="replace")
    except (ValueError, IndexError, KeyError, LookupError) as exc:
        raise _Damaged(f"The RTF file is damaged: {_reason(exc)}.") from exc
    sink.write(text)
    return None


# --- PDF ----------------------------------------------------------------------

_NO_TEXT_LAYER = "No text layer: the PDF looks like a scanned image, and OCR is not available."


def _extract_pdf(path: Path, sink: _Sink) -> str | None:
    """Extract the text layer of a PDF, page by page."""
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            # Many PDFs are "encrypted" with an empty password only to set
            # permissions; those open fine.
            try:
                opened = reader.decrypt("")
            except Exception as exc:  # missing crypto backends raise their own errors
                raise FileNotDecryptedError(str(exc)) from exc
            if opened == PasswordType.NOT_DECRYPTED:
                raise FileNotDecryptedError("a password is needed")
        pages = reader.pages
        sink.page_count = len(pages)
    except (_SinkFull, MemoryError):
        raise
    except LimitReachedError as exc:
        raise _Damaged(f"The PDF exceeds a safety limit and was not read: {_reason(exc)}.") from exc
    except FileNotDecryptedError as exc:
        raise _Damaged("The PDF is protected by a password, so its text cannot be read.") from exc
    except Exception as exc:  # pypdf raises many kinds of errors on bad input
        raise _Damaged(f"The PDF is damaged or truncated: {_reason(exc)}.") from exc

    if sink.page_count == 0:
        return "The PDF has no pages."
    first_failure: str | None = None
    found_text = False
    for number in range(sink.page_count):
        try:
            page = pages[number]
            text = page.extract_text() or ""
        except (_SinkFull, MemoryError):
            raise
        except LimitReachedError as exc:
            first_failure = first_failure or (
                f"The PDF exceeds a safety limit on page {number + 1}: {_reason(exc)}."
            )
            continue
        except FileNotDecryptedError:
            return "The PDF is protected by a password, so its text cannot be read."
        except Exception as exc:  # one broken page must not lose the rest
            first_failure = first_failure or (
                f"The PDF is damaged or truncated: page {number + 1}: {_reason(exc)}."
            )
            continue
        if text.strip():
            found_text = True
        sink.write(text)
        sink.write("\n\n")
    if first_failure:
        return first_failure
    if not found_text:
        if _pdf_has_images(reader):
            return _NO_TEXT_LAYER
        return "The PDF contains no text."
    return None


def _pdf_has_images(reader: PdfReader) -> bool:
    """Tell whether any of the first pages draws an image (a sign of a scan)."""
    try:
        for number in range(min(len(reader.pages), 50)):
            resources = reader.pages[number].get("/Resources")
            if resources is None:
                continue
            xobjects = resources.get_object().get("/XObject")
            if xobjects is None:
                continue
            for item in xobjects.get_object().values():
                if item.get_object().get("/Subtype") == "/Image":
                    return True
    except (_SinkFull, MemoryError):
        raise
    except Exception:  # only a hint for the message
        return True
    return False


# --- ZIP-based documents -------------------------------------------------------


class _SafeZip:
    """Read members of an untrusted ZIP archive within size and ratio limits."""

    def __init__(self, path: Path) -> None:
        """Open the archive after checking its declared member count and total size."""
        with path.open("rb") as handle:
            source = _FileSource(handle, os.fstat(handle.fileno()).st_size)
            try:
                directory = _read_zip_directory(source, 0)
            except (ValueError, struct.error):
                directory = None  # let zipfile report what is wrong
        if directory is not None and directory.declared_count > MAX_ZIP_MEMBERS:
            raise _ZipBomb
        self.archive = zipfile.ZipFile(path)
        infos = self.archive.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise _ZipBomb
        if sum(info.file_size for info in infos) > MAX_ZIP_TOTAL_BYTES:
            raise _ZipBomb
        self.names = {info.filename: info for info in infos}
        self.bytes_read = 0

    def close(self) -> None:
        """Close the archive."""
        self.archive.close()

    def __enter__(self) -> _SafeZip:
        """Return self for use in a with statement."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the archive."""
        self.close()

    def has(self, name: str) -> bool:
        """Tell whether the archive holds a member called name."""
        return name in self.names

    def read(self, name: str) -> bytes:
        """Return the content of a member, refusing bombs and reading at most the caps."""
        info = self.names[name]
        if info.file_size > _ZIP_RATIO_FLOOR and info.file_size > MAX_ZIP_RATIO * max(
            info.compress_size, 1
        ):
            raise _ZipBomb
        # Declared sizes can lie, so count what actually comes out.
        cap = min(_MAX_ZIP_MEMBER_BYTES, MAX_ZIP_TOTAL_BYTES - self.bytes_read)
        chunks: list[bytes] = []
        size = 0
        with self.archive.open(info) as member:
            while True:
                chunk = member.read(1024 * 1024)
                if not chunk:
                    break
                size += len(chunk)
                if size > cap:
                    raise _ZipBomb
                if size > _ZIP_RATIO_FLOOR and size > MAX_ZIP_RATIO * max(info.compress_size, 1):
                    raise _ZipBomb
                chunks.append(chunk)
        self.bytes_read += size
        return b"".join(chunks)

    def xml(self, name: str) -> Element:
        """Parse a member as XML with DTDs, entities and external references forbidden."""
        root: Element = safe_xml.fromstring(
            self.read(name), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        return root


def _walk(
    root: Element,
    start: Callable[[Element, Element | None], bool],
    end: Callable[[Element], None],
) -> None:
    """Visit root's tree depth-first without recursion (documents can nest deeply).

    start(element, parent) returns whether to descend into the element; end
    is called for every element, visited or not.
    """
    stack: list[tuple[Element, Element | None, bool]] = [(root, None, False)]
    while stack:
        element, parent, finished = stack.pop()
        if finished:
            end(element)
            continue
        descend = start(element, parent)
        stack.append((element, parent, True))
        if descend:
            stack.extend((child, element, False) for child in reversed(element))


def _local(tag: object) -> str:
    """Return the local part of a namespaced tag."""
    if not isinstance(tag, str):
        return ""  # comments and processing instructions
    return tag.rsplit("}", 1)[-1]


_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _relationships(zip_file: _SafeZip, rels_name: str, base_dir: str) -> list[tuple[str, str, str]]:
    """Return (id, type, member name) for each internal relationship in a .rels part."""
    if not zip_file.has(rels_name):
        return []
    found: list[tuple[str, str, str]] = []
    for rel in zip_file.xml(rels_name).iter(f"{_REL_NS}Relationship"):
        if rel.get("TargetMode") == "External":
            continue
        target = unquote(rel.get("Target", ""))
        if target.startswith("/"):
            name = posixpath.normpath(target.lstrip("/"))
        else:
            name = posixpath.normpath(posixpath.join(base_dir, target))
        found.append((rel.get("Id", ""), rel.get("Type", ""), name))
    return found


# DOCX

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
# Properties, field codes and deleted text are not document text; properties
# also hold tab-stop definitions that would look like tabs.
_DOCX_SKIPPED = frozenset(
    _W + name
    for name in ("pPr", "rPr", "sectPr", "tblPr", "trPr", "tcPr", "instrText", "delText", "del")
) | {_MC_FALLBACK}
_DOCX_CELL_ENDS = frozenset({_W + "tc", _W + "tr"})


def _docx_text(root: Element, sink: _Sink) -> None:
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

    _walk(root, start, end)


def _extract_docx(path: Path, sink: _Sink) -> str | None:
    """Extract a Word (DOCX) document: body, then footnotes and endnotes."""
    with _SafeZip(path) as zip_file:
        main = "word/document.xml"
        for __, rel_type, name in _relationships(zip_file, "_rels/.rels", ""):
            if rel_type.endswith("/officeDocument") and zip_file.has(name):
                main = name
                break
        if not zip_file.has(main):
            raise _Damaged("The DOCX file is damaged: it has no document body.")
        _docx_text(zip_file.xml(main), sink)
        main_dir, main_file = posixpath.split(main)
        rels_name = posixpath.join(main_dir, "_rels", main_file + ".rels")
        for __, rel_type, name in _relationships(zip_file, rels_name, main_dir):
            if rel_type.endswith(("/footnotes", "/endnotes")) and zip_file.has(name):
                sink.write("\n\n")
                _docx_text(zip_file.xml(name), sink)
    return None


# ODT

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


def _odt_text(root: Element, sink: _Sink) -> None:
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

    _walk(root, start, end)


def _extract_odt(path: Path, sink: _Sink) -> str | None:
    """Extract an OpenDocument Text (ODT) document."""
    with _SafeZip(path) as zip_file:
        if not zip_file.has("content.xml"):
            raise _Damaged("The ODT file is damaged: it has no content.xml.")
        root = zip_file.xml("content.xml")
        body = root.find(_OFFICE + "body")
        _odt_text(body if body is not None else root, sink)
    return None


# PPTX

_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_SLIDE_NAME = re.compile(r"^ppt/slides/slide(\d+)\.xml$")


def _pptx_text(root: Element, sink: _Sink) -> None:
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

    _walk(root, start, end)


def _pptx_slide_names(zip_file: _SafeZip) -> list[str]:
    """Return the slide parts in presentation order."""
    ordered: list[str] = []
    if zip_file.has("ppt/presentation.xml"):
        targets = {
            rel_id: name
            for rel_id, _, name in _relationships(
                zip_file, "ppt/_rels/presentation.xml.rels", "ppt"
            )
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


def _extract_pptx(path: Path, sink: _Sink) -> str | None:
    """Extract a PowerPoint (PPTX) presentation, slide by slide."""
    with _SafeZip(path) as zip_file:
        for name in _pptx_slide_names(zip_file):
            _pptx_text(zip_file.xml(name), sink)
            sink.write("\n\n")
    return None


# EPUB

_HTML_MEDIA_TYPES = frozenset({"application/xhtml+xml", "text/html"})


def _extract_epub(path: Path, sink: _Sink) -> str | None:
    """Extract an EPUB book: the XHTML documents of its spine, in reading order."""
    with _SafeZip(path) as zip_file:
        opf_name = None
        if zip_file.has("META-INF/container.xml"):
            container = zip_file.xml("META-INF/container.xml")
            for rootfile in container.iter():
                if _local(rootfile.tag) == "rootfile" and rootfile.get("full-path"):
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
            raise _Damaged("The EPUB file is damaged: it has no readable chapters.")
        for name in chapters:
            data = zip_file.read(name)
            # Chapters are XHTML, usually with a DOCTYPE and HTML entities; the
            # HTML parser reads them without any DTD or entity expansion.
            markup = _decode_document(data, False, _declared_html_charset(data))
            _html_to_text(markup, sink, keep_title=False)
            sink.write("\n\n")
    return None


def _epub_spine(zip_file: _SafeZip, opf_name: str) -> list[str]:
    """Return the chapter members listed in the spine of the package document."""
    package = zip_file.xml(opf_name)
    base_dir = posixpath.dirname(opf_name)
    manifest: dict[str, str] = {}
    for item in package.iter():
        if _local(item.tag) != "item":
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
        if _local(itemref.tag) != "itemref":
            continue
        name = manifest.get(itemref.get("idref", ""))
        if name and zip_file.has(name) and name not in chapters:
            chapters.append(name)
    return chapters


_EXTRACTORS: dict[str, _Extractor] = {
    PDF: _extract_pdf,
    DOCX: _extract_docx,
    ODT: _extract_odt,
    HTML: _extract_html,
    PLAIN: _extract_text,
    MARKDOWN: _extract_text,
    RTF: _extract_rtf,
    EPUB: _extract_epub,
    PPTX: _extract_pptx,
}
