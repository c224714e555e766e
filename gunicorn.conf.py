"""gunicorn settings for the hub: `.venv/bin/gunicorn app:app` reads this file.

Every value can be changed from the environment (HUB_WORKERS, HUB_BIND, …) or on the
command line; the defaults suit one machine behind a reverse proxy on the same host.
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import subprocess
import sys


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


#: Listen on this machine only; nginx (or another proxy) faces the network.
bind = os.environ.get("HUB_BIND", "127.0.0.1:8000")

#: 2 x cores + 1, capped at 4: every worker keeps its own open searcher and column
#: arrays in memory, and the database, not the worker count, is the usual limit.
workers = _int("HUB_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 4))
worker_class = "sync"

#: The master imports the application once and the workers are forked from it, so the
#: pages of its modules (over 120 MB) are shared until written to. Building the app opens
#: nothing: each worker opens its own database connections and index searcher after
#: the fork, so nothing open is shared between processes.
preload_app = True

#: Uploads and bulk imports extract text in a child process with its own time limit
#: (EXTRACTION_SECONDS, 60 s by default); the request must outlive it.
timeout = _int("HUB_TIMEOUT", 120)
graceful_timeout = _int("HUB_GRACEFUL_TIMEOUT", 30)
keepalive = 5

#: Recycle workers now and then so that no slow growth of memory lasts.
max_requests = _int("HUB_MAX_REQUESTS", 2000)
max_requests_jitter = 200

#: Request line and header limits (the body limit is MAX_CONTENT_LENGTH in the app).
limit_request_line = 8190
limit_request_fields = 100

#: Logs to stdout and stderr, for systemd's journal or the container's log.
accesslog = os.environ.get("HUB_ACCESS_LOG", "-")
errorlog = os.environ.get("HUB_ERROR_LOG", "-")
loglevel = os.environ.get("HUB_LOG_LEVEL", "info")
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)sus'

#: The master and every worker forked from it write the Python traceback of each thread
#: to the error log if they crash below Python (segmentation fault, abort, bus error);
#: gunicorn alone would only log that a worker was sent a signal. Kept open for as long
#: as the process lives: faulthandler writes to its descriptor.
_crash_log = sys.stderr if errorlog == "-" else open(errorlog, "a")  # noqa: SIM115
faulthandler.enable(file=_crash_log, all_threads=True)

#: Trust X-Forwarded-* only from a proxy on this machine.
forwarded_allow_ips = os.environ.get("HUB_FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server: object) -> None:
    """A first start (a database without tables) sets the hub up here, before the port
    opens and the workers start, in a process of its own: the master forks the workers
    with nothing open, and no worker's first request waits for it past `timeout`."""
    here = os.path.dirname(os.path.abspath(__file__))
    command = [sys.executable, "-m", "flask", "--app", "app", "hub", "first-start"]
    subprocess.run(command, cwd=here, check=False)  # on failure the workers try again


def post_worker_init(worker: object) -> None:
    """Start the worker's outbox drainer: index work that found the lock busy waits
    at most INDEX_DRAIN_SECONDS before some worker applies it."""
    from knowledge_hub.search.drainer import start_drainer

    start_drainer(worker.wsgi)  # type: ignore[attr-defined]
