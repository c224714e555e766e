"""Full-text search over every language version, derived from the database.

The public surface: init_app(), get_index(), apply_pending(), reindex(), search(),
similar_records() (the records whose text is like a given one).
"""

from __future__ import annotations

from flask import Flask
from flask import current_app

from knowledge_hub.extensions import db
from knowledge_hub.search import outbox  # noqa: F401  (registers the outbox listeners)
from knowledge_hub.search.bounds import BadQuery
from knowledge_hub.search.bounds import SearchTooLong
from knowledge_hub.search.expansion import Expansion
from knowledge_hub.search.index import MAX_DEFAULT_PROCESSES
from knowledge_hub.search.index import IndexBusy
from knowledge_hub.search.index import IndexUnreadable
from knowledge_hub.search.index import ProgressCallback
from knowledge_hub.search.index import SearchIndex
from knowledge_hub.search.index import default_processes
from knowledge_hub.search.query import Hit
from knowledge_hub.search.query import SearchRequest
from knowledge_hub.search.query import SearchResult
from knowledge_hub.search.query import search
from knowledge_hub.search.related import similar_records
from knowledge_hub.search.schema import FACET_FIELDS
from knowledge_hub.search.snippets import SNIPPET_SCAN_CHARS
from knowledge_hub.search.snippets import highlight_of
from knowledge_hub.search.snippets import opening
from knowledge_hub.search.snippets import snippet
from knowledge_hub.search.thesaurus import UNBIS_ACKNOWLEDGEMENT
from knowledge_hub.search.thesaurus import thesaurus

__all__ = [
    "UNBIS_ACKNOWLEDGEMENT",
    "Expansion",
    "FACET_FIELDS",
    "MAX_DEFAULT_PROCESSES",
    "SNIPPET_SCAN_CHARS",
    "BadQuery",
    "Expansion",
    "Hit",
    "IndexBusy",
    "IndexUnreadable",
    "SearchIndex",
    "SearchRequest",
    "SearchResult",
    "SearchTooLong",
    "apply_pending",
    "default_processes",
    "get_index",
    "highlight_of",
    "init_app",
    "opening",
    "reindex",
    "search",
    "similar_records",
    "snippet",
]


def init_app(app: Flask) -> None:
    # A thesaurus named but unreadable would fail every search: say so at start instead.
    unbis = app.config.get("THESAURUS_PATH")
    if unbis:
        try:
            thesaurus(unbis)
        except (OSError, ValueError, UnicodeDecodeError) as e:
            raise RuntimeError(f"THESAURUS_PATH cannot be read: {e}") from None
    app.extensions["hub.search"] = SearchIndex(
        app.config["INDEX_DIR"],
        app.config["LANGUAGES"],
        app.config["INDEX_LOCK_TIMEOUT"],
        search_seconds=app.config["SEARCH_SECONDS"],
    )


def get_index() -> SearchIndex:
    return current_app.extensions["hub.search"]


def apply_pending() -> int:
    """Let the index catch up with the committed changes queued in the outbox."""
    return get_index().apply_pending(db.session)


def reindex(processes: int | None = None, progress: ProgressCallback | None = None) -> int:
    """Rebuild the whole index from the database into a new generation and switch to it,
    with `processes` building processes (default: one per CPU, up to a few)."""
    return get_index().reindex(db.session, processes or default_processes(), progress=progress)
