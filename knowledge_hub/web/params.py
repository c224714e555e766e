"""Reading search parameters from a query string, shared by the pages and the API."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from knowledge_hub.search import FACET_FIELDS
from knowledge_hub.search import BadQuery
from knowledge_hub.search import SearchRequest


def _positive_int(args: MultiDict, name: str, default: int) -> int:
    raw = args.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadQuery(
            _("%(name)s must be a whole number, not %(value)s.", name=name, value=repr(raw))
        ) from None
    if value < 1:
        raise BadQuery(_("%(name)s must be 1 or more.", name=name))
    return value


def search_request(args: MultiDict) -> SearchRequest:
    """Turn query parameters into a SearchRequest, or raise BadQuery saying what is wrong."""
    config = current_app.config
    per_page = _positive_int(args, "per_page", config["SEARCH_PER_PAGE"])
    if per_page > config["SEARCH_MAX_PER_PAGE"]:
        raise BadQuery(_("per_page can be at most %(limit)s.", limit=config["SEARCH_MAX_PER_PAGE"]))
    filters = {facet: args.getlist(facet) for facet in FACET_FIELDS if args.getlist(facet)}
    return SearchRequest(
        q=args.get("q", ""),
        page=_positive_int(args, "page", 1),
        per_page=per_page,
        sort=args.get("sort", "") or "relevance",
        filters=filters,
        # expand=0: only the words typed, without the concepts' labels in other languages.
        expand=args.get("expand", "") != "0",
    )
