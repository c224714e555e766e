"""A full disk during upload: a clear refusal, nothing of the file left behind, and the
hub storing files again as soon as there is room."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import StoredFile
from knowledge_hub.storage import TEMP_PREFIX
from tests.conftest import sign_in
from tests.test_api_tokens import bearer
from tests.test_api_tokens import token_for

#: The upload folder is a file system of this size, so that a larger upload fills it.
#: (Bodies under 500 KB stay in memory in the test client; larger ones are spooled to a
#: temporary file that it leaves open.)
DISK_SIZE = "256k"


@pytest.fixture
def small_disk(app: Flask) -> Iterator[Path]:
    """Mount a 256 KiB tmpfs on the hub's upload folder (needs root, as `.ci/run` has)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small file system needs root")
    folder = Path(app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE}", "tmpfs", str(folder)], check=True
    )
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def left_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def new_record(api: FlaskClient, auth: dict[str, str], ref: str, title: str) -> int:
    """A draft record with an English original, made through the API; its id."""
    created = api.post(
        "/api/documents",
        json={"ref": ref, "kind": "archive", "language": "en", "title": title},
        headers=auth,
    )
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


def test_an_upload_onto_a_full_disk_is_refused_clearly_and_leaves_nothing(
    app: Flask, small_disk: Path, make_user
) -> None:
    api = app.test_client()
    auth = bearer(token_for(app, make_user("staff")))
    upload_url = (
        f"/api/documents/{new_record(api, auth, 'DISK-1', 'Workplan 2025')}/versions/en/files"
    )

    too_big = b"Workplan of the Task Force. " * 15_000  # 420 KB, more than the disk
    refused = api.post(
        upload_url, data={"files": [(BytesIO(too_big), "workplan.txt")]}, headers=auth
    )
    assert refused.status_code == 400
    body = refused.get_json()
    assert "storage is full" in body["message"]
    assert body["files"][0]["stored"] is False
    assert left_in(small_disk) == [], "a partial file was left on the full disk"
    assert shutil.disk_usage(small_disk).used < 16 * 1024
    # Room for the upload's staging copy but not for the stored one: refused the same way.
    half = b"Minutes of the Task Force. " * 5_500  # 150 KB
    refused = api.post(upload_url, data={"files": [(BytesIO(half), "minutes.txt")]}, headers=auth)
    assert refused.status_code == 400 and "storage is full" in refused.get_json()["message"]
    assert left_in(small_disk) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0

    # Room enough for a small file: the hub stores it as usual.
    stored = api.post(
        upload_url,
        data={"files": [(BytesIO(b"Workplan of the Task Force, 2025."), "workplan.txt")]},
        headers=auth,
    )
    assert stored.status_code == 201, stored.get_json()
    assert not any(name.startswith(TEMP_PREFIX) for name in left_in(small_disk))
    assert len(left_in(small_disk)) == 1


@pytest.mark.slow
def test_the_staff_upload_page_names_the_full_disk_in_the_users_language(
    app: Flask, small_disk: Path, make_user
) -> None:
    browser = app.test_client()
    sign_in(browser, make_user("staff"))
    api = app.test_client()
    auth = bearer(token_for(app, make_user("staff")))
    document_id = new_record(api, auth, "DISK-2", "Minutes")
    page = browser.post(
        f"/staff/{document_id}/versions/en/upload?lang=fr",
        data={"files": [(BytesIO(b"Minutes. " * 45_000), "minutes.txt")]},
        follow_redirects=True,
    )
    text = page.get_data(as_text=True)
    assert "stockage" in text and "plein" in text, text[:2000]
    assert left_in(small_disk) == []
