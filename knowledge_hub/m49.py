"""The UN M49 regions of the world and what each contains, for browsing by region.

A record names countries (ISO 3166-1 alpha-2) or M49 areas (three digits); a region's
records are those that name it, one of its sub-areas, or one of its countries. The
lists follow the UN Statistics Division's "Standard country or area codes for
statistical use" (M49); CLDR, which names the codes, has no containment table.
Pure data and functions: nothing here reads the database.
"""

from __future__ import annotations

from dataclasses import dataclass

WORLD = "001"


@dataclass(frozen=True)
class M49Region:
    code: str
    #: M49 sub-areas (intermediate regions and sub-regions) inside it.
    areas: frozenset[str]
    countries: frozenset[str]
    #: The region it is part of, when it is itself shown inside another.
    within: str | None = None

    @property
    def codes(self) -> frozenset[str]:
        """Every code a record may name to be of this region."""
        return self.areas | self.countries | {self.code}


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


_LATIN_AMERICA = _codes(
    "AI AG AW BS BB BQ VG KY CU CW DM DO GD GP HT JM MQ MS PR BL KN LC MF VC SX TT TC VI "
    "BZ CR SV GT HN MX NI PA AR BO BV BR CL CO EC FK GF GY PY PE GS SR UY VE"
)
_NORTHERN_AMERICA = _codes("BM CA GL PM US")

#: The continental regions, in M49's order, then the two parts of the Americas.
REGIONS: tuple[M49Region, ...] = (
    M49Region(
        "002",
        _codes("015 202 014 017 018 011"),
        _codes(
            "DZ EG LY MA SD TN EH IO BI KM DJ ER ET TF KE MG MW MU YT MZ RE RW SC SO SS UG "
            "TZ ZM ZW AO CM CF TD CG CD GQ GA ST BW SZ LS NA ZA BJ BF CV CI GM GH GN GW LR "
            "ML MR NE NG SH SN SL TG"
        ),
    ),
    M49Region("019", _codes("419 021 003 005 013 029"), _LATIN_AMERICA | _NORTHERN_AMERICA),
    M49Region("419", _codes("005 013 029"), _LATIN_AMERICA, within="019"),
    M49Region("021", frozenset(), _NORTHERN_AMERICA, within="019"),
    M49Region(
        "142",
        _codes("143 030 035 034 145"),
        _codes(
            "KZ KG TJ TM UZ CN HK MO KP JP MN KR TW BN KH ID LA MY MM PH SG TH TL VN AF BD "
            "BT IN IR MV NP PK LK AM AZ BH CY GE IQ IL JO KW LB OM QA SA PS SY TR AE YE"
        ),
    ),
    M49Region(
        "150",
        _codes("151 154 155 039 830"),
        _codes(
            "BY BG CZ HU PL MD RO RU SK UA AX DK EE FO FI GG IS IE IM JE LV LT NO SJ SE GB "
            "AL AD BA HR GI GR VA IT MT ME MK PT SM RS SI ES AT BE FR DE LI LU MC NL CH"
        ),
    ),
    M49Region(
        "009",
        _codes("053 054 057 061"),
        _codes(
            "AU NZ NF HM CX CC FJ NC PG SB VU GU KI MH FM NR MP PW UM AS CK PF NU PN WS TK TO TV WF"
        ),
    ),
)

BY_CODE = {region.code: region for region in REGIONS}


def codes_within(code: str) -> frozenset[str]:
    """The codes a record may name to be of region `code` (itself alone if it is not one
    of REGIONS: a country, a sub-area or the world)."""
    region = BY_CODE.get(code)
    return region.codes if region is not None else frozenset({code})


def region_of(country: str) -> str | None:
    """The continental region a country is in (never one of the parts of the Americas)."""
    for region in REGIONS:
        if region.within is None and country in region.countries:
            return region.code
    return None
