"""Counting views and downloads as COUNTER Release 5 does, without slowing a request.

A request counted is only noted in memory (`count`); each server process writes what it
noted at most once every USAGE_FLUSH_SECONDS, from a background thread, in one
transaction of three statements whatever the number of requests. The double-click rule
is decided in the database (a mark per visitor and item in `usage_click`, set in one
multi-row upsert), so that two workers, or two servers, seeing the same visitor within
30 seconds still count once; a process leaves out, without asking, a repeat of what it
counted itself. A failure to count is logged and forgotten: it never reaches the reader.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from flask import current_app
from sqlalchemy import Connection
from sqlalchemy import Insert
from sqlalchemy import Table
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from knowledge_hub import counter
from knowledge_hub.extensions import db
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import RecentClick
from knowledge_hub.models import UsageCount
from knowledge_hub.models import UsageMetric
from knowledge_hub.models import VariantStatus
from knowledge_hub.models.base import utcnow

log = logging.getLogger(__name__)

#: Requests noted and not yet written, at most, per process: should the database be
#: away for long, memory stays bounded and the newest requests are the ones left out.
MAX_WAITING = 10_000


@dataclass(frozen=True)
class UsageEvent:
    """One successful request for a record page or a file, as it will be counted."""

    metric: UsageMetric
    document_id: int
    item: str
    language: str
    media_type: str
    visitor: str
    at: datetime


def usage_event(
    metric: UsageMetric,
    *,
    document_id: int,
    document_status: DocumentStatus,
    variant_status: VariantStatus,
    language: str,
    file_id: int | None = None,
    media_type: str = "",
    user_id: int | None,
    address: str | None,
    user_agent: str | None,
    secret_key: str,
    robots_path: str,
    at: datetime | None = None,
) -> UsageEvent | None:
    """The event a request makes, or None when COUNTER does not count it: a robot, or a
    record or version not released (staff previewing a draft)."""
    if document_status != DocumentStatus.RELEASED or variant_status != VariantStatus.APPROVED:
        return None
    if counter.is_robot_agent(user_agent or "", robots_path):
        return None
    at = at or utcnow()
    identity = counter.visitor_identity(user_id, address, user_agent)
    visitor = counter.visitor_hash(counter.daily_salt(secret_key, at.date()), identity)
    item = f"{metric.value}:{file_id if metric == UsageMetric.DOWNLOAD else document_id}"
    return UsageEvent(metric, document_id, item, language, media_type, visitor, at)


def count(event: UsageEvent | None) -> None:
    """Note a counted request; it reaches the database with the process's next write.
    Never raises: counting must not break the page it counts."""
    if event is None:
        return
    try:
        recorder(current_app._get_current_object()).note(event)  # type: ignore[attr-defined]
    except Exception:
        log.exception("a %s of record %s could not be counted", event.metric, event.document_id)


def recorder(app: Flask) -> UsageRecorder:
    """The application's recorder, made on first use."""
    found = app.extensions.get("hub.usage")
    if found is None:
        found = app.extensions.setdefault("hub.usage", UsageRecorder(app))
    return found


class UsageRecorder:
    """The requests one process counted and has not written yet, and the thread that
    writes them."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval = float(app.config.get("USAGE_FLUSH_SECONDS") or 0)
        self._lock = threading.Lock()
        self._waiting: list[UsageEvent] = []
        self._writer: threading.Thread | None = None
        self._writer_pid: int | None = None
        self._woken = threading.Event()
        self._flushing = threading.Lock()
        #: (visitor, item) -> when this process last had it counted, for the window only:
        #: a repeat within it is left out here, without a statement to the database (a
        #: PDF viewer asks for the parts of one file one after another).
        self._counted_here: dict[tuple[str, str], datetime] = {}

    def note(self, event: UsageEvent) -> None:
        with self._lock:
            if len(self._waiting) >= MAX_WAITING:
                log.warning("usage statistics are not being written: a request left uncounted")
                return
            self._waiting.append(event)
        if self.interval <= 0:
            self.flush()
        else:
            self._ensure_writer()

    def flush(self) -> int:
        """Write what waits, in one transaction; the number of requests counted."""
        with self._flushing:
            with self._lock:
                events, self._waiting = self._waiting, []
            if not events:
                return 0
            # What this process counted within the window of the earliest request waiting.
            earliest = min(event.at for event in events)
            recent = {
                key: at
                for key, at in self._counted_here.items()
                if counter.is_double_click(at, earliest)
            }
            events = [
                event
                for event in events
                if not counter.is_double_click(recent.get((event.visitor, event.item)), event.at)
            ]
            self._counted_here = recent
            if not events:
                return 0
            try:
                with self.app.app_context(), db.engine.begin() as connection:
                    counted = write_events(connection, events)
            except Exception:
                log.exception("%s requests could not be counted", len(events))
                return 0
            for event in counted:
                self._counted_here[(event.visitor, event.item)] = event.at
            return len(counted)

    def _ensure_writer(self) -> None:
        # A server forks its workers after the application is built: each process needs
        # its own thread (a thread is not carried over a fork), started on first use.
        if self._writer_pid == os.getpid():
            return
        with self._lock:
            if self._writer_pid == os.getpid():
                return
            self._writer = threading.Thread(target=self._write_forever, daemon=True)
            self._writer.name = "hub-usage-writer"
            self._writer_pid = os.getpid()
            self._writer.start()
            atexit.register(self.flush)  # a worker stopping writes what it noted

    def _write_forever(self) -> None:
        while True:
            self._woken.wait(self.interval)
            self.flush()


def write_events(connection: Connection, events: list[UsageEvent]) -> list[UsageEvent]:
    """Count `events` in the database: each that is no double click raises its month's
    count by one. Returns those counted.

    A few statements whatever the number of events: one to mark the visitors' requests,
    one to raise the counts, each for many rows at once.
    """
    events = sorted(events, key=lambda e: e.at)
    # The double-click marks are needed for the window only; older ones go at once.
    connection.execute(delete(RecentClick).where(RecentClick.counts_again_at < events[0].at))
    counted = []
    for batch in _each_item_once(events):
        counted += _first_clicks(connection, batch)
    added: Counter[tuple[int, str, UsageMetric, str, str]] = Counter(
        (e.document_id, counter.month_of(e.at), e.metric, e.language, e.media_type) for e in counted
    )
    if added:
        table = UsageCount.__table__
        statement = _insert(connection, table)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["document_id", "month", "metric", "language", "media_type"],
                set_={"count": table.c.count + statement.excluded.count},
            ),
            [
                {
                    "document_id": document_id,
                    "month": month,
                    "metric": metric,
                    "language": language,
                    "media_type": media_type,
                    "count": n,
                }
                for (document_id, month, metric, language, media_type), n in added.items()
            ],
        )
    return counted


def _each_item_once(events: list[UsageEvent]) -> list[list[UsageEvent]]:
    """The events in turns where each visitor's item appears once at most (one statement
    may not touch a row twice), in order of time."""
    turns: list[list[UsageEvent]] = []
    seen: Counter[tuple[str, str]] = Counter()
    for event in events:
        turn = seen[(event.visitor, event.item)]
        seen[(event.visitor, event.item)] += 1
        if turn == len(turns):
            turns.append([])
        turns[turn].append(event)
    return turns


def _first_clicks(connection: Connection, events: list[UsageEvent]) -> list[UsageEvent]:
    """Mark each visitor's request for its item, and tell which count: a mark is set (or
    moved) only when none is within the window, in one statement, so that two processes
    at once cannot both count the same request."""
    table = RecentClick.__table__
    statement = _insert(connection, table)
    marked = connection.execute(
        statement.on_conflict_do_update(
            index_elements=["visitor", "item"],
            set_={
                "counted_at": statement.excluded.counted_at,
                "counts_again_at": statement.excluded.counts_again_at,
            },
            where=table.c.counts_again_at < statement.excluded.counted_at,
        ).returning(table.c.visitor, table.c.item),
        [
            {
                "visitor": e.visitor,
                "item": e.item,
                "counted_at": e.at,
                "counts_again_at": e.at + counter.DOUBLE_CLICK_WINDOW,
            }
            for e in events
        ],
    )
    # A row comes back for each mark written (inserted, or moved); none where a mark
    # within the window stood.
    written = {(row.visitor, row.item) for row in marked}
    return [e for e in events if (e.visitor, e.item) in written]


def _insert(connection: Connection, table: Table) -> Insert:
    """INSERT with ON CONFLICT, which both databases spell alike in SQLAlchemy."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)
