"""`flask --app app hub create-token EMAIL`: a personal API token from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import User
from knowledge_hub.services import ServiceError
from knowledge_hub.services import tokens
from knowledge_hub.services.accounts import system_user


@click.command("create-token")
@click.argument("email")
@click.option("--name", default="command line", show_default=True, help="What the token is for.")
@with_appcontext
def create_token_command(email: str, name: str) -> None:
    """Create a personal API token for a user and print it (once)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        click.echo(f"Error: there is no user {email}.", err=True)
        sys.exit(1)
    try:
        __, secret = tokens.create_token(system_user(), user, name)
    except ServiceError as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(1)
    click.echo(secret)
