"""Reads about mail and alerts: the queue's counts, and a person's saved searches.

Administrators see how many messages and saved searches there are, never what they say.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import MailState
from knowledge_hub.models import OutgoingMail
from knowledge_hub.models import SavedSearch
from knowledge_hub.models import User


@dataclass(frozen=True)
class MailStatus:
    configured: bool
    server: str | None
    #: Messages in each state: queued, sending, sent, failed.
    messages: dict[str, int]
    #: Saved searches: {"search": n, "translation": n, "unconfirmed": n}.
    subscriptions: dict[str, int]


def mail_status() -> MailStatus:
    """Whether mail is configured, and how many messages and saved searches there are."""
    config = current_app.config
    rows = db.session.execute(
        select(OutgoingMail.state, func.count()).group_by(OutgoingMail.state)
    ).all()
    found = {MailState(state).value: n for state, n in rows}
    live = SavedSearch.is_done.is_(False)
    count = db.session.scalar
    subscriptions = {
        "search": count(select(func.count()).where(live, SavedSearch.document_id.is_(None))),
        "translation": count(
            select(func.count()).where(live, SavedSearch.document_id.is_not(None))
        ),
        "unconfirmed": count(select(func.count()).where(live, SavedSearch.confirmed_at.is_(None))),
    }
    server = config.get("MAIL_SERVER")
    return MailStatus(
        configured=bool(server),
        server=f"{server}:{config.get('MAIL_PORT')}" if server else None,
        messages={state.value: found.get(state.value, 0) for state in MailState},
        subscriptions={k: v or 0 for k, v in subscriptions.items()},
    )


def saved_searches(user: User) -> list[SavedSearch]:
    """An account's saved searches and translation alerts, newest first."""
    return list(
        db.session.scalars(
            select(SavedSearch)
            .where(SavedSearch.user_id == user.id, SavedSearch.is_done.is_(False))
            .order_by(SavedSearch.created_at.desc(), SavedSearch.id.desc())
        )
    )


def saved_search_by_token(token: str) -> SavedSearch | None:
    """The saved search an unsubscribe or confirmation link names."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(SavedSearch).where(SavedSearch.token == token))
