"""Who a request comes from behind a proxy, which address absolute links name, and the
secret key of an installation that set none."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from knowledge_hub import create_app
from knowledge_hub.services import auth
from tests.conftest import PASSWORD
from tests.conftest import make_config
from tests.conftest import running_app
from tests.server import PROJECT_ROOT

PUBLIC = "https://hub.example.org"
FORGED = {"Host": "evil.example"}


def hub(tmp_path: Path, **settings: object) -> Iterator[Flask]:
    yield from running_app({**make_config(tmp_path), **settings})


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[Flask]:
    yield from hub(tmp_path, TRUST_PROXY=1)


@pytest.fixture
def public(tmp_path: Path) -> Iterator[Flask]:
    yield from hub(tmp_path, PUBLIC_URL=PUBLIC)


def sign_in(client: FlaskClient, email: str, password: str, client_address: str) -> int:
    # The proxy appends the address it saw; anything before it came from the client.
    headers = {"X-Forwarded-For": f"203.0.113.250, {client_address}"}
    data = {"email": email, "password": password}
    return client.post("/auth/login", data=data, headers=headers).status_code


@pytest.mark.slow
def test_behind_a_trusted_proxy_one_clients_failures_do_not_lock_out_the_others(
    proxied: Flask, make_user
) -> None:
    client = proxied.test_client()
    email = make_user("staff")
    guesser, owner = "198.51.100.7", "192.0.2.44"
    for n in range(auth.MAX_FAILURES_PER_ADDRESS):
        assert sign_in(client, f"nobody{n}@hub.test", "wrong", guesser) == 401
    assert sign_in(client, email, PASSWORD, guesser) == 401  # the guesser's address waits
    assert sign_in(client, email, PASSWORD, owner) == 302


def test_the_client_address_is_the_one_the_nearest_proxy_saw(proxied: Flask) -> None:
    seen = {}

    @proxied.get("/_address")
    def address() -> str:
        from flask import request

        seen["address"], seen["https"] = request.remote_addr, request.is_secure
        return ""

    client = proxied.test_client()
    headers = {"X-Forwarded-For": "10.9.9.9, 192.0.2.44", "X-Forwarded-Proto": "https, http"}
    client.get("/_address", headers=headers)
    # A client may write anything first; only the last values, the proxy's, count.
    assert seen == {"address": "192.0.2.44", "https": False}


def test_hsts_only_over_https_and_a_proxy_is_believed_only_when_trusted(
    app: Flask, client: FlaskClient, proxied: Flask
) -> None:
    forwarded = {"X-Forwarded-Proto": "https"}
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://hub.test")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in client.get("/", headers=forwarded).headers
    behind = proxied.test_client()
    assert "Strict-Transport-Security" in behind.get("/", headers=forwarded).headers
    spoofed = {"X-Forwarded-Proto": "https, http"}
    assert "Strict-Transport-Security" not in behind.get("/", headers=spoofed).headers


ABSOLUTE_LINKS = (
    "/feed.atom",
    "/sitemap.xml",
    "/robots.txt",
    "/oai?verb=Identify",
    "/search.atom?q=economy",
    "/api/search?q=economy",
)


@pytest.mark.slow
def test_a_forged_host_names_nothing_when_the_public_url_is_set(public: Flask, import_rows) -> None:
    # import_rows writes through the default test app, into the same database and index.
    report = import_rows(
        [
            dict(
                ref="PB-2024-01",
                language="en",
                title="Social economy brief",
                type="policy-brief",
                date="2024",
                organizations="ILO",
                content="Social economy.",
            ),
        ]
    )
    assert report.failed == 0
    client = public.test_client()
    for path in ABSOLUTE_LINKS:
        body = client.get(path, headers=FORGED).get_data(as_text=True)
        assert "evil.example" not in body, path
        assert PUBLIC in body, path
    api = client.get("/api/search?q=economy", headers=FORGED).get_json()
    assert api["results"][0]["url"].startswith(f"{PUBLIC}/documents/")


@pytest.mark.slow
def test_invitation_links_name_the_public_url(public: Flask, make_user) -> None:
    client = public.test_client()
    email = make_user("admin")
    signed_in = client.post(
        "/auth/login", data={"email": email, "password": PASSWORD}, headers=FORGED
    )
    assert signed_in.status_code == 302
    page = client.post(
        "/admin/users/invite",
        data={
            "email": "new@hub.test",
            "name": "New Person",
            "roles": ["translator"],
            "organization": "ILO",
            "languages": "fr",
        },
        headers=FORGED,
    ).get_data(as_text=True)
    links = re.findall(r"https?://[^/\s\"<]+/auth/invitation/", page)
    assert links and set(links) == {f"{PUBLIC}/auth/invitation/"}


def test_without_a_secret_key_one_is_written_once_and_kept(tmp_path: Path) -> None:
    key_file = tmp_path / "instance" / "secret_key"
    settings = {**make_config(tmp_path), "SECRET_KEY": None, "SECRET_KEY_FILE": key_file}
    first = create_app(settings).config["SECRET_KEY"]
    assert len(first) >= 40
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert create_app(settings).config["SECRET_KEY"] == first
    assert [p.name for p in key_file.parent.iterdir()] == ["secret_key"]


@pytest.mark.slow
def test_processes_starting_at_once_agree_on_one_secret_key(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    script = (
        "from knowledge_hub.config import instance_secret_key; from pathlib import Path; "
        f"print(instance_secret_key(Path({str(key_file)!r})))"
    )
    starting = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "SECRET_KEY"},
        )
        for __ in range(6)
    ]
    keys = {process.communicate(timeout=60)[0].strip() for process in starting}
    assert keys == {key_file.read_text().strip()}
