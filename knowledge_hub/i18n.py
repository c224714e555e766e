"""The six UN languages of the interface, and choosing one for each request."""

from __future__ import annotations

from dataclasses import dataclass

from babel import Locale
from flask import current_app
from flask import has_request_context
from flask import request
from flask_babel import get_locale
from flask_login import current_user
from flask_babel import lazy_gettext as _l  # noqa: F401  (re-exported for modules)

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


def current_language() -> str:
    return str(get_locale() or "en").split("_")[0]


def text_direction(language: str | None = None) -> str:
    code = (language or current_language()).split("-")[0]
    return "rtl" if code in RTL_LANGUAGES else "ltr"


def language_name(tag: str, in_language: str | None = None) -> str:
    """The name of a language (BCP 47) in the reader's language, from CLDR."""
    try:
        name = Locale.parse(tag, sep="-").get_display_name(in_language or current_language())
    except (ValueError, TypeError):
        return tag
    return name or tag


def region_name(code: str, in_language: str | None = None) -> str:
    """The name of a country or M49 area in the reader's language, from CLDR."""
    return Locale.parse(in_language or current_language()).territories.get(code, code)
