"""The `hub` command group: `flask --app app hub COMMAND`."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask.cli import AppGroup

from knowledge_hub import search
from knowledge_hub.search.index import MAX_DEFAULT_PROCESSES
from knowledge_hub.services import ServiceError
from knowledge_hub.services import accounts
from knowledge_hub.services import documents
from knowledge_hub.services import imports
from knowledge_hub.services import review
from knowledge_hub.services import setup

hub = AppGroup("hub", help="Knowledge Hub administration.")


def fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@hub.command("init")
def init_command() -> None:
    """Create or upgrade the database, vocabularies and search index."""
    setup.initialize()
    click.echo("The hub is ready.")


@hub.command("create-user")
@click.argument("email")
@click.option("--name", required=True, help="The person's name.")
@click.option("--role", "roles", multiple=True, required=True, help="member, staff, translator, reviewer or admin; repeatable.")
@click.option("--organization", help="Acronym of the person's organization.")
@click.option("--language", "languages", multiple=True, help="A language the person works in; repeatable.")
def create_user_command(
    email: str, name: str, roles: tuple[str, ...], organization: str | None, languages: tuple[str, ...]
) -> None:
    """Create an account; the password is read from stdin or prompted for."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = accounts.create_user(
            None, email, name, password, list(roles), organization, list(languages)
        )
    except ServiceError as e:
        fail(str(e))
    click.echo(f"Created {user.email} ({', '.join(user.roles)}).")


@hub.command("import")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--manifest", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The manifest CSV.")
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option("--release", is_flag=True, help="Put each imported record through the release gate.")
@click.option("--replace", is_flag=True, help="Let a row replace an existing language version.")
def import_command(folder: Path, manifest: Path, dry_run: bool, release: bool, replace: bool) -> None:
    """Import a folder of files described by a manifest CSV."""
    try:
        report = imports.import_manifest(
            accounts.system_user(),
            folder,
            manifest,
            dry_run=dry_run,
            release=release,
            replace=replace,
            progress=_progress_on_terminal("Checking" if dry_run else "Importing"),
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


@hub.command("release")
@click.argument("ref", required=False)
@click.option("--all-passing", is_flag=True, help="Release every record that passes.")
def release_command(ref: str | None, all_passing: bool) -> None:
    """Release a record (or every record that passes) to the public."""
    if bool(ref) == all_passing:
        fail("Give either a REF or --all-passing.")
    actor = accounts.system_user()
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


@hub.command("reindex")
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    help=f"Build with N processes (default: one per CPU, at most {MAX_DEFAULT_PROCESSES}).",
)
def reindex_command(processes: int | None) -> None:
    """Rebuild the search index from the database and switch to it while serving."""
    processes = processes or search.default_processes()
    shown = _progress_on_terminal("Indexing")
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


def _progress_on_terminal(label: str) -> search.ProgressCallback | None:
    """A progress bar on stderr when a person watches it; nothing in scripts and logs."""
    if not sys.stderr.isatty():
        return None
    started = time.monotonic()
    last_shown = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        finished = done >= total
        if not finished and now - last_shown[0] < 0.5:
            return
        last_shown[0] = now
        click.echo(f"\r{progress_line(label, done, total, now - started)}", nl=finished, err=True)

    return show


def progress_line(label: str, done: int, total: int, seconds: float, width: int = 30) -> str:
    """"Importing [#######-------]  2345 of 5000  47 %  14.1/s  3 min 8 s left"."""
    share = done / total if total else 1.0
    filled = int(width * share)
    rate = done / seconds if seconds > 0 else 0.0
    line = f"{label} [{'#' * filled}{'-' * (width - filled)}] {done} of {total} {share:4.0%}"
    if rate > 0:
        left = (total - done) / rate
        line += f" {rate:.1f}/s, {int(left // 60)} min {int(left % 60)} s left"
    return line + "   "  # wipes the end of a longer line drawn before


@hub.command("demo")
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


from knowledge_hub.cli_tokens import create_token_command  # noqa: E402  (a command of its own module)

hub.add_command(create_token_command)
import knowledge_hub.cli_check  # noqa: E402, F401  (adds check, backup and restore to hub)
