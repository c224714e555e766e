"""OAI-PMH 2.0: every verb answers XML valid against the protocol's schema, harvesters see
only released public records (withdrawn ones as deleted), and a standard client harvests
the whole demo catalogue through resumption tokens."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sickle import Sickle
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub import create_app
from knowledge_hub import seed
from knowledge_hub.extensions import db
from knowledge_hub.models import AccessLevel
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from knowledge_hub.services import review
from knowledge_hub.services import setup
from knowledge_hub.services import users
from tests.conftest import make_config
from tests.conftest import shared_data

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
NS = {"oai": OAI, "oai_dc": OAI_DC, "dc": DC}
#: The fifteen elements of simple Dublin Core, the only children oai_dc allows.
DC_ELEMENTS = {
    "title",
    "creator",
    "subject",
    "description",
    "publisher",
    "contributor",
    "date",
    "type",
    "format",
    "identifier",
    "source",
    "language",
    "relation",
    "coverage",
    "rights",
}


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(shared_data("oai", "OAI-PMH.xsd"))))


def oai(client: FlaskClient, schema: etree.XMLSchema, **args: str) -> etree._Element:
    """Ask /oai and return the parsed response, after checking it against the schema."""
    response = client.get("/oai", query_string=args)
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    tree = etree.fromstring(response.data)
    assert schema.validate(tree), schema.error_log
    for dc in tree.iterfind(".//oai_dc:dc", NS):
        check_oai_dc(dc)
    return tree


def check_oai_dc(dc: etree._Element) -> None:
    """What oai_dc.xsd asks: Dublin Core elements with text and at most xml:lang."""
    assert dc.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation") == (
        f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
    )
    assert len(dc) > 0
    for element in dc:
        namespace, __, name = element.tag[1:].partition("}")
        assert namespace == DC and name in DC_ELEMENTS, element.tag
        assert len(element) == 0 and (element.text or "").strip()
        assert set(element.attrib) <= {"{http://www.w3.org/XML/1998/namespace}lang"}


def error_code(tree: etree._Element) -> str | None:
    error = tree.find("oai:error", NS)
    return None if error is None else error.get("code")


def identifiers(tree: etree._Element) -> list[str]:
    return [e.text for e in tree.iterfind(".//oai:header/oai:identifier", NS)]


@pytest.fixture
def records(app: Flask, import_rows) -> dict[str, int]:
    """Records in every state that matters to a harvester: ref -> id."""
    base = dict(
        kind="publication",
        type="report",
        date="2023-06",
        authors="Doe, Jane",
        organizations="ILO;UN Women",
        topics="sdg-8;cooperatives",
        regions="002",
    )
    rows = [
        dict(
            base,
            ref="PUB-1",
            title="Public report",
            summary="Cooperatives \x0b at work.",
            content="Cooperatives in the social economy.",
        ),
        dict(base, ref="PUB-1", language="fr", title="Rapport public", content="Les coopératives."),
        dict(
            base,
            ref="ARC-1",
            kind="archive",
            type="meeting-minutes",
            title="Minutes",
            organizations="UNRISD",
            topics="",
            content="Minutes of the meeting.",
        ),
        dict(base, ref="A/RES/77/281", title="A resolution", content="A resolution text."),
        dict(base, ref="MEM-1", title="Members only", access="members", content="Members text."),
        dict(base, ref="INT-1", title="Internal", access="internal", content="Internal text."),
        dict(base, ref="GONE-1", title="Withdrawn report", content="Withdrawn text."),
    ]
    report = import_rows(rows)
    assert report.failed == 0, [str(r) for r in report.rows]
    import_rows([dict(base, ref="DRAFT-1", title="Draft", content="Draft text.")], release=False)
    with app.app_context():
        gone = db.session.scalar(select(Document).where(Document.ref == "GONE-1"))
        review.withdraw(users.system_user(), gone, "Superseded by a later edition.")
        return {d.ref: d.id for d in db.session.scalars(select(Document))}


VALID_REQUESTS = [
    {"verb": "Identify"},
    {"verb": "ListMetadataFormats"},
    {"verb": "ListMetadataFormats", "identifier": "oai:hub.test:PUB-1"},
    {"verb": "ListSets"},
    {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "kind:archive"},
    {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:hub.test:PUB-1"},
    {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:hub.test:GONE-1"},
    {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:hub.test:A/RES/77/281"},
]


@pytest.mark.slow
@pytest.mark.parametrize("args", VALID_REQUESTS, ids=lambda a: "-".join(a.values()))
def test_every_verb_answers_valid_xml(client, schema, records, args) -> None:
    tree = oai(client, schema, **args)
    assert error_code(tree) is None
    request = tree.find("oai:request", NS)
    assert request.text == "http://hub.test/oai"
    assert dict(request.attrib) == args


ERRORS = [
    ({}, "badVerb"),
    ({"verb": "Explode"}, "badVerb"),
    ({"verb": ["Identify", "Identify"]}, "badVerb"),
    ({"verb": "Identify", "metadataPrefix": "oai_dc"}, "badArgument"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": ["oai_dc", "oai_dc"]}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2023-13-45"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"}, "badArgument"),
    (
        {
            "verb": "ListRecords",
            "metadataPrefix": "oai_dc",
            "from": "2020-01-01",
            "until": "2030-01-01T00:00:00Z",
        },
        "badArgument",
    ),
    (
        {
            "verb": "ListRecords",
            "metadataPrefix": "oai_dc",
            "from": "2030-01-01",
            "until": "2020-01-01",
        },
        "badArgument",
    ),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "no spaces"}, "badArgument"),
    ({"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "oai_dc"}, "badArgument"),
    ({"verb": "ListRecords", "resumptionToken": "forged"}, "badResumptionToken"),
    ({"verb": "ListSets", "resumptionToken": "anything"}, "badResumptionToken"),
    ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    ({"verb": "ListRecords", "metadataPrefix": "not a prefix!"}, "cannotDisseminateFormat"),
    (
        {"verb": "GetRecord", "metadataPrefix": "marc21", "identifier": "oai:hub.test:PUB-1"},
        "cannotDisseminateFormat",
    ),
    (
        {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:hub.test:MEM-1"},
        "idDoesNotExist",
    ),
    (
        {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:hub.test:DRAFT-1"},
        "idDoesNotExist",
    ),
    (
        {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:elsewhere:PUB-1"},
        "idDoesNotExist",
    ),
    ({"verb": "ListMetadataFormats", "identifier": "oai:hub.test:INT-1"}, "idDoesNotExist"),
    (
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "topic:no-such-topic"},
        "noRecordsMatch",
    ),
    (
        {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "from": "2999-01-01"},
        "noRecordsMatch",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize("args,code", ERRORS, ids=[f"{i}-{c}" for i, (__, c) in enumerate(ERRORS)])
def test_every_protocol_error_is_reported_in_valid_xml(client, schema, records, args, code) -> None:
    tree = oai(client, schema, **args)
    assert error_code(tree) == code
    if code in ("badVerb", "badArgument"):
        assert tree.find("oai:request", NS).attrib == {}


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_protocol_errors_are_explained_in_the_readers_language(client, schema, language) -> None:
    """The protocol marks its messages without Flask; the endpoint translates them."""
    catalogue = Path(__file__).resolve().parents[1] / "translations" / language / "LC_MESSAGES"
    with open(catalogue / "messages.po", encoding="utf-8") as f:
        translated = read_po(f, locale=language).get("%(name)s is not an argument of %(verb)s.")
    response = client.get(
        "/oai",
        query_string={"verb": "Identify", "metadataPrefix": "oai_dc"},
        headers={"Accept-Language": language},
    )
    tree = etree.fromstring(response.data)
    assert schema.validate(tree), schema.error_log
    assert error_code(tree) == "badArgument"
    expected = translated.string % {"name": "metadataPrefix", "verb": "Identify"}
    assert (
        tree.findtext("oai:error", namespaces=NS)
        == expected
        != ("metadataPrefix is not an argument of Identify.")
    )


@pytest.mark.slow
def test_identify_describes_the_repository(client, schema, records) -> None:
    tree = oai(client, schema, verb="Identify")
    identify = tree.find("oai:Identify", NS)
    assert identify.findtext("oai:protocolVersion", namespaces=NS) == "2.0"
    assert identify.findtext("oai:deletedRecord", namespaces=NS) == "persistent"
    assert identify.findtext("oai:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.findtext("oai:baseURL", namespaces=NS) == "http://hub.test/oai"


def test_harvesters_get_released_public_records_and_withdrawn_ones_as_deleted(
    client, schema, records
) -> None:
    tree = oai(client, schema, verb="ListRecords", metadataPrefix="oai_dc")
    got = {
        r.findtext("oai:header/oai:identifier", namespaces=NS): r
        for r in tree.iterfind(".//oai:record", NS)
    }
    assert set(got) == {
        "oai:hub.test:PUB-1",
        "oai:hub.test:ARC-1",
        "oai:hub.test:A/RES/77/281",
        "oai:hub.test:GONE-1",
    }
    gone = got["oai:hub.test:GONE-1"]
    assert gone.find("oai:header", NS).get("status") == "deleted"
    assert gone.find("oai:metadata", NS) is None
    dc = got["oai:hub.test:PUB-1"].find(".//oai_dc:dc", NS)
    values = [
        (e.tag.split("}")[1], e.text, e.get("{http://www.w3.org/XML/1998/namespace}lang"))
        for e in dc
    ]
    assert ("title", "Public report", "en") in values and (
        "title",
        "Rapport public",
        "fr",
    ) in values
    assert ("creator", "Doe, Jane", None) in values
    assert ("date", "2023-06", None) in values
    assert ("identifier", f"http://hub.test/documents/{records['PUB-1']}", None) in values
    assert ("description", "Cooperatives  at work.", "en") in values  # no control character
    specs = [s.text for s in got["oai:hub.test:PUB-1"].iterfind(".//oai:setSpec", NS)]
    assert specs[:2] == ["kind:publication", "type:report"]
    assert set(specs[2:]) == {
        "organization:ILO",
        "organization:UN-Women",
        "topic:sdg-8",
        "topic:cooperatives",
    }


def test_sets_select_records(client, schema, records) -> None:
    tree = oai(client, schema, verb="ListSets")
    specs = {s.text for s in tree.iterfind(".//oai:setSpec", NS)}
    assert {
        "kind",
        "kind:publication",
        "kind:archive",
        "type:meeting-minutes",
        "organization:UN-Women",
        "topic:cooperatives",
    } <= specs

    def listed(spec: str) -> set[str]:
        return set(
            identifiers(
                oai(client, schema, verb="ListIdentifiers", metadataPrefix="oai_dc", set=spec)
            )
        )

    assert listed("kind:archive") == {"oai:hub.test:ARC-1"}
    assert listed("organization:UNRISD") == {"oai:hub.test:ARC-1"}
    assert "oai:hub.test:ARC-1" not in listed("organization:UN-Women")
    assert "oai:hub.test:ARC-1" not in listed("topic")  # it has no topic
    assert len(listed("kind")) == 4


def test_from_and_until_at_day_and_second_granularity(client, schema, records) -> None:
    tree = oai(client, schema, verb="ListIdentifiers", metadataPrefix="oai_dc")
    stamps = sorted(e.text for e in tree.iterfind(".//oai:datestamp", NS))
    first, last = stamps[0], stamps[-1]

    def count(**bounds: str) -> int:
        answer = oai(client, schema, verb="ListIdentifiers", metadataPrefix="oai_dc", **bounds)
        return len(identifiers(answer))

    assert count(**{"from": first, "until": last}) == 4
    assert count(**{"from": first[:10], "until": last[:10]}) == 4
    assert count(until=last) == 4
    answer = oai(
        client, schema, verb="ListIdentifiers", metadataPrefix="oai_dc", until="2000-01-01"
    )
    assert error_code(answer) == "noRecordsMatch"


def test_resumption_tokens_page_through_the_whole_list(app, client, schema, records) -> None:
    app.config["OAI_PAGE_SIZE"] = 3
    tree = oai(client, schema, verb="ListRecords", metadataPrefix="oai_dc")
    token = tree.find(".//oai:resumptionToken", NS)
    assert len(tree.findall(".//oai:record", NS)) == 3
    assert token.get("completeListSize") == "4" and token.get("cursor") == "0"
    assert token.get("expirationDate").endswith("Z") and token.text
    # The token is the exclusive argument, and belongs to its verb.
    wrong = oai(client, schema, verb="ListIdentifiers", resumptionToken=token.text)
    assert error_code(wrong) == "badResumptionToken"
    tree = oai(client, schema, verb="ListRecords", resumptionToken=token.text)
    assert len(tree.findall(".//oai:record", NS)) == 1
    last = tree.find(".//oai:resumptionToken", NS)
    assert last.text is None and last.get("cursor") == "3"


def test_an_expired_token_is_refused(app, client, schema, records, monkeypatch) -> None:
    app.config["OAI_PAGE_SIZE"] = 2
    token = (
        oai(client, schema, verb="ListIdentifiers", metadataPrefix="oai_dc")
        .find(".//oai:resumptionToken", NS)
        .text
    )
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 2 * 24 * 3600)
    tree = oai(client, schema, verb="ListIdentifiers", resumptionToken=token)
    assert error_code(tree) == "badResumptionToken"


def test_harvesters_may_post_without_a_csrf_token(tmp_path: Path, schema) -> None:
    config = make_config(tmp_path)
    config["WTF_CSRF_ENABLED"] = True
    app = create_app(config)
    with app.app_context():
        db.create_all()
    response = app.test_client().post("/oai", data={"verb": "Identify"})
    assert response.status_code == 200
    assert schema.validate(etree.fromstring(response.data))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class FlaskSickle(Sickle):
    """Sickle, a standard OAI-PMH client, speaking to the application's test client."""

    def __init__(self, client: FlaskClient, schema: etree.XMLSchema) -> None:
        super().__init__("http://hub.test/oai", http_method="POST")
        self.client = client
        self.schema = schema
        self.requests = 0

    def _request(self, kwargs: dict[str, str]) -> requests.Response:
        self.requests += 1
        answer = self.client.post("/oai", data=kwargs)
        assert self.schema.validate(etree.fromstring(answer.data)), self.schema.error_log
        response = requests.Response()
        response.status_code = answer.status_code
        response._content = answer.data
        response.encoding = "utf-8"
        response.url = self.endpoint
        return response


@pytest.mark.slow
def test_a_standard_client_harvests_exactly_the_released_public_demo_records(
    app: Flask, client: FlaskClient, schema
) -> None:
    app.config["OAI_PAGE_SIZE"] = 7
    with app.app_context():
        seed.criteria(db.session)  # the demo passes the real release gate
        db.session.commit()
        report = setup.load_demo()
        assert report is not None and not report.not_released, report.not_released
        withdrawn = db.session.scalars(select(Document).order_by(Document.id)).first()
        review.withdraw(users.system_user(), withdrawn, "Withdrawn for the harvest test.")
        withdrawn_ref = withdrawn.ref
        expected = set(
            db.session.scalars(
                select(Document.ref).where(
                    Document.status == DocumentStatus.RELEASED,
                    Document.access == AccessLevel.PUBLIC,
                )
            )
        )
        total = db.session.scalar(select(func.count(Document.id)))
    assert 7 < len(expected) < total  # more than a page, and not everything is public

    harvester = FlaskSickle(client, schema)
    assert harvester.Identify().deletedRecord == "persistent"
    got, deleted = {}, set()
    for record in harvester.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False):
        ref = record.header.identifier.removeprefix("oai:hub.test:")
        if record.header.deleted:
            deleted.add(ref)
        else:
            got[ref] = record.metadata
    assert set(got) == expected
    assert deleted == {withdrawn_ref}
    assert harvester.requests >= 1 + len(expected) // 7  # it went through the tokens
    assert all(m["title"] and m["identifier"] and m["date"] for m in got.values())
    archives = list(harvester.ListIdentifiers(metadataPrefix="oai_dc", set="kind:archive"))
    assert 0 < len(archives) < len(expected)
