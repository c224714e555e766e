"""Render the first page of a PDF as a small PNG, in a child process with limits.

Nothing here knows Flask or the database: services/previews.py decides which files get
a thumbnail and where it is kept.

PDFium (pypdfium2, already the PDF reader) is native code fed untrusted bytes, so it
renders in a throw-away child (``python -I .../extraction/thumbnails.py``) with the same
address-space, CPU and wall-clock limits, process group and death-with-parent as the
OCR child (extraction/ocr.py), never inside the worker that serves pages. The child
writes the PNG to a path the caller chose; the caller renames it into place, so a
reader never sees half an image.

Office files get no thumbnail: the hub keeps no PDF rendition of them to draw from.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

#: The thumbnail's width in pixels; its height follows the page's proportions.
WIDTH = 200
#: A page far taller than wide (a scroll, a long receipt) is cut at this height.
MAX_HEIGHT = 600

#: What a thumbnail's name adds to the name of the file it is drawn from.
SUFFIX = ".thumb.png"

_EXIT_RENDER_FAILED = 4
_EXIT_OUT_OF_MEMORY = 6


def thumbnail_beside(stored: Path) -> Path:
    """Where the thumbnail of a stored file is kept: beside it, named after it."""
    return stored.with_name(stored.name + SUFFIX)


def render_first_page(
    pdf: Path, target: Path, *, width: int = WIDTH, seconds: float = 30.0, memory_mb: int = 512
) -> str | None:
    """Write page 1 of `pdf` as a PNG `width` pixels wide to `target`.

    Returns None when it is written, else why not, worded for staff; never raises for a
    bad file.
    """
    from knowledge_hub.extraction.ocr import _run_child

    # The script itself, not the module: importing the package would import the whole
    # application first, which costs more than drawing a small page.
    command = [sys.executable, "-I", __file__, os.fspath(pdf), os.fspath(target), str(width)]
    done = _run_child(command, seconds, memory_mb)
    if done.returncode == 0:
        return None
    said = " ".join(done.stderr.decode("utf-8", "replace").split())[-300:]
    if done.returncode == -signal.SIGKILL:
        return f"The thumbnail took longer than {seconds:g} s and was stopped."
    if done.returncode in (_EXIT_OUT_OF_MEMORY, -signal.SIGABRT):
        return f"The thumbnail ran out of memory (limit {memory_mb} MB)."
    if done.returncode == -signal.SIGXCPU:
        return "The thumbnail used up its CPU time."
    if done.returncode == _EXIT_RENDER_FAILED and said:
        return said
    return f"The thumbnail stopped unexpectedly (exit code {done.returncode}): {said}".rstrip(": ")


# --- the child ------------------------------------------------------------------------


def _child_render(pdf: str, target: str, width: int) -> int:
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(pdf)
    except Exception as exc:  # noqa: BLE001 (any failure is the file's)
        print(f"The PDF could not be opened: {str(exc).rstrip('.')}.", file=sys.stderr)
        return _EXIT_RENDER_FAILED
    try:
        if len(document) < 1:
            print("The PDF has no page.", file=sys.stderr)
            return _EXIT_RENDER_FAILED
        page = document[0]
        page_width, page_height = page.get_size()
        scale = width / max(page_width, 1)
        # Cropping is in points, from the bottom: keep the top of a very tall page.
        keep_points = MAX_HEIGHT / scale
        crop_bottom = max(0.0, page_height - keep_points)
        bitmap = page.render(scale=scale, crop=(0, crop_bottom, 0, 0))
        bitmap.to_pil().convert("RGB").save(target, format="PNG", optimize=True)
    except MemoryError:
        return _EXIT_OUT_OF_MEMORY
    except Exception as exc:  # noqa: BLE001
        print(f"The first page could not be drawn: {exc}.", file=sys.stderr)
        return _EXIT_RENDER_FAILED
    finally:
        document.close()
    return 0


if __name__ == "__main__":
    try:
        status = _child_render(sys.argv[1], sys.argv[2], int(sys.argv[3]))
    except MemoryError:
        status = _EXIT_OUT_OF_MEMORY
    sys.exit(status)
