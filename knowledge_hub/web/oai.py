"""OAI-PMH 2.0 at /oai: harvesters collect the released public records as Dublin Core.

The protocol and the Dublin Core mapping are pure (`knowledge_hub.oai`); this
blueprint reads the request and the configuration, asks the harvest queries, and renders
the answer, its error messages in the reader's language.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from flask import Blueprint
from flask import current_app
from flask import make_response
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _

from knowledge_hub import oai as protocol
from knowledge_hub.extensions import csrf
from knowledge_hub.i18n.messages import translate
from knowledge_hub.models import Document
from knowledge_hub.oai import OaiError
from knowledge_hub.oai import OaiRecord
from knowledge_hub.queries import oai as oai_queries
from knowledge_hub.queries import public as public_queries

bp = Blueprint("oai", __name__)
# Harvesters may POST their requests (OAI-PMH 3.1.1.2); they carry no session to forge.
csrf.exempt(bp)

Handler = Callable[[dict[str, str], datetime], tuple[str, dict[str, Any]]]


@bp.route("/oai", methods=["GET", "POST"])
def endpoint():
    """Answer one OAI-PMH request; protocol errors are answered with status 200."""
    now = _now()
    echo: dict[str, str] = {}
    try:
        verb, args = protocol.parse_arguments(
            {name: request.values.getlist(name) for name in request.values.keys()}
        )
        echo = protocol.echo({"verb": verb, **args})
        template, context = HANDLERS[verb](args, now)
    except OaiError as e:
        if not e.echoes_request:
            echo = {}
        template, context = "oai/error.xml", {"code": e.code, "message": translate(e.message)}
    body = render_template(
        template,
        echo=echo,
        base_url=url_for("oai.endpoint", _external=True),
        response_date=protocol.format_datestamp(now),
        **context,
    )
    response = make_response(body)
    response.mimetype = "text/xml"
    return response


def _now() -> datetime:
    """The moment of this response, read from time.time(): the clock the resumption tokens
    have always been dated by (and that a test moves to age one)."""
    return datetime.fromtimestamp(time.time(), UTC)


def identify(args: dict[str, str], now: datetime) -> tuple[str, dict[str, Any]]:
    earliest = oai_queries.earliest_datestamp() or now
    admin = current_app.config.get("OAI_ADMIN_EMAIL") or protocol.default_admin_email(
        repository_identifier()
    )
    return "oai/identify.xml", {
        "repository_name": _("UNTFSSE Knowledge Hub"),
        "admin_email": admin,
        "earliest_datestamp": protocol.format_datestamp(earliest),
    }


def list_metadata_formats(args: dict[str, str], now: datetime) -> tuple[str, dict[str, Any]]:
    if "identifier" in args:
        _document(args["identifier"])  # every record is available as oai_dc
    return "oai/list_metadata_formats.xml", {"formats": protocol.FORMATS}


def list_sets(args: dict[str, str], now: datetime) -> tuple[str, dict[str, Any]]:
    protocol.check_list_sets(args)
    sets = [replace(s, name=protocol.clean(s.name)) for s in oai_queries.list_sets()]
    return "oai/list_sets.xml", {"sets": sets}


def list_identifiers(args: dict[str, str], now: datetime) -> tuple[str, dict[str, Any]]:
    return "oai/list_identifiers.xml", _list("ListIdentifiers", args, now)


def list_records(args: dict[str, str], now: datetime) -> tuple[str, dict[str, Any]]:
    return "oai/list_records.xml", _list("ListRecords", args, now)


def get_record(args: dict[str, str], now: datetime) -> tuple[str, dict[str, Any]]:
    protocol.check_prefix(args["metadataPrefix"])
    document = _document(args["identifier"])
    return "oai/get_record.xml", {"record": _record(document, now)}


HANDLERS: dict[str, Handler] = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets,
    "ListIdentifiers": list_identifiers,
    "ListRecords": list_records,
    "GetRecord": get_record,
}


def _list(verb: str, args: dict[str, str], now: datetime) -> dict[str, Any]:
    """One page of ListIdentifiers or ListRecords, and the token that continues it."""
    secret_key = current_app.secret_key
    lifetime = timedelta(hours=current_app.config.get("OAI_TOKEN_HOURS", 24))
    wanted = protocol.list_request(verb, args, secret_key=secret_key, lifetime=lifetime, now=now)
    page = oai_queries.harvest(
        set_spec=wanted.query.set_spec,
        start=wanted.start,
        end=wanted.end,
        after_id=wanted.query.after_id,
        limit=current_app.config.get("OAI_PAGE_SIZE", 50),
    )
    resumption = protocol.resumption(
        wanted,
        page.documents,
        total=page.total,
        has_more=page.has_more,
        secret_key=secret_key,
        lifetime=lifetime,
        now=now,
    )
    records = [_record(d, now, with_metadata=verb == "ListRecords") for d in page.documents]
    return {"records": records, "resumption_info": resumption}


def repository_identifier() -> str:
    """The repository's part of every OAI identifier: its host name."""
    configured = current_app.config.get("OAI_REPOSITORY_IDENTIFIER")
    return configured or request.host.split(":")[0]


def _document(identifier: str) -> Document:
    """The harvestable record an identifier names; idDoesNotExist for any other."""
    document = oai_queries.by_ref(protocol.ref_of(identifier, repository_identifier()))
    if document is None:
        raise protocol.no_such_record()
    return document


def _record(document: Document, now: datetime, *, with_metadata: bool = True) -> OaiRecord:
    """A record's header and, for GetRecord and ListRecords, its Dublin Core over the
    versions an anonymous reader may see."""
    dc: list[tuple[str, str, str | None]] = []
    if with_metadata and not protocol.is_deleted(document):
        dc = protocol.dublin_core(
            document,
            public_queries.visible_variants(None, document),
            url_for("documents.landing", document_id=document.id, _external=True),
        )
    return protocol.oai_record(
        document,
        repository=repository_identifier(),
        sets=oai_queries.record_sets(document),
        datestamp=protocol.record_datestamp(document, now),
        dc=dc,
    )
