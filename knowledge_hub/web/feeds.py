"""Discovery: Atom feeds of releases and searches, the sitemap, robots.txt, and citation
exports of a whole search result."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import make_response
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _

from knowledge_hub import csv_export
from knowledge_hub import i18n
from knowledge_hub.models import Document
from knowledge_hub.models.base import utcnow
from knowledge_hub.queries import feeds as feed_queries
from knowledge_hub.queries import public as public_queries
from knowledge_hub.search import BadQuery
from knowledge_hub.web import documents as documents_web
from knowledge_hub.web import params
from knowledge_hub.web.permissions import viewer

bp = Blueprint("feeds", __name__)

ATOM_DATE = "%Y-%m-%dT%H:%M:%SZ"
FEED_SIZE = 50
#: The most records one citation export of a search carries.
CITATION_LIMIT = 1000
#: Paths no crawler needs: the back office and signing in.
PRIVATE_PATHS = ("/staff", "/review", "/admin", "/translate", "/translations", "/auth")


@dataclass(frozen=True)
class Entry:
    url: str
    title: str
    language: str
    summary: str
    published: str | None
    updated: str
    authors: list[str]
    categories: list[tuple[str, str]]


@bp.get("/feed.atom")
def releases() -> Response:
    """The latest releases, newest first."""
    documents = public_queries.latest_releases(viewer(), limit=FEED_SIZE)
    return _atom(
        title=_("Knowledge Hub: latest releases"),
        alternate_url=url_for("public.home", _external=True),
        documents=documents,
    )


@bp.get("/search.atom")
def search() -> Response:
    """Any search as a feed, with the parameters of /search."""
    try:
        search_request = params.search_request(request.args)
        # A feed entry carries the record's summary, never a snippet.
        results = public_queries.search_records(
            viewer(), search_request, i18n.current_language(), with_snippets=False
        )
    except BadQuery as e:
        abort(400, description=str(e))
    query = request.query_string.decode("utf-8", "replace")
    return _atom(
        title=_("Knowledge Hub: search for %(q)s", q=search_request.q)
        if search_request.q
        else _("Knowledge Hub: search"),
        alternate_url=url_for("public.search", _external=True) + (f"?{query}" if query else ""),
        documents=[hit.document for hit in results.hits],
    )


@bp.get("/search/cite.<any(bib, ris, json):fmt>")
def search_citations(fmt: str) -> Response:
    """The citations of a whole search result (up to CITATION_LIMIT records)."""
    documents = _search_export()
    language = i18n.current_language()
    items = [
        documents_web.citable(
            d, public_queries.pick_variant(public_queries.visible_variants(viewer(), d), [language])
        )
        for d in documents
    ]
    return documents_web.citation_response(items, fmt, "search")


#: The columns of a search result as CSV, one row per record.
CSV_HEADER = (
    "ref",
    "title",
    "language",
    "languages",
    "type",
    "date",
    "organizations",
    "authors",
    "topics",
    "regions",
    "url",
)


@bp.get("/search.csv")
def search_csv() -> Response:
    """A whole search result (up to CITATION_LIMIT records) as CSV, for a spreadsheet."""
    documents = _search_export()
    reader = viewer()
    language = i18n.current_language()
    rows = []
    for document in documents:
        variants = public_queries.visible_variants(reader, document)
        shown = public_queries.pick_variant(variants, [language])
        rows.append(
            (
                document.ref,
                shown.title if shown else "",
                shown.language if shown else "",
                ";".join(v.language for v in variants),
                document.doc_type.code if document.doc_type else "",
                document.date or "",
                ";".join(o.acronym for o in document.organizations),
                ";".join(document.authors or []),
                ";".join(t.code for t in document.topics),
                ";".join(r.code for r in document.regions),
                url_for("documents.landing", document_id=document.id, _external=True),
            )
        )
    response = make_response(csv_export.csv_text(CSV_HEADER, rows))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="search.csv"'
    return response


def _search_export() -> list[Document]:
    """The records of the search the query string asks for, as the reader may see them,
    up to CITATION_LIMIT (the page and page size asked for are ignored)."""
    limit = current_app.config.get("CITATION_LIMIT", CITATION_LIMIT)
    try:
        search_request = params.search_request(request.args)
        return feed_queries.search_documents(
            viewer(), dataclasses.replace(search_request, page=1, per_page=limit)
        )
    except BadQuery as e:
        abort(400, description=str(e))


def _atom(*, title: str, alternate_url: str, documents: list[Document]) -> Response:
    entries = [_entry(d) for d in documents]
    self_url = request.url
    body = render_template(
        "feeds/atom.xml",
        feed_id=self_url,
        self_url=self_url,
        alternate_url=alternate_url,
        title=title,
        updated=max((e.updated for e in entries), default=utcnow().strftime(ATOM_DATE)),
        entries=entries,
    )
    response = make_response(body)
    response.mimetype = "application/atom+xml"
    return response


def _entry(document: Document) -> Entry:
    reader = viewer()
    variants = public_queries.visible_variants(reader, document)
    shown = public_queries.pick_variant(variants, [i18n.current_language()])
    changed = document.updated_at or document.released_at or utcnow()
    categories = [("kind:" + document.kind.value, document.kind.value)]
    if document.doc_type is not None:
        categories.append((f"type:{document.doc_type.code}", document.doc_type.label))
    categories += [(f"topic:{t.code}", t.label) for t in document.topics]
    return Entry(
        url=url_for("documents.landing", document_id=document.id, _external=True),
        title=shown.title if shown else document.ref,
        language=shown.language if shown else document.original_language,
        summary=(shown.summary or "") if shown else "",
        published=document.released_at.strftime(ATOM_DATE) if document.released_at else None,
        updated=changed.strftime(ATOM_DATE),
        authors=list(document.authors or []) or [o.name for o in document.organizations],
        categories=categories,
    )


def _w3c(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00") if moment else None


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """The landing pages of the visible records, or an index of sitemaps when they are many."""
    per_page = current_app.config.get("SITEMAP_PAGE_SIZE", 50_000)
    total = feed_queries.count_pages(viewer())
    if total <= per_page:
        return _sitemap_page(1, per_page)
    pages = -(-total // per_page)
    sitemaps = [
        (
            url_for("feeds.sitemap_page", page=page, _external=True),
            _w3c(feed_queries.last_change(viewer(), page=page, per_page=per_page)),
        )
        for page in range(1, pages + 1)
    ]
    return _xml(render_template("feeds/sitemap_index.xml", sitemaps=sitemaps))


@bp.get("/sitemap-<int:page>.xml")
def sitemap_page(page: int) -> Response:
    """One page of the sitemap index."""
    per_page = current_app.config.get("SITEMAP_PAGE_SIZE", 50_000)
    if page < 1 or (page > 1 and (page - 1) * per_page >= feed_queries.count_pages(viewer())):
        abort(404, description=_("There is no such sitemap page."))
    return _sitemap_page(page, per_page)


def _sitemap_page(page: int, per_page: int) -> Response:
    urls = [
        (url_for("documents.landing", document_id=document_id, _external=True), _w3c(changed))
        for document_id, changed in feed_queries.landing_pages(
            viewer(), page=page, per_page=per_page
        )
    ]
    return _xml(render_template("feeds/sitemap.xml", urls=urls))


def _xml(body: str) -> Response:
    response = make_response(body)
    response.mimetype = "application/xml"
    return response


@bp.get("/robots.txt")
def robots() -> Response:
    """Let crawlers read the catalogue, keep them out of the back office, point to the sitemap."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in PRIVATE_PATHS), "Allow: /", ""]
    lines.append(f"Sitemap: {url_for('feeds.sitemap', _external=True)}")
    response = make_response("\n".join(lines) + "\n")
    response.mimetype = "text/plain"
    return response
