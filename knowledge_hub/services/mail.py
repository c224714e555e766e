"""Mail: queued in the database with the change that causes it, sent by `hub send-mail`.

A message is rendered when it is queued, in its recipient's interface language (plain
text and HTML), and kept as a row of `outgoing_mail` in the caller's transaction: a
change that rolls back sends nothing, and one that commits cannot lose its mail.

Sending claims one message at a time with a conditional UPDATE (state `sending`, this
worker, a lease), commits the claim, talks to the SMTP server, and commits `sent`. So:

- the SMTP server down: the message goes back to `queued` with a back-off, and the run
  stops; after MAX_ATTEMPTS it is `failed`, which the admin page shows;
- a sender killed before or after a message: a claimed message is claimed again once its
  lease runs out, or at once when its worker is seen dead on this machine, and nothing
  committed as `sent` is sent again;
- a sender killed in the one narrow window between the server's "250 accepted" and the
  commit of `sent` leaves a message that may have gone out. It is sent again (rather than
  lost) with the same Message-ID, which mail clients and servers use to drop the copy.
  The window is one SMTP reply and one small commit long.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask import has_request_context
from flask import render_template
from flask import url_for
from flask_babel import force_locale
from flask_mail import Message
from sqlalchemy import and_
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from knowledge_hub.extensions import db
from knowledge_hub.extensions import mail
from knowledge_hub.models import MailState
from knowledge_hub.models import OutgoingMail
from knowledge_hub.models.base import utcnow
from knowledge_hub.services import transaction
from knowledge_hub.services.ocr import alive_here

log = logging.getLogger(__name__)

#: A message that could not be sent this many times is given up (state `failed`).
MAX_ATTEMPTS = 6
#: The first wait after a failed attempt; each further one doubles it.
RETRY_SECONDS = 60.0
#: How long a sender holds a claimed message before another may take it.
LEASE_SECONDS = 300.0


def is_configured() -> bool:
    """Whether mail goes to an SMTP server (else `hub send-mail` writes it to the log)."""
    return bool(current_app.config.get("MAIL_SERVER"))


def link(endpoint: str, opens_in: str | None = None, **values: Any) -> str:
    """An absolute link for a message, built from HUB_PUBLIC_URL when it is set.

    `opens_in`, the message's language: the page opens in it (`?lang=`), whatever the
    browser the recipient reads the mail beside prefers.
    """
    if opens_in in current_app.config["LANGUAGES"]:
        values["lang"] = opens_in
    with _as_if_requested():
        return url_for(endpoint, _external=True, **values)


@contextmanager
def _as_if_requested() -> Iterator[None]:
    """Outside a request (a command), a request to the public address, so that links and
    templates come out as they would in the pages."""
    if has_request_context():
        yield
        return
    config = current_app.config
    base = config.get("PUBLIC_URL") or (
        f"{config.get('PREFERRED_URL_SCHEME', 'http')}://{config['SERVER_NAME']}"
        if config.get("SERVER_NAME")
        else "http://localhost:5000"
    )
    with current_app.test_request_context(base_url=base):
        yield


def queue(
    kind: str,
    recipient: str,
    language: str | None,
    subject: Callable[[], str],
    template: str,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> OutgoingMail:
    """Queue a message in the caller's transaction, rendered in `language`.

    `subject` is called in that language; `template` names mail/<template>.txt and .html.
    """
    languages = current_app.config["LANGUAGES"]
    language = language if language in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
    with _as_if_requested(), force_locale(language):
        rtl = language == "ar"
        message = OutgoingMail(
            message_id=f"<{uuid.uuid4().hex}@{_domain()}>",
            kind=kind,
            recipient=recipient,
            language=language,
            subject=subject()[:300],
            body_text=render_template(f"mail/{template}.txt", **context),
            body_html=render_template(
                f"mail/{template}.html", language=language, rtl=rtl, **context
            ),
            headers=dict(headers or {}),
        )
    session = db.session
    session.add(message)
    session.flush()
    # Read by the web layer: a request that queued mail sends it once it has answered.
    session.info["mail_queued"] = True
    return message


def queued_during_this_request() -> bool:
    """Whether mail was queued since the last call (the web layer sends it at once)."""
    return bool(db.session.info.pop("mail_queued", False))


def _domain() -> str:
    sender = str(current_app.config.get("MAIL_DEFAULT_SENDER") or "")
    return sender.rpartition("@")[2].strip("> ") or "knowledge-hub.invalid"


# --- sending


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    logged_only: bool = False
    stopped: str | None = None

    def line(self) -> str:
        where = "to the log (MAIL_SERVER is not set)" if self.logged_only else "by SMTP"
        text = f"Mail sent {where}: {self.sent}; to retry: {self.retried}; failed: {self.failed}."
        if self.stopped:
            text += f" Stopped: {self.stopped}"
        return text


def send_queued(limit: int | None = None, echo: Callable[[str], None] | None = None) -> SendReport:
    """Send queued messages one at a time until none is due (or `limit` are sent)."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    lease = float(current_app.config.get("MAIL_LEASE_SECONDS", LEASE_SECONDS))
    report = SendReport(logged_only=not is_configured())
    while limit is None or report.sent + report.failed < limit:
        mail_id = claim_next(worker, lease)
        if mail_id is None:
            break
        if not _send_claimed(mail_id, worker, report, echo):
            break  # the server is unreachable: the rest waits for the next run
    return report


def _due() -> Any:
    now = utcnow()
    here = socket.gethostname()
    return or_(
        and_(
            OutgoingMail.state == MailState.QUEUED,
            or_(OutgoingMail.not_before.is_(None), OutgoingMail.not_before <= now),
        ),
        and_(
            OutgoingMail.state == MailState.SENDING,
            or_(
                OutgoingMail.lease_until < now,
                OutgoingMail.worker.startswith(f"{here}:", autoescape=True),
            ),
        ),
    )


def claim_next(worker: str, lease_seconds: float) -> int | None:
    """Claim the oldest message that is due (or whose sender is gone); its id, or None."""
    now = utcnow()
    candidates = db.session.execute(
        select(
            OutgoingMail.id,
            OutgoingMail.state,
            OutgoingMail.worker,
            OutgoingMail.attempts,
            OutgoingMail.lease_until,
        )
        .where(_due())
        .order_by(OutgoingMail.id)
        .limit(50)
    ).all()
    db.session.rollback()  # end the read, so that no snapshot outlives it
    for mail_id, state, holder, attempts, lease_until in candidates:
        if state == MailState.SENDING and lease_until >= now and alive_here(holder):
            continue
        if attempts >= MAX_ATTEMPTS:
            _give_up(mail_id, state, holder, f"Not sent after {attempts} attempts.")
            continue
        # The row is claimed only if nobody changed it since it was read.
        holder_is = (
            OutgoingMail.worker.is_(None) if holder is None else OutgoingMail.worker == holder
        )
        with transaction() as session:
            claimed = session.execute(
                update(OutgoingMail)
                .where(
                    OutgoingMail.id == mail_id,
                    OutgoingMail.state == state,
                    OutgoingMail.attempts == attempts,
                    holder_is,
                )
                .values(
                    state=MailState.SENDING,
                    worker=worker,
                    lease_until=now + timedelta(seconds=lease_seconds),
                    attempts=OutgoingMail.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
        if claimed == 1:
            return mail_id
    return None


def _give_up(mail_id: int, state: MailState, holder: str | None, error: str) -> None:
    with transaction() as session:
        message = session.get(OutgoingMail, mail_id)
        if message is None or message.state != state or message.worker != holder:
            return
        message.state, message.error, message.lease_until = MailState.FAILED, error, None


def as_message(row: OutgoingMail) -> Message:
    """The Flask-Mail message for a queued row, with its fixed Message-ID."""
    message = Message(
        subject=row.subject,
        recipients=[row.recipient],
        body=row.body_text,
        html=row.body_html,
        sender=current_app.config.get("MAIL_DEFAULT_SENDER"),
        extra_headers={"Content-Language": row.language, **row.headers},
    )
    message.msgId = row.message_id
    return message


def _send_claimed(
    mail_id: int, worker: str, report: SendReport, echo: Callable[[str], None] | None
) -> bool:
    """Send one claimed message and record the outcome; False if the server is unreachable."""
    row = db.session.get(OutgoingMail, mail_id)
    assert row is not None
    message = as_message(row)
    recipient, kind = row.recipient, row.kind
    db.session.rollback()
    error: str | None = None
    permanent = reachable = True
    if report.logged_only:
        log.info("mail (MAIL_SERVER not set) to %s:\n%s", recipient, message.as_string())
    else:
        try:
            mail.send(message)
        except smtplib.SMTPRecipientsRefused as e:
            error = f"The server refused the address: {e.recipients}"
        except smtplib.SMTPResponseException as e:
            error, permanent = f"SMTP {e.smtp_code}: {e.smtp_error!r}", e.smtp_code >= 500
        except (OSError, smtplib.SMTPException) as e:
            error, permanent, reachable = f"The mail server could not be reached: {e}", False, False
    with transaction() as session:
        row = session.get(OutgoingMail, mail_id)
        if row is None or row.state != MailState.SENDING or row.worker != worker:
            return True
        row.lease_until = None
        if error is None:
            row.state, row.sent_at, row.error = MailState.SENT, utcnow(), None
            row.is_logged_only = report.logged_only
            report.sent += 1
            line = f"sent: {kind} to {recipient}"
        elif permanent or row.attempts >= MAX_ATTEMPTS:
            row.state, row.error = MailState.FAILED, error
            report.failed += 1
            line = f"failed: {kind} to {recipient}: {error}"
        else:
            retry = float(current_app.config.get("MAIL_RETRY_SECONDS", RETRY_SECONDS))
            row.state, row.error, row.worker = MailState.QUEUED, error, None
            row.not_before = utcnow() + timedelta(seconds=retry * 2 ** (row.attempts - 1))
            report.retried += 1
            line = f"will retry: {kind} to {recipient}: {error}"
    if echo is not None:
        echo(line)
    if not reachable:
        report.stopped = error
    return reachable


def retry_failed() -> int:
    """Put every failed message back in the queue, its attempts counted afresh."""
    with transaction() as session:
        return session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.state == MailState.FAILED)
            .values(state=MailState.QUEUED, attempts=0, not_before=None)
            .execution_options(synchronize_session=False)
        ).rowcount
