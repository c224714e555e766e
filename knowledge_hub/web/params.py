"""Reading search parameters from a query string, shared by the pages and the API."""

from __future__ import annotations

from flask import current_app
from werkzeug.datastructures import MultiDict

from knowledge_hub.search import BadQuery
from knowledge_hub.search import SearchRequest
from knowledge_hub.search.schema import FACET_FIELDS


def _positive_int(args: MultiDict, name: str, default: int) -> int:
    raw = args.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadQuery(f"{name} must be a whole number, not {raw!r}.") from None
    if value < 1:
        raise BadQuery(f"{name} must be 1 or more.")
    return value


def search_request(args: MultiDict) -> SearchRequest:
    """Turn query parameters into a SearchRequest, or raise BadQuery saying what is wrong."""
    config = current_app.config
    per_page = _positive_int(args, "per_page", config["SEARCH_PER_PAGE"])
    if per_page > config["SEARCH_MAX_PER_PAGE"]:
        raise BadQuery(f"per_page can be at most {config['SEARCH_MAX_PER_PAGE']}.")
    filters = {facet: args.getlist(facet) for facet in FACET_FIELDS if args.getlist(facet)}
    return SearchRequest(
        q=args.get("q", ""),
        page=_positive_int(args, "page", 1),
        per_page=per_page,
        sort=args.get("sort", "") or "relevance",
        filters=filters,
    )
