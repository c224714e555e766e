"""The demonstration catalogue: sample records, their files and the import manifest.

``manifest.csv`` and ``files/`` are generated from ``texts/`` by ``build_files``.
"""

from __future__ import annotations

from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent
FILES_DIR = DEMO_DIR / "files"
MANIFEST_PATH = DEMO_DIR / "manifest.csv"
