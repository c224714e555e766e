"""Administration: accounts and invitations, organizations, vocabularies, the criteria set.

Every change is an audit event with what was there before and what is there after; every
change to the criteria set also makes a new numbered version of the whole set.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any
from typing import Literal
from typing import ParamSpec
from typing import TypeVar
from urllib.parse import urlsplit

from flask import current_app
from flask import has_request_context
from flask_babel import gettext
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from knowledge_hub import access
from knowledge_hub import criteria
from knowledge_hub import seed
from knowledge_hub.extensions import db
from knowledge_hub.metadata import normalize_language
from knowledge_hub.models import APPLIES_TO
from knowledge_hub.models import ApiToken
from knowledge_hub.models import CriteriaSetVersion
from knowledge_hub.models import Criterion
from knowledge_hub.models import CriterionKind
from knowledge_hub.models import DocType
from knowledge_hub.models import Organization
from knowledge_hub.models import OrganizationKind
from knowledge_hub.models import Role
from knowledge_hub.models import Topic
from knowledge_hub.models import User
from knowledge_hub.models.base import utcnow
from knowledge_hub.services import Invalid
from knowledge_hub.services import NotFound
from knowledge_hub.services import Refused
from knowledge_hub.services import audit
from knowledge_hub.services import transaction
from knowledge_hub.services.accounts import MIN_PASSWORD_LENGTH
from knowledge_hub.services.accounts import SYSTEM_EMAIL
from knowledge_hub.services.accounts import create_user
from knowledge_hub.services.accounts import password_hasher

P = ParamSpec("P")
R = TypeVar("R")

#: How long an invitation (or reset) link stays valid.
INVITATION_MAX_AGE = timedelta(days=7)
_INVITATION_SALT = "knowledge-hub.invitation"

#: The shape of an e-mail address; whether it reaches anyone is the inviter's concern.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
#: Codes of document types and topics: lowercase words joined by hyphens.
VOCABULARY_CODE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
#: Codes of criteria: lowercase words joined by underscores, as the registered checks are.
CRITERION_CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")

VOCABULARIES: dict[str, type[DocType] | type[Topic]] = {"types": DocType, "topics": Topic}


def _(message: str, **values: Any) -> str:
    """Translate a message for the person reading it; plain English outside a request."""
    if has_request_context():
        return gettext(message, **values)
    return message % values if values else message


def _race_safe(function: Callable[P, R]) -> Callable[P, R]:
    """Turn a unique-constraint clash with a simultaneous change into a clear refusal."""

    @wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except IntegrityError as e:
            # Checked before writing; only a change made at the same moment gets here.
            raise Refused(
                _("Someone else made a conflicting change at the same time. Reload and try again.")
            ) from e

    return run


def _invalid(field: str, message: str) -> Invalid:
    """The input is wrong in one field; the message names the problem for people."""
    return Invalid(message, {field: message})


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields that differ, as {"before": {...}, "after": {...}} for the audit trail."""
    changed = [key for key in after if before.get(key) != after[key]]
    return {
        "before": {key: before.get(key) for key in changed},
        "after": {key: after[key] for key in changed},
    }


# --- accounts and invitations


@dataclass(frozen=True)
class Invitation:
    """A new account, or a reset one, and the one-time link that sets its password."""

    user: User
    token: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_INVITATION_SALT)


def _session_mark(user: User) -> str:
    """A digest of the account's session token: the link is bound to it without showing it."""
    return hashlib.sha256(f"invitation:{user.session_token}".encode()).hexdigest()[:32]


def _invitation_token(user: User) -> str:
    # Bound to the session token, which setting the password rotates: the link works once,
    # and a later reset or a disable voids every earlier link.
    return _serializer().dumps({"user": user.id, "mark": _session_mark(user)})


def _account_state(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "roles": sorted(user.roles),
        "organization": user.organization.acronym if user.organization else None,
        "languages": list(user.languages),
    }


def _managed_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.email == SYSTEM_EMAIL:
        raise NotFound(_("There is no such account."))
    return user


def _check_roles(roles: Iterable[str]) -> list[str]:
    chosen = sorted(set(roles))
    unknown = [r for r in chosen if r not in Role._value2member_map_]
    if unknown:
        raise _invalid("roles", _("Unknown role %(roles)s.", roles=", ".join(unknown)))
    return chosen


def _organization_by_acronym(acronym: str | None) -> Organization | None:
    if not acronym or not acronym.strip():
        return None
    org = db.session.scalar(
        select(Organization).where(func.lower(Organization.acronym) == acronym.strip().lower())
    )
    if org is None:
        raise _invalid("organization", _("Unknown organization %(acronym)s.", acronym=acronym))
    return org


def _languages(tags: Iterable[str]) -> list[str]:
    languages: list[str] = []
    for tag in tags:
        if not tag.strip():
            continue
        try:
            language = normalize_language(tag)
        except ValueError as e:
            raise _invalid(
                "languages",
                _("%(tag)s is not a language code (use en, fr, es, ar, zh, ru, …).", tag=tag),
            ) from e
        if language not in languages:
            languages.append(language)
    return languages


@_race_safe
def invite_user(
    actor: User,
    email: str,
    name: str,
    roles: list[str],
    organization: str | None = None,
    languages: list[str] | None = None,
) -> Invitation:
    """Create an account without a usable password, and the link that lets its owner set one."""
    access.require(actor, "manage_users")
    if not EMAIL.fullmatch(email.strip()):
        raise _invalid("email", _("%(email)s is not an e-mail address.", email=email.strip()))
    with transaction():
        # The accounts service checks the e-mail, roles, organization and languages; the
        # throwaway password it needs is cleared at once, so nobody can sign in with it.
        user = create_user(
            actor,
            email,
            name,
            secrets.token_urlsafe(32),
            _check_roles(roles),
            organization,
            _languages(languages or []),
        )
        user.password_hash = None
        user.session_token = secrets.token_hex(16)
        audit(actor, "invite_user", user, email=user.email, after=_account_state(user))
        db.session.flush()
        return Invitation(user, _invitation_token(user))


@_race_safe
def update_user(
    actor: User,
    user_id: int,
    *,
    name: str,
    roles: list[str],
    organization: str | None,
    languages: list[str],
) -> bool:
    """Change an account's name, roles, organization and languages; False if nothing changed."""
    access.require(actor, "manage_users")
    with transaction():
        user = _managed_user(user_id)
        new_roles = _check_roles(roles)
        if user.id == actor.id and Role.ADMIN.value not in new_roles:
            raise Refused(
                _("You cannot remove your own admin role. Ask another administrator to do it.")
            )
        name = name.strip()
        if not name:
            raise _invalid("name", _("The name is missing."))
        if len(name) > 200:
            raise _invalid("name", _("The name is longer than 200 characters."))
        before = _account_state(user)
        user.name = name
        user.roles = new_roles
        user.organization = _organization_by_acronym(organization)
        user.languages = _languages(languages)
        after = _account_state(user)
        if before == after:
            return False
        audit(actor, "update_user", user, email=user.email, **_changes(before, after))
        return True


def set_user_active(actor: User, user_id: int, active: bool) -> bool:
    """Disable an account (ending its open sessions) or enable it again; False if already so."""
    access.require(actor, "manage_users")
    with transaction():
        user = _managed_user(user_id)
        if not active and user.id == actor.id:
            raise Refused(_("You cannot disable your own account."))
        if user.is_active == active:
            return False
        user.is_active = active
        details: dict[str, Any] = {}
        if not active:
            # Sessions and invitation links carry the token: a new one ends them all.
            user.session_token = secrets.token_hex(16)
            # API tokens are revoked for good, not merely refused while the account is
            # off: enabling it again must not bring back secrets that may have leaked
            # with the reason it was disabled. Its owner makes new ones.
            details["revoked_tokens"] = _revoke_every_token(user)
        audit(
            actor,
            "enable_user" if active else "disable_user",
            user,
            email=user.email,
            before={"is_active": not active},
            after={"is_active": active},
            **details,
        )
        return True


def _revoke_every_token(user: User) -> list[int]:
    """Revoke the account's live API tokens; their ids, for the audit trail."""
    live = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    now = utcnow()
    for token in live:
        token.revoked_at = now
    return sorted(token.id for token in live)


def reset_user(actor: User, user_id: int) -> Invitation:
    """Clear an account's password, end its sessions, and make a new invitation link."""
    access.require(actor, "manage_users")
    with transaction():
        user = _managed_user(user_id)
        if not user.is_active:
            raise Refused(_("This account is disabled. Enable it before resetting it."))
        had_password = user.password_hash is not None
        user.password_hash = None
        user.session_token = secrets.token_hex(16)
        # A reset is how a taken-over account is won back: tokens made by whoever held
        # it go with the password.
        revoked = _revoke_every_token(user)
        audit(
            actor,
            "reset_user",
            user,
            email=user.email,
            before={"has_password": had_password},
            after={"has_password": False},
            revoked_tokens=revoked,
        )
        db.session.flush()
        return Invitation(user, _invitation_token(user))


class InvitationInvalid(Refused):
    """The invitation link is unknown, used, replaced or expired; the message says which."""


def invited_user(token: str) -> User:
    """The account an invitation link is for, or InvitationInvalid.

    Nobody is signed in when a link is opened: the signed token is the permission.
    """
    try:
        data = _serializer().loads(token, max_age=int(INVITATION_MAX_AGE.total_seconds()))
    except SignatureExpired as e:
        raise InvitationInvalid(
            _(
                "This invitation link has expired (links last %(days)d days). "
                "Ask an administrator for a new one.",
                days=INVITATION_MAX_AGE.days,
            )
        ) from e
    except BadSignature as e:
        raise InvitationInvalid(
            _("This is not a valid invitation link. Check that it was copied whole.")
        ) from e
    user = db.session.get(User, data.get("user")) if isinstance(data, dict) else None
    if (
        user is None
        or user.email == SYSTEM_EMAIL
        or not hmac.compare_digest(_session_mark(user), str(data.get("mark")))
    ):
        raise InvitationInvalid(
            _(
                "This invitation link was already used or has been replaced. "
                "Sign in, or ask an administrator for a new link."
            )
        )
    if not user.is_active:
        raise InvitationInvalid(_("This account is disabled. Ask an administrator."))
    return user


def accept_invitation(token: str, password: str) -> User:
    """Set the password of an invited or reset account; the link then stops working."""
    with transaction():
        user = invited_user(token)
        if len(password) < MIN_PASSWORD_LENGTH:
            raise _invalid(
                "password",
                _("The password needs at least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
            )
        user.password_hash = password_hasher.hash(password)
        user.password_changed_at = utcnow()
        user.session_token = secrets.token_hex(16)
        audit(user, "accept_invitation", user, email=user.email)
        return user


# --- organizations


def _organization_fields(
    acronym: str, name: str, kind: str, url: str | None, *, current: Organization | None = None
) -> dict[str, Any]:
    problems: dict[str, str] = {}
    acronym, name, url = acronym.strip(), name.strip(), (url or "").strip() or None
    if not acronym:
        problems["acronym"] = _("The acronym is missing.")
    elif len(acronym) > 40:
        problems["acronym"] = _("The acronym is longer than 40 characters.")
    else:
        clash = db.session.scalar(
            select(Organization).where(func.lower(Organization.acronym) == acronym.lower())
        )
        if clash is not None and clash is not current:
            problems["acronym"] = _(
                "There is already an organization %(acronym)s.", acronym=clash.acronym
            )
    if not name:
        problems["name"] = _("The name is missing.")
    elif len(name) > 300:
        problems["name"] = _("The name is longer than 300 characters.")
    if kind not in OrganizationKind._value2member_map_:
        problems["kind"] = _("The kind must be member, observer or other.")
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
            problems["url"] = _("The web address must start with https:// or http://.")
    if problems:
        raise Invalid(" ".join(problems.values()), problems)
    return {"acronym": acronym, "name": name, "kind": OrganizationKind(kind), "url": url}


def _organization_state(org: Organization) -> dict[str, Any]:
    return {"acronym": org.acronym, "name": org.name, "kind": str(org.kind), "url": org.url}


@_race_safe
def add_organization(
    actor: User, acronym: str, name: str, kind: str, url: str | None = None
) -> Organization:
    """Add an organization that records and accounts can name."""
    access.require(actor, "manage_vocabularies")
    with transaction() as session:
        org = Organization(**_organization_fields(acronym, name, kind, url))
        session.add(org)
        session.flush()
        audit(actor, "add_organization", org, after=_organization_state(org))
        return org


@_race_safe
def update_organization(
    actor: User, organization_id: int, acronym: str, name: str, kind: str, url: str | None = None
) -> bool:
    """Change an organization's acronym, name, kind or address; False if nothing changed."""
    access.require(actor, "manage_vocabularies")
    with transaction():
        org = db.session.get(Organization, organization_id)
        if org is None:
            raise NotFound(_("There is no such organization."))
        fields = _organization_fields(acronym, name, kind, url, current=org)
        before = _organization_state(org)
        for key, value in fields.items():
            setattr(org, key, value)
        after = _organization_state(org)
        if before == after:
            return False
        audit(actor, "update_organization", org, **_changes(before, after))
        return True


# --- vocabularies: document types and topics


def _vocabulary_model(vocabulary: str) -> type[DocType] | type[Topic]:
    try:
        return VOCABULARIES[vocabulary]
    except KeyError:
        raise NotFound(_("There is no such vocabulary.")) from None


def _label(label: str) -> str:
    label = label.strip()
    if not label:
        raise _invalid("label", _("The label is missing."))
    if len(label) > 200:
        raise _invalid("label", _("The label is longer than 200 characters."))
    return label


@_race_safe
def add_vocabulary_entry(actor: User, vocabulary: str, code: str, label: str) -> DocType | Topic:
    """Add a document type or a topic at the end of its list."""
    access.require(actor, "manage_vocabularies")
    model = _vocabulary_model(vocabulary)
    with transaction() as session:
        code = code.strip().lower()
        if not VOCABULARY_CODE.fullmatch(code) or len(code) > 40:
            raise _invalid(
                "code",
                _(
                    "The code must be lowercase letters and digits, words joined by hyphens "
                    "(like policy-brief), at most 40 characters."
                ),
            )
        if session.scalar(select(model.id).where(model.code == code)) is not None:
            raise _invalid("code", _("The code %(code)s is already used.", code=code))
        last = session.scalar(select(func.max(model.position))) or 0
        entry = model(code=code, label=_label(label), position=last + 1, is_active=True)
        session.add(entry)
        session.flush()
        audit(
            actor,
            "add_vocabulary_entry",
            entry,
            vocabulary=vocabulary,
            after={"code": code, "label": entry.label},
        )
        return entry


def _vocabulary_entry(vocabulary: str, entry_id: int) -> DocType | Topic:
    entry = db.session.get(_vocabulary_model(vocabulary), entry_id)
    if entry is None:
        raise NotFound(_("There is no such entry."))
    return entry


def relabel_vocabulary_entry(actor: User, vocabulary: str, entry_id: int, label: str) -> bool:
    """Change the label of a document type or topic (its code stays); False if unchanged."""
    access.require(actor, "manage_vocabularies")
    with transaction():
        entry = _vocabulary_entry(vocabulary, entry_id)
        label = _label(label)
        if entry.label == label:
            return False
        before = entry.label
        entry.label = label
        audit(
            actor,
            "relabel_vocabulary_entry",
            entry,
            vocabulary=vocabulary,
            code=entry.code,
            before={"label": before},
            after={"label": label},
        )
        return True


def set_vocabulary_entry_active(actor: User, vocabulary: str, entry_id: int, active: bool) -> bool:
    """Retire a document type or topic (it stays on records) or restore it; False if already so."""
    access.require(actor, "manage_vocabularies")
    with transaction():
        entry = _vocabulary_entry(vocabulary, entry_id)
        if entry.is_active == active:
            return False
        entry.is_active = active
        audit(
            actor,
            "restore_vocabulary_entry" if active else "retire_vocabulary_entry",
            entry,
            vocabulary=vocabulary,
            code=entry.code,
            before={"is_active": not active},
            after={"is_active": active},
        )
        return True


# --- the criteria set


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


@_race_safe
def add_criterion(
    actor: User, code: str, fields: CriterionFields, reason: str = ""
) -> tuple[Criterion, CriteriaSetVersion]:
    """Add a criterion at the end of the checklist, as a new version of the set."""
    access.require(actor, "manage_criteria")
    with transaction() as session:
        code = code.strip().lower()
        if not CRITERION_CODE.fullmatch(code) or len(code) > 60:
            raise _invalid(
                "code",
                _(
                    "The code must be lowercase letters and digits, words joined by underscores "
                    "(like un_disclaimer), at most 60 characters."
                ),
            )
        if session.scalar(select(Criterion.id).where(Criterion.code == code)) is not None:
            raise _invalid(
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


@_race_safe
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
        changes = _changes(before, after)
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


@_race_safe
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


@_race_safe
def move_criterion(
    actor: User, criterion_id: int, direction: Literal["up", "down"]
) -> CriteriaSetVersion:
    """Move a criterion one place up or down the checklist."""
    access.require(actor, "manage_criteria")
    if direction not in ("up", "down"):
        raise _invalid("direction", _("A criterion moves up or down."))
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
