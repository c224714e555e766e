"""Configuration defaults; an instance's own values come from instance/config.py and the
environment."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: The six official UN languages, in the order the UN lists them.
LANGUAGES = ("ar", "zh", "en", "fr", "ru", "es")


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{PROJECT_ROOT / 'instance' / 'hub.sqlite'}"
    # Hosting platforms still hand out the pre-SQLAlchemy-1.4 scheme.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    """Defaults that work on one machine with nothing configured."""

    #: Signs sessions, device cookies and invitation links. Unset, create_app() uses the
    #: key in SECRET_KEY_FILE, writing a random one there the first time.
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    SECRET_KEY_FILE = PROJECT_ROOT / "instance" / "secret_key"
    SQLALCHEMY_DATABASE_URI = _database_url()
    #: What a server does when it starts on a database without tables: "demo" sets the
    #: hub up and loads the demonstration catalogue (as `hub init` and `hub demo` do),
    #: "init" sets it up empty, "off" leaves it to the person (every page then says to
    #: run `hub init`). Unset: "demo" on SQLite, "init" on any other database
    #: (first_start_choice).
    FIRST_START = os.environ.get("HUB_FIRST_START") or None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    INDEX_DIR = Path(os.environ.get("HUB_INDEX_DIR", PROJECT_ROOT / "index"))
    UPLOAD_DIR = Path(os.environ.get("HUB_UPLOAD_DIR", PROJECT_ROOT / "uploads"))
    LANGUAGES = LANGUAGES
    MIGRATIONS_DIR = PROJECT_ROOT / "knowledge_hub" / "migrations"
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "translations")
    #: The address every absolute link is built from (feeds, sitemap, OAI-PMH, the API,
    #: invitations), whatever Host a request claims: web/addresses.py.
    PUBLIC_URL = os.environ.get("HUB_PUBLIC_URL", "")
    # Mail, under Flask-Mail's names. Without MAIL_SERVER, `hub send-mail` writes each
    # message to the log and the admin pages say so.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT") or 25)
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "0").lower() in ("1", "true", "yes")
    MAIL_USE_SSL = os.environ.get("MAIL_USE_SSL", "0").lower() in ("1", "true", "yes")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER") or "hub@localhost"
    #: Send what a request queued as soon as its response is sent (and `hub send-mail`
    #: from a scheduler catches up with whatever that left).
    MAIL_SEND_AFTER_REQUEST = True
    MAX_CONTENT_LENGTH = 200 * 1024 * 1024
    #: How many reverse proxies stand in front (FLASK_TRUST_PROXY=1 for one nginx): the
    #: client's address and scheme are then read from what they append to
    #: X-Forwarded-For and X-Forwarded-Proto. Set only when the hub is reachable through
    #: them alone: web/addresses.py.
    TRUST_PROXY = 0
    #: Limits for text extraction, which runs in a child process.
    EXTRACTION_SECONDS = 60.0
    EXTRACTION_MEMORY_MB = 1024
    #: How long a writer waits for the index lock before leaving work in the outbox.
    INDEX_LOCK_TIMEOUT = 2.0
    #: How often each server worker applies what waits in the index outbox (gunicorn;
    #: 0 turns the drainer off). A release is searchable everywhere within about this
    #: plus INDEX_LOCK_TIMEOUT, however busy the index lock is.
    INDEX_DRAIN_SECONDS = float(os.environ.get("HUB_INDEX_DRAIN_SECONDS", "1.0"))
    # Sessions: a signed cookie, sent over HTTPS only unless HUB_SECURE_COOKIES=0 (plain
    # http on a laptop), out of reach of scripts, not sent on cross-site posts.
    SESSION_COOKIE_SECURE = os.environ.get("HUB_SECURE_COOKIES", "1") != "0"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = 0
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 12
    SEARCH_PER_PAGE = 20
    SEARCH_MAX_PER_PAGE = 100
    #: Seconds one search may take before it is answered with what it has (snippets and
    #: suggestions left out) or, when its results are not known yet, refused with 400.
    SEARCH_SECONDS = 1.5
    #: The UNBIS Thesaurus terms file (terms.tsv: a concept a line, labels in en fr es
    #: ru ar zh), read at run time, not shipped: a query naming one of its concepts also
    #: searches the concept's labels in the other languages. Unset, only the Task
    #: Force's own terms (search/sse_terms.tsv) are used.
    THESAURUS_PATH = os.environ.get("THESAURUS_PATH") or None
    #: Count views of record pages and downloads of files as COUNTER Release 5 does
    #: (HUB_USAGE_STATISTICS=0 turns counting off; the counts kept stay shown).
    USAGE_STATISTICS = os.environ.get("HUB_USAGE_STATISTICS", "1") != "0"
    #: How often each server process writes the requests it counted, in one transaction
    #: (0: each one at the end of its own request, as the tests do).
    USAGE_FLUSH_SECONDS = float(os.environ.get("HUB_USAGE_FLUSH_SECONDS", "1.0"))
    #: The COUNTER robots list (JSON) whose user agents are not counted: the copy shipped
    #: in knowledge_hub/data/ unless a newer one is named here.
    COUNTER_ROBOTS = os.environ.get("HUB_COUNTER_ROBOTS") or str(
        PROJECT_ROOT / "knowledge_hub" / "data" / "COUNTER_Robots_list.json"
    )


def instance_secret_key(path: Path) -> str:
    """The secret key kept in `path`, written there first if there is none: a random
    key, readable by the hub's user alone, created atomically so that several processes
    starting at once agree on one."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as written:
        written.write(secrets.token_urlsafe(48))
    try:
        os.link(temporary, path)  # fails if another process wrote its key first
        log.warning("SECRET_KEY is not set: sessions are signed with a new key kept in %s", path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text().strip()


#: The values FIRST_START may take.
FIRST_START_CHOICES = ("demo", "init", "off")


def first_start_choice(config: Mapping[str, Any]) -> str:
    """FIRST_START as set, else the demonstration on the embedded SQLite database and an
    empty hub on any other (a production database gets no sample records unasked).
    A value it cannot take stops the server at start, not at every page."""
    choice = str(config.get("FIRST_START") or "").strip().lower()
    if not choice:
        return "demo" if str(config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite") else "init"
    if choice not in FIRST_START_CHOICES:
        raise ValueError(
            f"HUB_FIRST_START is one of {', '.join(FIRST_START_CHOICES)}, not {choice!r}"
        )
    return choice
