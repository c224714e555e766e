"""The JSON API: search and record reads, described at /api/openapi.json."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint
from flask import abort
from flask import jsonify
from flask import request
from flask import url_for

from knowledge_hub import i18n
from knowledge_hub import queries
from knowledge_hub.models import Document
from knowledge_hub.models import Variant
from knowledge_hub.criteria import GateResult
from knowledge_hub.search import BadQuery
from knowledge_hub.services import ReleaseRefused
from knowledge_hub.services import ServiceError
from knowledge_hub.services import review
from knowledge_hub.web import params
from knowledge_hub.web import requires
from knowledge_hub.web import viewer

bp = Blueprint("api", __name__, url_prefix="/api")

OPENAPI = Path(__file__).with_name("openapi.json")


def error(status: int, code: str, message: str):
    return jsonify(error=code, message=message), status


@bp.get("/search")
def search():
    try:
        search_request = params.search_request(request.args)
        language = request.args.get("lang") or i18n.current_language()
        results = queries.search_records(viewer(), search_request, language)
    except BadQuery as e:
        return error(400, "bad_request", str(e))
    return jsonify(
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
    )


@bp.get("/documents/<int:document_id>")
def document(document_id: int):
    found = queries.landing_page(viewer(), document_id)
    if found is None:
        abort(404, description=f"There is no record {document_id}, or it is not public.")
    return jsonify(document_json(found))


@bp.get("/documents/ref/<path:ref>")
def document_by_ref(ref: str):
    found = queries.document_by_ref(viewer(), ref)
    if found is None:
        abort(404, description=f"There is no record {ref!r}, or it is not public.")
    return jsonify(document_json(found))


@bp.get("/documents/<int:document_id>/checklist")
@requires("view_checklist")
def checklist(document_id: int):
    found = queries.landing_page(viewer(), document_id)
    if found is None:
        abort(404, description=f"There is no record {document_id}.")
    return jsonify(gate_json(review.checklist(viewer(), found)))


@bp.post("/documents/<int:document_id>/release")
@requires("release")
def release(document_id: int):
    """Release a record; 409 with the missing criteria when the gate refuses."""
    found = queries.landing_page(viewer(), document_id)
    if found is None:
        abort(404, description=f"There is no record {document_id}.")
    try:
        review.release(viewer(), found)
    except ReleaseRefused as e:
        return jsonify(error="release_refused", message=str(e), missing=e.missing), 409
    except ServiceError as e:
        return error(409, "refused", str(e))
    return jsonify(document_json(found))


@bp.get("/openapi.json")
def openapi():
    return jsonify(json.loads(OPENAPI.read_text(encoding="utf-8")))


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
            {"acronym": link.organization.acronym, "name": link.organization.name, "role": link.role.value}
            for link in document.organization_links
        ],
        "topics": [t.code for t in document.topics],
        "regions": [r.code for r in document.regions],
        "series": document.series,
        "identifiers": document.identifiers,
        "released_at": document.released_at.isoformat() + "Z" if document.released_at else None,
        "is_sample": document.is_sample,
        "languages": [variant_json(document, v) for v in queries.visible_variants(reader, document)],
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
