"""Random access to a whole file or to an in-memory prefix of one.

Sniffing and the ZIP directory reader read through these, so the same code
works on a stored file and on the first bytes of an upload.
"""

from __future__ import annotations

from typing import BinaryIO


class BytesSource:
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


class FileSource:
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


Source = BytesSource | FileSource
