"""Loading what every hub starts with: the vocabularies and the first criteria set (their
labels are in `knowledge_hub.i18n.vocabularies`), the organizations and the regions. `hub init`
runs it; again is harmless."""

from __future__ import annotations

from babel import Locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge_hub.i18n.vocabularies import CRITERIA
from knowledge_hub.i18n.vocabularies import DOC_TYPES
from knowledge_hub.i18n.vocabularies import SDGS
from knowledge_hub.i18n.vocabularies import SSE_TOPICS
from knowledge_hub.models import CriteriaSetVersion
from knowledge_hub.models import Criterion
from knowledge_hub.models import CriterionKind
from knowledge_hub.models import DocType
from knowledge_hub.models import Organization
from knowledge_hub.models import OrganizationKind
from knowledge_hub.models import Region
from knowledge_hub.models import Topic

MEMBER, OBSERVER, OTHER = OrganizationKind.MEMBER, OrganizationKind.OBSERVER, OrganizationKind.OTHER

ORGANIZATIONS = [
    ("ILO", "International Labour Organization", MEMBER, "https://www.ilo.org"),
    ("UNCTAD", "United Nations Conference on Trade and Development", MEMBER, "https://unctad.org"),
    (
        "UNRISD",
        "United Nations Research Institute for Social Development",
        MEMBER,
        "https://www.unrisd.org",
    ),
    ("UNDP", "United Nations Development Programme", MEMBER, "https://www.undp.org"),
    (
        "UN DESA",
        "United Nations Department of Economic and Social Affairs",
        MEMBER,
        "https://www.un.org/en/desa",
    ),
    (
        "ECLAC",
        "Economic Commission for Latin America and the Caribbean",
        MEMBER,
        "https://www.cepal.org",
    ),
    (
        "ESCAP",
        "Economic and Social Commission for Asia and the Pacific",
        MEMBER,
        "https://www.unescap.org",
    ),
    (
        "OECD",
        "Organisation for Economic Co-operation and Development",
        MEMBER,
        "https://www.oecd.org",
    ),
    (
        "FAO",
        "Food and Agriculture Organization of the United Nations",
        MEMBER,
        "https://www.fao.org",
    ),
    (
        "UN Women",
        "United Nations Entity for Gender Equality and the Empowerment of Women",
        MEMBER,
        "https://www.unwomen.org",
    ),
    ("UN-NGLS", "United Nations Non-Governmental Liaison Service", MEMBER, None),
    (
        "UNHCR",
        "Office of the United Nations High Commissioner for Refugees",
        MEMBER,
        "https://www.unhcr.org",
    ),
    ("WHO", "World Health Organization", MEMBER, "https://www.who.int"),
    ("ITC-ILO", "International Training Centre of the ILO", OTHER, "https://www.itcilo.org"),
    ("Catalyst 2030", "Catalyst 2030", OBSERVER, None),
    (
        "CIRIEC",
        "International Centre of Research and Information on the Public, Social and Cooperative "
        "Economy",
        OBSERVER,
        None,
    ),
    ("CSEND", "Centre for Socio-Eco-Nomic Development", OBSERVER, None),
    ("EESC", "European Economic and Social Committee", OBSERVER, None),
    ("EMES", "EMES International Research Network", OBSERVER, None),
    (
        "EURICSE",
        "European Research Institute on Cooperative and Social Enterprises",
        OBSERVER,
        None,
    ),
    ("DIESIS", "DIESIS Network", OBSERVER, None),
    ("GSEF", "Global Social Economy Forum", OBSERVER, None),
    ("Euclid Network", "Euclid Network", OBSERVER, None),
    ("ICA", "International Cooperative Alliance", OBSERVER, None),
    ("SSE IF", "Social and Solidarity Economy International Forum", OBSERVER, None),
    (
        "RIPESS",
        "Intercontinental Network for the Promotion of Social Solidarity Economy",
        OBSERVER,
        None,
    ),
    ("FMDV", "Global Fund for Cities Development", OBSERVER, None),
    ("WFTO", "World Fair Trade Organization", OBSERVER, None),
]

# CLDR territory codes that are not ISO 3166-1 countries nor UN M49 areas (EU, the
# "Unknown region", pseudo-locales, outlying islands with exceptional codes).
NOT_REGIONS = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"}
)


def region_codes() -> list[str]:
    """ISO 3166-1 alpha-2 countries and UN M49 areas, as CLDR (through Babel) knows them."""
    return sorted(code for code in Locale("en").territories if code not in NOT_REGIONS)


def vocabularies(session: Session) -> None:
    """Add what is missing from the vocabularies; never removes or renames anything."""
    types = [
        dict(code=code, label=str(label), position=i)
        for i, (code, label) in enumerate(DOC_TYPES.items())
    ]
    _add_missing(session, DocType, types)
    topics = [
        dict(code=code, label=str(label), position=i)
        for i, (code, label) in enumerate(SSE_TOPICS.items())
    ]
    topics += [
        dict(code=code, label=str(label), is_sdg=True, position=100 + n)
        for n, (code, label) in enumerate(SDGS.items(), start=1)
    ]
    _add_missing(session, Topic, topics)
    existing_orgs = set(session.scalars(select(Organization.acronym)))
    session.add_all(
        Organization(acronym=a, name=n, kind=k, url=u)
        for a, n, k, u in ORGANIZATIONS
        if a not in existing_orgs
    )
    existing_regions = set(session.scalars(select(Region.code)))
    session.add_all(
        Region(code=code, is_area=code.isdigit())
        for code in region_codes()
        if code not in existing_regions
    )


def _add_missing(session: Session, model: type, rows: list[dict]) -> None:
    existing = set(session.scalars(select(model.code)))
    session.add_all(model(**row) for row in rows if row["code"] not in existing)


def criteria(session: Session) -> None:
    """Create the first criteria set and its version 1, unless a set exists."""
    if session.scalar(select(Criterion.id).limit(1)) is not None:
        return
    rows = [
        Criterion(
            code=seeded.code,
            label=str(seeded.label),
            help_text=str(seeded.help_text),
            kind=CriterionKind(seeded.kind),
            is_required=True,
            applies_to=list(seeded.applies_to),
            position=position,
        )
        for position, seeded in enumerate(CRITERIA)
    ]
    session.add_all(rows)
    session.add(CriteriaSetVersion(number=1, snapshot=criteria_snapshot(rows), note="First set"))


def criteria_snapshot(rows: list[Criterion]) -> list[dict]:
    """The criteria set as plain data, kept with each version of it."""
    return [
        {
            "code": c.code,
            "label": c.label,
            "kind": str(c.kind),
            "is_required": c.is_required,
            "applies_to": list(c.applies_to),
            "is_active": c.is_active if c.is_active is not None else True,
            "position": c.position,
        }
        for c in rows
    ]
