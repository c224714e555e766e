"""Seconds per scanned page, and words recovered, for the ways the hub could run Tesseract.

    .venv/bin/python -m benchmarks.ocr_speed [--repeat 2]

On the scans of `../shared/data/realfiles/` (ocrmypdf__francais, __linn, __c02-22):

- hub: `extraction.ocr.read_page`, as `hub ocr` runs it: a child process under limits
  renders the page with PDFium at 300 dpi and runs the `tesseract` program on it, in the
  record's language, then with all six UN languages (a record without a language);
- direct: pdftoppm renders the page at 300 dpi, and `tesseract` reads the image (what
  pytesseract does: it writes the image to a file and runs the same program), timed
  from the rendering to the text, without a child process or limits around it.

Then pages made from a sentence in each of the other UN languages (Arabic, Chinese,
Russian as tests/test_ocr.py makes them, and Spanish), drawn as an image-only page at
300 dpi, read in their own language: seconds per page and pages per minute on one core
(Tesseract runs with one OpenMP thread).

Words recovered: the share of the words a person reads on the page (tests/test_ocr.py
holds them for francais and linn) found in the output. Times are the best of --repeat
runs; the load average is printed first, since other work on the machine slows both.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from knowledge_hub.extraction import ocr
from tests.test_ocr import ENGLISH
from tests.test_ocr import FRENCH
from tests.test_ocr import MADE
from tests.test_ocr import recovered
from tests.test_ocr import scan_pdf

REALFILES = Path(__file__).resolve().parents[2] / "shared" / "data" / "realfiles"
#: The Spanish sentence of the made pages (the others are the tests').
SPANISH = (
    "La economía social y solidaria contribuye a alcanzar los objetivos de desarrollo "
    "sostenible en todo el mundo"
)
SCANS = [
    ("ocrmypdf__francais.pdf", "fr", FRENCH),
    ("ocrmypdf__linn.pdf", "en", ENGLISH),
    ("ocrmypdf__c02-22.pdf", "en", None),
]


def best(repeat: int, run) -> tuple[float, str]:
    times, text = [], ""
    for __ in range(repeat):
        started = time.perf_counter()
        text = run()
        times.append(time.perf_counter() - started)
    return min(times), text


def hub(path: Path, languages: str) -> str:
    return ocr.read_page(path, 1, languages).text


def direct(path: Path, languages: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        stem = Path(folder) / "page"
        subprocess.run(
            ["pdftoppm", "-r", "300", "-gray", "-png", "-singlefile", str(path), str(stem)],
            check=True,
        )
        done = subprocess.run(
            ["tesseract", f"{stem}.png", "stdout", "-l", languages],
            capture_output=True,
            check=True,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
        return done.stdout.decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'file':24} {'way':22} {'s/page':>7} {'words':>6}")
    everything = ocr.tesseract_languages(None)
    for name, language, expected in SCANS:
        path = REALFILES / name
        own = ocr.tesseract_languages(language)
        ways = [
            (f"hub, {own}", hub, own),
            ("hub, all six", hub, everything),
            (f"direct, {own}", direct, own),
        ]
        for way, read, languages in ways:
            seconds, text = best(args.repeat, lambda: read(path, languages))  # noqa: B023
            share = f"{recovered(expected, text):.3f}" if expected else "-"
            print(f"{name:24} {way:22} {seconds:7.2f} {share:>6}")
    print()
    print(f"{'made page':10} {'s/page':>7} {'pages/min':>9} {'words':>6}")
    made = {**MADE, "es": SPANISH}
    with tempfile.TemporaryDirectory() as folder:
        for language, sentence in made.items():
            path = Path(folder) / f"{language}.pdf"
            path.write_bytes(scan_pdf([sentence], language))
            own = ocr.tesseract_languages(language)
            seconds, text = best(args.repeat, lambda: hub(path, own))  # noqa: B023
            share = recovered(sentence, text)
            print(f"{language:10} {seconds:7.2f} {60 / seconds:9.1f} {share:6.3f}")


if __name__ == "__main__":
    main()
