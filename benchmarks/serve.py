"""Serve a hub instance folder with gunicorn for a load test, and read its workers.

An instance folder holds hub.sqlite, index/ and uploads/ (as benchmarks.generate makes
them). `Server` starts `gunicorn -c gunicorn.conf.py app:app` on a free port of
127.0.0.1 with the folder's database, index and uploads, waits until it answers, finds
its workers, and stops it with SIGTERM (gunicorn's graceful shutdown).

Worker figures come from /proc: RSS and PSS from smaps_rollup (PSS shares the pages a
worker has in common with the master and its siblings among them), USS as its private
pages, open descriptors from /proc/PID/fd, CPU time from /proc/PID/stat.
"""

from __future__ import annotations

import http.client
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout


def code_version() -> str:
    """The commit being served, and how many tracked files differ from it."""
    try:
        head = _git("rev-parse", "--short", "HEAD").strip()
        changed = _git("status", "--porcelain", "--untracked-files=no").splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    if not changed:
        return head
    return f"{head} with {len(changed)} modified files ({', '.join(line[3:] for line in changed)})"


def set_priority(nice: int) -> None:
    """Run this process, and the server and clients it starts, at a niceness.

    With the kernel's autogroup scheduling, niceness only orders the processes of one
    session against each other; each session's group has a niceness of its own. When the
    benchmark leads its own session (started with `setsid -w`), that is set as well, so
    it takes the cores from other sessions' work; the group ends with the session.
    """
    os.nice(nice)
    autogroup = Path("/proc/self/autogroup")
    if autogroup.exists() and os.getsid(0) == os.getpid():
        autogroup.write_text(str(nice))


def priority() -> str:
    """This process's niceness, and its session group's where the kernel has them."""
    text = f"niceness {os.getpriority(os.PRIO_PROCESS, 0)}"
    try:
        group = Path("/proc/self/autogroup").read_text().split()
    except OSError:
        return text
    return f"{text}, session group {group[0].lstrip('/')} {' '.join(group[1:])}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def instance_environment(directory: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment that points the hub at an instance folder and binds gunicorn."""
    directory = directory.resolve()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{directory / 'hub.sqlite'}",
        HUB_INDEX_DIR=str(directory / "index"),
        HUB_UPLOAD_DIR=str(directory / "uploads"),
        HUB_SECURE_COOKIES="0",
        HUB_BIND=f"127.0.0.1:{port}",
        HUB_ACCESS_LOG="/dev/null",
    )
    env.update(extra)
    return env


@dataclass
class ProcessSample:
    pid: int
    rss_kb: int
    pss_kb: int
    uss_kb: int
    fds: int
    cpu_seconds: float

    @property
    def rss_mb(self) -> float:
        return self.rss_kb / 1024

    @property
    def pss_mb(self) -> float:
        return self.pss_kb / 1024

    @property
    def uss_mb(self) -> float:
        return self.uss_kb / 1024


def sample_process(pid: int) -> ProcessSample | None:
    """Memory, descriptors and CPU time of a process, or None if it has gone."""
    try:
        fields: dict[str, int] = {}
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, __, rest = line.partition(":")
            fields[name.strip()] = int(rest.split()[0])
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name may hold spaces and parentheses: split after its closing one.
    rest = stat[stat.rindex(")") + 2 :].split()
    cpu = (int(rest[11]) + int(rest[12])) / CLOCK_TICKS  # utime + stime
    return ProcessSample(
        pid=pid,
        rss_kb=fields.get("Rss", 0),
        pss_kb=fields.get("Pss", 0),
        uss_kb=fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0),
        fds=fds,
        cpu_seconds=cpu,
    )


def machine_busy_seconds() -> float:
    """CPU time spent by every process of the machine since boot (all cores), from
    /proc/stat: what is not idle or waiting for I/O."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    # guest time is already counted in user time
    return (sum(values[:8]) - idle) / CLOCK_TICKS


def children_of(pid: int) -> list[int]:
    """The direct children of a process, by scanning /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == pid:
            found.append(int(entry))
    return sorted(found)


class Server:
    """gunicorn serving one instance folder on 127.0.0.1, for as long as the block lasts."""

    def __init__(
        self,
        directory: Path,
        *,
        workers: int | None = None,
        max_requests: int | None = None,
        log_path: Path | None = None,
        extra_env: dict[str, str] | None = None,
        app: str = "app:app",
    ) -> None:
        self.directory = Path(directory)
        for part in ("hub.sqlite", "index", "uploads"):
            if not (self.directory / part).exists():
                raise SystemExit(f"{self.directory} is not a hub instance folder: no {part}")
        self.port = free_port()
        extra = dict(extra_env or {})
        if workers is not None:
            extra["HUB_WORKERS"] = str(workers)
        if max_requests is not None:
            # gunicorn reads 0 as "never recycle".
            extra["HUB_MAX_REQUESTS"] = str(max_requests)
        self.log_path = log_path or Path(f"/tmp/hub-gunicorn-{self.port}.log")
        extra.setdefault("HUB_ERROR_LOG", str(self.log_path))
        extra.setdefault("HUB_LOG_LEVEL", "warning")
        self.env = instance_environment(self.directory, self.port, **extra)
        self.app = app
        self.process: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def start(self, timeout: float = 120.0) -> None:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [str(gunicorn), "-c", "gunicorn.conf.py", self.app],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        expected_workers = self._expected_workers()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(
                    f"gunicorn exited with status {self.process.returncode}; see {self.log_path}"
                )
            # With preload_app, the first worker answers while the master may still be
            # forking the others: figures are taken with every worker running.
            if self._answers() and len(self.worker_pids()) == expected_workers:
                return
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s; see {self.log_path}")

    def _expected_workers(self) -> int:
        """The worker count gunicorn.conf.py gives in the server's environment."""
        if self.env.get("HUB_WORKERS", "").strip():
            return int(self.env["HUB_WORKERS"])
        return runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))["workers"]

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request("GET", "/robots.txt")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    @property
    def master_pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def worker_pids(self) -> list[int]:
        return children_of(self.master_pid)

    def sample_workers(self) -> list[ProcessSample]:
        return [s for s in map(sample_process, self.worker_pids()) if s is not None]

    def stop(self, timeout: float = 60.0) -> int | None:
        """Stop gunicorn gracefully (SIGTERM) and return its exit status."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def log_problems(self) -> list[str]:
        """Lines of gunicorn's error log that report a problem (tracebacks, timeouts)."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []
        markers = ("[ERROR]", "[CRITICAL]", "Traceback", "WORKER TIMEOUT", "SIGKILL")
        return [line for line in lines if any(m in line for m in markers)]

    def print_stop_report(self, status: int | None) -> None:
        """How gunicorn ended, and the first problem lines of its log."""
        problems = self.log_problems()
        print(
            f"gunicorn stopped with status {status}; {len(problems)} problem lines in "
            f"{self.log_path}"
        )
        for line in problems[:10]:
            print("  " + line)

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
