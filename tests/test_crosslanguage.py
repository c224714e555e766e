"""Cross-language search: a query naming a concept in one of the six languages also finds
records that exist only in another (search/thesaurus.py, search/expansion.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from knowledge_hub.search.expansion import MAX_EXPANSIONS
from knowledge_hub.search.expansion import find
from knowledge_hub.search.thesaurus import LANGUAGES
from knowledge_hub.search.thesaurus import SSE_TERMS
from knowledge_hub.search.thesaurus import UNBIS_ACKNOWLEDGEMENT
from knowledge_hub.search.thesaurus import fold
from knowledge_hub.search.thesaurus import read_terms
from knowledge_hub.search.thesaurus import thesaurus
from tests.conftest import shared_data
from tests.test_query_language import demo  # noqa: F401  (a fixture)

SSE = {
    "en": "social and solidarity economy",
    "fr": "économie sociale et solidaire",
    "es": "economía social y solidaria",
    "ru": "социальная и солидарная экономика",
    "ar": "الاقتصاد الاجتماعي والتضامني",
    "zh": "社会和团结经济",
}


def unbis_terms() -> Path:
    path = shared_data("unbis", "terms.tsv")
    if not path.is_file():
        pytest.skip(f"the UNBIS terms are not at {path}")
    return path


def added(q: str, unbis: Path | None = None) -> dict[str, str]:
    """The labels find() adds for q, by language (the first one of each)."""
    labels: dict[str, str] = {}
    for expansion in find(q, thesaurus(unbis)):
        for language, label in expansion.labels:
            labels.setdefault(language, label)
    return labels


def test_the_terms_are_read_once_per_process_and_path() -> None:
    first = thesaurus(None)
    assert thesaurus(None) is first
    assert not first.has_unbis


def test_the_hubs_terms_name_each_concept_in_the_six_languages() -> None:
    concepts = read_terms(SSE_TERMS, unbis=False)
    assert SSE_TERMS.read_text(encoding="utf-8").splitlines()[0].split("\t") == list(LANGUAGES)
    assert tuple(SSE[lang] for lang in LANGUAGES) in [c.labels for c in concepts]
    complete = [c for c in concepts if all(c.labels)]
    assert len(complete) >= 25


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_label_in_any_language_brings_the_other_five(language: str) -> None:
    labels = added(SSE[language])
    assert labels == {other: SSE[other] for other in LANGUAGES if other != language}


@pytest.mark.parametrize(
    "typed",
    [
        "ECONOMIE SOCIALE ET SOLIDAIRE",  # accents and case folded
        "economia social y solidaria",
        "L'économie sociale et solidaire au Sénégal",  # inside a longer query
        "推进社会和团结经济的政策",  # Chinese, without spaces, found as a substring
        "اَلاقتصاد الاجتماعي والتضامني",  # Arabic with a vowel sign
    ],
)
def test_labels_are_recognised_folded_and_inside_queries(typed: str) -> None:
    assert added(typed)["ru"] == SSE["ru"]


def test_the_longest_label_wins_and_stop_words_alone_are_not_expanded() -> None:
    expansions = find("economía social y solidaria", thesaurus(None))
    assert [e.typed for e in expansions] == ["economía social y solidaria"]
    assert find("de la y", thesaurus(None)) == []
    many = "cooperativas " * 3 + "comercio justo trabajo decente economía informal empresa social"
    assert len(find(many, thesaurus(None))) == MAX_EXPANSIONS


def test_unbis_labels_are_matched_with_accents_folded_on_both_sides() -> None:
    unbis = unbis_terms()
    # UNBIS writes "solidarite": typed with its accent, it is found all the same.
    assert added("Solidarité", unbis)["en"] == "solidarity"
    assert added("cooperación industrial", unbis)["en"] == "industrial cooperation"
    assert added("кооперативы", unbis)["zh"] == "合作社"
    assert added("农业合作社", unbis)["en"] == "agricultural cooperatives"
    assert all(e.unbis for e in find("Solidarité", thesaurus(unbis)))
    assert fold("Développement") == "developpement"


ENGLISH_ONLY = dict(
    ref="EN-SSE",
    title="Policy brief: the social and solidarity economy in East Africa",
    type="policy-brief",
    date="2023",
    content="How the social and solidarity economy grows in Kenya and Uganda.",
)
HOUSING_ES = dict(
    ref="ES-COOP",
    language="es",
    title="Cooperativas de vivienda en Uruguay",
    type="case-study",
    date="2021",
    content="Las cooperativas de vivienda por ayuda mutua construyen barrios enteros.",
)
HOUSING_EN = dict(
    ref="EN-COOP",
    title="Housing cooperatives in Uruguay",
    type="case-study",
    date="2022",
    content="Housing cooperatives built by mutual aid build whole neighbourhoods.",
)


@pytest.fixture
def catalogue(import_rows) -> None:
    assert import_rows([ENGLISH_ONLY, HOUSING_ES, HOUSING_EN]).failed == 0


def refs(client: FlaskClient, **params) -> list[str]:
    response = client.get("/api/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    return [r["ref"] for r in response.get_json()["results"]]


@pytest.mark.parametrize("language", ["es", "ar", "zh", "ru", "fr"])
def test_a_query_in_another_language_finds_an_english_only_record(
    client: FlaskClient, catalogue, language: str
) -> None:
    assert "EN-SSE" in refs(client, q=SSE[language])
    if language in ("ar", "zh", "ru"):
        # None of the words typed is in the English text.
        assert "EN-SSE" not in refs(client, q=SSE[language], expand="0")


def test_the_words_typed_outrank_a_match_through_another_language(
    client: FlaskClient, catalogue
) -> None:
    assert refs(client, q="cooperativas") == ["ES-COOP", "EN-COOP"]
    assert refs(client, q="housing cooperatives") == ["EN-COOP", "ES-COOP"]
    assert refs(client, q="cooperativas", expand="0") == ["ES-COOP"]


def test_the_api_says_what_was_also_searched(client: FlaskClient, catalogue) -> None:
    answer = client.get("/api/search", query_string={"q": "cooperativas"}).get_json()
    [also] = answer["also_searched"]
    assert also["typed"] == "cooperativas"
    assert {"language": "en", "label": "cooperatives"} in also["labels"]
    assert also["unbis"] is False
    off = client.get("/api/search", query_string={"q": "cooperativas", "expand": "0"})
    assert off.get_json()["also_searched"] == []
    # Operators decide record by record: nothing is added to them.
    exact = client.get("/api/search", query_string={"q": "cooperativas -mutua"}).get_json()
    assert exact["also_searched"] == [] and exact["total"] == 0


def test_the_openapi_description_documents_expansion(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    parameters = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert "expand" in parameters
    results = spec["components"]["schemas"]["SearchResults"]
    assert "also_searched" in results["required"]
    assert results["properties"]["also_searched"]["type"] == "array"


def test_the_search_page_shows_what_was_added_and_turns_it_off(
    client: FlaskClient, catalogue
) -> None:
    page = client.get("/search", query_string={"q": "cooperativas"}).get_data(as_text=True)
    assert "Also searched:" in page
    assert '<span lang="en" dir="ltr">cooperatives</span>' in page
    assert "expand=0" in page and "Search only the words typed" in page
    assert "EN-COOP" in page or "Housing cooperatives in Uruguay" in page
    assert UNBIS_ACKNOWLEDGEMENT.split(",")[1].strip() not in page  # the hub's own terms
    off = client.get("/search", query_string={"q": "cooperativas", "expand": "0"})
    text = off.get_data(as_text=True)
    assert "Also searched:" not in text
    assert "Housing cooperatives in Uruguay" not in text
    assert "Also search the concepts named in other languages" in text


def test_unbis_labels_are_searched_and_acknowledged(
    app: Flask, client: FlaskClient, catalogue
) -> None:
    app.config["THESAURUS_PATH"] = str(unbis_terms())
    # "Уганда" is named in UNBIS only: the English record is found by "uganda".
    assert refs(client, q="Уганда") == ["EN-SSE"]
    page = client.get("/search", query_string={"q": "Уганда"}).get_data(as_text=True)
    assert "Also searched:" in page
    assert "UNBIS Thesaurus" in page and "https://metadata.un.org/thesaurus" in page
    app.config["THESAURUS_PATH"] = None
    assert refs(client, q="Уганда") == []


def english_only(client: FlaskClient, **params) -> list[str]:
    """The refs of the records found whose only version is English, in result order."""
    response = client.get("/api/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    return [r["ref"] for r in response.get_json()["results"] if r["languages"] == ["en"]]


#: English-only papers of the demo on the social and solidarity economy.
DEMO_ENGLISH_ONLY = ("DEMO-PB-FIN-2019", "DEMO-PB-HEALTH-2024", "DEMO-PB-GREEN-2022")


@pytest.mark.slow  # the demo catalogue is imported once per process
@pytest.mark.parametrize("language", ["es", "ar", "zh"])
def test_the_demos_english_only_papers_are_found_from_other_languages(
    client: FlaskClient, demo, language: str
) -> None:
    # Among the first ten, papers that exist only in English.
    assert english_only(client, q=SSE[language], per_page=10)
    # The records' metadata (organization names and topic labels in six languages) meets
    # the words typed too, so some English-only records are found without the labels;
    # the labels find the SSE papers, or bring them up.
    found = refs(client, q=SSE[language], per_page=100)
    typed_only = refs(client, q=SSE[language], expand="0", per_page=100)
    for ref in DEMO_ENGLISH_ONLY:
        assert ref in found, ref
        if ref in typed_only:
            assert found.index(ref) < typed_only.index(ref), ref


@pytest.mark.parametrize("content", [None, "label\tother\n"])
def test_an_unreadable_thesaurus_stops_the_start_with_the_reason(
    tmp_path: Path, content: str | None
) -> None:
    from knowledge_hub import create_app
    from tests.conftest import make_config

    path = tmp_path / "terms.tsv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(RuntimeError, match="THESAURUS_PATH cannot be read"):
        create_app({**make_config(tmp_path), "THESAURUS_PATH": str(path)})
