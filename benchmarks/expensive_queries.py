"""The most expensive query forms a reader can send, timed on a large catalogue.

    .venv/bin/python -m benchmarks.expensive_queries --dir DIR [--rounds 3] [--raw]

DIR is a catalogue made by `benchmarks.generate`. Each form is sent as a reader without
an account through the hub's Flask application (its test client: the whole request,
parameters to JSON, without a server) to `GET /api/search` and `GET /search/cite.bib`
(which asks for up to 1,000 records at once), with the time budget the application is
configured with (SEARCH_SECONDS, 1.5 s by default). The forms:

- `*` (everything), `*a*` and `*e` (patterns with no letters before the *),
  `[a TO z]` (a term range in Whoosh's syntax), a list of one-letter prefixes
  (`a* b* … j*`), a short prefix (`co*`) and a longer one (`econ*`);
- 490 nested parentheses, and 240 NOTs in a row;
- the snippet of a 10-million-character text (`search.snippet`, q=cooperative).

Printed per form: the status code and the slowest and median time of `--rounds` rounds,
and the start of the message of a refusal. `--raw` also times raw Whoosh on the same
forms, parsed as the hub parsed them before its bounds (Whoosh's range and `*:*` syntax
kept, patterns expanded by Whoosh over every word of the index), with the same
visibility filter and `limit=20`: what one such request cost a worker before.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from benchmarks.generate import app_for
from knowledge_hub import search
from knowledge_hub.access import visible_levels
from knowledge_hub.search import SearchIndex
from knowledge_hub.search.query import parse
from knowledge_hub.search.query import query_parser
from knowledge_hub.search.query import restriction

FORMS = {
    "everything": "*",
    "star a star": "*a*",
    "leading star": "*e",
    "term range": "[a TO z]",
    "ten 1-letter prefixes": " ".join(f"{letter}*" for letter in "abcdefghij"),
    "2-letter prefix": "co*",
    "5-letter prefix": "econ*",
    "490 parentheses": "(" * 490 + "cooperative" + ")" * 490,
    "240 NOTs": "NOT " * 240 + "cooperative",
}
ENDPOINTS = ("/api/search", "/search/cite.bib")
SNIPPET_TEXT_CHARS = 10_000_000


def parsed_as_before(index: SearchIndex, q: str) -> object:
    """q parsed as the hub parsed it before its bounds: Whoosh's ranges and `*:*` kept."""
    return query_parser(index, bounded=False).parse(q)


def raw_whoosh_ms(index: SearchIndex, q: str) -> str:
    """One raw Whoosh search of q as parsed before, in ms (or why it failed)."""
    started = time.perf_counter()
    try:
        query = parsed_as_before(index, q)
        with index.searching() as (searcher, __):
            results = searcher.search(query, filter=restriction(visible_levels(None), {}), limit=20)
            total = len(results)
    except RecursionError:
        return f"{1000 * (time.perf_counter() - started):9.1f} ms  RecursionError (a 500)"
    except Exception as e:  # noqa: BLE001 (what the parser raised is the finding)
        return f"{1000 * (time.perf_counter() - started):9.1f} ms  {type(e).__name__} (a 500)"
    return f"{1000 * (time.perf_counter() - started):9.1f} ms  {total} entries"


def snippet_text(words: list[str]) -> str:
    """A text of SNIPPET_TEXT_CHARS characters, with "cooperative" near its start."""
    line = " ".join(words) + ".\n"
    return ("Cooperative work. " + line * (SNIPPET_TEXT_CHARS // len(line) + 1))[
        :SNIPPET_TEXT_CHARS
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, required=True, help="a generated catalogue")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (default 3)")
    parser.add_argument("--raw", action="store_true", help="also time raw Whoosh, once a form")
    args = parser.parse_args(argv)
    if not (args.dir / "index").is_dir():
        print(f"{args.dir} holds no catalogue: run benchmarks.generate first.", file=sys.stderr)
        return 2
    app = app_for(args.dir)
    client = app.test_client()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{args.dir}, time budget {app.config['SEARCH_SECONDS']} s, load average {load}")
    client.get("/api/search", query_string={"q": "cooperative"})  # opens the searcher
    print(f"\n{'form':24} {'endpoint':18} {'status':>6} {'max ms':>9} {'median ms':>10}  answer")
    for name, q in FORMS.items():
        for endpoint in ENDPOINTS:
            times, status, answer = [], 0, ""
            for __ in range(args.rounds):
                started = time.perf_counter()
                response = client.get(endpoint, query_string={"q": q})
                times.append(1000 * (time.perf_counter() - started))
                status = response.status_code
                if endpoint == "/api/search":
                    body = response.get_json()
                    answer = (
                        body.get("message", "")[:60]
                        if status != 200
                        else f"{body['total']} records"
                    )
                else:
                    answer = f"{response.get_data().count(b'@')} citations" if status == 200 else ""
            print(
                f"{name:24} {endpoint:18} {status:6} {max(times):9.1f} "
                f"{statistics.median(times):10.1f}  {answer}"
            )
    with app.app_context():
        index = search.get_index()
        words = [w for w in open(__file__, encoding="utf-8").read().split() if w.isalpha()]
        text = snippet_text(words)
        query = parse(index, "cooperative")
        times = []
        for __ in range(args.rounds):
            started = time.perf_counter()
            cut = search.snippet(query, index, "en", text)
            times.append(1000 * (time.perf_counter() - started))
        print(
            f"\nsnippet of a {len(text):,}-character text: max {max(times):.1f} ms, "
            f"median {statistics.median(times):.1f} ms ({cut.count('<mark>')} marks)"
        )
        if args.raw:
            print("\nraw Whoosh, the forms parsed as before the bounds, once each:")
            for name, q in FORMS.items():
                print(f"{name:24} {raw_whoosh_ms(index, q)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
