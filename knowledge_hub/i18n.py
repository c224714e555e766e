"""The six UN languages of the interface, and choosing one for each request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from functools import lru_cache
from typing import Any

from babel import Locale
from babel import UnknownLocaleError
from babel.dates import format_date
from babel.dates import format_skeleton
from babel.numbers import format_decimal
from flask import current_app
from flask import has_request_context
from flask import request
from flask_babel import get_locale
from flask_babel import gettext
from flask_login import current_user
from pyuca import Collator
from flask_babel import lazy_gettext as _l

from knowledge_hub.messages import Message

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
    return _territories(in_language or current_language()).get(code, code)


@lru_cache(maxsize=64)
def _territories(language: str) -> dict[str, str]:
    return dict(Locale.parse(language).territories)


def format_number(value: float) -> str:
    """A number as the reader's language writes it (12,345; 12 345; ١٢٬٣٤٥)."""
    return _formatted_number(value, current_locale())


@lru_cache(maxsize=4096)
def _formatted_number(value: float, locale: str) -> str:
    return format_decimal(value, locale=locale)


# --- Labels of the seeded vocabularies and of the fixed values, in the reader's language.
# The database keeps the English labels; an entry an admin added or relabelled shows the
# label it has there, since the catalogue cannot know it.

#: The seeded document types, by code.
_TYPES = {
    "report": _l("Report"),
    "position-paper": _l("Position paper"),
    "policy-brief": _l("Policy brief"),
    "working-paper": _l("Working paper"),
    "guide": _l("Guide"),
    "toolkit": _l("Toolkit"),
    "awareness-package": _l("Awareness package"),
    "case-study": _l("Case study"),
    "meeting-minutes": _l("Meeting minutes"),
    "agenda": _l("Agenda"),
    "session-notes": _l("Session notes"),
    "workplan": _l("Workplan"),
    "presentation": _l("Presentation"),
    "correspondence": _l("Correspondence"),
    "other": _l("Other"),
}

#: The seeded SSE topics, then the SDGs with their official short names, by code.
_TOPICS = {
    "informal-economy": _l("Transition from the informal economy to decent work"),
    "green-economy": _l("Greening the economy and society"),
    "local-development": _l("Local economic development"),
    "sustainable-cities": _l("Sustainable cities and human settlements"),
    "womens-empowerment": _l("Women's well-being and empowerment"),
    "food-security": _l("Food security and smallholder empowerment"),
    "health-coverage": _l("Universal health coverage"),
    "transformative-finance": _l("Transformative finance"),
    "cooperatives": _l("Cooperatives and mutual organizations"),
    "legal-frameworks": _l("Public policies and legal frameworks for SSE"),
    "statistics": _l("Statistics and measurement of SSE"),
    "digital-economy": _l("SSE and the digital economy"),
    "sdg-1": _l("SDG 1: No poverty"),
    "sdg-2": _l("SDG 2: Zero hunger"),
    "sdg-3": _l("SDG 3: Good health and well-being"),
    "sdg-4": _l("SDG 4: Quality education"),
    "sdg-5": _l("SDG 5: Gender equality"),
    "sdg-6": _l("SDG 6: Clean water and sanitation"),
    "sdg-7": _l("SDG 7: Affordable and clean energy"),
    "sdg-8": _l("SDG 8: Decent work and economic growth"),
    "sdg-9": _l("SDG 9: Industry, innovation and infrastructure"),
    "sdg-10": _l("SDG 10: Reduced inequalities"),
    "sdg-11": _l("SDG 11: Sustainable cities and communities"),
    "sdg-12": _l("SDG 12: Responsible consumption and production"),
    "sdg-13": _l("SDG 13: Climate action"),
    "sdg-14": _l("SDG 14: Life below water"),
    "sdg-15": _l("SDG 15: Life on land"),
    "sdg-16": _l("SDG 16: Peace, justice and strong institutions"),
    "sdg-17": _l("SDG 17: Partnerships for the goals"),
}

#: The seeded criteria: label and help text, by code.
_CRITERIA = {
    "metadata_complete": (
        _l("Metadata complete"),
        _l(
            "Title, summary, date, type, at least one organization and one topic."
        ),
    ),
    "text_extracted": (
        _l("A file whose text could be extracted"),
        _l(
            "The original language version has a file, and its text was extracted, so that it can be found by its words."
        ),
    ),
    "language_matches": (
        _l("Declared language matches the text"),
        _l(
            "The language detected in the text of the original version is the language declared for it."
        ),
    ),
    "summary_length": (
        _l("Summary of suitable length"),
        _l(
            "The summary has between 50 and 1,500 characters."
        ),
    ),
    "no_duplicate": (
        _l("Not a duplicate of another record"),
        _l(
            "No file of the record is already held by another record (same SHA-256)."
        ),
    ),
    "mandate_alignment": (
        _l("Aligned with the UNTFSSE mandate and A/RES/77/281"),
        _l(
            "The content is consistent with the Task Force's mandate and the General Assembly resolution 'Promoting the Social and Solidarity Economy for Sustainable Development'."
        ),
    ),
    "member_review": (
        _l("Reviewed by at least two member organizations"),
        _l(
            "At least two member organizations of the Task Force reviewed the text; name them in the comment."
        ),
    ),
    "un_disclaimer": (
        _l("UN disclaimer present"),
        _l(
            "The publication carries the standard United Nations disclaimer."
        ),
    ),
    "logo_use": (
        _l("Logo use approved"),
        _l(
            "Use of the UN, Task Force and member logos was approved."
        ),
    ),
    "copyright_cleared": (
        _l("Copyright and license cleared"),
        _l(
            "Rights to publish every part were cleared and the license is stated."
        ),
    ),
    "accessible_format": (
        _l("Accessible format"),
        _l(
            "The file is accessible: tagged PDF or structured document, text alternatives for figures."
        ),
    ),
    "second_speaker_review": (
        _l("Reviewed by a second speaker of the language"),
        _l(
            "A second speaker of the target language reviewed the translation."
        ),
    ),
    "title_summary_translated": (
        _l("Title and summary translated"),
        _l(
            "The language version has its own translated title and summary."
        ),
    ),
    "translation_language_matches": (
        _l("Detected language matches"),
        _l(
            "The text of the translation reads as the language declared for it."
        ),
    ),
    "translation_text_extracted": (
        _l("Translated file with extractable text"),
        _l(
            "The language version has a file whose text could be extracted."
        ),
    ),
}

_STATUSES = {
    "draft": _l("Draft"),
    "in_review": _l("In review"),
    "released": _l("Released"),
    "withdrawn": _l("Withdrawn"),
    "submitted": _l("Submitted"),
    "approved": _l("Approved"),
    "sent_back": _l("Sent back"),
}

_KINDS = {"publication": _l("Publication"), "archive": _l("Archive")}

_ACCESS = {"public": _l("Public"), "members": _l("Members"), "internal": _l("Internal")}


def _seeded(
    labels: dict[str, Any], english: dict[str, str], code: str, fallback: str | None
) -> str:
    label = labels.get(code)
    if label is None or (fallback and fallback != english.get(code)):
        return fallback or code
    return str(label)


@cache
def _english_labels() -> tuple[dict[str, str], dict[str, str], dict[str, tuple[str, str]]]:
    from knowledge_hub import seed

    topics = dict(seed.SSE_TOPICS)
    topics.update({f"sdg-{n}": f"SDG {n}: {label}" for n, label in enumerate(seed.SDGS, 1)})
    criteria = {code: (label, help_text) for code, label, help_text, *__ in seed.CRITERIA}
    return dict(seed.DOC_TYPES), topics, criteria


def type_label(code: str, fallback: str | None = None) -> str:
    """A document type's label: the catalogue's for a seeded type, else the database's."""
    return _type_label(code, fallback, current_locale())


# Labels are asked for on every result and facet value; for a code, a database label
# and a locale the answer never changes.
@lru_cache(maxsize=2048)
def _type_label(code: str, fallback: str | None, locale: str) -> str:
    return _seeded(_TYPES, _english_labels()[0], code, fallback)


def topic_label(code: str, fallback: str | None = None) -> str:
    """A topic's (or SDG's) label: the catalogue's for a seeded topic, else the database's."""
    return _topic_label(code, fallback, current_locale())


@lru_cache(maxsize=2048)
def _topic_label(code: str, fallback: str | None, locale: str) -> str:
    return _seeded(_TOPICS, _english_labels()[1], code, fallback)


def criterion_label(code: str, fallback: str | None = None) -> str:
    """A criterion's label: the catalogue's for a seeded criterion, else the database's."""
    labels = {c: pair[0] for c, pair in _CRITERIA.items()}
    english = {c: pair[0] for c, pair in _english_labels()[2].items()}
    return _seeded(labels, english, code, fallback)


def criterion_help(code: str, fallback: str | None = None) -> str:
    """A criterion's help text: the catalogue's for a seeded one, else the database's."""
    texts = {c: pair[1] for c, pair in _CRITERIA.items()}
    english = {c: pair[1] for c, pair in _english_labels()[2].items()}
    return _seeded(texts, english, code, fallback)


def status_label(value: object) -> str:
    """A record's or a language version's status, as a word."""
    value = str(value)
    return str(_STATUSES[value]) if value in _STATUSES else value


def kind_label(value: object) -> str:
    value = str(value)
    return str(_KINDS[value]) if value in _KINDS else value


def access_label(value: object) -> str:
    value = str(value)
    return str(_ACCESS[value]) if value in _ACCESS else value


def translate(message: object) -> str:
    """A sentence marked with `knowledge_hub.messages.N_`, in the reader's language; any
    other text unchanged."""
    if not isinstance(message, Message):
        return "" if message is None else str(message)
    values = {key: _translated_value(value) for key, value in message.values.items()}
    return gettext(message.msgid, **values)


def _translated_value(value: object) -> object:
    if isinstance(value, tuple):
        return ", ".join(translate(v) for v in value)
    return translate(value) if isinstance(value, Message) else value


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
