"""Searching the records' metadata (authors, organizations in six languages, topics,
regions, refs and document symbols), the fielded words of the query language, and a ref
or a symbol typed alone going straight to its record."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from knowledge_hub import create_app
from knowledge_hub import search
from knowledge_hub.extensions import db
from knowledge_hub.i18n.organization_names import ORGANIZATION_NAMES
from knowledge_hub.i18n.organization_names import acronyms_named
from knowledge_hub.models import Document
from knowledge_hub.search.index import SCHEMA_FILE
from knowledge_hub.search.schema import SCHEMA_VERSION
from knowledge_hub.search.schema import metadata_analyzer
from knowledge_hub.search.syntax import AllOf
from knowledge_hub.search.syntax import AnyOf
from knowledge_hub.search.syntax import Fielded
from knowledge_hub.search.syntax import Not
from knowledge_hub.search.syntax import Phrase
from knowledge_hub.search.syntax import Word
from knowledge_hub.search.syntax import read
from knowledge_hub.search.syntax import write
from knowledge_hub.seed import ORGANIZATIONS
from tests.conftest import make_config
from tests.conftest import sign_in
from tests.test_query_language import demo  # noqa: F401  (the demo catalogue fixture)
from tests.test_query_language import found

RECORDS = [
    dict(
        ref="META-1",
        title="Cooperatives in Senegal",
        type="case-study",
        date="2019-05",
        organizations="ILO",
        authors="Ilcheong Yi",
        topics="cooperatives",
        regions="SN",
        content="Cooperatives in Senegal build decent work; members share the surplus.",
    ),
    dict(
        ref="META-2",
        title="Finance for cooperatives",
        type="working-paper",
        date="2021",
        organizations="UNRISD",
        authors="Jane Doe",
        content="Community banks lend to cooperatives in Brazil.",
    ),
    dict(
        ref="META-3",
        title="Public procurement and the social economy",
        type="policy-brief",
        date="2023-04",
        organizations="UNDP",
        authors="Jane Doe",
        content="Cities buy from cooperatives; finance follows the contracts.",
    ),
]

SYMBOL = "A/RES/77/281"


@pytest.fixture
def catalogue(app: Flask, import_rows) -> dict[str, int]:
    """Three public records (the first with a document symbol) and a draft tagged ILO;
    returns the records' ids by ref."""
    assert import_rows(RECORDS).failed == 0
    draft = dict(
        ref="META-DRAFT",
        title="Draft on cooperatives",
        type="report",
        date="2024",
        organizations="ILO",
        content="Cooperatives, not yet released.",
    )
    assert import_rows([draft], release=False).failed == 0
    with app.app_context():
        first = db.session.scalar(select(Document).where(Document.ref == "META-1"))
        first.identifiers = {"un_symbol": SYMBOL}
        db.session.commit()
        search.apply_pending()
        return {ref: id_ for ref, id_ in db.session.execute(select(Document.ref, Document.id))}


def refs(client: FlaskClient, q: str) -> set[str]:
    response = client.get("/api/search", query_string={"q": q, "per_page": 100})
    assert response.status_code == 200, (q, response.get_json())
    return {result["ref"] for result in response.get_json()["results"]}


def test_organizations_are_found_by_their_names_in_every_language(client, catalogue) -> None:
    # The text of META-1 never names the ILO: its organization does.
    for q in ("ILO", "ilo", "OIT", "МОТ", "国际劳工组织", "Organización Internacional del Trabajo"):
        assert refs(client, q) == {"META-1"}, q
    assert refs(client, "PNUD") == {"META-3"}
    assert refs(client, "ПРООН") == {"META-3"}
    # Found by its metadata, not its text, a record shows the opening of its text.
    (result,) = client.get("/api/search", query_string={"q": "OIT"}).get_json()["results"]
    assert result["snippet"].startswith("Cooperatives in Senegal build decent work")


def test_authors_regions_refs_and_symbols_are_searched(client, catalogue) -> None:
    assert refs(client, "Ilcheong") == {"META-1"}
    assert refs(client, "Sénégal") >= {"META-1"}  # the region's name, in French
    assert refs(client, "META-2") == {"META-2"}
    assert "META-1" in refs(client, "A/RES/77/281")


def test_topics_are_found_by_their_labels_in_every_language(client, catalogue) -> None:
    # META-1 is tagged "Cooperatives and mutual organizations"; no text says "mutual".
    for q in ("mutualidades", "mutuelles", "взаимопомощи"):
        assert refs(client, q) == {"META-1"}, q


def test_renaming_an_organization_or_a_topic_reindexes_its_records(
    app: Flask, client, catalogue
) -> None:
    from knowledge_hub.models import Organization
    from knowledge_hub.models import Topic

    assert refs(client, "Zyxwvut") == set() and refs(client, "Qwertyuiop") == set()
    with app.app_context():
        undp = db.session.scalar(select(Organization).where(Organization.acronym == "UNDP"))
        undp.name = "Zyxwvut Development Programme"
        topic = db.session.scalar(select(Topic).where(Topic.code == "cooperatives"))
        topic.label = "Qwertyuiop cooperatives"
        db.session.commit()
        search.apply_pending()
    assert refs(client, "Zyxwvut") == {"META-3"}
    assert refs(client, "Qwertyuiop") == {"META-1"}


def test_metadata_decides_and_and_not(client, catalogue) -> None:
    assert refs(client, "cooperatives -ILO") == {"META-2", "META-3"}
    assert refs(client, "cooperatives AND OIT") == {"META-1"}
    assert refs(client, "Doe AND PNUD") == {"META-3"}


def test_fielded_title_and_author(client, catalogue) -> None:
    assert refs(client, "finance") == {"META-2", "META-3"}
    assert refs(client, "title:finance") == {"META-2"}
    assert refs(client, "TITLE:(finance OR senegal)") == {"META-1", "META-2"}
    assert refs(client, 'title:"social economy"') == {"META-3"}
    assert refs(client, "cooperatives -title:cooperatives") == {"META-3"}
    assert refs(client, 'author:"Ilcheong Yi"') == {"META-1"}
    assert refs(client, "author:doe") == {"META-2", "META-3"}
    assert refs(client, "author:senegal") == set()


def test_fielded_org_type_year_and_ref(client, catalogue) -> None:
    for q in ("org:ILO", "org:OIT", 'org:"International Labour Organization"', "org:国际劳工组织"):
        assert refs(client, q) == {"META-1"}, q
    assert refs(client, 'org:"United Nations"') == {"META-2", "META-3"}  # words of names
    assert refs(client, "type:policy-brief") == {"META-3"}
    for label in ("Policy brief", "Note d’orientation", "政策简报", "Аналитическая записка"):
        assert refs(client, f'type:"{label}"') == {"META-3"}, label
    assert refs(client, "year:2023") == {"META-3"}
    assert refs(client, "year:2019..2021") == {"META-1", "META-2"}
    assert refs(client, "year:2020..2023 AND cooperatives") == {"META-2", "META-3"}
    assert refs(client, "ref:meta-2") == {"META-2"}
    assert refs(client, f"ref:{SYMBOL}") == {"META-1"}
    assert refs(client, "cooperatives -org:UNDP -year:2019") == {"META-2"}
    # The draft tagged ILO is never found by an anonymous reader.
    assert refs(client, "org:ILO OR ref:META-DRAFT") == {"META-1"}


def test_fielded_patterns_groups_and_values_that_name_nothing(client, catalogue) -> None:
    assert refs(client, "title:coop*") == {"META-1", "META-2"}
    assert refs(client, "type:(policy-brief OR case-study)") == {"META-1", "META-3"}
    assert refs(client, 'year:"2021"') == {"META-2"}
    assert refs(client, "author:(yi OR doe) -org:UNDP") == {"META-1", "META-2"}
    for q in ("year:abc", "year:2030..2040", "type:nothing", "ref:NO-SUCH-REF", "org:NOBODY"):
        assert refs(client, q) == set(), q


def test_an_unknown_field_stays_words() -> None:
    assert read("foo:bar") == Word("foo:bar")
    assert read("http://x status:draft") == AnyOf((Word("http://x"), Word("status:draft")))
    assert read("title: economy") == AnyOf((Word("title:"), Word("economy")))
    assert read('Author:"Ilcheong Yi" -org:(ILO OR UNDP)') == AnyOf(
        (
            Fielded("author", Phrase("Ilcheong Yi")),
            Not(Fielded("org", AnyOf((Word("ILO"), Word("UNDP"))))),
        )
    )
    tree = read("year:2019..2023 AND type:policy-brief")
    assert tree == AllOf(
        (Fielded("year", Word("2019..2023")), Fielded("type", Word("policy-brief")))
    )
    assert read(write(tree)) == tree


def test_a_ref_or_symbol_typed_alone_goes_to_its_record(client, catalogue) -> None:
    answer = client.get("/api/search", query_string={"q": f"  {SYMBOL.lower()} "}).get_json()
    assert answer["go_to"] == catalogue["META-1"]
    assert answer["total"] >= 1  # the results are still there
    assert client.get("/api/search", query_string={"q": "cooperatives"}).get_json()["go_to"] is None
    page = client.get("/search", query_string={"q": "meta-2"})
    assert page.status_code == 302
    assert page.headers["Location"].endswith(f"/documents/{catalogue['META-2']}")
    # A draft's ref neither jumps nor tells that the draft exists.
    answer = client.get("/api/search", query_string={"q": "META-DRAFT"}).get_json()
    assert answer["go_to"] is None and answer["total"] == 0
    assert client.get("/search", query_string={"q": "META-DRAFT"}).status_code == 200


def test_a_symbol_two_records_share_lists_them_instead_of_jumping(
    app: Flask, client, catalogue
) -> None:
    # A resolution and its corrigendum, or two records of one document, may carry the
    # same symbol: typed alone, it cannot say which record is meant.
    with app.app_context():
        second = db.session.scalar(select(Document).where(Document.ref == "META-2"))
        second.identifiers = {"un_symbol": SYMBOL}
        db.session.commit()
        search.apply_pending()
    answer = client.get("/api/search", query_string={"q": SYMBOL}).get_json()
    assert answer["go_to"] is None
    assert {r["ref"] for r in answer["results"]} >= {"META-1", "META-2"}
    assert client.get("/search", query_string={"q": SYMBOL}).status_code == 200
    # Its ref still names one record.
    assert client.get("/search", query_string={"q": "META-2"}).status_code == 302


@pytest.mark.slow  # making an account hashes its password
def test_staff_go_to_a_draft_by_its_ref(client, catalogue, make_user) -> None:
    sign_in(client, make_user("staff"))
    page = client.get("/search", query_string={"q": "META-DRAFT"})
    assert page.status_code == 302
    assert page.headers["Location"].endswith(f"/documents/{catalogue['META-DRAFT']}")


def test_every_organization_of_the_hub_has_its_names() -> None:
    for acronym, __, __, __ in ORGANIZATIONS:
        assert acronym in ORGANIZATION_NAMES, acronym
        assert acronyms_named(acronym) >= {acronym}
    for acronym, names in ORGANIZATION_NAMES.items():
        assert "en" in names, acronym
    assert acronyms_named("organizacion internacional del trabajo") == {"ILO"}
    terms = [t.text for t in metadata_analyzer()("国际劳工组织 Organización", mode="query")]
    assert terms == ["国际劳工组织", "organizacion"]


@pytest.mark.slow  # hub init runs the migrations, twice
def test_an_index_of_an_older_schema_is_rebuilt_by_hub_init(tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["hub", "init"]).exit_code == 0
    with app.app_context():
        index = search.get_index()
        first = index.current_generation()
        assert index.schema_is_current()
        (first / SCHEMA_FILE).write_text(f"{SCHEMA_VERSION - 1}\n")
        assert not index.schema_is_current()
    result = runner.invoke(args=["hub", "init"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        index = search.get_index()
        assert index.current_generation() != first
        assert index.schema_is_current()
        index.close()
        db.session.remove()
        db.engine.dispose()


@pytest.mark.slow  # the demo catalogue is imported once per process
def test_the_demo_s_ilo_records_are_found_in_every_language(client: FlaskClient, demo) -> None:  # noqa: F811
    facets = client.get("/api/search", query_string={"q": ""}).get_json()["facets"]
    tagged = {f["value"]: f["count"] for f in facets["organization"]}
    ilo = found(client, "org:ILO")
    assert len(ilo) == tagged["ILO"]
    for q in ("ILO", "OIT", "国际劳工组织"):
        assert found(client, q) >= ilo, q
    assert len(found(client, "ILO")) == tagged["ILO"]
    undp = found(client, "org:UNDP")
    assert len(undp) == tagged["UNDP"]
    assert found(client, "ILO AND UNDP") >= ilo & undp


@pytest.mark.slow  # hub check reads the whole index three times
def test_hub_check_names_an_index_of_an_older_schema(app: Flask, import_rows) -> None:
    assert import_rows(RECORDS[:1]).failed == 0
    runner = app.test_cli_runner()
    assert "No problems found." in runner.invoke(args=["hub", "check"]).output
    with app.app_context():
        folder = search.get_index().current_generation()
    (folder / SCHEMA_FILE).write_text(f"{SCHEMA_VERSION - 1}\n")
    result = runner.invoke(args=["hub", "check"])
    assert "index written with an older schema" in result.output
    assert "Problems found." in result.output
    with app.app_context():
        search.reindex(processes=1)
    assert "No problems found." in runner.invoke(args=["hub", "check"]).output
