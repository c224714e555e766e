"""`hub send-mail`, `hub invite` and `hub send-alerts`: the mail queue and what fills it."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from knowledge_hub.cli.terminal import fail
from knowledge_hub.services import ServiceError
from knowledge_hub.services import alerts
from knowledge_hub.services import mail
from knowledge_hub.services import users


@click.command("send-mail")
@click.option("--limit", type=int, default=None, help="Send at most this many messages.")
@click.option("--retry-failed", is_flag=True, help="First put failed messages back in the queue.")
@with_appcontext
def send_mail_command(limit: int | None, retry_failed: bool) -> None:
    """Send the queued mail, then exit (run it from a scheduler)."""
    if retry_failed:
        click.echo(f"Messages put back in the queue: {mail.retry_failed()}.")
    report = mail.send_queued(limit=limit, echo=click.echo)
    click.echo(report.line())
    if report.stopped:
        raise SystemExit(1)


@click.command("invite")
@click.argument("email")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="member, staff, translator, reviewer or admin; repeatable.",
)
@click.option("--name", default="", help="The person's name (default: the address).")
@click.option("--organization", help="Acronym of the person's organization.")
@with_appcontext
def invite_command(email: str, roles: tuple[str, ...], name: str, organization: str | None) -> None:
    """Create an account and queue the invitation that lets its owner set a password."""
    try:
        invitation = users.invite_user(
            users.system_user(), email, name, list(roles), organization, by_mail=True
        )
    except ServiceError as e:
        fail(str(e))
    click.echo(f"Invitation for {invitation.user.email} queued; `hub send-mail` sends it.")
    if not mail.is_configured():
        click.echo("MAIL_SERVER is not set: the message will be written to the log.")


@click.command("send-alerts")
@with_appcontext
def send_alerts_command() -> None:
    """Queue the alerts of the saved searches that are due (then run send-mail)."""
    report = alerts.send_alerts(echo=click.echo)
    click.echo(report.line())
