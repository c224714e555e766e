"""What staff see of OCR: per file, whether its scanned pages wait, were read, or failed,
and what this server lacks to read them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.extraction import ocr as reader
from knowledge_hub.models import OcrPage
from knowledge_hub.models import OcrState


@dataclass(frozen=True)
class FileOcr:
    """The OCR of one stored file: "waiting", "done" or "failed", with the pages read
    and, for a failure, the first reason."""

    state: str
    pages_read: int
    reason: str | None = None


def file_ocr(file_ids: Iterable[int]) -> dict[int, FileOcr]:
    """The OCR state of each of these files that has pages in the queue."""
    ids = list(file_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(OcrPage.stored_file_id, OcrPage.state, OcrPage.error)
        .where(OcrPage.stored_file_id.in_(ids))
        .order_by(OcrPage.stored_file_id, OcrPage.page)
    ).all()
    pages: dict[int, list[tuple[OcrState, str | None]]] = {}
    for file_id, state, error in rows:
        pages.setdefault(file_id, []).append((state, error))
    out = {}
    for file_id, states in pages.items():
        read = sum(1 for state, __ in states if state == OcrState.DONE)
        reasons = [error for state, error in states if state == OcrState.FAILED]
        if any(state in (OcrState.WAITING, OcrState.WORKING) for state, __ in states):
            out[file_id] = FileOcr("waiting", read)
        elif reasons:
            out[file_id] = FileOcr("failed", read, reasons[0])
        else:
            out[file_id] = FileOcr("done", read)
    return out


def packages_to_install() -> list[str]:
    """The Debian packages this server lacks for OCR in the six languages (none: ready)."""
    tesseract = reader.find_tesseract()
    if tesseract is None:
        return list(reader.DEBIAN_PACKAGES)
    return [reader.debian_package(code) for code in reader.missing_language_packs(tesseract)]
