"""How fast the hub reads files, and how much of their text, against independent readers.

    .venv/bin/python -m benchmarks.extraction                     # real files, demo, synthetic
    .venv/bin/python -m benchmarks.extraction --folder DIR ...    # these folders' files
    .venv/bin/python -m benchmarks.extraction --synthetic-pages 0 # no synthetic PDF

The files are those of `../shared/data/realfiles/` (files other projects keep to test
their readers), the demonstration catalogue's (`knowledge_hub/demo/files/`), and a
synthetic PDF of --synthetic-pages pages written here with fpdf2 (400 by default, in the
range of the long reports and law texts of an archive).

Each file is sniffed and read the way an upload is: `extraction.extract`, in the
sandboxed child process of the fork server (started before the clock runs). Its
independent reader (tests/references.py: pdftotext, antiword, python-docx, openpyxl,
xlrd, python-pptx, odfpy, striprtf, inscriptis; Markdown and plain text are their own
reference) reads it in the same run. The script prints, per format, the files, the
files per second of both, and the median and lowest share of the reference's words
that the hub recovers; then the PDF totals: the hub's time over pdftotext's (the
target is at most 1.5), with and without the synthetic PDF. Times are the best of
--repeat runs of each file; the load average is printed first, since other work on
the machine takes cores from both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from knowledge_hub import extraction
from knowledge_hub.extraction import UnsupportedType
from tests import references

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REAL_FILES = PROJECT_ROOT.parent / "shared" / "data" / "realfiles"
DEMO_FILES = PROJECT_ROOT / "knowledge_hub" / "demo" / "files"


@dataclass
class Measured:
    path: Path
    suffix: str
    seconds: float
    reference_seconds: float | None
    recovered: float | None


def best_of(repeat: int, read: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for __ in range(repeat):
        started = time.perf_counter()
        result = read()
        best = min(best, time.perf_counter() - started)
    return best, result


def reference_for(path: Path) -> Callable[[], str] | None:
    if path.suffix in (".md", ".txt"):
        return lambda: path.read_text(encoding="utf-8", errors="replace")
    if path.suffix not in references.READERS:
        return None
    return lambda: references.reference_text(path)


def measure(path: Path, repeat: int) -> Measured | None:
    try:
        kind = extraction.sniff_file(path)
    except UnsupportedType:
        return None
    seconds, result = best_of(repeat, lambda: extraction.extract(path, kind))
    reference_seconds, share = None, None
    reader = reference_for(path)
    if reader is not None:
        try:
            reference_seconds, reference = best_of(repeat, reader)
        except (references.NoReference, references.ReferenceRefuses):
            pass
        else:
            share = references.recovered(str(reference), result.text)
    return Measured(path, path.suffix.lower(), seconds, reference_seconds, share)


def synthetic_pdf(folder: Path, pages: int) -> Path:
    """A report of `pages` pages of running text, with hyphenated line ends."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    words = (
        "social solidarity economy cooperatives mutual associations foundations "
        "enterprises decent work inclusive sustainable development localisation policy "
        "financing statistics measurement recommendation member states"
    ).split()
    for number in range(pages):
        pdf.add_page()
        text = " ".join(words[(number + i * 7) % len(words)] for i in range(420))
        pdf.multi_cell(0, 5, f"Page {number + 1}. {text}")
    path = folder / f"synthetic-{pages}-pages.pdf"
    pdf.output(str(path))
    return path


def table(rows: list[Measured]) -> None:
    by_suffix: dict[str, list[Measured]] = {}
    for row in rows:
        by_suffix.setdefault(row.suffix, []).append(row)
    print(
        f"{'format':7} {'files':>5} {'hub files/s':>11} {'reference files/s':>17} "
        f"{'median recovered':>16} {'lowest':>6}"
    )
    for suffix, group in sorted(by_suffix.items()):
        hub_rate = len(group) / sum(r.seconds for r in group)
        timed = [r for r in group if r.reference_seconds is not None]
        reference_rate = (
            f"{len(timed) / sum(r.reference_seconds for r in timed):17.1f}"
            if timed
            else f"{'-':>17}"
        )
        shares = [r.recovered for r in group if r.recovered is not None]
        median = f"{statistics.median(shares):16.3f}" if shares else f"{'-':>16}"
        lowest = f"{min(shares):6.3f}" if shares else f"{'-':>6}"
        print(f"{suffix:7} {len(group):5} {hub_rate:11.1f} {reference_rate} {median} {lowest}")


def pdf_ratio(rows: list[Measured], label: str) -> None:
    pdfs = [r for r in rows if r.suffix == ".pdf" and r.reference_seconds is not None]
    if not pdfs:
        return
    hub = sum(r.seconds for r in pdfs)
    reference = sum(r.reference_seconds for r in pdfs)
    print(
        f"PDF, {label}: {len(pdfs)} files, hub {hub:.2f} s, pdftotext {reference:.2f} s, "
        f"ratio {hub / reference:.2f} (target at most 1.5)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, action="append", help="read these files instead")
    parser.add_argument("--synthetic-pages", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folders = args.folder or [REAL_FILES, DEMO_FILES]
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    # The fork server starts once, before any clock runs.
    with tempfile.TemporaryDirectory() as scratch:
        warm = Path(scratch) / "warm.txt"
        warm.write_text("warm up\n", encoding="utf-8")
        extraction.extract(warm, extraction.PLAIN)
        paths = sorted(
            p
            for folder in folders
            for p in folder.rglob("*")
            if p.is_file() and p.name != "README.md"
        )
        rows = [m for p in paths if (m := measure(p, args.repeat)) is not None]
        print(f"{len(rows)} files read of {len(paths)} ({len(paths) - len(rows)} refused)\n")
        table(rows)
        print()
        pdf_ratio(rows, "these files")
        if args.synthetic_pages:
            synthetic = measure(synthetic_pdf(Path(scratch), args.synthetic_pages), args.repeat)
            assert synthetic is not None
            print(
                f"PDF, synthetic {args.synthetic_pages} pages: hub {synthetic.seconds:.2f} s, "
                f"pdftotext {synthetic.reference_seconds:.2f} s, "
                f"ratio {synthetic.seconds / synthetic.reference_seconds:.2f}, "
                f"recovered {synthetic.recovered:.3f}"
            )
            pdf_ratio([*rows, synthetic], "with the synthetic one")


if __name__ == "__main__":
    main()
