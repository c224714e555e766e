"""Mail waiting to go out, and what people asked to be told about by mail."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from knowledge_hub.models.base import db
from knowledge_hub.models.base import str_enum
from knowledge_hub.models.base import utcnow


class MailState(enum.StrEnum):
    QUEUED = "queued"
    #: Claimed by a sender until `lease_until`: the SMTP conversation may be under way.
    SENDING = "sending"
    SENT = "sent"
    #: Given up after MAX_ATTEMPTS; shown to administrators, sent again only by hand.
    FAILED = "failed"


class OutgoingMail(db.Model):
    """One message, rendered in its recipient's language when it was queued.

    It is queued in the transaction of the change that causes it, so a change that rolls
    back sends nothing; `hub send-mail` sends it later. The Message-ID is fixed here, so
    a message sent again after a crash is recognisably the same message.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    #: What it is: invitation, reset, confirm, alert.
    kind: Mapped[str] = mapped_column(String(20), index=True)
    recipient: Mapped[str] = mapped_column(String(320), index=True)
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    #: Extra headers (List-Unsubscribe and its one-click partner for alerts).
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[MailState] = mapped_column(
        str_enum(MailState), default=MailState.QUEUED, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    #: Who holds a message being sent ("host:pid"), and until when.
    worker: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    #: Not tried again before this (the back-off after a failed attempt).
    not_before: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    #: Sent to the log rather than a server (no MAIL_SERVER was set).
    is_logged_only: Mapped[bool] = mapped_column(default=False)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<OutgoingMail {self.id} {self.kind} {self.state}>"


class AlertFrequency(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


class SavedSearch(db.Model):
    """A search someone asked to be told about, or one record awaited in one language.

    The search is kept as it was typed (words and filters) and run again at each alert
    with the subscriber's visibility at that moment, never the one they had when saving.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    #: Where alerts go: the account's address, or the one a reader without one confirmed.
    email: Mapped[str] = mapped_column(String(320), index=True)
    #: The interface language the alerts are written in.
    language: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(300))
    query: Mapped[str] = mapped_column(String(1000), default="")
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    frequency: Mapped[AlertFrequency] = mapped_column(
        str_enum(AlertFrequency), default=AlertFrequency.WEEKLY
    )
    #: For a translation alert: the record and the language awaited (the search is unused).
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), index=True
    )
    awaited_language: Mapped[str | None] = mapped_column(String(16))
    #: The secret in its unsubscribe and confirmation links.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the address was confirmed (at once for an account's own address).
    confirmed_at: Mapped[datetime | None]
    #: What counts as new: records released, and versions made, after this moment.
    since: Mapped[datetime] = mapped_column(default=utcnow)
    #: The highest language-version id when the search was saved: later ones are new.
    since_variant_id: Mapped[int] = mapped_column(default=0)
    last_checked_at: Mapped[datetime | None]
    next_due_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    is_done: Mapped[bool] = mapped_column(default=False)

    def __repr__(self) -> str:
        return f"<SavedSearch {self.id} {self.name!r}>"


class AlertDelivery(db.Model):
    """A language version an alert has told a saved search about: never told twice."""

    __table_args__ = (UniqueConstraint("saved_search_id", "variant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    saved_search_id: Mapped[int] = mapped_column(
        ForeignKey("saved_search.id", ondelete="CASCADE"), index=True
    )
    variant_id: Mapped[int] = mapped_column(index=True)  # no FK: the record may go
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_mail.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<AlertDelivery {self.saved_search_id} {self.variant_id}>"
