"""What counting views and downloads (COUNTER usage statistics) costs a request, in CPU
time, measured in one process with counting on and off in alternating rounds.

    .venv/bin/python -m benchmarks.usage_counting --dir DIR [--rounds 6] [--requests 300]

DIR is a hub instance folder (hub.sqlite, index/, uploads/), e.g. one made by `hub init`
and `hub demo` with DATABASE_URL, HUB_INDEX_DIR and HUB_UPLOAD_DIR pointing into it. The
application is built as a server builds it (counting written by its background thread
once a second); each round asks for `--requests` record pages and files of released
public records (3 pages to 1 file, as the HTTP load's mix), each from a new address
with a browser's user agent, so that every request is counted and none is a double
click. The process's CPU time (the writer thread's included) per request is printed
per round and as the median of each arm; on a machine shared with other work, CPU time
is steadier than latency.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from sqlalchemy import select

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    folder = args.dir.resolve()
    os.environ.update(
        DATABASE_URL=f"sqlite:///{folder / 'hub.sqlite'}",
        HUB_INDEX_DIR=str(folder / "index"),
        HUB_UPLOAD_DIR=str(folder / "uploads"),
        SECRET_KEY=os.environ.get("SECRET_KEY", "benchmark"),
    )
    from knowledge_hub import create_app
    from knowledge_hub.extensions import db
    from knowledge_hub.models import AccessLevel
    from knowledge_hub.models import Document
    from knowledge_hub.models import DocumentStatus
    from knowledge_hub.models import UsageCount
    from knowledge_hub.services import statistics as usage

    app = create_app()
    with app.app_context():
        documents = db.session.scalars(
            select(Document).where(
                Document.status == DocumentStatus.RELEASED, Document.access == AccessLevel.PUBLIC
            )
        ).all()
        pages = [f"/documents/{d.id}" for d in documents]
        files = [
            f"/documents/{d.id}/files/{f.id}"
            for d in documents
            for v in d.variants
            for f in v.files
        ]
    client = app.test_client()
    plan = [pages[i % len(pages)] if i % 4 else files[i % len(files)] for i in range(args.requests)]
    for path in plan[:50]:  # warm caches, searchers and connections
        client.get(path, headers={"User-Agent": BROWSER}).close()
    print(f"{len(pages)} pages, {len(files)} files; {args.requests} requests a round")
    costs: dict[bool, list[float]] = {True: [], False: []}
    visitor = 0
    for number in range(args.rounds):
        for counting in (True, False) if number % 2 == 0 else (False, True):
            app.config["USAGE_STATISTICS"] = counting
            usage.recorder(app).flush()
            began_cpu, began = time.process_time(), time.perf_counter()
            for path in plan:
                visitor += 1
                address = f"10.{visitor // 65536 % 256}.{visitor // 256 % 256}.{visitor % 256}"
                client.get(
                    path, headers={"User-Agent": BROWSER}, environ_base={"REMOTE_ADDR": address}
                ).close()
            time.sleep(1.2)  # the writer's next round falls inside this one
            usage.recorder(app).flush()
            cpu = (time.process_time() - began_cpu) / len(plan) * 1000
            wall = (time.perf_counter() - began - 1.2) / len(plan) * 1000
            costs[counting].append(cpu)
            state = "on " if counting else "off"
            print(f"round {number + 1} counting {state}: {cpu:.2f} ms CPU, {wall:.2f} ms a request")
    on, off = statistics.median(costs[True]), statistics.median(costs[False])
    with app.app_context():
        counted = db.session.scalar(select(db.func.sum(UsageCount.count)))
    print(f"median CPU a request: on {on:.2f} ms, off {off:.2f} ms", end=", ")
    print(f"difference {on - off:+.2f} ms ({(on - off) / off:+.1%})")
    print(f"requests counted in the database: {counted}")


if __name__ == "__main__":
    main()
