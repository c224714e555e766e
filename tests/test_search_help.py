"""The search help page and the advanced-search form: both read in the six languages,
every example on the help page runs, and the form writes the query a researcher would
type, with the same results."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import Browser

from knowledge_hub.web.forms.advanced_search import EARLIEST_YEAR
from knowledge_hub.web.forms.advanced_search import Wanted
from knowledge_hub.web.forms.advanced_search import compose_query
from knowledge_hub.web.forms.advanced_search import field_value
from knowledge_hub.web.forms.advanced_search import words_of
from tests.test_browser import CHROMIUM
from tests.test_browser import browser  # noqa: F401  (a fixture)
from tests.test_browser import live_hub  # noqa: F401  (a fixture)

THIS_YEAR = 2026

TITLES = {
    "en": ("Search help", "Advanced search"),
    "fr": ("Aide à la recherche", "Recherche avancée"),
    "es": ("Ayuda para la búsqueda", "Búsqueda avanzada"),
    "ar": ("مساعدة في البحث", "البحث المتقدم"),
    "ru": ("Справка по поиску", "Расширенный поиск"),
    "zh": ("检索帮助", "高级检索"),
}


# --- composing the query (pure)


def test_an_empty_form_writes_the_empty_query() -> None:
    assert compose_query(Wanted(), THIS_YEAR) == ""
    assert compose_query(Wanted(all_words="  ", phrase=' " ', title='""'), THIS_YEAR) == ""


def test_all_of_these_words_are_each_required() -> None:
    assert compose_query(Wanted(all_words="social  economy"), THIS_YEAR) == "social AND economy"
    assert compose_query(Wanted(all_words="cooperatives"), THIS_YEAR) == "cooperatives"


def test_a_phrase_is_quoted_and_a_quote_inside_it_cannot_end_it() -> None:
    assert compose_query(Wanted(phrase="social economy"), THIS_YEAR) == '"social economy"'
    assert compose_query(Wanted(phrase='the "new" economy'), THIS_YEAR) == '"the new economy"'


def test_any_of_these_words_are_grouped_beside_other_parts() -> None:
    assert compose_query(Wanted(any_words="cooperatives mutuals"), THIS_YEAR) == (
        "cooperatives OR mutuals"
    )
    assert compose_query(
        Wanted(all_words="health", any_words="cooperatives mutuals"), THIS_YEAR
    ) == ("health AND (cooperatives OR mutuals)")
    assert compose_query(Wanted(title="finance", any_words="a b"), THIS_YEAR) == (
        "(a OR b) AND title:finance"
    )


def test_none_of_these_words_are_excluded_with_a_minus() -> None:
    wanted = Wanted(all_words="cooperatives", none_words="housing -banks")
    assert compose_query(wanted, THIS_YEAR) == "cooperatives -housing -banks"


def test_operators_and_syntax_typed_in_a_box_are_plain_words() -> None:
    assert words_of('AND "x" (y) -z OR and') == ["and", "x", "y", "z", "or", "and"]
    assert compose_query(Wanted(all_words="women AND finance"), THIS_YEAR) == (
        "women AND and AND finance"
    )


def test_field_values_with_spaces_are_quoted() -> None:
    assert field_value("ILO") == "ILO"
    assert field_value("International Labour Office") == '"International Labour Office"'
    assert field_value('The "Task" Force') == '"The Task Force"'
    assert field_value("a:b") == '"a:b"'
    assert field_value("OR") == '"OR"'
    wanted = Wanted(title="social economy", author="Jean Dupont", org="ILO")
    assert compose_query(wanted, THIS_YEAR) == (
        'title:"social economy" AND author:"Jean Dupont" AND org:ILO'
    )


def test_years_make_a_range_both_ends_included() -> None:
    assert compose_query(Wanted(year_from=2019, year_to=2023), THIS_YEAR) == "year:2019..2023"
    assert compose_query(Wanted(year_from=2023, year_to=2023), THIS_YEAR) == "year:2023"
    assert compose_query(Wanted(year_from=2019), THIS_YEAR) == f"year:2019..{THIS_YEAR}"
    assert compose_query(Wanted(year_from=THIS_YEAR), THIS_YEAR) == f"year:{THIS_YEAR}"
    assert compose_query(Wanted(year_to=2010), THIS_YEAR) == f"year:{EARLIEST_YEAR}..2010"


def test_every_box_together() -> None:
    wanted = Wanted(
        all_words="social",
        phrase="solidarity economy",
        any_words="women youth",
        none_words="housing",
        title="guide",
        author="ILO",
        year_from=2019,
        year_to=2023,
    )
    assert compose_query(wanted, THIS_YEAR) == (
        'social AND "solidarity economy" AND (women OR youth) AND title:guide AND author:ILO'
        " AND year:2019..2023 -housing"
    )


# --- the pages


@pytest.fixture
def records(import_rows) -> None:
    rows = [
        ("GUIDE-1", "policy-brief", "2020", "Cooperatives and health", "cooperatives health care"),
        ("GUIDE-2", "case-study", "2021", "Housing cooperatives", "cooperatives housing rent"),
        (
            "GUIDE-3",
            "report",
            "2023",
            "Social enterprise finance",
            "social enterprise finance women",
        ),
        ("GUIDE-4", "policy-brief", "2023", "Mutual insurance", "mutuals health insurance"),
        ("GUIDE-5", "report", "2019", "The social economy", "social solidarity economy women"),
    ]
    report = import_rows(
        [
            dict(
                ref=ref,
                file=f"{ref}.txt",
                title=title,
                summary=f"{title}: what the social and solidarity economy does about it.",
                type=doc_type,
                date=year,
                organizations="ILO",
                topics="cooperatives",
                regions="SN",
                content=f"{title}. {text}.",
            )
            for ref, doc_type, year, title, text in rows
        ]
    )
    assert report.failed == 0, [str(r) for r in report.rows]


def _title(html: str) -> str:
    return unescape(re.search(r"<title>(.*?)</title>", html, re.S)[1])


@pytest.mark.parametrize("language", TITLES)
def test_both_pages_read_in_each_language(client: FlaskClient, language: str) -> None:
    help_title, advanced_title = TITLES[language]
    response = client.get(f"/search/help?lang={language}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _title(html).startswith(help_title)
    assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in html
    response = client.get(f"/search/advanced?lang={language}")
    assert response.status_code == 200
    assert _title(response.get_data(as_text=True)).startswith(advanced_title)


def test_the_search_box_leads_to_help_and_the_advanced_form(client: FlaskClient) -> None:
    for page in ("/", "/search?q=cooperatives"):
        html = client.get(page).get_data(as_text=True)
        assert 'href="/search/advanced"' in html
        assert 'href="/search/help"' in html


@pytest.mark.slow
def test_every_example_on_the_help_page_runs(client: FlaskClient, records) -> None:
    html = client.get("/search/help").get_data(as_text=True)
    examples = [unescape(href) for href in re.findall(r'class="example" href="([^"]+)"', html)]
    assert len(examples) >= 20
    for language in TITLES:
        client.get(f"/?lang={language}")
        for href in examples:
            response = client.get(href)
            assert response.status_code == 200, (language, href)
    # The type codes the fields section lists are those of this hub.
    assert '<code dir="ltr">policy-brief</code>' in html


def _ids(client: FlaskClient, pairs: list[tuple[str, str]]) -> set[int]:
    response = client.get("/api/search", query_string=[*pairs, ("per_page", "100")])
    assert response.status_code == 200, response.get_json()
    return {result["id"] for result in response.get_json()["results"]}


def _sent(client: FlaskClient, form: dict[str, str]) -> list[tuple[str, str]]:
    """What the form sends the reader on to: the query string of /search."""
    response = client.get("/search/advanced", query_string=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    location = urlsplit(response.headers["Location"])
    assert location.path == "/search"
    return parse_qsl(location.query)


@pytest.mark.slow
def test_the_form_finds_what_typing_its_query_finds(client: FlaskClient, records) -> None:
    every = _ids(client, [])
    cases = [
        ({"all_words": "social women"}, [("q", "social AND women")]),
        ({"phrase": "social enterprise"}, [("q", '"social enterprise"')]),
        ({"any_words": "housing mutuals"}, [("q", "housing OR mutuals")]),
        ({"all_words": "cooperatives", "none_words": "housing"}, [("q", "cooperatives -housing")]),
        (
            {"any_words": "health finance", "type": "policy-brief"},
            [("q", "health OR finance"), ("type", "policy-brief")],
        ),
        ({"type": "report", "language": "en"}, [("type", "report"), ("language", "en")]),
        # The fields of the query language.
        ({"year_from": "2020", "year_to": "2021"}, [("q", "year:2020..2021")]),
        ({"title": "housing cooperatives"}, [("q", 'title:"housing cooperatives"')]),
        (
            {"all_words": "health", "title": "mutual"},
            [("q", "health AND title:mutual")],
        ),
    ]
    for form, typed in cases:
        sent = _sent(client, form)
        assert sent == typed
        found = _ids(client, sent)
        assert found == _ids(client, typed)
        # Each case narrows the search: a query that found everything proves nothing.
        assert found and found != every, (form, found)


def test_the_form_sends_its_filters_and_order(client: FlaskClient) -> None:
    sent = _sent(
        client,
        {
            "all_words": "",
            "organization": "ILO",
            "topic": "cooperatives",
            "region": "SN",
            "sort": "newest",
        },
    )
    assert sent == [
        ("organization", "ILO"),
        ("topic", "cooperatives"),
        ("region", "SN"),
        ("sort", "newest"),
    ]


def test_an_empty_form_sends_the_reader_to_every_record(client: FlaskClient) -> None:
    response = client.get("/search/advanced?all_words=&sort=relevance")
    assert response.status_code == 302
    assert response.headers["Location"] == "/search"


def test_a_bare_visit_shows_the_form_with_its_labels(client: FlaskClient) -> None:
    html = client.get("/search/advanced").get_data(as_text=True)
    for name in (
        "all_words",
        "phrase",
        "any_words",
        "none_words",
        "title",
        "author",
        "organization",
        "org",
        "type",
        "year_from",
        "year_to",
        "language",
        "topic",
        "region",
        "sort",
    ):
        assert f'<label for="{name}">' in html, name
        assert f'id="{name}"' in html, name
    assert 'method="get"' in html
    # The lists offer the hub's own types, topics and organizations, and every country.
    assert '<option value="policy-brief">Policy brief</option>' in html
    assert '<option value="cooperatives">Cooperatives and mutual organizations</option>' in html
    assert re.search(r'<option value="ILO">ILO — [^<]+</option>', html)
    assert '<option value="SN">Senegal</option>' in html
    assert 'value="ZZ"' not in html


def test_a_year_that_is_not_a_year_is_said_by_its_box(client: FlaskClient) -> None:
    response = client.get(
        "/search/advanced", query_string={"all_words": "social economy", "year_from": "twenty"}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html
    assert "Write a year as four digits" in html
    field = re.search(r'<input[^>]*id="year_from"[^>]*>', html)[0]
    assert 'aria-invalid="true"' in field
    assert 'aria-describedby="year_from-errors"' in field
    assert 'value="twenty"' in field
    # Nothing typed is lost.
    assert 'value="social economy"' in html


def test_years_in_the_wrong_order_are_refused(client: FlaskClient) -> None:
    response = client.get(
        "/search/advanced", query_string={"year_from": "2023", "year_to": "2019", "lang": "fr"}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    field = re.search(r'<input[^>]*id="year_to"[^>]*>', html)[0]
    assert 'aria-describedby="year_to-hint year_to-errors"' in field
    assert "2019" in field
    assert "2019" in re.search(r'<ul class="errors" id="year_to-errors">(.*?)</ul>', html, re.S)[1]


def test_words_to_leave_out_alone_are_refused(client: FlaskClient) -> None:
    response = client.get("/search/advanced", query_string={"none_words": "housing"})
    assert response.status_code == 400
    assert 'id="none_words-errors"' in response.get_data(as_text=True)
    response = client.get(
        "/search/advanced", query_string={"none_words": "housing", "title": "cooperatives"}
    )
    assert response.status_code == 302


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is installed by tests/setup.sh")
def test_the_arabic_form_and_examples_mirror_in_a_browser(live_hub: str, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_hub}/search/advanced?lang=ar")
    label = page.locator('label[for="all_words"]').bounding_box()
    box = page.locator("#all_words").bounding_box()
    # Right to left: a label starts at the right edge of its box.
    assert abs((label["x"] + label["width"]) - (box["x"] + box["width"])) < 2
    # A long organization's name in a list does not widen its part of the form.
    edges = {
        round(f["x"])
        for f in page.locator("form.advanced-search fieldset").evaluate_all(
            "fieldsets => fieldsets.map(f => f.getBoundingClientRect().toJSON())"
        )
    }
    assert len(edges) == 1, edges
    page.goto(f"{live_hub}/search/help?lang=ar")
    directions = page.locator("a.example code").evaluate_all(
        "codes => codes.map(c => getComputedStyle(c).direction)"
    )
    assert directions and set(directions) == {"ltr"}
    page.close()
