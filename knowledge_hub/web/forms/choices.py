"""The lists forms choose from, named in the reader's language: places (UN M49 areas and
ISO 3166 countries), languages and organizations. One list of each, shared by the
secretariat's, the administration's and the advanced-search forms.

A code list is picked with a `<select multiple>` (the browser's own type-ahead works
without JavaScript; static/pickers.js adds a filter box and removable chips) and
submits the same codes the text boxes it replaces did."""

from __future__ import annotations

import re

from babel import Locale
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField
from wtforms.fields.choices import SelectChoice

from knowledge_hub import i18n
from knowledge_hub.i18n.organization_names import ORGANIZATION_NAMES
from knowledge_hub.seed import NOT_REGIONS

#: Countries (ISO 3166) and UN M49 areas, as records name their regions. The codes the
#: hub does not hold as regions (CLDR's "unknown region", its pseudo-locales, unions and
#: other groupings; seed.NOT_REGIONS) are not offered: a record could not be given them.
_REGION = re.compile(r"^(?:[A-Z]{2}|\d{3})$")
#: Languages offered beyond the interface's: those with a two-letter ISO 639-1 code,
#: which are the ones translators are asked for (CLDR names some 600 more).
_COMMON_LANGUAGE = re.compile(r"^[a-z]{2}$")
#: Commas, semicolons or spaces between codes, as the former text boxes took them.
CODE_SEPARATORS = re.compile(r"[\s,;]+")

#: The countries of each continent, by its UN M49 code (the M49 "geographic regions";
#: Taiwan under Asia, as CLDR places it).
CONTINENTS = {
    "002": "DZ EG LY MA SD TN EH IO BI KM DJ ER ET TF KE MG MW MU YT MZ RE RW SC SO SS UG "
    "TZ ZM ZW AO CM CF TD CG CD GQ GA ST BW SZ LS NA ZA BJ BF CV CI GM GH GN GW LR ML MR "
    "NE NG SH SN SL TG",
    "019": "AI AG AW BS BB BQ VG KY CU CW DM DO GD GP HT JM MQ MS PR BL KN LC MF VC SX TT TC "
    "VI BZ CR SV GT HN MX NI PA AR BO BV BR CL CO EC FK GF GY PY PE GS SR UY VE BM CA GL "
    "PM US",
    "142": "KZ KG TJ TM UZ CN HK MO KP JP MN KR TW BN KH ID LA MY MM PH SG TH TL VN AF BD BT "
    "IN IR MV NP PK LK AM AZ BH CY GE IQ IL JO KW LB OM QA SA PS SY TR AE YE",
    "150": "BY BG CZ HU PL MD RO RU SK UA AX DK EE FO FI GG IS IE IM JE LV LT NO SJ SE GB AL "
    "AD BA HR GI GR VA IT MT ME MK PT SM RS SI ES AT BE FR DE LI LU MC NL CH",
    "009": "AU NZ NF HM CX CC FJ NC PG SB VU GU KI MH FM NR MP PW UM AS CK PF NU PN WS TK TO TV WF",
}
CONTINENT_OF = {
    country: continent
    for continent, countries in CONTINENTS.items()
    for country in countries.split()
}

AREAS = _l("World and UN M49 areas")
#: The group of the countries no continent holds (Antarctica).
COUNTRIES = _l("Countries and territories")
UN_LANGUAGES = _l("The six UN languages")
OTHER_LANGUAGES = _l("Other languages")
KEPT = _l("Other codes (kept as they are)")


def by_name(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """In the reader's alphabetical order of the names."""
    return sorted(pairs, key=lambda pair: i18n.collation_key(pair[1]))


def places() -> list[tuple[str, str]]:
    """(code, name) of every country and M49 area, by name in the reader's language."""
    return by_name(
        [
            (code, name)
            for code, name in i18n.territory_names().items()
            if _REGION.match(code) and code not in NOT_REGIONS
        ]
    )


def places_grouped() -> list[SelectChoice]:
    """The world and the M49 areas first, then the countries under their continent (a
    country no continent holds, such as Antarctica, last), each group by name."""
    names = dict(places())
    areas = [
        SelectChoice(code, name, optgroup=str(AREAS))
        for code, name in names.items()
        if code.isdigit()
    ]
    continents = by_name([(code, names[code]) for code in CONTINENTS])
    grouped = [
        SelectChoice(code, name, optgroup=continent_name)
        for continent, continent_name in continents
        for code, name in names.items()
        if CONTINENT_OF.get(code) == continent
    ]
    elsewhere = [
        SelectChoice(code, name, optgroup=str(COUNTRIES))
        for code, name in names.items()
        if not code.isdigit() and code not in CONTINENT_OF
    ]
    return areas + grouped + elsewhere


def languages_grouped() -> list[SelectChoice]:
    """The six UN languages in the hub's order, then the other common languages by name."""
    un = current_app.config["LANGUAGES"]
    others = by_name(
        [
            (code, i18n.language_name(code))
            for code in Locale("en").languages
            if _COMMON_LANGUAGE.match(code) and code not in un
        ]
    )
    return [
        SelectChoice(code, i18n.language_name(code), optgroup=str(UN_LANGUAGES)) for code in un
    ] + [SelectChoice(code, name, optgroup=str(OTHER_LANGUAGES)) for code, name in others]


def organization_label(acronym: str, name: str) -> str:
    """The acronym, then the name in the reader's language ("ILO — Organisation
    internationale du Travail") where the UN terminology gives one: the acronym first, so
    the select's type-ahead finds it by its first letter."""
    localized = ORGANIZATION_NAMES.get(acronym, {}).get(i18n.current_language())
    shown = localized[0] if localized else name
    return f"{acronym} — {shown}" if shown and shown != acronym else acronym


class CodeListField(SelectMultipleField):
    """Codes picked from a list. Codes may also come as one text ("SN, BR; 002"), as the
    text box this replaces sent them, and a code held but no longer offered stays
    offered, chosen, so saving a form never drops it."""

    def __init__(self, *args, upper: bool = False, **kwargs) -> None:
        # The service names codes it does not know, under the field; the form only
        # checks their shape.
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)
        self.upper = upper

    def process_formdata(self, valuelist: list[str]) -> None:
        codes = [code for value in valuelist for code in CODE_SEPARATORS.split(value) if code]
        self.data = list(dict.fromkeys(code.upper() if self.upper else code for code in codes))

    def _choices_from_input(self, choices):
        offered = super()._choices_from_input(choices) or []
        known = {c.value for c in offered}
        kept = [
            SelectChoice(code, code, optgroup=str(KEPT) if self._grouped(offered) else None)
            for code in self.data or []
            if code not in known
        ]
        return offered + kept

    @staticmethod
    def _grouped(choices: list[SelectChoice]) -> bool:
        return any(c.optgroup is not None for c in choices)
