"""OAI-PMH 2.0 at /oai: harvesters collect the released public records as Dublin Core.

Resumption tokens are stateless: the query and the cursor, signed and timed with
itsdangerous, so any worker can continue any harvest.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime
from datetime import timedelta
from typing import Any
from urllib.parse import quote
from urllib.parse import unquote

from flask import Blueprint
from flask import current_app
from flask import make_response
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer

from knowledge_hub.extensions import csrf
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import OrganizationRole
from knowledge_hub.models.base import utcnow
from knowledge_hub.queries import oai as oai_queries
from knowledge_hub.queries import public as public_queries

bp = Blueprint("oai", __name__)
# Harvesters may POST their requests (OAI-PMH 3.1.1.2); they carry no session to forge.
csrf.exempt(bp)

DATESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
TOKEN_SALT = "oai-pmh-resumption-token"


@dataclass(frozen=True)
class MetadataFormat:
    schema: str
    namespace: str


FORMATS = {
    "oai_dc": MetadataFormat(
        schema="http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
        namespace="http://www.openarchives.org/OAI/2.0/oai_dc/",
    )
}

#: verb -> (required arguments, optional arguments); resumptionToken is exclusive.
VERBS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "Identify": (frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"})),
    "ListSets": (frozenset(), frozenset({"resumptionToken"})),
    "ListIdentifiers": (
        frozenset({"metadataPrefix"}),
        frozenset({"from", "until", "set", "resumptionToken"}),
    ),
    "ListRecords": (
        frozenset({"metadataPrefix"}),
        frozenset({"from", "until", "set", "resumptionToken"}),
    ),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset()),
}

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
_PREFIX = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")
#: What the <request> element may echo, by the schema's type of each attribute.
_ECHO = {
    "verb": re.compile("|".join(VERBS)),
    "identifier": re.compile(r"\S+"),
    "metadataPrefix": _PREFIX,
    "from": re.compile(f"{_DAY.pattern}|{_SECOND.pattern}"),
    "until": re.compile(f"{_DAY.pattern}|{_SECOND.pattern}"),
    "set": _SET_SPEC,
    "resumptionToken": re.compile(r".+"),
}
# Characters XML 1.0 cannot carry, which extracted text and typed summaries may hold.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class OaiError(Exception):
    """A protocol error: its code is one of those OAI-PMH 2.0 defines."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ListQuery:
    """What a list request asks for, and how far the harvest has got."""

    verb: str
    prefix: str
    set_spec: str | None = None
    start: str | None = None
    until: str | None = None
    after_id: int = 0
    cursor: int = 0


@dataclass(frozen=True)
class Resumption:
    token: str
    complete_list_size: int
    cursor: int
    expiration_date: str | None


@dataclass(frozen=True)
class OaiRecord:
    identifier: str
    datestamp: str
    sets: list[str]
    deleted: bool
    dc: list[tuple[str, str, str | None]]


@bp.route("/oai", methods=["GET", "POST"])
def endpoint():
    """Answer one OAI-PMH request; protocol errors are answered with status 200."""
    echo: dict[str, str] = {}
    try:
        verb, args = _arguments()
        echo = {
            name: value
            for name, value in {"verb": verb, **args}.items()
            if _ECHO[name].fullmatch(value)
        }
        template, context = HANDLERS[verb](args)
    except OaiError as e:
        if e.code in ("badVerb", "badArgument"):
            echo = {}  # the protocol forbids echoing a request that was not understood
        template, context = "oai/error.xml", {"code": e.code, "message": e.message}
    body = render_template(
        template,
        echo=echo,
        base_url=url_for("oai.endpoint", _external=True),
        response_date=utcnow().strftime(DATESTAMP_FORMAT),
        **context,
    )
    response = make_response(body)
    response.mimetype = "text/xml"
    return response


def _arguments() -> tuple[str, dict[str, str]]:
    values = request.values
    verbs = values.getlist("verb")
    if len(verbs) != 1 or verbs[0] not in VERBS:
        raise OaiError("badVerb", _("The verb is missing, repeated or not an OAI-PMH verb."))
    verb = verbs[0]
    required, optional = VERBS[verb]
    args: dict[str, str] = {}
    for name in values.keys():  # a MultiDict: each name once
        if name == "verb":
            continue
        if name not in required | optional:
            raise OaiError(
                "badArgument",
                _("%(name)s is not an argument of %(verb)s.", name=name, verb=verb),
            )
        given = values.getlist(name)
        if len(given) > 1:
            raise OaiError("badArgument", _("%(name)s is repeated.", name=name))
        args[name] = given[0]
    if "resumptionToken" in args:
        if len(args) > 1:
            raise OaiError(
                "badArgument", _("resumptionToken cannot be combined with other arguments.")
            )
    elif missing := sorted(required - args.keys()):
        raise OaiError(
            "badArgument",
            _("%(verb)s needs %(names)s.", verb=verb, names=", ".join(missing)),
        )
    return verb, args


def identify(args: dict[str, str]) -> tuple[str, dict[str, Any]]:
    earliest = oai_queries.earliest_datestamp() or utcnow()
    host = repository_identifier()
    admin = current_app.config.get("OAI_ADMIN_EMAIL") or (
        f"knowledge-hub@{host}" if "." in host else f"knowledge-hub@{host}.invalid"
    )
    return "oai/identify.xml", {
        "repository_name": _("UNTFSSE Knowledge Hub"),
        "admin_email": admin,
        "earliest_datestamp": earliest.strftime(DATESTAMP_FORMAT),
    }


def list_metadata_formats(args: dict[str, str]) -> tuple[str, dict[str, Any]]:
    if "identifier" in args:
        _document(args["identifier"])  # every record is available as oai_dc
    return "oai/list_metadata_formats.xml", {"formats": FORMATS}


def list_sets(args: dict[str, str]) -> tuple[str, dict[str, Any]]:
    if "resumptionToken" in args:
        raise OaiError("badResumptionToken", _("The list of sets comes in one response."))
    sets = [replace(s, name=_clean(s.name)) for s in oai_queries.list_sets()]
    return "oai/list_sets.xml", {"sets": sets}


def list_identifiers(args: dict[str, str]) -> tuple[str, dict[str, Any]]:
    return "oai/list_identifiers.xml", _list("ListIdentifiers", args)


def list_records(args: dict[str, str]) -> tuple[str, dict[str, Any]]:
    return "oai/list_records.xml", _list("ListRecords", args)


def get_record(args: dict[str, str]) -> tuple[str, dict[str, Any]]:
    _check_prefix(args["metadataPrefix"])
    document = _document(args["identifier"])
    return "oai/get_record.xml", {"record": oai_record(document)}


HANDLERS = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets,
    "ListIdentifiers": list_identifiers,
    "ListRecords": list_records,
    "GetRecord": get_record,
}


def _list(verb: str, args: dict[str, str]) -> dict[str, Any]:
    continuing = "resumptionToken" in args
    if continuing:
        query = _read_token(args["resumptionToken"], verb)
    else:
        query = ListQuery(
            verb=verb,
            prefix=args["metadataPrefix"],
            set_spec=args.get("set"),
            start=args.get("from"),
            until=args.get("until"),
        )
    start, end = _bounds(query.start, query.until)
    if query.set_spec is not None and not _SET_SPEC.fullmatch(query.set_spec):
        raise OaiError("badArgument", _("The set is not a valid setSpec."))
    _check_prefix(query.prefix)
    page = oai_queries.harvest(
        set_spec=query.set_spec,
        start=start,
        end=end,
        after_id=query.after_id,
        limit=current_app.config.get("OAI_PAGE_SIZE", 50),
    )
    if not page.documents:
        raise OaiError("noRecordsMatch", _("No records match these arguments."))
    resumption = None
    if page.has_more:
        following = replace(
            query, after_id=page.documents[-1].id, cursor=query.cursor + len(page.documents)
        )
        lifetime = timedelta(hours=current_app.config.get("OAI_TOKEN_HOURS", 24))
        resumption = Resumption(
            token=_serializer().dumps(asdict(following)),
            complete_list_size=page.total,
            cursor=query.cursor,
            expiration_date=(utcnow() + lifetime).strftime(DATESTAMP_FORMAT),
        )
    elif continuing:
        # The last part of a list carries an empty token (OAI-PMH 3.5).
        resumption = Resumption("", page.total, query.cursor, None)
    records = [oai_record(d, with_metadata=verb == "ListRecords") for d in page.documents]
    return {"records": records, "resumption_info": resumption}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=TOKEN_SALT)


def _read_token(token: str, verb: str) -> ListQuery:
    lifetime = current_app.config.get("OAI_TOKEN_HOURS", 24) * 3600
    try:
        data = _serializer().loads(token, max_age=lifetime)
        query = ListQuery(**data)
    except SignatureExpired:
        raise OaiError("badResumptionToken", _("The resumption token has expired.")) from None
    except (BadSignature, TypeError, ValueError):
        raise OaiError("badResumptionToken", _("The resumption token is not valid.")) from None
    if query.verb != verb:
        raise OaiError(
            "badResumptionToken",
            _("The resumption token belongs to %(verb)s.", verb=query.verb),
        )
    return query


def _bounds(start: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """The inclusive start and exclusive end of a from/until pair."""
    begin = end = None
    if start is not None:
        begin, __ = _parse_datestamp(start, "from")
    if until is not None:
        moment, step = _parse_datestamp(until, "until")
        if start is not None and len(start) != len(until):
            raise OaiError("badArgument", _("from and until must have the same granularity."))
        if begin is not None and begin > moment:
            raise OaiError("badArgument", _("from is later than until."))
        end = moment + step
    return begin, end


def _parse_datestamp(value: str, name: str) -> tuple[datetime, timedelta]:
    try:
        if _DAY.fullmatch(value):
            return datetime.strptime(value, "%Y-%m-%d"), timedelta(days=1)
        if _SECOND.fullmatch(value):
            return datetime.strptime(value, DATESTAMP_FORMAT), timedelta(seconds=1)
    except ValueError:
        pass
    raise OaiError(
        "badArgument",
        _("%(name)s must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC).", name=name),
    )


def _check_prefix(prefix: str) -> None:
    if prefix not in FORMATS:
        raise OaiError(
            "cannotDisseminateFormat",
            _("The only metadata format is %(formats)s.", formats=", ".join(FORMATS)),
        )


def repository_identifier() -> str:
    """The repository's part of every OAI identifier: its host name."""
    configured = current_app.config.get("OAI_REPOSITORY_IDENTIFIER")
    return configured or request.host.split(":")[0]


def oai_identifier(document: Document) -> str:
    return f"oai:{repository_identifier()}:{quote(document.ref, safe='/:;@&=+$,-_.!~*()')}"


def _document(identifier: str) -> Document:
    prefix = f"oai:{repository_identifier()}:"
    document = None
    if identifier.startswith(prefix):
        document = oai_queries.by_ref(unquote(identifier[len(prefix) :]))
    if document is None:
        raise OaiError("idDoesNotExist", _("There is no record with this identifier."))
    return document


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text).strip()


def oai_record(document: Document, *, with_metadata: bool = True) -> OaiRecord:
    """A record as harvesters see it: its header and its Dublin Core."""
    stamp = document.updated_at or document.released_at or utcnow()
    deleted = document.status == DocumentStatus.WITHDRAWN
    return OaiRecord(
        identifier=oai_identifier(document),
        datestamp=stamp.strftime(DATESTAMP_FORMAT),
        sets=oai_queries.record_sets(document),
        deleted=deleted,
        dc=[] if deleted or not with_metadata else dublin_core(document),
    )


def dublin_core(document: Document) -> list[tuple[str, str, str | None]]:
    """The record as simple Dublin Core elements: (element, value, language)."""
    variants = public_queries.visible_variants(None, document)
    lead = [
        link.organization
        for link in document.organization_links
        if link.role == OrganizationRole.LEAD
    ]
    others = [
        link.organization
        for link in document.organization_links
        if link.role != OrganizationRole.LEAD
    ]
    elements: list[tuple[str, str, str | None]] = []
    elements += [("title", v.title, v.language) for v in variants]
    elements += [("creator", a, None) for a in document.authors or []]
    elements += [("subject", t.label, None) for t in document.topics]
    elements += [("description", v.summary, v.language) for v in variants if v.summary]
    elements += [("publisher", o.name, None) for o in lead] or [("publisher", "UNTFSSE", None)]
    elements += [("contributor", o.name, None) for o in others]
    if document.date:
        elements.append(("date", document.date, None))
    elements.append(("type", "Text", None))
    if document.doc_type is not None:
        elements.append(("type", document.doc_type.label, None))
    media_types = {f.media_type for v in variants for f in v.files}
    elements += [("format", m, None) for m in sorted(media_types)]
    elements.append(
        ("identifier", url_for("documents.landing", document_id=document.id, _external=True), None)
    )
    for scheme, value in sorted((document.identifiers or {}).items()):
        if scheme == "doi":
            elements.append(("identifier", f"https://doi.org/{value}", None))
        elif value:
            elements.append(("identifier", f"{scheme}:{value}", None))
    if document.series:
        elements.append(("relation", document.series, None))
    elements += [
        ("language", language, None) for language in dict.fromkeys(v.language for v in variants)
    ]
    elements += [("coverage", r.code, None) for r in document.regions]
    if document.license:
        elements.append(("rights", document.license, None))
    return [(e, _clean(value), lang) for e, value, lang in elements if _clean(value)]
