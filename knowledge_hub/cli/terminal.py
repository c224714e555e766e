"""What the commands print: an error that ends the command, and a progress bar."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import NoReturn

import click


def fail(message: str) -> NoReturn:
    """Print the error for the person at the terminal and end the command with status 1."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def progress_on_terminal(label: str) -> Callable[[int, int], None] | None:
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
    """ "Importing [#######-------]  2345 of 5000  47 %  14.1/s  3 min 8 s left"."""
    share = done / total if total else 1.0
    filled = int(width * share)
    rate = done / seconds if seconds > 0 else 0.0
    line = f"{label} [{'#' * filled}{'-' * (width - filled)}] {done} of {total} {share:4.0%}"
    if rate > 0:
        left = (total - done) / rate
        line += f" {rate:.1f}/s, {int(left // 60)} min {int(left % 60)} s left"
    return line + "   "  # wipes the end of a longer line drawn before
