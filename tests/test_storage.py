from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from knowledge_hub.storage import BlobStore
from knowledge_hub.storage import StorageError


def test_put_stores_bytes_under_their_sha256(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    data = "Économie sociale et solidaire".encode()
    blob = store.put(io.BytesIO(data))
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert blob.size == len(data)
    assert blob.path == tmp_path / "blobs" / blob.sha256[:2] / blob.sha256[2:4] / blob.sha256
    assert blob.path.read_bytes() == data
    assert list(store) == [blob.sha256]


def test_the_same_bytes_are_stored_once(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    first = store.put(io.BytesIO(b"same"))
    second = store.put(io.BytesIO(b"same"))
    assert first == second
    assert list(store) == [first.sha256]
    assert store.leftover_temp_files() == []


def test_a_refused_upload_leaves_nothing_behind(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    with pytest.raises(StorageError, match="larger than the limit"):
        store.put(io.BytesIO(b"x" * (3 * 1024 * 1024)), max_size=2 * 1024 * 1024)
    assert list(store) == []
    assert store.leftover_temp_files() == []


def test_verify_tells_match_mismatch_and_missing(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    good = store.put(io.BytesIO(b"kept intact"))
    rotten = store.put(io.BytesIO(b"will rot"))
    gone = store.put(io.BytesIO(b"will vanish"))
    rotten.path.write_bytes(b"bit rot")
    gone.path.unlink()
    assert store.verify(good.sha256) == "match"
    assert store.verify(rotten.sha256) == "mismatch"
    assert store.verify(gone.sha256) == "missing"


def test_open_of_a_missing_blob_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot be read"):
        BlobStore(tmp_path).open("0" * 64)
