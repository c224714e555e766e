"""The advanced-search form: boxes a researcher fills in, written as the query language
(search/syntax.py) and the filters of /search, so the search page shows the query it
made and the reader can edit it there.

`compose_query` is pure: the boxes' text in, the query text out."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Field
from wtforms import Form
from wtforms import SelectField
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length
from wtforms.validators import ValidationError

from knowledge_hub import i18n
from knowledge_hub.i18n.vocabularies import topic_label
from knowledge_hub.i18n.vocabularies import type_label
from knowledge_hub.queries.staff import Vocabularies
from knowledge_hub.web.forms.choices import by_name
from knowledge_hub.web.forms.choices import places

#: Words the query language reads as operators when written in capitals; typed in a
#: box of words they are words, so they are written in small letters.
OPERATORS = frozenset({"AND", "OR", "NOT"})
#: The first year an open "until" reaches back to: before any record the hub holds.
EARLIEST_YEAR = 1900
#: Characters that are syntax in the query language, dropped from a box of words.
_SYNTAX = re.compile(r'["()]')
#: A value written after a field name is quoted when it holds one of these.
_NEEDS_QUOTES = re.compile(r"[\s():]")
_YEAR = re.compile(r"^\d{4}$")

#: The filters of /search the form sets (web/params.py, search/schema.py FACET_FIELDS).
FILTERS = ("type", "language", "organization", "topic", "region")
SORTS = ("relevance", "newest", "oldest")


@dataclass(frozen=True)
class Wanted:
    """What the boxes of the form ask for, as typed."""

    all_words: str = ""
    phrase: str = ""
    any_words: str = ""
    none_words: str = ""
    title: str = ""
    author: str = ""
    org: str = ""
    year_from: int | None = None
    year_to: int | None = None


def words_of(text: str) -> list[str]:
    """The words of a box: quotes and parentheses dropped, a leading minus too (the box
    says whether words are wanted or left out), operators as plain words."""
    words = []
    for word in _SYNTAX.sub(" ", text).split():
        word = word.lstrip("-")
        if word:
            words.append(word.lower() if word in OPERATORS else word)
    return words


def quoted(text: str) -> str:
    """Text as one phrase. The query language has no escape for a quote inside a phrase,
    and a phrase matches by its words, so a quote inside becomes a space."""
    return '"' + " ".join(text.replace('"', " ").split()) + '"'


def field_value(text: str) -> str:
    """A value after `title:`, `author:` or `org:`: as it is when it is one plain word,
    else quoted, so the whole value belongs to the field."""
    value = " ".join(text.replace('"', " ").split())
    if _NEEDS_QUOTES.search(value) or value.startswith("-") or value in OPERATORS:
        return quoted(value)
    return value


def years(year_from: int | None, year_to: int | None, this_year: int) -> str:
    """`year:2023` or `year:2019..2023` (inclusive); an open end reaches this year, or
    back to EARLIEST_YEAR."""
    if year_from is None and year_to is None:
        return ""
    first = year_from if year_from is not None else EARLIEST_YEAR
    last = year_to if year_to is not None else max(first, this_year)
    return f"year:{first}" if first == last else f"year:{first}..{last}"


def compose_query(wanted: Wanted, this_year: int) -> str:
    """The query text the boxes ask for: every part wanted at once (AND), the words to
    leave out as -word. Nothing typed gives the empty query."""
    parts: list[str | list[str]] = [*words_of(wanted.all_words)]
    if words_of(wanted.phrase):
        parts.append(quoted(" ".join(words_of(wanted.phrase))))
    if alternatives := words_of(wanted.any_words):
        parts.append(alternatives)
    for name, value in (("title", wanted.title), ("author", wanted.author), ("org", wanted.org)):
        if value.replace('"', " ").strip():
            parts.append(f"{name}:{field_value(value)}")
    if span := years(wanted.year_from, wanted.year_to, this_year):
        parts.append(span)
    # Beside other parts the alternatives need parentheses, since AND binds closer than OR.
    written = [
        part if isinstance(part, str) else _either(part, grouped=len(parts) > 1) for part in parts
    ]
    left_out = [f"-{word}" for word in words_of(wanted.none_words)]
    return " ".join([" AND ".join(written), *left_out]).strip()


def _either(words: list[str], grouped: bool) -> str:
    either = " OR ".join(words)
    return f"({either})" if grouped and len(words) > 1 else either


def _any(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice("", _("Any")), *(SelectChoice(value, label) for value, label in pairs)]


def _year(form: Form, field: Field) -> None:
    if (field.data or "").strip() and not _YEAR.match(field.data.strip()):
        raise ValidationError(_("Write a year as four digits, for example 2019."))


class AdvancedSearchForm(Form):
    """A GET form that changes nothing, so it carries no CSRF token (a plain wtforms
    Form): its address can be bookmarked and shared like any search."""

    all_words = StringField(_l("All of these words"), validators=[Length(max=500)])
    phrase = StringField(
        _l("This exact phrase"),
        description=_l("The words together, in this order."),
        validators=[Length(max=500)],
    )
    any_words = StringField(
        _l("Any of these words"),
        description=_l("Records with at least one of them."),
        validators=[Length(max=500)],
    )
    none_words = StringField(
        _l("None of these words"),
        description=_l("Records with one of these words are left out."),
        validators=[Length(max=500)],
    )
    title = StringField(
        _l("Words in the title"),
        description=_l("Words of the title, in their order."),
        validators=[Length(max=500)],
    )
    author = StringField(_l("Author"), validators=[Length(max=300)])
    organization = SelectField(_l("Organization"), choices=[], validate_choice=False)
    org = StringField(
        _l("Or an organization's name or acronym"),
        description=_l("In any of the six languages."),
        validators=[Length(max=300)],
    )
    type = SelectField(_l("Type"), choices=[], validate_choice=False)
    year_from = StringField(_l("From the year"), validators=[_year])
    year_to = StringField(
        _l("To the year"),
        description=_l("Both years are included; leave one empty for an open range."),
        validators=[_year],
    )
    language = SelectField(_l("Language"), choices=[], validate_choice=False)
    topic = SelectField(_l("Topic"), choices=[], validate_choice=False)
    region = SelectField(_l("Country or region"), choices=[], validate_choice=False)
    sort = SelectField(
        _l("Sort by"),
        choices=[
            SelectChoice("relevance", _l("Relevance")),
            SelectChoice("newest", _l("Newest first")),
            SelectChoice("oldest", _l("Oldest first")),
        ],
        validate_choice=False,
    )

    def validate_year_to(self, field: Field) -> None:
        first, last = (self.year_from.data or "").strip(), (field.data or "").strip()
        if _YEAR.match(first) and _YEAR.match(last) and int(last) < int(first):
            raise ValidationError(
                _(
                    "The last year, %(last)s, comes before the first, %(first)s.",
                    last=last,
                    first=first,
                )
            )

    def validate_none_words(self, field: Field) -> None:
        # A query of exclusions only matches nothing (search/syntax.py): say so here,
        # by the box, rather than with an empty result page.
        wanted = dataclasses.replace(self.wanted(), none_words="")
        if words_of(field.data or "") and not compose_query(wanted, EARLIEST_YEAR):
            raise ValidationError(
                _("Words to leave out need something to look for: fill in another box too.")
            )

    def offer(self, lists: Vocabularies, languages: list[str]) -> None:
        """Fill the lists to choose from, labelled in the reader's language; the first
        choice of each is "any"."""
        self.type.choices = _any([(t.code, type_label(t.code, t.label)) for t in lists.doc_types])
        self.organization.choices = _any(
            [
                (
                    o.acronym,
                    f"{o.acronym} — {o.name}" if o.name and o.name != o.acronym else o.acronym,
                )
                for o in lists.organizations
            ]
        )
        self.topic.choices = _any(
            [(t.code, topic_label(t.code, t.label)) for t in [*lists.themes, *lists.sdgs]]
        )
        self.language.choices = _any(
            by_name([(code, i18n.language_name(code)) for code in languages])
        )
        self.region.choices = _any(places())

    def submitted(self, args: object) -> bool:
        """Whether the query string is this form sent (not a bare visit, nor ?lang=)."""
        return any(name in args for name in self._fields)

    def wanted(self) -> Wanted:
        def year(field: Field) -> int | None:
            text = (field.data or "").strip()
            return int(text) if _YEAR.match(text) else None

        return Wanted(
            all_words=self.all_words.data or "",
            phrase=self.phrase.data or "",
            any_words=self.any_words.data or "",
            none_words=self.none_words.data or "",
            title=self.title.data or "",
            author=self.author.data or "",
            org=self.org.data or "",
            year_from=year(self.year_from),
            year_to=year(self.year_to),
        )

    def search_parameters(self, this_year: int) -> list[tuple[str, str]]:
        """The query string of /search the form asks for: q, the filters, the order."""
        pairs = []
        if q := compose_query(self.wanted(), this_year):
            pairs.append(("q", q))
        for name in FILTERS:
            value = (self[name].data or "").strip()
            if value:
                pairs.append((name, value))
        if self.sort.data in SORTS and self.sort.data != "relevance":
            pairs.append(("sort", self.sort.data))
        return pairs
