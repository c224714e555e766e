"""`hub reindex`: rebuild the search index from the database while the hub serves."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from knowledge_hub import search
from knowledge_hub.cli.terminal import fail
from knowledge_hub.cli.terminal import progress_on_terminal
from knowledge_hub.search import MAX_DEFAULT_PROCESSES


@click.command("reindex")
@with_appcontext
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    help=f"Build with N processes (default: one per CPU, at most {MAX_DEFAULT_PROCESSES}).",
)
def reindex_command(processes: int | None) -> None:
    """Rebuild the search index from the database and switch to it while serving."""
    processes = processes or search.default_processes()
    shown = progress_on_terminal("Indexing")
    started = time.monotonic()
    try:
        count = search.reindex(processes=processes, progress=shown)
    except (search.IndexBusy, search.IndexUnreadable) as e:
        fail(str(e))
    seconds = time.monotonic() - started
    click.echo(f"Indexed {count} language versions.")
    click.echo(
        f"Took {seconds:.1f} s with {processes} process{'es' if processes > 1 else ''} "
        f"({count / max(seconds, 1e-9):.0f} versions per second)."
    )
