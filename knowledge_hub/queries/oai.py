"""Read-only queries for OAI-PMH harvesting.

A harvester is an anonymous reader: it gets the released public records, and the
withdrawn ones (that it could once see) as deleted records. Sets are derived from a
record's kind, type, organizations and topics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.orm import selectinload

from knowledge_hub import access
from knowledge_hub.extensions import db
from knowledge_hub.models import DocType
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentKind
from knowledge_hub.models import DocumentOrganization
from knowledge_hub.models import Organization
from knowledge_hub.models import Topic
from knowledge_hub.models import Variant
from knowledge_hub.models.documents import document_topic

#: The top-level sets; each value set below them is "<family>:<value>".
SET_FAMILIES = ("kind", "type", "organization", "topic")

_UNSAFE_IN_SPEC = re.compile(r"[^A-Za-z0-9\-_.!~*'()]+")


@dataclass(frozen=True)
class OaiSet:
    spec: str
    name: str


@dataclass(frozen=True)
class Page:
    documents: list[Document]
    total: int
    has_more: bool


def harvestable() -> ColumnElement[bool]:
    """Released public records, and withdrawn ones as tombstones: what anyone may harvest."""
    return access.visible_to(None, include_withdrawn=True)


def datestamp() -> ColumnElement[datetime]:
    """When a record last changed, as harvesters see it."""
    return func.coalesce(Document.updated_at, Document.released_at)


def spec_value(value: str) -> str:
    """A vocabulary value written with the characters a setSpec allows."""
    return _UNSAFE_IN_SPEC.sub("-", value).strip("-") or "-"


def record_sets(document: Document) -> list[str]:
    """The set specs a record belongs to (the leaves; their families are implied)."""
    specs = [f"kind:{document.kind.value}"]
    if document.doc_type is not None:
        specs.append(f"type:{spec_value(document.doc_type.code)}")
    specs += [f"organization:{spec_value(o.acronym)}" for o in document.organizations]
    specs += [f"topic:{spec_value(t.code)}" for t in document.topics]
    return list(dict.fromkeys(specs))


def list_sets() -> list[OaiSet]:
    """Every set that holds at least one harvestable record, families first."""
    families = {
        "kind": "Kind of record",
        "type": "Document type",
        "organization": "Organization",
        "topic": "Topic",
    }
    sets = [OaiSet(spec, name) for spec, name in families.items()]
    kinds = db.session.scalars(select(Document.kind).where(harvestable()).distinct())
    sets += [OaiSet(f"kind:{k.value}", k.value.title()) for k in sorted(kinds)]
    types = db.session.scalars(
        select(DocType)
        .join(Document, Document.doc_type_id == DocType.id)
        .where(harvestable())
        .distinct()
        .order_by(DocType.position)
    )
    sets += [OaiSet(f"type:{spec_value(t.code)}", t.label) for t in types]
    organizations = db.session.scalars(
        select(Organization)
        .join(DocumentOrganization, DocumentOrganization.organization_id == Organization.id)
        .join(Document, Document.id == DocumentOrganization.document_id)
        .where(harvestable())
        .distinct()
        .order_by(Organization.acronym)
    )
    sets += [OaiSet(f"organization:{spec_value(o.acronym)}", o.name) for o in organizations]
    topics = db.session.scalars(
        select(Topic)
        .where(
            Topic.id.in_(
                select(document_topic.c.topic_id)
                .join(Document, Document.id == document_topic.c.document_id)
                .where(harvestable())
            )
        )
        .order_by(Topic.position)
    )
    sets += [OaiSet(f"topic:{spec_value(t.code)}", t.label) for t in topics]
    return list({s.spec: s for s in sets}.values())


def set_clause(spec: str) -> ColumnElement[bool]:
    """The SQL clause for the records in a set; an unknown set holds nothing."""
    family, __, value = spec.partition(":")
    if family not in SET_FAMILIES or ":" in value:
        return false()
    if family == "kind":
        if not value:
            return true()
        return Document.kind == value if value in DocumentKind._value2member_map_ else false()
    if family == "type":
        if not value:
            return Document.doc_type_id.is_not(None)
        ids = [t.id for t in db.session.scalars(select(DocType)) if spec_value(t.code) == value]
        return Document.doc_type_id.in_(ids)
    if family == "organization":
        if not value:
            return Document.organization_links.any()
        ids = [
            o.id for o in db.session.scalars(select(Organization)) if spec_value(o.acronym) == value
        ]
        return Document.organization_links.any(DocumentOrganization.organization_id.in_(ids))
    if not value:
        return Document.topics.any()
    ids = [t.id for t in db.session.scalars(select(Topic)) if spec_value(t.code) == value]
    return Document.topics.any(Topic.id.in_(ids))


def _loader() -> tuple:
    return (
        selectinload(Document.variants).selectinload(Variant.files),
        selectinload(Document.doc_type),
        selectinload(Document.topics),
        selectinload(Document.regions),
        selectinload(Document.organization_links).selectinload(DocumentOrganization.organization),
    )


def harvest(
    *,
    set_spec: str | None,
    start: datetime | None,
    end: datetime | None,
    after_id: int,
    limit: int,
) -> Page:
    """One page of harvestable records, in id order after `after_id`.

    `start` is inclusive and `end` exclusive; `total` counts the whole list.
    """
    conditions = [harvestable()]
    if set_spec:
        conditions.append(set_clause(set_spec))
    if start is not None:
        conditions.append(datestamp() >= start)
    if end is not None:
        conditions.append(datestamp() < end)
    total = db.session.scalar(select(func.count(Document.id)).where(*conditions)) or 0
    rows = list(
        db.session.scalars(
            select(Document)
            .where(*conditions, Document.id > after_id)
            .order_by(Document.id)
            .limit(limit + 1)
            .options(*_loader())
        )
    )
    return Page(rows[:limit], total, len(rows) > limit)


def by_ref(ref: str) -> Document | None:
    """A harvestable record by its reference."""
    return db.session.scalar(
        select(Document).where(Document.ref == ref, harvestable()).options(*_loader())
    )


def earliest_datestamp() -> datetime | None:
    return db.session.scalar(select(func.min(datestamp())).where(harvestable()))
