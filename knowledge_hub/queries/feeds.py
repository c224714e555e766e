"""Read-only queries for feeds and sitemaps. Every one starts from what the viewer may see."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from knowledge_hub import access
from knowledge_hub import search
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentOrganization
from knowledge_hub.models import User
from knowledge_hub.models import Variant
from knowledge_hub.search import SearchRequest


def count_pages(viewer: User | None) -> int:
    """How many landing pages the viewer may see."""
    return db.session.scalar(select(func.count(Document.id)).where(access.visible_to(viewer))) or 0


def landing_pages(viewer: User | None, *, page: int, per_page: int) -> list[tuple[int, datetime]]:
    """One page of (document id, last change) of the records viewer may see, by id."""
    rows = db.session.execute(
        select(Document.id, Document.updated_at)
        .where(access.visible_to(viewer))
        .order_by(Document.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return [(document_id, updated_at) for document_id, updated_at in rows]


def last_change(viewer: User | None, *, page: int, per_page: int) -> datetime | None:
    """When the latest record of one sitemap page changed."""
    ids = (
        select(Document.id, Document.updated_at)
        .where(access.visible_to(viewer))
        .order_by(Document.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .subquery()
    )
    return db.session.scalar(select(func.max(ids.c.updated_at)))


def search_documents(viewer: User | None, request: SearchRequest) -> list[Document]:
    """The records of one page of a search, in rank order, without snippets (for exports)."""
    result = search.search(search.get_index(), access.visible_levels(viewer), request)
    ids = list(dict.fromkeys(hit.document_id for hit in result.hits))
    found = {
        d.id: d
        for d in db.session.scalars(
            select(Document)
            .where(Document.id.in_(ids), access.visible_to(viewer))
            .options(
                selectinload(Document.variants).selectinload(Variant.files),
                selectinload(Document.doc_type),
                selectinload(Document.topics),
                selectinload(Document.regions),
                selectinload(Document.organization_links).selectinload(
                    DocumentOrganization.organization
                ),
            )
        )
    }
    return [found[i] for i in ids if i in found]
