"""The controlled vocabularies every hub starts with; `hub init` loads them (again is harmless)."""

from __future__ import annotations

from babel import Locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge_hub.models import CriteriaSetVersion
from knowledge_hub.models import Criterion
from knowledge_hub.models import CriterionKind
from knowledge_hub.models import DocType
from knowledge_hub.models import Organization
from knowledge_hub.models import OrganizationKind
from knowledge_hub.models import Region
from knowledge_hub.models import Topic

DOC_TYPES = [
    ("report", "Report"),
    ("position-paper", "Position paper"),
    ("policy-brief", "Policy brief"),
    ("working-paper", "Working paper"),
    ("guide", "Guide"),
    ("toolkit", "Toolkit"),
    ("awareness-package", "Awareness package"),
    ("case-study", "Case study"),
    ("meeting-minutes", "Meeting minutes"),
    ("agenda", "Agenda"),
    ("session-notes", "Session notes"),
    ("workplan", "Workplan"),
    ("presentation", "Presentation"),
    ("correspondence", "Correspondence"),
    ("other", "Other"),
]

# The eight issue areas of the Task Force's 2014 position paper, then recurring themes.
SSE_TOPICS = [
    ("informal-economy", "Transition from the informal economy to decent work"),
    ("green-economy", "Greening the economy and society"),
    ("local-development", "Local economic development"),
    ("sustainable-cities", "Sustainable cities and human settlements"),
    ("womens-empowerment", "Women's well-being and empowerment"),
    ("food-security", "Food security and smallholder empowerment"),
    ("health-coverage", "Universal health coverage"),
    ("transformative-finance", "Transformative finance"),
    ("cooperatives", "Cooperatives and mutual organizations"),
    ("legal-frameworks", "Public policies and legal frameworks for SSE"),
    ("statistics", "Statistics and measurement of SSE"),
    ("digital-economy", "SSE and the digital economy"),
]

SDGS = [
    "No poverty",
    "Zero hunger",
    "Good health and well-being",
    "Quality education",
    "Gender equality",
    "Clean water and sanitation",
    "Affordable and clean energy",
    "Decent work and economic growth",
    "Industry, innovation and infrastructure",
    "Reduced inequalities",
    "Sustainable cities and communities",
    "Responsible consumption and production",
    "Climate action",
    "Life below water",
    "Life on land",
    "Peace, justice and strong institutions",
    "Partnerships for the goals",
]

MEMBER, OBSERVER, OTHER = OrganizationKind.MEMBER, OrganizationKind.OBSERVER, OrganizationKind.OTHER

ORGANIZATIONS = [
    ("ILO", "International Labour Organization", MEMBER, "https://www.ilo.org"),
    ("UNCTAD", "United Nations Conference on Trade and Development", MEMBER, "https://unctad.org"),
    ("UNRISD", "United Nations Research Institute for Social Development", MEMBER, "https://www.unrisd.org"),
    ("UNDP", "United Nations Development Programme", MEMBER, "https://www.undp.org"),
    ("UN DESA", "United Nations Department of Economic and Social Affairs", MEMBER, "https://www.un.org/en/desa"),
    ("ECLAC", "Economic Commission for Latin America and the Caribbean", MEMBER, "https://www.cepal.org"),
    ("ESCAP", "Economic and Social Commission for Asia and the Pacific", MEMBER, "https://www.unescap.org"),
    ("OECD", "Organisation for Economic Co-operation and Development", MEMBER, "https://www.oecd.org"),
    ("FAO", "Food and Agriculture Organization of the United Nations", MEMBER, "https://www.fao.org"),
    ("UN Women", "United Nations Entity for Gender Equality and the Empowerment of Women", MEMBER, "https://www.unwomen.org"),
    ("UN-NGLS", "United Nations Non-Governmental Liaison Service", MEMBER, None),
    ("UNHCR", "Office of the United Nations High Commissioner for Refugees", MEMBER, "https://www.unhcr.org"),
    ("WHO", "World Health Organization", MEMBER, "https://www.who.int"),
    ("ITC-ILO", "International Training Centre of the ILO", OTHER, "https://www.itcilo.org"),
    ("Catalyst 2030", "Catalyst 2030", OBSERVER, None),
    ("CIRIEC", "International Centre of Research and Information on the Public, Social and Cooperative Economy", OBSERVER, None),
    ("CSEND", "Centre for Socio-Eco-Nomic Development", OBSERVER, None),
    ("EESC", "European Economic and Social Committee", OBSERVER, None),
    ("EMES", "EMES International Research Network", OBSERVER, None),
    ("EURICSE", "European Research Institute on Cooperative and Social Enterprises", OBSERVER, None),
    ("DIESIS", "DIESIS Network", OBSERVER, None),
    ("GSEF", "Global Social Economy Forum", OBSERVER, None),
    ("Euclid Network", "Euclid Network", OBSERVER, None),
    ("ICA", "International Cooperative Alliance", OBSERVER, None),
    ("SSE IF", "Social and Solidarity Economy International Forum", OBSERVER, None),
    ("RIPESS", "Intercontinental Network for the Promotion of Social Solidarity Economy", OBSERVER, None),
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
    _add_missing(session, DocType, [dict(code=c, label=l, position=i) for i, (c, l) in enumerate(DOC_TYPES)])
    topics = [dict(code=c, label=l, position=i) for i, (c, l) in enumerate(SSE_TOPICS)]
    topics += [
        dict(code=f"sdg-{n}", label=f"SDG {n}: {label}", is_sdg=True, position=100 + n)
        for n, label in enumerate(SDGS, start=1)
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


PUBLICATION, ARCHIVE, TRANSLATION = "publication", "archive", "translation"

# The first criteria set, from the Task Force's draft publication criteria. Archives get
# the automatic criteria only; admins edit the set afterwards.
CRITERIA = [
    ("metadata_complete", "Metadata complete",
     "Title, summary, date, type, at least one organization and one topic.",
     "automatic", [PUBLICATION, ARCHIVE]),
    ("text_extracted", "A file whose text could be extracted",
     "The original language version has a file, and its text was extracted, so that it can be found by its words.",
     "automatic", [PUBLICATION, ARCHIVE]),
    ("language_matches", "Declared language matches the text",
     "The language detected in the text of the original version is the language declared for it.",
     "automatic", [PUBLICATION, ARCHIVE]),
    ("summary_length", "Summary of suitable length",
     "The summary has between 50 and 1,500 characters.",
     "automatic", [PUBLICATION, ARCHIVE]),
    ("no_duplicate", "Not a duplicate of another record",
     "No file of the record is already held by another record (same SHA-256).",
     "automatic", [PUBLICATION, ARCHIVE]),
    ("mandate_alignment", "Aligned with the UNTFSSE mandate and A/RES/77/281",
     "The content is consistent with the Task Force's mandate and the General Assembly resolution "
     "'Promoting the Social and Solidarity Economy for Sustainable Development'.",
     "attestation", [PUBLICATION]),
    ("member_review", "Reviewed by at least two member organizations",
     "At least two member organizations of the Task Force reviewed the text; name them in the comment.",
     "attestation", [PUBLICATION]),
    ("un_disclaimer", "UN disclaimer present",
     "The publication carries the standard United Nations disclaimer.",
     "attestation", [PUBLICATION]),
    ("logo_use", "Logo use approved",
     "Use of the UN, Task Force and member logos was approved.",
     "attestation", [PUBLICATION]),
    ("copyright_cleared", "Copyright and license cleared",
     "Rights to publish every part were cleared and the license is stated.",
     "attestation", [PUBLICATION]),
    ("accessible_format", "Accessible format",
     "The file is accessible: tagged PDF or structured document, text alternatives for figures.",
     "attestation", [PUBLICATION]),
    ("second_speaker_review", "Reviewed by a second speaker of the language",
     "A second speaker of the target language reviewed the translation.",
     "attestation", [TRANSLATION]),
    ("title_summary_translated", "Title and summary translated",
     "The language version has its own translated title and summary.",
     "automatic", [TRANSLATION]),
    ("translation_language_matches", "Detected language matches",
     "The text of the translation reads as the language declared for it.",
     "automatic", [TRANSLATION]),
    ("translation_text_extracted", "Translated file with extractable text",
     "The language version has a file whose text could be extracted.",
     "automatic", [TRANSLATION]),
]


def criteria(session: Session) -> None:
    """Create the first criteria set and its version 1, unless a set exists."""
    if session.scalar(select(Criterion.id).limit(1)) is not None:
        return
    rows = [
        Criterion(code=code, label=label, help_text=help_text, kind=CriterionKind(kind),
                  is_required=True, applies_to=applies_to, position=position)
        for position, (code, label, help_text, kind, applies_to) in enumerate(CRITERIA)
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
