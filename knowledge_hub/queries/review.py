"""Read-only queries for the reviewers' pages: the queue and a record's history."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from knowledge_hub import access
from knowledge_hub.extensions import db
from knowledge_hub.models import AuditEvent
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import User
from knowledge_hub.models import Variant
from knowledge_hub.queries.public import document_loader
from knowledge_hub.queries.translations import TRANSLATION_WAITING
from knowledge_hub.queries.translations import translations_in_review


@dataclass(frozen=True)
class ReviewQueue:
    """What waits for a reviewer (oldest first, so nothing waits forever), and the
    drafts still with the secretariat (latest first), with the comment of those that a
    reviewer sent back."""

    in_review: list[Document]
    translations: list[Variant]
    drafts: list[Document]
    sent_back: dict[int, str] = field(default_factory=dict)

    @property
    def waiting(self) -> int:
        return len(self.in_review) + len(self.translations)


def review_queue(viewer: User | None) -> ReviewQueue:
    """Records and translations waiting for review, and drafts still with the secretariat."""
    rows = db.session.scalars(
        select(Document)
        .where(
            access.visible_to(viewer),
            Document.status.in_([DocumentStatus.IN_REVIEW, DocumentStatus.DRAFT]),
        )
        .order_by(Document.updated_at, Document.id)
        .options(*document_loader())
    ).all()
    drafts = [d for d in reversed(rows) if d.status == DocumentStatus.DRAFT]
    return ReviewQueue(
        in_review=[d for d in rows if d.status == DocumentStatus.IN_REVIEW],
        translations=translations_in_review(),
        drafts=drafts,
        sent_back=_sent_back_comments([d.id for d in drafts]),
    )


def waiting_for_review() -> int:
    """How many records and translations wait for a reviewer: the count in the menu."""
    records = select(func.count()).where(Document.status == DocumentStatus.IN_REVIEW)
    translations = select(func.count()).where(
        Variant.is_original.is_(False), Variant.status.in_(TRANSLATION_WAITING)
    )
    return (db.session.scalar(records) or 0) + (db.session.scalar(translations) or 0)


def _sent_back_comments(document_ids: list[int]) -> dict[int, str]:
    """The reviewer's comment on each draft whose latest review step was a send-back."""
    if not document_ids:
        return {}
    steps = db.session.execute(
        select(AuditEvent.document_id, AuditEvent.action, AuditEvent.details)
        .where(
            AuditEvent.document_id.in_(document_ids),
            AuditEvent.action.in_(("send_back", "submit_for_review")),
        )
        .order_by(AuditEvent.id)
    )
    latest: dict[int, tuple[str, dict]] = {}
    for document_id, action, details in steps:
        latest[document_id] = (action, details or {})
    return {
        document_id: str(details.get("comment", ""))
        for document_id, (action, details) in latest.items()
        if action == "send_back"
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
