"""Mail: queued with the change that causes it, sent by `hub send-mail` to a real SMTP
server (aiosmtpd on a free port), in the recipient's language; invitations and
"Forgot your password?" links that work once; nothing lost while the server is down,
nothing sent twice when the sender is killed."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy import update

from knowledge_hub.extensions import db
from knowledge_hub.models import MailState
from knowledge_hub.models import OutgoingMail
from knowledge_hub.models import User
from knowledge_hub.services import mail
from knowledge_hub.services import transaction
from knowledge_hub.services import users
from tests.conftest import sign_in
from tests.mailbox import Mailbox
from tests.mailbox import html_of
from tests.mailbox import links_in
from tests.mailbox import text_of
from tests.server import PROJECT_ROOT
from tests.server import environment

NEW_PASSWORD = "a brand new long password"


def queued(app: Flask) -> list[OutgoingMail]:
    with app.app_context():
        rows = db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)).all()
        db.session.expunge_all()
        return list(rows)


def set_language(app: Flask, email: str, language: str) -> None:
    with app.app_context(), transaction() as session:
        session.execute(update(User).where(User.email == email).values(interface_language=language))


def test_an_invitation_is_mailed_in_the_invitees_language_and_its_link_works_once(
    app: Flask, client: FlaskClient, make_user, mailbox: Mailbox
) -> None:
    admin = make_user("admin")
    sign_in(client, admin)
    response = client.post(
        "/admin/users/invite",
        data={"email": "invitee@hub.test", "name": "Invitee", "roles": ["member"]},
    )
    assert response.status_code == 302  # the link is mailed, not shown
    assert mailbox.messages == []
    response.close()  # as a WSGI server does once the response is sent
    assert "/auth/invitation/" not in client.get(response.location).get_data(as_text=True)
    # Sent when the response was done.
    [message] = mailbox.to("invitee@hub.test")
    assert message["Subject"] == "Invitation to the UNTFSSE Knowledge Hub"
    assert message["Content-Language"] == "en"
    assert message["Message-ID"] == queued(app)[0].message_id
    assert "Invitee" in text_of(message) and "Invitee" in html_of(message)
    [link] = links_in(message)
    assert link.startswith("http://hub.test/auth/invitation/")
    reader = app.test_client()
    assert reader.get(link).status_code == 200
    assert (
        reader.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code
        == 302
    )
    sign_in(app.test_client(), "invitee@hub.test", NEW_PASSWORD)
    assert reader.get(link).status_code == 410
    assert [m.state for m in queued(app)] == [MailState.SENT]


def test_hub_invite_queues_the_invitation_and_send_mail_sends_it(
    app: Flask, runner, mailbox: Mailbox
) -> None:
    result = runner.invoke(args=["hub", "invite", "cli@hub.test", "--role", "staff", "--name", "C"])
    assert result.exit_code == 0, result.output
    assert mailbox.messages == []  # queued, not sent
    result = runner.invoke(args=["hub", "send-mail"])
    assert result.exit_code == 0, result.output
    assert "sent: 1" in result.output.lower().replace("by smtp: 1", "sent: 1")
    [message] = mailbox.to("cli@hub.test")
    assert "staff" in text_of(message)
    assert app.test_client().get(links_in(message)[0]).status_code == 200


def test_forgot_password_mails_a_link_in_the_accounts_language_and_never_says_who_exists(
    app: Flask, make_user, mailbox: Mailbox
) -> None:
    email = make_user("member")
    set_language(app, email, "fr")
    client = app.test_client()
    assert client.get("/auth/login").get_data(as_text=True).count("/auth/forgot") == 1
    known = client.post("/auth/forgot", data={"email": email})
    unknown = client.post("/auth/forgot", data={"email": "nobody@hub.test"})
    assert known.status_code == unknown.status_code == 200
    strip = lambda r, a: r.get_data(as_text=True).replace(a, "")  # noqa: E731
    assert strip(known, email) == strip(unknown, "nobody@hub.test")
    known.close()  # the queued link goes out once the response is sent
    [message] = mailbox.messages
    assert message["To"] == email
    assert message["Content-Language"] == "fr"
    assert "mot de passe" in message["Subject"]
    [link] = links_in(message)
    reader = app.test_client()
    opened = reader.get(link, headers={"Accept-Language": "en"})
    assert opened.status_code == 200 and '<html lang="fr"' in opened.get_data(as_text=True)
    reply = reader.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert reply.status_code == 302
    sign_in(app.test_client(), email, NEW_PASSWORD)
    assert reader.get(link).status_code == 410  # used once


def test_asking_for_a_reset_locks_nobody_out_and_signing_in_voids_the_link(
    app: Flask, make_user, mailbox: Mailbox
) -> None:
    email = make_user("member")
    asked = app.test_client().post("/auth/forgot", data={"email": email})
    asked.close()
    [link] = links_in(mailbox.messages[0])
    # Whoever asked, the owner still signs in with the old password, and the link that
    # was not used then stops working (it is bound to the sessions' token).
    sign_in(app.test_client(), email)
    assert app.test_client().get(link).status_code == 410


def test_reset_links_are_limited_per_address_and_expire(app: Flask, make_user) -> None:
    email = make_user("member")
    client = app.test_client()
    for __ in range(5):
        client.post("/auth/forgot", data={"email": email})
    rows = queued(app)
    assert len(rows) == users.RESETS_PER_ADDRESS
    token = urlsplit(links_in_text(rows[0].body_text)[0]).path.rsplit("/", 1)[1]
    assert client.get(f"/auth/reset/{token}").status_code == 200

    class AnHourAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - users.RESET_MAX_AGE.total_seconds() - 60)

    with app.app_context():
        data = users._reset_serializer().loads(token)
    old = URLSafeTimedSerializer("test", salt=users._RESET_SALT, signer=AnHourAgo).dumps(data)
    expired = client.get(f"/auth/reset/{old}")
    assert expired.status_code == 410
    assert "expired" in expired.get_data(as_text=True)


def links_in_text(text: str) -> list[str]:
    import re

    return re.findall(r"https?://\S+", text)


def test_mail_waits_while_the_server_is_down_and_goes_out_when_it_returns(
    app: Flask, runner, mailbox: Mailbox
) -> None:
    for n in range(3):
        assert (
            runner.invoke(args=["hub", "invite", f"p{n}@hub.test", "--role", "member"]).exit_code
            == 0
        )
    mailbox.stop()
    result = runner.invoke(args=["hub", "send-mail"])
    assert result.exit_code == 1
    assert "could not be reached" in result.output
    rows = queued(app)
    assert [r.state for r in rows] == [MailState.QUEUED] * 3
    assert rows[0].attempts == 1 and rows[0].error  # the run stopped at the first
    mailbox.start()
    result = runner.invoke(args=["hub", "send-mail"])
    assert result.exit_code == 0, result.output
    assert sorted(str(m["To"]) for m in mailbox.messages) == [f"p{n}@hub.test" for n in range(3)]
    assert [r.state for r in queued(app)] == [MailState.SENT] * 3


def test_a_message_refused_for_good_is_failed_and_shown_to_the_admin(
    app: Flask, client: FlaskClient, make_user, runner, mailbox: Mailbox
) -> None:
    runner.invoke(args=["hub", "invite", "x@hub.test", "--role", "member"])
    with app.app_context(), transaction() as session:
        session.execute(update(OutgoingMail).values(attempts=mail.MAX_ATTEMPTS))
    runner.invoke(args=["hub", "send-mail"])
    assert [r.state for r in queued(app)] == [MailState.FAILED]
    sign_in(client, make_user("admin"))
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "Mail is sent through 127.0.0.1" in page
    assert '<th scope="row">Failed</th><td>1</td>' in page
    result = runner.invoke(args=["hub", "send-mail", "--retry-failed"])
    assert result.exit_code == 0 and mailbox.to("x@hub.test")


def test_without_a_mail_server_mail_goes_to_the_log_and_the_admin_pages_say_so(
    app: Flask, client: FlaskClient, make_user, runner, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["MAIL_SERVER"] = None
    sign_in(client, make_user("admin"))
    assert "Mail is not configured" in client.get("/admin/mail").get_data(as_text=True)
    page = client.get("/admin/users/invite").get_data(as_text=True)
    assert "Mail is not configured" in page
    # The copy-once link stays.
    response = client.post(
        "/admin/users/invite", data={"email": "copy@hub.test", "name": "C", "roles": ["member"]}
    )
    assert "http://hub.test/auth/invitation/" in response.get_data(as_text=True)
    assert queued(app) == []
    runner.invoke(args=["hub", "invite", "logged@hub.test", "--role", "member"])
    with caplog.at_level("INFO", logger="knowledge_hub.services.mail"):
        result = runner.invoke(args=["hub", "send-mail"])
    assert "to the log" in result.output
    assert "logged@hub.test" in caplog.text
    [row] = queued(app)
    assert row.state == MailState.SENT and row.is_logged_only


@pytest.mark.slow
@pytest.mark.parametrize("nth", [3, 4, 6])
def test_a_sender_killed_mid_batch_then_run_again_sends_each_message_exactly_once(
    app: Flask, runner, mailbox: Mailbox, nth: int
) -> None:
    count = 5
    for n in range(count):
        assert (
            runner.invoke(args=["hub", "invite", f"k{n}@hub.test", "--role", "member"]).exit_code
            == 0
        )
    config = {**app.config}
    env = {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(mailbox.port),
        "MAIL_DEFAULT_SENDER": "hub@hub.test",
    }
    # The claim of a message and its `sent` are each a commit: killed after the nth
    # commit, the sender dies between messages or with one claimed and not yet sent.
    crashed = run_with_env(config, env, "after-commit", str(nth), "hub", "send-mail")
    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    assert 0 < len(mailbox.messages) < count
    again = run_with_env(config, env, "hub", "send-mail")
    assert again.returncode == 0, again.stdout + again.stderr
    received = Counter(str(m["To"]) for m in mailbox.messages)
    assert received == Counter({f"k{n}@hub.test": 1 for n in range(count)})
    assert len({m["Message-ID"] for m in mailbox.messages}) == count
    assert [r.state for r in queued(app)] == [MailState.SENT] * count


def run_with_env(config: dict, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`flask --app app hub ...`, or `python -m tests.crashing STEP N hub ...`, with the
    mail settings in its environment."""
    command = [sys.executable, "-m"]
    command += ["flask", "--app", "app", *args] if args[0] == "hub" else ["tests.crashing", *args]
    return subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=environment(config, **env),
        capture_output=True,
        text=True,
    )
