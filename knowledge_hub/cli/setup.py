"""`hub init` and `hub demo`: a hub ready to use, and the demonstration catalogue;
`hub first-start`: what a server does on a database without tables."""

from __future__ import annotations

import click
from flask import Flask
from flask import current_app
from flask.cli import with_appcontext

from knowledge_hub.services import imports
from knowledge_hub.services import setup


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database, vocabularies and search index."""
    setup.initialize()
    click.echo("The hub is ready.")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the demonstration catalogue (once)."""
    report = setup.load_demo()
    if report is None:
        click.echo("The demonstration catalogue is already loaded.")
        return
    for row in report.rows:
        if row.outcome in (imports.ERROR, imports.CONFLICT):
            click.echo(str(row), err=True)
    click.echo(report.summary())


@click.command("first-start")
@with_appcontext
def first_start_command() -> None:
    """Set the hub up if its database has no tables, as HUB_FIRST_START says (gunicorn
    runs this before its workers start)."""
    choice = current_app.config["FIRST_START"]
    if setup.set_up_on_first_start(choice):
        click.echo("The hub is ready.")
    else:
        click.echo("The hub is not set up (HUB_FIRST_START=off): run `hub init`.", err=True)


def set_up_before_serving(app: Flask) -> None:
    """`flask run` on a database without tables: set the hub up (HUB_FIRST_START) while
    the application loads, before the server opens its port, as gunicorn does before
    its workers start; a person's first clicks then find it ready instead of waiting on
    the setup. Any other command (`hub init` itself) loads the application untouched."""
    context = click.get_current_context(silent=True)
    if context is None or context.command.name != "run":
        return
    setup.set_up_for_serving(app)
