"""Extension singletons, bound to an application by create_app()."""

from __future__ import annotations

import sqlite3
import time

from flask_babel import Babel
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

from knowledge_hub.models.base import db

__all__ = ["babel", "csrf", "db", "login_manager", "mail", "migrate"]

migrate = Migrate(compare_type=True, render_as_batch=True)  # batch: SQLite cannot ALTER
babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()
mail = Mail()

#: How long a SQLite writer waits for another process's transaction to end.
SQLITE_BUSY_MILLISECONDS = 15_000


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection: object, connection_record: object) -> None:
    """Let several processes share one SQLite file: readers go on while one writes (WAL),
    and a writer waits for another's commit instead of failing at once."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MILLISECONDS}")
    # The file keeps WAL once switched; processes that open a new file together (a
    # server's workers on a first start) can find it locked while one switches it, and
    # the switch does not wait on the busy timeout: look again until it is done.
    deadline = time.monotonic() + SQLITE_BUSY_MILLISECONDS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    cursor.close()
