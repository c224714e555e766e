"""Run a `flask --app app hub ...` command that kills itself with SIGKILL at a chosen
step, as a power cut or the kernel's out-of-memory killer would.

    python -m tests.crashing STEP N hub import FOLDER --manifest M --release

STEP is where, N the how-manieth time the step is reached:

- blob-write: a file's bytes are in the store's temporary file, not yet renamed;
- after-blob-write: the file is in the store, nothing about it in the database;
- before-commit: a transaction is about to commit;
- after-commit: a transaction has committed, the index not yet written;
- index-commit: the index's new segment is written, its table of contents not yet.

The hub's code is not changed: the kill rides on public hooks (SQLAlchemy session
events, the store's and Whoosh's own methods), so what crashes is the code that runs.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from flask.cli import main as flask_main
from sqlalchemy import event
from sqlalchemy.orm import Session
from whoosh.index import TOC

from knowledge_hub.storage import BlobStore

STEPS = ("blob-write", "after-blob-write", "before-commit", "after-commit", "index-commit")


def crash_at(step: str, nth: int) -> None:
    reached = 0

    def reach() -> None:
        nonlocal reached
        reached += 1
        if reached == nth:
            os.kill(os.getpid(), signal.SIGKILL)

    if step in ("blob-write", "after-blob-write"):
        put = BlobStore.put

        def put_then_crash(self: BlobStore, stream: Any, max_size: int | None = None) -> Any:
            if step == "blob-write":
                stream = _CrashAtEnd(stream, reach)
            stored = put(self, stream, max_size)
            if step == "after-blob-write":
                reach()
            return stored

        BlobStore.put = put_then_crash  # type: ignore[method-assign]
    elif step == "before-commit":
        event.listen(Session, "before_commit", lambda session: reach())
    elif step == "after-commit":
        event.listen(Session, "after_commit", lambda session: reach())
    elif step == "index-commit":
        write = TOC.write

        def write_toc(self: TOC, storage: Any, indexname: str) -> None:
            reach()
            write(self, storage, indexname)

        TOC.write = write_toc  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown step {step!r}; one of {', '.join(STEPS)}")


class _CrashAtEnd:
    """A stream that kills the process when its reader asks past the last byte: the
    bytes are in the temporary file, the file not yet synced or renamed."""

    def __init__(self, stream: Any, reach: Any) -> None:
        self.stream = stream
        self.reach = reach

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        if not data:
            self.reach()
        return data


if __name__ == "__main__":
    crash_at(sys.argv[1], int(sys.argv[2]))
    sys.argv = ["flask", "--app", "app", *sys.argv[3:]]
    flask_main()
