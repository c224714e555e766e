"""What every reader sees: the home page and search."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from knowledge_hub import i18n
from knowledge_hub.models.base import utcnow
from knowledge_hub.queries import public as public_queries
from knowledge_hub.queries import staff as staff_queries
from knowledge_hub.search import BadQuery
from knowledge_hub.search import SearchRequest
from knowledge_hub.web import params
from knowledge_hub.web.forms.advanced_search import AdvancedSearchForm
from knowledge_hub.web.permissions import viewer
from knowledge_hub.web.templating import url_with

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    return render_template(
        "public/home.html", page=public_queries.home_page(viewer(), i18n.reader_languages())
    )


@bp.get("/search")
def search():
    try:
        search_request = params.search_request(request.args)
        results = public_queries.search_records(
            viewer(),
            search_request,
            i18n.current_language(),
            reader_languages=i18n.reader_languages(),
        )
    except BadQuery as e:
        return render_template(
            "public/search.html", results=None, error=str(e), request_=SearchRequest(), labels={}
        ), 400
    if results.go_to is not None:
        # A ref or a document symbol typed alone names one record: go to it.
        return redirect(url_for("documents.landing", document_id=results.go_to))
    if search_request.page > results.pages:
        # "Page 99 of 2" over an empty list would read as a broken search: the page does
        # not exist, and the reader is sent on to the last one that does.
        error = _(
            "Page %(page)s is past the end of this search, whose last page is %(last)s.",
            page=i18n.format_number(search_request.page),
            last=i18n.format_number(results.pages),
        )
        return render_template(
            "public/search.html",
            results=None,
            error=error,
            last_page_url=url_with(page=results.pages if results.pages > 1 else None),
            request_=search_request,
            labels={},
        ), 404
    return render_template(
        "public/search.html",
        results=results,
        error=None,
        request_=search_request,
        labels=public_queries.facet_labels(),
        export_query=export_query(request.args),
    )


def export_query(args: MultiDict[str, str]) -> str:
    """The query string of the search's exports and feed: its words and filters, not
    the page on screen (an export carries the whole result)."""
    pairs = [(key, value) for key, value in args.items(multi=True) if key not in ("page", "lang")]
    return "?" + urlencode(pairs) if pairs else ""


@bp.get("/search/help")
def search_help():
    return render_template(
        "public/search_help.html", doc_types=staff_queries.vocabularies().doc_types
    )


@bp.get("/search/advanced")
def advanced_search():
    """The advanced-search form; sent, it goes on to /search with the query it wrote,
    which the search box then shows for the reader to read and edit."""
    form = AdvancedSearchForm(request.args)
    form.offer(staff_queries.vocabularies(), current_app.config["LANGUAGES"])
    if form.submitted(request.args):
        if form.validate():
            pairs = form.search_parameters(this_year=utcnow().year)
            return redirect(url_for("public.search") + ("?" + urlencode(pairs) if pairs else ""))
        return render_template("public/search_advanced.html", form=form), 400
    return render_template("public/search_advanced.html", form=form)
