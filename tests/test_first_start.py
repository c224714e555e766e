"""A server started on an empty database sets the hub up before its first answer
(FIRST_START): with the demonstration catalogue by default on the embedded database,
empty with `init`, and only with `off` does every page say to run `hub init`. Real
server processes, `flask run` and gunicorn, as a person starts them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub import create_app
from knowledge_hub.config import first_start_choice
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from tests.conftest import make_config
from tests.server import FlaskServer
from tests.server import GunicornServer

#: The first answer waits for the setup: the demonstration catalogue takes seconds.
FIRST_ANSWER_SECONDS = 300

#: The pages a person opens first, and the API and feed that harvesters do.
FIRST_CLICKS = ("/", "/search?q=economy", "/documents/1", "/api/search?q=economy", "/feed.atom")


@pytest.mark.slow
def test_flask_run_on_an_empty_folder_answers_its_first_clicks_with_the_demo(
    tmp_path: Path,
) -> None:
    server = FlaskServer(make_config(tmp_path), HUB_FIRST_START="demo")
    server.start_timeout = FIRST_ANSWER_SECONDS  # it listens once the hub is set up
    with server:
        answers = {
            path: requests.get(f"{server.url}{path}", timeout=FIRST_ANSWER_SECONDS)
            for path in FIRST_CLICKS
        }
        log = server.log.read_text(errors="replace")
    assert {path: a.status_code for path, a in answers.items()} == dict.fromkeys(FIRST_CLICKS, 200)
    assert answers["/api/search?q=economy"].json()["total"] > 0
    assert "UNTFSSE" in answers["/documents/1"].text
    assert "first start: setting the hub up (hub init, hub demo)" in log
    # Set up while the application loaded, before the server opened its port.
    assert log.index("first start: 78 rows") < log.index("Running on")
    assert "Traceback" not in log


@pytest.mark.slow
def test_gunicorn_sets_the_hub_up_once_before_its_workers_answer(tmp_path: Path) -> None:
    """Every worker's first request arrives at once, and each answers with the whole
    demonstration catalogue, loaded once."""
    config = make_config(tmp_path)
    server = GunicornServer(config, workers=3, quietly=True, HUB_FIRST_START="demo")
    # gunicorn sets the hub up before it opens its port (gunicorn.conf.py, on_starting).
    server.start_timeout = FIRST_ANSWER_SECONDS
    with server:
        with ThreadPoolExecutor(6) as pool:
            answers = list(
                pool.map(
                    lambda path: requests.get(f"{server.url}{path}", timeout=FIRST_ANSWER_SECONDS),
                    [*FIRST_CLICKS, "/api/search?q=*"],
                )
            )
        everything = requests.get(f"{server.url}/api/search?q=*&per_page=1", timeout=60).json()
        log = server.log.read_text(errors="replace")
    assert [a.status_code for a in answers] == [200] * 6
    # The demonstration's public records, each once, all searchable from the first answer.
    assert answers[-1].json()["total"] == everything["total"] == 46
    assert log.count("first start: setting the hub up") == 1
    assert "Traceback" not in log  # the waiting workers' drainers too kept quiet


@pytest.mark.slow
def test_two_servers_on_one_database_set_it_up_once_and_answer_alike(tmp_path: Path) -> None:
    """Started together: one process sets the hub up under the lock, the other waits for
    it rather than taking a half-made hub for a ready one."""
    config = make_config(tmp_path)
    one = FlaskServer(config, HUB_FIRST_START="demo")
    two = FlaskServer(config, HUB_FIRST_START="demo")

    def start_and_ask(server: FlaskServer) -> list[requests.Response]:
        # Asked as soon as this one listens, whether or not the other is done.
        server.start(FIRST_ANSWER_SECONDS)
        url = f"{server.url}/api/search?q=*"
        return [requests.get(url, timeout=FIRST_ANSWER_SECONDS) for __ in range(2)]

    try:
        with ThreadPoolExecutor(2) as starting:
            answers = [a for both in starting.map(start_and_ask, [one, two]) for a in both]
        log = one.log.read_text(errors="replace")  # both servers write to it
    finally:
        one.stop()
        two.stop()
    assert [a.status_code for a in answers] == [200] * 4
    assert [a.json()["total"] for a in answers] == [46] * 4
    assert log.count("first start: setting the hub up") == 1
    assert "Traceback" not in log


@pytest.mark.slow
def test_init_sets_up_an_empty_hub_and_off_says_to_run_hub_init(tmp_path: Path) -> None:
    (tmp_path / "off").mkdir()
    (tmp_path / "init").mkdir()
    with FlaskServer(make_config(tmp_path / "off"), HUB_FIRST_START="off") as server:
        page = requests.get(f"{server.url}/", timeout=60)
        api = requests.get(f"{server.url}/api/search?q=economy", timeout=60)
    assert page.status_code == 503 and "hub init" in page.text
    assert api.status_code == 503 and api.json()["error"] == "not_set_up"
    server = FlaskServer(make_config(tmp_path / "init"), HUB_FIRST_START="init")
    server.start_timeout = FIRST_ANSWER_SECONDS
    with server:
        page = requests.get(f"{server.url}/", timeout=FIRST_ANSWER_SECONDS)
        api = requests.get(f"{server.url}/api/search?q=*", timeout=60)
    assert page.status_code == 200
    assert api.status_code == 200 and api.json()["total"] == 0  # set up, and empty


def test_the_demo_is_the_default_only_on_sqlite_and_a_wrong_value_stops_the_start(
    tmp_path: Path,
) -> None:
    sqlite = {"SQLALCHEMY_DATABASE_URI": "sqlite:////srv/hub/hub.sqlite"}
    postgresql = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://hub@db/hub"}
    assert first_start_choice(sqlite) == "demo"
    assert first_start_choice(postgresql) == "init"  # no sample records in production
    assert first_start_choice({**postgresql, "FIRST_START": " Demo "}) == "demo"
    assert first_start_choice({**sqlite, "FIRST_START": "OFF"}) == "off"
    with pytest.raises(ValueError, match="HUB_FIRST_START is one of demo, init, off"):
        create_app({**make_config(tmp_path), "FIRST_START": "no"})


def test_a_hub_set_up_by_hub_init_is_left_as_it_is(app: Flask) -> None:
    """The tests' hub has its tables: a first request finds it set up and loads nothing."""
    assert app.test_client().get("/").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count(Document.id))) == 0


@pytest.mark.slow
def test_any_other_server_sets_the_hub_up_on_its_first_request(tmp_path: Path) -> None:
    """A WSGI server other than `flask run` and gunicorn loads the application as it is:
    its first request sets the hub up before it is answered."""
    app = create_app({**make_config(tmp_path), "FIRST_START": "init"})
    try:
        assert app.test_client().get("/").status_code == 200
        with app.app_context():
            assert db.session.scalar(select(func.count(Document.id))) == 0
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
