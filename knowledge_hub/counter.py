"""The COUNTER Release 5 rules the hub counts by, as plain functions: which user agents
are robots, when a second click is a double click, and who a visitor is without keeping
their address or browser."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import date
from datetime import datetime
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

#: COUNTER R5 section 7.3: the same visitor asking for the same item again within 30
#: seconds is one request, not two.
DOUBLE_CLICK_WINDOW = timedelta(seconds=30)


@lru_cache(maxsize=4)
def robot_pattern(path: str) -> re.Pattern[str]:
    """The COUNTER robots list at `path` (JSON: [{"pattern": ...}, ...]) as one regular
    expression, read and compiled once per process: one search a request, not hundreds."""
    entries = json.loads(Path(path).read_text(encoding="utf-8"))
    # The list's patterns are matched case-insensitively anywhere in the user agent, as
    # the list's own README and the repositories that use it do.
    return re.compile("|".join(f"(?:{entry['pattern']})" for entry in entries), re.IGNORECASE)


def is_robot(user_agent: str | None, robots: re.Pattern[str]) -> bool:
    """Tell whether a user agent is a robot's. An empty one is (the list says so: ^.?$)."""
    return robots.search(user_agent or "") is not None


@lru_cache(maxsize=1024)
def is_robot_agent(user_agent: str, robots_path: str) -> bool:
    """is_robot with the list at `robots_path`, remembered per user agent: readers' browsers
    send the same few strings again and again, and one search of the list's expression
    (some 600 patterns, any case) takes about a millisecond, as long as a tenth of a
    record page. At most 1,024 strings are kept (8 KB each at most: gunicorn's limit)."""
    return is_robot(user_agent, robot_pattern(robots_path))


def daily_salt(secret_key: str, day: date) -> bytes:
    """The key visitors are hashed with on `day`.

    Derived from SECRET_KEY and the date, not stored: every worker and server agrees on
    it without sharing anything, it changes at midnight UTC by itself, and the database
    alone (a backup, a dump) does not hold what would let anyone try every IPv4 address
    against the hashes in it.
    """
    return hmac.new(secret_key.encode(), f"counter:{day.isoformat()}".encode(), "sha256").digest()


def visitor_hash(salt: bytes, identity: str) -> str:
    """A visitor's mark for one day: the same identity gives the same mark all day and a
    different one the next; nothing in it can be read back."""
    return hmac.new(salt, identity.encode(), hashlib.sha256).hexdigest()[:32]


def visitor_identity(user_id: int | None, address: str | None, user_agent: str | None) -> str:
    """Who asked, in COUNTER's order of preference: the account when signed in, else the
    address and the browser together. Only ever passed through visitor_hash."""
    if user_id is not None:
        return f"user:{user_id}"
    return f"client:{address or ''}|{user_agent or ''}"


def is_double_click(last_counted_at: datetime | None, at: datetime) -> bool:
    """Tell whether a request at `at` repeats one of the same visitor for the same item
    counted at `last_counted_at`: then it is not counted."""
    return last_counted_at is not None and at - last_counted_at <= DOUBLE_CLICK_WINDOW


def month_of(at: datetime) -> str:
    """The month a request is counted in, as YYYY-MM (UTC)."""
    return f"{at:%Y-%m}"


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` (YYYY-MM), both included."""
    year, month = (int(part) for part in first.split("-"))
    end = tuple(int(part) for part in last.split("-"))
    months = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def is_month(text: str) -> bool:
    """Tell whether text is a month written YYYY-MM."""
    return MONTH.fullmatch(text) is not None


def previous_months(last: str, count: int) -> str:
    """The month `count - 1` months before `last`: the first of a span of `count`."""
    year, month = (int(part) for part in last.split("-"))
    index = year * 12 + (month - 1) - (count - 1)
    return f"{index // 12:04d}-{index % 12 + 1:02d}"
