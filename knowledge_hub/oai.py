"""OAI-PMH 2.0 and its Dublin Core, as pure functions: nothing of Flask or the database.

The web layer (`knowledge_hub.web.oai`) reads the request, asks the harvest queries and
renders the templates; everything the protocol decides is here, so it can be tested on
plain values. Messages for harvesters are marked with `N_` and translated where they are
shown. Resumption tokens are stateless: the query and the cursor, signed and timed with
itsdangerous, so any worker can continue any harvest; the clock and the key are the
caller's, so a token's life can be tested without waiting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any
from urllib.parse import quote
from urllib.parse import unquote

from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import TimestampSigner
from itsdangerous import URLSafeTimedSerializer

from knowledge_hub.i18n.messages import N_
from knowledge_hub.i18n.messages import Message
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import OrganizationRole
from knowledge_hub.models import Variant

DATESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
TOKEN_SALT = "oai-pmh-resumption-token"
#: The publisher of a record that names no lead organization.
DEFAULT_PUBLISHER = "UNTFSSE"


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

DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
PREFIX = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")
#: What the <request> element may echo, by the schema's type of each attribute: a value
#: outside its type would make the whole response invalid.
ECHO = {
    "verb": re.compile("|".join(VERBS)),
    "identifier": re.compile(r"\S+"),
    "metadataPrefix": PREFIX,
    "from": re.compile(f"{DAY.pattern}|{SECOND.pattern}"),
    "until": re.compile(f"{DAY.pattern}|{SECOND.pattern}"),
    "set": SET_SPEC,
    "resumptionToken": re.compile(r".+"),
}
#: Errors after which the request must not be echoed: it was not understood (OAI-PMH 3.2).
NOT_UNDERSTOOD = frozenset({"badVerb", "badArgument"})
#: Characters XML 1.0 cannot carry, which extracted text and typed summaries may hold.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: What stays unquoted in the record part of an OAI identifier, all of it allowed by the
#: identifier's syntax, so that refs such as "A/RES/77/281" read as they are; anything
#: else is percent-encoded.
_IDENTIFIER_SAFE = "/:;@&=+$,-_.!~*()"

Element = tuple[str, str, str | None]


class OaiError(Exception):
    """A protocol error: its code is one of those OAI-PMH 2.0 defines, its message a
    sentence marked with `N_`, translated where the response is written."""

    def __init__(self, code: str, message: Message) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def echoes_request(self) -> bool:
        """Whether the response may still echo the request's arguments."""
        return self.code not in NOT_UNDERSTOOD


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
class ListRequest:
    """A checked list request: the query, its datestamp range (start inclusive, end
    exclusive), and whether it continues a harvest (then its last part carries an empty
    token)."""

    query: ListQuery
    start: datetime | None
    end: datetime | None
    continuing: bool


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
    dc: list[Element]


# --- Arguments --------------------------------------------------------------------------


def parse_arguments(
    values: Mapping[str, str | Sequence[str]],
) -> tuple[str, dict[str, str]]:
    """The verb and its arguments, from each argument's name and the values it was given
    (a single string counts as one value).

    Raises badVerb or badArgument: a request is refused whole rather than guessed at, as
    the protocol asks, so a harvester learns of its mistake instead of getting a list it
    did not ask for."""
    values = {name: [v] if isinstance(v, str) else list(v) for name, v in values.items()}
    verbs = values.get("verb", [])
    if len(verbs) != 1 or verbs[0] not in VERBS:
        raise OaiError("badVerb", N_("The verb is missing, repeated or not an OAI-PMH verb."))
    verb = verbs[0]
    required, optional = VERBS[verb]
    args: dict[str, str] = {}
    for name, given in values.items():
        if name == "verb":
            continue
        if name not in required | optional:
            raise OaiError(
                "badArgument",
                N_("%(name)s is not an argument of %(verb)s.", name=name, verb=verb),
            )
        if len(given) > 1:
            raise OaiError("badArgument", N_("%(name)s is repeated.", name=name))
        args[name] = given[0]
    if "resumptionToken" in args:
        if len(args) > 1:
            raise OaiError(
                "badArgument", N_("resumptionToken cannot be combined with other arguments.")
            )
    elif missing := sorted(required - args.keys()):
        raise OaiError(
            "badArgument",
            N_("%(verb)s needs %(names)s.", verb=verb, names=", ".join(missing)),
        )
    return verb, args


def echo(arguments: Mapping[str, str]) -> dict[str, str]:
    """The arguments the <request> element may repeat: those of a known name whose value
    fits the schema's type for it."""
    return {
        name: value
        for name, value in arguments.items()
        if name in ECHO and ECHO[name].fullmatch(value)
    }


def parse_datestamp(value: str, name: str) -> tuple[datetime, timedelta]:
    """A from or until value as a naive UTC moment, with the length of its granularity
    (a day or a second), so that "until" can include the whole of its last unit."""
    try:
        if DAY.fullmatch(value):
            return datetime.strptime(value, "%Y-%m-%d"), timedelta(days=1)
        if SECOND.fullmatch(value):
            return datetime.strptime(value, DATESTAMP_FORMAT), timedelta(seconds=1)
    except ValueError:
        pass
    raise OaiError(
        "badArgument",
        N_("%(name)s must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC).", name=name),
    )


def bounds(start: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """The inclusive start and exclusive end of a from/until pair."""
    begin = end = None
    if start is not None:
        begin, __ = parse_datestamp(start, "from")
    if until is not None:
        moment, step = parse_datestamp(until, "until")
        if start is not None and len(start) != len(until):
            raise OaiError("badArgument", N_("from and until must have the same granularity."))
        if begin is not None and begin > moment:
            raise OaiError("badArgument", N_("from is later than until."))
        end = moment + step
    return begin, end


def check_prefix(prefix: str) -> None:
    """Refuse a metadata format the repository does not disseminate."""
    if prefix not in FORMATS:
        raise OaiError(
            "cannotDisseminateFormat",
            N_("The only metadata format is %(formats)s.", formats=", ".join(FORMATS)),
        )


def check_set_spec(set_spec: str | None) -> None:
    """Refuse a set that is not written as a setSpec; a well-written unknown set is not an
    error here, it simply holds no record."""
    if set_spec is not None and not SET_SPEC.fullmatch(set_spec):
        raise OaiError("badArgument", N_("The set is not a valid setSpec."))


def check_list_sets(args: Mapping[str, str]) -> None:
    """ListSets answers in one response, so no resumption token of it can exist."""
    if "resumptionToken" in args:
        raise OaiError("badResumptionToken", N_("The list of sets comes in one response."))


def list_request(
    verb: str,
    args: Mapping[str, str],
    *,
    secret_key: str | bytes,
    lifetime: timedelta,
    now: datetime,
) -> ListRequest:
    """The ListIdentifiers or ListRecords request that arguments make: a new one, or the
    one its resumption token carries. The dates are checked first, then the set, then the
    format, so a request with several faults is always told of the same one."""
    continuing = "resumptionToken" in args
    if continuing:
        query = read_token(
            args["resumptionToken"], verb, secret_key=secret_key, lifetime=lifetime, now=now
        )
    else:
        query = ListQuery(
            verb=verb,
            prefix=args["metadataPrefix"],
            set_spec=args.get("set"),
            start=args.get("from"),
            until=args.get("until"),
        )
    start, end = bounds(query.start, query.until)
    check_set_spec(query.set_spec)
    check_prefix(query.prefix)
    return ListRequest(query, start, end, continuing)


# --- Resumption tokens ------------------------------------------------------------------


class _SignerAt(TimestampSigner):
    """A timestamp signer that reads the caller's clock instead of the system's."""

    def __init__(self, *args: Any, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timestamp = int(_aware(now).timestamp())

    def get_timestamp(self) -> int:
        return self._timestamp


def _aware(moment: datetime) -> datetime:
    """A naive moment is UTC, as every `_at` column stores it."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _serializer(secret_key: str | bytes, now: datetime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret_key, salt=TOKEN_SALT, signer=_SignerAt, signer_kwargs={"now": now}
    )


def write_token(query: ListQuery, *, secret_key: str | bytes, now: datetime) -> str:
    """A resumption token: the query itself, signed and dated, so no worker keeps state."""
    return _serializer(secret_key, now).dumps(asdict(query))


def read_token(
    token: str,
    verb: str,
    *,
    secret_key: str | bytes,
    lifetime: timedelta,
    now: datetime,
) -> ListQuery:
    """The query a token carries, if it was signed with this key less than `lifetime`
    before `now` and for this verb."""
    try:
        data = _serializer(secret_key, now).loads(token, max_age=int(lifetime.total_seconds()))
        query = ListQuery(**data)
    except SignatureExpired:
        raise OaiError("badResumptionToken", N_("The resumption token has expired.")) from None
    except (BadSignature, TypeError, ValueError):
        raise OaiError("badResumptionToken", N_("The resumption token is not valid.")) from None
    if query.verb != verb:
        raise OaiError(
            "badResumptionToken",
            N_("The resumption token belongs to %(verb)s.", verb=query.verb),
        )
    return query


def resumption(
    request: ListRequest,
    documents: Sequence[Document],
    *,
    total: int,
    has_more: bool,
    secret_key: str | bytes,
    lifetime: timedelta,
    now: datetime,
) -> Resumption | None:
    """The resumption token of one page of a list: one that continues after its last
    record while more follow, an empty one at the end of a resumed list (OAI-PMH 3.5),
    none for a list that came whole. An empty page is noRecordsMatch."""
    if not documents:
        raise OaiError("noRecordsMatch", N_("No records match these arguments."))
    query = request.query
    if has_more:
        following = replace(query, after_id=documents[-1].id, cursor=query.cursor + len(documents))
        return Resumption(
            token=write_token(following, secret_key=secret_key, now=now),
            complete_list_size=total,
            cursor=query.cursor,
            expiration_date=format_datestamp(_aware(now) + lifetime),
        )
    if request.continuing:
        return Resumption("", total, query.cursor, None)
    return None


# --- Identifiers, datestamps and text ---------------------------------------------------


def format_datestamp(moment: datetime) -> str:
    """A moment at the repository's granularity, the second (naive moments are UTC)."""
    return _aware(moment).astimezone(UTC).strftime(DATESTAMP_FORMAT)


def oai_identifier(ref: str, repository: str) -> str:
    """The OAI identifier of the record with this reference; characters the identifier
    syntax does not allow are percent-encoded, so any ref makes a valid identifier."""
    return f"oai:{repository}:{quote(ref, safe=_IDENTIFIER_SAFE)}"


def ref_of(identifier: str, repository: str) -> str:
    """The reference an OAI identifier of this repository names; idDoesNotExist for an
    identifier of another repository or scheme."""
    prefix = f"oai:{repository}:"
    if not identifier.startswith(prefix):
        raise no_such_record()
    return unquote(identifier[len(prefix) :])


def no_such_record() -> OaiError:
    """The error for an identifier that names no harvestable record."""
    return OaiError("idDoesNotExist", N_("There is no record with this identifier."))


def default_admin_email(host: str) -> str:
    """An address for Identify when none is configured: it must have a domain, so a bare
    host name gets the reserved .invalid one."""
    return f"knowledge-hub@{host}" if "." in host else f"knowledge-hub@{host}.invalid"


def clean(text: str) -> str:
    """Text without the characters XML 1.0 cannot carry, trimmed."""
    return NOT_XML.sub("", text).strip()


# --- Records ----------------------------------------------------------------------------


def is_deleted(document: Document) -> bool:
    """Withdrawn records stay harvestable as deleted ones (deletedRecord "persistent")."""
    return document.status == DocumentStatus.WITHDRAWN


def record_datestamp(document: Document, now: datetime) -> datetime:
    """When a record last changed, as harvesters see it (the harvest queries select on the
    same moment); `now` for a record not yet stamped."""
    return document.updated_at or document.released_at or now


def oai_record(
    document: Document,
    *,
    repository: str,
    sets: Iterable[str],
    datestamp: datetime,
    dc: Sequence[Element] = (),
) -> OaiRecord:
    """A record as harvesters see it: its header and, unless it is deleted, the Dublin Core
    given (none for ListIdentifiers)."""
    deleted = is_deleted(document)
    return OaiRecord(
        identifier=oai_identifier(document.ref, repository),
        datestamp=format_datestamp(datestamp),
        sets=list(sets),
        deleted=deleted,
        dc=[] if deleted else list(dc),
    )


def dublin_core(document: Document, variants: Sequence[Variant], landing_url: str) -> list[Element]:
    """The record as simple Dublin Core elements: (element, value, language).

    `variants` are the language versions harvesters may see, `landing_url` the record's
    public page, its first identifier. Empty values are left out, as oai_dc asks."""
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
    elements: list[Element] = []
    elements += [("title", v.title, v.language) for v in variants]
    elements += [("creator", a, None) for a in document.authors or []]
    elements += [("subject", t.label, None) for t in document.topics]
    elements += [("description", v.summary, v.language) for v in variants if v.summary]
    elements += [("publisher", o.name, None) for o in lead] or [
        ("publisher", DEFAULT_PUBLISHER, None)
    ]
    elements += [("contributor", o.name, None) for o in others]
    if document.date:
        elements.append(("date", document.date, None))
    elements.append(("type", "Text", None))
    if document.doc_type is not None:
        elements.append(("type", document.doc_type.label, None))
    media_types = {f.media_type for v in variants for f in v.files}
    elements += [("format", m, None) for m in sorted(media_types)]
    elements.append(("identifier", landing_url, None))
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
    return [(e, clean(value), lang) for e, value, lang in elements if clean(value)]
