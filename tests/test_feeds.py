"""Discovery: the Atom feeds of releases and searches, the sitemap (with its index when
large) and robots.txt, each showing only what the caller may see."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.services import review
from knowledge_hub.services import users
from tests.conftest import sign_in

ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
NS = {"a": ATOM, "s": SITEMAP}


@pytest.fixture
def records(app: Flask, import_rows) -> dict[str, int]:
    base = dict(
        kind="publication",
        type="report",
        date="2023-06",
        organizations="ILO",
        topics="cooperatives",
    )
    rows = [
        dict(
            base,
            ref="PUB-1",
            title="Cooperatives and decent work",
            authors="Doe, Jane",
            summary="How cooperatives create decent work.",
            content="Cooperatives at work.",
        ),
        dict(
            base,
            ref="PUB-1",
            language="fr",
            title="Coopératives et travail décent",
            content="Les coopératives au travail.",
        ),
        dict(
            base,
            ref="PUB-2",
            title="Solidarity finance",
            type="case-study",
            content="Community banks and solidarity finance.",
        ),
        dict(base, ref="PUB-3", title="Cooperative housing", content="Cooperatives build homes."),
        dict(
            base,
            ref="MEM-1",
            title="Members cooperatives",
            access="members",
            content="Cooperatives for members.",
        ),
        dict(base, ref="GONE-1", title="Withdrawn cooperatives", content="Cooperatives gone."),
    ]
    assert import_rows(rows).failed == 0
    import_rows(
        [dict(base, ref="DRAFT-1", title="Draft cooperatives", content="Cooperatives.")],
        release=False,
    )
    with app.app_context():
        gone = db.session.scalar(select(Document).where(Document.ref == "GONE-1"))
        review.withdraw(users.system_user(), gone, "Superseded.")
        return {d.ref: d.id for d in db.session.scalars(select(Document))}


def atom(client: FlaskClient, url: str) -> etree._Element:
    """Fetch a feed and check what RFC 4287 requires of it and of every entry."""
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = etree.fromstring(response.data)
    assert feed.tag == f"{{{ATOM}}}feed"
    for required in ("id", "title", "updated"):
        assert len(feed.findall(f"a:{required}", NS)) == 1, required
    assert feed.find("a:link[@rel='self']", NS).get("href").startswith("http://hub.test/")
    has_feed_author = feed.find("a:author/a:name", NS) is not None
    for entry in feed.iterfind("a:entry", NS):
        for required in ("id", "title", "updated"):
            assert len(entry.findall(f"a:{required}", NS)) == 1, required
        assert entry.find("a:link[@rel='alternate']", NS) is not None
        assert has_feed_author or entry.find("a:author/a:name", NS) is not None
        for stamp in entry.iterfind("a:updated", NS):
            assert stamp.text.endswith("Z") and "T" in stamp.text
    return feed


def titles(feed: etree._Element) -> set[str]:
    return {t.text for t in feed.iterfind("a:entry/a:title", NS)}


@pytest.mark.slow
def test_the_release_feed_lists_released_records_the_reader_may_see(client, records) -> None:
    feed = atom(client, "/feed.atom")
    assert titles(feed) == {
        "Cooperatives and decent work",
        "Solidarity finance",
        "Cooperative housing",
    }
    entry = next(
        e
        for e in feed.iterfind("a:entry", NS)
        if e.findtext("a:title", namespaces=NS) == "Cooperatives and decent work"
    )
    assert entry.findtext("a:id", namespaces=NS) == f"http://hub.test/documents/{records['PUB-1']}"
    assert entry.findtext("a:author/a:name", namespaces=NS) == "Doe, Jane"
    assert entry.findtext("a:summary", namespaces=NS) == "How cooperatives create decent work."
    french = atom(client, "/feed.atom?lang=fr")
    assert "Coopératives et travail décent" in titles(french)


@pytest.mark.slow
def test_a_member_sees_members_records_in_the_feed(client, records, make_user) -> None:
    sign_in(client, make_user("member"))
    assert "Members cooperatives" in titles(atom(client, "/feed.atom"))


def test_any_search_is_a_feed(client, records) -> None:
    feed = atom(client, "/search.atom?q=cooperatives")
    # "Solidarity finance" has the topic Cooperatives, which is searched too.
    assert titles(feed) == {
        "Cooperatives and decent work",
        "Solidarity finance",
        "Cooperative housing",
    }
    assert "cooperatives" in feed.findtext("a:title", namespaces=NS)
    alternate = feed.find("a:link[@rel='alternate']", NS).get("href")
    assert alternate == "http://hub.test/search?q=cooperatives"
    assert titles(atom(client, "/search.atom?type=case-study")) == {"Solidarity finance"}
    assert client.get("/search.atom?page=0").status_code == 400


def sitemap_urls(client: FlaskClient, url: str) -> dict[str, str]:
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = etree.fromstring(response.data)
    assert root.tag == f"{{{SITEMAP}}}urlset"
    return {
        u.findtext("s:loc", namespaces=NS): u.findtext("s:lastmod", namespaces=NS)
        for u in root.iterfind("s:url", NS)
    }


def test_the_sitemap_lists_public_landing_pages_with_their_last_change(client, records) -> None:
    urls = sitemap_urls(client, "/sitemap.xml")
    assert set(urls) == {
        f"http://hub.test/documents/{records[r]}" for r in ("PUB-1", "PUB-2", "PUB-3")
    }
    assert all(lastmod.endswith("+00:00") for lastmod in urls.values())


def test_a_large_sitemap_becomes_an_index_of_pages(app, client, records) -> None:
    app.config["SITEMAP_PAGE_SIZE"] = 2
    root = etree.fromstring(client.get("/sitemap.xml").data)
    assert root.tag == f"{{{SITEMAP}}}sitemapindex"
    pages = [s.findtext("s:loc", namespaces=NS) for s in root.iterfind("s:sitemap", NS)]
    assert pages == ["http://hub.test/sitemap-1.xml", "http://hub.test/sitemap-2.xml"]
    listed = {}
    for page in pages:
        urls = sitemap_urls(client, page.removeprefix("http://hub.test"))
        assert len(urls) <= 2
        listed |= urls
    assert len(listed) == 3
    assert client.get("/sitemap-3.xml").status_code == 404


def test_robots_keeps_crawlers_out_of_the_back_office(client) -> None:
    response = client.get("/robots.txt")
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    for path in ("/staff", "/review", "/admin", "/translate", "/translations", "/auth"):
        assert f"Disallow: {path}\n" in text
    assert "Disallow: /documents" not in text and "Disallow: /\n" not in text
    assert "Sitemap: http://hub.test/sitemap.xml" in text
