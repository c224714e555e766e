"""Seconds to draw the first-page thumbnail of each PDF, as the hub draws it when a file
is stored or `hub reextract` runs: a child process under limits renders page 1 with
PDFium at 200 pixels wide and writes a PNG.

    .venv/bin/python -m benchmarks.thumbnail_speed [--repeat 3]

On every PDF of `../shared/data/realfiles/` and of the demo catalogue's files; prints
each file's best time of --repeat runs and size, then the median and the slowest. The
load average is printed first, since other work on the machine slows it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from knowledge_hub.extraction.thumbnails import render_first_page

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = [ROOT.parent / "shared" / "data" / "realfiles", ROOT / "knowledge_hub" / "demo" / "files"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    pdfs = sorted(p for folder in FOLDERS for p in folder.rglob("*.pdf"))
    timed: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "thumb.png"
        for pdf in pdfs:
            times, failed = [], None
            for __ in range(args.repeat):
                started = time.perf_counter()
                failed = render_first_page(pdf, target)
                times.append(time.perf_counter() - started)
            if failed:
                print(f"{pdf.name[:40]:40} {'-':>7}  {failed[:60]}")
                continue
            timed.append(min(times))
            size = target.stat().st_size
            print(f"{pdf.name[:40]:40} {min(times):7.3f}  {size / 1024:.0f} KiB")
    median, slowest = statistics.median(timed), max(timed)
    print(f"{len(timed)} thumbnails: median {median:.3f} s, slowest {slowest:.3f} s")


if __name__ == "__main__":
    main()
