"""Review and release: the publication-criteria checklist, applied and recorded."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from knowledge_hub import access
from knowledge_hub import criteria
from knowledge_hub.extensions import db
from knowledge_hub.i18n.vocabularies import criterion_label
from knowledge_hub.i18n.vocabularies import missing_labels
from knowledge_hub.i18n.vocabularies import status_label
from knowledge_hub.language_detection import detect_language
from knowledge_hub.models import CheckOutcome
from knowledge_hub.models import CriteriaSetVersion
from knowledge_hub.models import Criterion
from knowledge_hub.models import CriterionCheck
from knowledge_hub.models import CriterionKind
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import StoredFile
from knowledge_hub.models import User
from knowledge_hub.models import Variant
from knowledge_hub.models import VariantStatus
from knowledge_hub.models.base import utcnow
from knowledge_hub.services import Invalid
from knowledge_hub.services import Refused
from knowledge_hub.services import ReleaseRefused
from knowledge_hub.services import audit
from knowledge_hub.services import transaction


def criteria_specs() -> list[criteria.CriterionSpec]:
    """The active criteria, in checklist order."""
    rows = db.session.scalars(
        select(Criterion).where(Criterion.is_active).order_by(Criterion.position, Criterion.id)
    )
    return [
        criteria.CriterionSpec(c.code, c.label, c.kind.value, c.is_required, tuple(c.applies_to))
        for c in rows
    ]


def current_criteria_version() -> int | None:
    return db.session.scalar(
        select(CriteriaSetVersion.number).order_by(CriteriaSetVersion.number.desc()).limit(1)
    )


def version_facts(variant: Variant, original: Variant | None = None) -> criteria.VersionFacts:
    text = variant.text
    return criteria.VersionFacts(
        language=variant.language,
        title=variant.title,
        summary=variant.summary or "",
        files=tuple(
            criteria.FileFacts(
                f.sha256,
                f.media_type,
                bool(f.text),
                f.extraction_error,
                ocr_done=f.ocr_pages is not None and not f.extraction_error,
            )
            for f in variant.files
        ),
        detected_language=detect_language(text) if text else None,
        original_title=original.title if original else "",
        original_summary=(original.summary or "") if original else "",
    )


def record_facts(document: Document) -> criteria.RecordFacts:
    original = document.original
    shas = {f.sha256 for v in document.variants for f in v.files}
    duplicates = (
        db.session.scalars(
            select(Document.ref)
            .join(Variant, Variant.document_id == Document.id)
            .join(StoredFile, StoredFile.variant_id == Variant.id)
            # The later of two records holding the same file is the duplicate.
            .where(StoredFile.sha256.in_(shas), Document.id < document.id)
            .distinct()
            .order_by(Document.ref)
        ).all()
        if shas
        else []
    )
    return criteria.RecordFacts(
        kind=document.kind.value,
        doc_type=document.doc_type.code if document.doc_type else None,
        date=document.date,
        organizations=tuple(o.acronym for o in document.organizations),
        topics=tuple(t.code for t in document.topics),
        original=version_facts(original) if original else None,
        duplicate_of=tuple(duplicates),
    )


def recorded_checks(document: Document, variant: Variant | None = None) -> list[criteria.Check]:
    """The people's checks (not the automatic snapshots) on a record or one version."""
    stmt = select(CriterionCheck).where(
        CriterionCheck.document_id == document.id,
        CriterionCheck.is_automatic.is_(False),
    )
    stmt = stmt.where(
        CriterionCheck.variant_id == variant.id
        if variant is not None
        else CriterionCheck.variant_id.is_(None)
    )
    return [
        criteria.Check(
            c.criterion_code,
            c.outcome.value,
            c.checked_at,
            c.checked_by.name if c.checked_by else "",
            c.comment,
        )
        for c in db.session.scalars(stmt.order_by(CriterionCheck.id))
    ]


def gate_result(document: Document) -> criteria.GateResult:
    """The release gate's verdict on the record as it stands."""
    return criteria.gate(
        criteria_specs(), document.kind.value, record_facts(document), recorded_checks(document)
    )


def checklist(actor: User | None, document: Document) -> criteria.GateResult:
    """The record's checklist with every criterion's state, automatic ones computed now."""
    access.require(actor, "view_checklist")
    return gate_result(document)


def _criterion(code: str, target: str) -> Criterion:
    criterion = db.session.scalar(select(Criterion).where(Criterion.code == code))
    if criterion is None or not criterion.applies(target):
        raise Invalid(_("There is no criterion %(code)s for this record.", code=repr(code)))
    return criterion


def submit_for_review(actor: User | None, document: Document) -> Document:
    """Send a draft to the reviewers."""
    access.require(actor, "edit")
    with transaction():
        if document.status != DocumentStatus.DRAFT:
            raise Refused(
                _(
                    "%(ref)s is %(status)s, not a draft.",
                    ref=document.ref,
                    status=status_label(document.status.value).lower(),
                )
            )
        document.status = DocumentStatus.IN_REVIEW
        audit(actor, "submit_for_review", document)
        return document


def attest(
    actor: User | None, document: Document, code: str, passed: bool, comment: str = ""
) -> CriterionCheck:
    """Record a reviewer's attestation (or refusal) of one criterion."""
    access.require(actor, "attest")
    with transaction() as session:
        criterion = _criterion(code, document.kind.value)
        if criterion.kind != CriterionKind.ATTESTATION:
            raise Invalid(
                _(
                    "%(criterion)s is checked automatically.",
                    criterion=criterion_label(criterion.code, criterion.label),
                )
            )
        check = CriterionCheck(
            document_id=document.id,
            criterion_code=code,
            outcome=CheckOutcome.PASS if passed else CheckOutcome.FAIL,
            comment=comment.strip(),
            checked_by_id=actor.id if actor else None,
        )
        session.add(check)
        audit(
            actor,
            "check",
            document,
            criterion=code,
            outcome=check.outcome.value,
            comment=check.comment,
        )
        return check


@dataclass(frozen=True)
class CheckChoice:
    """One criterion a reviewer marks in a checklist post: met or not, with the evidence."""

    code: str
    passed: bool
    comment: str = ""


def record_checks(
    choices: Sequence[CheckChoice], record_one: Callable[[CheckChoice], CriterionCheck]
) -> list[CriterionCheck]:
    """Record every chosen check in one transaction: all of them, or none if one is
    wrong, so a reviewer never has to work out which half of a post went through."""
    if not choices:
        raise Invalid(_("Choose Met or Not met for at least one criterion: nothing was recorded."))
    with transaction():
        return [record_one(choice) for choice in choices]


def attest_many(
    actor: User | None, document: Document, choices: Sequence[CheckChoice]
) -> list[CriterionCheck]:
    """Record a reviewer's checks of several criteria of a record at once."""
    access.require(actor, "attest")
    return record_checks(choices, lambda c: attest(actor, document, c.code, c.passed, c.comment))


def waive(actor: User | None, document: Document, code: str, reason: str) -> CriterionCheck:
    """Waive one criterion for a record: admins only, always with a written reason."""
    access.require(actor, "waive")
    with transaction() as session:
        criterion = _criterion(code, document.kind.value)
        reason = reason.strip()
        if len(reason) < 10:
            raise Invalid(
                "A waiver needs a written reason (at least 10 characters).", {"reason": "required"}
            )
        check = CriterionCheck(
            document_id=document.id,
            criterion_code=criterion.code,
            outcome=CheckOutcome.WAIVED,
            comment=reason,
            checked_by_id=actor.id if actor else None,
        )
        session.add(check)
        audit(actor, "waive", document, criterion=criterion.code, reason=reason)
        return check


def send_back(actor: User | None, document: Document, comment: str) -> Document:
    """Return a record in review to its authors as a draft, saying why."""
    access.require(actor, "send_back")
    with transaction():
        if document.status != DocumentStatus.IN_REVIEW:
            raise Refused(_("%(ref)s is not in review.", ref=document.ref))
        if not comment.strip():
            raise Invalid(
                _("Say what needs to change before the record can be released."),
                {"comment": "required"},
            )
        document.status = DocumentStatus.DRAFT
        audit(actor, "send_back", document, comment=comment.strip())
        return document


def release(actor: User | None, document: Document) -> Document:
    """Release a record whose checklist passes; otherwise refuse, listing what is missing."""
    access.require(actor, "release")
    with transaction() as session:
        if document.status == DocumentStatus.RELEASED:
            return document
        if document.status == DocumentStatus.WITHDRAWN:
            raise Refused(
                _("%(ref)s was withdrawn; it cannot be released again.", ref=document.ref)
            )
        result = gate_result(document)
        if not result.passed:
            raise ReleaseRefused(document.ref, missing_labels(result))
        # The automatic outcomes at release time are kept with the record's history.
        for item in result.items:
            if item.automatic is not None:
                session.add(
                    CriterionCheck(
                        document_id=document.id,
                        criterion_code=item.spec.code,
                        outcome=CheckOutcome.PASS if item.automatic.passed else CheckOutcome.FAIL,
                        comment=item.automatic.detail,
                        is_automatic=True,
                        checked_by_id=actor.id if actor else None,
                    )
                )
        for variant in document.variants:
            if variant.is_original or variant.status in (
                VariantStatus.SUBMITTED,
                VariantStatus.IN_REVIEW,
            ):
                variant.status = VariantStatus.APPROVED
                variant.reviewer_id = variant.reviewer_id or (actor.id if actor else None)
        before = document.status.value
        document.status = DocumentStatus.RELEASED
        document.released_at = utcnow()
        document.released_by_id = actor.id if actor else None
        document.criteria_version = current_criteria_version()
        audit(
            actor,
            "release",
            document,
            before=before,
            after="released",
            criteria_version=document.criteria_version,
        )
        return document


def withdraw(actor: User | None, document: Document, reason: str) -> Document:
    """Withdraw a released record: its landing page stays, with a notice; its files go."""
    access.require(actor, "withdraw")
    with transaction():
        if document.status != DocumentStatus.RELEASED:
            raise Refused(_("%(ref)s is not released.", ref=document.ref))
        if not reason.strip():
            raise Invalid(
                _("Say why the record is withdrawn; readers will see it."), {"reason": "required"}
            )
        document.status = DocumentStatus.WITHDRAWN
        document.withdrawn_at = utcnow()
        document.withdrawn_by_id = actor.id if actor else None
        document.withdrawal_reason = reason.strip()
        audit(
            actor, "withdraw", document, before="released", after="withdrawn", reason=reason.strip()
        )
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
