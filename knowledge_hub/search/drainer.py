"""A background thread per server process that keeps the index caught up with the outbox.

Every committed change is applied to the index by the request that made it. When that
request finds the index lock held by another process (another worker's drain, a
`hub reindex`), its rows wait in the outbox; the drainer is what bounds that wait, so a
release is searchable in every worker within a few seconds, whoever holds the lock.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask
from sqlalchemy import inspect as sa_inspect

from knowledge_hub import search
from knowledge_hub.extensions import db
from knowledge_hub.models import PendingIndex

log = logging.getLogger(__name__)


class OutboxDrainer(threading.Thread):
    """Applies whatever waits in the outbox, every `interval` seconds, until stopped."""

    def __init__(self, app: Flask, interval: float) -> None:
        super().__init__(name="hub-outbox-drainer", daemon=True)
        self.app = app
        self.interval = interval
        self._stopping = threading.Event()
        self._outbox_made = False

    def run(self) -> None:
        while not self._stopping.wait(self.interval):
            self.drain_once()

    def drain_once(self) -> int:
        with self.app.app_context():
            try:
                if not self._outbox_is_made():
                    return 0  # a server started before `hub init`, or setting the hub up
                return search.apply_pending()  # returns at once when nothing is queued
            except Exception:
                # The rows stay in the outbox; the next round (or `hub reindex`) applies them.
                log.exception("the outbox could not be applied to the index")
                return 0
            finally:
                db.session.remove()

    def _outbox_is_made(self) -> bool:
        if not self._outbox_made:
            self._outbox_made = sa_inspect(db.engine).has_table(PendingIndex.__tablename__)
        return self._outbox_made

    def stop(self) -> None:
        self._stopping.set()


def start_drainer(app: Flask) -> OutboxDrainer | None:
    """Start the process's drainer, unless INDEX_DRAIN_SECONDS is 0."""
    interval = float(app.config.get("INDEX_DRAIN_SECONDS") or 0)
    if interval <= 0:
        return None
    drainer = OutboxDrainer(app, interval)
    drainer.start()
    app.extensions["hub.drainer"] = drainer
    return drainer
