"""Releasing records to the public, and taking them back."""

from __future__ import annotations

from sqlalchemy import select

from knowledge_hub import access
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import User
from knowledge_hub.models import VariantStatus
from knowledge_hub.orm import utcnow
from knowledge_hub.services import Refused
from knowledge_hub.services import transaction


def release(actor: User | None, document: Document) -> Document:
    """Release a record and approve its submitted language versions."""
    access.require(actor, "release")
    with transaction():
        if document.status == DocumentStatus.RELEASED:
            return document
        if not any(v.files for v in document.variants):
            raise Refused(f"{document.ref} has no file to release.")
        for variant in document.variants:
            if variant.status in (VariantStatus.SUBMITTED, VariantStatus.IN_REVIEW):
                variant.status = VariantStatus.APPROVED
                variant.reviewer_id = actor.id if actor else None
        document.status = DocumentStatus.RELEASED
        document.released_at = utcnow()
        document.released_by_id = actor.id if actor else None
        return document


def unreleased_refs() -> list[str]:
    """References of the records still on their way to release."""
    return list(
        db.session.scalars(
            select(Document.ref)
            .where(Document.status.in_([DocumentStatus.DRAFT, DocumentStatus.IN_REVIEW]))
            .order_by(Document.id)
        )
    )
