"""A server started on an empty database sets the hub up before its first answer
(FIRST_START): with the demonstration catalogue by default on the embedded database,
empty with `init`, and only with `off` does every page say to run `hub init`. Real
server processes, `flask run` and gunicorn, as a person starts them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

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
    with FlaskServer(make_config(tmp_path), HUB_FIRST_START="demo") as server:
        answers = {
            path: requests.get(f"{server.url}{path}", timeout=FIRST_ANSWER_SECONDS)
            for path in FIRST_CLICKS
        }
        log = server.log.read_text(errors="replace")
    assert {path: a.status_code for path, a in answers.items()} == dict.fromkeys(FIRST_CLICKS, 200)
    assert answers["/api/search?q=economy"].json()["total"] > 0
    assert "UNTFSSE" in answers["/documents/1"].text
    assert "first start: setting the hub up (hub init, hub demo)" in log
    assert "Traceback" not in log


@pytest.mark.slow
def test_gunicorn_workers_starting_together_set_the_hub_up_once(tmp_path: Path) -> None:
    """Every worker's first request arrives at once: one sets the hub up, the others
    wait for it, and the demonstration catalogue is there once."""
    config = make_config(tmp_path)
    with GunicornServer(config, workers=3, quietly=True, HUB_FIRST_START="demo") as server:
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
def test_init_sets_up_an_empty_hub_and_off_says_to_run_hub_init(tmp_path: Path) -> None:
    (tmp_path / "off").mkdir()
    (tmp_path / "init").mkdir()
    with FlaskServer(make_config(tmp_path / "off"), HUB_FIRST_START="off") as server:
        page = requests.get(f"{server.url}/", timeout=60)
        api = requests.get(f"{server.url}/api/search?q=economy", timeout=60)
    assert page.status_code == 503 and "hub init" in page.text
    assert api.status_code == 503 and api.json()["error"] == "not_set_up"
    with FlaskServer(make_config(tmp_path / "init"), HUB_FIRST_START="init") as server:
        page = requests.get(f"{server.url}/", timeout=FIRST_ANSWER_SECONDS)
        api = requests.get(f"{server.url}/api/search?q=*", timeout=60)
    assert page.status_code == 200
    assert api.status_code == 200 and api.json()["total"] == 0  # set up, and empty
