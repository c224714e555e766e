"""The index schema: one entry per language version, with its record's metadata copied in."""

from __future__ import annotations

from collections.abc import Sequence

from whoosh.fields import ID
from whoosh.fields import KEYWORD
from whoosh.fields import NUMERIC
from whoosh.fields import TEXT
from whoosh.fields import Schema

from knowledge_hub.search.analyzers import analyzer_for
from knowledge_hub.search.analyzers import spelling_analyzer

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
    for language in (*languages, "other"):
        analyzer = analyzer_for(language)
        schema.add(title_field(language), TEXT(analyzer=analyzer, field_boost=TITLE_BOOST))
        schema.add(text_field(language), TEXT(analyzer=analyzer))
    return schema
