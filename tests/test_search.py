"""Search across six languages, one result per record, facets, and what anonymous readers
must never see."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from flask import Flask
from flask.testing import FlaskClient

from knowledge_hub.search.analyzers import analyzer_for
from tests.conftest import shared_data

UDHR_FILES = {
    "en": "udhr_eng.xml",
    "fr": "udhr_fra.xml",
    "es": "udhr_spa.xml",
    "ar": "udhr_arb.xml",
    "zh": "udhr_cmn_hans.xml",
    "ru": "udhr_rus.xml",
}


def udhr_as_html(language: str) -> tuple[str, str]:
    """The declaration in one language as an HTML page: (title, html)."""
    root = ET.parse(shared_data("udhr", UDHR_FILES[language])).getroot()
    ns = {"u": "http://efele.net/udhr"}
    title = root.findtext("u:title", namespaces=ns).strip()
    paragraphs = [p.text.strip() for p in root.iter("{http://efele.net/udhr}para") if p.text]
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    direction = "rtl" if language == "ar" else "ltr"
    html = (
        f'<!doctype html><html lang="{language}" dir="{direction}"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"
    )
    return title, html


@pytest.fixture
def udhr(import_rows) -> None:
    rows = []
    for language in ("en", "fr", "es", "ar", "zh", "ru"):
        title, html = udhr_as_html(language)
        rows.append(
            {
                "ref": "A/RES/217(III)",
                "file": f"udhr-{language}.html",
                "language": language,
                "title": title,
                "kind": "publication",
                "type": "other",
                "date": "1948-12-10",
                "regions": "001",
                "content": html,
            }
        )
    report = import_rows(rows)
    assert report.failed == 0, [str(r) for r in report.rows]


def search_index(app: Flask):
    """The application's index, searched as it is now: (searcher, columns)."""
    from knowledge_hub import search

    return search.get_index().searching()


def api_search(client: FlaskClient, **params) -> dict:
    response = client.get("/api/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("language", "query"),
    [
        ("fr", "dignité inhérente"),
        ("fr", "Déclaration universelle"),
        ("es", "dignidad intrínseca"),
        ("ru", "достоинство"),
        ("ar", "كرامة"),
        ("zh", "尊严"),
        ("zh", "人人有资格享有"),
        ("en", "inherent dignity"),
    ],
)
def test_a_query_in_each_language_finds_its_version_once(
    client: FlaskClient, udhr, language: str, query: str
) -> None:
    # Read in the query's language, the record shows the version that matched.
    answer = api_search(client, q=query, lang=language)
    assert answer["total"] == 1
    [result] = answer["results"]
    assert result["ref"] == "A/RES/217(III)"
    assert result["matched_language"] == result["language"] == language
    assert sorted(result["languages"]) == ["ar", "en", "es", "fr", "ru", "zh"]
    assert "<mark>" in result["snippet"]


@pytest.mark.slow
def test_results_come_in_the_readers_language(client: FlaskClient, udhr) -> None:
    french = api_search(client, q="dignity", lang="fr")["results"][0]
    assert french["language"] == "fr"
    assert french["title"] == "Déclaration universelle des droits de l’homme"
    chinese = api_search(client, q="dignity", lang="zh")["results"][0]
    assert chinese["language"] == "zh"
    # The language facet counts records per language, the record once in each.
    facets = api_search(client, q="")["facets"]
    assert {f["value"]: f["count"] for f in facets["language"]} == {lang: 1 for lang in UDHR_FILES}


@pytest.mark.slow
def test_arabic_matches_with_or_without_diacritics(client: FlaskClient, udhr) -> None:
    assert api_search(client, q="الكَرامة")["total"] == 1
    assert api_search(client, q="الكرامة")["total"] == 1


def test_unaccented_french_finds_accented_text(client: FlaskClient, udhr) -> None:
    assert api_search(client, q="egalite des droits")["results"][0]["matched_language"] == "fr"


def test_analyzers_stem_each_language() -> None:
    def terms(language: str, text: str) -> list[str]:
        return [t.text for t in analyzer_for(language)(text)]

    assert terms("en", "cooperatives cooperative") == ["cooper", "cooper"]
    assert terms("fr", "économies économie") == ["econom", "econom"]
    assert terms("es", "cooperativas cooperativa") == ["cooper", "cooper"]
    assert terms("ru", "экономики экономика") == ["экономик", "экономик"]
    assert terms("ar", "والاقتصاد الاقتصاد") == ["اقتصاد", "اقتصاد"]
    assert "团结" in terms("zh", "社会和团结经济")


RECORDS = [
    dict(
        ref="PUB-1",
        title="Cooperatives in Senegal",
        type="case-study",
        date="2021",
        organizations="ILO",
        topics="cooperatives",
        regions="SN",
        content="Cooperatives in Senegal build decent work. Solidarity finance grows.",
    ),
    dict(
        ref="PUB-2",
        title="Solidarity finance in Brazil",
        type="policy-brief",
        date="2023-04",
        organizations="UNRISD;ILO",
        topics="transformative-finance",
        regions="BR",
        content="Community banks and solidarity finance in Brazil.",
    ),
    dict(
        ref="PUB-3",
        title="Minutes of the 42nd meeting",
        kind="archive",
        type="meeting-minutes",
        date="2023-03-07",
        organizations="UNCTAD",
        content="The Task Force discussed solidarity finance and the workplan.",
    ),
]

SECRET = "quixotrophy"


@pytest.fixture
def mixed_catalogue(import_rows) -> None:
    """Three public records and, with a unique word, a draft, a members-only and an
    internal record."""
    assert import_rows(RECORDS).failed == 0
    hidden = [
        dict(
            ref="DRAFT-1",
            title=f"Draft on {SECRET} finance",
            type="working-paper",
            date="2024",
            organizations="OECD",
            content=f"Solidarity finance and {SECRET}.",
        ),
    ]
    assert import_rows(hidden, release=False).failed == 0
    restricted = [
        dict(
            ref="MEM-1",
            title=f"Members note on {SECRET}",
            type="guide",
            date="2025",
            access="members",
            organizations="FAO",
            content=f"Solidarity finance {SECRET}.",
        ),
        dict(
            ref="INT-1",
            title=f"Internal memo on {SECRET}",
            type="correspondence",
            date="2025",
            access="internal",
            organizations="WHO",
            content=f"Solidarity finance {SECRET}.",
        ),
    ]
    assert import_rows(restricted).failed == 0


@pytest.mark.slow
def test_one_result_per_record_with_facet_counts(client: FlaskClient, mixed_catalogue) -> None:
    answer = api_search(client, q="solidarity finance")
    assert answer["total"] == 3
    assert {r["ref"] for r in answer["results"]} == {"PUB-1", "PUB-2", "PUB-3"}
    facets = {
        name: {f["value"]: f["count"] for f in values} for name, values in answer["facets"].items()
    }
    assert facets["organization"] == {"ILO": 2, "UNRISD": 1, "UNCTAD": 1}
    assert facets["kind"] == {"publication": 2, "archive": 1}
    assert facets["year"] == {"2021": 1, "2023": 2}
    assert facets["region"] == {"SN": 1, "BR": 1}


def test_facet_filters_combine(client: FlaskClient, mixed_catalogue) -> None:
    assert [
        r["ref"]
        for r in api_search(client, q="finance", organization="ILO", year="2023")["results"]
    ] == ["PUB-2"]
    both_years = api_search(client, q="finance", year=["2021", "2023"])
    assert both_years["total"] == 3
    assert api_search(client, q="finance", kind="archive")["total"] == 1
    assert api_search(client, q="", type="case-study")["results"][0]["ref"] == "PUB-1"


def test_sorting_and_paging(client: FlaskClient, mixed_catalogue) -> None:
    newest = [r["ref"] for r in api_search(client, q="", sort="newest")["results"]]
    assert newest == ["PUB-2", "PUB-3", "PUB-1"]
    oldest = [r["ref"] for r in api_search(client, q="finance", sort="oldest")["results"]]
    assert oldest == ["PUB-1", "PUB-3", "PUB-2"]
    page2 = api_search(client, q="", per_page=2, page=2)
    assert page2["total"] == 3 and [r["ref"] for r in page2["results"]] == ["PUB-1"]


def test_a_page_past_the_last_one_says_so(client: FlaskClient, mixed_catalogue) -> None:
    """Three records at two a page make two pages: page 99 is not "Page 99 of 2"."""
    page = client.get("/search", query_string={"q": "finance", "per_page": 2, "page": 99})
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert "Page 99 is past the end of this search, whose last page is 2." in html
    assert "Page 99 of 2" not in html
    assert 'href="/search?q=finance&amp;per_page=2&amp;page=2">Go to the last page</a>' in html
    last = client.get("/search", query_string={"q": "finance", "per_page": 2, "page": 2})
    assert last.status_code == 200 and "Page 2 of 2" in last.get_data(as_text=True)
    # A search that finds nothing has one, empty, page; its page 2 leads back to it.
    nothing = client.get("/search", query_string={"q": "zzzyzx", "page": 2})
    assert nothing.status_code == 404
    assert 'href="/search?q=zzzyzx">Go to the last page</a>' in nothing.get_data(as_text=True)
    # The API keeps its contract: past the last page, no results but the search's total,
    # with the Link header naming the last page.
    response = client.get("/api/search", query_string={"q": "finance", "per_page": 2, "page": 99})
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["total"] == 3 and answer["results"] == [] and answer["page"] == 99
    assert 'page=2>; rel="last"' in response.headers["Link"]
    assert 'page=2>; rel="prev"' in response.headers["Link"]


def test_anonymous_readers_never_see_hidden_records(client: FlaskClient, mixed_catalogue) -> None:
    assert api_search(client, q=SECRET) == {
        "query": SECRET,
        "total": 0,
        "page": 1,
        "per_page": 20,
        "results": [],
        "facets": {
            f: [] for f in ("kind", "language", "organization", "region", "topic", "type", "year")
        },
        "suggestion": None,
        "go_to": None,
        "also_searched": [],
    }
    everything = api_search(client, q="", per_page=100)
    assert everything["total"] == 3
    text = str(everything) + str(api_search(client, q="solidarity finance"))
    assert SECRET not in text
    for value in ("OECD", "FAO", "WHO", "working-paper", "guide", "2024", "2025"):
        assert value not in text
    # "Did you mean" is built from released public text only.
    assert api_search(client, q=SECRET[:-1] + "x")["suggestion"] is None
    page = client.get("/search", query_string={"q": SECRET}).get_data(as_text=True)
    assert SECRET in page  # the query is echoed back …
    assert "Draft on" not in page and "Members note" not in page  # … but no record is


def test_hidden_records_have_no_page_api_or_file(
    client: FlaskClient, app: Flask, mixed_catalogue
) -> None:
    from sqlalchemy import select

    from knowledge_hub.extensions import db
    from knowledge_hub.models import Document

    with app.app_context():
        hidden = {
            d.ref: (d.id, d.variants[0].files[0].id)
            for d in db.session.scalars(
                select(Document).where(Document.ref.in_(["DRAFT-1", "MEM-1", "INT-1"]))
            )
        }
    for ref, (document_id, file_id) in hidden.items():
        assert client.get(f"/documents/{document_id}").status_code == 404
        assert client.get(f"/api/documents/{document_id}").status_code == 404
        assert client.get(f"/api/documents/ref/{ref}").status_code == 404
        assert client.get(f"/documents/{document_id}/files/{file_id}").status_code == 404
    home = client.get("/").get_data(as_text=True)
    assert SECRET not in home and "Members note" not in home


def test_a_misspelt_query_gets_a_suggestion(client: FlaskClient, mixed_catalogue) -> None:
    answer = api_search(client, q="cooperatves senegal")
    assert answer["suggestion"] == "cooperatives senegal"


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "two"},
        {"per_page": "101"},
        {"sort": "alphabetical"},
        {"q": "x" * 1001},
        {"page": "100000"},
    ],
)
def test_bad_parameters_answer_400_with_a_reason(client: FlaskClient, params: dict) -> None:
    response = client.get("/api/search", query_string=params)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "bad_request" and body["message"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "q", ['"unclosed phrase', "AND OR NOT", "((", "title_en:x", "*", "a:b:c", "状态:草稿"]
)
def test_odd_query_syntax_never_fails(client: FlaskClient, mixed_catalogue, q: str) -> None:
    assert client.get("/api/search", query_string={"q": q}).status_code == 200
    assert client.get("/search", query_string={"q": q}).status_code == 200


def test_snippets_escape_the_documents_html(client: FlaskClient, import_rows) -> None:
    import_rows([dict(ref="X", title="Markup", content="Finance <script>alert(1)</script> here")])
    snippet = api_search(client, q="finance")["results"][0]["snippet"]
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet
    assert re.search(r"<mark>[Ff]inance</mark>", snippet)


@pytest.mark.slow
def test_the_search_page_works_without_javascript(client: FlaskClient, mixed_catalogue) -> None:
    html = client.get(
        "/search", query_string={"q": "solidarity finance", "organization": "ILO"}
    ).get_data(as_text=True)
    assert "2 records" in html
    assert 'href="/search?q=solidarity+finance"' in html  # remove the ILO filter
    assert "<mark>" in html
    # Scripts only enhance (the facets' filter box): no inline script, nothing the page
    # needs; tests/test_phone_layout.py opens the filters with JavaScript turned off.
    scripts = re.findall(r"<script[^>]*>", html)
    assert all(re.fullmatch(r'<script src="/static/[a-z]+\.js" defer>', tag) for tag in scripts)
    assert "<script>" not in html


@pytest.mark.slow
def test_suggestions_come_only_from_words_the_reader_may_see_now(
    client: FlaskClient, app: Flask, import_rows
) -> None:
    """Whoosh keeps the words of replaced and deleted entries in its dictionary until
    their segment is merged; a withdrawn record's words, or a title's words edited out,
    are no longer suggested."""
    from sqlalchemy import select

    from knowledge_hub.extensions import db
    from knowledge_hub.models import Document
    from knowledge_hub.services import documents
    from knowledge_hub.services import review
    from knowledge_hub.services import users

    assert import_rows(RECORDS).failed == 0
    rows = [
        dict(
            ref="GONE",
            title="Solidarity finance report",
            type="report",
            date="2023",
            organizations="ILO",
            content="Cooperatives of zanzibarite miners.",
        ),
        dict(
            ref="EDITED",
            title="Marsupialite cooperatives",
            type="report",
            date="2023",
            organizations="ILO",
            content="Cooperatives and finance.",
        ),
    ]
    assert import_rows(rows).failed == 0
    assert api_search(client, q="zanzibarita")["suggestion"] == "zanzibarite"
    assert api_search(client, q="marsupialita")["suggestion"] == "marsupialite"
    with app.app_context():
        actor = users.system_user()
        gone = db.session.scalar(select(Document).where(Document.ref == "GONE"))
        review.withdraw(actor, gone, "Superseded.")
        edited = db.session.scalar(select(Document).where(Document.ref == "EDITED"))
        documents.edit_variant(
            actor, edited.variants[0], "Cooperatives", edited.variants[0].summary or ""
        )
    with app.app_context():
        with search_index(app) as (searcher, __):
            # The words are still in the index's dictionary …
            assert searcher.reader().doc_frequency("spelling", "zanzibarite") > 0
            assert searcher.reader().doc_frequency("spelling", "marsupialite") > 0
    # … but no longer offered.
    assert api_search(client, q="zanzibarita")["suggestion"] is None
    assert api_search(client, q="marsupialita")["suggestion"] is None
    assert api_search(client, q="cooperatves")["suggestion"] == "cooperatives"
