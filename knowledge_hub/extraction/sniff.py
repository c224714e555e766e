"""Tell what a file is from its bytes alone.

The client's file name and declared type are never trusted; the name is
consulted only to tell Markdown from plain text once the bytes are known to
be text (and from HTML that only opens with an element, as Markdown may).
Signatures come first, then text detection, then RTF, HTML and SVG markup;
OLE2 compound files and ZIP containers are looked into to tell the
document formats apart from other files of the same family.
"""

from __future__ import annotations

import codecs
import os
import re
import struct
import zipfile
from collections.abc import Iterable
from pathlib import Path

from knowledge_hub.extraction.formats.ole import OLE_MAGIC
from knowledge_hub.extraction.formats.ole import CompoundFileError
from knowledge_hub.extraction.formats.ole import classify
from knowledge_hub.extraction.formats.ole import is_encrypted_package
from knowledge_hub.extraction.formats.ole import open_compound
from knowledge_hub.extraction.formats.ole import root_names
from knowledge_hub.extraction.media import DOC
from knowledge_hub.extraction.media import DOCX
from knowledge_hub.extraction.media import EPUB
from knowledge_hub.extraction.media import HTML
from knowledge_hub.extraction.media import JPEG
from knowledge_hub.extraction.media import MARKDOWN
from knowledge_hub.extraction.media import MARKDOWN_SUFFIXES
from knowledge_hub.extraction.media import ODP
from knowledge_hub.extraction.media import ODS
from knowledge_hub.extraction.media import ODT
from knowledge_hub.extraction.media import PDF
from knowledge_hub.extraction.media import PLAIN
from knowledge_hub.extraction.media import PNG
from knowledge_hub.extraction.media import PPTX
from knowledge_hub.extraction.media import RTF
from knowledge_hub.extraction.media import SNIFF_BYTES
from knowledge_hub.extraction.media import TIFF
from knowledge_hub.extraction.media import XLSX
from knowledge_hub.extraction.media import UnsupportedType
from knowledge_hub.extraction.safezip import MAX_ZIP_MEMBERS
from knowledge_hub.extraction.safezip import read_small_member
from knowledge_hub.extraction.safezip import read_zip_directory
from knowledge_hub.extraction.sources import BytesSource
from knowledge_hub.extraction.sources import FileSource
from knowledge_hub.extraction.sources import Source
from knowledge_hub.extraction.text import TEXT_BOMS
from knowledge_hub.extraction.text import decode_legacy
from knowledge_hub.extraction.text import decode_prefix
from knowledge_hub.extraction.text import detect_encodings

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

    Pass at least the first 64 KiB. ZIP-based formats (DOCX, XLSX, PPTX, ODT,
    ODS, ODP, EPUB) and compound files (DOC, XLS, PPT) can only be told apart
    reliably with the whole file, so prefer ``sniff_file`` for stored files;
    from a prefix the local file headers, or the compound file's directory
    entries, are searched, which works for ordinary documents. Raise ``UnsupportedType`` for
    anything that is not accepted. ``filename`` is used only to tell Markdown
    from plain text.
    """
    return _sniff(BytesSource(head, complete=False), head, filename)


def sniff_file(path: Path, filename: str = "") -> str:
    """Return the media type of the file at path, looking inside ZIP containers.

    The members of a ZIP container tell DOCX, XLSX, PPTX, ODT, ODS, ODP and
    EPUB apart, and the directory of a compound file DOC, XLS and PPT. Raise
    ``UnsupportedType`` for anything not accepted. ``filename`` is the
    name the file came with (defaults to the stored name) and is used only to
    tell Markdown from plain text.
    """
    path = Path(path)
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
        source = FileSource(handle, os.fstat(handle.fileno()).st_size)
        return _sniff(source, head, filename or path.name)


def _sniff(source: Source, head: bytes, filename: str) -> str:
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
    if head.startswith(OLE_MAGIC):
        return _sniff_ole2(source, head)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF

    markdown = filename.lower().endswith(MARKDOWN_SUFFIXES)
    decoded = _decode_text_prefix(head)
    if decoded is None and _looks_like_damaged_html(head, markdown):
        return HTML
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
    if _looks_like_html(text, markdown):
        return HTML
    if _looks_like(text, _SVG_START):
        raise UnsupportedType(
            "This file looks like an SVG image; only PNG, JPEG and TIFF images are accepted."
        )
    return MARKDOWN if markdown else PLAIN


# Control characters that do not occur in real text. Tab, line feed, vertical
# tab, form feed, carriage return, SUB (old DOS end of file) and ESC (terminal
# colours in logs) are tolerated.
_BINARY_CONTROLS = re.compile("[\x00-\x08\x0e-\x19\x1c-\x1f\x7f\x80-\x9f]")
_MAX_CONTROL_RATIO = 0.01


def _decode_text_prefix(head: bytes) -> str | None:
    """Return the decoded prefix if the bytes look like text, else None."""
    for bom, encoding in TEXT_BOMS:
        if head.startswith(bom):
            try:
                text = decode_prefix(head[len(bom) :], encoding)
            except UnicodeDecodeError:
                return None
            break
    else:
        if b"\x00" in head:
            return None
        try:
            text = decode_prefix(head, "utf-8")
        except UnicodeDecodeError:
            text = decode_legacy(head)
            if _binary(text):
                # The lead bytes of Shift_JIS, GBK and Big5 are control
                # characters in Latin-1: read the text as what it is.
                text = _decode_detected(head) or text
    if not text:
        return ""
    if _binary(text):
        return None
    return text


def _binary(text: str) -> bool:
    """Tell whether decoded text holds more control characters than real text does."""
    return len(_BINARY_CONTROLS.findall(text)) > _MAX_CONTROL_RATIO * len(text)


def _decode_detected(head: bytes) -> str | None:
    """Decode a prefix in the encoding charset-normalizer finds likeliest, if any."""
    encodings = detect_encodings(head, complete=False)
    if not encodings:
        return None
    try:
        return decode_prefix(head, encodings[0])
    except UnicodeDecodeError:
        return None


_XML_PROLOGUE = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)
_HTML_DOCUMENT = re.compile(r"<(?:!doctype\s+html|html|head|body)[\s>/]", re.IGNORECASE)
_SVG_START = re.compile(r"<(?:!doctype\s+svg|(?:[\w.-]+:)?svg)[\s>/]", re.IGNORECASE)
# A whole start tag: its name, and its attributes up to the closing ">".
_START_TAG = re.compile(r"<([a-z][a-z0-9]*)(?=[\s/>])([^<>]*)>", re.IGNORECASE)
_DEFAULT_NAMESPACE = re.compile(r"""\sxmlns\s*=\s*["']?([^"'\s>]*)""", re.IGNORECASE)
_XHTML_NAMESPACE = "http://www.w3.org/1999/xhtml"
# The elements of HTML, including obsolete ones that old pages still use. SVG
# and MathML (whose roots HTML also accepts) are left out: they are images and
# formulas, not pages.
HTML_ELEMENTS = frozenset(
    """a abbr acronym address applet area article aside audio b base basefont bdi bdo
    bgsound big blink blockquote body br button canvas caption center cite code col
    colgroup data datalist dd del details dfn dialog dir div dl dt em embed fieldset
    figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header
    hgroup hr html i iframe image img input ins isindex kbd keygen label legend li link
    listing main map mark marquee menu menuitem meta meter multicol nav nextid nobr
    noembed noframes noscript object ol optgroup option output p param picture
    plaintext pre progress q rb rp rt rtc ruby s samp script search section select slot
    small source spacer span strike strong style sub summary sup table tbody td
    template textarea tfoot th thead time title tr track tt u ul var video wbr
    xmp""".split()
)
# A bounded prefix cannot hold more prologue items than this.
_MAX_PROLOGUE_ITEMS = 100
# Binary bytes tolerated in a page that starts like HTML (mail and old
# editors left stray bytes in saved pages).
_MAX_MARKUP_CONTROL_RATIO = 0.05


def _looks_like_html(text: str, markdown: bool) -> bool:
    """Tell whether text starts like an HTML or XHTML document.

    Past any BOM, white space, comments and processing instructions, it must
    open with a DOCTYPE for HTML or a whole start tag of an HTML element (so
    that a page saved from a site that starts with <script>, <meta> or <div>
    counts, and text that merely starts with "<" does not). After an XML
    declaration, or for a file named as Markdown (which may start with HTML
    of its own), only an HTML DOCTYPE or an <html>, <head> or <body> tag will
    do; an element with an XML namespace other than XHTML's is XML.
    """
    rest, xml_declared = _past_prologue(text)
    if _HTML_DOCUMENT.match(rest):
        return True
    if xml_declared or markdown:
        return False
    tag = _START_TAG.match(rest)
    if tag is None or tag.group(1).lower() not in HTML_ELEMENTS:
        return False
    namespace = _DEFAULT_NAMESPACE.search(tag.group(2))
    return namespace is None or namespace.group(1) == _XHTML_NAMESPACE


def _looks_like_damaged_html(head: bytes, markdown: bool) -> bool:
    """Tell a page with a few stray binary bytes from binary data that is not text."""
    text = head.removeprefix(codecs.BOM_UTF8).decode("latin-1")
    if not _looks_like_html(text, markdown):
        return False
    return len(_BINARY_CONTROLS.findall(text)) <= _MAX_MARKUP_CONTROL_RATIO * len(text)


def _past_prologue(text: str) -> tuple[str, bool]:
    """Return text past its BOM, XML declaration, processing instructions, comments and
    white space, and tell whether an XML declaration was among them.
    """
    text = text.lstrip("\ufeff")
    position = 0
    xml_declared = False
    for __ in range(_MAX_PROLOGUE_ITEMS):
        match = _XML_PROLOGUE.match(text, position)
        if not match:
            break
        xml_declared = xml_declared or match.group().lstrip().startswith("<?xml")
        position = match.end()
    return text[position:].lstrip(), xml_declared


def _looks_like(text: str, start: re.Pattern[str]) -> bool:
    """Tell whether text, past any XML declaration and comments, begins with start."""
    return bool(start.match(_past_prologue(text)[0]))


# --- OLE2 (legacy Office) ----------------------------------------------------

_PROTECTED_OFFICE = (
    "This file looks like a password-protected Office document (Word, Excel or "
    "PowerPoint): upload an unprotected copy."
)


def _sniff_ole2(source: Source, head: bytes) -> str:
    """Tell Word, Excel and PowerPoint files from other OLE2 compound files.

    The directory is read with olefile, within the bounds ``open_compound``
    sets, from the file itself or, for a prefix, from the bytes at hand.
    """
    names: set[str] | None
    try:
        with open_compound(source.handle if isinstance(source, FileSource) else head) as ole:
            names = root_names(ole)
    except CompoundFileError:
        names = None
    if names is None:
        if source.complete:
            raise UnsupportedType(
                "This file looks like a damaged Microsoft Office file "
                "(its compound-file structure cannot be read)."
            )
        return _sniff_ole2_prefix(head)
    media_type = classify(names)
    if media_type is not None:
        return media_type
    if is_encrypted_package(names):
        raise UnsupportedType(_PROTECTED_OFFICE)
    if any(name.startswith("__substg1.0_") for name in names):
        raise UnsupportedType("This file looks like an Outlook message (.msg).")
    raise UnsupportedType(
        "This file looks like a Microsoft compound file that is not a Word, Excel "
        "or PowerPoint document."
    )


def _sniff_ole2_prefix(head: bytes) -> str:
    """Guess from the stream names in a prefix whose directory lies beyond it."""
    found = {name for name in _OLE2_NAMES if name.encode("utf-16-le") in head}
    media_type = classify(found)
    if media_type is not None:
        return media_type
    if is_encrypted_package(found):
        raise UnsupportedType(_PROTECTED_OFFICE)
    # Most compound files that people upload as documents are Word files; the
    # whole file, in sniff_file, tells for sure.
    return DOC


_OLE2_NAMES = (
    "WordDocument",
    "Workbook",
    "Book",
    "PowerPoint Document",
    "EncryptionInfo",
    "EncryptedPackage",
)


# --- ZIP containers ------------------------------------------------------------


_ODF_TYPES = {
    "application/vnd.oasis.opendocument.text": ODT,
    "application/vnd.oasis.opendocument.spreadsheet": ODS,
    "application/vnd.oasis.opendocument.presentation": ODP,
    "application/epub+zip": EPUB,
}
_ODF_DESCRIPTIONS = {
    "application/vnd.oasis.opendocument.graphics": "an OpenDocument drawing (ODG)",
    "application/vnd.oasis.opendocument.formula": "an OpenDocument formula (ODF)",
    "application/vnd.oasis.opendocument.chart": "an OpenDocument chart (ODC)",
    "application/vnd.oasis.opendocument.database": "an OpenDocument database (ODB)",
}


def _sniff_zip(source: Source, head: bytes) -> str:
    """Tell the Office Open XML, OpenDocument and EPUB formats apart from other ZIP archives."""
    try:
        directory = read_zip_directory(source, MAX_ZIP_MEMBERS)
    except (ValueError, struct.error):
        if source.complete:
            raise UnsupportedType(
                "This file looks like a damaged ZIP archive (its directory cannot be read)."
            ) from None
        return _sniff_zip_prefix(head)
    entries = {entry.name: entry for entry in directory.entries}
    mimetype_entry = entries.get("mimetype")
    if mimetype_entry is not None:
        declared = read_small_member(source, mimetype_entry).decode("ascii", "replace").strip()
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
            return XLSX
    if "META-INF/container.xml" in names and any(name.lower().endswith(".opf") for name in names):
        return EPUB
    if "content.xml" in names and "META-INF/manifest.xml" in names:
        # An OpenDocument file without its mimetype member: accept it as text
        # only if the manifest says so, which needs reading it; refuse instead.
        raise UnsupportedType("This file looks like an OpenDocument file of an unknown kind.")
    raise UnsupportedType(
        "This file looks like a ZIP archive that is not an Office (DOCX, XLSX, PPTX), "
        "OpenDocument or EPUB document."
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
