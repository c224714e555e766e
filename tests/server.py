"""The hub run for real, over a test's database and folders: its commands in new
processes, and gunicorn with the project's gunicorn.conf.py and several workers on a
free port of 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

import requests

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port: int) -> bool:
    """Whether something listens on the port: a connection opened and closed, no request."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def environment(config: dict, **more: str) -> dict[str, str]:
    """The environment that points the hub's own commands at a test's database and
    folders, as an operator's environment points them at production's."""
    return {
        **os.environ,
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "HUB_INDEX_DIR": str(config["INDEX_DIR"]),
        "HUB_UPLOAD_DIR": str(config["UPLOAD_DIR"]),
        "SECRET_KEY": "test",
        "HUB_SECURE_COOKIES": "0",
        "FLASK_SEARCH_SECONDS": "60",  # as in the in-process tests' configuration
        **more,
    }


def run_hub(
    config: dict, *args: str, module: str = "flask", input: str | None = None
) -> subprocess.CompletedProcess:
    """Run `flask --app app ARGS` (or `python -m MODULE ARGS`) in a new process, with
    `input` on its standard input."""
    command = [sys.executable, "-m", module]
    command += ["--app", "app", *args] if module == "flask" else list(args)
    return subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=environment(config),
        input=input,
        capture_output=True,
        text=True,
    )


class ServerProcess:
    """A server started as its own process on a free port of 127.0.0.1, its output in
    a log file beside the test's folders."""

    name = "server"
    #: How long `with` waits for the server to be ready.
    start_timeout = 60.0

    def __init__(self, config: dict, log_name: str, **more: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(config["INDEX_DIR"]).parent / log_name
        self.env = environment(config, **more)
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float = 60.0) -> Self:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} ended at start:\n{self.log.read_text()}")
            if self.ready():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} was not ready in {timeout} s:\n{self.log.read_text()}")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if not self.running():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Self:
        return self.start(self.start_timeout)

    def __exit__(self, *exc: object) -> None:
        self.stop()


class GunicornServer(ServerProcess):
    """`gunicorn -c gunicorn.conf.py app:app`, configured through the environment only,
    as production is. Ready when every worker runs and one answers a request, or, with
    `quietly`, when it listens: then the test's own first request is the server's first."""

    name = "gunicorn"

    def __init__(self, config: dict, workers: int = 3, *, quietly: bool = False, **more: str):
        super().__init__(
            config, "gunicorn.log", HUB_WORKERS=str(workers), HUB_ACCESS_LOG="/dev/null", **more
        )
        self.env["HUB_BIND"] = f"127.0.0.1:{self.port}"
        # gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl),
        # which two servers at once (tests in two processes) would take from each other:
        # each server gets its own, in a short folder (a socket path has a length limit).
        self.control = Path(tempfile.mkdtemp(prefix="hub-gunicorn-"))
        self.env["GUNICORN_CMD_ARGS"] = f"--control-socket {self.control / 'gunicorn.ctl'}"
        self.workers = workers
        self.quietly = quietly

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            shutil.rmtree(self.control, ignore_errors=True)

    def command(self) -> list[str]:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        return [gunicorn, "-c", "gunicorn.conf.py", "app:app"]

    def ready(self) -> bool:
        # With preload_app, the first worker answers while the master may still be
        # forking the others: ready means answering with every worker running.
        answers = accepts(self.port) if self.quietly else self._answers()
        return answers and len(self.worker_pids()) == self.workers

    def _answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/robots.txt", timeout=10).status_code == 200
        except requests.RequestException:  # not listening yet, or still booting
            return False

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


class FlaskServer(ServerProcess):
    """`flask --app app run`, the threaded development server of the README's first
    command, configured through the environment. Ready when it listens, before any
    request: the test's own first request is the server's first."""

    name = "flask run"

    def __init__(self, config: dict, **more: str) -> None:
        super().__init__(config, "flask.log", **more)

    def command(self) -> list[str]:
        flask = [sys.executable, "-m", "flask", "--app", "app"]
        return [*flask, "run", "--with-threads", "--port", str(self.port)]

    def ready(self) -> bool:
        return accepts(self.port)
