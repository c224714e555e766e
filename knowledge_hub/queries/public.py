"""What readers see: search results, record pages, files and the home page.

Read-only; every query starts from what the viewer may see (`access.visible_to`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

from flask import current_app
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import union_all
from sqlalchemy.orm import joinedload
from sqlalchemy.orm import selectinload

from knowledge_hub import access
from knowledge_hub import search
from knowledge_hub.extensions import db
from knowledge_hub.extraction.thumbnails import thumbnail_beside
from knowledge_hub.language_detection import query_language
from knowledge_hub.models import ACTIVE_REQUEST_STATUSES
from knowledge_hub.models import DocType
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentOrganization
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import StoredFile
from knowledge_hub.models import Topic
from knowledge_hub.models import TranslationRequest
from knowledge_hub.models import User
from knowledge_hub.models import Variant
from knowledge_hub.search import SNIPPET_SCAN_CHARS
from knowledge_hub.search import UNBIS_ACKNOWLEDGEMENT
from knowledge_hub.search import SearchRequest
from knowledge_hub.storage import BlobStore


@dataclass
class RecordHit:
    """A record as a search result: shown in the reader's language where it can be."""

    document: Document
    variant: Variant  # the version shown
    matched: Variant  # the version whose text matched best
    languages: list[str]
    snippet: str
    score: float
    #: The matched version's main file, when it is a PDF with a thumbnail.
    thumbnail_file_id: int | None = None


@dataclass
class RecordResults:
    request: SearchRequest
    total: int
    hits: list[RecordHit]
    facets: dict[str, list[tuple[str, int]]]
    suggestion: str | None
    #: The record whose ref or document symbol was typed alone (search.SearchResult).
    go_to: int | None = None
    #: The concepts named in the query whose labels in other languages were searched too.
    also_searched: list[search.Expansion] = field(default_factory=list)

    @property
    def thesaurus_credit(self) -> str | None:
        """What UNBIS's terms of use ask to be shown with its labels, when they are."""
        return UNBIS_ACKNOWLEDGEMENT if any(a.unbis for a in self.also_searched) else None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.request.per_page))


def document_loader(with_texts: bool = True) -> tuple:
    """A record with everything about it; its files' extracted text only if asked for
    (it can be long, and a landing page shows none of it)."""
    files = selectinload(Document.variants).selectinload(Variant.files)
    if not with_texts:
        files = files.defer(StoredFile.text)
    return (
        files,
        joinedload(Document.doc_type),
        selectinload(Document.topics),
        selectinload(Document.regions),
        selectinload(Document.organization_links).joinedload(DocumentOrganization.organization),
    )


def _result_loader() -> tuple:
    """What a record in a result list shows: its versions' titles and summaries (not
    their files, whose text can be long), its type, date and organizations. The type
    and each link's organization come joined to the rows that name them: two queries
    fewer for every result page."""
    return (
        selectinload(Document.variants),
        joinedload(Document.doc_type),
        selectinload(Document.organization_links).joinedload(DocumentOrganization.organization),
    )


def visible_variants(viewer: User | None, document: Document) -> list[Variant]:
    return [
        v for v in document.variants if access.can_see(viewer, document, v, include_withdrawn=True)
    ]


def pick_variant(variants: list[Variant], preferred: Sequence[str]) -> Variant | None:
    """The version in the first preferred language that has one, else the original."""
    return display_variant(variants, preferred)


def display_variant(
    variants: list[Variant], preferred: Sequence[str], matched: Sequence[Variant] = ()
) -> Variant | None:
    """The version a reader is shown: the one in the first preferred language that has
    one, else the best of those that matched a search, else the original."""
    for language in preferred:
        for variant in variants:
            if variant.language == language or variant.language.split("-")[0] == language:
                return variant
    if matched:
        return matched[0]
    return next((v for v in variants if v.is_original), variants[0] if variants else None)


def in_tab_order(variants: list[Variant], interface_language: str) -> list[Variant]:
    """A record's versions as its page's tabs: the one in the reader's interface language
    first, then the original, then the others by language code."""

    def place(variant: Variant) -> tuple[bool, bool, str]:
        in_interface = variant.language.split("-")[0] == interface_language
        return not in_interface, not variant.is_original, variant.language

    return sorted(variants, key=place)


def translations_under_way(document: Document, present: Sequence[Variant]) -> list[str]:
    """The languages the record is being translated into and has no version in yet that
    the reader sees (asked for, claimed, or delivered and waiting for review)."""
    have = {v.language for v in present}
    languages = db.session.scalars(
        select(TranslationRequest.language)
        .where(
            TranslationRequest.document_id == document.id,
            TranslationRequest.status.in_(ACTIVE_REQUEST_STATUSES),
        )
        .order_by(TranslationRequest.language)
    )
    return [language for language in dict.fromkeys(languages) if language not in have]


def matched_variants(
    variants: list[Variant], hit: search.Hit, languages: Sequence[str]
) -> list[Variant]:
    """The versions of a record that matched, best first; among those that score the
    same, the one in the reader's first language comes first."""
    by_id = {v.id: v for v in variants}
    scores = dict(zip(hit.matched_variant_ids, hit.matched_scores, strict=False))
    ranked = [by_id[i] for i in hit.matched_variant_ids if i in by_id]

    def rank(variant: Variant) -> tuple[float, int]:
        base = variant.language.split("-")[0]
        place = languages.index(base) if base in languages else len(languages)
        return -scores.get(variant.id, 0.0), place

    return sorted(ranked, key=rank)  # stable: the search's order otherwise


def search_records(
    viewer: User | None,
    request: SearchRequest,
    reader_language: str,
    with_snippets: bool = True,
    reader_languages: Sequence[str] = (),
) -> RecordResults:
    """Search as viewer; results come back one per record, each shown in the version
    display_variant picks (in a language filtered on, else the reader_language, else the
    version that matched), with a snippet of that version's text unless they are not
    shown (with_snippets). Between versions that match equally well, the one in the
    query's language comes first, then reader_language's, then reader_languages'."""
    index = search.get_index()
    result = search.search(index, access.visible_levels(viewer), request)
    ids = [hit.document_id for hit in result.hits]
    documents = {
        d.id: d
        for d in db.session.scalars(
            select(Document)
            .where(Document.id.in_(ids), access.visible_to(viewer))
            .options(*_result_loader())
        )
    }
    preferred = list(request.filters.get("language", ()))[:1] + [reader_language]
    # Between versions that match equally well (a record found by its metadata, which
    # every version carries): the query's language first, then the reader's.
    languages = list(
        dict.fromkeys(
            lang for lang in (query_language(request.q), reader_language, *reader_languages) if lang
        )
    )
    chosen = []
    for hit in result.hits:
        document = documents.get(hit.document_id)
        if document is None:  # changed since the index saw it; the outbox will catch up
            continue
        variants = visible_variants(viewer, document)
        matched = matched_variants(variants, hit, languages)
        if not matched:
            continue
        # Browsing (no words) matches no version in particular.
        shown = display_variant(variants, preferred, matched if result.searched_words else ())
        chosen.append((hit, document, variants, matched, shown))
    # Snippets are cut from the shown versions' text, when there are words to match.
    wanted = with_snippets and result.searched_words
    texts = _texts_of([shown.id for *__, shown in chosen]) if wanted else {}
    thumbnails = _thumbnailed_main_files([matched[0].id for __, __, __, matched, __ in chosen])
    hits = []
    for hit, document, variants, matched, shown in chosen:
        # Past the search's deadline the rest of the page goes without snippets.
        cut = ""
        if wanted and not result.deadline.passed():
            text = "\n\n".join(p for p in (shown.summary, texts.get(shown.id)) if p)
            if shown in matched:
                cut = search.snippet(result.highlight, index, shown.language, text)
            # Shown in the reader's language, which did not match, or found by its
            # metadata (`ILO`, `org:ILO`) and not its text: its opening lines.
            if not cut:
                cut = search.opening(shown.language, text)
        hits.append(
            RecordHit(
                document=document,
                variant=shown,
                matched=matched[0],
                languages=[v.language for v in variants],
                snippet=cut,
                score=hit.score,
                thumbnail_file_id=thumbnails.get(matched[0].id),
            )
        )
    return RecordResults(
        request,
        result.total,
        hits,
        result.facets,
        result.suggestion,
        result.go_to,
        result.also_searched,
    )


def _texts_of(variant_ids: list[int]) -> dict[int, str]:
    """The beginning of the text of these versions (Variant.text) in one query, without
    loading their files: the snippets of a result page are cut from the matched
    versions' text, within its first SNIPPET_SCAN_CHARS characters."""
    parts: dict[int, list[str]] = {}
    beginning = func.substr(StoredFile.text, 1, SNIPPET_SCAN_CHARS)
    for variant_id, text in db.session.execute(
        select(StoredFile.variant_id, beginning)
        .where(StoredFile.variant_id.in_(variant_ids), StoredFile.text.is_not(None))
        .order_by(StoredFile.id)
    ):
        if text:
            parts.setdefault(variant_id, []).append(text)
    return {variant_id: "\n\n".join(texts) for variant_id, texts in parts.items()}


def _thumbnailed_main_files(variant_ids: list[int]) -> dict[int, int]:
    """The id of each version's main (first) file, for those where it is a PDF whose
    thumbnail is drawn: one query for the whole result page."""
    if not variant_ids:
        return {}
    first = (
        select(func.min(StoredFile.id))
        .where(StoredFile.variant_id.in_(variant_ids))
        .group_by(StoredFile.variant_id)
    )
    store = BlobStore(current_app.config["UPLOAD_DIR"])
    return {
        variant_id: file_id
        for file_id, variant_id, sha256 in db.session.execute(
            select(StoredFile.id, StoredFile.variant_id, StoredFile.sha256).where(
                StoredFile.id.in_(first), StoredFile.media_type == "application/pdf"
            )
        )
        if thumbnail_beside(store.path(sha256)).is_file()
    }


def landing_page(
    viewer: User | None, document_id: int, with_texts: bool = False
) -> Document | None:
    """The record as viewer may see it (a withdrawn one with its notice), or None."""
    return db.session.scalar(
        select(Document)
        .where(Document.id == document_id, access.visible_to(viewer, include_withdrawn=True))
        .options(*document_loader(with_texts))
    )


def document_by_ref(viewer: User | None, ref: str) -> Document | None:
    return db.session.scalar(
        select(Document)
        .where(Document.ref == ref, access.visible_to(viewer, include_withdrawn=True))
        .options(*document_loader())
    )


def record_id_by_ref(viewer: User | None, ref: str) -> int | None:
    """The id of the record `ref` names, if viewer may see its page (a withdrawn one too)."""
    return db.session.scalar(
        select(Document.id).where(
            Document.ref == ref, access.visible_to(viewer, include_withdrawn=True)
        )
    )


def downloadable_file(viewer: User | None, document_id: int, file_id: int) -> StoredFile | None:
    """A file the viewer may download: its record and version visible to them."""
    stored = db.session.scalar(
        select(StoredFile)
        .join(Variant, StoredFile.variant_id == Variant.id)
        .join(Document, Variant.document_id == Document.id)
        .where(
            StoredFile.id == file_id,
            Document.id == document_id,
            # A withdrawn record's files are served to no one.
            Document.status != DocumentStatus.WITHDRAWN,
            access.visible_to(viewer),
            access.variant_visible_to(viewer),
        )
    )
    return stored


@dataclass
class HomePage:
    latest: list[Document]
    #: The version each of the latest is shown in, by record id.
    shown: dict[int, Variant]
    by_type: list[tuple[DocType, int]]
    by_language: list[tuple[str, int]]
    total: int


def home_page(viewer: User | None, languages: Sequence[str] = ()) -> HomePage:
    """What the home page shows: the latest releases, each in the first of the reader's
    languages it has (else its original), and what the catalogue holds."""
    latest = latest_releases(viewer)
    shown = {d.id: display_variant(visible_variants(viewer, d), languages) for d in latest}
    return HomePage(
        latest=latest,
        shown={document_id: v for document_id, v in shown.items() if v is not None},
        by_type=counts_by_type(viewer),
        by_language=counts_by_language(viewer),
        total=count_records(viewer),
    )


def latest_releases(viewer: User | None, limit: int = 8) -> list[Document]:
    return list(
        db.session.scalars(
            select(Document)
            .where(access.visible_to(viewer), Document.released_at.is_not(None))
            .order_by(Document.released_at.desc(), Document.id.desc())
            .limit(limit)
            .options(*document_loader())
        )
    )


def counts_by_type(viewer: User | None) -> list[tuple[DocType, int]]:
    rows = db.session.execute(
        select(DocType, func.count(Document.id))
        .join(Document, Document.doc_type_id == DocType.id)
        .where(access.visible_to(viewer))
        .group_by(DocType.id)
        .order_by(func.count(Document.id).desc(), DocType.position)
    ).all()
    return [(doc_type, count) for doc_type, count in rows]


def counts_by_language(viewer: User | None) -> list[tuple[str, int]]:
    """Records available in each language (a record in three languages counts three times)."""
    rows = db.session.execute(
        select(Variant.language, func.count(func.distinct(Variant.document_id)))
        .join(Document, Variant.document_id == Document.id)
        .where(access.visible_to(viewer), access.variant_visible_to(viewer))
        .group_by(Variant.language)
    ).all()
    counts = Counter({language: count for language, count in rows})
    return counts.most_common()


def count_records(viewer: User | None) -> int:
    return db.session.scalar(select(func.count(Document.id)).where(access.visible_to(viewer))) or 0


def facet_labels() -> dict[str, dict[str, str]]:
    """Readable names for the facet values that are codes (types and topics)."""
    labels: dict[str, dict[str, str]] = {"type": {}, "topic": {}}
    rows = union_all(
        select(literal("type"), DocType.code, DocType.label),
        select(literal("topic"), Topic.code, Topic.label),
    )
    for facet, code, label in db.session.execute(rows):
        labels[facet][code] = label
    return labels
