"""The hub run for real, over a test's database and folders: its commands in new
processes, and gunicorn with the project's gunicorn.conf.py and several workers on a
free port of 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        **more,
    }


def run_hub(config: dict, *args: str, module: str = "flask") -> subprocess.CompletedProcess:
    """Run `flask --app app ARGS` (or `python -m MODULE ARGS`) in a new process."""
    command = [sys.executable, "-m", module]
    command += ["--app", "app", *args] if module == "flask" else list(args)
    return subprocess.run(
        command, cwd=PROJECT_ROOT, env=environment(config), capture_output=True, text=True
    )


class GunicornServer:
    """`gunicorn -c gunicorn.conf.py app:app`, configured through the environment only,
    as production is."""

    def __init__(self, config: dict, workers: int = 3, **more: str) -> None:
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(config["INDEX_DIR"]).parent / "gunicorn.log"
        self.env = environment(
            config,
            HUB_BIND=f"127.0.0.1:{self.port}",
            HUB_WORKERS=str(workers),
            HUB_ACCESS_LOG="/dev/null",
            **more,
        )
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> GunicornServer:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(gunicorn), "-c", "gunicorn.conf.py", "app:app"],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn ended at start:\n{self.log.read_text()}")
            # With preload_app, the first worker answers while the master may still be
            # forking the others: ready means answering with every worker running.
            if self._answers() and len(self.worker_pids()) == self.workers:
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer in {timeout} s:\n{self.log.read_text()}")

    def _answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/robots.txt", timeout=10).status_code == 200
        except requests.RequestException:  # not listening yet, or still booting
            return False

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
