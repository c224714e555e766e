"""HTTP load on a hub served by gunicorn: throughput, latency per kind of page, errors,
and the workers' memory and open descriptors afterwards.

    .venv/bin/python -m benchmarks.http_load --dir DIR [--clients 20] [--seconds 60]
        [--workers N] [--processes 2] [--seed 1] [--warmup 10] [--think-ms 0]
        [--mix search=40,facet=20,landing=30,download=10] [--max-requests N]
        [--app app:app] [--nice N] [--json FILE]

On a machine shared with other work, `setsid -w .venv/bin/python -m benchmarks.http_load
... --nice -15` (as root) gives the server and the clients the cores first; the printed
CPU split says how much went elsewhere either way.

DIR is a hub instance folder (hub.sqlite, index/, uploads/), e.g. one made by
`python -m benchmarks.generate`. The script starts gunicorn with gunicorn.conf.py on a
free port of 127.0.0.1, reads the addresses to request from the folder's database
(released public records, their files, the facet values they carry, words of their
titles and summaries), warms the workers up, then runs `--clients` closed-loop clients
for `--seconds`: each sends a request, reads the whole response, and sends the next at
once (no think time unless --think-ms). The mix of kinds is drawn from a seeded random
generator per client:

- search:   /search?q=1-3 words of one title or summary (some with a facet filter, a
            second page, or sort=newest)
- facet:    /search with an empty query and one or two facet values (kind, type, year,
            language, organization, topic, region), some on a later page or sorted
- landing:  /documents/<id> (some with ?lang=)
- download: /documents/<id>/files/<file id>
- api:      /api/search?q=... (not in the default mix)

The clients are threads spread over several processes (`--processes`, forked), each
thread with its own connection; gunicorn's sync workers close the connection after
every response, so each request opens a new one, as a browser behind a proxy would.
The client's own CPU time is printed beside the server's, to show it is not the limit.

Any status outside 2xx/3xx, and any connection error or timeout, counts as an error.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import resource
import sqlite3
import sys
import threading
import time
from collections import Counter
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from urllib.parse import quote
from urllib.parse import urlencode

from benchmarks.serve import ProcessSample
from benchmarks.serve import Server
from benchmarks.serve import code_version
from benchmarks.serve import machine_busy_seconds
from benchmarks.serve import priority
from benchmarks.serve import sample_process
from benchmarks.serve import set_priority

KINDS = ("search", "facet", "landing", "download", "api")
DEFAULT_MIX = "search=40,facet=20,landing=30,download=10"

#: Interface languages the clients' browsers ask for (Accept-Language), by weight.
READER_LANGUAGES = {"en": 50, "fr": 15, "es": 15, "ar": 7, "zh": 7, "ru": 6}

#: Short words not worth searching for, in the languages whose titles split on spaces.
STOP_WORDS = frozenset(
    """
    about after also among and are based been between both but can could does during each
    for from has have how including into its more most new not other our over such than
    that the their them then there these they this those through towards under upon was
    were what when where which while who will with within without would your
    aux avec ces dans des du elle est les leur leurs mais par pas plus pour que qui sont sur
    une nos notre entre comme être ainsi
    las los del por para con una como sobre entre más sus este esta estos estas ser son
    что как для или его они это при над под без
    """.split()
)
WORD = re.compile(r"[^\W\d_]{4,}")
CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


# --- what to request


@dataclass
class Catalogue:
    """Addresses and words read from an instance folder's database."""

    records: list[int]
    record_languages: dict[int, list[str]]
    files: list[tuple[int, int]]
    #: facet name -> (values, weights), weights the number of public records with it
    facets: dict[str, tuple[list[str], list[int]]]
    #: word sequences from titles and summaries, each a candidate query
    phrases: list[list[str]]
    counts: dict[str, int] = field(default_factory=dict)


def discover(directory: Path, *, seed: int = 1, sample: int = 5000) -> Catalogue:
    """Read what an anonymous reader can reach in the folder's database (read-only)."""
    path = (Path(directory) / "hub.sqlite").resolve()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.execute("PRAGMA query_only = 1")
    public = "d.status = 'released' AND d.access = 'public'"
    approved = "v.status = 'approved'"
    languages: dict[int, list[str]] = defaultdict(list)
    for document_id, language in db.execute(
        f"SELECT d.id, v.language FROM document d JOIN variant v ON v.document_id = d.id "
        f"WHERE {public} AND {approved} ORDER BY d.id, v.id"
    ):
        languages[document_id].append(language)
    records = sorted(languages)
    files = db.execute(
        f"SELECT d.id, f.id FROM stored_file f JOIN variant v ON f.variant_id = v.id "
        f"JOIN document d ON v.document_id = d.id WHERE {public} AND {approved} ORDER BY f.id"
    ).fetchall()
    facet_queries = {
        "kind": f"SELECT d.kind, count(*) FROM document d WHERE {public} GROUP BY 1",
        "type": f"SELECT t.code, count(*) FROM document d JOIN doc_type t "
        f"ON d.doc_type_id = t.id WHERE {public} GROUP BY 1",
        "year": f"SELECT substr(d.date, 1, 4), count(*) FROM document d "
        f"WHERE {public} AND d.date IS NOT NULL GROUP BY 1",
        "language": f"SELECT v.language, count(DISTINCT d.id) FROM document d "
        f"JOIN variant v ON v.document_id = d.id WHERE {public} AND {approved} GROUP BY 1",
        "organization": f"SELECT o.acronym, count(*) FROM document d "
        f"JOIN document_organization l ON l.document_id = d.id "
        f"JOIN organization o ON l.organization_id = o.id WHERE {public} GROUP BY 1",
        "topic": f"SELECT t.code, count(*) FROM document d JOIN document_topic l "
        f"ON l.document_id = d.id JOIN topic t ON l.topic_id = t.id WHERE {public} GROUP BY 1",
        "region": f"SELECT l.region_code, count(*) FROM document d JOIN document_region l "
        f"ON l.document_id = d.id WHERE {public} GROUP BY 1",
    }
    facets = {}
    for name, sql in facet_queries.items():
        rows = [(str(v), n) for v, n in db.execute(sql) if v]
        if rows:
            facets[name] = ([v for v, __ in rows], [n for __, n in rows])
    # A seeded sample of titles and summaries: SQLite's random() is not seedable, so
    # pick ids in Python.
    variant_ids = [
        row[0]
        for row in db.execute(
            f"SELECT v.id FROM variant v JOIN document d ON v.document_id = d.id "
            f"WHERE {public} AND {approved}"
        )
    ]
    chosen = random.Random(seed).sample(variant_ids, min(sample, len(variant_ids)))
    phrases: list[list[str]] = []
    for start in range(0, len(chosen), 500):
        batch = chosen[start : start + 500]
        marks = ",".join("?" * len(batch))
        for language, title, summary in db.execute(
            f"SELECT language, title, summary FROM variant WHERE id IN ({marks})", batch
        ):
            for text in (title, summary or ""):
                words = query_words(language, text)
                if words:
                    phrases.append(words)
    db.close()
    if not records:
        raise SystemExit(f"{directory}: no released public record to request")
    return Catalogue(
        records=records,
        record_languages=dict(languages),
        files=files,
        facets=facets,
        phrases=phrases,
        counts={
            "public records": len(records),
            "public language versions": sum(len(v) for v in languages.values()),
            "public files": len(files),
            "query phrases": len(phrases),
        },
    )


def query_words(language: str, text: str) -> list[str]:
    """Words of a title or summary that a reader might type."""
    if language.startswith("zh"):
        return [run[i : i + 2] for run in CJK_RUN.findall(text) for i in range(0, len(run) - 1, 2)]
    return [w for w in WORD.findall(text.lower()) if w not in STOP_WORDS]


class Planner:
    """Draws the next request of one client from a seeded generator."""

    def __init__(self, catalogue: Catalogue, mix: dict[str, int], seed: int) -> None:
        self.catalogue = catalogue
        self.rng = random.Random(seed)
        self.kinds = [k for k in mix if mix[k] > 0]
        self.weights = [mix[k] for k in self.kinds]
        if not catalogue.files:
            self.weights = [
                0 if k == "download" else w for k, w in zip(self.kinds, self.weights, strict=True)
            ]
        self.language = self.rng.choices(list(READER_LANGUAGES), list(READER_LANGUAGES.values()))[0]

    def next(self) -> tuple[str, str]:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        return kind, getattr(self, kind)()

    def _facet_value(self, name: str | None = None) -> tuple[str, str]:
        facets = self.catalogue.facets
        name = name or self.rng.choice(list(facets))
        values, weights = facets[name]
        return name, self.rng.choices(values, weights)[0]

    def _words(self) -> str:
        phrase = self.rng.choice(self.catalogue.phrases)
        n = min(len(phrase), self.rng.choices((1, 2, 3), (35, 40, 25))[0])
        start = self.rng.randrange(len(phrase) - n + 1)
        return " ".join(phrase[start : start + n])

    def search(self) -> str:
        args: list[tuple[str, str]] = [("q", self._words())]
        roll = self.rng.random()
        if roll < 0.15 and self.catalogue.facets:
            args.append(self._facet_value())
        elif roll < 0.25:
            args.append(("page", "2"))
        elif roll < 0.30:
            args.append(("sort", "newest"))
        return "/search?" + urlencode(args)

    def facet(self) -> str:
        args = [self._facet_value()]
        roll = self.rng.random()
        if roll < 0.2:
            second = self._facet_value()
            if second[0] != args[0][0]:
                args.append(second)
        elif roll < 0.3:
            args.append(("page", str(self.rng.randint(2, 5))))
        elif roll < 0.35:
            args.append(("sort", "oldest"))
        return "/search?" + urlencode(args)

    def landing(self) -> str:
        record = self.rng.choice(self.catalogue.records)
        path = f"/documents/{record}"
        if self.rng.random() < 0.2:
            path += "?lang=" + quote(self.rng.choice(self.catalogue.record_languages[record]))
        return path

    def download(self) -> str:
        document_id, file_id = self.rng.choice(self.catalogue.files)
        return f"/documents/{document_id}/files/{file_id}"

    def api(self) -> str:
        return "/api/search?" + urlencode({"q": self._words()})


def parse_mix(text: str) -> dict[str, int]:
    mix = {}
    for part in text.split(","):
        name, __, weight = part.partition("=")
        name = name.strip()
        if name not in KINDS:
            raise SystemExit(f"--mix: unknown kind {name!r}; known: {', '.join(KINDS)}")
        mix[name] = int(weight)
    return mix


# --- the clients

#: One completed request: kind index, start (s from the run's start), latency (s),
#: status (0 for a connection error or timeout), body bytes.
Sample = tuple[int, float, float, int, int]


def _client(
    host: str,
    port: int,
    planner: Planner,
    start_at: float,
    stop_at: float,
    think: float,
    timeout: float,
    out: list[Sample],
    errors: Counter,
) -> None:
    headers = {
        "Accept-Language": planner.language,
        "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
        "User-Agent": "hub-http-load",
    }
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    delay = start_at - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    while True:
        began = time.monotonic()
        if began >= stop_at:
            break
        kind, path = planner.next()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            size = len(response.read())
            status = response.status
        except (OSError, http.client.HTTPException) as e:
            status, size = 0, 0
            errors[f"{type(e).__name__}: {e}"[:200]] += 1
            connection.close()
        ended = time.monotonic()
        out.append((KINDS.index(kind), began - start_at, ended - began, status, size))
        if status and not (200 <= status < 400):
            errors[f"{status} {kind} {path}"[:200]] += 1
        if think:
            time.sleep(think)
    connection.close()


def _client_process(
    pipe, host, port, catalogue, mix, seeds, start_at, stop_at, think, timeout
) -> None:
    samples: list[list[Sample]] = [[] for __ in seeds]
    errors: Counter = Counter()
    threads = [
        threading.Thread(
            target=_client,
            args=(
                host,
                port,
                Planner(catalogue, mix, seed),
                start_at,
                stop_at,
                think,
                timeout,
                samples[i],
                errors,
            ),
            daemon=True,
        )
        for i, seed in enumerate(seeds)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    merged = [s for part in samples for s in part]
    pipe.send((merged, dict(errors), usage.ru_utime + usage.ru_stime))
    pipe.close()


class LoadRun:
    """Closed-loop clients in forked processes, started together and collected at the end."""

    def __init__(
        self,
        server: Server,
        catalogue: Catalogue,
        *,
        clients: int,
        seconds: float,
        processes: int,
        mix: dict[str, int],
        seed: int,
        think_ms: float = 0.0,
        timeout: float = 60.0,
    ) -> None:
        self.server = server
        self.catalogue = catalogue
        self.clients = clients
        self.seconds = seconds
        self.processes = max(1, min(processes, clients))
        self.mix = mix
        self.seed = seed
        self.think = think_ms / 1000
        self.timeout = timeout
        self._children: list[tuple[multiprocessing.Process, object]] = []
        self.start_at = 0.0

    def start(self) -> None:
        context = multiprocessing.get_context("fork")
        # Start together, a moment from now, so that forking does not stagger the clients.
        self.start_at = time.monotonic() + 0.5 + 0.05 * self.processes
        stop_at = self.start_at + self.seconds
        seeds = [self.seed * 1000 + i for i in range(self.clients)]
        for p in range(self.processes):
            mine = seeds[p :: self.processes]
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=_client_process,
                args=(
                    send,
                    self.server.host,
                    self.server.port,
                    self.catalogue,
                    self.mix,
                    mine,
                    self.start_at,
                    stop_at,
                    self.think,
                    self.timeout,
                ),
                daemon=True,
            )
            process.start()
            send.close()
            self._children.append((process, receive))

    def collect(self) -> RunResult:
        samples: list[Sample] = []
        errors: Counter = Counter()
        client_cpu = 0.0
        for process, receive in self._children:
            part, part_errors, cpu = receive.recv()
            process.join()
            samples += part
            errors.update(part_errors)
            client_cpu += cpu
        return RunResult(samples, errors, client_cpu, self.clients, self.seconds)


@dataclass
class RunResult:
    samples: list[Sample]
    errors: Counter
    client_cpu: float
    clients: int
    seconds: float

    @property
    def span(self) -> float:
        """From the start to the last response: the denominator of requests/s."""
        return max((s[1] + s[2] for s in self.samples), default=self.seconds) or self.seconds

    def error_count(self) -> int:
        return sum(1 for s in self.samples if not (200 <= s[3] < 400))


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def latency_rows(samples: list[Sample], span: float) -> list[dict]:
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_kind[KINDS[s[0]]].append(s)
    rows = []
    for name, group in [*((k, by_kind[k]) for k in KINDS if by_kind[k]), ("all", samples)]:
        ms = sorted(s[2] * 1000 for s in group)
        rows.append(
            {
                "kind": name,
                "requests": len(group),
                "share": len(group) / max(1, len(samples)),
                "per_second": len(group) / span,
                "mean_ms": sum(ms) / max(1, len(ms)),
                "p50_ms": percentile(ms, 50),
                "p95_ms": percentile(ms, 95),
                "p99_ms": percentile(ms, 99),
                "max_ms": ms[-1] if ms else float("nan"),
                "errors": sum(1 for s in group if not (200 <= s[3] < 400)),
                "mean_kb": sum(s[4] for s in group) / max(1, len(group)) / 1024,
            }
        )
    return rows


def print_latency(rows: list[dict]) -> None:
    print(
        f"{'kind':<9} {'requests':>8} {'share':>6} {'req/s':>7} {'mean':>7} {'p50':>7} "
        f"{'p95':>7} {'p99':>7} {'max':>7} {'errors':>6} {'mean KB':>8}"
    )
    for r in rows:
        print(
            f"{r['kind']:<9} {r['requests']:>8} {r['share']:>6.1%} {r['per_second']:>7.1f} "
            f"{r['mean_ms']:>7.1f} {r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f} {r['p99_ms']:>7.1f} "
            f"{r['max_ms']:>7.1f} {r['errors']:>6} {r['mean_kb']:>8.1f}"
        )
    print("(latencies in ms, from sending the request to the last byte of the body)")


def print_workers(samples: list[ProcessSample], master: ProcessSample | None) -> None:
    print(f"{'process':<14} {'RSS MB':>8} {'PSS MB':>8} {'USS MB':>8} {'fds':>5} {'CPU s':>8}")
    for label, s in [("master", master), *(("worker", w) for w in samples)]:
        if s is None:
            continue
        print(
            f"{label + ' ' + str(s.pid):<14} {s.rss_mb:>8.1f} {s.pss_mb:>8.1f} "
            f"{s.uss_mb:>8.1f} {s.fds:>5} {s.cpu_seconds:>8.1f}"
        )
    if samples:
        print(
            f"{'workers max':<14} {max(s.rss_mb for s in samples):>8.1f} "
            f"{max(s.pss_mb for s in samples):>8.1f} {max(s.uss_mb for s in samples):>8.1f} "
            f"{max(s.fds for s in samples):>5}"
        )
        print(
            f"{'workers sum':<14} {sum(s.rss_mb for s in samples):>8.1f} "
            f"{sum(s.pss_mb for s in samples):>8.1f} {sum(s.uss_mb for s in samples):>8.1f}"
        )


def print_cpu(
    client: float, server: float, machine: float, span: float, requests: int, recycled: int = 0
) -> None:
    """Where the machine's CPU went during the run ("other processes" is everything else
    running on it), and the workers' CPU time per request: on otherwise idle cores that
    bounds the requests/s, whatever else was running during the measurement."""
    cores = os.cpu_count() or 1
    others = max(0.0, machine - client - server)
    print(
        f"CPU over the run ({cores} cores = {cores * span:.0f} CPU-s): gunicorn workers "
        f"{server:.1f} s ({server / span / cores:.0%}), load client {client:.1f} s "
        f"({client / span / cores:.0%}), other processes {others:.1f} s "
        f"({others / span / cores:.0%}), idle {max(0.0, cores * span - machine):.1f} s"
        + (
            f"; {recycled} workers recycled during the run (their CPU not counted)"
            if recycled
            else ""
        )
    )
    if requests and server > 0:
        per_request = server / requests
        print(
            f"worker CPU per request: {per_request * 1000:.1f} ms, so at most "
            f"{cores / per_request:.0f} requests/s on {cores} otherwise idle cores"
        )


def common_arguments(parser: argparse.ArgumentParser, clients: int) -> None:
    parser.add_argument("--dir", type=Path, required=True, help="hub instance folder")
    parser.add_argument("--clients", type=int, default=clients)
    parser.add_argument("--workers", type=int, help="gunicorn workers (HUB_WORKERS)")
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="client processes the clients are spread over (threads in each)",
    )
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"kind=weight,... ({DEFAULT_MIX})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--think-ms", type=float, default=0.0, help="pause between requests")
    parser.add_argument(
        "--max-requests",
        type=int,
        help="gunicorn max_requests (HUB_MAX_REQUESTS; 0 never recycles workers)",
    )
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of load first")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--app", default="app:app", help="the WSGI application gunicorn serves")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="run gunicorn and the clients at this niceness (below 0 needs root): on a "
        "machine shared with other work, a negative value, with the script started by "
        "`setsid -w`, approximates having its cores to oneself",
    )


def print_catalogue(catalogue: Catalogue) -> None:
    print(", ".join(f"{n:,} {what}" for what, n in catalogue.counts.items()))
    print(
        "facet values: "
        + ", ".join(f"{name} {len(values)}" for name, (values, __) in catalogue.facets.items())
    )


def warm_up(server: Server, catalogue: Catalogue, args: argparse.Namespace) -> None:
    """Load the server for a while, not measured, so each worker opens its searcher."""
    if args.warmup <= 0:
        return
    run = LoadRun(
        server,
        catalogue,
        clients=args.clients,
        seconds=args.warmup,
        processes=args.processes,
        mix=parse_mix(args.mix),
        seed=args.seed + 7919,
        think_ms=args.think_ms,
    )
    run.start()
    result = run.collect()
    ms = sorted(s[2] * 1000 for s in result.samples)
    print(
        f"warm-up {args.warmup:.0f} s: {len(ms)} requests, p50 {percentile(ms, 50):.0f} ms, "
        f"p95 {percentile(ms, 95):.0f} ms, max {ms[-1] if ms else 0:.0f} ms, "
        f"{result.error_count()} errors"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common_arguments(parser, clients=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    mix = parse_mix(args.mix)
    if args.nice:
        set_priority(args.nice)  # gunicorn and the client processes inherit it

    started = time.monotonic()
    catalogue = discover(args.dir, seed=args.seed)
    print(f"instance {args.dir.resolve()} (read in {time.monotonic() - started:.1f} s)")
    print(f"code {code_version()}")
    print_catalogue(catalogue)

    server = Server(args.dir, workers=args.workers, max_requests=args.max_requests, app=args.app)
    started = time.monotonic()
    server.start()
    try:
        print(
            f"gunicorn pid {server.master_pid} on 127.0.0.1:{server.port}, "
            f"{len(server.worker_pids())} workers, answering after "
            f"{time.monotonic() - started:.1f} s"
        )
        warm_up(server, catalogue, args)
        before = {s.pid: s for s in server.sample_workers()}
        run = LoadRun(
            server,
            catalogue,
            clients=args.clients,
            seconds=args.seconds,
            processes=args.processes,
            mix=mix,
            seed=args.seed,
            think_ms=args.think_ms,
        )
        busy_before = machine_busy_seconds()
        run.start()
        result = run.collect()
        busy = machine_busy_seconds() - busy_before
        after = server.sample_workers()
        master = sample_process(server.master_pid)
    finally:
        status = server.stop()

    span = result.span
    rows = latency_rows(result.samples, span)
    statuses = Counter(s[3] for s in result.samples)
    server_cpu = sum(
        s.cpu_seconds - (before[s.pid].cpu_seconds if s.pid in before else 0) for s in after
    )
    recycled = sorted(set(before) - {s.pid for s in after})
    print()
    print(
        f"{args.clients} clients in {run.processes} processes, {args.seconds:.0f} s, "
        f"mix {args.mix}, seed {args.seed}"
        + (f", think {args.think_ms:.0f} ms" if args.think_ms else "")
        + (f", {priority()}" if args.nice else "")
    )
    print(
        f"requests: {len(result.samples)} in {span:.1f} s = "
        f"{len(result.samples) / span:.1f} requests/s; errors: {result.error_count()}"
    )
    print_latency(rows)
    print(
        "status codes: "
        + ", ".join(f"{k or 'connection error'}: {v}" for k, v in sorted(statuses.items()))
    )
    if result.errors:
        print("errors:")
        for text, n in result.errors.most_common(10):
            if n:
                print(f"  {n} x {text}")
    print_cpu(result.client_cpu, server_cpu, busy, span, len(result.samples), len(recycled))
    print()
    print("gunicorn at the end of the run:")
    print_workers(after, master)
    server.print_stop_report(status)

    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "instance": str(args.dir.resolve()),
                    "catalogue": catalogue.counts,
                    "clients": args.clients,
                    "client_processes": run.processes,
                    "seconds": args.seconds,
                    "span": span,
                    "mix": args.mix,
                    "seed": args.seed,
                    "requests": len(result.samples),
                    "requests_per_second": len(result.samples) / span,
                    "errors": result.error_count(),
                    "statuses": {str(k): v for k, v in statuses.items()},
                    "latency": rows,
                    "client_cpu_seconds": result.client_cpu,
                    "server_cpu_seconds": server_cpu,
                    "machine_busy_seconds": busy,
                    "workers": [vars(s) for s in after],
                    "master": vars(master) if master else None,
                },
                indent=2,
            )
        )
    return 1 if result.error_count() else 0


if __name__ == "__main__":
    sys.exit(main())
