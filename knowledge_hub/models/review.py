"""The publication criteria, the checks made against them, and the audit trail."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from knowledge_hub.models.base import db
from knowledge_hub.models.base import str_enum
from knowledge_hub.models.base import utcnow
from knowledge_hub.models.people import User


class CriterionKind(enum.StrEnum):
    AUTOMATIC = "automatic"
    ATTESTATION = "attestation"


class CheckOutcome(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WAIVED = "waived"


#: What a criterion can apply to: a record of either kind, or a language version.
APPLIES_TO = ("publication", "archive", "translation")


class Criterion(db.Model):
    """One item of the publication checklist. Criteria are data that admins edit;
    every edit makes a new CriteriaSetVersion."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    label: Mapped[str] = mapped_column(String(300))
    help_text: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[CriterionKind] = mapped_column(str_enum(CriterionKind))
    is_required: Mapped[bool] = mapped_column(default=True)
    #: Any of APPLIES_TO.
    applies_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    def applies(self, target: str) -> bool:
        return self.is_active and target in self.applies_to

    def __repr__(self) -> str:
        return f"<Criterion {self.id} {self.code}>"


class CriteriaSetVersion(db.Model):
    """A numbered snapshot of the whole criteria set, made at every change to it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    #: Every criterion as it stood: code, label, kind, is_required, applies_to, is_active.
    snapshot: Mapped[list[dict]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    def __repr__(self) -> str:
        return f"<CriteriaSetVersion {self.number}>"


class CriterionCheck(db.Model):
    """An outcome recorded against a criterion for a record or a language version.

    Append-only: the latest check of each criterion counts.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), index=True
    )
    variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("variant.id", ondelete="CASCADE"), index=True
    )
    criterion_code: Mapped[str] = mapped_column(String(60))
    outcome: Mapped[CheckOutcome] = mapped_column(str_enum(CheckOutcome))
    comment: Mapped[str] = mapped_column(Text, default="")
    is_automatic: Mapped[bool] = mapped_column(default=False)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    checked_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<CriterionCheck {self.id} {self.criterion_code} {self.outcome}>"


class AuditEvent(db.Model):
    """Who did what to which record, when, with before and after. Append-only."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    #: The kind of object acted on: document, variant, file, user, criterion, session …
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None]
    document_id: Mapped[int | None] = mapped_column(index=True)  # no FK: history outlives it
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action}>"
