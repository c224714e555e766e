"""What one search may cost is bounded: patterns expand over the words the reader may
see, up to a number of them; `*` alone browses; ranges are not syntax; nesting is
bounded; and a search that runs out of its time budget answers 400 at every entry point."""

from __future__ import annotations

import itertools

import pytest
from flask import Flask
from flask.testing import FlaskClient

from knowledge_hub import create_app
from knowledge_hub import search
from knowledge_hub.extensions import db
from knowledge_hub.search import bounds
from tests.conftest import make_config
from tests.conftest import sign_in

#: More words beginning with "qzx" than one pattern may stand for.
MANY_WORDS = " ".join(
    "qzx" + "".join(letters)
    for letters in itertools.islice(
        itertools.product("bcdfghjklmnp", repeat=3), bounds.MAX_WORDS_PER_PATTERN + 5
    )
)
SEARCH_ENDPOINTS = ["/api/search", "/api/v1/search", "/search", "/search.atom", "/search/cite.bib"]


def public(ref: str, content: str, **extra: str) -> dict:
    return dict(
        ref=ref,
        title=f"Record {ref}",
        type="report",
        date="2023",
        organizations="ILO",
        topics="cooperatives",
        content=content,
        **extra,
    )


@pytest.fixture
def catalogue(import_rows) -> None:
    rows = [
        public(f"PUB-{n}", f"Cooperatives and solidarity finance {n}. Alphabetical.")
        for n in range(3)
    ]
    assert import_rows(rows).failed == 0


def assert_refused(client: FlaskClient, url: str, q: str, words: str) -> None:
    """Every search entry point answers 400 with a message that contains words."""
    for endpoint in SEARCH_ENDPOINTS:
        response = client.get(endpoint, query_string={"q": q})
        assert response.status_code == 400, (endpoint, response.status_code)
        body = response.get_data(as_text=True)
        if endpoint.startswith("/api"):
            assert response.get_json()["error"] == "bad_request"
            assert words in response.get_json()["message"]
        else:
            assert words in body.replace("&#34;", '"').replace("&#39;", "'"), endpoint


@pytest.mark.slow
def test_a_bare_star_browses_every_record_without_expanding(
    client: FlaskClient, catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not a single word of the dictionaries may be read, and * still lists everything.
    monkeypatch.setattr(bounds, "MAX_WORDS_SCANNED", 0)
    browse = client.get("/api/search", query_string={"q": ""}).get_json()
    for q in ("*", "**", " * * "):
        answer = client.get("/api/search", query_string={"q": q}).get_json()
        assert answer["total"] == browse["total"] == 3
        assert [r["id"] for r in answer["results"]] == [r["id"] for r in browse["results"]]
    # Beside words, a bare * adds nothing.
    assert client.get("/api/search", query_string={"q": "finance *"}).get_json()["total"] == 3


def test_a_pattern_standing_for_too_many_words_is_refused_everywhere(
    client: FlaskClient, import_rows
) -> None:
    assert import_rows([public("MANY", MANY_WORDS)]).failed == 0
    assert_refused(client, "", "qzx*", "qzx*")
    # A longer beginning stands for few enough.
    answer = client.get("/api/search", query_string={"q": "qzxbb*"}).get_json()
    assert answer["total"] == 1


@pytest.mark.slow
def test_patterns_expand_over_the_words_the_reader_may_see(
    app: Flask, import_rows, make_user
) -> None:
    """Words of a draft neither count against the bound nor match for an anonymous
    reader; staff, who may see the draft, reach the bound."""
    assert import_rows([public("PUB", "Cooperatives qzxbbb.")]).failed == 0
    assert import_rows([public("DRAFT", MANY_WORDS)], release=False).failed == 0
    anonymous = app.test_client()
    answer = anonymous.get("/api/search", query_string={"q": "qzx*"}).get_json()
    assert answer["total"] == 1
    assert [r["ref"] for r in answer["results"]] == ["PUB"]
    staff = app.test_client()
    sign_in(staff, make_user("staff"))
    assert staff.get("/api/search", query_string={"q": "qzx*"}).status_code == 400


def test_a_leading_star_may_not_read_a_dictionary_larger_than_the_bound(
    client: FlaskClient, catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/api/search", query_string={"q": "*phabet"}).get_json()["total"] == 3
    monkeypatch.setattr(bounds, "MAX_WORDS_SCANNED", 5)
    assert_refused(client, "", "*phabet", "begin it with a few letters")


def test_a_list_of_patterns_is_bounded_as_a_whole(
    client: FlaskClient, import_rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert import_rows([public("MANY", MANY_WORDS)]).failed == 0
    q = "qzxb* qzxc* qzxd* qzxf*"
    assert client.get("/api/search", query_string={"q": q}).status_code == 200
    monkeypatch.setattr(bounds, "MAX_WORDS_PER_QUERY", 100)
    response = client.get("/api/search", query_string={"q": q})
    assert response.status_code == 400
    assert "100" in response.get_json()["message"]


def test_ranges_are_words_not_syntax(client: FlaskClient, catalogue) -> None:
    # As a range, [a TO z] stood for every word from a to z, and matched every record.
    assert client.get("/api/search", query_string={"q": "[a TO z]"}).get_json()["total"] == 0
    answer = client.get("/api/search", query_string={"q": "[alphabetical TO nothing]"}).get_json()
    assert answer["total"] == 3


@pytest.mark.slow
@pytest.mark.parametrize(
    "q", ["(" * 490 + "finance" + ")" * 490, "(" * (bounds.MAX_NESTING + 1) + "finance"]
)
def test_deep_nesting_is_refused_with_a_reason(client: FlaskClient, catalogue, q: str) -> None:
    assert_refused(client, "", q, str(bounds.MAX_NESTING))


def test_nesting_within_the_bound_still_works(client: FlaskClient, catalogue) -> None:
    q = "(" * bounds.MAX_NESTING + "finance" + ")" * bounds.MAX_NESTING
    assert client.get("/api/search", query_string={"q": q}).get_json()["total"] == 3


@pytest.mark.parametrize(
    ("q", "total"),
    [
        ("NOT NOT finance", 3),
        ("finance NOT NOT solidarity", 3),
        ("NOT " * 240 + "finance", 3),
        ("NOT " * 241 + "finance", 0),
    ],
)
def test_operator_sequences_whooshs_parser_cannot_read_are_read(
    client: FlaskClient, catalogue, q: str, total: int
) -> None:
    # Whoosh's parser failed on these; each NOT takes back the one before it.
    response = client.get("/api/search", query_string={"q": q})
    assert response.status_code == 200
    assert response.get_json()["total"] == total


@pytest.fixture
def hurried(tmp_path, import_rows) -> Flask:
    """The catalogue, served by an application whose searches have no time at all."""
    assert (
        import_rows([public(f"PUB-{n}", f"Cooperatives and finance {n}.") for n in range(3)]).failed
        == 0
    )
    app = create_app({**make_config(tmp_path), "SEARCH_SECONDS": 0.0})
    yield app
    with app.app_context():
        search.get_index().close()
        db.session.remove()
        db.engine.dispose()


@pytest.mark.slow
def test_a_search_out_of_time_answers_400_at_every_entry_point(hurried: Flask) -> None:
    client = hurried.test_client()
    assert_refused(client, "", "cooperatives", "took too long")
    french = client.get("/api/search", query_string={"q": "cooperatives", "lang": "fr"})
    assert french.status_code == 400
    assert "took too long" not in french.get_json()["message"]
    # Browsing reads no posting list and needs no budget.
    assert client.get("/api/search").get_json()["total"] == 3
