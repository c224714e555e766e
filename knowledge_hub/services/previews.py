"""First-page thumbnails of stored PDFs, kept beside their file in the upload folder.

A thumbnail is derived from the bytes alone, so it is named after their sha256
(``ab/cd/<sha256>.thumb.png`` next to ``ab/cd/<sha256>``): identical files on several
records share one, it needs no column, and a lost one is drawn again by `hub
reextract`. It is made when a PDF is stored, before any transaction opens; a
thumbnail that cannot be made is logged and never costs the upload. Office files get
none: the hub keeps no PDF rendition of them to draw from.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import time
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from knowledge_hub import access
from knowledge_hub.extensions import db
from knowledge_hub.extraction import thumbnails
from knowledge_hub.models import StoredFile
from knowledge_hub.models import User
from knowledge_hub.storage import BlobStore
from knowledge_hub.storage import new_temp_file

PDF = "application/pdf"


def thumbnail_path(store: BlobStore, sha256: str) -> Path:
    """Where the thumbnail of the bytes with this sha256 is kept (it may not exist)."""
    return thumbnails.thumbnail_beside(store.path(sha256))


def has_thumbnail(store: BlobStore, sha256: str) -> bool:
    return thumbnail_path(store, sha256).is_file()


def make_thumbnail(
    store: BlobStore, sha256: str, media_type: str, *, again: bool = False
) -> str | None:
    """Draw the thumbnail of a stored PDF, unless it has one (or `again`).

    Returns None when the file has its thumbnail (or, not being a PDF, needs none),
    else why it has none, worded for staff. Never raises: a file without a thumbnail
    is still a file.
    """
    if media_type != PDF or (has_thumbnail(store, sha256) and not again):
        return None
    target = thumbnail_path(store, sha256)
    try:
        fd, temp = new_temp_file(store.root)
        os.close(fd)
    except OSError as e:
        return f"The thumbnail could not be written: {e.strerror or e}."
    try:
        error = thumbnails.render_first_page(
            store.path(sha256),
            temp,
            seconds=min(30.0, current_app.config["EXTRACTION_SECONDS"]),
            memory_mb=current_app.config["EXTRACTION_MEMORY_MB"],
        )
        if error is None:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, target)
    except OSError as e:
        error = f"The thumbnail could not be written: {e.strerror or e}."
    finally:
        temp.unlink(missing_ok=True)
    if error is not None:
        current_app.logger.warning("no thumbnail for %s: %s", sha256, error)
    return error


@dataclass
class ThumbnailReport:
    """What a run of drawing thumbnails again did."""

    made: int = 0
    failed: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"no thumbnail: {line}" for line in self.failed]
        out.append(f"Thumbnails: {self.made} drawn, {len(self.failed)} could not be drawn.")
        return out


def redraw_thumbnails(
    actor: User | None,
    store: BlobStore,
    media_types: Collection[str] = (),
    since: date | None = None,
) -> ThumbnailReport:
    """Draw again the thumbnail of every stored PDF (uploaded on or after `since`), each
    distinct file once; a missing or unreadable stored file is left to `hub check`."""
    access.require(actor, "reindex")
    report = ThumbnailReport()
    if media_types and PDF not in media_types:
        return report
    stmt = select(StoredFile.sha256, StoredFile.original_name).where(StoredFile.media_type == PDF)
    if since is not None:
        stmt = stmt.where(StoredFile.created_at >= datetime.combine(since, time.min))
    names: dict[str, str] = {}
    for sha256, name in db.session.execute(stmt.order_by(StoredFile.id)):
        names.setdefault(sha256, name)
    for sha256, name in names.items():
        if not store.exists(sha256):
            continue
        error = make_thumbnail(store, sha256, PDF, again=True)
        if error is None:
            report.made += 1
        else:
            report.failed.append(f"{name} (sha256 {sha256}): {error}")
    return report
