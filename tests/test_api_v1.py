"""The REST API, version 1: /api/v1/ beside /api/, token writes with the web's permission
table and validation, Link pagination, ETags on record reads, CORS on reads only."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import TranslationRequest
from knowledge_hub.models import User
from knowledge_hub.services import translations
from tests.test_api_tokens import bearer
from tests.test_api_tokens import token_for
from tests.test_permissions import records  # noqa: F401  (a fixture)

NEW = {
    "ref": "API-NEW-1",
    "kind": "publication",
    "type": "",
    "date": "2024-05",
    "organizations": [],
    "authors": ["Ana Pérez", "Li Wei"],
    "topics": [],
    "regions": [],
    "access": "public",
    "language": "en",
    "title": "A record made through the API",
    "summary": "Made by a script with a staff token.",
}


def user_id(app: Flask, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


# --- versions -----------------------------------------------------------------------


@pytest.mark.slow
def test_every_operation_answers_under_v1_too_and_says_its_version(app: Flask, records) -> None:  # noqa: F811
    api = app.test_client()
    document_id, __, ref = records[("released", "public")]
    for path in (
        "/api/search?q=record",
        f"/api/documents/{document_id}",
        f"/api/documents/ref/{ref}",
        "/api/openapi.json",
    ):
        plain = api.get(path)
        versioned = api.get(path.replace("/api/", "/api/v1/", 1))
        assert plain.status_code == versioned.status_code == 200, path
        assert plain.headers["API-Version"] == versioned.headers["API-Version"] == "1"
    # Errors say it too, even where no route matched or the token is refused.
    for response in (
        api.get("/api/documents/99999"),
        api.get("/api/v1/nothing-here"),
        api.get("/api/v1/search", headers=bearer("hub_forged")),
    ):
        assert response.headers["API-Version"] == "1"
        assert set(response.get_json()) >= {"error", "message"}
    # Links in a v1 response point at v1.
    record = api.get(f"/api/v1/documents/{document_id}").get_json()
    assert record["id"] == document_id
    assert "API-Version" not in app.test_client().get("/").headers


def test_the_description_lists_every_api_route_in_both_versions(app: Flask) -> None:
    spec = app.test_client().get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule).replace(
            "{document_id}", "{id}"
        )
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if path.endswith("/openapi.json"):
                continue
            assert (path, method) in documented, f"{method} {path} is not in openapi.json"
    operation_ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


# --- writes -------------------------------------------------------------------------


@pytest.mark.slow
def test_a_staff_token_creates_a_record_and_the_web_rules_apply(app: Flask, make_user) -> None:
    api = app.test_client()
    staff = bearer(token_for(app, make_user("staff")))
    member = bearer(token_for(app, make_user("member")))

    assert api.post("/api/documents", json=NEW).status_code == 401
    assert api.post("/api/documents", json=NEW, headers=member).status_code == 403

    created = api.post("/api/v1/documents", json=NEW, headers=staff)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["ref"] == "API-NEW-1" and body["status"] == "draft" and body["date"] == "2024-05"
    assert body["languages"][0]["title"] == NEW["title"]
    assert created.headers["Location"] == f"http://hub.test/api/v1/documents/{body['id']}"
    assert "Access-Control-Allow-Origin" not in created.headers
    assert api.get(created.headers["Location"], headers=staff).status_code == 200
    assert api.get(created.headers["Location"]).status_code == 404  # a draft is not public

    again = api.post("/api/documents", json=NEW, headers=staff)
    assert again.status_code == 409
    assert again.get_json()["error"] == "invalid" and "ref" in again.get_json()["problems"]

    wrong = api.post(
        "/api/documents",
        json={
            **NEW,
            "ref": "API-NEW-2",
            "kind": "poem",
            "type": "nonsense",
            "date": "May",
            "topics": ["no-such-topic"],
            "title": " ",
        },
        headers=staff,
    )
    assert wrong.status_code == 400
    problems = wrong.get_json()["problems"]
    assert {"kind", "type", "date", "topics", "title"} <= set(problems)
    assert wrong.get_json()["error"] == "invalid" and wrong.get_json()["message"]

    typed = api.post("/api/documents", json={**NEW, "authors": "one", "id": 4}, headers=staff)
    assert typed.status_code == 400 and set(typed.get_json()["problems"]) == {"authors", "id"}
    for bad in (b"not json", b"[1, 2]"):
        response = api.post(
            "/api/documents", data=bad, content_type="application/json", headers=staff
        )
        assert response.status_code == 400 and response.get_json()["error"] == "bad_request"

    # A staff token may create but not release.
    released = api.post(f"/api/documents/{body['id']}/release", headers=staff)
    assert released.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(Document).where(Document.ref == "API-NEW-2")) is None


def test_a_staff_token_edits_metadata_with_patch(app: Flask, make_user) -> None:
    api = app.test_client()
    staff = bearer(token_for(app, make_user("staff")))
    document_id = api.post("/api/documents", json=NEW, headers=staff).get_json()["id"]
    member = bearer(token_for(app, make_user("member")))
    assert (
        api.patch(f"/api/documents/{document_id}", json={"title": "x"}, headers=member).status_code
        == 403
    )
    assert api.patch(f"/api/documents/{document_id}", json={"title": "x"}).status_code == 401
    assert api.patch("/api/documents/99999", json={"title": "x"}, headers=staff).status_code == 404

    changed = api.patch(
        f"/api/v1/documents/{document_id}",
        json={"title": "A better title", "date": "2023", "authors": ["Only One"]},
        headers=staff,
    )
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert body["date"] == "2023" and body["authors"] == ["Only One"]
    assert body["languages"][0]["title"] == "A better title"
    assert body["languages"][0]["summary"] == NEW["summary"]  # left out: kept
    assert body["ref"] == NEW["ref"]

    wrong = api.patch(
        f"/api/documents/{document_id}", json={"date": "soon", "access": "secret"}, headers=staff
    )
    assert wrong.status_code == 400 and {"date", "access"} <= set(wrong.get_json()["problems"])
    assert (
        api.patch(
            f"/api/documents/{document_id}", json={"status": "released"}, headers=staff
        ).status_code
        == 400
    )
    assert api.get(f"/api/documents/{document_id}", headers=staff).get_json()["date"] == "2023"


def test_a_staff_token_uploads_files_to_a_version(app: Flask, make_user) -> None:
    api = app.test_client()
    staff = bearer(token_for(app, make_user("staff")))
    document_id = api.post("/api/documents", json=NEW, headers=staff).get_json()["id"]
    url = f"/api/v1/documents/{document_id}/versions/en/files"

    def files(*named: tuple[str, bytes]) -> dict:
        return {"files": [(io.BytesIO(data), name) for name, data in named]}

    text = b"The full text of the report on social and solidarity economy."
    assert api.post(url, data=files(("a.txt", text))).status_code == 401
    reviewer = bearer(token_for(app, make_user("reviewer")))
    assert api.post(url, data=files(("a.txt", text)), headers=reviewer).status_code == 403

    response = api.post(url, data=files(("report.txt", text), ("empty.txt", b"")), headers=staff)
    assert response.status_code == 201, response.get_json()
    stored, empty = response.get_json()["files"]
    assert stored["stored"] and stored["name"] == "report.txt" and stored["size"] == len(text)
    assert stored["url"].startswith("http://hub.test/documents/")
    assert not empty["stored"] and empty["error"]
    assert "Access-Control-Allow-Origin" not in response.headers

    refused = api.post(url, data=files(("again.txt", text)), headers=staff)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "invalid" and not refused.get_json()["files"][0]["stored"]
    assert api.post(url, data={}, headers=staff).status_code == 400
    missing = api.post(
        f"/api/documents/{document_id}/versions/fr/files",
        data=files(("a.txt", text)),
        headers=staff,
    )
    assert missing.status_code == 404
    record = api.get(f"/api/documents/{document_id}", headers=staff).get_json()
    assert [f["name"] for f in record["languages"][0]["files"]] == ["report.txt"]


@pytest.mark.slow
def test_a_translator_token_delivers_only_its_own_claimed_request(
    app: Flask,
    make_user,
    records,  # noqa: F811
) -> None:
    document_id = records[("released", "public")][0]
    staff_email = make_user("staff")
    mine_email = make_user("translator", languages=("fr",))
    other_email = make_user("translator", languages=("fr",))
    with app.app_context():
        staff_user = db.session.get(User, user_id(app, staff_email))
        document = db.session.get(Document, document_id)
        [request] = translations.request_translations(staff_user, document, ["fr"])
        request_id = request.id
    api = app.test_client()
    mine = bearer(token_for(app, mine_email))
    other = bearer(token_for(app, other_email))
    staff = bearer(token_for(app, staff_email))
    url = f"/api/translations/{request_id}"
    delivery = {"title": "Un rapport", "summary": "Le résumé du rapport."}

    def with_file() -> dict:
        return {
            **delivery,
            "files": [(io.BytesIO("Le texte intégral du rapport.".encode()), "rapport.txt")],
        }

    assert api.post(url, data=with_file()).status_code == 401
    assert api.post(url, data=with_file(), headers=staff).status_code == 403
    assert api.post(url, data=with_file(), headers=mine).status_code == 403  # not claimed yet
    with app.app_context():
        translations.claim(
            db.session.get(User, user_id(app, mine_email)),
            db.session.get(TranslationRequest, request_id),
        )
    assert api.post(url, data=with_file(), headers=other).status_code == 403
    assert api.post("/api/translations/99999", data=with_file(), headers=mine).status_code == 404

    incomplete = api.post(url, data={"title": "Un rapport"}, headers=mine)
    assert incomplete.status_code == 400
    assert {"summary", "files"} <= set(incomplete.get_json()["problems"])

    delivered = api.post(f"/api/v1/translations/{request_id}", data=with_file(), headers=mine)
    assert delivered.status_code == 201, delivered.get_json()
    body = delivered.get_json()
    assert body["status"] == "submitted" and body["document_id"] == document_id
    assert body["version"]["language"] == "fr" and body["version"]["status"] == "in_review"
    assert body["version"]["files"][0]["name"] == "rapport.txt"
    assert api.post(url, data=with_file(), headers=mine).status_code == 409


# --- pagination, ETags, CORS ---------------------------------------------------------


def links(header: str) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', header)}


def test_search_pages_are_linked(app: Flask, import_rows) -> None:
    import_rows(
        [
            dict(ref=f"P-{i}", title=f"Cooperative report {i}", content=f"Cooperatives {i}.")
            for i in range(5)
        ]
    )
    api = app.test_client()
    response = api.get(
        "/api/v1/search?q=cooperatives&per_page=2&page=2&kind=publication&kind=archive"
    )
    assert response.status_code == 200 and response.get_json()["total"] == 5
    found = links(response.headers["Link"])
    assert set(found) == {"first", "prev", "next", "last"}
    for rel, page in (("first", "1"), ("prev", "1"), ("next", "3"), ("last", "3")):
        parts = urlsplit(found[rel])
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://hub.test/api/v1/search"
        query = parse_qsl(parts.query)
        assert (
            ("page", page) in query
            and ("per_page", "2") in query
            and ("q", "cooperatives") in query
        )
        assert [v for k, v in query if k == "kind"] == ["publication", "archive"]
    last = links(api.get(found["last"]).headers["Link"])
    assert set(last) == {"first", "prev", "last"}
    first = links(api.get("/api/search?q=cooperatives&per_page=2").headers["Link"])
    assert set(first) == {"first", "next", "last"}
    one = links(api.get("/api/search?q=nothing-matches-this").headers["Link"])
    assert set(one) == {"first", "last"}


@pytest.mark.slow
def test_record_reads_carry_an_etag_and_answer_304(app: Flask, make_user, records) -> None:  # noqa: F811
    api = app.test_client()
    document_id, __, ref = records[("released", "public")]
    for path in (f"/api/documents/{document_id}", f"/api/v1/documents/ref/{ref}"):
        first = api.get(path)
        etag = first.headers["ETag"]
        assert first.status_code == 200 and re.fullmatch(r'"[0-9a-f]{32}"', etag)
        assert api.get(path).headers["ETag"] == etag  # stable
        same = api.get(path, headers={"If-None-Match": etag})
        assert same.status_code == 304 and same.get_data() == b"" and same.headers["ETag"] == etag
        assert api.get(path, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
        assert api.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    # A change makes a new ETag, and the body depends on who asks.
    staff = bearer(token_for(app, make_user("staff")))
    before = api.get(f"/api/documents/{document_id}").headers["ETag"]
    assert {"Authorization", "Cookie"} <= set(api.get(f"/api/documents/{document_id}").vary)
    assert (
        api.patch(
            f"/api/documents/{document_id}", json={"date": "2019-05"}, headers=staff
        ).status_code
        == 200
    )
    after = api.get(f"/api/documents/{document_id}", headers={"If-None-Match": before})
    assert after.status_code == 200 and after.headers["ETag"] != before


@pytest.mark.slow
def test_cors_on_reads_and_never_on_writes(app: Flask, make_user, records) -> None:  # noqa: F811
    api = app.test_client()
    document_id, __, ref = records[("released", "public")]
    origin = {"Origin": "https://example.org"}
    for path in (
        "/api/search",
        f"/api/documents/{document_id}",
        f"/api/v1/documents/ref/{ref}",
        "/api/openapi.json",
        "/api/documents/99999",
    ):
        response = api.get(path, headers=origin)
        assert response.headers["Access-Control-Allow-Origin"] == "*", path
        assert "ETag" in response.headers["Access-Control-Expose-Headers"]
        preflight = api.options(
            path,
            headers={
                **origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["Access-Control-Allow-Origin"] == "*"
        assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
        assert "PATCH" not in preflight.headers["Access-Control-Allow-Methods"]
        assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    staff = bearer(token_for(app, make_user("staff")))
    writes = [
        api.options("/api/documents", headers={**origin, "Access-Control-Request-Method": "POST"}),
        api.post("/api/documents", json=NEW, headers={**origin, **staff}),
        api.patch(
            f"/api/documents/{document_id}", json={"title": "T"}, headers={**origin, **staff}
        ),
        api.post(f"/api/documents/{document_id}/release", headers=origin),
        api.options("/api/translations/1", headers=origin),
    ]
    for response in writes:
        assert "Access-Control-Allow-Origin" not in response.headers, response.request.path
    # Pages outside the API are not opened to other origins.
    assert "Access-Control-Allow-Origin" not in api.get("/", headers=origin).headers


def test_an_id_too_large_for_the_database_is_not_found(app: Flask, make_user) -> None:
    api = app.test_client()
    staff = bearer(token_for(app, make_user("staff")))
    huge = 2**71
    for response in (
        api.get(f"/api/documents/{huge}"),
        api.get(f"/api/v1/documents/{huge}", headers=staff),
        api.patch(f"/api/documents/{huge}", json={"title": "x"}, headers=staff),
        api.post(f"/api/documents/{huge}/versions/en/files", headers=staff),
    ):
        assert response.status_code == 404 and response.get_json()["error"] == "not_found"
