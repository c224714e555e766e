"""Content-addressed blob store: files live under their sha256, never a client's name."""

from __future__ import annotations

import errno
import hashlib
import os
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
TEMP_PREFIX = ".incoming-"


def _temp_prefix() -> str:
    """Name temporary files after the host and process writing them, so that files left
    by a process that died (killed, out of memory, power cut) can be told from files
    still being written."""
    return f"{TEMP_PREFIX}{socket.gethostname()}-{os.getpid()}-"


def _writer_is_gone(path: Path) -> bool:
    """Whether the process that wrote a temporary file on this host has ended."""
    try:
        host, pid, __ = path.name[len(TEMP_PREFIX) :].rsplit("-", 2)
        pid_number = int(pid)
    except ValueError:
        return False  # not named by this version: only its age can tell
    if host != socket.gethostname():
        return False
    try:
        os.kill(pid_number, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a killed process not yet reaped by its parent still answers, as a zombie
        return Path(f"/proc/{pid_number}/stat").read_text().split(") ")[-1][:1] == "Z"
    except OSError:
        return False


def sha256_of(path: Path) -> str:
    """Hash a file's bytes as the store addresses them."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class StorageError(Exception):
    """A file could not be stored or read; the message is worded for people."""


class StorageFull(StorageError):
    """The disk (or the quota) holding the store is full."""


def storage_error(e: OSError) -> StorageError:
    """The StorageError for an operating system's refusal to write."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull(f"The store is full: {e.strerror}.")
    return StorageError(f"The file could not be stored: {e.strerror or e}.")


def new_temp_file(directory: Path) -> tuple[int, Path]:
    """Open a new temporary file in directory, named after this host and process."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=_temp_prefix(), dir=directory)
    return fd, Path(name)


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    path: Path


class BlobStore:
    """Files stored at root/ab/cd/<sha256>, written to a temp file and renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put(self, stream: BinaryIO, max_size: int | None = None) -> StoredBlob:
        """Store the bytes of stream once and return their address.

        A second put of the same bytes finds the first and keeps it.
        """
        digest = hashlib.sha256()
        size = 0
        try:
            fd, temp_path = new_temp_file(self.root)
        except OSError as e:
            raise storage_error(e) from e
        try:
            with os.fdopen(fd, "wb") as temp:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if max_size is not None and size > max_size:
                        raise StorageError(
                            f"The file is larger than the limit of {max_size // (1024 * 1024)} MB."
                        )
                    digest.update(chunk)
                    temp.write(chunk)
                temp.flush()
                os.fsync(temp.fileno())
            sha256 = digest.hexdigest()
            final = self.path(sha256)
            if final.is_file():
                temp_path.unlink()
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp_path, final)
            return StoredBlob(sha256, size, final)
        except OSError as e:
            temp_path.unlink(missing_ok=True)
            raise storage_error(e) from e
        except BaseException:
            temp_path.unlink(missing_ok=True)
            raise

    def put_file(self, path: Path, max_size: int | None = None) -> StoredBlob:
        with open(path, "rb") as stream:
            return self.put(stream, max_size=max_size)

    def open(self, sha256: str) -> BinaryIO:
        try:
            return open(self.path(sha256), "rb")
        except OSError as e:
            raise StorageError(f"Stored file {sha256[:12]}… cannot be read: {e.strerror}.") from e

    def verify(self, sha256: str) -> str:
        """Re-hash a stored file: "match", "mismatch", "missing" or "unreadable"."""
        path = self.path(sha256)
        if not path.exists():
            return "missing"
        try:
            actual = sha256_of(path)
        except OSError:
            return "unreadable"
        return "match" if actual == sha256 else "mismatch"

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def __iter__(self) -> Iterator[str]:
        """Yield the sha256 of every stored blob."""
        if not self.root.is_dir():
            return
        for path in self.root.glob("??/??/*"):
            if path.is_file() and len(path.name) == 64:
                yield path.name

    def leftover_temp_files(self) -> list[Path]:
        return sorted(self.root.glob(TEMP_PREFIX + "*")) if self.root.is_dir() else []

    def remove_abandoned_temp_files(self) -> list[Path]:
        """Delete the temporary files of writers on this host that have ended; a file
        still being written by a running process is left alone."""
        removed = []
        for path in self.leftover_temp_files():
            if _writer_is_gone(path):
                path.unlink(missing_ok=True)
                removed.append(path)
        return removed
