"""How fast `hub reindex` rebuilds the index of a catalogue, with 1, 2, … processes.

    .venv/bin/python -m benchmarks.reindex_speed --dir DIR [--processes 1 2] [--repeat N]
    .venv/bin/python -m benchmarks.reindex_speed --versions N [--processes 1 2]

DIR is a hub instance made by `benchmarks.generate` (DIR/hub.sqlite, DIR/uploads); with
--versions, one is generated first (without an index) in a temporary folder. The
instance is left as it is: its SQLite database is copied (with SQLite's backup API),
and every run rebuilds into a fresh index folder of its own. With DATABASE_URL set
(PostgreSQL), that database is used in place; a rebuild only reads it.

Each run is the real command, `flask --app app hub reindex --processes P`, in a
subprocess. It prints, per run, the time of the whole command (interpreter and
application start included) and of the rebuild as the command reports it, and
versions per second for both, and the CPU time the command and its building
processes used. The load average is printed first: on a shared machine, other work
takes cores away from the rebuild, and the CPU time per version tells what the
rebuild costs whatever the load.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REPORTED = re.compile(r"Indexed (\d+) language versions\.\s+Took ([0-9.]+) s")


def copy_sqlite(source: Path, destination: Path) -> None:
    """Copy a live SQLite database consistently, without writing to the original."""
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as original:
        with sqlite3.connect(destination) as copy:
            original.backup(copy)
    original.close()
    copy.close()


def generate(versions: int, folder: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.generate",
            "--versions",
            str(versions),
            "--dir",
            str(folder),
            "--no-index",
        ],
        cwd=PROJECT_ROOT,
        check=True,
    )


def reindex(environment: dict[str, str], processes: int) -> tuple[int, float, float, float]:
    """Run `hub reindex` once; returns versions, whole-command and rebuild seconds, and
    the CPU seconds of the command and its building processes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "app",
            "hub",
            "reindex",
            "--processes",
            str(processes),
        ],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"hub reindex failed:\n{done.stdout}{done.stderr}")
    found = REPORTED.search(done.stdout)
    if found is None:
        raise SystemExit(f"unexpected output of hub reindex:\n{done.stdout}")
    return int(found.group(1)), wall, float(found.group(2)), cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--dir", type=Path, help="an instance made by benchmarks.generate")
    source.add_argument("--versions", type=int, help="generate a catalogue of N versions")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=1, help="runs per process count")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hub-reindex-speed-") as scratch:
        scratch_path = Path(scratch)
        instance = args.dir
        if instance is None:
            instance = scratch_path / "catalogue"
            generate(args.versions, instance)
        environment = dict(os.environ)
        environment["HUB_UPLOAD_DIR"] = str(instance / "uploads")
        if not os.environ.get("DATABASE_URL"):
            database = scratch_path / "hub.sqlite"
            copy_sqlite(instance / "hub.sqlite", database)
            environment["DATABASE_URL"] = f"sqlite:///{database}"
        kind = environment["DATABASE_URL"].split(":", 1)[0]
        print(
            f"catalogue: {instance} ({kind}); {os.cpu_count()} CPUs; "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        print(
            "| processes | versions | command s | versions/s | rebuild s | versions/s "
            "| CPU s | ms CPU/version |"
        )
        print(
            "|-----------|----------|-----------|------------|-----------|------------"
            "|-------|----------------|"
        )
        for processes in args.processes:
            for run in range(args.repeat):
                environment["HUB_INDEX_DIR"] = str(scratch_path / f"index-{processes}-{run}")
                versions, wall, rebuild, cpu = reindex(environment, processes)
                print(
                    f"| {processes:9} | {versions:8} | {wall:9.1f} | {versions / wall:10.0f} "
                    f"| {rebuild:9.1f} | {versions / rebuild:10.0f} | {cpu:5.0f} "
                    f"| {1000 * cpu / versions:14.2f} |",
                    flush=True,
                )
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
