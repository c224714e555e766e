"""Read-only queries for the reviewers' pages: the queue and a record's history."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from knowledge_hub import access
from knowledge_hub.extensions import db
from knowledge_hub.models import AuditEvent
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import User
from knowledge_hub.queries.public import document_loader


def review_queue(viewer: User | None) -> dict[str, list[Document]]:
    """Records waiting for review, and drafts still with the secretariat."""
    rows = db.session.scalars(
        select(Document)
        .where(
            access.visible_to(viewer),
            Document.status.in_([DocumentStatus.IN_REVIEW, DocumentStatus.DRAFT]),
        )
        .order_by(Document.updated_at.desc(), Document.id.desc())
        .options(*document_loader())
    ).all()
    return {
        "in_review": [d for d in rows if d.status == DocumentStatus.IN_REVIEW],
        "draft": [d for d in rows if d.status == DocumentStatus.DRAFT],
    }


def document_history(document_id: int) -> list[AuditEvent]:
    """Every recorded event of a record, oldest first."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.document_id == document_id)
            .order_by(AuditEvent.at, AuditEvent.id)
            .options(selectinload(AuditEvent.actor))
        )
    )
