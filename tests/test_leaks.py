"""A word planted in records a reader may not see never reaches them: the whole site is
crawled as an anonymous reader, as a signed-in reader who is not a member, and as a
member, and facet counts do not move."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import User
from knowledge_hub.queries import statistics as statistics_queries
from knowledge_hub.services import meetings
from knowledge_hub.services import review
from knowledge_hub.services import users
from tests.conftest import sign_in

PUBLIC = [
    dict(
        ref=f"PUB-{n}",
        title=f"Public record {n} on cooperatives",
        type="report",
        date=f"202{n}",
        organizations="ILO",
        topics="cooperatives",
        regions="SN",
        content=f"Cooperatives and solidarity finance, public text {n}.",
    )
    for n in range(3)
]
DRAFT_WORD, MEMBERS_WORD, INTERNAL_WORD = "zephyrantine", "quillotropic", "marzipanoid"
HIDDEN = [
    dict(
        ref="HID-DRAFT",
        title=f"Draft {DRAFT_WORD}",
        type="guide",
        date="2019",
        organizations="OECD",
        topics="sdg-2",
        regions="BR",
        content=f"Cooperatives {DRAFT_WORD} finance.",
    ),
    dict(
        ref="HID-MEMBERS",
        title=f"Members {MEMBERS_WORD}",
        type="toolkit",
        date="2018",
        access="members",
        organizations="FAO",
        topics="sdg-3",
        regions="KE",
        content=f"Cooperatives {MEMBERS_WORD} finance.",
    ),
    dict(
        ref="HID-INTERNAL",
        title=f"Internal {INTERNAL_WORD}",
        type="correspondence",
        date="2017",
        access="internal",
        organizations="WHO",
        topics="sdg-4",
        regions="IN",
        content=f"Cooperatives {INTERNAL_WORD} finance.",
    ),
]
LINK = re.compile(r'(?:href|action|src)="([^"#]+)"')


def facets(client: FlaskClient, q: str = "") -> dict:
    return client.get("/api/search", query_string={"q": q, "per_page": 100}).get_json()["facets"]


def crawl(
    client: FlaskClient, extra: list[str], caching: dict[str, str] | None = None
) -> dict[str, str]:
    """Every page reachable from the home page (and the extra addresses): url -> body;
    `caching`, when given, gets each url's Cache-Control."""
    seen: dict[str, str] = {}
    queue = deque(["/", *extra])
    while queue and len(seen) < 600:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        body = (
            response.get_data(as_text=True)
            if response.mimetype.startswith(("text/", "application/json"))
            else ""
        )
        response.close()
        seen[url] = body
        if caching is not None:
            caching[url] = response.headers.get("Cache-Control", "")
        if response.mimetype == "text/html":
            for link in LINK.findall(body):
                target = urljoin(url, link.replace("&amp;", "&"))
                parts = urlsplit(target)
                if parts.netloc not in ("", "hub.test") or parts.path.startswith("/auth/logout"):
                    continue
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                if path not in seen:
                    queue.append(path)
    return seen


@pytest.mark.slow
def test_hidden_words_never_reach_readers_who_may_not_see_them(
    app: Flask, import_rows, make_user
) -> None:
    anonymous = app.test_client()
    member = app.test_client()
    sign_in(member, make_user("member", organization="ILO"))
    # Signed in but not a member: a translator hired from outside the Task Force.
    outsider = app.test_client()
    sign_in(outsider, make_user("translator", languages=("fr",)))
    assert import_rows(PUBLIC).failed == 0
    browse_pages = [
        "/browse/organizations",
        "/browse/topics",
        "/browse/regions",
        "/browse/types",
        "/browse/years",
        "/browse/organizations/ILO",
        "/browse/topics/cooperatives",
        "/browse/regions/002",
    ]
    browsed_before = {url: anonymous.get(url).get_data(as_text=True) for url in browse_pages}
    before = {
        "anonymous": facets(anonymous),
        "member": facets(member),
        "outsider": facets(outsider),
        "anonymous-q": facets(anonymous, "cooperatives finance"),
    }

    assert import_rows(HIDDEN[:1], release=False).failed == 0
    assert import_rows(HIDDEN[1:], release=True).failed == 0
    with app.app_context():
        ids = db.session.scalars(select(Document.id)).all()
        refs = db.session.scalars(select(Document.ref)).all()

    # The browse pages' lists and counts do not move for an anonymous reader …
    for url, body in browsed_before.items():
        assert anonymous.get(url).get_data(as_text=True) == body, url
    # Facet counts do not move for readers who may not see the new records …
    assert facets(anonymous) == before["anonymous"]
    assert facets(anonymous, "cooperatives finance") == before["anonymous-q"]
    assert facets(outsider) == before["outsider"]
    # … and a member sees exactly one more record: the members-only one.
    member_after = facets(member)
    assert member_after != before["member"]
    assert {"value": "FAO", "count": 1} in member_after["organization"]
    assert not any(v["value"] in ("OECD", "WHO") for v in member_after["organization"])

    probes = [f"/api/search?q={w}" for w in (DRAFT_WORD, MEMBERS_WORD, INTERNAL_WORD)]
    probes += [
        f"/search?q={w[:-1]}x" for w in (DRAFT_WORD, MEMBERS_WORD, INTERNAL_WORD)
    ]  # suggestions
    probes += ["/api/search?q=&per_page=100", "/api/search?q=cooperatives&per_page=100"]
    probes += [f"/api/documents/{i}" for i in ids] + [f"/api/documents/ref/{r}" for r in refs]
    probes += [f"/documents/{i}" for i in ids]
    # The browse pages of the hidden records' values, their permanent links, the exports.
    probes += ["/browse/organizations/OECD", "/browse/organizations/FAO"]
    probes += ["/browse/organizations/WHO", "/browse/topics/sdg-2", "/browse/topics/sdg-3"]
    probes += ["/browse/topics/sdg-4", "/browse/regions/BR", "/browse/regions/KE"]
    probes += ["/browse/regions/IN", "/browse/regions/019", "/browse/regions/142"]
    probes += ["/browse/types/guide", "/browse/types/toolkit", "/browse/types/correspondence"]
    probes += ["/browse/years/2017", "/browse/years/2018", "/browse/years/2019"]
    probes += [f"/r/{r}" for r in refs]
    probes += ["/search.csv?q=cooperatives", "/search.csv", "/search/cite.bib?q=finance"]
    everything = (DRAFT_WORD, MEMBERS_WORD, INTERNAL_WORD)
    forbidden = {
        "anonymous": everything,
        "outsider": everything,
        "member": (DRAFT_WORD, INTERNAL_WORD),
    }
    with app.app_context():
        members_record = db.session.scalar(select(Document).where(Document.ref == "HID-MEMBERS"))
        members_file = (
            f"/documents/{members_record.id}/files/{members_record.variants[0].files[0].id}"
        )
    caching: dict[str, dict[str, str]] = {}
    for who, client in (("anonymous", anonymous), ("outsider", outsider), ("member", member)):
        caching[who] = {}
        pages = crawl(client, probes, caching[who])
        assert len(pages) > 20
        for url, body in pages.items():
            for word in forbidden[who]:
                # A search page echoes its own query back; nothing else may carry the word.
                echoed = word in url or word[:-1] in url
                if echoed:
                    body = body.replace(word, "").replace(word[:-1] + "x", "")
                assert word not in body, f"{who} sees {word!r} at {url}"
    # What the member downloads of the members-only record stays out of every cache;
    # public files may be cached by anyone.
    member_downloads = {url: cache for url, cache in caching["member"].items() if "/files/" in url}
    assert member_downloads.get(members_file) == "private, no-store"
    assert (
        all(
            cache.startswith("public")
            for url, cache in member_downloads.items()
            if url != members_file
        )
        and len(member_downloads) > 1
    )
    # The member does see the members-only record.
    assert MEMBERS_WORD in member.get(f"/api/search?q={MEMBERS_WORD}").get_data(as_text=True)


def scores(client: FlaskClient, q: str) -> dict[str, float]:
    answer = client.get("/api/search", query_string={"q": q, "per_page": 100}).get_json()
    return {r["ref"]: r["score"] for r in answer["results"]}


@pytest.mark.slow
def test_scores_do_not_move_when_hidden_records_use_the_same_words(
    app: Flask, import_rows, make_user
) -> None:
    """BM25's statistics (entries holding a word, average field length) are taken over
    what the reader may see, so a hidden record's words leave public scores alone."""
    assert import_rows(PUBLIC).failed == 0
    anonymous = app.test_client()
    member = app.test_client()
    sign_in(member, make_user("member", organization="ILO"))
    queries = ["cooperatives", "solidarity finance", '"solidarity finance"', "financ*"]
    before = {q: scores(anonymous, q) for q in queries}
    before_member = {q: scores(member, q) for q in queries}
    assert all(before.values()) and before == before_member

    hidden = " ".join(["Cooperatives solidarity finance cooperatives."] * 30)
    assert import_rows([{**HIDDEN[0], "content": hidden}], release=False).failed == 0
    assert import_rows([{**row, "content": hidden} for row in HIDDEN[1:]]).failed == 0

    assert {q: scores(anonymous, q) for q in queries} == before
    # The member sees the members-only record, so their statistics do change.
    after_member = {q: scores(member, q) for q in queries}
    assert "HID-MEMBERS" in after_member["cooperatives"]
    assert after_member["cooperatives"]["PUB-0"] != before_member["cooperatives"]["PUB-0"]


WITHDRAWN_WORD = "plumbagorine"


@pytest.mark.slow
def test_meeting_pages_list_and_count_only_what_the_reader_may_see(
    app: Flask, import_rows, make_user
) -> None:
    with app.app_context():
        meetings.create_meeting(
            users.system_user(), meetings.MeetingFields(number="45", held_on="2023-09-05")
        )
    in_meeting = [
        {**row, "meeting": "45"}
        for row in (
            PUBLIC[0],
            {**PUBLIC[1], "ref": "WITHDRAWN", "title": f"Withdrawn {WITHDRAWN_WORD}"},
        )
    ]
    assert import_rows(in_meeting).failed == 0
    assert import_rows([{**HIDDEN[0], "meeting": "45"}], release=False).failed == 0
    assert import_rows([{**row, "meeting": "45"} for row in HIDDEN[1:]]).failed == 0
    with app.app_context():
        withdrawn = db.session.scalar(select(Document).where(Document.ref == "WITHDRAWN"))
        review.withdraw(users.system_user(), withdrawn, "Filed twice.")

    anonymous = app.test_client()
    outsider = app.test_client()
    sign_in(outsider, make_user("translator", languages=("fr",)))
    member = app.test_client()
    sign_in(member, make_user("member", organization="ILO"))
    staff = app.test_client()
    sign_in(staff, make_user("staff"))
    hidden_words = (DRAFT_WORD, MEMBERS_WORD, INTERNAL_WORD, WITHDRAWN_WORD)
    expected = {
        anonymous: (1, ()),
        outsider: (1, ()),
        member: (2, (MEMBERS_WORD,)),
        # The back office sees every record, as on its other pages.
        staff: (5, hidden_words),
    }
    for client, (count, seen) in expected.items():
        listing = client.get("/meetings/").get_data(as_text=True)
        assert f"{count} document" in listing
        page = client.get("/meetings/45").get_data(as_text=True)
        assert "Public record 0 on cooperatives" in page
        for word in hidden_words:
            assert (word in page) == (word in seen), word


def test_usage_statistics_of_hidden_records_reach_only_those_who_may_see_them(
    app: Flask, import_rows, make_user
) -> None:
    """A members-only, internal or withdrawn record's counts are shown, in the API, on
    its page and in the staff report, only to those who may see the record; a draft is
    never counted at all."""
    assert import_rows(PUBLIC[:1]).failed == 0
    assert import_rows(HIDDEN[:1], release=False).failed == 0
    assert import_rows(HIDDEN[1:] + [{**PUBLIC[1], "ref": "HID-WITHDRAWN"}]).failed == 0
    with app.app_context():
        by_ref = {d.ref: d for d in db.session.scalars(select(Document))}
        ids = {ref: d.id for ref, d in by_ref.items()}
        files = {ref: d.variants[0].files[0].id for ref, d in by_ref.items()}
    browser = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0"}
    robot = {"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}
    staff = app.test_client()
    staff_email = make_user("staff", "admin", "reviewer")
    sign_in(staff, staff_email)
    for ref in ids:
        assert staff.get(f"/documents/{ids[ref]}", headers=browser).status_code == 200
        download = staff.get(f"/documents/{ids[ref]}/files/{files[ref]}", headers=browser)
        assert download.status_code == 200
        download.close()
    with app.app_context():
        review.withdraw(
            db.session.scalar(select(User).where(User.email == staff_email)),
            db.session.get(Document, ids["HID-WITHDRAWN"]),
            "Replaced by a newer edition.",
        )
    counted = {"views": 1, "downloads": 1}
    nothing = {"views": 0, "downloads": 0}
    # Staff see every record's counts; the draft previewed was not counted.
    assert staff.get(f"/api/documents/{ids['HID-MEMBERS']}").json["statistics"] == counted
    assert staff.get(f"/api/documents/{ids['HID-DRAFT']}").json["statistics"] == nothing

    anonymous = app.test_client()
    outsider = app.test_client()
    sign_in(outsider, make_user("translator", languages=("fr",)))
    member = app.test_client()
    sign_in(member, make_user("member", organization="ILO"))
    readable = {
        "anonymous": {"PUB-0", "HID-WITHDRAWN"},
        "outsider": {"PUB-0", "HID-WITHDRAWN"},
        "member": {"PUB-0", "HID-WITHDRAWN", "HID-MEMBERS"},
    }
    for who, client in (("anonymous", anonymous), ("outsider", outsider), ("member", member)):
        for ref, document_id in ids.items():
            for address in (f"/api/documents/{document_id}", f"/api/documents/ref/{ref}"):
                answer = client.get(address)
                if ref in readable[who]:
                    assert answer.status_code == 200, (who, address)
                    assert answer.json["statistics"] == counted, (who, address)
                else:
                    assert answer.status_code == 404, (who, address)
                    assert "statistics" not in answer.get_data(as_text=True)
            # As a robot, so that reading the page adds nothing to what it shows.
            page = client.get(f"/documents/{document_id}?lang=en", headers=robot)
            shown = "1 view · 1 download" in page.get_data(as_text=True)
            assert shown == (ref in readable[who]), (who, ref)
        # The staff report and its CSV are the staff's.
        for address in ("/staff/statistics", "/staff/statistics.csv"):
            refused = client.get(address)
            assert refused.status_code in (302, 403), (who, address)
            assert "HID-" not in refused.get_data(as_text=True)
    # The report's reads apply the rule themselves, whoever calls them.
    with app.app_context():
        month = statistics_queries.report(None, "2000-01", "2999-12")
        assert (month.totals.views, month.totals.downloads) == (2, 2)  # PUB-0, HID-WITHDRAWN
        assert statistics_queries.totals(None, ids["HID-MEMBERS"]) is None
        assert {u.ref for u in statistics_queries.record_usage(None, "2000-01", "2999-12")} == {
            "PUB-0",
            "HID-WITHDRAWN",
        }
