"""Signing in and out, and passwords."""

from __future__ import annotations

import secrets
from datetime import timedelta

from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import LoginAttempt
from knowledge_hub.models import User
from knowledge_hub.orm import utcnow
from knowledge_hub.services import Invalid
from knowledge_hub.services import ServiceError
from knowledge_hub.services import audit
from knowledge_hub.services import transaction
from knowledge_hub.services.accounts import MIN_PASSWORD_LENGTH
from knowledge_hub.services.accounts import password_hasher

#: Failed sign-ins allowed per account, and per address, within the window. Counted in
#: the database, so every worker process sees the same numbers.
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW = timedelta(minutes=15)

# Verifying against a real hash when the account does not exist takes the same time,
# so response times do not tell which e-mail addresses have accounts.
_DUMMY_HASH = password_hasher.hash("not a password of anyone")


class LoginRefused(ServiceError):
    """Wrong e-mail or password (never says which)."""


class TooManyAttempts(ServiceError):
    """Sign-in is paused for this account or address after repeated failures."""


def _recent_failures(**where: str) -> int:
    since = utcnow() - FAILURE_WINDOW
    stmt = select(func.count(LoginAttempt.id)).where(
        LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False)
    )
    for column, value in where.items():
        stmt = stmt.where(getattr(LoginAttempt, column) == value)
    return db.session.scalar(stmt) or 0


def authenticate(
    email: str, password: str, address: str, *, interface_language: str | None = None
) -> User:
    """Return the user whose credentials these are, recording the attempt.

    `interface_language`, one of the hub's languages chosen on the device signing in, is
    kept on the account: a sign-in is a deliberate POST, unlike the ?lang= links.
    """
    email = email.strip().lower()
    if (
        _recent_failures(email=email) >= MAX_FAILURES_PER_ACCOUNT
        or _recent_failures(address=address) >= MAX_FAILURES_PER_ADDRESS
    ):
        minutes = int(FAILURE_WINDOW.total_seconds() // 60)
        raise TooManyAttempts(
            _(
                "Too many failed sign-ins. Wait %(minutes)s minutes, or ask an administrator to help.",
                minutes=minutes,
            )
        )
    user = db.session.scalar(select(User).where(User.email == email))
    valid = _verify(user.password_hash if user and user.password_hash else _DUMMY_HASH, password)
    succeeded = bool(user and user.password_hash and user.is_active and valid)
    # The attempt is committed whether it succeeds or not: failures must be counted.
    with transaction() as session:
        session.add(LoginAttempt(email=email, address=address, succeeded=succeeded))
        if succeeded:
            if password_hasher.check_needs_rehash(user.password_hash):
                user.password_hash = password_hasher.hash(password)
            if not user.session_token:
                user.session_token = secrets.token_hex(16)
            user.last_login_at = utcnow()
            if interface_language in current_app.config["LANGUAGES"]:
                user.interface_language = interface_language
            audit(user, "login", user)
    if not succeeded:
        raise LoginRefused(_("The e-mail address or the password is not right."))
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def change_password(user: User, current: str, new: str) -> None:
    """Change a user's own password; every other session of theirs is signed out."""
    if not user.password_hash or not _verify(user.password_hash, current):
        raise Invalid(_("The current password is not right."), {"current": "wrong"})
    if len(new) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            _("The new password needs at least %(count)s characters.", count=MIN_PASSWORD_LENGTH),
            {"new": "short"},
        )
    with transaction():
        user.password_hash = password_hasher.hash(new)
        user.password_changed_at = utcnow()
        user.session_token = secrets.token_hex(16)
        audit(user, "change_password", user)


def sign_out(user: User) -> None:
    """End the user's sessions: every copy of their session cookie stops working.

    The cookie is signed, not stored, so clearing it in this browser would leave a copy
    saved elsewhere (a proxy log, a stolen cookie) valid until it expires; a new session
    token voids them all, this user's other devices included.
    """
    with transaction():
        user.session_token = secrets.token_hex(16)
        audit(user, "logout", user)
