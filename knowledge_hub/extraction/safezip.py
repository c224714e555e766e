"""Read untrusted ZIP archives within limits: the one reader of ZIP files.

``read_zip_directory`` parses the central directory itself, stopping early,
so that an archive declaring millions of members is refused before zipfile
builds an object for each; ``read_small_member`` reads the start of one
member for sniffing.

``SafeZip`` serves both the extractor, which reads the parts of document
packages, and the bulk import, which unpacks an uploaded folder. Each passes
its own ``ZipLimits``: caps on the member count, on the declared and the real
unpacked size and on the compression ratio, and for archives unpacked into a
folder the rules on member names, links and encryption. Breaking any of them
raises ``UnsafeZip`` with a ``Refusal`` code and its parameters, which each
caller turns into its own message. Nothing here imports Flask: the extractor
runs it in a child process.
"""

from __future__ import annotations

import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_xml

from knowledge_hub.extraction.sources import FileSource
from knowledge_hub.extraction.sources import Source

MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_TOTAL_BYTES = 512 * 1024 * 1024
MAX_ZIP_RATIO = 200
_MAX_ZIP_MEMBER_BYTES = 256 * 1024 * 1024


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


class Refusal(StrEnum):
    """Why an archive is refused; the params each one carries are listed beside it."""

    TOO_MANY_MEMBERS = "too-many-members"  # count, limit
    ABSOLUTE_PATH = "absolute-path"  # name
    OUTSIDE = "outside"  # name: a ".." part
    CONTROL_CHARACTERS = "control-characters"  # name
    SYMBOLIC_LINK = "symbolic-link"  # name
    ENCRYPTED = "encrypted"  # name
    DUPLICATE = "duplicate"  # name: the same path, letter case aside
    TOO_LARGE = "too-large"  # limit: all members together, declared or read
    MEMBER_TOO_LARGE = "member-too-large"  # name, limit: one member, as read
    RATIO = "ratio"  # name, limit: unpacked size over packed size, declared or read


class UnsafeZip(Exception):
    """Refuse an archive: reason is a Refusal, params what the message about it names."""

    def __init__(self, reason: Refusal, **params: str | int) -> None:
        """Keep the reason and its parameters for the caller's own message."""
        super().__init__(reason, params)
        self.reason = reason
        self.params = params

    def __str__(self) -> str:
        """Name the reason and its parameters."""
        details = ", ".join(f"{key}={value!r}" for key, value in self.params.items())
        return f"{self.reason} ({details})" if details else str(self.reason)


@dataclass(frozen=True)
class ZipLimits:
    """What one caller accepts from an untrusted archive.

    max_members counts the members that are not ignored; max_records counts
    every record of the central directory and is checked from the archive's
    end record before zipfile builds an object for each. max_total_bytes
    bounds the members' declared sizes together and, separately, the bytes
    really read from them; max_member_bytes bounds what one member really
    unpacks to. max_ratio (unpacked over packed size) applies to members over
    ratio_floor bytes, to their declared and to their real size. folder is for
    archives unpacked into a folder: it refuses absolute paths, ".." parts,
    control characters, symbolic links, encrypted members and two members at
    the same path. ignore matches the names of members that are neither
    counted nor returned.
    """

    max_members: int
    max_records: int
    max_total_bytes: int
    max_member_bytes: int | None = None
    max_ratio: int | None = None
    ratio_floor: int = 1024 * 1024  # small members may compress very well legitimately
    folder: bool = False
    ignore: re.Pattern[str] | None = None


#: The extractor's limits: a document package is read in memory, never unpacked.
EXTRACTION_LIMITS = ZipLimits(
    max_members=MAX_ZIP_MEMBERS,
    max_records=MAX_ZIP_MEMBERS,
    max_total_bytes=MAX_ZIP_TOTAL_BYTES,
    max_member_bytes=_MAX_ZIP_MEMBER_BYTES,
    max_ratio=MAX_ZIP_RATIO,
)

_DRIVE = re.compile(r"^[A-Za-z]:")
_READ_CHUNK = 1024 * 1024


def check_members(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> list[zipfile.ZipInfo]:
    """Return the members that are not ignored, or raise UnsafeZip for the first rule broken.

    The checks read only the central directory: names, flags, modes and the
    declared sizes, which ``SafeZip.chunks`` does not trust when reading.
    """
    ignore = limits.ignore
    members = [info for info in infos if ignore is None or not ignore.search(info.filename)]
    if len(members) > limits.max_members:
        raise UnsafeZip(Refusal.TOO_MANY_MEMBERS, count=len(members), limit=limits.max_members)
    paths: set[str] = set()
    total = 0
    for info in members:
        if limits.folder:
            _check_folder_member(info, paths)
        total += info.file_size
        if total > limits.max_total_bytes:
            raise UnsafeZip(Refusal.TOO_LARGE, limit=limits.max_total_bytes)
    return members


def _check_folder_member(info: zipfile.ZipInfo, paths: set[str]) -> None:
    """Refuse a member that could not be written safely into a folder; note its path in paths."""
    name = info.filename
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise UnsafeZip(Refusal.ABSOLUTE_PATH, name=name)
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        raise UnsafeZip(Refusal.OUTSIDE, name=name)
    if any(ord(c) < 32 for c in name):
        raise UnsafeZip(Refusal.CONTROL_CHARACTERS, name=name)
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UnsafeZip(Refusal.SYMBOLIC_LINK, name=name)
    if info.flag_bits & 0x1:
        raise UnsafeZip(Refusal.ENCRYPTED, name=name)
    if info.is_dir():
        return
    path = member_path(name).lower()
    if path in paths:
        raise UnsafeZip(Refusal.DUPLICATE, name=name)
    paths.add(path)


def member_path(name: str) -> str:
    """Return a member's name as a relative path: "/" between parts, no empty or "." part."""
    return "/".join(p for p in name.replace("\\", "/").split("/") if p not in ("", "."))


class SafeZip:
    """Read the members of an untrusted ZIP archive within a caller's limits.

    Opening the archive checks its central directory (see ``check_members``);
    reading a member counts the bytes that really come out. Breaking a rule
    raises ``UnsafeZip``; a damaged archive raises what zipfile raises.
    """

    def __init__(self, path: Path, limits: ZipLimits = EXTRACTION_LIMITS) -> None:
        """Open the archive after checking its record count and its directory."""
        with path.open("rb") as handle:
            source = FileSource(handle, os.fstat(handle.fileno()).st_size)
            try:
                directory = read_zip_directory(source, 0)
            except (ValueError, struct.error):
                directory = None  # let zipfile report what is wrong
        if directory is not None and directory.declared_count > limits.max_records:
            raise UnsafeZip(
                Refusal.TOO_MANY_MEMBERS,
                count=directory.declared_count,
                limit=limits.max_members,
            )
        self.limits = limits
        self.archive = zipfile.ZipFile(path)
        try:
            self.members = check_members(self.archive.infolist(), limits)
        except BaseException:
            self.archive.close()
            raise
        self.names = {info.filename: info for info in self.members}
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

    def check_ratio(self, info: zipfile.ZipInfo, size: int | None = None) -> None:
        """Refuse a member that unpacks to too much for its packed size (declared unless given)."""
        ratio = self.limits.max_ratio
        size = info.file_size if size is None else size
        if ratio is not None and size > self.limits.ratio_floor:
            if size > ratio * max(info.compress_size, 1):
                raise UnsafeZip(Refusal.RATIO, name=info.filename, limit=ratio)

    def chunks(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """Yield a member's content in chunks, refusing it once it unpacks to too much."""
        self.check_ratio(info)
        limits = self.limits
        size = 0
        with self.archive.open(info) as member:
            # Declared sizes can lie, so count what actually comes out.
            while chunk := member.read(_READ_CHUNK):
                size += len(chunk)
                if limits.max_member_bytes is not None and size > limits.max_member_bytes:
                    raise UnsafeZip(
                        Refusal.MEMBER_TOO_LARGE, name=info.filename, limit=limits.max_member_bytes
                    )
                if self.bytes_read + len(chunk) > limits.max_total_bytes:
                    raise UnsafeZip(Refusal.TOO_LARGE, limit=limits.max_total_bytes)
                self.check_ratio(info, size)
                self.bytes_read += len(chunk)
                yield chunk

    def read(self, name: str) -> bytes:
        """Return the content of a member, refusing bombs and reading at most the caps."""
        return b"".join(self.chunks(self.names[name]))

    def xml(self, name: str) -> Element:
        """Parse a member as XML with DTDs, entities and external references forbidden."""
        root: Element = safe_xml.fromstring(
            self.read(name), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        return root
