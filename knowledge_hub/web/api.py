"""The JSON API: search, record reads and, with a token, the staff and translator writes;
described at /api/openapi.json.

Every operation answers under /api/ (the design's contract) and under /api/v1/ (the same
views, registered twice); every response says `API-Version: 1`. Reads carry CORS headers
for any origin and record reads an ETag; writes never carry CORS headers.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint
from flask import abort
from flask import jsonify
from flask import request
from flask import url_for

from knowledge_hub import i18n
from knowledge_hub.criteria import GateResult
from knowledge_hub.models import Document
from knowledge_hub.models import Meeting
from knowledge_hub.models import Variant
from knowledge_hub.queries import public as public_queries
from knowledge_hub.queries import staff as staff_queries
from knowledge_hub.queries import statistics as statistics_queries
from knowledge_hub.search import BadQuery
from knowledge_hub.services import Invalid
from knowledge_hub.services import NotAllowed
from knowledge_hub.services import NotFound
from knowledge_hub.services import ReleaseRefused
from knowledge_hub.services import ServiceError
from knowledge_hub.services import documents as document_service
from knowledge_hub.services import review
from knowledge_hub.services import translations as translation_service
from knowledge_hub.web import params
from knowledge_hub.web.permissions import requires
from knowledge_hub.web.permissions import viewer

bp = Blueprint("api", __name__, url_prefix="/api")

#: The path prefix and blueprint name of version 1; the same views, registered again.
V1_PREFIX = "/api/v1"
V1_NAME = "api_v1"
API_VERSION = "1"

OPENAPI = Path(__file__).with_name("openapi.json")


def error(status: int, code: str, message: str, **extra: Any):
    return jsonify(error=code, message=message, **extra), status


def invalid(message: str, problems: dict[str, str], status: int = 400, **extra: Any):
    return error(status, "invalid", message, problems=problems, **extra)


def endpoint(name: str) -> str:
    """The endpoint `name` in the version the request came in by (/api/ or /api/v1/)."""
    return f"{request.blueprint or bp.name}.{name}"


def register(app) -> None:
    """Register the API under /api/ and again under /api/v1/."""
    app.register_blueprint(bp)
    app.register_blueprint(bp, url_prefix=V1_PREFIX, name=V1_NAME)


@bp.get("/search")
def search():
    try:
        search_request = params.search_request(request.args)
        language = request.args.get("lang") or i18n.current_language()
        results = public_queries.search_records(
            viewer(), search_request, language, reader_languages=i18n.reader_languages(language)
        )
    except BadQuery as e:
        return error(400, "bad_request", str(e))
    response = jsonify(
        query=search_request.q,
        total=results.total,
        page=search_request.page,
        per_page=search_request.per_page,
        results=[
            {
                "ref": hit.document.ref,
                "id": hit.document.id,
                "url": url_for("documents.landing", document_id=hit.document.id, _external=True),
                "title": hit.variant.title,
                "summary": hit.variant.summary or "",
                "snippet": hit.snippet,
                "language": hit.variant.language,
                "matched_language": hit.matched.language,
                "languages": hit.languages,
                "kind": hit.document.kind.value,
                "type": hit.document.doc_type.code if hit.document.doc_type else None,
                "date": hit.document.date,
                "organizations": [o.acronym for o in hit.document.organizations],
                "score": hit.score,
            }
            for hit in results.hits
        ],
        facets={
            facet: [{"value": value, "count": count} for value, count in values]
            for facet, values in results.facets.items()
        },
        suggestion=results.suggestion,
        go_to=results.go_to,
        also_searched=[
            {
                "typed": also.typed,
                "labels": [{"language": lang, "label": label} for lang, label in also.labels],
                "unbis": also.unbis,
            }
            for also in results.also_searched
        ],
    )
    link = page_links(search_request.page, search_request.per_page, results.total)
    if link:
        response.headers["Link"] = link
    return response


def page_links(page: int, per_page: int, total: int) -> str:
    """RFC 8288 links to the first, previous, next and last pages, as absolute URLs that
    keep every other query parameter."""
    last = max(1, math.ceil(total / per_page)) if per_page else 1

    def url(number: int) -> str:
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
        args.append(("page", str(number)))
        return f"{request.base_url}?{urlencode(args)}"

    links = [(url(1), "first")]
    if page > 1:
        links.append((url(min(page - 1, last)), "prev"))
    if page < last:
        links.append((url(page + 1), "next"))
    links.append((url(last), "last"))
    return ", ".join(f'<{target}>; rel="{rel}"' for target, rel in links)


@bp.get("/documents/<int:document_id>")
def document(document_id: int):
    found = public_queries.landing_page(viewer(), document_id)
    if found is None:
        abort(404, description=f"There is no record {document_id}, or it is not public.")
    return conditional(jsonify(document_json(found)))


@bp.get("/documents/ref/<path:ref>")
def document_by_ref(ref: str):
    found = public_queries.document_by_ref(viewer(), ref)
    if found is None:
        abort(404, description=f"There is no record {ref!r}, or it is not public.")
    return conditional(jsonify(document_json(found)))


def conditional(response):
    """Give a record read a strong ETag (a hash of its body); 304 when the client has it.

    The body depends on who asks (what they may see), hence Vary."""
    etag = hashlib.sha256(response.get_data()).hexdigest()[:32]
    response.set_etag(etag)
    response.vary.update(("Authorization", "Cookie"))
    if request.if_none_match and request.if_none_match.contains_weak(etag):
        response.status_code = 304
        response.set_data(b"")
        response.headers.pop("Content-Length", None)
        response.headers.pop("Content-Type", None)
    return response


@bp.get("/documents/<int:document_id>/checklist")
@requires("view_checklist")
def checklist(document_id: int):
    found = public_queries.landing_page(viewer(), document_id)
    if found is None:
        abort(404, description=f"There is no record {document_id}.")
    return jsonify(gate_json(review.checklist(viewer(), found)))


@bp.post("/documents/<int:document_id>/release")
@requires("release")
def release(document_id: int):
    """Release a record; 409 with the missing criteria when the gate refuses."""
    found = public_queries.landing_page(viewer(), document_id)
    if found is None:
        abort(404, description=f"There is no record {document_id}.")
    try:
        review.release(viewer(), found)
    except ReleaseRefused as e:
        return jsonify(error="release_refused", message=str(e), missing=e.missing), 409
    except ServiceError as e:
        return error(409, "refused", str(e))
    return jsonify(document_json(found))


# --- writes, with a token (or a session) -------------------------------------------

#: The JSON fields of a record, and what each must be.
TEXT_FIELDS = ("ref", "kind", "type", "date", "access", "language", "title", "summary", "series")
LIST_FIELDS = ("organizations", "authors", "topics", "regions")


def _json_body() -> tuple[dict[str, Any] | None, Any]:
    """The request's JSON object with its fields type-checked, or an error response."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return None, error(
            400, "bad_request", "Send a JSON object (Content-Type: application/json)."
        )
    problems: dict[str, str] = {}
    for name, value in body.items():
        if name in TEXT_FIELDS:
            if not isinstance(value, str):
                problems[name] = f"{name} must be a string."
        elif name in LIST_FIELDS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems[name] = f"{name} must be a list of strings."
        else:
            problems[name] = f"{name} is not a field of a record, or cannot be changed."
    if problems:
        return None, invalid(" ".join(problems.values()), problems)
    return body, None


def _fields(body: dict[str, Any], current: Document | None = None) -> document_service.RecordFields:
    """RecordFields from the JSON body; fields left out keep the record's values."""

    def get(name: str, now: Any) -> Any:
        return body[name] if name in body else now

    return document_service.RecordFields(
        ref=get("ref", current.ref if current else ""),
        kind=get("kind", current.kind.value if current else ""),
        doc_type=get("type", current.doc_type.code if current and current.doc_type else ""),
        date=get("date", (current.date or "") if current else ""),
        organizations=get(
            "organizations", [o.acronym for o in current.organizations] if current else []
        ),
        authors=get("authors", list(current.authors or []) if current else []),
        topics=get("topics", [t.code for t in current.topics] if current else []),
        regions=get("regions", [r.code for r in current.regions] if current else []),
        access=get("access", current.access.value if current else "public"),
        series=get("series", (current.series or "") if current else ""),
    )


def _service_error(e: ServiceError | NotAllowed):
    if isinstance(e, Invalid):
        return invalid(str(e), e.problems)
    if isinstance(e, NotFound):
        return error(404, "not_found", str(e))
    if isinstance(e, NotAllowed):
        return error(403, "forbidden", str(e))
    return error(409, "refused", str(e))


def _record_for_staff(document_id: int) -> Document:
    found = staff_queries.record(viewer(), document_id)
    if found is None:
        abort(404, description=f"There is no record {document_id}.")
    return found


@bp.post("/documents")
@requires("create")
def create_document():
    """Create a draft record with its original version: 201 with the record."""
    body, refusal = _json_body()
    if refusal is not None:
        return refusal
    fields = _fields(body)
    try:
        created = document_service.create_record(
            viewer(),
            fields,
            body.get("language", ""),
            body.get("title", ""),
            body.get("summary", ""),
        )
    except Invalid as e:
        if set(e.problems) == {"ref"} and document_service.find_by_ref(fields.ref.strip()):
            return invalid(str(e), e.problems, status=409)
        return _service_error(e)
    except ServiceError as e:
        return _service_error(e)
    response = jsonify(document_json(created))
    response.status_code = 201
    response.headers["Location"] = url_for(
        endpoint("document"), document_id=created.id, _external=True
    )
    return response


@bp.patch("/documents/<int:document_id>")
@requires("edit")
def update_document(document_id: int):
    """Change a record's metadata (and its original version's title and summary)."""
    body, refusal = _json_body()
    if refusal is not None:
        return refusal
    found = _record_for_staff(document_id)
    original = found.original
    try:
        document_service.update_record(
            viewer(),
            found,
            _fields(body, found),
            body.get("language", found.original_language),
            body.get("title", original.title if original else ""),
            body.get("summary", (original.summary or "") if original else ""),
        )
    except ServiceError as e:
        return _service_error(e)
    return jsonify(document_json(found))


def outcome_json(document: Document, outcome: document_service.UploadOutcome) -> dict:
    return {
        "name": outcome.name,
        "stored": outcome.stored,
        "error": outcome.error or None,
        "id": outcome.file_id,
        "media_type": outcome.media_type or None,
        "size": outcome.size,
        "pages": outcome.page_count,
        "text_length": outcome.text_length,
        "extraction_error": outcome.extraction_error,
        "same_as": outcome.same_as,
        "url": (
            url_for(
                "documents.download",
                document_id=document.id,
                file_id=outcome.file_id,
                _external=True,
            )
            if outcome.file_id
            else None
        ),
    }


def _uploads() -> list[document_service.Upload]:
    return [
        (f.filename or "", f.stream) for f in request.files.getlist("files") if f and f.filename
    ]


@bp.post("/documents/<int:document_id>/versions/<lang>/files")
@requires("upload")
def upload_files(document_id: int, lang: str):
    """Upload files (multipart, field `files`) to a language version: 201 with each outcome."""
    found = _record_for_staff(document_id)
    variant = found.variant_in(lang)
    if variant is None:
        abort(404, description=f"{found.ref} has no version in {lang}.")
    uploads = _uploads()
    if not uploads:
        message = "Send at least one file in the multipart field `files`."
        return invalid(message, {"files": message})
    try:
        outcomes = document_service.upload_files(viewer(), variant, uploads)
    except ServiceError as e:
        return _service_error(e)
    files = [outcome_json(found, o) for o in outcomes]
    if not any(o.stored for o in outcomes):
        message = " ".join(f"{o.name}: {o.error}" for o in outcomes)
        return invalid(message, {"files": message}, files=files)
    return jsonify(files=files), 201


@bp.post("/translations/<int:request_id>")
@requires("submit_translation")
def submit_translation(request_id: int):
    """A translator delivers a claimed request (multipart title, summary, files): 201."""
    try:
        translation_request = translation_service.get_request(request_id)
    except NotFound as e:
        return _service_error(e)
    try:
        variant = translation_service.submit(
            viewer(),
            translation_request,
            request.form.get("title", ""),
            request.form.get("summary", ""),
            _uploads(),
        )
    except (ServiceError, NotAllowed) as e:
        return _service_error(e)
    document = translation_request.document
    return jsonify(
        request_id=translation_request.id,
        status=translation_request.status.value,
        document_id=document.id,
        version=variant_json(document, variant),
    ), 201


# --- the description, versions and CORS ------------------------------------------


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI description, with each /api/ operation also listed under /api/v1/."""
    spec = json.loads(OPENAPI.read_text(encoding="utf-8"))
    versioned = {}
    for path, item in spec["paths"].items():
        copied = copy.deepcopy(item)
        for operation in copied.values():
            if isinstance(operation, dict) and "operationId" in operation:
                operation["operationId"] += "V1"
        versioned[V1_PREFIX + path.removeprefix("/api")] = copied
    spec["paths"].update(versioned)
    return jsonify(spec)


#: What a preflight for a read may ask to send.
CORS_HEADERS = "Authorization, Accept, Accept-Language, If-None-Match"
#: What a script on another origin may read from a response.
CORS_EXPOSED = "API-Version, ETag, Link, Content-Length"


def _read_methods() -> set[str] | None:
    """The methods of the API route this request matched, if it can be read (GET)."""
    rule = request.url_rule
    if rule is None or not request.blueprint or request.blueprint not in (bp.name, V1_NAME):
        return None
    return set(rule.methods or ()) if "GET" in (rule.methods or ()) else None


@bp.after_app_request
def _api_headers(response):
    if not (request.path.startswith("/api/") or request.path == "/api"):
        return response
    response.headers["API-Version"] = API_VERSION
    if _read_methods() is None or request.method not in ("GET", "HEAD", "OPTIONS"):
        return response
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


def document_json(document: Document) -> dict:
    reader = viewer()
    return {
        "id": document.id,
        "ref": document.ref,
        "url": url_for("documents.landing", document_id=document.id, _external=True),
        "kind": document.kind.value,
        "type": document.doc_type.code if document.doc_type else None,
        "date": document.date,
        "status": document.status.value,
        "access": document.access.value,
        "original_language": document.original_language,
        "authors": document.authors,
        "organizations": [
            {
                "acronym": link.organization.acronym,
                "name": link.organization.name,
                "role": link.role.value,
            }
            for link in document.organization_links
        ],
        "topics": [t.code for t in document.topics],
        "regions": [r.code for r in document.regions],
        "series": document.series,
        "identifiers": document.identifiers,
        "meeting": meeting_json(document.meeting) if document.meeting else None,
        "released_at": document.released_at.isoformat() + "Z" if document.released_at else None,
        "is_sample": document.is_sample,
        "languages": [
            variant_json(document, v) for v in public_queries.visible_variants(reader, document)
        ],
        "statistics": asdict(
            statistics_queries.totals(reader, document.id) or statistics_queries.UsageTotals()
        ),
    }


def meeting_json(meeting: Meeting) -> dict:
    return {
        "number": meeting.number,
        "date": meeting.held_on.isoformat(),
        "url": url_for("meetings.meeting", number=meeting.number, _external=True),
    }


def variant_json(document: Document, variant: Variant) -> dict:
    return {
        "language": variant.language,
        "title": variant.title,
        "summary": variant.summary or "",
        "is_original": variant.is_original,
        "status": variant.status.value,
        "files": [
            {
                "id": f.id,
                "name": f.original_name,
                "media_type": f.media_type,
                "size": f.size,
                "sha256": f.sha256,
                "pages": f.page_count,
                "url": url_for(
                    "documents.download", document_id=document.id, file_id=f.id, _external=True
                ),
            }
            for f in variant.files
        ],
    }


def gate_json(result: GateResult) -> dict:
    return {
        "passed": result.passed,
        "missing": list(result.missing),
        "criteria": [
            {
                "code": item.spec.code,
                "label": item.spec.label,
                "kind": item.spec.kind,
                "required": item.spec.is_required,
                "satisfied": item.satisfied,
                "detail": item.automatic.detail if item.automatic else None,
                "latest": (
                    {
                        "outcome": item.latest.outcome,
                        "by": item.latest.by,
                        "at": item.latest.at.isoformat() + "Z",
                        "comment": item.latest.comment,
                    }
                    if item.latest
                    else None
                ),
            }
            for item in result.items
        ],
    }
