"""Use cases that change state. Each owns its transaction and checks permission first."""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any
from typing import ParamSpec
from typing import TypeVar

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge_hub import search
from knowledge_hub.access import NotAllowed
from knowledge_hub.extensions import db
from knowledge_hub.models import AuditEvent
from knowledge_hub.models import User

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

__all__ = [
    "Invalid",
    "audit",
    "changed_fields",
    "invalid",
    "race_safe",
    "NotAllowed",
    "NotFound",
    "Refused",
    "ReleaseRefused",
    "ReviewRequired",
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


class ReviewRequired(Refused):
    """A change to a released record that only someone who may release it can make."""

    def __init__(self, ref: str, fields: list[str]) -> None:
        super().__init__(
            _(
                "%(ref)s is released: a change to %(fields)s goes through review. "
                "A reviewer who also edits records, or an administrator, can make it.",
                ref=ref,
                fields=", ".join(fields),
            )
        )
        self.fields = fields


class ReleaseRefused(Refused):
    """The release gate is not passed; `missing` lists the unsatisfied criteria."""

    def __init__(self, ref: str, missing: list[str]) -> None:
        super().__init__(
            _(
                "%(ref)s cannot be released yet. Missing: %(missing)s.",
                ref=ref,
                missing="; ".join(missing),
            )
        )
        self.missing = missing


def audit(
    actor: User | None,
    action: str,
    obj: object | None = None,
    *,
    document_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    """Record who did what to which object, inside the caller's transaction."""
    object_type = type(obj).__name__.lower() if obj is not None else "hub"
    object_id = getattr(obj, "id", None)
    if document_id is None:
        document_id = getattr(obj, "document_id", None) or (
            object_id if object_type == "document" else None
        )
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        document_id=document_id,
        details=details,
        address=_request_address(),
    )
    db.session.add(event)
    return event


def _request_address() -> str | None:
    # Set by the web layer for each request; services never read the request itself.
    return db.session.info.get("client_address")


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


# --- shared by the services that administrators use


def race_safe(function: Callable[P, R]) -> Callable[P, R]:
    """Turn a unique-constraint clash with a simultaneous change into a clear refusal."""

    @wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except IntegrityError as e:
            # Checked before writing; only a change made at the same moment gets here.
            raise Refused(
                _("Someone else made a conflicting change at the same time. Reload and try again.")
            ) from e

    return run


def invalid(field: str, message: str) -> Invalid:
    """The input is wrong in one field; the message names the problem for people."""
    return Invalid(message, {field: message})


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields that differ, as {"before": {...}, "after": {...}} for the audit trail."""
    changed = [key for key in after if before.get(key) != after[key]]
    return {
        "before": {key: before.get(key) for key in changed},
        "after": {key: after[key] for key in changed},
    }
