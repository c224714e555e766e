"""`hub create-user` and `hub create-token`: accounts and personal API tokens."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from knowledge_hub.cli.terminal import fail
from knowledge_hub.queries import admin as admin_queries
from knowledge_hub.services import ServiceError
from knowledge_hub.services import tokens
from knowledge_hub.services import users


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--name", required=True, help="The person's name.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="member, staff, translator, reviewer or admin; repeatable.",
)
@click.option("--organization", help="Acronym of the person's organization.")
@click.option(
    "--language", "languages", multiple=True, help="A language the person works in; repeatable."
)
def create_user_command(
    email: str,
    name: str,
    roles: tuple[str, ...],
    organization: str | None,
    languages: tuple[str, ...],
) -> None:
    """Create an account; the password is read from stdin or prompted for."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = users.create_user(
            None, email, name, password, list(roles), organization, list(languages)
        )
    except ServiceError as e:
        fail(str(e))
    click.echo(f"Created {user.email} ({', '.join(user.roles)}).")


@click.command("create-token")
@click.argument("email")
@click.option("--name", default="command line", show_default=True, help="What the token is for.")
@with_appcontext
def create_token_command(email: str, name: str) -> None:
    """Create a personal API token for a user and print it (once)."""
    user = admin_queries.user_by_email(email)
    if user is None:
        fail(f"there is no user {email}.")
    try:
        __, secret = tokens.create_token(users.system_user(), user, name)
    except ServiceError as e:
        fail(str(e))
    click.echo(secret)
