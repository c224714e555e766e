"""Who may do what, and who may see which records: decided here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import true

from knowledge_hub.models import AccessLevel
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import OrganizationKind
from knowledge_hub.models import Role
from knowledge_hub.models import User
from knowledge_hub.models import Variant
from knowledge_hub.models import VariantStatus

#: Action -> the roles that may perform it.
RULES: dict[str, frozenset[Role]] = {
    "create": frozenset({Role.STAFF, Role.ADMIN}),
    "edit": frozenset({Role.STAFF, Role.ADMIN}),
    "upload": frozenset({Role.STAFF, Role.ADMIN}),
    "import": frozenset({Role.STAFF, Role.ADMIN}),
    "view_checklist": frozenset({Role.STAFF, Role.REVIEWER, Role.ADMIN}),
    "view_history": frozenset({Role.STAFF, Role.REVIEWER, Role.ADMIN}),
    "attest": frozenset({Role.REVIEWER}),
    "send_back": frozenset({Role.REVIEWER}),
    "release": frozenset({Role.REVIEWER, Role.ADMIN}),
    "withdraw": frozenset({Role.REVIEWER, Role.ADMIN}),
    "waive": frozenset({Role.ADMIN}),
    "manage_criteria": frozenset({Role.ADMIN}),
    "manage_vocabularies": frozenset({Role.ADMIN}),
    "view_audit": frozenset({Role.ADMIN}),
    "request_translation": frozenset({Role.STAFF, Role.ADMIN}),
    "view_coverage": frozenset({Role.STAFF, Role.REVIEWER, Role.ADMIN}),
    "translate": frozenset({Role.TRANSLATOR}),
    "submit_translation": frozenset({Role.TRANSLATOR}),
    "review_translation": frozenset({Role.REVIEWER}),
    "reindex": frozenset({Role.ADMIN}),
    "manage_users": frozenset({Role.ADMIN}),
    "manage_meetings": frozenset({Role.STAFF, Role.ADMIN}),
    "view_statistics": frozenset({Role.STAFF, Role.ADMIN}),
}

#: What someone is told when their role does not allow an action.
REFUSALS = {
    "create": _l("You are not allowed to create."),
    "edit": _l("You are not allowed to edit."),
    "upload": _l("You are not allowed to upload."),
    "import": _l("You are not allowed to import."),
    "view_checklist": _l("You are not allowed to view checklist."),
    "view_history": _l("You are not allowed to view history."),
    "attest": _l("You are not allowed to attest."),
    "send_back": _l("You are not allowed to send back."),
    "release": _l("You are not allowed to release."),
    "withdraw": _l("You are not allowed to withdraw."),
    "waive": _l("You are not allowed to waive."),
    "manage_criteria": _l("You are not allowed to manage criteria."),
    "manage_vocabularies": _l("You are not allowed to manage vocabularies."),
    "view_audit": _l("You are not allowed to view audit."),
    "request_translation": _l("You are not allowed to request translation."),
    "view_coverage": _l("You are not allowed to view coverage."),
    "translate": _l("You are not allowed to translate."),
    "submit_translation": _l("You are not allowed to submit translation."),
    "review_translation": _l("You are not allowed to review translation."),
    "reindex": _l("You are not allowed to reindex."),
    "manage_users": _l("You are not allowed to manage users."),
    "manage_meetings": _l("You are not allowed to manage meetings."),
    "view_statistics": _l("You are not allowed to view the usage statistics."),
}

#: Roles that work on records before release and so see every record.
BACK_OFFICE = frozenset({Role.STAFF, Role.REVIEWER, Role.ADMIN})


class NotAllowed(Exception):
    """The actor may not do this; the message is worded for people."""


def roles_of(actor: User | None) -> frozenset[Role]:
    if actor is None or not actor.is_active:
        return frozenset()
    return frozenset(Role(r) for r in actor.roles if r in Role._value2member_map_)


def can(actor: User | None, action: str) -> bool:
    """Tell whether actor may perform action; templates use it to hide buttons."""
    return bool(roles_of(actor) & RULES[action])


def require(actor: User | None, action: str) -> None:
    """Raise NotAllowed unless actor may perform action."""
    if not can(actor, action):
        refusal = REFUSALS.get(action)
        raise NotAllowed(
            str(refusal)
            if refusal is not None
            else gettext("You are not allowed to %(action)s.", action=action.replace("_", " "))
        )


def may_change_released(actor: User | None) -> bool:
    """Tell whether actor may change what a released record's review vouched for.

    Such a change is an edit and a release at once: it takes someone allowed both (a
    reviewer who also edits records, or an administrator), and it passes the gate again.
    """
    return can(actor, "edit") and can(actor, "release")


@dataclass(frozen=True)
class Visibility:
    """What a viewer may see. `everything` short-cuts the lists for the back office."""

    everything: bool
    statuses: frozenset[DocumentStatus]
    access_levels: frozenset[AccessLevel]
    variant_statuses: frozenset[VariantStatus]


PUBLIC_STATUSES = frozenset({DocumentStatus.RELEASED})

#: Organizations whose people are the Task Force's members (DESIGN: "account of a member
#: or observer organization").
MEMBER_ORGANIZATION_KINDS = frozenset({OrganizationKind.MEMBER, OrganizationKind.OBSERVER})


def is_member(viewer: User | None) -> bool:
    """Tell whether viewer may read members-only records.

    Either an administrator gave the account the member role, or the account belongs to
    a member or observer organization. Holding some other role is not enough: a
    translator without such an organization is an outside contractor.
    """
    if viewer is None or not viewer.is_active:
        return False
    if Role.MEMBER in roles_of(viewer):
        return True
    organization = viewer.organization
    return organization is not None and organization.kind in MEMBER_ORGANIZATION_KINDS


def visible_levels(viewer: User | None) -> Visibility:
    """Return what viewer may see: the one rule behind every SQL query and search."""
    roles = roles_of(viewer)
    if roles & BACK_OFFICE:
        return Visibility(
            True, frozenset(DocumentStatus), frozenset(AccessLevel), frozenset(VariantStatus)
        )
    levels = {AccessLevel.PUBLIC}
    if is_member(viewer):
        levels.add(AccessLevel.MEMBERS)
    return Visibility(
        False, PUBLIC_STATUSES, frozenset(levels), frozenset({VariantStatus.APPROVED})
    )


def visible_to(viewer: User | None, *, include_withdrawn: bool = False) -> ColumnElement[bool]:
    """The SQL clause selecting the documents viewer may see.

    A withdrawn record stays citable: its landing page (include_withdrawn) shows a notice
    to whoever could see it when it was released.
    """
    seen = visible_levels(viewer)
    if seen.everything:
        return true()
    statuses = set(seen.statuses)
    if include_withdrawn:
        statuses.add(DocumentStatus.WITHDRAWN)
    return and_(Document.status.in_(statuses), Document.access.in_(seen.access_levels))


def variant_visible_to(viewer: User | None) -> ColumnElement[bool]:
    """The SQL clause selecting the language versions viewer may see (with visible_to)."""
    seen = visible_levels(viewer)
    if seen.everything:
        return true()
    return Variant.status.in_(seen.variant_statuses)


def can_see(
    viewer: User | None,
    document: Document,
    variant: Variant | None = None,
    *,
    include_withdrawn: bool = False,
) -> bool:
    """Tell in Python what visible_to and variant_visible_to tell in SQL."""
    seen = visible_levels(viewer)
    if seen.everything:
        return True
    statuses = set(seen.statuses)
    if include_withdrawn:
        statuses.add(DocumentStatus.WITHDRAWN)
    if document.status not in statuses or document.access not in seen.access_levels:
        return False
    return variant is None or variant.status in seen.variant_statuses


def is_public(document: Document, variant: Variant | None = None) -> bool:
    """Tell whether anyone, signed in or not, may see the record (or this version)."""
    return can_see(None, document, variant)
