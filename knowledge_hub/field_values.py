"""The values of a record's fields, checked and normalised: partial dates, language tags
and lists typed in one box. Pure functions, no database."""

from __future__ import annotations

import re
from datetime import date

from babel import Locale
from babel import UnknownLocaleError

from knowledge_hub.i18n.messages import N_

PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def parse_partial_date(value: str) -> str:
    """Return a valid YYYY, YYYY-MM or YYYY-MM-DD date, or raise ValueError saying why."""
    value = value.strip()
    match = PARTIAL_DATE.match(value)
    if not match:
        raise ValueError(
            N_("%(value)s is not a date: write YYYY, YYYY-MM or YYYY-MM-DD.", value=repr(value))
        )
    year, month, day = (int(p) if p else None for p in match.groups())
    if not 1900 <= year <= 2200:
        raise ValueError(N_("%(value)s: the year is out of range.", value=repr(value)))
    try:
        date(year, month or 1, day or 1)
    except ValueError as e:
        raise ValueError(
            N_("%(value)s is not a real date (%(reason)s).", value=repr(value), reason=str(e))
        ) from e
    return value


def normalize_language(tag: str) -> str:
    """Return a BCP 47 tag in its usual case ("zh-Hans", "pt-BR"), or raise ValueError."""
    cleaned = tag.strip().replace("_", "-")
    if not cleaned:
        raise ValueError(N_("The language is missing."))
    try:
        locale = Locale.parse(cleaned, sep="-")
    except (ValueError, UnknownLocaleError) as e:
        raise ValueError(
            N_("%(tag)s is not a language tag (use en, fr, es, ar, zh, ru, …).", tag=repr(tag))
        ) from e
    parts = [locale.language]
    if locale.script:
        parts.append(locale.script)
    if locale.territory:
        parts.append(locale.territory)
    return "-".join(parts)


def split_list(value: str | None) -> list[str]:
    """Split a `;`-separated manifest cell into its trimmed, non-empty items."""
    return [item.strip() for item in (value or "").split(";") if item.strip()]
