"""`hub check`, `hub reextract`, `hub ocr`, `hub backup` and `hub restore`: keeping what
the hub holds safe, and its files' text current."""

from __future__ import annotations

import sys
from datetime import date
from datetime import datetime
from pathlib import Path

import click
from flask.cli import with_appcontext

from knowledge_hub.cli.terminal import fail
from knowledge_hub.cli.terminal import progress_on_terminal
from knowledge_hub.queries import ocr as ocr_queries
from knowledge_hub.services import ServiceError
from knowledge_hub.services import backup as backups
from knowledge_hub.services import fixity
from knowledge_hub.services import ocr
from knowledge_hub.services import previews
from knowledge_hub.services import texts
from knowledge_hub.services import users
from knowledge_hub.services.documents import blob_store


@click.command("check")
@with_appcontext
@click.option("--limit", type=click.IntRange(min=0), help="Re-hash at most N files this run.")
@click.option(
    "--max-seconds", type=click.FloatRange(min=0), help="Stop re-hashing after S seconds."
)
def check_command(limit: int | None, max_seconds: float | None) -> None:
    """Re-hash stored files (oldest-checked first) and check the index and the store."""
    report = fixity.run_check(limit=limit, max_seconds=max_seconds)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


class Day(click.ParamType):
    """A day written YYYY-MM-DD."""

    name = "YYYY-MM-DD"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None):
        if isinstance(value, date):
            return value
        try:
            return datetime.strptime(str(value), "%Y-%m-%d").date()
        except ValueError:
            self.fail(f"{value!r} is not a day written YYYY-MM-DD, such as 2024-03-31.", param, ctx)


@click.command("reextract")
@with_appcontext
@click.option(
    "--type",
    "types",
    multiple=True,
    type=click.Choice(list(texts.TYPE_NAMES), case_sensitive=False),
    help="Only files of this type (repeatable).",
)
@click.option("--since", type=Day(), help="Only files uploaded on or after this day (UTC).")
def reextract_command(types: tuple[str, ...], since: date | None) -> None:
    """Extract the text of stored files again with the current extractor; update the index;
    draw the PDFs' thumbnails again."""
    media_types = [texts.TYPE_NAMES[name.lower()] for name in types]
    try:
        report = texts.reextract(
            users.system_user(),
            media_types,
            since,
            progress=progress_on_terminal("Re-extracting"),
        )
        drawn = previews.redraw_thumbnails(users.system_user(), blob_store(), media_types, since)
    except ServiceError as e:
        fail(str(e))
    for line in report.lines() + drawn.lines():
        click.echo(line)


@click.command("ocr")
@with_appcontext
@click.option("--watch", is_flag=True, help="Keep running, reading pages as they are queued.")
@click.option("--limit", type=click.IntRange(min=1), help="Read at most N pages, then stop.")
def ocr_command(watch: bool, limit: int | None) -> None:
    """Read queued scanned pages with OCR, one at a time; exit when the queue is empty."""
    missing = ocr_queries.packages_to_install()
    if missing:
        queued = ocr.queue_files_stored_before()
        fail(
            f"OCR cannot run: install {' '.join(missing)} (Debian or Ubuntu: apt-get install). "
            f"The scanned pages wait in the queue ({queued} newly queued)."
        )
    try:
        report = ocr.run(limit=limit, watch=watch, echo=click.echo)
    except KeyboardInterrupt:
        click.echo("Stopped; the page being read is read again by the next run.")
        return
    for line in report.lines():
        click.echo(line)


@click.command("backup")
@with_appcontext
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
def backup_command(destination: Path) -> None:
    """Write the database and every stored file, with checksums, into a new folder."""
    try:
        report = backups.backup(destination)
    except ServiceError as e:
        fail(str(e))
    for sha256, outcome in sorted(report.problems.items()):
        click.echo(f"not backed up ({outcome}): {sha256}", err=True)
    click.echo(
        f"Backed up the {report.database} database and {report.files} files "
        f"({report.bytes} bytes) to {report.destination}."
    )
    if report.problems:
        sys.exit(1)


@click.command("restore")
@with_appcontext
@click.argument("source", type=click.Path(file_okay=False, exists=True, path_type=Path))
def restore_command(source: Path) -> None:
    """Restore a backup into this empty hub, then rebuild the search index."""
    try:
        report = backups.restore(source)
    except ServiceError as e:
        fail(str(e))
    click.echo(
        f"Restored the {report.database} database and {report.files} files from "
        f"{report.source}; indexed {report.indexed} language versions."
    )
