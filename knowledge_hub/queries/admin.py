"""Read-only queries for the administration pages. Nothing here writes or commits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from knowledge_hub.extensions import db
from knowledge_hub.models import AuditEvent
from knowledge_hub.models import CriteriaSetVersion
from knowledge_hub.models import Criterion
from knowledge_hub.models import DocType
from knowledge_hub.models import Document
from knowledge_hub.models import Organization
from knowledge_hub.models import Topic
from knowledge_hub.models import User
from knowledge_hub.models.documents import document_topic
from knowledge_hub.services.users import SYSTEM_EMAIL

AUDIT_PER_PAGE = 50


# --- accounts


def users(role: str | None = None, active: bool | None = None) -> list[User]:
    """Every account people use (not the command line's), by name, optionally filtered."""
    stmt = (
        select(User)
        .where(User.email != SYSTEM_EMAIL)
        .options(selectinload(User.organization))
        .order_by(func.lower(User.name), User.email)
    )
    if active is not None:
        stmt = stmt.where(User.is_active.is_(active))
    accounts = list(db.session.scalars(stmt))
    if role:
        # Roles are a JSON list; filtering here works the same on SQLite and PostgreSQL.
        accounts = [u for u in accounts if role in u.roles]
    return accounts


def user(user_id: int) -> User | None:
    account = db.session.get(User, user_id)
    if account is None or account.email == SYSTEM_EMAIL:
        return None
    return account


def user_by_email(email: str) -> User | None:
    """The account with this address, whatever its case (addresses are stored lowercase)."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


# --- organizations


def organizations() -> list[tuple[Organization, int]]:
    """Every organization by acronym, with the number of accounts in it."""
    rows = db.session.execute(
        select(Organization, func.count(User.id))
        .outerjoin(User, User.organization_id == Organization.id)
        .group_by(Organization.id)
        .order_by(func.lower(Organization.acronym))
    ).all()
    return [(org, count) for org, count in rows]


def organization_choices() -> list[tuple[str, str]]:
    """(acronym, name) of every organization, by acronym, for a select box."""
    return [
        (org.acronym, org.name)
        for org in db.session.scalars(
            select(Organization).order_by(func.lower(Organization.acronym))
        )
    ]


def organization(organization_id: int) -> Organization | None:
    return db.session.get(Organization, organization_id)


# --- vocabularies


@dataclass(frozen=True)
class VocabularyEntry:
    entry: DocType | Topic
    #: Records that carry it (a retired entry stays on them).
    records: int


def vocabulary(name: str) -> list[VocabularyEntry]:
    """The document types ("types") or topics ("topics") in list order, with their use."""
    if name == "types":
        counts = dict(
            db.session.execute(
                select(Document.doc_type_id, func.count(Document.id)).group_by(Document.doc_type_id)
            ).all()
        )
        entries: list = list(
            db.session.scalars(select(DocType).order_by(DocType.position, DocType.id))
        )
    elif name == "topics":
        counts = dict(
            db.session.execute(
                select(
                    document_topic.c.topic_id, func.count(document_topic.c.document_id)
                ).group_by(document_topic.c.topic_id)
            ).all()
        )
        entries = list(db.session.scalars(select(Topic).order_by(Topic.position, Topic.id)))
    else:
        return []
    return [VocabularyEntry(entry, counts.get(entry.id, 0)) for entry in entries]


# --- the criteria set


def criteria() -> list[Criterion]:
    """Every criterion, retired ones included, in checklist order."""
    return list(db.session.scalars(select(Criterion).order_by(Criterion.position, Criterion.id)))


def criterion(criterion_id: int) -> Criterion | None:
    return db.session.get(Criterion, criterion_id)


@dataclass(frozen=True)
class VersionRow:
    version: CriteriaSetVersion
    created_by: User | None


def criteria_versions() -> list[VersionRow]:
    """Every version of the criteria set, newest first, with who made it."""
    rows = db.session.execute(
        select(CriteriaSetVersion, User)
        .outerjoin(User, User.id == CriteriaSetVersion.created_by_id)
        .order_by(CriteriaSetVersion.number.desc())
    ).all()
    return [VersionRow(version, created_by) for version, created_by in rows]


def criteria_version(number: int) -> VersionRow | None:
    row = db.session.execute(
        select(CriteriaSetVersion, User)
        .outerjoin(User, User.id == CriteriaSetVersion.created_by_id)
        .where(CriteriaSetVersion.number == number)
    ).first()
    return VersionRow(row[0], row[1]) if row else None


# --- the audit log


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    #: The actor's e-mail address, matched whole and regardless of case.
    actor: str = ""
    #: A record's reference, or its number.
    record: str = ""
    since: date | None = None
    until: date | None = None

    @property
    def active(self) -> bool:
        return bool(self.action or self.actor or self.record or self.since or self.until)


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    total: int
    page: int
    per_page: int
    #: Records named in these events, by id, for links and references.
    documents: dict[int, Document]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _audit_select(filters: AuditFilters) -> Select:
    stmt = select(AuditEvent)
    if filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action.strip())
    if filters.actor:
        stmt = stmt.join(User, User.id == AuditEvent.actor_id).where(
            func.lower(User.email) == filters.actor.strip().lower()
        )
    if filters.record:
        record = filters.record.strip()
        by_ref = select(Document.id).where(Document.ref == record).scalar_subquery()
        matches = [AuditEvent.document_id == by_ref]
        if record.isdigit():
            matches.append(AuditEvent.document_id == int(record))
        stmt = stmt.where(or_(*matches))
    if filters.since:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(filters.since, time.min))
    if filters.until:
        # The end date is included whole.
        stmt = stmt.where(
            AuditEvent.at < datetime.combine(filters.until + timedelta(days=1), time.min)
        )
    return stmt


def audit_page(filters: AuditFilters, page: int = 1, per_page: int = AUDIT_PER_PAGE) -> AuditPage:
    """One page of the audit log, newest first."""
    stmt = _audit_select(filters)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(1, page)
    events = list(
        db.session.scalars(
            stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
            .options(selectinload(AuditEvent.actor))
        )
    )
    return AuditPage(events, total, page, per_page, _documents_of(events))


def _documents_of(events: list[AuditEvent]) -> dict[int, Document]:
    ids = {e.document_id for e in events if e.document_id is not None}
    if not ids:
        return {}
    return {d.id: d for d in db.session.scalars(select(Document).where(Document.id.in_(ids)))}


def audit_rows(filters: AuditFilters) -> Iterator[tuple[AuditEvent, str, str]]:
    """Every event the filters select, newest first, with the actor's e-mail and the
    record's reference; read in batches, for a download of any size."""
    stmt = (
        _audit_select(filters)
        .add_columns(User.email, Document.ref)
        .outerjoin(Document, Document.id == AuditEvent.document_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    if not filters.actor:  # the actor filter has joined User already
        stmt = stmt.outerjoin(User, User.id == AuditEvent.actor_id)
    for event, email, ref in db.session.execute(stmt.execution_options(yield_per=500)):
        yield event, email or "", ref or ""


def audit_actions() -> list[str]:
    """The actions recorded so far, for the filter's choices."""
    return list(
        db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    )
