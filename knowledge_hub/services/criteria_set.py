"""The criteria set: adding, changing, retiring and ordering the publication criteria.

Every change makes a new numbered version of the whole set, kept with the audit event.
The checks themselves are `knowledge_hub.criteria`; the seeded labels are in
`knowledge_hub.i18n.vocabularies`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from typing import Literal

from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub import access
from knowledge_hub import criteria
from knowledge_hub import seed
from knowledge_hub.extensions import db
from knowledge_hub.models import APPLIES_TO
from knowledge_hub.models import CriteriaSetVersion
from knowledge_hub.models import Criterion
from knowledge_hub.models import CriterionKind
from knowledge_hub.models import User
from knowledge_hub.services import Invalid
from knowledge_hub.services import NotFound
from knowledge_hub.services import Refused
from knowledge_hub.services import audit
from knowledge_hub.services import changed_fields
from knowledge_hub.services import invalid
from knowledge_hub.services import race_safe
from knowledge_hub.services import transaction

#: Codes of criteria: lowercase words joined by underscores, as the registered checks are.
CRITERION_CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def _criteria_in_order() -> list[Criterion]:
    return list(db.session.scalars(select(Criterion).order_by(Criterion.position, Criterion.id)))


def _new_version(actor: User, note: str) -> CriteriaSetVersion:
    """Snapshot the whole set as the next version, inside the caller's transaction."""
    session = db.session
    last = session.scalar(select(func.max(CriteriaSetVersion.number))) or 0
    version = CriteriaSetVersion(
        number=last + 1,
        snapshot=seed.criteria_snapshot(_criteria_in_order()),
        note=note[:500],
        created_by_id=actor.id,
    )
    session.add(version)
    session.flush()
    return version


def _with_reason(note: str, reason: str) -> str:
    reason = " ".join(reason.split())
    return f"{note}. Reason: {reason}" if reason else note


@dataclass(frozen=True)
class CriterionFields:
    """What an admin gives for a criterion; the code only when adding one."""

    label: str
    help_text: str
    kind: str
    is_required: bool
    applies_to: list[str]


def _criterion_state(c: Criterion) -> dict[str, Any]:
    return {
        "label": c.label,
        "help_text": c.help_text,
        "kind": str(c.kind),
        "is_required": c.is_required,
        "applies_to": list(c.applies_to),
        "is_active": c.is_active,
    }


def _check_criterion(code: str, fields: CriterionFields) -> dict[str, Any]:
    """Validate a criterion; an automatic one needs a check registered under its code."""
    problems: dict[str, str] = {}
    label = fields.label.strip()
    if not label:
        problems["label"] = _("The label is missing.")
    elif len(label) > 300:
        problems["label"] = _("The label is longer than 300 characters.")
    help_text = fields.help_text.strip()
    if len(help_text) > 5000:
        problems["help_text"] = _("The help text is longer than 5,000 characters.")
    applies_to = [target for target in APPLIES_TO if target in fields.applies_to]
    if not applies_to or len(applies_to) != len(set(fields.applies_to)):
        problems["applies_to"] = _(
            "Choose what the criterion applies to: publication, archive or translation."
        )
    if fields.kind not in CriterionKind._value2member_map_:
        problems["kind"] = _("The kind must be automatic or attestation.")
    elif fields.kind == CriterionKind.AUTOMATIC and "applies_to" not in problems:
        if code in criteria.RECORD_CHECKS:
            if "translation" in applies_to:
                problems["applies_to"] = _(
                    "The automatic check %(code)s looks at a record, so it can apply to "
                    "publications and archives, not translations.",
                    code=code,
                )
        elif code in criteria.VERSION_CHECKS:
            if applies_to != ["translation"]:
                problems["applies_to"] = _(
                    "The automatic check %(code)s looks at a language version, so it can "
                    "apply to translations only.",
                    code=code,
                )
        else:
            known = ", ".join(sorted({*criteria.RECORD_CHECKS, *criteria.VERSION_CHECKS}))
            problems["kind"] = _(
                "There is no automatic check with the code %(code)s, so the hub could not "
                "compute it. Make it an attestation, or use a code that has a check: "
                "%(known)s.",
                code=code,
                known=known,
            )
    if problems:
        raise Invalid(" ".join(problems.values()), problems)
    return {
        "label": label,
        "help_text": help_text,
        "kind": CriterionKind(fields.kind),
        "is_required": bool(fields.is_required),
        "applies_to": applies_to,
    }


@race_safe
def add_criterion(
    actor: User, code: str, fields: CriterionFields, reason: str = ""
) -> tuple[Criterion, CriteriaSetVersion]:
    """Add a criterion at the end of the checklist, as a new version of the set."""
    access.require(actor, "manage_criteria")
    with transaction() as session:
        code = code.strip().lower()
        if not CRITERION_CODE.fullmatch(code) or len(code) > 60:
            raise invalid(
                "code",
                _(
                    "The code must be lowercase letters and digits, words joined by underscores "
                    "(like un_disclaimer), at most 60 characters."
                ),
            )
        if session.scalar(select(Criterion.id).where(Criterion.code == code)) is not None:
            raise invalid(
                "code", _("There is already a criterion with the code %(code)s.", code=code)
            )
        values = _check_criterion(code, fields)
        last = session.scalar(select(func.max(Criterion.position)))
        criterion = Criterion(
            code=code, position=(last + 1) if last is not None else 0, is_active=True, **values
        )
        session.add(criterion)
        session.flush()
        version = _new_version(actor, _with_reason(f"Added {code}", reason))
        audit(
            actor,
            "add_criterion",
            criterion,
            code=code,
            version=version.number,
            after=_criterion_state(criterion),
        )
        return criterion, version


def _criterion(criterion_id: int) -> Criterion:
    criterion = db.session.get(Criterion, criterion_id)
    if criterion is None:
        raise NotFound(_("There is no such criterion."))
    return criterion


@race_safe
def update_criterion(
    actor: User, criterion_id: int, fields: CriterionFields, reason: str = ""
) -> CriteriaSetVersion | None:
    """Change a criterion (its code stays, so its recorded checks keep their meaning).

    Returns the new version of the set, or None when nothing changed.
    """
    access.require(actor, "manage_criteria")
    with transaction():
        criterion = _criterion(criterion_id)
        values = _check_criterion(criterion.code, fields)
        before = _criterion_state(criterion)
        for key, value in values.items():
            setattr(criterion, key, value)
        after = _criterion_state(criterion)
        if before == after:
            return None
        changes = changed_fields(before, after)
        note = f"Changed {criterion.code}: {', '.join(changes['after'])}"
        version = _new_version(actor, _with_reason(note, reason))
        audit(
            actor,
            "update_criterion",
            criterion,
            code=criterion.code,
            version=version.number,
            **changes,
        )
        return version


@race_safe
def set_criterion_active(
    actor: User, criterion_id: int, active: bool, reason: str = ""
) -> CriteriaSetVersion | None:
    """Retire a criterion from the checklist or restore it; None if it already was so."""
    access.require(actor, "manage_criteria")
    with transaction():
        criterion = _criterion(criterion_id)
        if criterion.is_active == active:
            return None
        criterion.is_active = active
        note = f"{'Restored' if active else 'Retired'} {criterion.code}"
        version = _new_version(actor, _with_reason(note, reason))
        audit(
            actor,
            "restore_criterion" if active else "retire_criterion",
            criterion,
            code=criterion.code,
            version=version.number,
            before={"is_active": not active},
            after={"is_active": active},
        )
        return version


@race_safe
def move_criterion(
    actor: User, criterion_id: int, direction: Literal["up", "down"]
) -> CriteriaSetVersion:
    """Move a criterion one place up or down the checklist."""
    access.require(actor, "manage_criteria")
    if direction not in ("up", "down"):
        raise invalid("direction", _("A criterion moves up or down."))
    with transaction():
        criterion = _criterion(criterion_id)
        ordered = _criteria_in_order()
        index = ordered.index(criterion)
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(ordered):
            raise Refused(
                _("%(code)s is already first.", code=criterion.code)
                if direction == "up"
                else _("%(code)s is already last.", code=criterion.code)
            )
        before = index
        ordered[index], ordered[other] = ordered[other], ordered[index]
        # Renumber the whole list: positions may have gaps or ties from earlier edits.
        for position, item in enumerate(ordered):
            item.position = position
        version = _new_version(actor, f"Moved {criterion.code} {direction}")
        audit(
            actor,
            "move_criterion",
            criterion,
            code=criterion.code,
            version=version.number,
            before={"position": before},
            after={"position": other},
        )
        return version
