"""Each result is shown in the reader's interface language where the record has a version
in it, else in the version that matched, else in its original; its snippet comes from the
version shown, and its language links open the record page in each version. The home
page's latest releases follow the same rule, with the browser's languages before the
original."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.language_detection import query_language
from knowledge_hub.models import Document
from knowledge_hub.models import Variant
from knowledge_hub.queries.public import display_variant
from knowledge_hub.queries.public import matched_variants
from knowledge_hub.search import Hit
from knowledge_hub.search.analyzers import WORD
from knowledge_hub.search.snippets import SNIPPET_CHARACTERS
from knowledge_hub.search.snippets import SNIPPET_WORDS
from knowledge_hub.services import setup
from tests.conftest import seed_criteria

CJK = re.compile(r"[\u3000-\u9fff]")


@pytest.fixture
def demo(app: Flask, kept_states) -> dict[str, dict[str, str]]:
    """The demonstration catalogue (kept: tests/snapshots.py); returns each record's
    titles by language, by ref."""

    def load_demo() -> None:
        with app.app_context():
            setup.load_demo()

    seed_criteria(app, kept_states)
    kept_states.run(("load_demo",), load_demo)
    with app.app_context():
        return {
            d.ref: {v.language: v.title for v in d.variants}
            for d in db.session.scalars(select(Document))
        }


def api_search(client: FlaskClient, **params) -> list[dict]:
    response = client.get("/api/search", query_string={"per_page": 50, **params})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]


def plain(snippet: str) -> str:
    return html.unescape(re.sub(r"</?mark>", "", snippet))


def test_a_chinese_query_under_an_english_interface_shows_the_english_versions(
    client: FlaskClient, demo: dict
) -> None:
    results = api_search(client, q="社会", lang="en")
    assert {r["ref"] for r in results} >= {"DEMO-PB-RES-77-281", "DEMO-PP-2022"}
    for result in results:
        titles = demo[result["ref"]]
        assert "en" in titles and result["matched_language"] == "zh"
        assert result["language"] == "en" and result["title"] == titles["en"]
        # The snippet is the English version's opening, not Chinese text.
        assert result["snippet"] and not CJK.search(result["snippet"])
        assert "<mark>" not in result["snippet"]
        assert plain(result["snippet"]).split()[:5] == result["summary"].split()[:5]
    # Read in Chinese, the same results show the Chinese versions, words marked.
    for result in api_search(client, q="社会", lang="zh"):
        assert result["language"] == "zh" and result["title"] == demo[result["ref"]]["zh"]
        assert "<mark>社会</mark>" in result["snippet"]


def test_the_search_page_shows_the_interface_languages_version_and_links_each_version(
    client: FlaskClient, demo: dict
) -> None:
    page = client.get("/search", query_string={"q": "社会", "lang": "en"}).get_data(as_text=True)
    titles = demo["DEMO-PB-RES-77-281"]
    assert str(escape(titles["en"])) in page
    assert str(escape(titles["zh"])) not in page
    assert "Matched in the Chinese version." in page
    # Each language of the record links to its page in that version.
    start = page.index(str(escape(titles["en"])))
    hit = page[start : page.index("</ul>", start)]
    links = dict(
        (language, url)
        for url, language in re.findall(
            r'<a href="([^"]*version=(\w+))"[^>]*><abbr[^>]*>\w+</abbr></a>', hit
        )
    )
    assert set(links) == {"ar", "en", "es", "fr", "ru", "zh"}
    assert 'aria-current="true"><abbr title="English"' in hit
    for language, url in links.items():
        landing = client.get(html.unescape(url)).get_data(as_text=True)
        heading = re.search(r'<h1 id="record-title" lang="(\w+)"[^>]*>(.*?)</h1>', landing, re.S)
        assert heading.group(1) == language
        assert html.unescape(heading.group(2)) == titles[language]
        # Its citation is of the version shown.
        cite = re.search(r'href="([^"]*cite\.json[^"]*)"', landing).group(1)
        assert client.get(html.unescape(cite)).get_json()[0]["title"] == titles[language]


def test_a_french_only_record_shows_in_french_under_the_chinese_interface(
    client: FlaskClient, import_rows
) -> None:
    report = import_rows(
        [
            dict(
                ref="FR-ONLY",
                language="fr",
                title="Les mutuelles de santé au Sénégal",
                content="Les mutuelles de santé communautaires couvrent les soins de base.",
            )
        ]
    )
    assert report.failed == 0
    for q in ("mutuelles", ""):
        [french] = api_search(client, q=q, lang="zh")
        assert french["ref"] == "FR-ONLY" and french["language"] == "fr"
        assert french["title"] == "Les mutuelles de santé au Sénégal"
    assert "<mark>mutuelles</mark>" in api_search(client, q="mutuelles", lang="zh")[0]["snippet"]
    page = client.get("/search", query_string={"q": "mutuelles", "lang": "zh"})
    assert 'lang="fr" dir="ltr">Les mutuelles de santé au Sénégal</a>' in page.get_data(
        as_text=True
    )


def test_without_the_interface_language_a_result_shows_the_version_that_matched(
    client: FlaskClient, demo: dict
) -> None:
    # A record in French (its original) and English, without Chinese, is shown in the
    # language its words matched.
    french_words = {r["ref"]: r for r in api_search(client, q="économie sociale", lang="zh")}
    english_words = {r["ref"]: r for r in api_search(client, q="cooperatives", lang="zh")}
    assert french_words["DEMO-PB-INF-2021"]["language"] == "fr"
    assert french_words["DEMO-PB-INF-2021"]["title"] == demo["DEMO-PB-INF-2021"]["fr"]
    assert english_words["DEMO-PB-INF-2021"]["language"] == "en"
    assert english_words["DEMO-PB-INF-2021"]["title"] == demo["DEMO-PB-INF-2021"]["en"]
    assert english_words["DEMO-CS-SN-2021"]["language"] == "en"
    # Browsing matches no version: a record without Chinese is shown in its original.
    browsed = {r["ref"]: r for r in api_search(client, q="", lang="zh", per_page=100)}
    assert browsed["DEMO-CS-SN-2021"]["language"] == "fr"  # French original, English too
    assert browsed["DEMO-CS-MX-2022"]["language"] == "es"  # Spanish only


def test_snippets_of_the_demo_are_short(client: FlaskClient, demo: dict) -> None:
    chinese = api_search(client, q="社会 经济", lang="zh")
    assert chinese
    for result in chinese:
        text = plain(result["snippet"])
        assert "<mark>" in result["snippet"] and "\n" not in text and "#" not in text
        assert len(text) <= SNIPPET_CHARACTERS + len(" … "), text
    english = api_search(client, q="cooperatives finance", lang="en")
    assert english
    for result in english:
        assert len(WORD.findall(plain(result["snippet"]))) <= SNIPPET_WORDS, result["snippet"]


def test_the_home_page_shows_each_record_in_the_readers_languages(
    client: FlaskClient, demo: dict
) -> None:
    titles = demo["DEMO-SN-MTL-2023"]  # French original with an English version
    chinese = client.get("/?lang=zh").get_data(as_text=True)
    assert str(escape(titles["fr"])) in chinese
    # A browser that also reads English gets the English version, and its page.
    english = client.get("/?lang=zh", headers={"Accept-Language": "zh-CN, en;q=0.8"})
    page = english.get_data(as_text=True)
    assert str(escape(titles["en"])) in page
    assert str(escape(titles["fr"])) not in page
    assert re.search(r'href="/documents/\d+\?version=en" lang="en"', page)


def test_at_equal_scores_the_readers_language_is_the_matched_version() -> None:
    versions = [
        Variant(id=1, language="fr", title="Économie sociale", is_original=True),
        Variant(id=2, language="en", title="Social economy", is_original=False),
        Variant(id=3, language="es", title="Economía social", is_original=False),
    ]
    hit = Hit(1, 1, "fr", 2.5, matched_variant_ids=(1, 2, 3), matched_scores=(2.5, 2.5, 1.0))
    assert [v.language for v in matched_variants(versions, hit, ["en"])] == ["en", "fr", "es"]
    assert [v.language for v in matched_variants(versions, hit, ["ru"])] == ["fr", "en", "es"]
    # A better score wins over the reader's language.
    ahead = Hit(1, 3, "es", 3.0, matched_variant_ids=(3, 1, 2), matched_scores=(3.0, 2.5, 2.5))
    assert [v.language for v in matched_variants(versions, ahead, ["en"])] == ["es", "en", "fr"]
    # What is shown: the interface's language, else what matched, else the original.
    matched = matched_variants(versions, hit, ["ru"])
    assert display_variant(versions, ["es"], matched).language == "es"
    assert display_variant(versions, ["zh"], matched).language == "fr"
    assert display_variant(versions, ["zh"], matched[1:]).language == "en"
    assert display_variant(versions, ["zh"]).language == "fr"


@pytest.mark.parametrize(
    ("q", "language"),
    [
        ('org:"Organisation internationale du Travail"', "fr"),
        ('org:"Organización Internacional del Trabajo"', "es"),
        ('org:"International Labour Organization"', "en"),
    ],
)
def test_at_equal_relevance_the_querys_language_is_the_version_shown(
    client: FlaskClient, demo: dict, q: str, language: str
) -> None:
    # An organization's name matches the metadata every version carries: the versions
    # score the same, and a Russian reader (no Russian version) sees the one in the
    # language of the query.
    results = {r["ref"]: r for r in api_search(client, q=q, lang="ru")}
    for ref in ("DEMO-PP-2014", "DEMO-AG-47", "DEMO-ARP-M2"):  # English, French, Spanish
        assert set(demo[ref]) == {"en", "fr", "es"}
        assert results[ref]["language"] == language, ref
        assert results[ref]["title"] == demo[ref][language]


@pytest.mark.parametrize(
    ("q", "language"),
    [
        ("экономика", "ru"),
        ("الاقتصاد الاجتماعي", "ar"),
        ("社会 ILO", "zh"),
        ("travail décent", "fr"),
        ("economía social y solidaria", "es"),
        ("decent work", "en"),
        ("social", None),  # a word of English, French and Spanish alike
        ("ILO", None),
        ("2023", None),
        ("", None),
    ],
)
def test_the_language_of_a_query_is_told_by_its_script_or_with_confidence(
    q: str, language: str | None
) -> None:
    assert query_language(q) == language
