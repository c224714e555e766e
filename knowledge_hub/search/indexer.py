"""Turning language versions into index entries (the outbox that queues them is
outbox.py)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from typing import Any

from knowledge_hub import access
from knowledge_hub.i18n import region_name
from knowledge_hub.i18n.organization_names import names_of
from knowledge_hub.i18n.vocabularies import topic_names
from knowledge_hub.models import Document
from knowledge_hub.models import Variant
from knowledge_hub.search.schema import AUTHOR_FIELD
from knowledge_hub.search.schema import META_FIELD
from knowledge_hub.search.schema import ORG_FIELD
from knowledge_hub.search.schema import REF_FIELD
from knowledge_hub.search.schema import SCHEMA_VERSION
from knowledge_hub.search.schema import SYMBOL_FIELD
from knowledge_hub.search.schema import text_field
from knowledge_hub.search.schema import title_field

log = logging.getLogger(__name__)

OTHER_LANGUAGE = "other"

#: The languages organization and region names are written into the index in.
NAME_LANGUAGES = ("ar", "en", "es", "fr", "ru", "zh")


def index_language(language: str, languages: Iterable[str]) -> str:
    """The language whose fields hold a version: its base language, or "other"."""
    base = language.split("-")[0].lower()
    return base if base in languages else OTHER_LANGUAGE


def date_key(date: str | None) -> int:
    """Turn a partial date into a sortable number: "2023-09" -> 20230900."""
    if not date:
        return 0
    parts = (date.split("-") + ["0", "0"])[:3]
    year, month, day = (int(p) for p in parts)
    return year * 10000 + month * 100 + day


def document_symbols(document: Document) -> list[str]:
    """The UN document symbols of a record ("A/RES/77/281")."""
    symbol = (document.identifiers or {}).get("un_symbol")
    return [symbol.strip()] if symbol and symbol.strip() else []


def organization_text(document: Document) -> str:
    """The record's organizations by acronym and name, in every language known."""
    names: list[str] = []
    for organization in document.organizations:
        for name in (organization.acronym, organization.name, *names_of(organization.acronym)):
            if name and name not in names:
                names.append(name)
    return "\n".join(names)


def metadata_text(document: Document) -> str:
    """What the `meta` field holds: the words a reader may name a record by besides its
    title and text. Type labels stay out: "report" or "guide" in a question is about
    the subject, and would lift every record of that type."""
    regions = [
        region_name(r.code, language) for r in document.regions for language in NAME_LANGUAGES
    ]
    parts = [
        *(document.authors or []),
        organization_text(document),
        *(name for t in document.topics for name in topic_names(t.code, t.label, NAME_LANGUAGES)),
        *dict.fromkeys(regions),
        document.ref,
        *document_symbols(document),
    ]
    return "\n".join(part for part in parts if part)


def index_fields(variant: Variant, languages: Iterable[str]) -> dict[str, Any]:
    """Return the index entry of a language version, with its record's metadata."""
    document = variant.document
    language = index_language(variant.language, languages)
    text = "\n\n".join(part for part in (variant.summary, variant.text) if part)
    fields: dict[str, Any] = {
        "variant_id": str(variant.id),
        "document_id": document.id,
        "language": variant.language,
        "kind": document.kind.value,
        "status": document.status.value,
        "access": document.access.value,
        "variant_status": variant.status.value,
        "sort_date": date_key(document.date),
        title_field(language): variant.title,
        text_field(language): text,
    }
    optional = {
        "doc_type": document.doc_type.code if document.doc_type else "",
        "year": str(document.year) if document.year else "",
        "organization": ",".join(o.acronym for o in document.organizations),
        "topic": ",".join(t.code for t in document.topics),
        "region": ",".join(r.code for r in document.regions),
        META_FIELD: metadata_text(document),
        AUTHOR_FIELD: "\n".join(document.authors or []),
        ORG_FIELD: organization_text(document),
        REF_FIELD: (document.ref or "").lower(),
        SYMBOL_FIELD: ",".join(s.lower() for s in document_symbols(document)),
    }
    fields.update({k: v for k, v in optional.items() if v})
    if access.is_public(document, variant):
        fields["spelling"] = f"{variant.title}\n{text}"
    fields["stamp"] = stamp(fields)
    return fields


def stamp(fields: dict[str, Any]) -> str:
    """A fingerprint of an index entry, to find entries that no longer match the database."""
    # The schema's version is part of it: entries written under another are stale.
    content = json.dumps(
        {k: v for k, v in fields.items() if k != "stamp"} | {"schema": SCHEMA_VERSION},
        sort_keys=True,
    )
    return hashlib.sha1(content.encode()).hexdigest()
