"""The hub as a new installation serves it: the README's state (`hub init`, `hub demo`)
and a real server process, `flask run` (threaded) or gunicorn with gunicorn.conf.py,
walked from the home page through every kind of link it finds by anonymous readers,
staff, a reviewer and an administrator at once, in seeded random orders, while
`hub reindex` switches the index generation under them.

A walk fails on any reset or refused connection, any 5xx, a server process that died,
and a log that shows a crash below Python (faulthandler's report, or gunicorn's news of
a worker killed by a signal). The servers run with Python's debug allocator, which
fills freed memory with a pattern: a use of freed memory then crashes where it happens
instead of corrupting something that fails later, or never in a test."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.conftest import PASSWORD
from tests.conftest import TEST_DATABASE
from tests.conftest import make_config
from tests.server import FlaskServer
from tests.server import GunicornServer
from tests.server import run_hub
from tests.walk import BACK_OFFICE_ENTRY_POINTS
from tests.walk import MACHINE_ENTRY_POINTS
from tests.walk import Site
from tests.walk import discover
from tests.walk import walk

pytestmark = pytest.mark.slow

#: Readers walking at once, and how many clients of each.
CLIENTS = {"anonymous": 4, "staff": 1, "reviewer": 1, "admin": 1}
#: Signed-in readers: their e-mail and `hub create-user` roles.
READERS = {
    "staff": ("staff@example.org", ["--role", "staff"]),
    "reviewer": ("reviewer@example.org", ["--role", "reviewer"]),
    "admin": ("admin@example.org", ["--role", "admin"]),
}
#: What each reader's walk must reach, or the walk missed a kind of page.
MUST_REACH = {
    "anonymous": (
        "/documents/",
        "/files/",
        "/cite.",
        "/search?",
        "/search/help",
        "/search/advanced",
        "/static/",
        "/oai?",
        "/api/",
        ".atom",
        "/sitemap",
        "/meetings/",
        "/browse/",
    ),
    "staff": ("/staff/", "/review/"),
    "reviewer": ("/review/1",),
    "admin": ("/admin/audit",),
}
#: How many links of each shape, and in all, a reader's walk takes.
PER_SHAPE = 3
#: Enough for the administrator's walk to reach the audit log past the browse pages,
#: the meetings and the search's export links that every page leads to first.
LIMIT = 180
#: Between two reindexes: the walk goes on under several switches, and the machine's
#: cores are not all building indexes meanwhile.
REINDEX_PAUSE = 2.0
#: Signs of a crash below Python in a server's log.
CRASH_SIGNS = ("Fatal Python error", "was sent SIG", "Segmentation fault", "core dumped")
#: The servers' environment: the debug allocator, and a drainer that runs often.
DEBUG_ALLOCATOR = {"PYTHONMALLOC": "debug", "HUB_INDEX_DRAIN_SECONDS": "0.5"}

Server = FlaskServer | GunicornServer


@pytest.fixture
def readme_state(tmp_path: Path, installed) -> dict:
    """A hub as the README's first command leaves it, plus a staff member, a reviewer and
    an administrator made with `hub create-user` (made once per test process, and copied:
    conftest's `installed`)."""
    config = make_config(tmp_path)

    def install() -> None:
        for command in (("hub", "init"), ("hub", "demo")):
            done = run_hub(config, *command)
            assert done.returncode == 0, done.stderr
        for email, roles in READERS.values():
            name = email.split("@")[0]
            made = run_hub(
                config,
                "hub",
                "create-user",
                email,
                "--name",
                name,
                *roles,
                input=PASSWORD + "\n",
            )
            assert made.returncode == 0, made.stderr

    installed((__name__, "readme_state"), config, install)
    return config


def sign_in(http: requests.Session, origin: str, email: str) -> None:
    form = http.get(f"{origin}/auth/login", timeout=60)
    token = form.text.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    answer = http.post(
        f"{origin}/auth/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        timeout=60,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:500]


def reader(origin: str, role: str) -> requests.Session:
    http = requests.Session()
    if role in READERS:
        sign_in(http, origin, READERS[role][0])
    return http


def discover_sites(origin: str) -> dict[str, Site]:
    """Each reader's links, found by following them from the home page: the home page is
    the server's first request, as a new user's browser makes it."""
    sites = {}
    for role in CLIENTS:
        entry_points = MACHINE_ENTRY_POINTS
        if role in READERS:
            entry_points += BACK_OFFICE_ENTRY_POINTS
        try:
            with reader(origin, role) as http:
                sites[role] = discover(
                    http, origin, limit=LIMIT, per_shape=PER_SHAPE, entry_points=entry_points
                )
        except requests.RequestException as e:
            sites[role] = Site(origin, failures=[f"signing in: {e}"])
    return sites


class Reindexing(threading.Thread):
    """`hub reindex` again and again until stopped: each run builds a new generation and
    switches the servers' searchers to it while they serve."""

    def __init__(self, config: dict) -> None:
        super().__init__(daemon=True)
        self.config = config
        self.stopping = threading.Event()
        self.generations: list[str] = []
        self.failures: list[str] = []

    def run(self) -> None:
        pointer = Path(self.config["INDEX_DIR"]) / "CURRENT"
        while not self.stopping.is_set():
            done = run_hub(self.config, "hub", "reindex")
            if done.returncode != 0:
                self.failures.append(done.stderr[-2000:])
                return
            self.generations.append(pointer.read_text().strip())
            self.stopping.wait(REINDEX_PAUSE)


def walk_everyone(config: dict, origin: str, sites: dict[str, Site]) -> tuple[list[str], list[str]]:
    """Every reader's walk at once, each client in its own order, under reindexing;
    returns the failures and the generations the index went through meanwhile."""
    clients = [role for role, count in CLIENTS.items() for __ in range(count)]

    def walk_as(seed: int) -> list[str]:
        role = clients[seed]
        with reader(origin, role) as http:
            return [f"{role}: {f}" for f in walk(http, origin, sites[role].paths, seed)]

    reindexing = Reindexing(config)
    reindexing.start()
    try:
        with ThreadPoolExecutor(len(clients)) as pool:
            failures = [f for found in pool.map(walk_as, range(len(clients))) for f in found]
    finally:
        reindexing.stopping.set()
        reindexing.join(timeout=300)
    return failures + reindexing.failures, reindexing.generations


def assert_no_crash(server: Server) -> None:
    log = server.log.read_text(errors="replace")
    signs = [line for line in log.splitlines() if any(sign in line for sign in CRASH_SIGNS)]
    assert server.running() and not signs, log[-6000:]


def check_walk(config: dict, server: Server) -> None:
    sites = discover_sites(server.url)
    assert_no_crash(server)
    assert [f"{role}: {f}" for role, site in sites.items() for f in site.failures] == []
    for role, needed in MUST_REACH.items():
        reached = " ".join(sites[role].paths)
        assert [n for n in needed if n not in reached] == [], f"{role}'s walk missed pages"
    walked, generations = walk_everyone(config, server.url, sites)
    assert_no_crash(server)
    assert walked == []
    assert len(generations) >= 2, "reindex switched the generation under fewer than two walks"


@pytest.mark.skipif(
    TEST_DATABASE != "sqlite", reason="the README's first command runs the hub on SQLite"
)
def test_flask_run_serves_every_link_of_a_new_installation(readme_state: dict) -> None:
    with FlaskServer(readme_state, **DEBUG_ALLOCATOR) as server:
        check_walk(readme_state, server)


def test_gunicorn_serves_every_link_of_a_new_installation(readme_state: dict) -> None:
    with GunicornServer(readme_state, workers=3, quietly=True, **DEBUG_ALLOCATOR) as server:
        workers = set(server.worker_pids())
        check_walk(readme_state, server)
        assert set(server.worker_pids()) == workers, "a worker was replaced"
