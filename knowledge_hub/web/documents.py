"""A record's landing page, its file downloads and its citations."""

from __future__ import annotations

import json
from collections.abc import Iterable

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup

from knowledge_hub import access
from knowledge_hub import citations
from knowledge_hub import i18n
from knowledge_hub.citations import Citable
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import OrganizationRole
from knowledge_hub.models import StoredFile
from knowledge_hub.models import Variant
from knowledge_hub.queries import browse as browse_queries
from knowledge_hub.queries import public as public_queries
from knowledge_hub.queries import review as review_queries
from knowledge_hub.services import previews
from knowledge_hub.services.documents import blob_store
from knowledge_hub.storage import StorageError
from knowledge_hub.web import usage
from knowledge_hub.web.permissions import viewer
from knowledge_hub.web.security import DOWNLOAD_POLICY

bp = Blueprint("documents", __name__, url_prefix="/documents")
#: The permanent links, /r/<REF>: outside /documents/ so that they never depend on an id.
permalinks = Blueprint("permalinks", __name__)


def shown_languages() -> list[str]:
    """The languages a record page shows a version in, best first: the one asked for
    with ?version=xx (a search result's language links), then the interface's."""
    asked = request.args.get("version", "").strip()
    return [asked, i18n.current_language()] if asked else [i18n.current_language()]


@bp.get("/<int:document_id>")
def landing(document_id: int):
    reader = viewer()
    document = public_queries.landing_page(reader, document_id)
    if document is None:
        abort(404, description=_("There is no such record, or it is not public."))
    variants = public_queries.visible_variants(reader, document)
    shown = public_queries.pick_variant(variants, shown_languages())
    usage.count_view(document, shown)
    cited = citable(document, shown)
    store = blob_store()
    drawn = {
        f.id
        for v in variants
        for f in v.files
        if f.media_type == previews.PDF and previews.has_thumbnail(store, f.sha256)
    }
    return render_template(
        "documents/landing.html",
        document=document,
        shown=shown,
        tabs=public_queries.in_tab_order(variants, i18n.current_language()),
        under_way=public_queries.translations_under_way(document, variants),
        permanent_url=url_for("permalinks.record", ref=document.ref, _external=True),
        history=review_queries.document_history(document.id)
        if access.can(reader, "view_history")
        else None,
        related=browse_queries.related_records(reader, document, shown, i18n.reader_languages()),
        with_thumbnail=drawn,
        scholar_meta=scholar_meta(document, shown, variants),
        json_ld=json_ld(document, shown, variants),
        reference=Markup(citations.format_reference(cited)),  # escaped inside, see there
    )


@permalinks.get("/r/<path:ref>")
def record(ref: str):
    """The permanent link of a record: its reference never changes, whatever its id."""
    document_id = public_queries.record_id_by_ref(viewer(), ref)
    if document_id is None:
        abort(404, description=_("There is no such record, or it is not public."))
    return redirect(url_for("documents.landing", document_id=document_id), 302)


def served_file(document_id: int, file_id: int) -> StoredFile:
    """The file if the reader may have it (its record and version visible to them, the
    record not withdrawn), else 404: downloads, views and thumbnails alike."""
    stored = public_queries.downloadable_file(viewer(), document_id, file_id)
    if stored is None:
        abort(404, description=_("There is no such file, or it is not public."))
    return stored


def open_stored(stored: StoredFile):
    try:
        return blob_store().open(stored.sha256)
    except StorageError:
        current_app.logger.error("stored file %s is missing from the blob store", stored.sha256)
        missing = _("The file is missing from storage; the secretariat has been told.")
        abort(410, description=missing)


def cached_as_its_record(response: Response, stored: StoredFile) -> Response:
    """A public file may be kept by caches; any other must not be."""
    if not access.is_public(stored.variant.document, stored.variant):
        # A members-only, internal or unreleased file must not be kept by a shared cache
        # (a proxy would hand it to the next reader) nor written to the reader's disk.
        response.headers["Cache-Control"] = "private, no-store"
    return response


def max_age(stored: StoredFile) -> int | None:
    return 3600 if access.is_public(stored.variant.document, stored.variant) else None


def send_stored(stored: StoredFile, *, inline: bool = False) -> Response:
    """The stored file's bytes, cached as its record allows."""
    response = send_file(
        open_stored(stored),
        mimetype=stored.media_type,
        as_attachment=not inline,
        download_name=stored.original_name,
        etag=stored.sha256,
        conditional=True,
        max_age=max_age(stored),
    )
    return cached_as_its_record(response, stored)


@bp.get("/<int:document_id>/files/<int:file_id>")
def download(document_id: int, file_id: int):
    stored = served_file(document_id, file_id)
    usage.count_download(stored)
    # Uploaded HTML must never run in the hub's origin: it is always an attachment.
    return send_stored(stored)


@bp.get("/<int:document_id>/files/<int:file_id>/view")
def view(document_id: int, file_id: int):
    """A PDF opened in the browser's own viewer; no other type is ever shown inline."""
    stored = served_file(document_id, file_id)
    if stored.media_type != previews.PDF:
        abort(404, description=_("Only PDF files open in the browser; download this one."))
    usage.count_download(stored)
    response = send_stored(stored, inline=True)
    # The viewer is the browser's; the bytes get a unique origin and may fetch nothing.
    response.headers["Content-Security-Policy"] = DOWNLOAD_POLICY
    return response


@bp.get("/<int:document_id>/files/<int:file_id>/thumbnail.png")
def thumbnail(document_id: int, file_id: int):
    """The first page of a PDF, small; 404 where the file has none or is not served."""
    stored = served_file(document_id, file_id)
    path = previews.thumbnail_path(blob_store(), stored.sha256)
    if stored.media_type != previews.PDF or not path.is_file():
        abort(404, description=_("This file has no preview."))
    response = send_file(
        path,
        mimetype="image/png",
        etag=f"{stored.sha256}-thumbnail",
        conditional=True,
        max_age=max_age(stored),
    )
    return cached_as_its_record(response, stored)


#: format -> (media type, file extension, writer of a list of Citable).
CITATION_FORMATS = {
    "bib": ("application/x-bibtex", "bib", citations.to_bibtex),
    "ris": ("application/x-research-info-systems", "ris", citations.to_ris),
    "json": ("application/vnd.citationstyles.csl+json", "json", citations.csl_json_text),
}


@bp.get("/<int:document_id>/cite.<any(bib, ris, json):fmt>")
def cite(document_id: int, fmt: str):
    """The record's citation as BibTeX, RIS or CSL-JSON."""
    reader = viewer()
    document = public_queries.landing_page(reader, document_id)
    if document is None:
        abort(404, description=_("There is no such record, or it is not public."))
    shown = public_queries.pick_variant(
        public_queries.visible_variants(reader, document), shown_languages()
    )
    return citation_response([citable(document, shown)], fmt, document.ref)


def citation_response(items: Iterable[Citable], fmt: str, name: str) -> Response:
    media_type, extension, write = CITATION_FORMATS[fmt]
    response = make_response(write(list(items)))
    response.headers["Content-Type"] = f"{media_type}; charset=utf-8"
    safe_name = "".join(c if c.isalnum() or c in "-_." else "-" for c in name) or "citations"
    response.headers["Content-Disposition"] = f'inline; filename="{safe_name}.{extension}"'
    return response


def _lead_and_others(document: Document) -> tuple[list[str], list[str]]:
    lead = [
        link.organization.name
        for link in document.organization_links
        if link.role == OrganizationRole.LEAD
    ]
    others = [
        link.organization.name
        for link in document.organization_links
        if link.role != OrganizationRole.LEAD
    ]
    return lead, others


def citable(document: Document, variant: Variant | None) -> Citable:
    """What a citation of the record says, in the language version the reader sees."""
    lead, others = _lead_and_others(document)
    return Citable(
        ref=document.ref,
        title=variant.title if variant else document.ref,
        url=url_for("documents.landing", document_id=document.id, _external=True),
        authors=list(document.authors or []),
        date=document.date,
        organizations=lead + others,
        publisher=lead[0] if lead else "UNTFSSE",
        doc_type=document.doc_type.code if document.doc_type else None,
        type_label=document.doc_type.label if document.doc_type else None,
        is_archive=document.kind.value == "archive",
        language=variant.language if variant else document.original_language,
        abstract=variant.summary if variant else None,
        series=document.series,
        keywords=[t.label for t in document.topics],
        identifiers=dict(document.identifiers or {}),
    )


def _pdf_urls(document: Document, variants: list[Variant]) -> list[str]:
    if document.status == DocumentStatus.WITHDRAWN:
        return []  # its files are no longer served
    return [
        url_for("documents.download", document_id=document.id, file_id=f.id, _external=True)
        for v in variants
        for f in v.files
        if f.media_type == "application/pdf"
    ]


def scholar_meta(
    document: Document, shown: Variant | None, variants: list[Variant]
) -> list[tuple[str, str]]:
    """The citation_* meta tags Google Scholar reads, as (name, content) pairs."""
    lead, others = _lead_and_others(document)
    meta = [("citation_title", shown.title if shown else document.ref)]
    meta += [("citation_author", name) for name in document.authors or lead + others]
    if document.date:
        meta.append(("citation_publication_date", document.date.replace("-", "/")))
    if shown is not None:
        meta.append(("citation_language", shown.language))
    meta.append(("citation_publisher", lead[0] if lead else "UNTFSSE"))
    if document.doc_type and document.doc_type.code in citations.REPORT_TYPES:
        meta.append(("citation_technical_report_institution", lead[0] if lead else "UNTFSSE"))
    if document.identifiers and document.identifiers.get("un_symbol"):
        meta.append(("citation_technical_report_number", document.identifiers["un_symbol"]))
    if document.identifiers and document.identifiers.get("doi"):
        meta.append(("citation_doi", document.identifiers["doi"]))
    if document.identifiers and document.identifiers.get("isbn"):
        meta.append(("citation_isbn", document.identifiers["isbn"]))
    shown_first = sorted(variants, key=lambda v: v is not shown)
    meta += [("citation_pdf_url", url) for url in _pdf_urls(document, shown_first)[:1]]
    meta.append(
        (
            "citation_abstract_html_url",
            url_for("documents.landing", document_id=document.id, _external=True),
        )
    )
    return meta


def json_ld(document: Document, shown: Variant | None, variants: list[Variant]) -> Markup:
    """The record as schema.org JSON-LD, safe inside a <script type="application/ld+json">."""
    lead, others = _lead_and_others(document)
    url = url_for("documents.landing", document_id=document.id, _external=True)
    data: dict = {
        "@context": "https://schema.org",
        "@type": "ArchiveComponent" if document.kind.value == "archive" else "Report",
        "@id": url,
        "url": url,
        "identifier": document.ref,
        "name": shown.title if shown else document.ref,
        "inLanguage": [v.language for v in variants],
        "publisher": {"@type": "Organization", "name": lead[0] if lead else "UNTFSSE"},
    }
    if shown is not None and shown.summary:
        data["description"] = shown.summary
    if document.date:
        data["datePublished"] = document.date
    authors = [
        {"@type": "Person" if citations.is_person(name) else "Organization", "name": name}
        for name in document.authors or []
    ]
    if authors:
        data["author"] = authors
    if lead + others:
        data["sourceOrganization"] = [{"@type": "Organization", "name": n} for n in lead + others]
    if document.topics:
        data["keywords"] = [t.label for t in document.topics]
    if document.doc_type is not None:
        data["genre"] = document.doc_type.label
    if document.license:
        data["license"] = document.license
    if document.series:
        data["isPartOf"] = {"@type": "CreativeWorkSeries", "name": document.series}
    if len(variants) > 1:
        data["workTranslation"] = [
            {"@type": "CreativeWork", "name": v.title, "inLanguage": v.language}
            for v in variants
            if v is not shown
        ]
    # The files themselves are listed on the page and in citation_pdf_url, not here.
    text = json.dumps(data, ensure_ascii=False, indent=2)
    # JSON-LD is data, but the HTML parser ends the element at "</": never let one through.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)
