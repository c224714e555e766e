"""Read-only queries about personal API tokens."""

from __future__ import annotations

from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import ApiToken
from knowledge_hub.models import User


def tokens_of(user: User) -> list[ApiToken]:
    """A user's tokens, newest first, revoked ones included."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )
