"""Read the parts of a compound index segment straight from its memory map.

Whoosh maps a compound segment file into memory, then hands each part that a reader
opens to a `BufferFile`, which copies the whole part into a `BytesIO`. Every worker so
held its own copy of the postings, terms and columns it had touched: 1.3 GB a worker at
100,000 language versions. The map's pages are the operating system's file cache,
shared by every worker; reading them in place keeps each worker's own memory small.
"""

from __future__ import annotations

import mmap
import os
from array import array
from collections.abc import Iterator

from whoosh.filedb import compound
from whoosh.filedb.structfile import BufferFile
from whoosh.filedb.structfile import StructFile
from whoosh.system import IS_LITTLE


class MappedRange:
    """A read-only file over `length` bytes of a memory map from `start`, without a copy.

    Implements what Whoosh's readers and `pickle.load` ask of a file.
    """

    __slots__ = ("_map", "_start", "_end", "_position", "closed")

    def __init__(self, source: mmap.mmap, start: int, length: int) -> None:
        self._map = source
        self._start = start
        self._end = start + length
        self._position = start
        self.closed = False

    def read(self, size: int | None = -1) -> bytes:
        begin = self._position
        end = self._end if size is None or size < 0 else min(begin + size, self._end)
        self._position = max(begin, end)
        return self._map[begin:end]

    def readinto(self, buffer: memoryview | bytearray) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        begin = self._position
        if begin >= self._end:
            return b""
        newline = self._map.find(b"\n", begin, self._end)
        end = self._end if newline < 0 else newline + 1
        if size is not None and size >= 0:
            end = min(end, begin + size)
        self._position = end
        return self._map[begin:end]

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET and offset < 0:
            raise ValueError(f"negative seek position {offset}")
        base = {os.SEEK_SET: self._start, os.SEEK_CUR: self._position, os.SEEK_END: self._end}
        self._position = max(self._start, base[whence] + offset)
        return self._position - self._start

    def tell(self) -> int:
        return self._position - self._start

    def slice(self, position: int, length: int) -> bytes:
        begin = min(self._start + position, self._end)
        return self._map[begin : min(begin + length, self._end)]

    def close(self) -> None:
        self.closed = True  # the map belongs to the segment, which closes it


class MappedPart(BufferFile):
    """A part of a compound segment, read in place from the segment's memory map."""

    def __init__(self, source: mmap.mmap, offset: int, length: int, name: str | None) -> None:
        StructFile.__init__(self, MappedRange(source, offset, length), name=name)
        self.is_real = False

    def get(self, position: int, length: int) -> bytes:
        return self.file.slice(position, length)

    def get_array(self, position: int, typecode: str, length: int) -> array:
        values = array(typecode)
        values.frombytes(self.get(position, length * values.itemsize))
        if IS_LITTLE:
            values.byteswap()
        return values


def _open_part_in_place(
    self: compound.CompoundStorage, name: str, *args: object, **kwargs: object
) -> StructFile:
    if self.is_closed:
        raise compound.StorageError("Storage was closed")
    offset, length = self.range(name)
    if self._source:
        return MappedPart(self._source, offset, length, name)
    return _open_part_by_copy(self, name, *args, **kwargs)  # no map: Whoosh's own way


_open_part_by_copy = compound.CompoundStorage.open_file


def read_compound_parts_in_place() -> None:
    """Make every compound segment opened from now on read its parts in place."""
    compound.CompoundStorage.open_file = _open_part_in_place
