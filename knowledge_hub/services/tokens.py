"""Personal API tokens: created and revoked by their owner (or an admin), stored hashed."""

from __future__ import annotations

import hashlib
import secrets

from flask_babel import gettext as _
from sqlalchemy import select

from knowledge_hub import access
from knowledge_hub.extensions import db
from knowledge_hub.models import ApiToken
from knowledge_hub.models import User
from knowledge_hub.models.base import utcnow
from knowledge_hub.services import Invalid
from knowledge_hub.services import NotFound
from knowledge_hub.services import audit
from knowledge_hub.services import transaction

#: Marks the hub's tokens, so that a leaked one is recognized by secret scanners.
TOKEN_PREFIX = "hub_"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _may_manage(actor: User | None, owner: User) -> None:
    if actor is None or (actor.id != owner.id and not access.can(actor, "manage_users")):
        raise access.NotAllowed(_("Only its owner manages a personal token."))


def create_token(actor: User | None, owner: User, name: str) -> tuple[ApiToken, str]:
    """Make a token for owner; the secret is returned here once and never stored."""
    _may_manage(actor, owner)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid(_("Give the token a name of at most 100 characters."), {"name": "length"})
    if not owner.is_active:
        raise Invalid(_("This account is disabled."))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 32 random bytes
    with transaction() as session:
        token = ApiToken(
            user_id=owner.id, name=name, token_hash=hash_secret(secret), prefix=secret[:12]
        )
        session.add(token)
        session.flush()
        audit(actor, "create_token", owner, token_id=token.id, name=name)
    return token, secret


def revoke_token(actor: User | None, token_id: int) -> ApiToken:
    """Revoke a token for good; requests carrying it are refused from now on."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(_("There is no such token."))
    _may_manage(actor, token.user)
    with transaction():
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            audit(actor, "revoke_token", token.user, token_id=token.id, name=token.name)
    return token


def authenticate(secret: str) -> User | None:
    """The active user an unrevoked token belongs to, noting when it was used."""
    token = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_secret(secret), ApiToken.revoked_at.is_(None)
        )
    )
    if token is None or not token.user.is_active:
        return None
    now = utcnow()
    # Written at most once a minute, so that a busy script does not write on every call.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        with transaction():
            token.last_used_at = now
    return token.user
