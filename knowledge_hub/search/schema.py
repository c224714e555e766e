"""The index schema: one entry per language version, with its record's metadata copied in."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from whoosh.analysis import Analyzer
from whoosh.analysis import CharsetFilter
from whoosh.analysis import LowercaseFilter
from whoosh.analysis import RegexTokenizer
from whoosh.analysis import StopFilter
from whoosh.fields import ID
from whoosh.fields import KEYWORD
from whoosh.fields import NUMERIC
from whoosh.fields import TEXT
from whoosh.fields import Schema
from whoosh.lang import stopwords_for_language
from whoosh.support.charset import accent_map

from knowledge_hub.search.analyzers import ARABIC_STOPWORDS
from knowledge_hub.search.analyzers import WORD
from knowledge_hub.search.analyzers import ArabicNormalizeFilter
from knowledge_hub.search.analyzers import NFKCFilter
from knowledge_hub.search.analyzers import analyzer_for
from knowledge_hub.search.analyzers import spelling_analyzer

#: The version of the fields below and of what the indexer writes into them. An index
#: written under another version lacks fields that searches read (or fills them
#: differently): it is rebuilt (SearchIndex.schema_is_current, `hub init`), and its
#: entries' stamps differ from the database's, so `hub check` reports them stale.
#: 2: the record's metadata (authors, organizations, topics, regions, ref, symbols).
SCHEMA_VERSION = 2

#: Facet name (as in the API) -> index field.
FACET_FIELDS = {
    "kind": "kind",
    "type": "doc_type",
    "year": "year",
    "language": "language",
    "organization": "organization",
    "topic": "topic",
    "region": "region",
}

TITLE_BOOST = 2.0

#: Fields of metadata, written alike in every entry of a record: `meta` is searched with
#: every word (authors, organizations in six languages, topics, regions, ref, symbols),
#: `author` and `org` by `author:` and `org:` only; `ref` and `symbol` hold the record's
#: ref and document symbols, lowercased, for a ref typed alone and `ref:`.
META_FIELD = "meta"
AUTHOR_FIELD = "author"
ORG_FIELD = "org"
REF_FIELD = "ref"
SYMBOL_FIELD = "symbol"

#: Words too common to tell records apart by their metadata ("of the" in "Food and
#: Agriculture Organization of the United Nations"), in the languages with a list,
#: less those that are also acronyms of organizations ("UN", "WHO").
_ACRONYM_WORDS = frozenset({"un", "who"})


@cache
def _metadata_stopwords() -> frozenset[str]:
    words = set(ARABIC_STOPWORDS)
    for language in ("en", "fr", "es", "ru"):
        words |= set(stopwords_for_language(language))
    return frozenset(words - _ACRONYM_WORDS)


@cache
def metadata_analyzer() -> Analyzer:
    """Names and labels in any language: lowercased, accents folded, Arabic letter forms
    folded, no stemming (a name is matched as written). Chinese is not segmented: a name
    written without spaces is one word, matched when typed whole ("国际劳工组织", or the
    short name "劳工组织" that organization_names.py lists too). Its segments would be
    the commonest words of Chinese queries ("社会" in the names of UNRISD and UN DESA),
    and would bring in every record of such an organization."""
    return (
        RegexTokenizer(WORD)
        | NFKCFilter()
        | LowercaseFilter()
        | ArabicNormalizeFilter()
        | StopFilter(stoplist=_metadata_stopwords(), minsize=1)
        | CharsetFilter(accent_map)
    )


def title_field(language: str) -> str:
    return f"title_{language}"


def text_field(language: str) -> str:
    return f"text_{language}"


def build_schema(languages: Sequence[str]) -> Schema:
    """Return the schema for an index holding versions in the given languages."""
    schema = Schema(
        variant_id=ID(stored=True, unique=True),
        stamp=ID(stored=True),
        document_id=NUMERIC(int, bits=64, signed=True, stored=True, sortable=True),
        language=ID(stored=True),
        kind=ID,
        doc_type=ID,
        year=ID,
        organization=KEYWORD(commas=True, scorable=False),
        topic=KEYWORD(commas=True, scorable=False),
        region=KEYWORD(commas=True, scorable=False),
        # Visibility: the record's status and access level and the version's status,
        # filtered inside every search.
        status=ID,
        access=ID,
        variant_status=ID,
        # YYYYMMDD with unknown parts as 00; signed, because an open-ended range on an
        # unsigned numeric field matches everything.
        sort_date=NUMERIC(int, bits=32, signed=True, sortable=True),
        # Words of released public text only: "did you mean" reads the whole field.
        spelling=TEXT(analyzer=spelling_analyzer(), phrase=False),
    )
    schema.add(META_FIELD, TEXT(analyzer=metadata_analyzer()))
    schema.add(AUTHOR_FIELD, TEXT(analyzer=metadata_analyzer()))
    schema.add(ORG_FIELD, TEXT(analyzer=metadata_analyzer()))
    schema.add(REF_FIELD, ID)
    schema.add(SYMBOL_FIELD, KEYWORD(commas=True, scorable=False))
    for language in (*languages, "other"):
        analyzer = analyzer_for(language)
        schema.add(title_field(language), TEXT(analyzer=analyzer, field_boost=TITLE_BOOST))
        schema.add(text_field(language), TEXT(analyzer=analyzer))
    return schema
