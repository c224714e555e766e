"""What the browse pages show: the catalogue by organization, topic, region, type and
year, with counts, and the records of one value a page at a time.

Read-only; every count and list starts from what the viewer may see
(`access.visible_to`), so a hidden record is neither listed nor counted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import union_all

from knowledge_hub import access
from knowledge_hub import m49
from knowledge_hub import search
from knowledge_hub.extensions import db
from knowledge_hub.models import DocType
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentOrganization
from knowledge_hub.models import Organization
from knowledge_hub.models import OrganizationKind
from knowledge_hub.models import Region
from knowledge_hub.models import StoredFile
from knowledge_hub.models import Topic
from knowledge_hub.models import User
from knowledge_hub.models import Variant
from knowledge_hub.models.documents import document_region
from knowledge_hub.models.documents import document_topic
from knowledge_hub.queries import public

#: The facets a record can be browsed by, in the order the browse index lists them.
FACETS = ("organization", "topic", "region", "type", "year")


@dataclass(frozen=True)
class CountedRegion:
    """A region or country and how many records the viewer may see are of it."""

    code: str
    count: int
    #: The region it is shown inside of (the Americas, for its two parts).
    within: str | None = None


@dataclass
class RecordsPage:
    """One page of the records that have a value, newest first."""

    documents: list[Document]
    #: The version each record is shown in, by record id.
    shown: dict[int, Variant]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def organizations(viewer: User | None) -> dict[OrganizationKind, list[tuple[Organization, int]]]:
    """The Task Force's members and observers, each with its records' count, by kind."""
    counts = dict(
        db.session.execute(
            select(DocumentOrganization.organization_id, func.count(Document.id))
            .join(Document, DocumentOrganization.document_id == Document.id)
            .where(access.visible_to(viewer))
            .group_by(DocumentOrganization.organization_id)
        ).all()
    )
    grouped: dict[OrganizationKind, list[tuple[Organization, int]]] = {
        OrganizationKind.MEMBER: [],
        OrganizationKind.OBSERVER: [],
    }
    for organization in db.session.scalars(
        select(Organization)
        .where(Organization.kind.in_(tuple(grouped)))
        .order_by(Organization.acronym)
    ):
        grouped[organization.kind].append((organization, counts.get(organization.id, 0)))
    return grouped


def topics(viewer: User | None) -> list[tuple[Topic, int]]:
    """Every topic in use or offered (SSE themes first, then the SDGs), with counts."""
    counts = dict(
        db.session.execute(
            select(document_topic.c.topic_id, func.count(Document.id))
            .join(Document, document_topic.c.document_id == Document.id)
            .where(access.visible_to(viewer))
            .group_by(document_topic.c.topic_id)
        ).all()
    )
    return [
        (topic, counts.get(topic.id, 0))
        for topic in db.session.scalars(select(Topic).order_by(Topic.position, Topic.code))
        if topic.is_active or counts.get(topic.id)
    ]


def regions(viewer: User | None) -> tuple[list[CountedRegion], list[CountedRegion]]:
    """The world, the M49 regions (a record counted in each region it names, or names a
    sub-area or a country of), and the countries and areas records name, with counts."""
    per_code = dict(
        db.session.execute(
            select(document_region.c.region_code, func.count(Document.id))
            .join(Document, document_region.c.document_id == Document.id)
            .where(access.visible_to(viewer))
            .group_by(document_region.c.region_code)
        ).all()
    )
    areas = [CountedRegion(m49.WORLD, per_code.get(m49.WORLD, 0))]
    for region in m49.REGIONS:
        # A record naming two countries of one region counts once: counted in SQL.
        count = _count(viewer, region_is(region.code))
        areas.append(CountedRegion(region.code, count, region.within))
    covered = {m49.WORLD} | {region.code for region in m49.REGIONS}
    others = [CountedRegion(code, n) for code, n in sorted(per_code.items()) if code not in covered]
    return areas, others


def doc_types(viewer: User | None) -> list[tuple[DocType, int]]:
    return public.counts_by_type(viewer)


def years(viewer: User | None) -> list[tuple[int, int]]:
    """The years records are dated in, newest first, with counts."""
    year = func.substr(Document.date, 1, 4)
    rows = db.session.execute(
        select(year, func.count(Document.id))
        .where(access.visible_to(viewer), Document.date.is_not(None))
        .group_by(year)
        .order_by(year.desc())
    ).all()
    return [(int(y), n) for y, n in rows if y and y.isdigit()]


def region_is(code: str) -> ColumnElement[bool]:
    return Document.regions.any(Region.code.in_(sorted(m49.codes_within(code))))


def has_value(facet: str, value: str) -> ColumnElement[bool]:
    """The records that have `value` for `facet` (one of FACETS)."""
    if facet == "organization":
        return Document.organization_links.any(
            DocumentOrganization.organization.has(Organization.acronym == value)
        )
    if facet == "topic":
        return Document.topics.any(Topic.code == value)
    if facet == "region":
        return region_is(value)
    if facet == "type":
        return Document.doc_type.has(DocType.code == value)
    if facet == "year":
        return Document.date.like(f"{int(value):04d}%")
    raise ValueError(facet)


def _count(viewer: User | None, clause: ColumnElement[bool]) -> int:
    return (
        db.session.scalar(select(func.count(Document.id)).where(access.visible_to(viewer), clause))
        or 0
    )


def records(
    viewer: User | None,
    facet: str,
    value: str,
    languages: Sequence[str],
    page: int = 1,
    per_page: int = 20,
) -> RecordsPage:
    """The records viewer may see that have `value` for `facet`, newest first, each in the
    first of the reader's languages it has (else its original)."""
    clause = has_value(facet, value)
    documents = list(
        db.session.scalars(
            select(Document)
            .where(access.visible_to(viewer), clause)
            .order_by(Document.date.desc().nulls_last(), Document.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
            .options(*public.document_loader(with_texts=False))
        )
    )
    shown = {
        d.id: v
        for d in documents
        if (v := public.display_variant(public.visible_variants(viewer, d), languages)) is not None
    }
    return RecordsPage(documents, shown, _count(viewer, clause), page, per_page)


def organization(acronym: str) -> Organization | None:
    return db.session.scalar(select(Organization).where(Organization.acronym == acronym))


def topic(code: str) -> Topic | None:
    return db.session.scalar(select(Topic).where(Topic.code == code))


def doc_type(code: str) -> DocType | None:
    return db.session.scalar(select(DocType).where(DocType.code == code))


def region_exists(code: str) -> bool:
    return db.session.get(Region, code) is not None


#: Related records shown on a record page, and candidates read from each source.
RELATED_SHOWN = 5
RELATED_CANDIDATES = 20
#: How much of a version's text the "more like this" key terms are drawn from.
RELATED_TEXT_CHARS = 2000
#: A text less than this share as like as the likest one found shares a common word or
#: two, not a subject.
RELATED_TEXT_FLOOR = 0.25


@dataclass
class Related:
    document: Document
    shown: Variant


def related_records(
    viewer: User | None,
    document: Document,
    variant: Variant | None,
    languages: Sequence[str],
    limit: int = RELATED_SHOWN,
) -> list[Related]:
    """The records most related to `document` that viewer may see: those sharing its
    topics (counted twice) and organizations, and those whose text is like one of its
    versions' (each in its own language, so that a record in French only is found
    through the French version), each source scaled to 1 at its best and added up."""
    shared = _sharing_metadata(viewer, document)
    similar = _similar_in_each_language(viewer, document, variant) if variant else {}
    score: dict[int, float] = {}
    for source in (shared, similar):
        best = max(source.values(), default=0) or 1
        for document_id, value in source.items():
            score[document_id] = score.get(document_id, 0.0) + value / best
    ranked = sorted(score, key=lambda i: (-score[i], -i))[: limit * 2]
    # The visibility rule again on the rows: the index may lag behind a change.
    found = {
        d.id: d
        for d in db.session.scalars(
            select(Document)
            .where(Document.id.in_(ranked), access.visible_to(viewer))
            .options(*public.document_loader(with_texts=False))
        )
    }
    related = []
    for document_id in ranked:
        other = found.get(document_id)
        if other is None:
            continue
        shown = public.display_variant(public.visible_variants(viewer, other), languages)
        if shown is not None:
            related.append(Related(other, shown))
    return related[:limit]


def _similar_in_each_language(
    viewer: User | None, document: Document, shown: Variant
) -> dict[int, float]:
    """Records like the shown version's text, and like each other visible version's in
    its language; a language's best is 1 (scores of two languages' fields do not
    compare), and a record found in several keeps its best."""
    others = [
        v for v in document.variants if v.id != shown.id and access.can_see(viewer, document, v)
    ]
    index, levels = search.get_index(), access.visible_levels(viewer)
    similar: dict[int, float] = {}
    for version in [shown, *others]:
        found = search.similar_records(
            index,
            levels,
            document.id,
            version.language,
            _text_of(version),
            limit=RELATED_CANDIDATES,
        )
        best = max((value for __, value in found), default=0.0) or 1.0
        for document_id, value in found:
            if value / best >= RELATED_TEXT_FLOOR:
                similar[document_id] = max(similar.get(document_id, 0.0), value / best)
    return similar


def _sharing_metadata(viewer: User | None, document: Document) -> dict[int, float]:
    topic_ids = [t.id for t in document.topics]
    organization_ids = [link.organization_id for link in document.organization_links]
    if not topic_ids and not organization_ids:
        return {}
    shares = union_all(
        select(document_topic.c.document_id.label("document_id"), literal(2).label("weight")).where(
            document_topic.c.topic_id.in_(topic_ids)
        ),
        select(
            DocumentOrganization.document_id.label("document_id"), literal(1).label("weight")
        ).where(DocumentOrganization.organization_id.in_(organization_ids)),
    ).subquery()
    total = func.sum(shares.c.weight)
    rows = db.session.execute(
        select(shares.c.document_id, total)
        .join(Document, Document.id == shares.c.document_id)
        .where(Document.id != document.id, access.visible_to(viewer))
        .group_by(shares.c.document_id)
        .order_by(total.desc(), shares.c.document_id.desc())
        .limit(RELATED_CANDIDATES)
    ).all()
    return {document_id: float(weight) for document_id, weight in rows}


def _text_of(variant: Variant) -> str:
    """The version's title, summary and the beginning of its files' text."""
    beginning = func.substr(StoredFile.text, 1, RELATED_TEXT_CHARS)
    texts = db.session.scalars(
        select(beginning)
        .where(StoredFile.variant_id == variant.id, StoredFile.text.is_not(None))
        .order_by(StoredFile.id)
        .limit(1)
    )
    return "\n\n".join(p for p in (variant.title, variant.summary, *texts) if p)
