"""Every route × every role × every record state: no role does or sees more than the
design allows. The routes come from the application's URL map, so a new route that is
not classified here fails the test until someone decides who may use it."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from tests.conftest import sign_in

ROLES = ("anonymous", "member", "translator", "staff", "reviewer", "admin")
EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
BACK_OFFICE = frozenset({"staff", "reviewer", "admin"})

# Who may use each route (by endpoint, or by blueprint prefix ending in "."). Reading a
# record is further limited by its state and access level (see can_read below).
ALLOWED: dict[str, frozenset[str]] = {
    "static": EVERYONE,
    "public.": EVERYONE,
    "documents.": EVERYONE,
    "meetings.new": frozenset({"staff", "admin"}),
    "meetings.edit": frozenset({"staff", "admin"}),
    "meetings.": EVERYONE,
    "permalinks.": EVERYONE,
    "browse.": EVERYONE,
    "api.checklist": BACK_OFFICE,
    "api.release": frozenset({"reviewer", "admin"}),
    "api.create_document": frozenset({"staff", "admin"}),
    "api.update_document": frozenset({"staff", "admin"}),
    "api.upload_files": frozenset({"staff", "admin"}),
    "api.submit_translation": frozenset({"translator"}),
    "api.": EVERYONE,
    "oai.": EVERYONE,
    "feeds.": EVERYONE,
    "fixity.": frozenset({"staff", "admin"}),
    "tokens.": SIGNED_IN,
    "auth.login": EVERYONE,
    "auth.invitation": EVERYONE,
    "auth.forgot_password": EVERYONE,
    "auth.reset_password": EVERYONE,
    "auth.": SIGNED_IN,
    "staff.": frozenset({"staff", "admin"}),
    "review.queue": BACK_OFFICE,
    "review.checklist": BACK_OFFICE,
    "review.history": BACK_OFFICE,
    "review.submit": frozenset({"staff", "admin"}),
    "review.attest": frozenset({"reviewer"}),
    "review.send_back": frozenset({"reviewer"}),
    "review.waive": frozenset({"admin"}),
    "review.release": frozenset({"reviewer", "admin"}),
    "review.withdraw": frozenset({"reviewer", "admin"}),
    "admin.": frozenset({"admin"}),
    # Saving a search or awaiting a translation: anyone (an address is confirmed first);
    # the links in mail carry their token; the list of one's own needs an account.
    "alerts.save": EVERYONE,
    "alerts.watch": EVERYONE,
    "alerts.confirm": EVERYONE,
    "alerts.unsubscribe": EVERYONE,
    "alerts.": SIGNED_IN,
    "translations.queue": frozenset({"translator"}),
    "translations.claim": frozenset({"translator"}),
    "translations.release": frozenset({"translator"}),
    "translations.workspace": frozenset({"translator"}),
    "translations.original_file": frozenset({"translator"}),
    "translations.request_page": frozenset({"staff", "admin"}),
    "translations.coverage": BACK_OFFICE,
    "translations.coverage_csv": BACK_OFFICE,
    "translations.review_queue": BACK_OFFICE,
    "translations.checklist": BACK_OFFICE,
    "translations.attest": frozenset({"reviewer"}),
    "translations.approve": frozenset({"reviewer"}),
    "translations.send_back": frozenset({"reviewer"}),
    "translations.confirm": frozenset({"reviewer"}),
}
# /api/v1/ is the same views as /api/, registered again: the same people may use them.
ALLOWED.update(
    {
        "api_v1." + k.removeprefix("api."): v
        for k, v in list(ALLOWED.items())
        if k.startswith("api.")
    }
)

#: The endpoints that read one record, in every version of the API.
RECORD_READS = ("api.document", "api.document_by_ref", "api_v1.document", "api_v1.document_by_ref")

#: (status, access) of the records every route is tried against.
STATES = [
    ("draft", "public"),
    ("in_review", "public"),
    ("released", "public"),
    ("released", "members"),
    ("released", "internal"),
    ("withdrawn", "public"),
]


def allowed_roles(endpoint: str) -> frozenset[str]:
    if endpoint in ALLOWED:
        return ALLOWED[endpoint]
    prefix = endpoint.split(".")[0] + "."
    if prefix in ALLOWED:
        return ALLOWED[prefix]
    raise AssertionError(f"route {endpoint} is not classified in ALLOWED")


def can_read(role: str, status: str, access: str, endpoint: str) -> bool:
    """What DESIGN.md lets each role see of a record in a given state."""
    if role in BACK_OFFICE:
        return not (endpoint == "documents.download" and status == "withdrawn")
    # Members-only records are for members (the role, or an account of a member or
    # observer organization): the translator here has no organization, so not for them.
    levels = {"public"} | ({"members"} if role == "member" else set())
    if access not in levels:
        return False
    if status == "released":
        return True
    # A withdrawn record keeps its landing page (with a notice), never its files.
    return status == "withdrawn" and endpoint in (
        "documents.landing",
        "permalinks.record",
        *RECORD_READS,
    )


@pytest.fixture
def records(app: Flask, import_rows) -> dict[tuple[str, str], tuple[int, int, str]]:
    """One record per state: (status, access) -> (document id, file id, ref)."""
    rows = [
        dict(
            ref=f"R-{status}-{access}",
            title=f"Record {status} {access}",
            access=access,
            kind="archive",
            content=f"Text of the {status} {access} record.",
        )
        for status, access in STATES
    ]
    import_rows(rows, release=False)
    from knowledge_hub.services import review
    from knowledge_hub.services import users

    out = {}
    with app.app_context():
        actor = users.system_user()
        for status, access in STATES:
            document = db.session.scalar(
                select(Document).where(Document.ref == f"R-{status}-{access}")
            )
            if status == "in_review":
                review.submit_for_review(actor, document)
            if status in ("released", "withdrawn"):
                review.release(actor, document)
            if status == "withdrawn":
                review.withdraw(actor, document, "Withdrawn for the test.")
            out[(status, access)] = (document.id, document.variants[0].files[0].id, document.ref)
    return out


@pytest.fixture
def clients(app: Flask, make_user) -> dict[str, FlaskClient]:
    # Every account first, then every sign-in: the accounts are then steps that later
    # tests are given copies of (tests/snapshots.py).
    emails = {
        role: make_user(role, languages=("fr",) if role == "translator" else ())
        for role in ROLES[1:]
    }
    clients = {"anonymous": app.test_client()}
    for role in ROLES[1:]:
        client = app.test_client()
        sign_in(client, emails[role])
        clients[role] = client
    return clients


def url_for_rule(rule, ids: tuple[int, int, str]) -> str:
    document_id, file_id, ref = ids
    values = {
        "document_id": document_id,
        "file_id": file_id,
        "ref": ref,
        "filename": "hub.css",
        "lang": "en",
        "language": "en",
        "outcome": "pass",
    }

    def fill(match: re.Match) -> str:
        name = match.group(2)
        return str(values.get(name, 1 if match.group(1) == "int" else "x"))

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", fill, rule.rule)


@pytest.mark.slow
def test_every_route_for_every_role_and_state(app: Flask, clients, records) -> None:
    # Signing out would end the session the rest of the loop relies on; it has its own test.
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "auth.logout"]
    # Reads first: a POST that a role may make (releasing, say) changes the records'
    # states, and every read must be tried against the states as made.
    rules.sort(key=lambda r: bool(r.methods & {"POST", "PATCH", "PUT", "DELETE"}))
    problems = []
    for rule in rules:
        roles = allowed_roles(rule.endpoint)
        record_bound = any(a in rule.arguments for a in ("document_id", "ref", "file_id"))
        states = STATES if record_bound else STATES[:1]
        for state in states:
            url = url_for_rule(rule, records[state])
            for role, client in clients.items():
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    response = client.open(url, method=method, data={})
                    code = response.status_code
                    response.close()
                    if role not in roles:
                        expected = (302,) if role == "anonymous" else (403,)
                        if rule.rule.startswith("/api/") and role == "anonymous":
                            expected = (401,)
                        if rule.endpoint.startswith("auth.") and role == "anonymous":
                            expected = (302, 401)
                        if code not in expected:
                            problems.append(f"{role} {method} {url} -> {code}, expected refusal")
                        continue
                    if code in (403,) or (
                        code == 302 and "/auth/login" in response.headers.get("Location", "")
                    ):
                        problems.append(f"{role} {method} {url} -> {code}, expected access")
                    reads_a_record = rule.endpoint in (
                        "documents.landing",
                        "permalinks.record",
                        "documents.download",
                        *RECORD_READS,
                    )
                    if record_bound and method == "GET" and reads_a_record:
                        visible = can_read(role, *state, rule.endpoint)
                        if visible and code == 404:
                            problems.append(
                                f"{role} GET {url} ({state}) -> 404, expected to see it"
                            )
                        if not visible and code in (200, 302):
                            problems.append(f"{role} GET {url} ({state}) -> 200, must not see it")
    assert problems == [], "\n".join(problems)


@pytest.mark.slow
def test_nothing_changes_when_a_refused_role_posts(app: Flask, clients, records) -> None:
    document_id = records[("in_review", "public")][0]
    for role in ("anonymous", "member", "translator"):
        for action in ("release", "withdraw", "send-back", "waive", "submit"):
            clients[role].post(
                f"/review/{document_id}/{action}",
                data={"comment": "x" * 20, "code": "summary_length"},
            )
    with app.app_context():
        assert db.session.get(Document, document_id).status.value == "in_review"


@pytest.mark.slow
def test_members_only_records_are_for_members_and_their_organizations(
    app: Flask, import_rows, make_user
) -> None:
    import_rows([dict(ref="M-1", title="Members brief", access="members", content="Members text.")])
    with app.app_context():
        document_id = db.session.scalar(select(Document.id).where(Document.ref == "M-1"))
    readers = {
        "translator without organization": (make_user("translator", languages=("fr",)), False),
        "translator of a member organization": (make_user("translator", organization="ILO"), True),
        "translator of an observer organization": (
            make_user("translator", organization="ICA"),
            True,
        ),
        "translator of another organization": (
            make_user("translator", organization="ITC-ILO"),
            False,
        ),
        "member without organization": (make_user("member"), True),
        "account of a member organization, no role": (make_user(organization="FAO"), True),
    }
    problems = []
    for who, (email, may_read) in readers.items():
        client = app.test_client()
        sign_in(client, email)
        page = client.get(f"/documents/{document_id}").status_code
        found = client.get("/api/search?q=members").get_json()["total"]
        if (page, found) != ((200, 1) if may_read else (404, 0)):
            problems.append(f"{who}: landing page {page}, found {found} in search")
    assert problems == []


@pytest.mark.slow
def test_a_session_cookie_replayed_after_sign_out_is_anonymous(
    app: Flask, make_user, records
) -> None:
    """Every signed-in role: a copy of the cookie taken before signing out opens none of
    the routes that need an account afterwards."""
    rules = [
        r
        for r in app.url_map.iter_rules()
        if "GET" in r.methods
        and r.endpoint != "auth.logout"
        and "anonymous" not in allowed_roles(r.endpoint)
    ]
    assert len(rules) > 20
    problems = []
    for role in ROLES[1:]:
        browser = app.test_client()
        sign_in(browser, make_user(role, languages=("fr",) if role == "translator" else ()))
        saved = browser.get_cookie("session", domain="hub.test")
        assert browser.post("/auth/logout").status_code == 302
        replay = app.test_client()
        replay.set_cookie("session", saved.value, domain="hub.test")
        for rule in rules:
            if role not in allowed_roles(rule.endpoint):
                continue
            url = url_for_rule(rule, records[("released", "public")])
            response = replay.get(url)
            response.close()
            refused = response.status_code == 401 or (
                response.status_code == 302 and "/auth/login" in response.headers["Location"]
            )
            if not refused:
                problems.append(f"{role} GET {url} -> {response.status_code} after signing out")
    assert problems == []


#: Blueprints whose pages no cache may keep.
NO_STORE_PREFIXES = ("staff.", "review.", "admin.", "translations.", "auth.", "tokens.", "fixity.")


@pytest.mark.slow
def test_no_cache_keeps_back_office_pages_or_files_that_are_not_public(
    app: Flask, clients, records
) -> None:
    problems = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(NO_STORE_PREFIXES) or "GET" not in rule.methods:
            continue
        for role in sorted(allowed_roles(rule.endpoint) - {"anonymous"}):
            url = url_for_rule(rule, records[("draft", "public")])
            response = clients[role].get(url)
            response.close()
            if response.headers.get("Cache-Control") != "no-store":
                problems.append(
                    f"{role} GET {url}: Cache-Control {response.headers.get('Cache-Control')!r}"
                )
    for (status, level), (document_id, file_id, __) in records.items():
        url = f"/documents/{document_id}/files/{file_id}"
        for role in ("anonymous", "member", "staff"):
            response = clients[role].get(url)
            response.close()
            if response.status_code != 200:
                continue
            cache = response.headers.get("Cache-Control", "")
            if (status, level) == ("released", "public"):
                if "public" not in cache or "max-age=3600" not in cache:
                    problems.append(f"{role} GET {url} (public file): Cache-Control {cache!r}")
            elif cache != "private, no-store":
                problems.append(f"{role} GET {url} ({status}, {level}): Cache-Control {cache!r}")
    assert problems == [], "\n".join(problems)
