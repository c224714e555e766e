"""Use cases that change state. Each owns its transaction and checks permission first."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from knowledge_hub import search
from knowledge_hub.access import NotAllowed
from knowledge_hub.extensions import db

log = logging.getLogger(__name__)

__all__ = [
    "Invalid",
    "NotAllowed",
    "NotFound",
    "Refused",
    "ServiceError",
    "deferred_indexing",
    "transaction",
]


class ServiceError(Exception):
    """A use case could not be carried out; the message is worded for people."""


class NotFound(ServiceError):
    pass


class Invalid(ServiceError):
    """The input is wrong; `problems` names each field that is."""

    def __init__(self, message: str, problems: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or {}


class Refused(ServiceError):
    """The request is understood and allowed, but the record's state forbids it."""


@contextmanager
def transaction() -> Iterator[Session]:
    """Commit the work inside the block, or roll all of it back.

    Nested blocks join the outer one; only the outermost commits, then lets the
    search index catch up.
    """
    session = db.session
    depth = session.info.get("tx_depth", 0)
    session.info["tx_depth"] = depth + 1
    try:
        yield session
        if depth == 0:
            session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info["tx_depth"] = depth
    if depth == 0 and not session.info.get("index_deferred"):
        _catch_up_index()


@contextmanager
def deferred_indexing() -> Iterator[None]:
    """Let a long run of transactions (a bulk import) update the index once, at the end."""
    session = db.session
    outer = session.info.get("index_deferred", False)
    session.info["index_deferred"] = True
    try:
        yield
    finally:
        session.info["index_deferred"] = outer
        if not outer:
            _catch_up_index()


def _catch_up_index() -> None:
    # The change is committed; an index failure must not turn it into an error for the
    # user. The outbox keeps the work for the next drain or `hub reindex`.
    try:
        search.apply_pending()
    except Exception:
        db.session.rollback()
        log.exception("the index could not catch up; the outbox keeps the work")
