"""Saved searches and translation alerts: saving them, confirming an address, the
alerts `hub send-alerts` queues, unsubscribing.

A saved search keeps what was typed (words and filters), never results. At each alert it
is run again through the search interface with the subscriber's visibility at that
moment (an account's roles and organization then, or an anonymous reader's), so a
members-only record never reaches someone who may not read it, whenever it was released.

What is new: records released, and language versions made or approved, after the search
was saved (`since`, `since_variant_id`). Each version an alert names is recorded
(AlertDelivery) in the transaction that queues the alert, so a run that stops halfway or
runs twice names nothing twice, and one that did not run for a week misses nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from knowledge_hub import access
from knowledge_hub import i18n
from knowledge_hub import search
from knowledge_hub.extensions import db
from knowledge_hub.models import AlertDelivery
from knowledge_hub.models import AlertFrequency
from knowledge_hub.models import AuditEvent
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import SavedSearch
from knowledge_hub.models import User
from knowledge_hub.models import Variant
from knowledge_hub.models import VariantStatus
from knowledge_hub.models.base import utcnow
from knowledge_hub.search import FACET_FIELDS
from knowledge_hub.search import BadQuery
from knowledge_hub.search import SearchRequest
from knowledge_hub.services import NotFound
from knowledge_hub.services import invalid
from knowledge_hub.services import mail
from knowledge_hub.services import transaction
from knowledge_hub.services.users import EMAIL

#: How many saved searches waiting for confirmation one address may have: the form
#: must not be a way to send anyone a stream of confirmation requests.
UNCONFIRMED_PER_ADDRESS = 3
#: How many records one alert lists at most; the search link shows them all.
MAX_ITEMS = 50
#: The widest search an alert runs (the search's own result window).
SEARCH_WINDOW = 10_000

FREQUENCIES: Mapping[AlertFrequency, timedelta] = {
    AlertFrequency.DAILY: timedelta(days=1),
    AlertFrequency.WEEKLY: timedelta(days=7),
}


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def _since_variant_id() -> int:
    return db.session.scalar(select(func.max(Variant.id))) or 0


def _frequency(value: str) -> AlertFrequency:
    try:
        return AlertFrequency(value)
    except ValueError:
        raise invalid("frequency", _("Choose daily or weekly alerts.")) from None


def _subscriber_address(actor: User | None, email: str | None) -> tuple[str, bool]:
    """The address alerts go to, and whether it is already confirmed (an account's)."""
    if actor is not None and actor.is_authenticated:
        return actor.email, True
    address = (email or "").strip().lower()
    if not EMAIL.fullmatch(address) or len(address) > 320:
        raise invalid("email", _("Give the e-mail address the alerts should go to."))
    return address, False


def save_search(
    actor: User | None,
    email: str | None,
    q: str,
    filters: Mapping[str, Sequence[str]],
    frequency: str,
    language: str,
) -> SavedSearch:
    """Save a search for alerts. An account's own address is used at once; any other
    address is sent a confirmation link first and gets no alert until it is followed."""
    chosen = _frequency(frequency)
    clean = {k: [str(v) for v in values][:20] for k, values in filters.items() if values}
    if set(clean) - set(FACET_FIELDS) or len(q) > 1000:
        raise invalid("q", _("This search cannot be saved."))
    try:
        # A search that cannot be run cannot be alerted on: say so now, not never.
        search.search(search.get_index(), access.visible_levels(None), _request(q, clean, 1))
    except BadQuery as e:
        raise invalid("q", str(e)) from e
    name = describe(q, clean)
    return _subscribe(actor, email, language, name=name, query=q, filters=clean, frequency=chosen)


def watch_translation(
    actor: User | None, email: str | None, document_id: int, wanted: str, language: str
) -> SavedSearch:
    """Ask to be told when a record is available in a language."""
    document = db.session.scalar(
        select(Document).where(Document.id == document_id, access.visible_to(actor))
    )
    if document is None or document.status != DocumentStatus.RELEASED:
        raise NotFound(_("There is no such record."))
    if wanted not in current_app.config["LANGUAGES"]:
        raise invalid("language", _("Choose one of the six languages."))
    if any(v.language.split("-")[0] == wanted for v in _available(actor, document)):
        raise invalid("language", _("This record is already available in that language."))
    original = next((v for v in document.variants if v.is_original), document.variants[0])
    return _subscribe(
        actor,
        email,
        language,
        name=original.title[:300],
        frequency=AlertFrequency.DAILY,
        document_id=document.id,
        awaited_language=wanted,
    )


def _available(viewer: User | None, document: Document) -> list[Variant]:
    """The released language versions of a record that viewer may read."""
    return [
        v
        for v in document.variants
        if v.status == VariantStatus.APPROVED and access.can_see(viewer, document, v)
    ]


def _subscribe(actor: User | None, email: str | None, language: str, **fields) -> SavedSearch:
    with transaction() as session:
        address, confirmed = _subscriber_address(actor, email)
        if not confirmed:
            waiting = session.scalar(
                select(func.count()).where(
                    SavedSearch.email == address,
                    SavedSearch.user_id.is_(None),
                    SavedSearch.confirmed_at.is_(None),
                )
            )
            if waiting >= UNCONFIRMED_PER_ADDRESS:
                raise invalid(
                    "email",
                    _(
                        "This address has alerts waiting for confirmation: "
                        "follow the link sent to it first."
                    ),
                )
        now = utcnow()
        saved = SavedSearch(
            user_id=actor.id if confirmed else None,
            email=address,
            language=language,
            token=_new_token(),
            confirmed_at=now if confirmed else None,
            since=now,
            since_variant_id=_since_variant_id(),
            next_due_at=now + FREQUENCIES[fields["frequency"]],
            **fields,
        )
        session.add(saved)
        session.flush()
        if not confirmed:
            mail.queue(
                "confirm",
                address,
                language,
                lambda: _("Confirm your alerts from the UNTFSSE Knowledge Hub"),
                "confirm",
                name=saved.name,
                url=mail.link("alerts.confirm", language, token=saved.token),
            )
        return saved


def confirm(token: str) -> SavedSearch:
    """Confirm the address of a saved search (its alerts start from now)."""
    with transaction() as session:
        saved = session.scalar(select(SavedSearch).where(SavedSearch.token == token))
        if saved is None:
            raise NotFound(_("This link is not valid any more: the alert was removed."))
        if saved.confirmed_at is None:
            saved.confirmed_at = utcnow()
        return saved


def unsubscribe(token: str) -> bool:
    """Remove the saved search the link names; False if it was already gone."""
    with transaction() as session:
        saved = session.scalar(select(SavedSearch).where(SavedSearch.token == token))
        if saved is None:
            return False
        session.delete(saved)
        return True


def _owned(actor: User, saved_id: int) -> SavedSearch:
    saved = db.session.get(SavedSearch, saved_id)
    if saved is None or saved.user_id != actor.id:
        raise NotFound(_("There is no such saved search."))
    return saved


def change_frequency(actor: User, saved_id: int, frequency: str) -> SavedSearch:
    with transaction():
        saved = _owned(actor, saved_id)
        saved.frequency = _frequency(frequency)
        saved.next_due_at = min(saved.next_due_at, utcnow() + FREQUENCIES[saved.frequency])
        return saved


def delete(actor: User, saved_id: int) -> None:
    with transaction() as session:
        session.delete(_owned(actor, saved_id))


def describe(q: str, filters: Mapping[str, Sequence[str]]) -> str:
    """A saved search's name: its words, then its filters."""
    parts = [q.strip()] if q.strip() else []
    parts += [f"{k}: {', '.join(v)}" for k, v in sorted(filters.items())]
    return ("; ".join(parts) or "*")[:300]


def _request(q: str, filters: Mapping[str, Sequence[str]], per_page: int) -> SearchRequest:
    return SearchRequest(q=q, per_page=per_page, filters=dict(filters), sort="relevance")


# --- sending alerts


@dataclass
class AlertReport:
    checked: int = 0
    alerts: int = 0
    records: int = 0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"Saved searches checked: {self.checked}; alerts queued: {self.alerts} "
            f"(records named: {self.records})."
        )


def send_alerts(
    now: datetime | None = None, echo: Callable[[str], None] | None = None
) -> AlertReport:
    """Queue an alert for every confirmed saved search that is due and has something new."""
    now = now or utcnow()
    report = AlertReport()
    due = db.session.scalars(
        select(SavedSearch.id)
        .where(
            SavedSearch.next_due_at <= now,
            SavedSearch.confirmed_at.is_not(None),
            SavedSearch.is_done.is_(False),
        )
        .order_by(SavedSearch.id)
    ).all()
    for saved_id in due:
        # One transaction per saved search: the alert, what it names, and when next.
        with transaction() as session:
            saved = session.get(SavedSearch, saved_id)
            if saved is None or saved.next_due_at > now:
                continue  # removed, or done by a run at the same time
            report.checked += 1
            named = _alert(saved)
            saved.last_checked_at = now
            saved.next_due_at = now + FREQUENCIES[saved.frequency]
            if named:
                report.alerts += 1
                report.records += named
                if echo is not None:
                    echo(f"alert: {saved.email}: {saved.name} ({named})")
    return report


def subscriber(saved: SavedSearch) -> User | None:
    """Whose eyes the search is run with: the account as it is now, or anyone's."""
    if saved.user_id is None:
        return None
    user = db.session.get(User, saved.user_id)
    return user if user is not None and user.is_active else None


def new_versions(saved: SavedSearch, viewer: User | None) -> list[Variant]:
    """The released language versions the saved search has not named yet and that are
    new since it was saved, as `viewer` may see them now, record by record."""
    delivered = select(AlertDelivery.variant_id).where(AlertDelivery.saved_search_id == saved.id)
    approved_since = select(AuditEvent.object_id).where(
        AuditEvent.action == "approve_translation", AuditEvent.at >= saved.since
    )
    stmt = (
        select(Variant)
        .join(Document)
        .where(
            access.visible_to(viewer),
            Document.status == DocumentStatus.RELEASED,
            Variant.status == VariantStatus.APPROVED,
            or_(
                Document.released_at >= saved.since,
                Variant.id > saved.since_variant_id,
                Variant.id.in_(approved_since),
            ),
            Variant.id.not_in(delivered),
        )
        .options(selectinload(Variant.document))
        .order_by(Variant.document_id, Variant.id)
    )
    if saved.document_id is not None:
        stmt = stmt.where(Variant.document_id == saved.document_id)
    candidates = [v for v in db.session.scalars(stmt) if access.can_see(viewer, v.document, v)]
    if saved.document_id is not None:
        wanted = saved.awaited_language or ""
        return [v for v in candidates if v.language.split("-")[0] == wanted]
    if not candidates:
        return []
    result = search.search(
        search.get_index(),
        access.visible_levels(viewer),
        _request(saved.query, saved.filters, SEARCH_WINDOW),
        seconds=None,
    )
    matched = {i for hit in result.hits for i in (hit.matched_variant_ids or (hit.variant_id,))}
    return [v for v in candidates if v.id in matched]


def _alert(saved: SavedSearch) -> int:
    """Queue the alert of one saved search if it has anything new; how many records."""
    viewer = subscriber(saved)
    if saved.user_id is not None and viewer is None:
        return 0  # a disabled account is sent nothing
    versions = new_versions(saved, viewer)
    if not versions:
        return 0
    records: dict[int, list[Variant]] = {}
    for variant in versions:
        records.setdefault(variant.document_id, []).append(variant)
    listed = list(records.items())[:MAX_ITEMS]
    named_before = set(
        db.session.scalars(
            select(Variant.document_id)
            .join(AlertDelivery, AlertDelivery.variant_id == Variant.id)
            .where(AlertDelivery.saved_search_id == saved.id)
        )
    )
    language = _language_of(saved, viewer)
    translation = saved.document_id is not None
    unsubscribe_link = mail.link("alerts.unsubscribe", language, token=saved.token)
    items = [
        {
            "title": variants[0].title,
            "url": mail.link(
                "documents.landing",
                language,
                document_id=document_id,
                # "Now in Arabic" opens the Arabic version.
                version=saved.awaited_language if translation else None,
            ),
            "languages": [v.language for v in variants],
            # A record named before, or released before the search was saved, has a
            # new language version; any other is a new record.
            "new_record": document_id not in named_before
            and variants[0].document.released_at >= saved.since,
        }
        for document_id, variants in listed
    ]
    message = mail.queue(
        "alert",
        saved.email,
        language,
        (lambda: _("Now in %(language)s: %(title)s", language=_name(saved), title=saved.name))
        if translation
        else (
            lambda: ngettext(
                "%(num)d new record for “%(search)s”",
                "%(num)d new records for “%(search)s”",
                len(records),
                search=saved.name,
            )
        ),
        "translation" if translation else "alert",
        headers={
            "List-Unsubscribe": f"<{unsubscribe_link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        name=saved.name,
        items=items,
        more=max(0, len(records) - MAX_ITEMS),
        language_name=_name(saved) if translation else "",
        search_url=None
        if translation
        else mail.link("public.search", language, q=saved.query or None, **saved.filters),
        manage_url=mail.link("alerts.index", language) if saved.user_id else None,
        unsubscribe_url=unsubscribe_link,
    )
    for variant in versions:
        db.session.add(
            AlertDelivery(saved_search_id=saved.id, variant_id=variant.id, mail_id=message.id)
        )
    if translation:
        saved.is_done = True  # told once: the version is there
    return len(records)


def _name(saved: SavedSearch) -> str:
    return i18n.language_name(saved.awaited_language or "", _language_of(saved, None))


def _language_of(saved: SavedSearch, viewer: User | None) -> str:
    return (viewer.interface_language if viewer else None) or saved.language
