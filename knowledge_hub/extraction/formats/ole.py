"""OLE2 compound files (legacy Office): opening them within bounds, and telling them apart.

olefile reads the header, the whole FAT and the directory as soon as a file
is opened. Left to itself it is easy to stall: the FAT is grown by
concatenation (quadratic in its length), a cyclic DIFAT chain makes it grow
without end, and a cyclic directory chain is followed as far as the FAT
reaches. ``open_compound`` adds the missing bounds: the FAT may be only as
large as a file of this size needs (with room for slack), it is extended in
place, and the directory chain must end within ``MAX_DIRECTORY_BYTES``.
Everything is then linear in the size of the FAT, itself about 1/128 of the
file, so sniffing a compound file in the web process stays cheap.

The readers of .doc, .xls and .ppt files use the same opener in the sandboxed
child, and ``read_stream`` refuses streams that claim more bytes than the
file holds.
"""

from __future__ import annotations

import array
import struct
from pathlib import Path
from typing import Any
from typing import BinaryIO

import olefile

from knowledge_hub.extraction.media import DOC
from knowledge_hub.extraction.media import PPT
from knowledge_hub.extraction.media import XLS

OLE_MAGIC = olefile.MAGIC
# What olefile raises for damage (OSError subclasses, mostly); a directory
# tree nested too deeply exhausts its recursive walk.
_DAMAGE = (OSError, ValueError, IndexError, struct.error, RecursionError)
# About 32,000 directory entries: far more than any real document has.
MAX_DIRECTORY_BYTES = 4 * 1024 * 1024


class CompoundFileError(Exception):
    """Signal a compound file that is damaged, or shaped to exhaust its reader."""


class _CompoundFile(olefile.OleFileIO):
    """olefile's reader with its FAT and directory loading bounded (see the module docstring)."""

    def loadfat(self, header: bytes) -> None:
        entries_per_sector = self.sectorsize // 4
        needed = -(-max(self.nb_sect, 1) // entries_per_sector)
        if self.num_fat_sectors > 2 * needed + 8:
            raise CompoundFileError("the file allocation table is larger than the file")
        # Each FAT sector listed adds a sector's worth of entries; allow the
        # header's 109 slots and one DIFAT sector's worth of slack.
        self._fat_limit = (self.num_fat_sectors + 109 + entries_per_sector) * entries_per_sector
        super().loadfat(header)

    def loadfat_sect(self, sect: Any) -> Any:
        # olefile's own version concatenates (self.fat = self.fat + next), which
        # is quadratic; this one extends in place and stops at the limit.
        table = sect if isinstance(sect, array.array) else self.sect2array(sect)
        isect = None
        for isect in table:
            isect &= 0xFFFFFFFF
            if isect in (olefile.ENDOFCHAIN, olefile.FREESECT):
                break
            self.fat.extend(self.sect2array(self.getsect(isect)))
            if len(self.fat) > self._fat_limit:
                raise CompoundFileError("the file allocation table does not end")
        return isect

    def loaddirectory(self, sect: int) -> None:
        # Follow the directory's chain first: it must end, and within the limit.
        limit = MAX_DIRECTORY_BYTES // self.sectorsize
        count = 0
        current = sect
        while current != olefile.ENDOFCHAIN:
            if count >= limit or not 0 <= current < len(self.fat):
                raise CompoundFileError("the directory is damaged or too large")
            current = self.fat[current]
            count += 1
        super().loaddirectory(sect)


def open_compound(source: Path | bytes | BinaryIO) -> olefile.OleFileIO:
    """Open a compound file within bounds: a path, bytes, or an open binary file.

    Raise ``CompoundFileError`` for a damaged or hostile file; use the result
    as a context manager (an open file passed in is left open).
    """
    if isinstance(source, bytes) and len(source) < olefile.MINIMAL_OLEFILE_SIZE:
        raise CompoundFileError("the file is too short")
    ole = _CompoundFile()  # opens nothing yet, so a failure below can close what it opened
    try:
        ole.open(str(source) if isinstance(source, Path) else source)
    except (CompoundFileError, *_DAMAGE) as exc:
        ole.close()
        if isinstance(exc, (CompoundFileError, FileNotFoundError)):
            raise
        raise CompoundFileError(str(exc) or type(exc).__name__) from None
    return ole


def root_names(ole: olefile.OleFileIO) -> set[str]:
    """Return the names of the streams and storages at the top of a compound file."""
    return {entry.name for entry in ole.root.kids}


#: The stream at the top level that says what an Office compound file holds.
_MAIN_STREAMS = (
    ("WordDocument", DOC),
    ("Workbook", XLS),
    ("Book", XLS),  # Excel 5 and 95
    ("PowerPoint Document", PPT),
)


def classify(names: set[str]) -> str | None:
    """Return the media type for the top-level names of a compound file, or None."""
    for name, media_type in _MAIN_STREAMS:
        if name in names:
            return media_type
    return None


def is_encrypted_package(names: set[str]) -> bool:
    """Tell whether a compound file is a password-protected OOXML (DOCX, XLSX, PPTX) file."""
    return "EncryptionInfo" in names and "EncryptedPackage" in names


def read_stream(ole: olefile.OleFileIO, path: str | list[str]) -> bytes:
    """Return a whole stream, refusing one that claims more bytes than the file holds."""
    size = ole.get_size(path)
    if size > ole._filesize:
        raise CompoundFileError("a stream is larger than the file")
    try:
        data: bytes = ole.openstream(path).read()
    except _DAMAGE as exc:
        raise CompoundFileError(str(exc) or type(exc).__name__) from None
    return data
