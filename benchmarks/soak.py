"""A long steady load on a hub under gunicorn, watching each worker's memory and open
file descriptors for growth.

    .venv/bin/python -m benchmarks.soak --dir DIR [--minutes 10] [--clients 8]
        [--interval 10] [--settle 120] [--max-requests 0] [--workers N] [--json FILE]
        (and the request mix and server options of benchmarks.http_load)

Serves the instance folder DIR as benchmarks.http_load does, with the same request mix,
and samples every gunicorn worker every `--interval` seconds: RSS, PSS and USS from
/proc/PID/smaps_rollup and the number of entries in /proc/PID/fd. It prints the series,
each worker's first, last and largest figures, and flags growth.

gunicorn recycles a worker after max_requests requests (gunicorn.conf.py: 2000, plus
up to 200 of jitter; HUB_MAX_REQUESTS). A recycled worker is a new process that starts
small, which would hide a leak, so the soak runs with recycling off (`--max-requests 0`)
by default: what it shows is what a worker does when it lives for the whole run. Pass
`--max-requests 2000` to watch the production setting; the series then follows each
process by its PID and says when one is replaced.

Growth is judged for each process from its first sample `--settle` seconds after its own
first one (caches fill in the first minutes: compiled SQL, templates, the searcher's
columns, read posting lists) to its last: a worker is flagged when the fewest
descriptors it had open in the last quarter of those samples exceed the most it had in
the first quarter (a sample may catch a client connection open for a moment), or when
its RSS grew by more than `--rss-tolerance` MB.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict

from benchmarks.http_load import LoadRun
from benchmarks.http_load import common_arguments
from benchmarks.http_load import discover
from benchmarks.http_load import latency_rows
from benchmarks.http_load import parse_mix
from benchmarks.http_load import percentile
from benchmarks.http_load import print_catalogue
from benchmarks.http_load import print_cpu
from benchmarks.http_load import print_latency
from benchmarks.http_load import warm_up
from benchmarks.serve import ProcessSample
from benchmarks.serve import Server
from benchmarks.serve import code_version
from benchmarks.serve import machine_busy_seconds
from benchmarks.serve import priority
from benchmarks.serve import sample_process
from benchmarks.serve import set_priority


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, __ in points) / n
    mean_v = sum(v for __, v in points) / n
    var = sum((t - mean_t) ** 2 for t, __ in points)
    if var == 0:
        return 0.0
    return 60 * sum((t - mean_t) * (v - mean_v) for t, v in points) / var


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common_arguments(parser, clients=8)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    parser.add_argument(
        "--settle",
        type=float,
        default=120.0,
        help="seconds of each process's life after which growth is judged (caches fill first)",
    )
    parser.add_argument("--rss-tolerance", type=float, default=10.0, help="MB")
    parser.set_defaults(max_requests=0, warmup=20.0)
    args = parser.parse_args(argv)
    seconds = args.minutes * 60
    if args.nice:
        set_priority(args.nice)  # gunicorn and the client processes inherit it

    catalogue = discover(args.dir, seed=args.seed)
    print(f"instance {args.dir.resolve()}")
    print(f"code {code_version()}")
    print_catalogue(catalogue)
    server = Server(args.dir, workers=args.workers, max_requests=args.max_requests, app=args.app)
    server.start()
    #: pid -> [(t, sample)]
    series: dict[int, list[tuple[float, ProcessSample]]] = defaultdict(list)
    master_series: list[tuple[float, ProcessSample]] = []
    try:
        recycling = (
            "off" if args.max_requests == 0 else f"after {args.max_requests} requests (+ jitter)"
        )
        print(
            f"gunicorn pid {server.master_pid} on 127.0.0.1:{server.port}, "
            f"{len(server.worker_pids())} workers, worker recycling {recycling}"
            + (f", {priority()}" if args.nice else "")
        )
        warm_up(server, catalogue, args)
        run = LoadRun(
            server,
            catalogue,
            clients=args.clients,
            seconds=seconds,
            processes=args.processes,
            mix=parse_mix(args.mix),
            seed=args.seed,
            think_ms=args.think_ms,
        )
        busy_before = machine_busy_seconds()
        run.start()
        start = run.start_at
        time.sleep(max(0.0, start - time.monotonic()))
        #: CPU time each worker had used when the measured load began; workers started
        #: later count from 0 (their start-up is part of the load's cost).
        cpu_before = {s.pid: s.cpu_seconds for s in server.sample_workers()}
        print()
        print(f"{'t s':>5}  per worker: pid RSS/PSS MB fds")
        tick = 0
        while True:
            now = time.monotonic() - start
            samples = server.sample_workers()
            master = sample_process(server.master_pid)
            for s in samples:
                series[s.pid].append((now, s))
            if master:
                master_series.append((now, master))
            print(
                f"{now:>5.0f}  "
                + "  ".join(f"{s.pid} {s.rss_mb:.0f}/{s.pss_mb:.0f} {s.fds}" for s in samples),
                flush=True,
            )
            tick += 1
            if now >= seconds:
                break
            time.sleep(max(0.0, start + tick * args.interval - time.monotonic()))
        result = run.collect()
        busy = machine_busy_seconds() - busy_before
        for s in server.sample_workers():
            series[s.pid].append((time.monotonic() - start, s))
    finally:
        status = server.stop()

    span = result.span
    print()
    print(
        f"{args.clients} clients in {run.processes} processes for {args.minutes:g} min: "
        f"{len(result.samples)} requests, {len(result.samples) / span:.1f} requests/s, "
        f"{result.error_count()} errors"
    )
    print_latency(latency_rows(result.samples, span))
    # A recycled worker's CPU is counted up to its last sample (at most one interval short).
    server_cpu = sum(
        points[-1][1].cpu_seconds - cpu_before.get(pid, 0.0) for pid, points in series.items()
    )
    print_cpu(result.client_cpu, server_cpu, busy, span, len(result.samples))

    # Throughput and latency per minute: does the server slow down as it runs?
    by_minute: dict[int, list[float]] = defaultdict(list)
    for s in result.samples:
        by_minute[int(s[1] // 60)].append(s[2] * 1000)
    print()
    print(f"{'minute':>6} {'requests':>8} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for minute in sorted(by_minute):
        ms = sorted(by_minute[minute])
        print(
            f"{minute + 1:>6} {len(ms):>8} {len(ms) / 60:>6.1f} {percentile(ms, 50):>7.1f} "
            f"{percentile(ms, 95):>7.1f} {percentile(ms, 99):>7.1f}"
        )

    print()
    print(
        f"{'process':<14} {'from s':>6} {'to s':>5} {'RSS first':>9} {'last':>6} {'max':>6} "
        f"{'PSS first':>9} {'last':>6} {'max':>6} {'fds first':>9} {'last':>5} {'max':>5} "
        f"{'RSS MB/min':>10} {'2nd half':>8}"
    )
    flagged = []
    entries = [
        (f"worker {pid}", points)
        for pid, points in sorted(series.items(), key=lambda item: (item[1][0][0], item[0]))
    ]
    entries.append((f"master {server.master_pid}", master_series))
    for label, points in entries:
        first, last = points[0][1], points[-1][1]
        # Each process from `settle` seconds after its own first sample: a worker started
        # by recycling fills its caches as the first ones did.
        settled = [(t, s) for t, s in points if t >= points[0][0] + args.settle] or points[-1:]
        base = settled[0][1]
        trend = slope_per_minute([(t, s.rss_mb) for t, s in settled])
        # Caches with a bound grow and then level off; a leak keeps its slope to the end.
        late = slope_per_minute([(t, s.rss_mb) for t, s in settled[len(settled) // 2 :]])
        print(
            f"{label:<14} {points[0][0]:>6.0f} {points[-1][0]:>5.0f} {first.rss_mb:>9.1f} "
            f"{last.rss_mb:>6.1f} {max(s.rss_mb for __, s in points):>6.1f} "
            f"{first.pss_mb:>9.1f} {last.pss_mb:>6.1f} {max(s.pss_mb for __, s in points):>6.1f} "
            f"{first.fds:>9} {last.fds:>5} {max(s.fds for __, s in points):>5} {trend:>10.2f} "
            f"{late:>8.2f}"
        )
        if len(settled) > 1:
            # A sample may catch a client connection or a database file open for a moment:
            # descriptors leak when the fewest open late exceed the most open early.
            quarter = max(1, len(settled) // 4)
            early = max(s.fds for __, s in settled[:quarter])
            late_fds = min(s.fds for __, s in settled[-quarter:])
            if late_fds > early:
                flagged.append(
                    f"{label}: open fds at least {late_fds} at the end, at most {early} "
                    f"from {settled[0][0]:.0f} s"
                )
            if last.rss_mb - base.rss_mb > args.rss_tolerance:
                flagged.append(
                    f"{label}: RSS {base.rss_mb:.1f} -> {last.rss_mb:.1f} MB "
                    f"from {settled[0][0]:.0f} s"
                )
    replaced = [pid for pid, points in series.items() if points[-1][0] < seconds - args.interval]
    started_late = [pid for pid, points in series.items() if points[0][0] > args.interval]
    if replaced or started_late:
        print(
            f"workers recycled: {len(replaced)} left, {len(started_late)} started during the run "
            "(each new worker starts small and opens its searcher again)"
        )
    print()
    if flagged:
        print("GROWTH:")
        for line in flagged:
            print("  " + line)
    else:
        print(
            f"no growth: no worker's open descriptors rose for good, and none grew by more than "
            f"{args.rss_tolerance:g} MB of RSS, after its first {args.settle:.0f} s"
        )
    server.print_stop_report(status)

    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "instance": str(args.dir.resolve()),
                    "minutes": args.minutes,
                    "clients": args.clients,
                    "max_requests": args.max_requests,
                    "requests": len(result.samples),
                    "requests_per_second": len(result.samples) / span,
                    "errors": result.error_count(),
                    "latency": latency_rows(result.samples, span),
                    "series": {
                        str(pid): [(t, vars(s)) for t, s in points]
                        for pid, points in series.items()
                    },
                    "master": [(t, vars(s)) for t, s in master_series],
                    "flagged": flagged,
                },
                indent=2,
            )
        )
    return 1 if flagged or result.error_count() else 0


if __name__ == "__main__":
    sys.exit(main())
