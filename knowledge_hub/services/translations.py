"""Translations as language versions of one record: requested by staff, claimed and
delivered by a translator, reviewed against the translation criteria, approved."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from knowledge_hub import access
from knowledge_hub import criteria
from knowledge_hub.extensions import db
from knowledge_hub.field_values import normalize_language
from knowledge_hub.i18n.messages import translate
from knowledge_hub.i18n.vocabularies import criterion_label
from knowledge_hub.i18n.vocabularies import missing_labels
from knowledge_hub.models import ACTIVE_REQUEST_STATUSES
from knowledge_hub.models import CheckOutcome
from knowledge_hub.models import Criterion
from knowledge_hub.models import CriterionCheck
from knowledge_hub.models import CriterionKind
from knowledge_hub.models import Document
from knowledge_hub.models import RequestStatus
from knowledge_hub.models import TranslationRequest
from knowledge_hub.models import User
from knowledge_hub.models import Variant
from knowledge_hub.models import VariantStatus
from knowledge_hub.models.base import utcnow
from knowledge_hub.services import Invalid
from knowledge_hub.services import NotAllowed
from knowledge_hub.services import NotFound
from knowledge_hub.services import Refused
from knowledge_hub.services import ReleaseRefused
from knowledge_hub.services import audit
from knowledge_hub.services import documents
from knowledge_hub.services import review
from knowledge_hub.services import transaction

TRANSLATION = "translation"


# --- requests


def request_translations(
    actor: User | None,
    document: Document,
    languages: list[str],
    due_on: date | None = None,
    note: str = "",
) -> list[TranslationRequest]:
    """Ask for the record in each language that it lacks and nobody works on yet."""
    access.require(actor, "request_translation")
    with transaction() as session:
        wanted = []
        for tag in languages:
            try:
                wanted.append(normalize_language(tag))
            except ValueError as e:
                message = translate(e.args[0])
                raise Invalid(message, {"languages": message}) from e
        if not wanted:
            raise Invalid(_("Choose at least one language."), {"languages": "required"})
        created = []
        for language in dict.fromkeys(wanted):
            if language == document.original_language:
                continue
            if active_request(document, language) is not None:
                continue
            existing = document.variant_in(language)
            if existing is not None and not existing.is_out_of_date:
                continue
            request = TranslationRequest(
                document=document,
                language=language,
                note=note.strip(),
                due_on=due_on,
                requested_by_id=actor.id if actor else None,
            )
            session.add(request)
            session.flush()
            audit(
                actor,
                "request_translation",
                request,
                document_id=document.id,
                language=language,
                due_on=due_on.isoformat() if due_on else None,
            )
            created.append(request)
        return created


def active_request(document: Document, language: str) -> TranslationRequest | None:
    return db.session.scalar(
        select(TranslationRequest).where(
            TranslationRequest.document_id == document.id,
            TranslationRequest.language == language,
            TranslationRequest.status.in_(ACTIVE_REQUEST_STATUSES),
        )
    )


def get_request(request_id: int) -> TranslationRequest:
    request = db.session.get(TranslationRequest, request_id)
    if request is None:
        raise NotFound(_("There is no translation request %(id)s.", id=request_id))
    return request


def works_in(translator: User | None, language: str) -> bool:
    """Whether a translator's profile lists the language (by its base language)."""
    if translator is None:
        return False
    base = language.split("-")[0]
    return any(tag == language or tag.split("-")[0] == base for tag in translator.languages)


def _require_own_language(actor: User | None, request: TranslationRequest) -> None:
    access.require(actor, "translate")
    if not works_in(actor, request.language):
        raise NotAllowed(
            _(
                "Requests in %(language)s are for translators who work in that language.",
                language=request.language,
            )
        )


def _require_claimed_by(actor: User | None, request: TranslationRequest) -> None:
    _require_own_language(actor, request)
    if request.claimed_by_id != (actor.id if actor else None):
        raise NotAllowed(_("This request is claimed by someone else, or by nobody."))


def claim(actor: User | None, request: TranslationRequest) -> TranslationRequest:
    """Take an open request: one translator per request."""
    _require_own_language(actor, request)
    with transaction():
        if request.status != RequestStatus.OPEN:
            raise Refused(_("This request is no longer open."))
        request.status = RequestStatus.CLAIMED
        request.claimed_by_id = actor.id
        request.claimed_at = utcnow()
        audit(
            actor,
            "claim_translation",
            request,
            document_id=request.document_id,
            language=request.language,
        )
        return request


def release_claim(actor: User | None, request: TranslationRequest) -> TranslationRequest:
    """Give a claimed request back to the other translators."""
    _require_claimed_by(actor, request)
    with transaction():
        if request.status != RequestStatus.CLAIMED:
            raise Refused(_("Only a claimed request can be given back."))
        request.status = RequestStatus.OPEN
        request.claimed_by_id = None
        request.claimed_at = None
        audit(
            actor,
            "release_claim",
            request,
            document_id=request.document_id,
            language=request.language,
        )
        return request


def submit(
    actor: User | None,
    request: TranslationRequest,
    title: str,
    summary: str,
    uploads: list[documents.Upload],
) -> Variant:
    """Deliver the language version of a claimed request: title, summary and file(s).

    It goes to review; a version sent back may be submitted again.
    """
    _require_claimed_by(actor, request)
    with transaction() as session:
        if request.status not in (RequestStatus.CLAIMED,):
            raise Refused(_("Only a claimed request can be submitted."))
        problems = {}
        if not title.strip():
            problems["title"] = _("The translated title is missing.")
        if not summary.strip():
            problems["summary"] = _("The translated summary is missing.")
        document = request.document
        variant = document.variant_in(request.language)
        if not uploads and (variant is None or not variant.files):
            problems["files"] = _("Attach the translated file.")
        if problems:
            raise Invalid(" ".join(problems.values()), problems)
        if variant is None:
            variant = Variant(
                document=document,
                language=request.language,
                title=title.strip(),
                summary=summary.strip(),
                is_original=False,
            )
            session.add(variant)
        else:
            variant.title, variant.summary = title.strip(), summary.strip()
        variant.status = VariantStatus.IN_REVIEW
        variant.translator_id = actor.id
        variant.source_revision = document.original_revision
        session.flush()
        if uploads:
            outcomes = documents.upload_files(
                actor, variant, uploads, permission="submit_translation"
            )
            refused = [o for o in outcomes if not o.stored]
            if refused:
                raise Invalid(
                    " ".join(f"{o.name}: {o.error}" for o in refused), {"files": "refused"}
                )
        request.status = RequestStatus.SUBMITTED
        request.variant = variant
        audit(
            actor, "submit_translation", variant, document_id=document.id, language=variant.language
        )
        return variant


# --- review of a language version


def translation_checklist(actor: User | None, variant: Variant) -> criteria.GateResult:
    access.require(actor, "view_checklist")
    return _gate(variant)


def _gate(variant: Variant) -> criteria.GateResult:
    document = variant.document
    facts = review.version_facts(variant, document.original)
    return criteria.gate(
        review.criteria_specs(), TRANSLATION, facts, review.recorded_checks(document, variant)
    )


def attest_translation(
    actor: User | None, variant: Variant, code: str, passed: bool, comment: str = ""
) -> CriterionCheck:
    """Record a reviewer's check of one translation criterion."""
    access.require(actor, "review_translation")
    with transaction() as session:
        criterion = session.scalar(select(Criterion).where(Criterion.code == code))
        if criterion is None or not criterion.applies(TRANSLATION):
            raise Invalid(_("There is no translation criterion %(code)s.", code=repr(code)))
        if criterion.kind != CriterionKind.ATTESTATION:
            raise Invalid(
                _(
                    "%(criterion)s is checked automatically.",
                    criterion=criterion_label(criterion.code, criterion.label),
                )
            )
        check = CriterionCheck(
            document_id=variant.document_id,
            variant_id=variant.id,
            criterion_code=code,
            outcome=CheckOutcome.PASS if passed else CheckOutcome.FAIL,
            comment=comment.strip(),
            checked_by_id=actor.id if actor else None,
        )
        session.add(check)
        audit(
            actor,
            "check",
            variant,
            document_id=variant.document_id,
            criterion=code,
            outcome=check.outcome.value,
            comment=check.comment,
        )
        return check


def attest_translation_many(
    actor: User | None, variant: Variant, choices: Sequence[review.CheckChoice]
) -> list[CriterionCheck]:
    """Record a reviewer's checks of several translation criteria at once."""
    access.require(actor, "review_translation")
    return review.record_checks(
        choices, lambda c: attest_translation(actor, variant, c.code, c.passed, c.comment)
    )


def approve(actor: User | None, variant: Variant) -> Variant:
    """Approve a translation that meets the translation criteria.

    Readers see it once the record itself is released.
    """
    access.require(actor, "review_translation")
    with transaction():
        if variant.is_original:
            raise Refused(_("The original is released with its record, not approved here."))
        if variant.status not in (VariantStatus.IN_REVIEW, VariantStatus.SUBMITTED):
            raise Refused(
                _("The %(language)s version is not waiting for review.", language=variant.language)
            )
        result = _gate(variant)
        if not result.passed:
            raise ReleaseRefused(
                f"{variant.document.ref} [{variant.language}]", missing_labels(result)
            )
        variant.status = VariantStatus.APPROVED
        variant.reviewer_id = actor.id if actor else None
        variant.source_revision = variant.document.original_revision
        for request in _requests_for(variant, (RequestStatus.SUBMITTED,)):
            request.status = RequestStatus.DONE
        audit(
            actor,
            "approve_translation",
            variant,
            document_id=variant.document_id,
            language=variant.language,
            before="in_review",
            after="approved",
        )
        return variant


def send_back(actor: User | None, variant: Variant, comment: str) -> Variant:
    """Return a translation to its translator with what must change."""
    access.require(actor, "review_translation")
    with transaction():
        if variant.status not in (VariantStatus.IN_REVIEW, VariantStatus.SUBMITTED):
            raise Refused(
                _("The %(language)s version is not waiting for review.", language=variant.language)
            )
        if not comment.strip():
            raise Invalid(_("Say what must change in the translation."), {"comment": "required"})
        variant.status = VariantStatus.SENT_BACK
        for request in _requests_for(variant, (RequestStatus.SUBMITTED,)):
            request.status = RequestStatus.CLAIMED
        audit(
            actor,
            "send_back_translation",
            variant,
            document_id=variant.document_id,
            language=variant.language,
            comment=comment.strip(),
        )
        return variant


def confirm_current(actor: User | None, variant: Variant, comment: str = "") -> Variant:
    """A reviewer confirms that a translation still holds for the current original."""
    access.require(actor, "review_translation")
    with transaction():
        if not variant.is_out_of_date:
            raise Refused(_("The %(language)s version is up to date.", language=variant.language))
        before = variant.source_revision
        variant.source_revision = variant.document.original_revision
        audit(
            actor,
            "confirm_translation",
            variant,
            document_id=variant.document_id,
            language=variant.language,
            before=before,
            after=variant.source_revision,
            comment=comment.strip(),
        )
        return variant


def _requests_for(
    variant: Variant, statuses: tuple[RequestStatus, ...]
) -> list[TranslationRequest]:
    return list(
        db.session.scalars(
            select(TranslationRequest).where(
                TranslationRequest.document_id == variant.document_id,
                TranslationRequest.language == variant.language,
                TranslationRequest.status.in_(statuses),
            )
        )
    )
