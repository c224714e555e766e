"""The OAI-PMH protocol and its Dublin Core without Flask: the argument rules, the dates,
the resumption tokens on a clock the test holds, identifiers for any reference, text XML
can carry, and the Dublin Core of a record built in memory."""

from __future__ import annotations

import ast
import re
from dataclasses import asdict
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import has_app_context
from flask import has_request_context
from itsdangerous import URLSafeTimedSerializer

from knowledge_hub import oai as protocol
from knowledge_hub.i18n.messages import N_
from knowledge_hub.models import DocType
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentKind
from knowledge_hub.models import DocumentOrganization
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import Organization
from knowledge_hub.models import OrganizationRole
from knowledge_hub.models import Region
from knowledge_hub.models import StoredFile
from knowledge_hub.models import Topic
from knowledge_hub.models import Variant
from knowledge_hub.oai import ListQuery
from knowledge_hub.oai import OaiError

ROOT = Path(__file__).resolve().parents[1]
KEY = "test-secret"
DAY = timedelta(hours=24)
NOW = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
REPOSITORY = "hub.test"
#: The syntax of an OAI identifier (the oai-identifier guidelines, section 2.1).
OAI_IDENTIFIER = re.compile(
    r"oai:[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+:[a-zA-Z0-9\-_\.!~\*'\(\);/\?:@&=\+$,%]+"
)
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


def raised(function, *args, **kwargs) -> OaiError:
    """The protocol error a call raises, after checking that its message is one the
    translation catalogues know: a changed message id would go untranslated."""
    with pytest.raises(OaiError) as caught:
        function(*args, **kwargs)
    assert caught.value.message.msgid in catalogue_ids(), caught.value.message.msgid
    return caught.value


_CATALOGUE_IDS: set[str] = set()


def catalogue_ids() -> set[str]:
    if not _CATALOGUE_IDS:
        with open(ROOT / "translations" / "messages.pot", encoding="utf-8") as f:
            _CATALOGUE_IDS.update(m.id for m in read_po(f) if isinstance(m.id, str) and m.id)
    return _CATALOGUE_IDS


# --- The module stands alone ------------------------------------------------------------


def test_the_module_imports_nothing_of_flask_or_the_database() -> None:
    tree = ast.parse(Path(protocol.__file__).read_text(encoding="utf-8"))
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    forbidden = ("flask", "sqlalchemy", "knowledge_hub.web", "knowledge_hub.queries")
    assert not {m for m in imported if m and m.startswith(forbidden)}, imported
    assert "knowledge_hub.extensions" not in imported


def test_the_pure_functions_run_without_an_application() -> None:
    assert not has_app_context() and not has_request_context()
    verb, args = protocol.parse_arguments({"verb": ["ListRecords"], "metadataPrefix": ["oai_dc"]})
    wanted = protocol.list_request(verb, args, secret_key=KEY, lifetime=DAY, now=NOW)
    page = [Document(id=1, ref="A", status=DocumentStatus.RELEASED)]
    more = protocol.resumption(
        wanted, page, total=2, has_more=True, secret_key=KEY, lifetime=DAY, now=NOW
    )
    assert more is not None and more.token
    document = sample_document()
    record = protocol.oai_record(
        document,
        repository=REPOSITORY,
        sets=["kind:publication"],
        datestamp=NOW,
        dc=protocol.dublin_core(document, document.variants[:2], "http://hub.test/documents/7"),
    )
    assert record.dc
    # The messages are English sentences until the web layer translates them.
    error = raised(protocol.parse_arguments, {"verb": ["Nothing"]})
    assert str(error.message) == "The verb is missing, repeated or not an OAI-PMH verb."
    assert not has_app_context() and not has_request_context()


# --- Arguments --------------------------------------------------------------------------

BAD_ARGUMENTS = [
    ({}, "badVerb", "The verb is missing, repeated or not an OAI-PMH verb."),
    ({"verb": ["Explode"]}, "badVerb", "The verb is missing, repeated or not an OAI-PMH verb."),
    (
        {"verb": ["Identify", "Identify"]},
        "badVerb",
        "The verb is missing, repeated or not an OAI-PMH verb.",
    ),
    (
        {"verb": ["Identify"], "metadataPrefix": ["oai_dc"]},
        "badArgument",
        "metadataPrefix is not an argument of Identify.",
    ),
    (
        {"verb": ["Identify"], "lang": ["fr"]},
        "badArgument",
        "lang is not an argument of Identify.",
    ),
    ({"verb": ["ListRecords"]}, "badArgument", "ListRecords needs metadataPrefix."),
    (
        {"verb": ["GetRecord"]},
        "badArgument",
        "GetRecord needs identifier, metadataPrefix.",
    ),
    (
        {"verb": ["ListRecords"], "metadataPrefix": ["oai_dc", "oai_dc"]},
        "badArgument",
        "metadataPrefix is repeated.",
    ),
    (
        {"verb": ["ListRecords"], "resumptionToken": ["x"], "metadataPrefix": ["oai_dc"]},
        "badArgument",
        "resumptionToken cannot be combined with other arguments.",
    ),
    (
        {"verb": ["ListIdentifiers"], "resumptionToken": ["x"], "set": ["kind"]},
        "badArgument",
        "resumptionToken cannot be combined with other arguments.",
    ),
    (
        {"verb": ["GetRecord"], "resumptionToken": ["x"]},
        "badArgument",
        "resumptionToken is not an argument of GetRecord.",
    ),
]


@pytest.mark.parametrize("values,code,message", BAD_ARGUMENTS)
def test_bad_verbs_and_arguments_are_refused(values, code, message) -> None:
    error = raised(protocol.parse_arguments, values)
    assert (error.code, str(error.message)) == (code, message)
    assert not error.echoes_request  # the request was not understood: nothing is echoed


def test_good_arguments_come_back_one_value_each() -> None:
    assert protocol.parse_arguments({"verb": ["Identify"]}) == ("Identify", {})
    assert protocol.parse_arguments(
        {
            "verb": ["ListRecords"],
            "metadataPrefix": ["oai_dc"],
            "from": ["2023-01-01"],
            "set": ["kind:archive"],
        }
    ) == ("ListRecords", {"metadataPrefix": "oai_dc", "from": "2023-01-01", "set": "kind:archive"})
    # A resumption token stands for the arguments it replaces, the required ones too.
    assert protocol.parse_arguments({"verb": ["ListRecords"], "resumptionToken": ["t"]}) == (
        "ListRecords",
        {"resumptionToken": "t"},
    )
    # A plain string is one value, not a list of characters.
    assert protocol.parse_arguments(
        {"verb": "GetRecord", "identifier": "x", "metadataPrefix": "y"}
    )[1] == {"identifier": "x", "metadataPrefix": "y"}


def test_only_values_of_the_schemas_type_are_echoed() -> None:
    assert protocol.echo(
        {
            "verb": "ListRecords",
            "metadataPrefix": "not a prefix!",
            "from": "yesterday",
            "until": "2024-01-01",
            "set": "kind:archive",
            "identifier": "has a space",
        }
    ) == {"verb": "ListRecords", "until": "2024-01-01", "set": "kind:archive"}
    assert protocol.echo({"verb": "Explode"}) == {}
    assert OaiError("noRecordsMatch", N_("No records match these arguments.")).echoes_request


# --- Dates --------------------------------------------------------------------------------


def test_from_and_until_bound_whole_days_or_seconds() -> None:
    assert protocol.bounds(None, None) == (None, None)
    assert protocol.bounds("2023-01-01", "2023-01-02") == (
        datetime(2023, 1, 1),
        datetime(2023, 1, 3),  # until is inclusive: its whole day
    )
    assert protocol.bounds("2023-01-01T10:00:00Z", "2023-01-01T10:00:00Z") == (
        datetime(2023, 1, 1, 10, 0, 0),
        datetime(2023, 1, 1, 10, 0, 1),
    )
    assert protocol.bounds(None, "2023-06-30") == (None, datetime(2023, 7, 1))
    assert protocol.bounds("2023-06-30T23:59:59Z", None) == (
        datetime(2023, 6, 30, 23, 59, 59),
        None,
    )


@pytest.mark.parametrize(
    "start,until,message",
    [
        ("2023-13-45", None, "from must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC)."),
        ("2023-02-30", None, "from must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC)."),
        ("yesterday", None, "from must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC)."),
        ("2023-01-01T10:00:00", None, "from must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC)."),
        (None, "2023-01-01 10:00", "until must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC)."),
        ("2020-01-01", "2030-01-01T00:00:00Z", "from and until must have the same granularity."),
        ("2030-01-01", "2020-01-01", "from is later than until."),
        ("2023-01-01T10:00:01Z", "2023-01-01T10:00:00Z", "from is later than until."),
    ],
)
def test_bad_dates_are_bad_arguments(start, until, message) -> None:
    error = raised(protocol.bounds, start, until)
    assert (error.code, str(error.message)) == ("badArgument", message)


def test_datestamps_are_written_in_utc_to_the_second() -> None:
    assert protocol.format_datestamp(datetime(2024, 5, 6, 7, 8, 9, 999)) == "2024-05-06T07:08:09Z"
    paris = timezone(timedelta(hours=1))
    assert protocol.format_datestamp(datetime(2024, 1, 1, 0, 30, tzinfo=paris)) == (
        "2023-12-31T23:30:00Z"
    )


# --- Formats, sets and list requests ------------------------------------------------------


def test_formats_and_set_specs_are_checked() -> None:
    protocol.check_prefix("oai_dc")
    error = raised(protocol.check_prefix, "marc21")
    assert (error.code, str(error.message)) == (
        "cannotDisseminateFormat",
        "The only metadata format is oai_dc.",
    )
    for spec in (None, "kind", "kind:archive", "organization:UN-Women"):
        protocol.check_set_spec(spec)
    for spec in ("no spaces", "kind::archive", ":kind", "kind:", ""):
        assert raised(protocol.check_set_spec, spec).code == "badArgument", spec
    assert raised(protocol.check_list_sets, {"resumptionToken": "x"}).code == "badResumptionToken"
    protocol.check_list_sets({})


def test_a_list_request_checks_dates_then_set_then_format() -> None:
    def error(**args: str) -> str:
        e = raised(
            protocol.list_request, "ListRecords", args, secret_key=KEY, lifetime=DAY, now=NOW
        )
        return str(e.message)

    assert error(metadataPrefix="marc21", set="no spaces", **{"from": "bad"}).startswith("from")
    assert error(metadataPrefix="marc21", set="no spaces") == "The set is not a valid setSpec."
    assert error(metadataPrefix="marc21") == "The only metadata format is oai_dc."
    wanted = protocol.list_request(
        "ListIdentifiers",
        {"metadataPrefix": "oai_dc", "set": "kind", "from": "2023-01-01", "until": "2023-01-31"},
        secret_key=KEY,
        lifetime=DAY,
        now=NOW,
    )
    assert wanted.query == ListQuery(
        "ListIdentifiers", "oai_dc", set_spec="kind", start="2023-01-01", until="2023-01-31"
    )
    assert (wanted.start, wanted.end) == (datetime(2023, 1, 1), datetime(2023, 2, 1))
    assert not wanted.continuing


# --- Resumption tokens --------------------------------------------------------------------

QUERY = ListQuery(
    "ListRecords", "oai_dc", set_spec="topic:sdg-8", start="2023-01-01", after_id=41, cursor=20
)


def read(token: str, verb: str = "ListRecords", *, now: datetime, key: str = KEY) -> ListQuery:
    return protocol.read_token(token, verb, secret_key=key, lifetime=DAY, now=now)


def test_a_token_carries_its_query_back() -> None:
    token = protocol.write_token(QUERY, secret_key=KEY, now=NOW)
    assert read(token, now=NOW) == QUERY
    assert read(token, now=NOW + DAY) == QUERY  # still valid at the end of its lifetime


def test_a_token_expires_after_its_lifetime() -> None:
    token = protocol.write_token(QUERY, secret_key=KEY, now=NOW)
    error = raised(read, token, now=NOW + DAY + timedelta(seconds=1))
    assert (error.code, str(error.message)) == (
        "badResumptionToken",
        "The resumption token has expired.",
    )
    assert error.echoes_request


def test_a_token_belongs_to_its_verb() -> None:
    token = protocol.write_token(QUERY, secret_key=KEY, now=NOW)
    error = raised(read, token, "ListIdentifiers", now=NOW)
    assert (error.code, str(error.message)) == (
        "badResumptionToken",
        "The resumption token belongs to ListRecords.",
    )


def test_forged_or_foreign_tokens_are_not_valid() -> None:
    token = protocol.write_token(QUERY, secret_key=KEY, now=NOW)
    signed_elsewhere = URLSafeTimedSerializer(KEY, salt=protocol.TOKEN_SALT).dumps(
        {"verb": "ListRecords", "prefix": "oai_dc", "admin": True}
    )
    for bad in (
        "forged",
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        URLSafeTimedSerializer(KEY, salt="another purpose").dumps(asdict(QUERY)),
        protocol.write_token(QUERY, secret_key="another key", now=NOW),
        signed_elsewhere,  # a good signature over something that is not a query
    ):
        # Read on the system's clock, which signed the tokens made without protocol.
        error = raised(read, bad, now=datetime.now(UTC))
        assert str(error.message) == "The resumption token is not valid.", bad
    # Any worker that shares the key continues the harvest: nothing is kept between requests.
    assert read(token, now=NOW + timedelta(hours=1), key=KEY) == QUERY


def test_pages_of_a_list_are_linked_by_tokens() -> None:
    documents = [Document(id=i, ref=f"R-{i}") for i in (3, 5, 8, 13, 21)]

    def page(request: protocol.ListRequest, size: int):
        after = [d for d in documents if d.id > request.query.after_id]
        shown = after[:size]
        return shown, protocol.resumption(
            request,
            shown,
            total=len(documents),
            has_more=len(after) > size,
            secret_key=KEY,
            lifetime=DAY,
            now=NOW,
        )

    first = protocol.list_request(
        "ListRecords", {"metadataPrefix": "oai_dc"}, secret_key=KEY, lifetime=DAY, now=NOW
    )
    shown, info = page(first, 2)
    assert [d.id for d in shown] == [3, 5]
    assert (info.complete_list_size, info.cursor) == (5, 0)
    assert info.expiration_date == "2024-03-02T12:00:00Z"
    seen = [d.id for d in shown]
    while info.token:
        following = protocol.list_request(
            "ListRecords", {"resumptionToken": info.token}, secret_key=KEY, lifetime=DAY, now=NOW
        )
        assert following.continuing
        shown, info = page(following, 2)
        assert info.cursor == len(seen)
        seen += [d.id for d in shown]
    assert seen == [3, 5, 8, 13, 21]
    # The last part of a resumed list carries an empty token and no expiry (OAI-PMH 3.5).
    assert (info.token, info.cursor, info.expiration_date) == ("", 4, None)
    # A list that fits in one response has no token at all.
    assert page(first, 10)[1] is None
    error = raised(
        protocol.resumption,
        first,
        [],
        total=0,
        has_more=False,
        secret_key=KEY,
        lifetime=DAY,
        now=NOW,
    )
    assert (error.code, error.echoes_request) == ("noRecordsMatch", True)


# --- Identifiers and text -----------------------------------------------------------------

ODD_REFS = [
    "PUB-1",
    "A/RES/77/281",
    "PUB 1",
    "50% done",
    "a#b?c",
    "oai:nested:ref",
    "it's",
    "Résolution – été",
    "合作社/2023",
    "semi;colon&amp=plus+",
]


@pytest.mark.parametrize("ref", ODD_REFS)
def test_any_reference_makes_a_valid_identifier_and_comes_back(ref: str) -> None:
    identifier = protocol.oai_identifier(ref, REPOSITORY)
    assert OAI_IDENTIFIER.fullmatch(identifier), identifier
    assert protocol.ECHO["identifier"].fullmatch(identifier)
    assert protocol.ref_of(identifier, REPOSITORY) == ref


def test_identifiers_read_as_their_references_where_they_can() -> None:
    assert protocol.oai_identifier("A/RES/77/281", REPOSITORY) == "oai:hub.test:A/RES/77/281"
    assert protocol.oai_identifier("PUB 1", REPOSITORY) == "oai:hub.test:PUB%201"
    assert protocol.oai_identifier("50%", REPOSITORY) == "oai:hub.test:50%25"


def test_an_identifier_of_another_repository_names_no_record() -> None:
    for identifier in ("oai:elsewhere.org:PUB-1", "PUB-1", "oai:hub.test", "urn:hub.test:PUB-1"):
        error = raised(protocol.ref_of, identifier, REPOSITORY)
        assert (error.code, str(error.message)) == (
            "idDoesNotExist",
            "There is no record with this identifier.",
        )


def test_text_loses_the_characters_xml_cannot_carry() -> None:
    assert protocol.clean("Cooperatives \x0b at work.") == "Cooperatives  at work."
    assert protocol.clean(" a\x00b\x08c\x1f\ud800d\ufffee\uffff ") == "abcde"
    assert protocol.clean("tab\there\nline\rend") == "tab\there\nline\rend"  # XML keeps these
    assert protocol.clean("\x01\x02 ") == ""


def test_identify_has_an_address_with_a_domain() -> None:
    assert protocol.default_admin_email("hub.example.org") == "knowledge-hub@hub.example.org"
    assert protocol.default_admin_email("localhost") == "knowledge-hub@localhost.invalid"


# --- Records and their Dublin Core --------------------------------------------------------

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def sample_document() -> Document:
    """A released record with every field Dublin Core reads, and a third version that the
    caller does not pass (as if hidden from anonymous readers)."""
    document = Document(
        id=7,
        ref="A/RES/77/281",
        kind=DocumentKind.PUBLICATION,
        status=DocumentStatus.RELEASED,
        authors=["Doe, Jane", "UNTFSSE Secretariat"],
        date="2023-06",
        series="Working papers\x0c 12",
        license="CC-BY-4.0",
        identifiers={"un_symbol": "", "isbn": "978-92-2-000000-0", "doi": "10.1234/abc"},
        original_language="en",
    )
    document.doc_type = DocType(code="report", label="Report")
    document.topics = [Topic(code="sdg-8", label="Decent work"), Topic(code="x", label=" ")]
    document.regions = [Region(code="002")]
    document.organization_links = [
        DocumentOrganization(
            organization=Organization(acronym="UN Women", name="UN Women"),
            role=OrganizationRole.CONTRIBUTOR,
        ),
        DocumentOrganization(
            organization=Organization(acronym="ILO", name="International Labour Organization"),
            role=OrganizationRole.LEAD,
        ),
    ]
    document.variants = [
        Variant(
            language="en",
            title="Public report",
            summary="Cooperatives \x0b at work.",
            is_original=True,
            files=[StoredFile(media_type=PDF), StoredFile(media_type=DOCX)],
        ),
        Variant(language="fr", title="Rapport public", summary=None, files=[]),
        Variant(language="es", title="Informe interno", summary="Oculto", files=[]),
    ]
    return document


def test_the_dublin_core_of_a_record() -> None:
    document = sample_document()
    visible = document.variants[:2]
    dc = protocol.dublin_core(document, visible, "http://hub.test/documents/7")
    assert dc == [
        ("title", "Public report", "en"),
        ("title", "Rapport public", "fr"),
        ("creator", "Doe, Jane", None),
        ("creator", "UNTFSSE Secretariat", None),
        ("subject", "Decent work", None),  # the blank topic label is left out
        ("description", "Cooperatives  at work.", "en"),
        ("publisher", "International Labour Organization", None),
        ("contributor", "UN Women", None),
        ("date", "2023-06", None),
        ("type", "Text", None),
        ("type", "Report", None),
        ("format", PDF, None),
        ("format", DOCX, None),
        ("identifier", "http://hub.test/documents/7", None),
        ("identifier", "https://doi.org/10.1234/abc", None),
        ("identifier", "isbn:978-92-2-000000-0", None),
        ("relation", "Working papers 12", None),
        ("language", "en", None),
        ("language", "fr", None),
        ("coverage", "002", None),
        ("rights", "CC-BY-4.0", None),
    ]
    assert {element for element, __, __ in dc} <= DC_ELEMENTS
    assert not any("Informe" in value or "Oculto" in value for __, value, __ in dc)


def test_a_bare_record_is_published_by_untfsse_and_keeps_to_what_it_has() -> None:
    document = Document(
        id=9, ref="ARC-1", kind=DocumentKind.ARCHIVE, status=DocumentStatus.RELEASED
    )
    variant = Variant(language="en", title="Minutes", summary="", files=[])
    document.variants = [variant]
    assert protocol.dublin_core(document, [variant], "http://hub.test/documents/9") == [
        ("title", "Minutes", "en"),
        ("publisher", "UNTFSSE", None),
        ("type", "Text", None),
        ("identifier", "http://hub.test/documents/9", None),
        ("language", "en", None),
    ]


def test_a_record_has_its_header_and_a_withdrawn_one_is_deleted() -> None:
    document = sample_document()
    dc = protocol.dublin_core(document, document.variants[:2], "http://hub.test/documents/7")
    stamp = datetime(2024, 2, 3, 4, 5, 6)
    record = protocol.oai_record(
        document,
        repository=REPOSITORY,
        sets=["kind:publication", "type:report"],
        datestamp=stamp,
        dc=dc,
    )
    assert record.identifier == "oai:hub.test:A/RES/77/281"
    assert record.datestamp == "2024-02-03T04:05:06Z"
    assert record.sets == ["kind:publication", "type:report"]
    assert not record.deleted and record.dc == dc
    header_only = protocol.oai_record(document, repository=REPOSITORY, sets=[], datestamp=stamp)
    assert header_only.dc == [] and not header_only.deleted
    document.status = DocumentStatus.WITHDRAWN
    assert protocol.is_deleted(document)
    gone = protocol.oai_record(document, repository=REPOSITORY, sets=[], datestamp=stamp, dc=dc)
    assert gone.deleted and gone.dc == []


def test_a_records_datestamp_is_its_last_change() -> None:
    document = Document(ref="X")
    assert protocol.record_datestamp(document, NOW) == NOW
    document.released_at = datetime(2023, 1, 1)
    assert protocol.record_datestamp(document, NOW) == datetime(2023, 1, 1)
    document.updated_at = datetime(2023, 5, 1)
    assert protocol.record_datestamp(document, NOW) == datetime(2023, 5, 1)
