"""What every template can call: links that keep the search, the reader's language's
words for codes, how a file's text was extracted, and the signed-in user's permissions."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Flask
from flask import current_app
from flask import g
from flask import request
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from knowledge_hub import access
from knowledge_hub import extraction
from knowledge_hub import i18n
from knowledge_hub.extensions import db
from knowledge_hub.i18n import vocabularies
from knowledge_hub.i18n.messages import translate
from knowledge_hub.queries import review as review_queries
from knowledge_hub.queries import statistics as statistics_queries
from knowledge_hub.web.forms import EmptyForm
from knowledge_hub.web.permissions import viewer


def init_app(app: Flask) -> None:
    app.context_processor(_template_globals)


def url_with(**changes: str | int | None) -> str:
    """This page's address with some query parameters set (or removed, with None)."""
    args = request.args.copy()
    for key, value in changes.items():
        args.pop(key, None)
        if value is not None:
            args[key] = str(value)
    return request.path + ("?" + urlencode(list(args.items(multi=True))) if args else "")


def url_toggle(facet: str, value: str) -> str:
    """This search with a facet value added, or removed if it is already chosen (and
    back to its first page)."""
    # A search page asks for dozens of these; the request's own pairs are read once.
    if "search_pairs" not in g:
        g.search_pairs = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    pairs: list[tuple[str, str]] = g.search_pairs
    if (facet, value) in pairs:
        toggled = [pair for pair in pairs if pair != (facet, value)]
    else:
        # After the facet's other values, where MultiDict.setlist would put it.
        places = [i for i, (k, __) in enumerate(pairs) if k == facet]
        at = places[-1] + 1 if places else len(pairs)
        toggled = [*pairs[:at], (facet, value), *pairs[at:]]
    return request.path + ("?" + urlencode(toggled) if toggled else "")


def facet_value_label(facet: str, value: str, labels: dict[str, dict[str, str]]) -> str:
    """How a facet value reads: a language's or region's name, a kind's, type's or
    topic's label in the reader's language, else the database's label or the value."""
    if facet == "language":
        return i18n.language_name(value)
    if facet == "region":
        return i18n.region_name(value)
    if facet == "kind":
        return vocabularies.kind_label(value)
    if facet == "type":
        return vocabularies.type_label(value, labels.get("type", {}).get(value))
    if facet == "topic":
        return vocabularies.topic_label(value, labels.get("topic", {}).get(value))
    return labels.get(facet, {}).get(value, value)


def sort_facet(
    facet: str,
    values: list[tuple[str, int]],
    labels: dict[str, dict[str, str]],
    limit: int | None = None,
) -> list[tuple[str, int]]:
    """Facet values by count, ties in the reader's alphabetical order; years newest first.

    With a limit, the first `limit` of that order. Only the values that can be among them
    are named and collated: doing so for every value of a long facet (hundreds of regions)
    took about a tenth of a browsing page's time.
    """
    if facet == "year":
        return sorted(values, key=lambda item: item[0], reverse=True)[:limit]
    if limit is not None and len(values) > limit:
        lowest = heapq.nlargest(limit, (count for __, count in values))[-1]
        values = [item for item in values if item[1] >= lowest]

    def order(item: tuple[str, int]) -> tuple:
        return (-item[1], i18n.collation_key(facet_value_label(facet, item[0], labels)))

    return sorted(values, key=order)[:limit]


#: Values a facet shows before its "Show all" link.
FACET_VALUES_SHOWN = 12


@dataclass(frozen=True)
class FacetListing:
    """What a facet shows: (value, count, chosen) in order, how many values it has, and
    whether some of them are left out (behind "Show all")."""

    values: list[tuple[str, int, bool]]
    total: int
    cut: bool


def facet_listing(
    facet: str,
    values: list[tuple[str, int]],
    chosen: list[str],
    labels: dict[str, dict[str, str]],
    show_all: bool = False,
) -> FacetListing:
    """A facet's values as the sidebar lists them: the first FACET_VALUES_SHOWN in
    sort_facet's order, or all of them; a chosen value always, in its place, even when
    it is further down or no record found holds it (count 0), so that it can be removed."""
    counts = dict(values)
    missing = [(v, 0) for v in dict.fromkeys(chosen) if v and v not in counts]
    everything = [*values, *missing]
    limit = None if show_all else FACET_VALUES_SHOWN
    shown = sort_facet(facet, everything, labels, limit)
    listed = {value for value, __ in shown}
    further = [item for item in everything if item[0] in chosen and item[0] not in listed]
    if further:
        shown = sort_facet(facet, [*shown, *further], labels)
    on = set(chosen)
    return FacetListing(
        [(value, count, value in on) for value, count in shown],
        len(everything),
        len(shown) < len(everything),
    )


@dataclass(frozen=True)
class TextNote:
    """How a stored file's text is shown to staff: a badge, its tone (the badge's class:
    "ok", "partial" or "not-ok") and a sentence that says it plainly."""

    tone: str
    badge: str
    sentence: str


def text_note(characters: int, page_count: int | None, message: str | None) -> TextNote:
    """Word the outcome of a file's extraction from its text's length, its page count and
    the extractor's message: the one place that decides it, for every page and message.

    Text with a message was read in part: a PDF stopped by the time limit keeps the pages
    read before it, and says "Text extracted in part: pages 41–352 could not be read
    (time limit)." rather than passing for a failure or for a whole text.
    """
    outcome = extraction.text_outcome(characters > 0, message)
    state = outcome.state
    if state in (extraction.TextState.COMPLETE, extraction.TextState.PARTIAL):
        badge = _("%(count)s characters", count=i18n.format_number(characters))
        if state == extraction.TextState.PARTIAL:
            return TextNote("partial", badge, _partial_sentence(outcome, message or ""))
        pages = _("%(count)s pages", count=i18n.format_number(page_count)) if page_count else ""
        return TextNote("ok", badge, pages)
    if state == extraction.TextState.NEEDS_OCR:
        badge = _("needs OCR")
    elif state == extraction.TextState.PASSWORD:
        badge = _("password-protected")
    else:
        badge = _("failed") if message else _("no text")
    if not message:
        return TextNote("not-ok", badge, _("No text was found in the file."))
    return TextNote("not-ok", badge, _("Text not extracted:") + " " + message)


def _partial_sentence(outcome: extraction.TextOutcome, message: str) -> str:
    causes = {
        extraction.Stop.TIME_LIMIT: _("time limit"),
        extraction.Stop.MEMORY_LIMIT: _("memory limit"),
        extraction.Stop.SCANNED: _("scanned pages, no OCR"),
        extraction.Stop.DAMAGED: _("damaged"),
    }
    cause = causes.get(outcome.stop) if outcome.stop else None
    if outcome.missing:
        pages = outcome.missing_pages()
        # One page or several, not a plural by number: "pages 21–41" are several pages in
        # every language, whatever the count's grammatical number.
        if outcome.missing_count == 1 and cause:
            return _(
                "Text extracted in part: page %(pages)s could not be read (%(cause)s).",
                pages=pages,
                cause=cause,
            )
        if outcome.missing_count == 1:
            return _("Text extracted in part: page %(pages)s could not be read.", pages=pages)
        if cause:
            return _(
                "Text extracted in part: pages %(pages)s could not be read (%(cause)s).",
                pages=pages,
                cause=cause,
            )
        return _("Text extracted in part: pages %(pages)s could not be read.", pages=pages)
    if outcome.missing_after is not None and cause:
        return _(
            "Text extracted in part: the pages after page %(page)s could not be read (%(cause)s).",
            page=outcome.missing_after,
            cause=cause,
        )
    return _("Text extracted in part: %(reason)s", reason=message)


def _waiting_for_review() -> int:
    """The count in the reviewers' menu (asked only there: one query a page for them, none
    for others). An error page drawn after a database failure still gets its menu."""
    try:
        return review_queries.waiting_for_review()
    except SQLAlchemyError:
        db.session.rollback()
        return 0


def _usage_totals(document_id: int) -> statistics_queries.UsageTotals | None:
    """A record's views and downloads (asked only by the record page's include), or None
    when they cannot be read: the page is drawn without them."""
    try:
        return statistics_queries.totals(viewer(), document_id)
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("the usage counts of record %s could not be read", document_id)
        return None


def _template_globals() -> dict:
    return {
        "url_with": url_with,
        "url_toggle": url_toggle,
        "viewer": viewer(),
        "can": lambda action: access.can(viewer(), action),
        "waiting_for_review": _waiting_for_review,
        "usage_totals": _usage_totals,
        "interface_languages": i18n.interface_languages(),
        "current_language": i18n.current_language(),
        "text_direction": i18n.text_direction,
        "language_name": i18n.language_name,
        "region_name": i18n.region_name,
        "format_number": i18n.format_number,
        "type_label": vocabularies.type_label,
        "topic_label": vocabularies.topic_label,
        "status_label": vocabularies.status_label,
        "kind_label": vocabularies.kind_label,
        "access_label": vocabularies.access_label,
        "criterion_label": vocabularies.criterion_label,
        "missing_labels": vocabularies.missing_labels,
        "criterion_help": vocabularies.criterion_help,
        "check_outcome_label": vocabularies.check_outcome_label,
        "file_type_label": vocabularies.file_type_label,
        "format_size": i18n.format_size,
        "audit_action_label": vocabularies.audit_action_label,
        "audit_object_label": vocabularies.audit_object_label,
        "audit_detail_label": vocabularies.audit_detail_label,
        "translate": translate,
        "text_note": lambda f: text_note(len(f.text or ""), f.page_count, f.extraction_error),
        "format_partial_date": i18n.format_partial_date,
        "sort_facet": sort_facet,
        "facet_listing": facet_listing,
        "facet_values_shown": FACET_VALUES_SHOWN,
        "facet_value_label": facet_value_label,
        # Never bound to the request: an error page (413 included) must not read the body.
        "logout_form": lambda: EmptyForm(formdata=None),
    }
