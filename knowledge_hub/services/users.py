"""People: creating accounts, inviting, changing, disabling and resetting them, and the
one-time invitation links that set a password.

Every change is an audit event with what was there before and what is there after.
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
from typing import Any

from argon2 import PasswordHasher
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub import access
from knowledge_hub.extensions import db
from knowledge_hub.field_values import normalize_language
from knowledge_hub.i18n.messages import translate
from knowledge_hub.models import ApiToken
from knowledge_hub.models import Organization
from knowledge_hub.models import OutgoingMail
from knowledge_hub.models import Role
from knowledge_hub.models import User
from knowledge_hub.models.base import utcnow
from knowledge_hub.services import Invalid
from knowledge_hub.services import NotFound
from knowledge_hub.services import Refused
from knowledge_hub.services import audit
from knowledge_hub.services import changed_fields
from knowledge_hub.services import invalid
from knowledge_hub.services import mail
from knowledge_hub.services import race_safe
from knowledge_hub.services import transaction

# Argon2id sized for a 2-core server: 64 MiB and 3 passes take about 0.1 s, slow enough
# to hurt guessing and fast enough for a login under load.
password_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)

#: The account that command-line work is recorded under; it has no password.
SYSTEM_EMAIL = "system@knowledge-hub.invalid"

MIN_PASSWORD_LENGTH = 10


def create_user(
    actor: User | None,
    email: str,
    name: str,
    password: str,
    roles: list[str],
    organization: str | None = None,
    languages: list[str] | None = None,
) -> User:
    """Create an account; `actor` None means the command line, which acts as the system."""
    if actor is not None:
        access.require(actor, "manage_users")
    with transaction() as session:
        problems: dict[str, str] = {}
        email = email.strip().lower()
        if "@" not in email or len(email) > 320:
            problems["email"] = _("%(email)s is not an e-mail address.", email=repr(email))
        elif session.scalar(select(User).where(User.email == email)):
            problems["email"] = _("There is already an account for %(email)s.", email=email)
        if len(password) < MIN_PASSWORD_LENGTH:
            problems["password"] = _(
                "The password needs at least %(count)s characters.", count=MIN_PASSWORD_LENGTH
            )
        bad_roles = [r for r in roles if r not in Role._value2member_map_]
        if bad_roles:
            allowed = ", ".join(r.value for r in Role)
            problems["role"] = _(
                "Unknown role %(roles)s: use %(allowed)s.",
                roles=", ".join(bad_roles),
                allowed=allowed,
            )
        org = None
        if organization:
            org = session.scalar(
                select(Organization).where(Organization.acronym.ilike(organization.strip()))
            )
            if org is None:
                problems["organization"] = _(
                    "Unknown organization %(acronym)s.", acronym=repr(organization)
                )
        normalized_languages = []
        for tag in languages or []:
            try:
                normalized_languages.append(normalize_language(tag))
            except ValueError as e:
                problems["language"] = translate(e.args[0])
        if problems:
            raise Invalid(" ".join(problems.values()), problems)
        user = User(
            email=email,
            name=name.strip() or email,
            password_hash=password_hasher.hash(password),
            roles=sorted(set(roles)),
            organization=org,
            languages=normalized_languages,
        )
        session.add(user)
        session.flush()
        return user


def system_user() -> User:
    """The account command-line work is recorded under, created on first use."""
    user = db.session.scalar(select(User).where(User.email == SYSTEM_EMAIL))
    if user is None:
        with transaction() as session:
            user = User(
                email=SYSTEM_EMAIL,
                name="Command line",
                password_hash=None,
                roles=[Role.STAFF.value, Role.REVIEWER.value, Role.ADMIN.value],
            )
            session.add(user)
    return user


#: How long an invitation (or reset) link stays valid.
INVITATION_MAX_AGE = timedelta(days=7)
_INVITATION_SALT = "knowledge-hub.invitation"

#: The shape of an e-mail address; whether it reaches anyone is the inviter's concern.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Invitation:
    """A new account, or a reset one, and the one-time link that sets its password;
    `mailed` when the link went into the mail queue instead of being shown."""

    user: User
    token: str
    mailed: bool = False


def _mail_invitation(user: User, token: str) -> None:
    """Queue the invitation (or an administrator's reset) link, in the caller's transaction."""
    mail.queue(
        "invitation",
        user.email,
        user.interface_language,
        lambda: _("Invitation to the UNTFSSE Knowledge Hub"),
        "invitation",
        name=user.name,
        roles=", ".join(user.roles) or "—",
        days=INVITATION_MAX_AGE.days,
        url=mail.link("auth.invitation", user.interface_language, token=token),
    )


def _by_mail(by_mail: bool | None) -> bool:
    return mail.is_configured() if by_mail is None else by_mail


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
        raise invalid("roles", _("Unknown role %(roles)s.", roles=", ".join(unknown)))
    return chosen


def _organization_by_acronym(acronym: str | None) -> Organization | None:
    if not acronym or not acronym.strip():
        return None
    org = db.session.scalar(
        select(Organization).where(func.lower(Organization.acronym) == acronym.strip().lower())
    )
    if org is None:
        raise invalid("organization", _("Unknown organization %(acronym)s.", acronym=acronym))
    return org


def _languages(tags: Iterable[str]) -> list[str]:
    languages: list[str] = []
    for tag in tags:
        if not tag.strip():
            continue
        try:
            language = normalize_language(tag)
        except ValueError as e:
            raise invalid(
                "languages",
                _("%(tag)s is not a language code (use en, fr, es, ar, zh, ru, …).", tag=tag),
            ) from e
        if language not in languages:
            languages.append(language)
    return languages


@race_safe
def invite_user(
    actor: User,
    email: str,
    name: str,
    roles: list[str],
    organization: str | None = None,
    languages: list[str] | None = None,
    by_mail: bool | None = None,
) -> Invitation:
    """Create an account without a usable password, and the link that lets its owner set one.

    The link is mailed (queued with the account) when `by_mail`, by default when mail is
    configured; otherwise it is for the inviter to pass on."""
    access.require(actor, "manage_users")
    if not EMAIL.fullmatch(email.strip()):
        raise invalid("email", _("%(email)s is not an e-mail address.", email=email.strip()))
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
        mailed = _by_mail(by_mail)
        audit(
            actor,
            "invite_user",
            user,
            email=user.email,
            after=_account_state(user),
            mailed=mailed,
        )
        db.session.flush()
        token = _invitation_token(user)
        if mailed:
            _mail_invitation(user, token)
        return Invitation(user, token, mailed)


@race_safe
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
            raise invalid("name", _("The name is missing."))
        if len(name) > 200:
            raise invalid("name", _("The name is longer than 200 characters."))
        before = _account_state(user)
        user.name = name
        user.roles = new_roles
        user.organization = _organization_by_acronym(organization)
        user.languages = _languages(languages)
        after = _account_state(user)
        if before == after:
            return False
        audit(actor, "update_user", user, email=user.email, **changed_fields(before, after))
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


def reset_user(actor: User, user_id: int, by_mail: bool | None = None) -> Invitation:
    """Clear an account's password, end its sessions, and make a new invitation link
    (mailed to the account when `by_mail`, by default when mail is configured)."""
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
            mailed=_by_mail(by_mail),
        )
        db.session.flush()
        token = _invitation_token(user)
        if _by_mail(by_mail):
            _mail_invitation(user, token)
        return Invitation(user, token, _by_mail(by_mail))


class InvitationInvalid(Refused):
    """The invitation link is unknown, used, replaced or expired; the message says which."""


def invited_user(token: str) -> User:
    """The account an invitation link is for, or InvitationInvalid.

    Nobody is signed in when a link is opened: the signed token is the permission.
    """
    user = _linked_user(
        _serializer(),
        token,
        INVITATION_MAX_AGE,
        expired=lambda: _(
            "This invitation link has expired (links last %(days)d days). "
            "Ask an administrator for a new one.",
            days=INVITATION_MAX_AGE.days,
        ),
    )
    if user is None or user.email == SYSTEM_EMAIL:
        raise InvitationInvalid(
            _(
                "This invitation link was already used or has been replaced. "
                "Sign in, or ask an administrator for a new link."
            )
        )
    if not user.is_active:
        raise InvitationInvalid(_("This account is disabled. Ask an administrator."))
    return user


def _linked_user(
    serializer: URLSafeTimedSerializer, token: str, max_age: timedelta, expired: Callable[[], str]
) -> User | None:
    """The account a signed link (an invitation, a password reset) names, or None when the
    link was used or replaced since (its mark no longer matches the account's); an
    expired or broken link is InvitationInvalid."""
    try:
        data = serializer.loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as e:
        raise InvitationInvalid(expired()) from e
    except BadSignature as e:
        raise InvitationInvalid(
            _("This is not a valid invitation link. Check that it was copied whole.")
        ) from e
    user = db.session.get(User, data.get("user")) if isinstance(data, dict) else None
    if user is None or not hmac.compare_digest(_session_mark(user), str(data.get("mark"))):
        return None
    return user


def accept_invitation(token: str, password: str) -> User:
    """Set the password of an invited or reset account; the link then stops working."""
    with transaction():
        user = invited_user(token)
        _set_password(user, password)
        audit(user, "accept_invitation", user, email=user.email)
        return user


# --- "Forgot your password?": a link by mail, whoever asks


#: How long a link asked for with "Forgot your password?" works.
RESET_MAX_AGE = timedelta(hours=1)
#: How many such links one address is sent within RESET_MAX_AGE.
RESETS_PER_ADDRESS = 3
_RESET_SALT = "knowledge-hub.reset"


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_RESET_SALT)


def request_password_reset(email: str, language: str | None) -> None:
    """Mail a link that sets a new password to the account with this address, if any.

    Whoever asks is told the same whether or not there is such an account; the password
    stays until the link is used (asking must not lock anyone out), and an address gets
    at most RESETS_PER_ADDRESS links an hour, so the form cannot be used to flood it."""
    email = email.strip().lower()
    with transaction() as session:
        user = session.scalar(select(User).where(User.email == email))
        if user is None or user.email == SYSTEM_EMAIL or not user.is_active:
            return
        recent = session.scalar(
            select(func.count()).where(
                OutgoingMail.kind == "reset",
                OutgoingMail.recipient == user.email,
                OutgoingMail.queued_at > utcnow() - RESET_MAX_AGE,
            )
        )
        if recent >= RESETS_PER_ADDRESS:
            return
        # Bound to the session token, which setting the password (or signing in) rotates.
        token = _reset_serializer().dumps({"user": user.id, "mark": _session_mark(user)})
        mail.queue(
            "reset",
            user.email,
            user.interface_language or language,
            lambda: _("A new password for the UNTFSSE Knowledge Hub"),
            "reset",
            name=user.name,
            minutes=int(RESET_MAX_AGE.total_seconds() // 60),
            url=mail.link("auth.reset_password", user.interface_language or language, token=token),
        )
        audit(None, "request_password_reset", user, email=user.email)


def reset_link_user(token: str) -> User:
    """The account a "Forgot your password?" link is for, or InvitationInvalid."""
    user = _linked_user(
        _reset_serializer(),
        token,
        RESET_MAX_AGE,
        expired=lambda: _("This link has expired. Ask for a new one with “Forgot your password?”."),
    )
    if user is None or not user.is_active:
        raise InvitationInvalid(
            _("This link was already used or has been replaced. Ask for a new one.")
        )
    return user


def reset_password(token: str, password: str) -> User:
    """Set a new password with a "Forgot your password?" link; the link then stops working."""
    with transaction():
        user = reset_link_user(token)
        _set_password(user, password)
        revoked = _revoke_every_token(user)
        audit(user, "reset_password", user, email=user.email, revoked_tokens=revoked)
        return user


def _set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise invalid(
            "password",
            _("The password needs at least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
        )
    user.password_hash = password_hasher.hash(password)
    user.password_changed_at = utcnow()
    user.session_token = secrets.token_hex(16)
