"""Read the text of scanned PDF pages with Tesseract, one page at a time, in a child process.

Nothing here knows Flask or the database: the OCR service (services/ocr.py) decides
which pages to read and stores what comes back.

Each page is read by a throw-away child (``python -I .../extraction/ocr.py``)
started with a limit on its address space and CPU time, in its own process group, and
killed with its group when it passes the wall-clock limit: PDFium renders the page
(pypdfium2, already the PDF reader), and the ``tesseract`` program reads the image.
Both are native code fed untrusted bytes, so neither runs inside the worker that holds
the database. The child dies with the worker (``PR_SET_PDEATHSIG``), so a worker killed
mid-page leaves nothing running.

Why the ``tesseract`` program and not a wrapper library: pytesseract would run the same
program through the same kind of subprocess, without the limits, and OCRmyPDF rewrites
the whole PDF (with Ghostscript and pikepdf) as a new PDF/A, while the hub keeps the
stored bytes as uploaded (their sha256 is their name and their fixity) and needs only
the text of the pages that lack one. benchmarks/README.md has the measurements.

Tesseract's language packs are named by ISO 639-2 codes; a record in a language the hub
does not know, or in none, is read with all six UN languages at once (slower, and a
little less accurate than the right one alone).
"""

from __future__ import annotations

import ctypes
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: Tesseract's language pack for each UN language, in the order used when all are tried.
TESSERACT_LANGUAGES = {
    "en": "eng",
    "fr": "fra",
    "es": "spa",
    "ru": "rus",
    "ar": "ara",
    "zh": "chi_sim",
}


def debian_package(code: str) -> str:
    """The Debian package of a Tesseract language pack: "chi_sim" -> "tesseract-ocr-chi-sim"."""
    return f"tesseract-ocr-{code.replace('_', '-')}"


#: The Debian packages that provide Tesseract and the six language packs.
DEBIAN_PACKAGES = ("tesseract-ocr", *(debian_package(c) for c in TESSERACT_LANGUAGES.values()))
#: Pages are rendered at this resolution: Tesseract reads body text best at 300 dpi.
DPI = 300
#: A page larger than this (in pixels, either side) is rendered smaller, so that a
#: poster-sized page cannot exhaust the memory limit.
MAX_PIXELS_PER_SIDE = 6000

_EXIT_NO_PAGE = 3
_EXIT_RENDER_FAILED = 4
_EXIT_TESSERACT_FAILED = 5
_EXIT_OUT_OF_MEMORY = 6
# What the loader and the C++ runtime say when the address-space limit refuses them.
_MEMORY_WORDS = ("failed to map", "bad_alloc", "cannot allocate", "out of memory")
_PR_SET_PDEATHSIG = 1


def tesseract_languages(language: str | None) -> str:
    """Tesseract's -l argument for a record's language: its pack, or all six."""
    base = (language or "").split("-")[0].lower()
    if base in TESSERACT_LANGUAGES:
        return TESSERACT_LANGUAGES[base]
    return "+".join(TESSERACT_LANGUAGES.values())


def find_tesseract() -> str | None:
    """The path of the tesseract program, or None where it is not installed."""
    return shutil.which("tesseract")


def missing_language_packs(tesseract: str) -> list[str]:
    """The language packs of the six UN languages that this Tesseract lacks."""
    try:
        listed = subprocess.run(
            [tesseract, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return list(TESSERACT_LANGUAGES.values())
    installed = set(listed.stdout.split())
    return [code for code in TESSERACT_LANGUAGES.values() if code not in installed]


@dataclass(frozen=True)
class PageReading:
    """What OCR made of one page: its text, or why there is none."""

    text: str
    error: str | None = None


def read_page(
    path: Path, page: int, languages: str, *, seconds: float = 120.0, memory_mb: int = 1024
) -> PageReading:
    """Render page `page` (from 1) of a PDF and read it with Tesseract in a child process.

    Never raises for a bad file: a page that cannot be rendered or read, or that passes
    the time or memory limit, comes back with an error worded for staff.
    """
    # The script itself, not the module: importing the package would import the whole
    # application first, which costs more than reading a small page.
    command = [sys.executable, "-I", __file__, os.fspath(path), str(page), languages]
    done = _run_child(command, seconds, memory_mb)
    if done.returncode == 0:
        from knowledge_hub.extraction.text import normalise_text

        return PageReading(normalise_text(done.stdout.decode("utf-8", "replace")))
    return PageReading("", _failure(done, memory_mb))


def read_text_layer(path: Path) -> list[str]:
    """The text layer of every page of a PDF, as the PDF reader tidies it ("" for a scan).

    This runs in the caller's process: the file is one the sandboxed reader has already
    read without harm (that is how its scanned pages were found), the OCR worker has a
    single thread (PDFium is not thread-safe), and the web server never calls it.
    Raises OSError when the PDF cannot be read.
    """
    from knowledge_hub.extraction.formats.pdf import _extract_pdf
    from knowledge_hub.extraction.media import Damaged
    from knowledge_hub.extraction.text import Sink
    from knowledge_hub.extraction.text import SinkFull

    sink = Sink()
    try:
        _extract_pdf(Path(path), sink)
    except SinkFull:
        pass  # the text cap: the pages after it add nothing to the stored text
    except Damaged as exc:
        raise OSError(str(exc)) from exc
    return sink.pages


def _run_child(command: list[str], seconds: float, memory_mb: int) -> subprocess.CompletedProcess:
    """Run a child under limits, kill its whole group at the deadline, and return its end."""
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
        start_new_session=True,
        preexec_fn=_limits(seconds, memory_mb),
    )
    try:
        stdout, stderr = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        timeout = f"OCR took longer than {seconds:g} s and was stopped."
        return subprocess.CompletedProcess(command, -signal.SIGKILL, b"", timeout.encode())
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _failure(done: subprocess.CompletedProcess, memory_mb: int) -> str:
    """Word for staff why a child ended without a reading."""
    said = " ".join(done.stderr.decode("utf-8", "replace").split())[-300:]
    if said.startswith("OCR took longer"):
        return said
    if done.returncode == _EXIT_NO_PAGE:
        return "The PDF has no such page."
    if done.returncode == _EXIT_OUT_OF_MEMORY or done.returncode == -signal.SIGABRT:
        # Tesseract and PDFium abort when an allocation fails.
        return f"OCR ran out of memory on this page (limit {memory_mb} MB)."
    if done.returncode == -signal.SIGXCPU:
        return "OCR used up its CPU time on this page."
    if done.returncode in (_EXIT_RENDER_FAILED, _EXIT_TESSERACT_FAILED) and said:
        return said
    return f"OCR stopped unexpectedly (exit code {done.returncode}): {said}".rstrip(": ")


def _limits(seconds: float, memory_mb: int):
    """The function that sets the child's limits, run between fork and exec."""
    cpu = max(1, math.ceil(seconds) + 1)
    address_space = memory_mb * 1024 * 1024

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        _die_with_parent()

    return apply


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (a worker killed with -9)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the time limits still end the child


# --- the child ------------------------------------------------------------------------


def _child_page(path: str, page: int, languages: str) -> int:
    """Render one page to a grey image and print what Tesseract reads on it."""
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(path)
    except Exception as exc:  # noqa: BLE001 (any failure is the file's)
        print(f"The PDF could not be opened: {exc}.", file=sys.stderr)
        return _EXIT_RENDER_FAILED
    with tempfile.TemporaryDirectory(prefix="hub-ocr-") as folder:
        image_path = Path(folder) / "page.png"
        try:
            if not 1 <= page <= len(document):
                return _EXIT_NO_PAGE
            pdf_page = document[page - 1]
            width, height = pdf_page.get_size()
            scale = min(DPI / 72, MAX_PIXELS_PER_SIDE / max(width, height, 1))
            bitmap = pdf_page.render(scale=scale, grayscale=True)
            bitmap.to_pil().save(image_path)
        except MemoryError:
            return _EXIT_OUT_OF_MEMORY
        except Exception as exc:  # noqa: BLE001
            print(f"Page {page} could not be rendered: {exc}.", file=sys.stderr)
            return _EXIT_RENDER_FAILED
        finally:
            document.close()
        tesseract = find_tesseract()
        if tesseract is None:
            print("Tesseract is not installed.", file=sys.stderr)
            return _EXIT_TESSERACT_FAILED
        done = subprocess.run(
            [tesseract, str(image_path), "stdout", "-l", languages, "--dpi", str(DPI)],
            capture_output=True,
            check=False,
            preexec_fn=_die_with_parent,
        )
    if done.returncode != 0:
        said = " ".join(done.stderr.decode("utf-8", "replace").split())[-300:]
        if done.returncode == -signal.SIGXCPU:
            print(f"Tesseract used up its CPU time on page {page}.", file=sys.stderr)
            return _EXIT_TESSERACT_FAILED
        if done.returncode < 0 or any(words in said for words in _MEMORY_WORDS):
            return _EXIT_OUT_OF_MEMORY
        print(f"Tesseract failed on page {page}: {said}", file=sys.stderr)
        return _EXIT_TESSERACT_FAILED
    sys.stdout.buffer.write(done.stdout)
    return 0


if __name__ == "__main__":
    try:
        status = _child_page(sys.argv[1], int(sys.argv[2]), sys.argv[3])
    except MemoryError:
        status = _EXIT_OUT_OF_MEMORY
    sys.exit(status)
