"""Run an extraction in a throw-away child process with a time and memory limit.

Document parsers fed hostile input can loop, balloon or crash, and none of
that may reach the web server. Children are forked from a fork server that
has preloaded this package, under limits on address space, CPU time and core
dumps; a child that dies or runs out of time gets a message saying why.

A child reading a paged format (PDF) sends each page as soon as it has read
it, so that when it is stopped the pages read so far are kept, with a message
naming the pages that are missing.
"""

from __future__ import annotations

import io
import logging
import math
import multiprocessing
import os
import resource
import signal
import threading
import time
import warnings
from multiprocessing import forkserver
from multiprocessing import popen_forkserver
from multiprocessing import reduction
from multiprocessing import spawn
from multiprocessing import util
from multiprocessing.context import ForkServerProcess
from multiprocessing.context import set_spawning_popen
from pathlib import Path
from typing import Any

from knowledge_hub.extraction.core import extract_guarded
from knowledge_hub.extraction.core import extract_in_process
from knowledge_hub.extraction.core import memory_message
from knowledge_hub.extraction.media import EXTRACTABLE_TYPES
from knowledge_hub.extraction.media import MAX_TEXT_CHARS
from knowledge_hub.extraction.media import NOT_EXTRACTED_REASONS
from knowledge_hub.extraction.media import PDF
from knowledge_hub.extraction.media import Extraction
from knowledge_hub.extraction.text import join_pages
from knowledge_hub.extraction.text import page_ranges

_GRACE_SECONDS = 1.0
# Exit status of a worker too short of memory to send its result (any value
# that Python itself does not use will do).
_EXIT_OUT_OF_MEMORY = 75
# The tag of the messages that carry one page each, before the result.
_PAGE = "page"


# The package, not this module: its __init__ imports every reader.
_MODULE_NAME = "knowledge_hub.extraction"
# PDFium, loaded and initialised once in the fork server rather than in each
# child; the PDF reader imports it only when it runs, so that the web process,
# which imports the package to sniff uploads, never loads it.
_PRELOADED_LIBRARIES = ["pypdfium2"]
_context_lock = threading.Lock()
_context: Any = None


def _forkserver_context() -> Any:
    """Return the fork server context, starting the server once with the package preloaded.

    Forking from a small server that has already imported the parsers keeps
    each extraction cheap, and the children never inherit the web server's
    threads, locks or database connections.
    """
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([_MODULE_NAME, *_PRELOADED_LIBRARIES])
            _start_forkserver()
            _context = context
        return _context


def _start_forkserver() -> None:
    """Start the fork server with this package importable whatever the working directory.

    Python 3.11's fork server ignores the parent's sys.path, so the project
    root is put on PYTHONPATH just for the launch of the server.
    """
    # knowledge_hub/extraction/sandbox.py: the project root is three levels up.
    project_root = str(Path(__file__).resolve().parents[2])
    previous = os.environ.get("PYTHONPATH")
    parts = [project_root] + ([previous] if previous else [])
    os.environ["PYTHONPATH"] = os.pathsep.join(parts)
    try:
        forkserver.ensure_running()
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous


def extract(
    path: Path, media_type: str, *, seconds: float = 30.0, memory_mb: int = 768
) -> Extraction:
    """Extract the text of a file in a child process with a time and memory limit.

    Never raises for bad, broken or hostile file content, and never waits more
    than ``seconds`` plus a small grace after the child has started.
    ``memory_mb`` is the address space the extraction may add to the child's
    starting footprint. When a PDF's reading is stopped (by the time limit,
    say), the pages read so far are kept, and the message names the missing.

    Children are forked from a fork server that has this package preloaded,
    and do not run the parent's main module again (see _ExtractionProcess).
    """
    if media_type in NOT_EXTRACTED_REASONS or media_type not in EXTRACTABLE_TYPES:
        # Nothing to parse, so no reason to pay for a process.
        return extract_in_process(path, media_type)

    context = _forkserver_context()
    receiver, sender = context.Pipe(duplex=False)
    process = _ExtractionProcess(
        target=_child_main,
        args=(sender, os.fspath(path), media_type, seconds, memory_mb),
        name="knowledge-hub-extraction",
        daemon=True,
    )
    try:
        process.start()
    except BaseException:
        receiver.close()
        raise
    finally:
        # The child holds its own copy; keeping ours open would hide its EOF.
        sender.close()
    pages = _PagesSoFar()
    try:
        started = time.monotonic()
        deadline = started + seconds + _GRACE_SECONDS
        payload: Any = None
        while payload is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not receiver.poll(remaining):
                break
            try:
                message = receiver.recv()
            except (EOFError, OSError):
                break  # the child died before answering
            if not pages.take(message):
                payload = message
        timed_out = payload is None and time.monotonic() - started >= seconds
        if payload is None and not timed_out:
            process.join(0.5)  # it closed the pipe while dying; let it finish
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
    exitcode = process.exitcode
    process.close()

    result = _payload_to_extraction(payload)
    if result is not None and (result.text or not result.error or not pages.has_text()):
        return result
    # The child died, ran out of time, or its reader gave up after some pages
    # (out of memory, say): keep the pages it sent.
    if result is not None:
        cause = result.error or ""
    else:
        cause = _death_message(exitcode, timed_out, seconds, memory_mb, media_type)
    if not pages.has_text():
        return Extraction("", None, cause)
    message = pages.missing_message(cause, seconds if timed_out else None)
    return Extraction(pages.text(), pages.page_count, message)


class _PopenWithoutMain(popen_forkserver.Popen):
    """Start a fork server child without running the parent's main module in it.

    multiprocessing prepares every non-fork child by importing the parent's
    ``__main__`` again (a script as ``__mp_main__``, a ``-m`` module by name) so
    that functions defined there can be unpickled. An extraction child's target
    lives in this package, which the fork server has preloaded, so that import
    is pure cost: a web server's or a CLI's main module imports its framework,
    which took longer than reading most files (26 ms a file under gunicorn,
    where pdftotext reads a short PDF in 10), and a main module doing work at
    import would do it again for every file.

    The body is Python 3.11's Popen._launch with those two entries left out of
    the preparation data.
    """

    def _launch(self, process_obj: Any) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            set_spawning_popen(None)

        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        # As in the original: a duplicate of the data pipe's write end is the
        # child's sentinel of its parent.
        parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _ExtractionProcess(ForkServerProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> _PopenWithoutMain:
        return _PopenWithoutMain(process_obj)


class _PagesSoFar:
    """The pages a child has sent while reading, kept in case it does not finish."""

    def __init__(self) -> None:
        """Start with no pages."""
        self.texts: list[str] = []
        self.length = 0
        self.read = 0
        self.page_count: int | None = None

    def take(self, message: Any) -> bool:
        """Keep a page message ("page", text, pages_read, page_count); tell whether it was one."""
        if not (isinstance(message, tuple) and len(message) == 4 and message[0] == _PAGE):
            return False
        __, text, read, page_count = message
        if not isinstance(text, str) or not isinstance(read, int):
            return True
        if page_count is not None and not isinstance(page_count, int):
            return True
        if self.length < MAX_TEXT_CHARS:
            self.texts.append(text)
            self.length += len(text)
        self.read, self.page_count = read, page_count
        return True

    def has_text(self) -> bool:
        """Tell whether any page received has text."""
        return any(self.texts)

    def text(self) -> str:
        """Return the text of the pages received, within the text cap."""
        return join_pages(self.texts)

    def missing_message(self, cause: str, time_limit: float | None) -> str:
        """Say which pages were read before the child stopped, and which are missing.

        time_limit is the limit in seconds when that is what stopped it; the
        message then reads "Read pages 1–212 of 352 before the time limit
        (60 s); pages 213–352 are missing." Otherwise it follows the cause.
        """
        read, total = self.read, self.page_count
        if total is not None and read >= total:
            if time_limit is not None:
                return (
                    f"Read all {total} pages, but the time limit ({time_limit:g} s) "
                    "stopped extraction before it had finished."
                )
            return f"{cause} All {total} pages had been read."
        done = page_ranges(range(1, read + 1), total)
        if total is None:
            missing = "the rest is missing"
        else:
            rest = range(read + 1, total + 1)
            missing = f"{page_ranges(rest)} {'is' if len(rest) == 1 else 'are'} missing"
        if time_limit is not None:
            return f"Read {done} before the time limit ({time_limit:g} s); {missing}."
        was = "was" if read == 1 else "were"
        return f"{cause} Only {done} {was} read; {missing}."


def _payload_to_extraction(payload: Any) -> Extraction | None:
    """Return the Extraction a child sent, or None if it sent nothing usable."""
    if not (isinstance(payload, tuple) and len(payload) == 3):
        return None
    text, page_count, error = payload
    if not isinstance(text, str):
        return None
    if page_count is not None and not isinstance(page_count, int):
        return None
    if error is not None and not isinstance(error, str):
        return None
    return Extraction(text, page_count, error)


def _death_message(
    exitcode: int | None, timed_out: bool, seconds: float, memory_mb: int, media_type: str
) -> str:
    """Explain for staff why a child process ended without a result."""
    if timed_out or exitcode == -signal.SIGXCPU:
        return _timeout_message(seconds)
    if exitcode == _EXIT_OUT_OF_MEMORY or exitcode == -signal.SIGKILL:
        # An unexpected SIGKILL is the kernel's out-of-memory killer.
        return memory_message(memory_mb)
    if exitcode == -signal.SIGABRT and media_type == PDF:
        # PDFium calls abort() when an allocation fails (FX_OutOfMemoryTerminate).
        return memory_message(memory_mb)
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"Extraction crashed ({name}) while reading the file."
    return f"Extraction stopped unexpectedly (exit code {exitcode})."


def _timeout_message(seconds: float) -> str:
    """Return the message for an extraction stopped by the time limit."""
    return f"Extraction took longer than {seconds:g} s and was stopped."


def _child_main(sender: Any, path: str, media_type: str, seconds: float, memory_mb: int) -> None:
    """Run one extraction in the child process under resource limits and send back the result."""
    try:
        _limit_resources(seconds, memory_mb)
        # Parser chatter about odd files is noise in the server log; the
        # outcome travels back in the Extraction instead.
        warnings.simplefilter("ignore")
        logging.disable(logging.CRITICAL)

        def send_page(text: str, read: int, page_count: int | None) -> None:
            sender.send((_PAGE, text, read, page_count))

        result = extract_guarded(Path(path), media_type, memory_mb, send_page)
        try:
            sender.send((result.text, result.page_count, result.error))
        except MemoryError:
            sender.send(("", result.page_count, memory_message(memory_mb)))
    except MemoryError:
        # Too little memory left even to report it; the exit code says it.
        os._exit(_EXIT_OUT_OF_MEMORY)
    except OSError:
        pass  # the parent stopped waiting and closed its end of the pipe
    finally:
        sender.close()


def _limit_resources(seconds: float, memory_mb: int) -> None:
    """Cap the child's address space and CPU time.

    The memory cap is counted on top of what the child already maps (the
    interpreter and whatever the package preloads), so the room left for the
    extraction does not shrink silently as the application grows.
    """
    soft_as = _address_space_in_use() + memory_mb * 1024 * 1024
    _, hard_as = resource.getrlimit(resource.RLIMIT_AS)
    if hard_as != resource.RLIM_INFINITY:
        soft_as = min(soft_as, hard_as)
    resource.setrlimit(resource.RLIMIT_AS, (soft_as, hard_as))
    # A CPU backstop in case the parent is gone and cannot kill us.
    cpu = max(1, math.ceil(seconds) + 1)
    _, hard_cpu = resource.getrlimit(resource.RLIMIT_CPU)
    if hard_cpu != resource.RLIM_INFINITY:
        cpu = min(cpu, hard_cpu)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, hard_cpu))
    # A child stopped by a limit or a crash must not litter core dumps.
    _, hard_core = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, hard_core))


def _address_space_in_use() -> int:
    """Return the bytes of address space this process maps now, or 0 if unknown."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * resource.getpagesize()
