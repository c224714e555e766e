"""The record page's language tabs and links, the permanent link /r/<REF>, the browse
pages, related records, and the search's exports and feed carrying its filters."""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask import Flask
from sqlalchemy import select

from knowledge_hub import m49
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.services import translations
from knowledge_hub.services import users
from tests.conftest import sign_in

THREE_LANGUAGES = [
    dict(
        ref="TAB-1",
        language=language,
        title=title,
        summary=f"Summary in {language}.",
        organizations="ILO;UN Women",
        authors="Mustermann, Erika;Doe, Jane",
        topics="cooperatives;sdg-8",
        regions="SN",
        type="report",
        date="2021-05",
        content=f"Cooperatives and decent work, text in {language}.",
    )
    for language, title in (
        ("en", "Cooperatives and decent work"),
        ("fr", "Coopératives et travail décent"),
        ("ar", "التعاونيات والعمل اللائق"),
    )
]


def tab_languages(page: str) -> list[str]:
    return re.findall(r'<a id="tab-([\w-]+)"', page)


def shown_panel(page: str) -> str:
    panels = re.findall(r'<section class="version" id="version-([\w-]+)"([^>]*)>', page)
    return [language for language, attributes in panels if " hidden" not in attributes][0]


def document_id(app: Flask, ref: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Document.id).where(Document.ref == ref))


def test_tabs_put_the_interface_language_first_and_show_its_version(
    app: Flask, client, import_rows
) -> None:
    assert import_rows(THREE_LANGUAGES).failed == 0
    record = document_id(app, "TAB-1")
    page = client.get(f"/documents/{record}?lang=fr").get_data(as_text=True)
    assert tab_languages(page) == ["fr", "en", "ar"]  # then the original, then the rest
    assert shown_panel(page) == "fr"
    assert 'aria-current="true">French' not in page  # names in the interface's language
    assert 'aria-current="true">français' in page
    page = client.get(f"/documents/{record}?lang=ar").get_data(as_text=True)
    assert tab_languages(page) == ["ar", "en", "fr"]
    assert shown_panel(page) == "ar"
    # Without script, a tab is a link to the page with that version shown.
    page = client.get(f"/documents/{record}?lang=en&version=fr").get_data(as_text=True)
    assert shown_panel(page) == "fr"
    assert f'href="/documents/{record}?lang=en&amp;version=ar#version-ar"' in page
    assert re.search(r'<h1 id="record-title" lang="fr" dir="ltr">Coopératives', page)
    # Every version's title and summary is on the page, the others' panels hidden.
    for row in THREE_LANGUAGES:
        assert row["title"] in page and row["summary"] in page


def test_a_version_being_translated_is_shown_as_such(app: Flask, client, import_rows) -> None:
    assert import_rows(THREE_LANGUAGES[:1]).failed == 0
    record = document_id(app, "TAB-1")
    with app.app_context():
        document = db.session.get(Document, record)
        translations.request_translations(users.system_user(), document, ["es", "zh"])
    page = client.get(f"/documents/{record}?lang=en").get_data(as_text=True)
    note = re.search(r'<p class="note being-translated">(.*?)</p>', page, re.S)
    assert note is not None
    assert "Spanish" in note.group(1) and "Chinese" in note.group(1)
    assert tab_languages(page) == []  # one version: no tabs to choose between


def test_the_record_links_its_organizations_authors_topics_regions_type_and_year(
    app: Flask, client, import_rows
) -> None:
    assert import_rows(THREE_LANGUAGES[:1]).failed == 0
    page = client.get(f"/documents/{document_id(app, 'TAB-1')}").get_data(as_text=True)
    for link in (
        'href="/browse/organizations/ILO"',
        'href="/browse/organizations/UN%20Women"',
        'href="/browse/topics/cooperatives"',
        'href="/browse/topics/sdg-8"',
        'href="/browse/regions/SN"',
        'href="/browse/types/report"',
        'href="/browse/years/2021"',
        'href="/search?q=author:%22Mustermann,+Erika%22"',
    ):
        assert link in page, link
    # Each link leads to a page that lists the record.
    for path in ("/browse/organizations/UN Women", "/browse/topics/sdg-8", "/browse/regions/002"):
        assert "Cooperatives and decent work" in client.get(path).get_data(as_text=True), path
    found = client.get('/search?q=author:"Mustermann, Erika"').get_data(as_text=True)
    assert "Cooperatives and decent work" in found


def test_the_permanent_link_leads_to_the_record_page_whatever_its_ref_holds(
    app: Flask, client, import_rows
) -> None:
    refs = ["A/RES/77/281", "E/2023/L.1 (Rev.1)", "Réf-ü 20%"]
    rows = [dict(ref=r, title=f"Record {n}", content=f"Text {n}.") for n, r in enumerate(refs)]
    assert import_rows(rows).failed == 0
    for ref in refs:
        record = document_id(app, ref)
        page = client.get(f"/documents/{record}").get_data(as_text=True)
        shared = re.search(r'id="permanent-link"[^>]*value="([^"]+)"', page)
        assert shared is not None
        link = shared.group(1).replace("&amp;", "&").removeprefix("http://hub.test")
        assert link.startswith("/r/")
        response = client.get(link)
        assert response.status_code == 302, ref
        assert response.headers["Location"] == f"/documents/{record}"
    assert client.get("/r/NO-SUCH-REF").status_code == 404
    assert client.get("/r/A/RES/77").status_code == 404


def test_the_permanent_link_of_a_hidden_record_answers_as_its_page_does(
    app: Flask, client, import_rows, make_user
) -> None:
    rows = [dict(ref="M/1", title="Members only", access="members", content="Text.")]
    assert import_rows(rows).failed == 0
    assert client.get("/r/M/1").status_code == 404
    assert client.get(f"/documents/{document_id(app, 'M/1')}").status_code == 404
    sign_in(client, make_user("member"))
    assert client.get("/r/M/1").status_code == 302


def test_the_history_is_on_the_record_page_for_staff_only(
    app: Flask, client, import_rows, make_user
) -> None:
    assert import_rows(THREE_LANGUAGES[:1]).failed == 0
    path = f"/documents/{document_id(app, 'TAB-1')}"
    assert 'id="history-heading"' not in client.get(path).get_data(as_text=True)
    sign_in(client, make_user("staff"))
    page = client.get(path).get_data(as_text=True)
    assert 'id="history-heading"' in page
    assert "Released" in page.split('id="history-heading"')[1]


BROWSED = [
    dict(
        ref=f"B-{n}",
        title=f"Browsed record {n}",
        organizations=organizations,
        topics=topics,
        regions=regions,
        type=doc_type,
        date=date,
        access=access,
        content=f"Text {n}.",
    )
    for n, (organizations, topics, regions, doc_type, date, access) in enumerate(
        [
            ("ILO", "cooperatives", "SN", "report", "2020-01", "public"),
            ("ILO;ICA", "sdg-8", "KE;BR", "guide", "2021", "public"),
            ("ICA", "cooperatives", "419", "report", "2021-03", "public"),
            ("ILO", "cooperatives", "KE", "report", "2021", "members"),
        ]
    )
]


def count_of(page: str, href: str) -> int:
    link = rf'<a href="{re.escape(href)}">(?:(?!</a>).)*</a>'
    match = re.search(rf'{link} <span class="count">(\d+)', page, re.S)
    assert match is not None, href
    return int(match.group(1))


def test_browse_pages_count_what_the_reader_may_see(
    app: Flask, client, import_rows, make_user
) -> None:
    assert import_rows(BROWSED).failed == 0
    member = app.test_client()
    sign_in(member, make_user("member"))
    expected = {
        "/browse/organizations": {"/browse/organizations/ILO": (2, 3)},
        "/browse/topics": {"/browse/topics/cooperatives": (2, 3), "/browse/topics/sdg-8": (1, 1)},
        "/browse/regions": {
            "/browse/regions/002": (2, 3),  # SN, KE, and KE again (members only)
            "/browse/regions/019": (2, 2),  # BR, and 419 by its code
            "/browse/regions/419": (2, 2),
            "/browse/regions/KE": (1, 2),
        },
        "/browse/types": {"/browse/types/report": (2, 3)},
        "/browse/years": {"/browse/years/2021": (2, 3), "/browse/years/2020": (1, 1)},
    }
    for path, counts in expected.items():
        anonymous_page = client.get(path).get_data(as_text=True)
        member_page = member.get(path).get_data(as_text=True)
        for href, (for_anyone, for_members) in counts.items():
            assert count_of(anonymous_page, href) == for_anyone, href
            assert count_of(member_page, href) == for_members, href
    # The map's regions carry the same counts as the list.
    world_map = client.get("/browse/regions").get_data(as_text=True).split("</figure>")[0]
    assert re.search(
        r'href="/browse/regions/002">\s*<path d="M[^"]+"/>\s*<text[^>]*>Africa \(2\)', world_map
    )
    assert re.search(
        r'href="/browse/regions/419">.*?Latin America[^<]*\(2\)</text>', world_map, re.S
    )
    organization = client.get("/browse/organizations/ILO").get_data(as_text=True)
    assert "Browsed record 0" in organization and "Browsed record 1" in organization
    assert "Browsed record 3" not in organization
    assert "Browsed record 3" in member.get("/browse/organizations/ILO").get_data(as_text=True)
    # Organizations are grouped into members and observers.
    grouped = client.get("/browse/organizations").get_data(as_text=True)
    assert grouped.index("/browse/organizations/ILO") < grouped.index('id="kind-observer"')
    assert grouped.index('id="kind-observer"') < grouped.index("/browse/organizations/ICA")


def test_browse_pages_of_unknown_values_are_not_found(client) -> None:
    for path in (
        "/browse/organizations/NOPE",
        "/browse/topics/nope",
        "/browse/regions/QQ",
        "/browse/types/nope",
        "/browse/years/99",
        "/browse/organizations/ILO?page=2",
    ):
        assert client.get(path).status_code == 404, path


def test_a_browse_list_is_paged(app: Flask, client, import_rows) -> None:
    rows = [
        dict(ref=f"P-{n:02}", title=f"Paged {n:02}", date=f"2010-01-{n + 1:02}", content="x")
        for n in range(23)
    ]
    assert import_rows(rows).failed == 0
    first = client.get("/browse/years/2010").get_data(as_text=True)
    assert "Paged 22" in first and "Paged 00" not in first  # newest first
    assert 'rel="next" href="/browse/years/2010?page=2"' in first
    second = client.get("/browse/years/2010?page=2").get_data(as_text=True)
    assert "Paged 00" in second and "Paged 22" not in second


def test_every_region_contains_its_parts() -> None:
    assert "SN" in m49.codes_within("002") and "SN" not in m49.codes_within("150")
    assert m49.codes_within("419") < m49.codes_within("019")
    assert m49.codes_within("FR") == {"FR"}
    assert m49.region_of("BR") == "019" and m49.region_of("JP") == "142"
    countries = [c for region in m49.REGIONS if region.within is None for c in region.countries]
    assert len(countries) == len(set(countries))  # no country in two regions


RELATED = [
    dict(
        ref="REL-PUBLIC",
        title="Housing cooperatives in West Africa",
        topics="cooperatives;sustainable-cities",
        organizations="ICA",
        content="Housing cooperatives give families affordable homes in growing cities.",
    ),
    dict(
        ref="REL-MEMBERS",
        title="Housing cooperatives in growing cities",
        topics="cooperatives;sustainable-cities",
        organizations="ICA",
        access="members",
        content="Housing cooperatives give families affordable homes in growing cities.",
    ),
    dict(
        ref="REL-OTHER",
        title="Affordable homes through housing cooperatives",
        topics="food-security",
        content="Housing cooperatives affordable homes families cities housing.",
    ),
    dict(
        ref="REL-UNRELATED",
        title="Fisheries statistics",
        topics="food-security",
        content="Catch volumes by port and season.",
    ),
]


def related_titles(page: str) -> list[str]:
    if 'id="related-heading"' not in page:
        return []
    section = page.split('id="related-heading"')[1].split("</section>")[0]
    return re.findall(r'<a href="[^"]+" lang="\w+" dir="\w+">([^<]+)</a>', section)


def test_related_records_share_topics_or_text_and_never_a_hidden_one(
    app: Flask, client, import_rows, make_user
) -> None:
    assert import_rows(RELATED).failed == 0
    path = f"/documents/{document_id(app, 'REL-PUBLIC')}"
    anonymous = related_titles(client.get(path).get_data(as_text=True))
    assert "Affordable homes through housing cooperatives" in anonymous  # by its text
    assert "Housing cooperatives in growing cities" not in anonymous  # members only
    assert "Housing cooperatives in West Africa" not in anonymous  # not itself
    assert "Fisheries statistics" not in anonymous
    sign_in(client, make_user("member"))
    member = related_titles(client.get(path).get_data(as_text=True))
    assert member[0] == "Housing cooperatives in growing cities"  # topics and text alike


@pytest.mark.parametrize("fmt", ["cite.bib", "cite.ris", "cite.json"])
def test_the_search_page_links_its_exports_and_feed_with_its_filters(
    client, import_rows, fmt: str
) -> None:
    assert import_rows(BROWSED[:3]).failed == 0
    page = client.get("/search?q=browsed&type=report&organization=ILO&page=1").get_data(
        as_text=True
    )
    carried = "?q=browsed&amp;type=report&amp;organization=ILO"
    for export in (f"/search/{fmt}", "/search.csv", "/search.atom"):
        assert f'href="{export}{carried}"' in page, export
    exported = client.get(f"/search/{fmt}?q=browsed&type=report&organization=ILO")
    text = exported.get_data(as_text=True)
    assert "B-0" in text or "Browsed record 0" in text
    assert "Browsed record 2" not in text and "B-2" not in text  # ICA's, not ILO's


def test_the_csv_export_holds_the_search_as_the_reader_may_see_it(
    client, import_rows, make_user
) -> None:
    rows = [*BROWSED, dict(ref="=HYPERLINK(1)", title="+cmd|' /C calc'!A0", content="Text.")]
    assert import_rows(rows).failed == 0
    response = client.get("/search.csv?type=report")
    assert response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(r["ref"] for r in table) == ["B-0", "B-2"]  # not the members-only B-3
    first = next(r for r in table if r["ref"] == "B-0")
    assert first["organizations"] == "ILO" and first["regions"] == "SN"
    assert first["url"].startswith("http://hub.test/documents/")
    everything = list(csv.DictReader(io.StringIO(client.get("/search.csv").get_data(as_text=True))))
    formula = next(r for r in everything if "HYPERLINK" in r["ref"])
    assert formula["ref"] == "'=HYPERLINK(1)" and formula["title"].startswith("'+")
    assert client.get("/search.csv?per_page=x").status_code == 400


def test_related_records_follow_the_index_as_it_changes(app: Flask, client, import_rows) -> None:
    assert import_rows([RELATED[0], RELATED[3]]).failed == 0
    path = f"/documents/{document_id(app, 'REL-PUBLIC')}"
    assert related_titles(client.get(path).get_data(as_text=True)) == []
    assert related_titles(client.get(path).get_data(as_text=True)) == []  # kept, the same
    assert import_rows([RELATED[2]]).failed == 0  # the index changes: nothing kept is used
    later = related_titles(client.get(path).get_data(as_text=True))
    assert later == ["Affordable homes through housing cooperatives"]


def test_a_record_in_another_language_only_is_related_through_that_language_version(
    app: Flask, client, import_rows
) -> None:
    """The English page of a record with a French version lists a French-only record
    whose text is like the French version's; no metadata is shared."""
    rows = [
        dict(
            ref="BOTH-1",
            language="en",
            title="Pension funds of mutual societies",
            topics="sdg-8",
            content="Pension funds of mutual societies invest the savings of their members.",
        ),
        dict(
            ref="BOTH-1",
            language="fr",
            title="Les caisses de retraite des mutuelles",
            content="Les caisses de retraite des mutuelles placent l'épargne de leurs adhérents "
            "dans le logement coopératif.",
        ),
        dict(
            ref="FR-ONLY",
            language="fr",
            title="L'épargne des adhérents et le logement coopératif",
            topics="food-security",
            content="Les mutuelles placent l'épargne de leurs adhérents dans le logement "
            "coopératif et les caisses de retraite.",
        ),
        dict(
            ref="FR-OTHER",
            language="fr",
            title="La pêche artisanale au Sénégal",
            topics="food-security",
            content="Les prises par port et par saison.",
        ),
    ]
    assert import_rows(rows).failed == 0
    page = client.get(f"/documents/{document_id(app, 'BOTH-1')}?lang=en").get_data(as_text=True)
    assert 'lang="en"' in page.split('id="related-heading"')[0]  # the English version shown
    assert related_titles(page) == ["L&#39;épargne des adhérents et le logement coopératif"]
