"""Records whose text is like a given one: Whoosh's "more like this", kept inside the
search package (the rest of the hub gets record ids and scores, never a Whoosh object).

The key terms are drawn from the text given (a version's title, summary and the start
of its text), in that version's language, and looked for in that language's text
field, with the viewer's visibility as a filter inside the search; the work is bounded
by the number of key terms and of entries read, and its outcome kept while the index
does not change (a record page is read far more often than the index changes)."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

from whoosh.query import Or
from whoosh.query import Term
from whoosh.searching import Searcher

from knowledge_hub.access import Visibility
from knowledge_hub.search.index import SearchIndex
from knowledge_hub.search.query import restriction
from knowledge_hub.search.schema import text_field

#: Key terms drawn from the text: enough to say what it is about, few enough to stay fast.
KEY_TERMS = 12
#: Entries read at most (several versions of one record count once each).
ENTRIES_READ = 40
#: Outcomes kept per index, the least recently used dropped first.
KEPT = 2048

_Key = tuple[int, str, int, Visibility, int]


class _Kept:
    """The outcomes of one index's searcher; a new searcher (the index changed) empties it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.searcher: weakref.ref[Searcher] | None = None
        self.outcomes: OrderedDict[_Key, list[tuple[int, float]]] = OrderedDict()

    def get(self, searcher: Searcher, key: _Key) -> list[tuple[int, float]] | None:
        with self.lock:
            if self.searcher is None or self.searcher() is not searcher:
                self.searcher, self.outcomes = weakref.ref(searcher), OrderedDict()
                return None
            found = self.outcomes.get(key)
            if found is not None:
                self.outcomes.move_to_end(key)
            return found

    def put(self, key: _Key, outcome: list[tuple[int, float]]) -> None:
        with self.lock:
            self.outcomes[key] = outcome
            while len(self.outcomes) > KEPT:
                self.outcomes.popitem(last=False)


_kept: weakref.WeakKeyDictionary[SearchIndex, _Kept] = weakref.WeakKeyDictionary()


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
    kept = _kept.setdefault(index, _Kept())
    key = (document_id, field, hash(text), seen, limit)
    with index.searching() as (searcher, __):
        if field not in searcher.schema:
            return []
        outcome = kept.get(searcher, key)
        if outcome is None:
            outcome = _more_like(searcher, field, text, seen, document_id)[:limit]
            kept.put(key, outcome)
    return list(outcome)


def _more_like(
    searcher: Searcher, field: str, text: str, seen: Visibility, document_id: int
) -> list[tuple[int, float]]:
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
    return sorted(best.items(), key=lambda pair: -pair[1])
