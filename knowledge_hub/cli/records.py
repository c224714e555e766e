"""`hub import` and `hub release`: bringing an archive in and releasing records."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from knowledge_hub.cli.terminal import fail
from knowledge_hub.cli.terminal import progress_on_terminal
from knowledge_hub.services import ServiceError
from knowledge_hub.services import documents
from knowledge_hub.services import imports
from knowledge_hub.services import review
from knowledge_hub.services import users


@click.command("import")
@with_appcontext
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--manifest",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The manifest CSV.",
)
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option("--release", is_flag=True, help="Put each imported record through the release gate.")
@click.option("--replace", is_flag=True, help="Let a row replace an existing language version.")
def import_command(
    folder: Path, manifest: Path, dry_run: bool, release: bool, replace: bool
) -> None:
    """Import a folder of files described by a manifest CSV."""
    try:
        report = imports.import_manifest(
            users.system_user(),
            folder,
            manifest,
            dry_run=dry_run,
            release=release,
            replace=replace,
            progress=progress_on_terminal("Checking" if dry_run else "Importing"),
        )
    except ServiceError as e:
        fail(str(e))
    for note in report.notes:
        click.echo(note)
    for row in report.rows:
        click.echo(str(row))
    for ref, reason in report.not_released.items():
        click.echo(f"not released: {ref}: {reason}")
    click.echo(report.summary())
    if report.failed:
        sys.exit(1)


@click.command("release")
@with_appcontext
@click.argument("ref", required=False)
@click.option("--all-passing", is_flag=True, help="Release every record that passes.")
def release_command(ref: str | None, all_passing: bool) -> None:
    """Release a record (or every record that passes) to the public."""
    if bool(ref) == all_passing:
        fail("Give either a REF or --all-passing.")
    actor = users.system_user()
    refs = [ref] if ref else review.unreleased_refs()
    failures = 0
    for each in refs:
        document = documents.find_by_ref(each)
        if document is None:
            fail(f"There is no record {each!r}.")
        try:
            review.release(actor, document)
        except ServiceError as e:
            failures += 1
            click.echo(f"{each}: not released: {e}", err=True)
        else:
            click.echo(f"{each}: released")
    if failures and not all_passing:
        sys.exit(1)
