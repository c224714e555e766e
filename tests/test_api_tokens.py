"""Personal API tokens: created and revoked on the profile page and by `hub create-token`,
stored hashed, and able to do through the API exactly what their user can, no more."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from knowledge_hub import create_app
from knowledge_hub.extensions import db
from knowledge_hub.models import ApiToken
from knowledge_hub.models import Document
from knowledge_hub.models import User
from knowledge_hub.services import tokens
from tests.conftest import make_config
from tests.conftest import sign_in
from tests.test_permissions import RECORD_READS
from tests.test_permissions import ROLES
from tests.test_permissions import STATES
from tests.test_permissions import allowed_roles
from tests.test_permissions import can_read
from tests.test_permissions import records  # noqa: F401  (a fixture)
from tests.test_permissions import url_for_rule

TOKEN = re.compile(r"hub_[A-Za-z0-9_\-]{43}")


def token_for(app: Flask, email: str, name: str = "script") -> str:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        return tokens.create_token(user, user, name)[1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_user_creates_a_token_shown_once_and_stored_hashed(
    app: Flask, client: FlaskClient, make_user
) -> None:
    email = make_user("member")
    sign_in(client, email)
    assert client.get("/auth/tokens/").status_code == 200
    response = client.post("/auth/tokens/", data={"name": "harvester"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    [secret] = TOKEN.findall(response.get_data(as_text=True))
    page = client.get("/auth/tokens/").get_data(as_text=True)
    assert secret not in page and "harvester" in page and secret[:12] in page
    with app.app_context():
        [stored] = db.session.scalars(select(ApiToken)).all()
        assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in (stored.token_hash, stored.prefix, stored.name)
    assert client.post("/auth/tokens/", data={"name": ""}).status_code == 400


@pytest.mark.slow
def test_a_token_authenticates_api_requests_until_revoked(
    app: Flask, client: FlaskClient, make_user, import_rows
) -> None:
    import_rows([dict(ref="MEM-1", title="For members", access="members", content="Members.")])
    with app.app_context():
        document_id = db.session.scalar(select(Document.id))
    email = make_user("member")
    secret = token_for(app, email)
    api = app.test_client()  # no cookies: the token alone says who this is
    assert api.get(f"/api/documents/{document_id}").status_code == 404
    response = api.get(f"/api/documents/{document_id}", headers=bearer(secret))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    with app.app_context():
        assert db.session.scalar(select(ApiToken)).last_used_at is not None

    # Outside /api/ a token means nothing.
    assert api.get("/auth/tokens/", headers=bearer(secret)).status_code == 302

    sign_in(client, email)
    token_id = 1
    other = app.test_client()
    sign_in(other, make_user("member"))
    assert other.post(f"/auth/tokens/{token_id}/revoke").status_code == 403
    assert client.post(f"/auth/tokens/{token_id}/revoke").status_code == 302
    refused = api.get(f"/api/documents/{document_id}", headers=bearer(secret))
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "invalid_token"
    assert refused.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert api.get("/api/search", headers=bearer("hub_forged")).status_code == 401
    assert "Revoked on" in client.get("/auth/tokens/").get_data(as_text=True)


def test_hub_create_token_prints_a_working_token(app: Flask, make_user) -> None:
    email = make_user("reviewer")
    result = app.test_cli_runner().invoke(args=["hub", "create-token", email.upper()])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert TOKEN.fullmatch(secret)
    response = app.test_client().get("/api/documents/1/checklist", headers=bearer(secret))
    assert response.status_code == 404  # authenticated and allowed; there is no record 1
    unknown = app.test_cli_runner().invoke(args=["hub", "create-token", "nobody@hub.test"])
    assert unknown.exit_code == 1 and "no user" in unknown.output


@pytest.mark.slow
def test_token_requests_skip_csrf_and_session_requests_do_not(tmp_path: Path, make_user) -> None:
    config = make_config(tmp_path)
    config["WTF_CSRF_ENABLED"] = True
    app = create_app(config)
    with app.app_context():
        db.create_all()
        from knowledge_hub.services import users

        user = users.create_user(
            None, "rev@hub.test", "Rev", "long enough password", ["reviewer"], None, []
        )
        secret = tokens.create_token(user, user, "script")[1]
    client = app.test_client()
    # No record 5: a token request reaches the view (404); nothing else passes CSRF (400).
    assert client.post("/api/documents/5/release", headers=bearer(secret)).status_code == 404
    assert client.post("/api/documents/5/release").status_code == 400
    assert client.post("/api/documents/5/release", headers=bearer("hub_x")).status_code == 401
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.slow
def test_a_staff_token_cannot_release_and_a_reviewer_token_can(
    app: Flask,
    make_user,
    records,  # noqa: F811
) -> None:
    document_id = records[("in_review", "public")][0]
    api = app.test_client()
    staff = token_for(app, make_user("staff"))
    reviewer = token_for(app, make_user("reviewer"))
    assert (
        api.post(f"/api/documents/{document_id}/release", headers=bearer(staff)).status_code == 403
    )
    with app.app_context():
        assert db.session.get(Document, document_id).status.value == "in_review"
    response = api.post(f"/api/documents/{document_id}/release", headers=bearer(reviewer))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "released"


@pytest.mark.slow
def test_every_api_route_for_every_roles_token_and_state(
    app: Flask,
    make_user,
    records,  # noqa: F811
) -> None:
    """The role × route matrix of test_permissions, with tokens instead of sessions."""
    secrets = {
        role: token_for(app, make_user(role, languages=("fr",) if role == "translator" else ()))
        for role in ROLES[1:]
    }
    api = app.test_client()
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/")]
    assert rules
    problems = []
    for rule in rules:
        roles = allowed_roles(rule.endpoint)
        record_bound = any(a in rule.arguments for a in ("document_id", "ref", "file_id"))
        for state in STATES if record_bound else STATES[:1]:
            url = url_for_rule(rule, records[state])
            for role, secret in secrets.items():
                # Releasing would change the state the next roles are tried against.
                for method in sorted(rule.methods - {"HEAD", "OPTIONS", "POST"}):
                    code = api.open(url, method=method, headers=bearer(secret)).status_code
                    if role not in roles:
                        if code != 403:
                            problems.append(f"{role} {method} {url} -> {code}, expected 403")
                        continue
                    if code in (401, 403):
                        problems.append(f"{role} {method} {url} -> {code}, expected access")
                    if method == "GET" and rule.endpoint in RECORD_READS:
                        visible = can_read(role, *state, rule.endpoint)
                        if visible != (code == 200):
                            problems.append(f"{role} GET {url} {state} -> {code}")
                if "POST" in rule.methods and role not in roles:
                    code = api.post(url, headers=bearer(secret)).status_code
                    if code != 403:
                        problems.append(f"{role} POST {url} -> {code}, expected 403")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("header", ["Bearer", "Basic abc", "Token x"])
def test_other_authorization_headers_are_ignored(client: FlaskClient, header: str) -> None:
    assert client.get("/api/search", headers={"Authorization": header}).status_code == 200


@pytest.mark.slow
def test_disabling_or_resetting_an_account_revokes_its_tokens_for_good(
    app: Flask, client: FlaskClient, make_user
) -> None:
    sign_in(client, make_user("admin"))
    for change in ("disable", "reset"):
        email = make_user("staff")
        secret = token_for(app, email)
        with app.app_context():
            user_id = db.session.scalar(select(User.id).where(User.email == email))
        api = app.test_client()
        assert api.get("/api/documents/1/checklist", headers=bearer(secret)).status_code == 404
        assert client.post(
            f"/admin/users/{user_id}/{change}", data={"confirm": "y"}
        ).status_code in (200, 302)
        if change == "disable":
            assert client.post(f"/admin/users/{user_id}/enable").status_code == 302
        with app.app_context():
            assert db.session.get(User, user_id).is_active
            [token] = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id))
            assert token.revoked_at is not None
        # The account is active again; the token it had before is not.
        assert api.get("/api/documents/1/checklist", headers=bearer(secret)).status_code == 401
