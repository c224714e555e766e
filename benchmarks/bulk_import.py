"""Time a bulk import of mixed files through the hub's own `hub import`.

    .venv/bin/python -m benchmarks.bulk_import [--files 5000] [--dir DIR] [--seed S]

Writes FILES files into DIR/incoming with a manifest, in the formats staff bring from
ten years of archives: PDF 30 % (English, French, Spanish), Word (DOCX) 20 %,
OpenDocument (ODT) 15 %, HTML 15 %, Markdown 10 % and plain text 10 %, written by the
demonstration catalogue's own writers (knowledge_hub/demo/formats.py). Each file holds
a title, a summary and 2-12 paragraphs of words drawn as benchmarks/generate.py draws
them (median about 300 words). Two rows in three start a record; the others add a
language version to one of the records before them.

Then it creates an empty hub in DIR (SQLite unless DATABASE_URL is set), runs
`flask --app app hub import DIR/incoming --manifest DIR/manifest.csv --release` in a
new process, with its progress bar on the terminal, and prints the time it took, the
rate, the outcome counts and the size of the database, store and index.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.generate import DATA
from benchmarks.generate import heading
from benchmarks.generate import prose
from benchmarks.generate import vocabularies
from knowledge_hub.demo.formats import WRITERS
from knowledge_hub.demo.formats import Block
from knowledge_hub.demo.formats import Source
from knowledge_hub.services.imports import COLUMNS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FORMAT_SHARES = {"pdf": 30, "docx": 20, "odt": 15, "html": 15, "md": 10, "txt": 10}
PDF_LANGUAGES = ("en", "fr", "es")
LANGUAGE_WEIGHTS = {"en": 60, "fr": 12, "es": 10, "ar": 6, "zh": 6, "ru": 6}
NEW_RECORD_SHARE = 2 / 3


def pick(rng: np.random.Generator, weights: dict[str, int]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def write_files(folder: Path, count: int, seed: int) -> Path:
    """Write count files and their manifest; return the manifest's path."""
    rng = np.random.default_rng(seed)
    words = vocabularies(DATA)
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, str]] = []
    records: list[tuple[str, set[str]]] = []  # ref, languages it has
    for n in range(count):
        fmt = pick(rng, FORMAT_SHARES)
        if records and rng.random() > NEW_RECORD_SHARE:
            ref, languages = records[int(rng.integers(len(records)))]
            choices = [lang for lang in LANGUAGE_WEIGHTS if lang not in languages]
            if fmt == "pdf":
                choices = [lang for lang in choices if lang in PDF_LANGUAGES]
            if not choices:
                ref, languages = f"BULK-{n:05d}", set()
                records.append((ref, languages))
                choices = list(PDF_LANGUAGES if fmt == "pdf" else LANGUAGE_WEIGHTS)
            language = choices[int(rng.integers(len(choices)))]
        else:
            ref, languages = f"BULK-{n:05d}", set()
            records.append((ref, languages))
            language = (
                "en"
                if fmt == "pdf" and rng.random() < 0.7
                else pick(
                    rng,
                    {
                        k: v
                        for k, v in LANGUAGE_WEIGHTS.items()
                        if fmt != "pdf" or k in PDF_LANGUAGES
                    },
                )
            )
        languages.add(language)
        vocabulary = words[language]
        title = heading(language, vocabulary.draw(rng, int(rng.integers(6, 14)), first_rank=20))
        # Chinese words are a character or two: three times as many make a summary as long.
        summary_words = int(rng.integers(20, 50)) * (3 if language == "zh" else 1)
        summary = prose(language, vocabulary.draw(rng, summary_words), rng)
        blocks = [Block("h2", heading(language, vocabulary.draw(rng, 4, first_rank=20)))]
        for __ in range(int(rng.integers(2, 13))):
            blocks.append(
                Block("p", prose(language, vocabulary.draw(rng, int(rng.integers(20, 60))), rng))
            )
        name = f"{ref.lower()}.{language}.{fmt}"
        meta = {"ref": ref, "language": language, "title": title, "summary": summary}
        source = Source(folder / name, meta, blocks, "archive")
        (folder / name).write_bytes(WRITERS[fmt](source))
        rows.append(
            {
                "ref": ref,
                "file": name,
                "language": language,
                "title": title,
                "summary": summary,
                "kind": "archive",
                "type": "meeting-minutes",
                "date": "2024-05-01",
                "organizations": "UNRISD",
                "topics": "sdg-8",
                "access": "public",
            }
        )
    manifest = folder.parent / "manifest.csv"
    with open(manifest, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(COLUMNS))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in COLUMNS})
    return manifest


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--dir", type=Path, help="instance folder (default: a temporary one)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    directory = (args.dir or Path(tempfile.mkdtemp(prefix="hub-bulk-"))).resolve()
    if directory.exists() and any(directory.iterdir()):
        parser.error(f"{directory} is not empty")
    directory.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    manifest = write_files(directory / "incoming", args.files, args.seed)
    formats: dict[str, int] = {}
    for path in (directory / "incoming").iterdir():
        formats[path.suffix[1:]] = formats.get(path.suffix[1:], 0) + 1
    print(
        f"wrote {args.files} files in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{k} {v}" for k, v in sorted(formats.items()))
        + f"; {size_of(directory / 'incoming') / 1e6:.1f} MB"
    )

    env = {
        **os.environ,
        "HUB_INDEX_DIR": str(directory / "index"),
        "HUB_UPLOAD_DIR": str(directory / "uploads"),
    }
    env.setdefault("DATABASE_URL", f"sqlite:///{directory / 'hub.sqlite'}")
    flask = [sys.executable, "-m", "flask", "--app", "app", "hub"]
    subprocess.run([*flask, "init"], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
    started = time.perf_counter()
    done = subprocess.run(
        [*flask, "import", str(directory / "incoming"), "--manifest", str(manifest), "--release"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - started
    summary = done.stdout.strip().splitlines()[-3:]
    print(
        f"hub import: {seconds:.1f} s ({seconds / 60:.1f} min), "
        f"{args.files / seconds:.1f} files/s, exit status {done.returncode}"
    )
    for line in summary:
        print(f"  {line}")
    database = directory / "hub.sqlite"
    print(
        f"database {size_of(database) / 1e6:.1f} MB, "
        f"store {size_of(directory / 'uploads') / 1e6:.1f} MB, "
        f"index {size_of(directory / 'index') / 1e6:.1f} MB"
    )
    if args.dir is None:
        shutil.rmtree(directory)
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
