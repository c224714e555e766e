"""The outbox that keeps the index in step with the database: every change that affects
an index entry queues its language versions (PendingIndex) in the same transaction as the
change, so that no service can forget to, and the index catches up from the queue
(index.py). Nothing here knows the search engine."""

from __future__ import annotations

from sqlalchemy import Select
from sqlalchemy import event
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge_hub.models import Document
from knowledge_hub.models import DocumentOrganization
from knowledge_hub.models import Organization
from knowledge_hub.models import PendingIndex
from knowledge_hub.models import StoredFile
from knowledge_hub.models import Topic
from knowledge_hub.models import Variant
from knowledge_hub.models.base import utcnow
from knowledge_hub.models.documents import document_topic

#: What an index entry is made of: a version, its files, its record, and the names of
#: the record's organizations and topics, which the entry's metadata holds.
_TRACKED = (Document, Variant, StoredFile, DocumentOrganization, Organization, Topic)


@event.listens_for(Session, "before_flush")
def _remember_changes(session: Session, flush_context: object, instances: object) -> None:
    changed = session.info.setdefault("index_changes", set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _TRACKED):
            changed.add(obj)


@event.listens_for(Session, "after_flush")
def _queue_index_updates(session: Session, flush_context: object) -> None:
    changed = session.info.pop("index_changes", None)
    if not changed:
        return
    variant_ids: set[int] = set()
    for obj in changed:
        if isinstance(obj, Variant):
            variant_ids.add(obj.id)
        elif isinstance(obj, StoredFile):
            variant_ids.add(obj.variant_id)
        elif isinstance(obj, Document):
            variant_ids.update(v.id for v in obj.variants)
        elif isinstance(obj, DocumentOrganization):
            variant_ids.update(v.id for v in obj.document.variants)
        elif isinstance(obj, Organization | Topic) and obj not in session.new:
            # Renamed or relabelled: every record naming it reads differently now.
            variant_ids.update(session.connection().scalars(_versions_naming(obj)))
    variant_ids.discard(None)  # type: ignore[arg-type]
    if variant_ids:
        now = utcnow()
        session.connection().execute(
            insert(PendingIndex.__table__),
            [{"variant_id": vid, "queued_at": now} for vid in sorted(variant_ids)],
        )


def _versions_naming(obj: Organization | Topic) -> Select[tuple[int]]:
    """The ids of the language versions of the records that name an organization or a topic."""
    if isinstance(obj, Organization):
        link, on = DocumentOrganization, DocumentOrganization.organization_id == obj.id
        document_id = DocumentOrganization.document_id
    else:
        link, on = document_topic, document_topic.c.topic_id == obj.id
        document_id = document_topic.c.document_id
    return select(Variant.id).join(link, document_id == Variant.document_id).where(on)


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session: Session, previous_transaction: object) -> None:
    session.info.pop("index_changes", None)
