"""The six UN languages of the interface: choosing one for each request, and names,
numbers, dates and alphabetical order in the reader's language.

Sentences: views and services translate at once with Flask-Babel's `gettext` (imported
as `_`), form labels lazily with `lazy_gettext` (as `_l`); code without Flask at hand
marks them with `knowledge_hub.i18n.messages.N_` and they are translated where shown.
The seeded vocabularies' labels are in `knowledge_hub.i18n.vocabularies`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from functools import lru_cache

from babel import Locale
from babel import UnknownLocaleError
from babel.dates import format_date
from babel.dates import format_skeleton
from babel.numbers import format_decimal
from babel.units import format_unit
from flask import current_app
from flask import has_request_context
from flask import request
from flask_babel import get_locale
from flask_login import current_user
from pyuca import Collator

COOKIE = "lang"
RTL_LANGUAGES = frozenset({"ar"})


@dataclass(frozen=True)
class InterfaceLanguage:
    code: str
    #: The language's name in itself, for the language switcher.
    native_name: str
    direction: str


def interface_languages() -> list[InterfaceLanguage]:
    return [
        InterfaceLanguage(
            code,
            Locale.parse(code).get_display_name(code).capitalize(),
            "rtl" if code in RTL_LANGUAGES else "ltr",
        )
        for code in current_app.config["LANGUAGES"]
    ]


def select_locale() -> str:
    """?lang=xx, else the cookie, else the signed-in user's preference, else the browser's
    preference, else English. Outside a request (the command line) it is English."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang") or request.cookies.get(COOKIE)
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated:
        preferred = current_user.interface_language
        if preferred in languages:
            return preferred
    return request.accept_languages.best_match(languages) or "en"


def current_locale() -> str:
    """The reader's locale as Babel names it ("en", "zh_Hans"): what translations and
    number formats depend on, and so what the caches below are keyed by."""
    return str(get_locale() or "en")


def current_language() -> str:
    return current_locale().split("_")[0]


def reader_languages(first: str | None = None) -> list[str]:
    """The languages the reader reads, best first: `first` (by default the interface's),
    then those the browser accepts, by preference, as base languages ("fr-CA" is "fr")."""
    languages = [first or current_language()]
    if has_request_context():
        for value, quality in request.accept_languages:
            base = value.split("-")[0].split("_")[0].lower()
            if quality > 0 and base != "*" and base not in languages:
                languages.append(base)
    return languages


def text_direction(language: str | None = None) -> str:
    code = (language or current_language()).split("-")[0]
    return "rtl" if code in RTL_LANGUAGES else "ltr"


def language_name(tag: str, in_language: str | None = None) -> str:
    """The name of a language (BCP 47) in the reader's language, from CLDR."""
    return _language_name(tag, in_language or current_language())


# Names are asked for many times a page (every facet value, every result's languages),
# and CLDR's answer for a pair never changes.
@lru_cache(maxsize=4096)
def _language_name(tag: str, language: str) -> str:
    try:
        name = Locale.parse(tag, sep="-").get_display_name(language)
    except (ValueError, TypeError, UnknownLocaleError):
        # Any string can come in a query (?language=...): an unknown tag is shown as it is.
        return tag
    return name or tag


def region_name(code: str, in_language: str | None = None) -> str:
    """The name of a country or M49 area in the reader's language, from CLDR."""
    return territory_names(in_language).get(code, code)


def territory_names(in_language: str | None = None) -> dict[str, str]:
    """CLDR's names of countries and areas by code, in the reader's language (read once
    per language)."""
    return _territories(in_language or current_language())


@lru_cache(maxsize=64)
def _territories(language: str) -> dict[str, str]:
    return dict(Locale.parse(language).territories)


def format_number(value: float) -> str:
    """A number as the reader's language writes it (12,345; 12 345; ١٢٬٣٤٥)."""
    return _formatted_number(value, current_locale())


@lru_cache(maxsize=4096)
def _formatted_number(value: float, locale: str) -> str:
    return format_decimal(value, locale=locale)


def format_size(size: int) -> str:
    """A file's size as people read it, in the reader's language: 840 kB, 1.3 MB, 1,3 Mo."""
    locale = current_locale()
    if size >= 1000 * 1000:
        return format_unit(size / 1e6, "digital-megabyte", "short", "#,##0.#", locale=locale)
    return format_unit(max(1, round(size / 1000)), "digital-kilobyte", "short", locale=locale)


# --- locale-aware ordering and dates


@cache
def _collator() -> Collator:
    return Collator()


@lru_cache(maxsize=8192)  # labels repeat on every page; the key is a pure function
def collation_key(text: str) -> tuple:
    """Sort key by the Unicode Collation Algorithm: "Égypte" between "Afrique" and
    "Zambie", whatever the accents and scripts, unlike sorting by code point."""
    return _collator().sort_key(text)


def format_partial_date(value: str | None, in_language: str | None = None) -> str:
    """A partial date ("2023", "2023-09", "2023-09-05") in the reader's language."""
    if not value:
        return ""
    return _formatted_date(value, in_language or current_language())


@lru_cache(maxsize=4096)  # a result page shows twenty dates, and years repeat
def _formatted_date(value: str, locale: str) -> str:
    parts = value.split("-")
    try:
        if len(parts) == 2:
            return format_skeleton("yMMM", date(int(parts[0]), int(parts[1]), 1), locale=locale)
        if len(parts) == 3:
            return format_date(date(*(int(p) for p in parts)), format="medium", locale=locale)
    except ValueError:
        return value
    return value
