"""Records whose text is like a given one: Whoosh's "more like this", kept inside the
search package (the rest of the hub gets record ids and scores, never a Whoosh object).

The key terms are drawn from the text given (a version's title, summary and the start
of its text), in that version's language, and looked for in that language's text
field, with the viewer's visibility as a filter inside the search; the work is bounded
by the number of key terms and of entries read."""

from __future__ import annotations

from whoosh.query import Or
from whoosh.query import Term

from knowledge_hub.access import Visibility
from knowledge_hub.search.index import SearchIndex
from knowledge_hub.search.query import restriction
from knowledge_hub.search.schema import text_field

#: Key terms drawn from the text: enough to say what it is about, few enough to stay fast.
KEY_TERMS = 12
#: Entries read at most (several versions of one record count once each).
ENTRIES_READ = 40


def similar_records(
    index: SearchIndex,
    seen: Visibility,
    document_id: int,
    language: str,
    text: str,
    limit: int = 10,
) -> list[tuple[int, float]]:
    """Up to `limit` (record id, score) pairs of the records most like `text`, best
    first, among those the viewer may see; never the record `document_id` itself."""
    field = text_field(language if language in index.languages else "other")
    if not text.strip():
        return []
    with index.searching() as (searcher, __):
        if field not in searcher.schema:
            return []
        terms = searcher.key_terms_from_text(field, text, numterms=KEY_TERMS)
        if not terms:
            return []
        query = Or([Term(field, word, boost=weight) for word, weight in terms])
        hits = searcher.search(query, filter=restriction(seen, {}), limit=ENTRIES_READ)
        best: dict[int, float] = {}
        for hit in hits:
            found = int(hit["document_id"])
            if found != document_id and found not in best:
                best[found] = float(hit.score)
    return sorted(best.items(), key=lambda pair: -pair[1])[:limit]
