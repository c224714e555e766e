"""Saved searches and translation alerts: saved from the search page or a record's page,
confirmed by mail when the address is not an account's, run again at sending time with
the subscriber's visibility then, each new version named once, with one-click unsubscribe
(RFC 8058); received by a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy import update

from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import SavedSearch
from knowledge_hub.models import User
from knowledge_hub.models import Variant
from knowledge_hub.models.base import utcnow
from knowledge_hub.services import alerts
from knowledge_hub.services import mail
from knowledge_hub.services import transaction
from knowledge_hub.services import translations
from knowledge_hub.services import users
from tests.conftest import sign_in
from tests.mailbox import Mailbox
from tests.mailbox import html_of
from tests.mailbox import links_in
from tests.mailbox import text_of

TEXT = {
    "en": "The {word} cooperative of {place} reported on its social and solidarity economy "
    "work with the women of the villages, the local markets and the municipal council.",
    "fr": "La coopérative {word} de {place} a présenté son travail dans l'économie sociale et "
    "solidaire avec les femmes des villages, les marchés locaux et le conseil municipal.",
    "ar": "قدمت التعاونية {word} في {place} تقريرا عن عملها في الاقتصاد الاجتماعي والتضامني "
    "مع نساء القرى والأسواق المحلية والمجلس البلدي.",
}


def record(ref: str, word: str, *, access: str = "public", language: str = "en", title=None):
    return dict(
        ref=ref,
        title=title or f"{word.title()} cooperatives {ref}",
        language=language,
        access=access,
        kind="archive",
        type="meeting-minutes",
        date="2026-11",
        organizations="ILO",
        topics="local-development",
        summary=TEXT[language].format(word=word, place=ref),
        content=TEXT[language].format(word=word, place=ref),
    )


#: Each run of the alerts a week after the one before: every saved search is due.
WEEKS = itertools.count(1)


def approve_version(app: Flask, ref: str, language: str) -> None:
    """A reviewer approves an imported language version, as the translation review does."""
    with app.app_context():
        variant = db.session.scalar(
            select(Variant).join(Document).where(Document.ref == ref, Variant.language == language)
        )
        reviewer = users.system_user()
        translations.attest_translation(reviewer, variant, "second_speaker_review", True, "Read")
        translations.approve(reviewer, variant)


def run_alerts(app: Flask) -> alerts.AlertReport:
    """`hub send-alerts` as it would run a week after the last run, then `hub send-mail`."""
    with app.app_context():
        report = alerts.send_alerts(now=utcnow() + timedelta(weeks=next(WEEKS)))
        mail.send_queued()
    return report


def alerts_to(box: Mailbox, address: str) -> list:
    """The alerts received (confirmation requests left out)."""
    return [m for m in box.to(address) if m["List-Unsubscribe"]]


def save(client: FlaskClient, q: str, **more) -> None:
    response = client.post("/alerts/save", data={"q": q, "frequency": "daily", **more})
    assert response.status_code == 302, response.get_data(as_text=True)
    response.close()


def test_a_saved_search_alerts_once_about_records_released_after_it(
    app: Flask, client: FlaskClient, import_rows, make_user, mailbox: Mailbox
) -> None:
    import_rows([record("OLD-1", "tamarind")])
    email = make_user("member")
    sign_in(client, email)
    page = client.get("/search?q=tamarind").get_data(as_text=True)
    assert 'action="/alerts/save"' in page
    save(client, "tamarind")
    assert "tamarind" in client.get("/alerts/").get_data(as_text=True)
    import_rows([record("NEW-1", "tamarind"), record("NEW-2", "baobab")])
    report = run_alerts(app)
    assert report.alerts == 1 and report.records == 1
    [message] = mailbox.to(email)
    body = text_of(message)
    assert "NEW-1" in body and "OLD-1" not in body and "NEW-2" not in body
    assert message["Content-Language"] == "en"
    # RFC 8058 one-click unsubscribe.
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe in body and unsubscribe in html_of(message)
    reader = app.test_client()
    landing = next(link for link in links_in(message) if "/documents/" in link)
    assert "NEW-1" in reader.get(landing).get_data(as_text=True)
    # Nothing is named twice.
    assert run_alerts(app).alerts == 0
    assert len(mailbox.to(email)) == 1
    # A mail program's one-click unsubscribe: a POST, no form, no session.
    assert reader.get(unsubscribe).status_code == 200
    answer = reader.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    with app.app_context():
        assert db.session.scalars(select(SavedSearch)).all() == []
    assert reader.get(unsubscribe).status_code == 404


def test_an_address_without_an_account_is_confirmed_before_any_alert(
    app: Flask, import_rows, mailbox: Mailbox
) -> None:
    import_rows([record("OLD-1", "tamarind")])
    reader = app.test_client()
    reader.get("/search?q=tamarind&lang=fr")  # the interface in French
    save(reader, "tamarind", email="reader@example.org")
    [confirmation] = mailbox.to("reader@example.org")
    assert confirmation["Content-Language"] == "fr"
    assert "List-Unsubscribe" not in confirmation
    import_rows([record("NEW-1", "tamarind")])
    assert run_alerts(app).alerts == 0  # not confirmed yet
    [link] = [u for u in links_in(confirmation) if "/alerts/confirm/" in u]
    assert 'method="post"' in reader.get(link).get_data(as_text=True)  # a button, not the GET
    # Opened in another browser, the page speaks the mail's language.
    assert '<html lang="fr"' in app.test_client().get(link).get_data(as_text=True)
    assert run_alerts(app).alerts == 0
    assert reader.post(link).status_code == 302
    # The confirmed search names what was released since it was saved.
    assert run_alerts(app).alerts == 1
    [alert] = alerts_to(mailbox, "reader@example.org")
    assert "NEW-1" in text_of(alert)
    assert alert["Content-Language"] == "fr"


def test_a_members_only_record_never_reaches_a_public_subscriber(
    app: Flask, import_rows, make_user, mailbox: Mailbox
) -> None:
    member = make_user("member")
    public_reader = app.test_client()
    save(public_reader, "tamarind", email="public@example.org")
    with app.app_context(), transaction() as session:
        session.execute(update(SavedSearch).values(confirmed_at=utcnow()))
    member_client = app.test_client()
    sign_in(member_client, member)
    save(member_client, "tamarind")
    import_rows([record("MEMBERS-1", "tamarind", access="members"), record("PUBLIC-1", "tamarind")])
    run_alerts(app)
    [to_public] = alerts_to(mailbox, "public@example.org")
    assert "PUBLIC-1" in text_of(to_public)
    assert "MEMBERS-1" not in text_of(to_public) + html_of(to_public)
    [to_member] = mailbox.to(member)
    assert "MEMBERS-1" in text_of(to_member) and "PUBLIC-1" in text_of(to_member)
    # Nor later, once it is out of the subscriber's sight for good.
    run_alerts(app)
    assert all("MEMBERS-1" not in text_of(m) for m in mailbox.to("public@example.org"))


def test_an_account_that_loses_its_membership_stops_seeing_members_records_in_alerts(
    app: Flask, client: FlaskClient, import_rows, make_user, mailbox: Mailbox
) -> None:
    member = make_user("member")
    sign_in(client, member)
    save(client, "tamarind")
    with app.app_context(), transaction() as session:
        session.execute(update(User).where(User.email == member).values(roles=[]))
    import_rows([record("MEMBERS-1", "tamarind", access="members")])
    assert run_alerts(app).alerts == 0
    assert mailbox.to(member) == []


def test_tell_me_when_this_record_is_available_in_arabic(
    app: Flask, criteria: None, client: FlaskClient, import_rows, make_user, mailbox: Mailbox
) -> None:
    import_rows([record("UN-1", "tamarind")])
    with app.app_context():
        document_id = db.session.scalar(select(Document.id).where(Document.ref == "UN-1"))
    email = make_user("member")
    sign_in(client, email)
    page = client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert f'action="/alerts/watch/{document_id}"' in page
    assert '<option value="ar">' in page and '<option value="en">' not in page
    client.get("/?lang=ar")
    response = client.post(f"/alerts/watch/{document_id}", data={"language": "ar"})
    assert response.status_code == 302
    response.close()
    import_rows([record("UN-1", "tamarind", language="fr", title="Coopératives")])
    approve_version(app, "UN-1", "fr")
    assert run_alerts(app).alerts == 0  # French is not what was asked for
    import_rows([record("UN-1", "tamarind", language="ar", title="التعاونيات")])
    assert run_alerts(app).alerts == 0  # not approved yet: readers cannot see it
    approve_version(app, "UN-1", "ar")
    assert run_alerts(app).alerts == 1
    [message] = mailbox.to(email)
    assert message["Content-Language"] == "ar"
    assert 'dir="rtl"' in html_of(message)
    assert "التعاونيات" in text_of(message)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The record's link opens its Arabic version, in Arabic, in any browser.
    [opened] = [u for u in links_in(message) if f"/documents/{document_id}" in u]
    page = app.test_client().get(opened, headers={"Accept-Language": "en"})
    assert '<html lang="ar"' in page.get_data(as_text=True)
    assert "التعاونيات" in page.get_data(as_text=True) and "version=ar" in opened
    # Told once: the alert is done.
    assert run_alerts(app).alerts == 0
    assert "التعاونيات" not in client.get("/alerts/").get_data(as_text=True)


def test_a_new_language_version_of_a_matching_record_is_named_in_the_next_alert(
    app: Flask, criteria: None, client: FlaskClient, import_rows, make_user, mailbox: Mailbox
) -> None:
    email = make_user("member")
    sign_in(client, email)
    save(client, "tamarind")
    import_rows([record("UN-1", "tamarind")])
    assert run_alerts(app).records == 1
    import_rows([record("UN-1", "tamarind", language="fr", title="Tamarin coopératives")])
    approve_version(app, "UN-1", "fr")
    assert run_alerts(app).records == 1
    first, second = mailbox.to(email)
    assert "UN-1" in text_of(first)
    assert "Tamarin coopératives" in text_of(second) and "new language version" in text_of(second)


def test_the_manage_page_changes_and_removes_and_the_admin_sees_counts_only(
    app: Flask, client: FlaskClient, make_user, import_rows
) -> None:
    import_rows([record("OLD-1", "tamarind")])
    sign_in(client, make_user("member"))
    save(client, "tamarind")
    with app.app_context():
        saved_id = db.session.scalar(select(SavedSearch.id))
    client.post(f"/alerts/{saved_id}/frequency", data={"frequency": "weekly"})
    with app.app_context():
        assert db.session.get(SavedSearch, saved_id).frequency.value == "weekly"
    admin = app.test_client()
    sign_in(admin, make_user("admin"))
    page = admin.get("/admin/mail").get_data(as_text=True)
    assert '<th scope="row">Saved searches</th><td>1</td>' in page
    assert "tamarind" not in page
    # Someone else's saved search is not theirs to change.
    assert admin.post(f"/alerts/{saved_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(SavedSearch, saved_id) is not None
    client.post(f"/alerts/{saved_id}/delete")
    with app.app_context():
        assert db.session.get(SavedSearch, saved_id) is None


def test_a_search_that_cannot_run_is_not_saved(app: Flask, client: FlaskClient) -> None:
    response = client.post(
        "/alerts/save", data={"q": "x", "frequency": "daily", "email": "not an address"}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(SavedSearch)).all() == []
