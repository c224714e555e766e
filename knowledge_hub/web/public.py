"""What every reader sees: the home page and search."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from flask import request

from knowledge_hub import i18n
from knowledge_hub.queries import public as public_queries
from knowledge_hub.search import BadQuery
from knowledge_hub.search import SearchRequest
from knowledge_hub.web import params
from knowledge_hub.web.permissions import viewer

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    return render_template("public/home.html", page=public_queries.home_page(viewer()))


@bp.get("/search")
def search():
    try:
        search_request = params.search_request(request.args)
        results = public_queries.search_records(viewer(), search_request, i18n.current_language())
    except BadQuery as e:
        return render_template(
            "public/search.html", results=None, error=str(e), request_=SearchRequest(), labels={}
        ), 400
    return render_template(
        "public/search.html",
        results=results,
        error=None,
        request_=search_request,
        labels=public_queries.facet_labels(),
    )
