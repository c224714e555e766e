"""Reads of the usage statistics: a record's totals, and the staff report by month,
organization, type and language. Every one goes through the visibility rule: the counts
of a record are shown only to those who may see the record."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub import access
from knowledge_hub.extensions import db
from knowledge_hub.models import DocType
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentOrganization
from knowledge_hub.models import Organization
from knowledge_hub.models import UsageCount
from knowledge_hub.models import UsageMetric
from knowledge_hub.models import User


@dataclass(frozen=True)
class UsageTotals:
    views: int = 0
    downloads: int = 0


@dataclass(frozen=True)
class UsageRow:
    """One line of the report: what it counts (a month, an organization...), its label,
    and its views and downloads."""

    key: str
    label: str
    views: int
    downloads: int


@dataclass(frozen=True)
class UsageReport:
    first_month: str
    last_month: str
    totals: UsageTotals
    by_month: list[UsageRow]
    by_organization: list[UsageRow]
    by_type: list[UsageRow]
    by_language: list[UsageRow]

    @property
    def largest(self) -> int:
        """The largest count of any line, the full length of the chart's bars."""
        rows = [*self.by_month, *self.by_organization, *self.by_type, *self.by_language]
        return max((max(r.views, r.downloads) for r in rows), default=0)


def _views() -> ColumnElement[int]:
    return func.coalesce(
        func.sum(case((UsageCount.metric == UsageMetric.VIEW, UsageCount.count), else_=0)), 0
    )


def _downloads() -> ColumnElement[int]:
    return func.coalesce(
        func.sum(case((UsageCount.metric == UsageMetric.DOWNLOAD, UsageCount.count), else_=0)),
        0,
    )


def _counted(viewer: User | None, *columns: ColumnElement) -> Select:
    """The counts of the records viewer may see (a withdrawn one too: its page stays)."""
    return (
        select(*columns, _views(), _downloads())
        .select_from(UsageCount)
        .join(Document, Document.id == UsageCount.document_id)
        .where(access.visible_to(viewer, include_withdrawn=True))
    )


def totals(viewer: User | None, document_id: int) -> UsageTotals | None:
    """A record's views and downloads of all time, or None if viewer may not see it:
    one query, since the record page asks it each time it is drawn."""
    row = db.session.execute(
        select(_views(), _downloads())
        .select_from(Document)
        .outerjoin(UsageCount, UsageCount.document_id == Document.id)
        .where(Document.id == document_id, access.visible_to(viewer, include_withdrawn=True))
        .group_by(Document.id)
    ).first()
    return None if row is None else UsageTotals(int(row[0]), int(row[1]))


def _rows(found: Iterable) -> list[UsageRow]:
    return [UsageRow(key or "", label or "", int(v), int(d)) for key, label, v, d in found]


def report(viewer: User | None, first_month: str, last_month: str) -> UsageReport:
    """Views and downloads from first_month to last_month (YYYY-MM, both included)."""
    in_span = UsageCount.month.between(first_month, last_month)
    months = db.session.execute(
        _counted(viewer, UsageCount.month, UsageCount.month)
        .where(in_span)
        .group_by(UsageCount.month)
        .order_by(UsageCount.month)
    )
    organizations = db.session.execute(
        _counted(viewer, Organization.acronym, Organization.name)
        .join(DocumentOrganization, DocumentOrganization.document_id == Document.id)
        .join(Organization, Organization.id == DocumentOrganization.organization_id)
        .where(in_span)
        .group_by(Organization.acronym, Organization.name)
        .order_by(Organization.acronym)
    )
    types = db.session.execute(
        _counted(viewer, DocType.code, DocType.label)
        .join(DocType, DocType.id == Document.doc_type_id, isouter=True)
        .where(in_span)
        .group_by(DocType.code, DocType.label)
        .order_by(DocType.code)
    )
    languages = db.session.execute(
        _counted(viewer, UsageCount.language, UsageCount.language)
        .where(in_span)
        .group_by(UsageCount.language)
        .order_by(UsageCount.language)
    )
    by_month = _rows(months)
    return UsageReport(
        first_month=first_month,
        last_month=last_month,
        totals=UsageTotals(sum(r.views for r in by_month), sum(r.downloads for r in by_month)),
        by_month=by_month,
        by_organization=_rows(organizations),
        by_type=_rows(types),
        by_language=_rows(languages),
    )


@dataclass(frozen=True)
class RecordUsage:
    """One record's counts in one language version and month: a line of the CSV."""

    month: str
    ref: str
    doc_type: str
    organizations: str
    language: str
    views: int
    downloads: int


def record_usage(viewer: User | None, first_month: str, last_month: str) -> list[RecordUsage]:
    """Every record's counts per month and language version, in the span."""
    found = db.session.execute(
        _counted(viewer, UsageCount.month, Document.ref, DocType.code, Document.id)
        .add_columns(UsageCount.language)
        .join(DocType, DocType.id == Document.doc_type_id, isouter=True)
        .where(UsageCount.month.between(first_month, last_month))
        .group_by(UsageCount.month, Document.ref, DocType.code, Document.id, UsageCount.language)
        .order_by(UsageCount.month, Document.ref, UsageCount.language)
    ).all()
    credited: dict[int, list[str]] = {}
    for document_id, acronym in db.session.execute(
        select(DocumentOrganization.document_id, Organization.acronym)
        .join(Organization, Organization.id == DocumentOrganization.organization_id)
        .where(DocumentOrganization.document_id.in_({row[3] for row in found}))
        .order_by(DocumentOrganization.document_id, DocumentOrganization.position)
    ):
        credited.setdefault(document_id, []).append(acronym)
    return [
        RecordUsage(
            month, ref, code or "", "; ".join(credited.get(document_id, [])), language, v, d
        )
        for month, ref, code, document_id, v, d, language in found
    ]
