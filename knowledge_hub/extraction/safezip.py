"""Read untrusted ZIP archives within limits, against ZIP bombs.

``read_zip_directory`` parses the central directory itself, stopping early,
so that an archive declaring millions of members is refused before zipfile
builds an object for each; ``read_small_member`` reads the start of one
member for sniffing. ``SafeZip`` reads whole members for the readers, with
caps on the member count, the declared and the real unpacked size, and the
compression ratio; going over any of them raises ``ZipBomb``.
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_xml

from knowledge_hub.extraction.sources import FileSource
from knowledge_hub.extraction.sources import Source

MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_TOTAL_BYTES = 512 * 1024 * 1024
MAX_ZIP_RATIO = 200
_ZIP_RATIO_FLOOR = 1024 * 1024  # small members may compress very well legitimately
_MAX_ZIP_MEMBER_BYTES = 256 * 1024 * 1024


class ZipBomb(Exception):
    """Signal an archive that would unpack to too much data."""


@dataclass(frozen=True)
class ZipEntry:
    """Describe one member from a ZIP central directory."""

    name: str
    method: int
    compressed_size: int
    size: int
    local_offset: int


@dataclass(frozen=True)
class ZipDirectory:
    """Hold the declared member count and the first entries of a ZIP file."""

    declared_count: int
    entries: list[ZipEntry]


def read_zip_directory(source: Source, max_entries: int) -> ZipDirectory:
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
    entries: list[ZipEntry] = []
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
            ZipEntry(
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
    return ZipDirectory(declared_count=count, entries=entries)


def read_small_member(source: Source, entry: ZipEntry, limit: int = 256) -> bytes:
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


class SafeZip:
    """Read members of an untrusted ZIP archive within size and ratio limits."""

    def __init__(self, path: Path) -> None:
        """Open the archive after checking its declared member count and total size."""
        with path.open("rb") as handle:
            source = FileSource(handle, os.fstat(handle.fileno()).st_size)
            try:
                directory = read_zip_directory(source, 0)
            except (ValueError, struct.error):
                directory = None  # let zipfile report what is wrong
        if directory is not None and directory.declared_count > MAX_ZIP_MEMBERS:
            raise ZipBomb
        self.archive = zipfile.ZipFile(path)
        infos = self.archive.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise ZipBomb
        if sum(info.file_size for info in infos) > MAX_ZIP_TOTAL_BYTES:
            raise ZipBomb
        self.names = {info.filename: info for info in infos}
        self.bytes_read = 0

    def close(self) -> None:
        """Close the archive."""
        self.archive.close()

    def __enter__(self) -> SafeZip:
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
            raise ZipBomb
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
                    raise ZipBomb
                if size > _ZIP_RATIO_FLOOR and size > MAX_ZIP_RATIO * max(info.compress_size, 1):
                    raise ZipBomb
                chunks.append(chunk)
        self.bytes_read += size
        return b"".join(chunks)

    def xml(self, name: str) -> Element:
        """Parse a member as XML with DTDs, entities and external references forbidden."""
        root: Element = safe_xml.fromstring(
            self.read(name), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        return root
