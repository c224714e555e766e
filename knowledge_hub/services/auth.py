"""Signing in and out, and passwords."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta

from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadData
from itsdangerous import URLSafeSerializer
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import LoginAttempt
from knowledge_hub.models import User
from knowledge_hub.models.base import utcnow
from knowledge_hub.services import Invalid
from knowledge_hub.services import ServiceError
from knowledge_hub.services import audit
from knowledge_hub.services import transaction
from knowledge_hub.services.users import MIN_PASSWORD_LENGTH
from knowledge_hub.services.users import password_hasher

#: Failed sign-ins allowed within the window: per account from untrusted devices, per
#: trusted device (see below), and per address. Counted in the database, so every worker
#: process sees the same numbers.
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_DEVICE = 5
MAX_FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW = timedelta(minutes=15)

#: Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a
#: browser that signed in to an account gets a signed cookie naming the account and a
#: random nonce. Its attempts on that account are counted per nonce, so an attacker's
#: failures, which lock the account for untrusted devices only, never lock its owner out.
DEVICE_COOKIE = "hub_device"
DEVICE_TRUST = timedelta(days=180)
#: Accounts one browser is remembered for (a shared office computer); the oldest go first.
MAX_DEVICE_ACCOUNTS = 8
_DEVICE_SALT = "device-cookie"

# Verifying against a real hash when the account does not exist takes the same time,
# so response times do not tell which e-mail addresses have accounts.
_DUMMY_HASH = password_hasher.hash("not a password of anyone")


class LoginRefused(ServiceError):
    """Wrong e-mail or password (never says which)."""


class TooManyAttempts(ServiceError):
    """Sign-in is paused for this account, device or address after repeated failures."""


def _recent_failures(**where: str | None) -> int:
    since = utcnow() - FAILURE_WINDOW
    stmt = select(func.count(LoginAttempt.id)).where(
        LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False)
    )
    for column, value in where.items():
        attribute = getattr(LoginAttempt, column)
        stmt = stmt.where(attribute.is_(None) if value is None else attribute == value)
    return db.session.scalar(stmt) or 0


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_DEVICE_SALT)


def _password_mark(user: User) -> str | None:
    """A digest of the account's password hash, which every new password changes.

    Signed into each device cookie: changing the password, an admin's reset (which clears
    it) and accepting the invitation that follows all void the account's device cookies,
    with no list of devices to keep (so does the rare rehash after the hashing parameters
    change: the owner's devices are trusted again from their next sign-in). The digest
    does not show the hash, whose salt would be needed to test a guess.
    """
    if not user.password_hash:
        return None
    return hashlib.sha256(f"device:{user.password_hash}".encode()).hexdigest()[:32]


def _device_entries(cookie: str | None) -> list[list]:
    """The [user id, nonce, password mark, issued at] entries of a genuine device cookie."""
    if not cookie:
        return []
    try:
        data = _device_serializer().loads(cookie)
    except BadData:
        return []
    if not isinstance(data, list):
        return []
    oldest = time.time() - DEVICE_TRUST.total_seconds()
    return [
        entry
        for entry in data
        if isinstance(entry, list)
        and len(entry) == 4
        and type(entry[0]) is int
        and isinstance(entry[1], str)
        and isinstance(entry[2], str)
        and type(entry[3]) is int
        and entry[3] >= oldest
    ]


def trusted_device(cookie: str | None, user: User | None) -> str | None:
    """The nonce of this browser's device cookie for `user`, if it has a valid one."""
    mark = _password_mark(user) if user is not None else None
    if mark is None:
        return None
    for user_id, nonce, entry_mark, __ in _device_entries(cookie):
        if user_id == user.id and hmac.compare_digest(entry_mark, mark):
            return nonce
    return None


def remember_device(user: User, cookie: str | None) -> str:
    """The device cookie to give a browser that has just proved it knows the password.

    A new nonce each time (the device's failure count starts again); the browser's
    entries for other accounts are kept.
    """
    mark = _password_mark(user)
    entries = [entry for entry in _device_entries(cookie) if entry[0] != user.id]
    if mark is not None:
        entries.insert(0, [user.id, secrets.token_urlsafe(16), mark, int(time.time())])
    return _device_serializer().dumps(entries[:MAX_DEVICE_ACCOUNTS])


def authenticate(
    email: str,
    password: str,
    address: str,
    *,
    interface_language: str | None = None,
    device_cookie: str | None = None,
) -> User:
    """Return the user whose credentials these are, recording the attempt.

    `device_cookie` is the browser's device cookie, if any: with a valid one for this
    account the attempt is limited per device, otherwise per account (untrusted devices
    together). `interface_language`, one of the hub's languages chosen on the device
    signing in, is kept on the account: a sign-in is a deliberate POST, unlike the ?lang=
    links.
    """
    email = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == email))
    device = trusted_device(device_cookie, user)
    minutes = int(FAILURE_WINDOW.total_seconds() // 60)
    if _recent_failures(address=address) >= MAX_FAILURES_PER_ADDRESS:
        raise TooManyAttempts(
            _(
                "Too many failed sign-ins. Wait %(minutes)s minutes, or ask an administrator to "
                "help.",
                minutes=minutes,
            )
        )
    if device is not None and _recent_failures(device=device) >= MAX_FAILURES_PER_DEVICE:
        raise TooManyAttempts(
            _(
                "Too many failed sign-ins on this device. Wait %(minutes)s minutes, or ask an "
                "administrator to help.",
                minutes=minutes,
            )
        )
    if device is None and _recent_failures(email=email, device=None) >= MAX_FAILURES_PER_ACCOUNT:
        raise TooManyAttempts(
            _(
                "Too many failed sign-ins for this account from new devices. Sign in on a device "
                "you have signed in with before, wait %(minutes)s minutes, or ask an "
                "administrator to help.",
                minutes=minutes,
            )
        )
    valid = _verify(user.password_hash if user and user.password_hash else _DUMMY_HASH, password)
    succeeded = bool(user and user.password_hash and user.is_active and valid)
    # The attempt is committed whether it succeeds or not: failures must be counted.
    with transaction() as session:
        session.add(LoginAttempt(email=email, address=address, succeeded=succeeded, device=device))
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
