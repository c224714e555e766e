"""A server process that crashes below Python leaves the Python traceback of its threads
in its log (faulthandler), not only an exit status: `flask run` on its standard error,
gunicorn's workers in gunicorn's error log."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import make_config
from tests.server import FlaskServer
from tests.server import GunicornServer
from tests.server import run_hub


@pytest.fixture
def config(tmp_path: Path, installed) -> dict:
    """A hub after `hub init` (run once per test process, and copied: conftest's
    `installed`)."""
    config = make_config(tmp_path)

    def install() -> None:
        done = run_hub(config, "hub", "init")
        assert done.returncode == 0, done.stderr

    installed((__name__, "hub init"), config, install)
    return config


def wait_for(text: str, log: Path, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        written = log.read_text(errors="replace") if log.exists() else ""
        if text in written:
            return written
        time.sleep(0.2)
    return log.read_text(errors="replace") if log.exists() else ""


@pytest.mark.slow
def test_flask_run_reports_a_crash_with_python_tracebacks(config: dict) -> None:
    with FlaskServer(config) as server:
        assert server.process is not None
        # The socket listens before the server has logged its start and entered its
        # loop; a request answered means the loop is running, whose stack the log shows.
        assert requests.get(f"{server.url}/robots.txt", timeout=30).status_code == 200
        # The request's thread logs its line last; once it is written the thread is ending
        # and the dump walks quiet stacks (faulthandler reads them without the GIL).
        wait_for('"GET /robots.txt HTTP/1.1" 200', server.log)
        time.sleep(0.5)
        os.kill(server.process.pid, signal.SIGSEGV)
        assert server.process.wait(timeout=30) == -signal.SIGSEGV
    log = server.log.read_text(errors="replace")
    assert "Fatal Python error: Segmentation fault" in log
    # The threads' Python stacks: at least one whole frame, file, line and function. Which
    # thread comes first is the interpreter's order, so no one function is required.
    assert re.search(r'File "[^"]+\.py", line \d+ in \w+', log), log


@pytest.mark.slow
def test_a_gunicorn_worker_reports_a_crash_in_the_error_log(config: dict, tmp_path: Path) -> None:
    error_log = tmp_path / "gunicorn-error.log"
    with GunicornServer(config, workers=2, HUB_ERROR_LOG=str(error_log)) as server:
        worker = server.worker_pids()[0]
        os.kill(worker, signal.SIGSEGV)
        written = wait_for(f"Worker (pid:{worker}) was sent SIGSEGV", error_log)
    assert "Fatal Python error: Segmentation fault" in written
    assert 'File "' in written and "gunicorn/workers" in written
