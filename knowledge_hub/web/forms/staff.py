"""Forms of the secretariat's pages (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField
from wtforms import Field
from wtforms import Form
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput
from wtforms.widgets import ListWidget

from knowledge_hub.field_values import normalize_language
from knowledge_hub.field_values import parse_partial_date
from knowledge_hub.i18n import language_name
from knowledge_hub.i18n.vocabularies import topic_label
from knowledge_hub.i18n.vocabularies import type_label
from knowledge_hub.models import Document
from knowledge_hub.queries.staff import Vocabularies
from knowledge_hub.services.documents import RecordFields
from knowledge_hub.web.forms.choices import CodeListField
from knowledge_hub.web.forms.choices import organization_label
from knowledge_hub.web.forms.choices import places_grouped
from knowledge_hub.web.forms.meetings import meeting_choices
from knowledge_hub.web.forms.meetings import meeting_picker

OTHER_LANGUAGE = "other"
REGION_CODE = re.compile(r"^(?:[A-Za-z]{2}|\d{3})$")


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes, each with its own label."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _partial_date(form: Form, field: Field) -> None:
    if field.data and field.data.strip():
        try:
            parse_partial_date(field.data)
        except ValueError as e:
            raise ValidationError(
                _("Write the date as YYYY, YYYY-MM or YYYY-MM-DD, e.g. 2023-09.")
            ) from e


def _region_codes(form: Form, field: Field) -> None:
    bad = [code for code in field.data or [] if not REGION_CODE.match(code)]
    if bad:
        raise ValidationError(
            _(
                "Not a country or area code: %(codes)s. Use ISO 3166 two-letter codes "
                "(SN, BR) or UN M49 three-digit area codes (002, 419).",
                codes=", ".join(bad),
            )
        )


def _language_tag(form: Form, field: Field) -> None:
    if form.language.data == OTHER_LANGUAGE:
        if not (field.data or "").strip():
            raise ValidationError(_("Give the language's BCP 47 tag, e.g. pt or sw."))
        try:
            normalize_language(field.data)
        except ValueError as e:
            raise ValidationError(_("%(tag)s is not a BCP 47 language tag.", tag=field.data)) from e


def language_choices() -> list[SelectChoice]:
    """The six UN languages by name, then "another language"."""
    return [
        SelectChoice(code, f"{language_name(code)} ({code})")
        for code in current_app.config["LANGUAGES"]
    ] + [SelectChoice(OTHER_LANGUAGE, str(_l("Another language (give its tag)")))]


class LanguageMixin:
    """A language picked among the UN six, or any other BCP 47 tag typed in."""

    def language_tag(self) -> str:
        if self.language.data == OTHER_LANGUAGE:
            return (self.other_language.data or "").strip()
        return self.language.data or ""

    def set_language(self, tag: str) -> None:
        if tag in current_app.config["LANGUAGES"]:
            self.language.data = tag
        else:
            self.language.data = OTHER_LANGUAGE
            self.other_language.data = tag


class RecordForm(LanguageMixin, FlaskForm):
    """A record's metadata with the title and summary of its original version."""

    ref = StringField(
        _l("Reference"),
        validators=[DataRequired(message=_l("Give the record a reference.")), Length(max=200)],
        description=_l("Unique and stable: an archive number or a UN document symbol."),
    )
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("publication", _l("Publication")),
            SelectChoice("archive", _l("Archive")),
        ],
    )
    doc_type = SelectField(_l("Type"), choices=[])
    date = StringField(
        _l("Date"),
        validators=[Optional(), _partial_date],
        description=_l("YYYY, YYYY-MM or YYYY-MM-DD."),
    )
    lead_organization = SelectField(_l("Lead organization"), choices=[])
    organizations = MultiCheckboxField(_l("Contributing organizations"), choices=[])
    authors = TextAreaField(
        _l("Authors"),
        validators=[Length(max=5000)],
        description=_l("One per line, in the order they are credited."),
    )
    themes = MultiCheckboxField(_l("SSE themes"), choices=[])
    sdgs = MultiCheckboxField(_l("Sustainable Development Goals"), choices=[])
    regions = CodeListField(
        _l("Regions and countries"),
        validators=[_region_codes],
        upper=True,
        description=_l(
            "Choose the countries and areas the record is about; type a name's first "
            "letters to reach it. Hold Ctrl (Cmd on a Mac) to choose more than one."
        ),
    )
    access = SelectField(
        _l("Access"),
        choices=[
            SelectChoice("public", _l("Public: anyone, once released")),
            SelectChoice("members", _l("Members: signed-in member organizations")),
            SelectChoice("internal", _l("Internal: the secretariat and reviewers")),
        ],
    )
    series = StringField(_l("Series"), validators=[Optional(), Length(max=300)])
    meeting = meeting_picker()
    language = SelectField(_l("Original language"), choices=[])
    other_language = StringField(
        _l("Other language tag"),
        validators=[_language_tag, Length(max=35)],
        description=_l("Only when the original language is not one of the six UN languages."),
    )
    title = StringField(
        _l("Title (in the original language)"),
        validators=[DataRequired(message=_l("Give the title.")), Length(max=1000)],
    )
    summary = TextAreaField(
        _l("Summary (in the original language)"), validators=[Length(max=20000)]
    )

    #: Where a service's problem names a field, the form field that shows it.
    PROBLEM_FIELDS = {
        "ref": "ref",
        "kind": "kind",
        "type": "doc_type",
        "date": "date",
        "organizations": "organizations",
        "authors": "authors",
        "topics": "themes",
        "regions": "regions",
        "access": "access",
        "meeting": "meeting",
        "language": "other_language",
        "title": "title",
        "summary": "summary",
    }

    def set_choices(self, vocab: Vocabularies) -> None:
        self.doc_type.choices = [SelectChoice("", str(_l("— not given —")))] + [
            SelectChoice(t.code, type_label(t.code, t.label)) for t in vocab.doc_types
        ]
        organizations = [
            SelectChoice(o.acronym, organization_label(o.acronym, o.name))
            for o in vocab.organizations
        ]
        self.lead_organization.choices = [SelectChoice("", str(_l("— none —")))] + organizations
        self.organizations.choices = organizations
        self.themes.choices = [
            SelectChoice(t.code, topic_label(t.code, t.label)) for t in vocab.themes
        ]
        self.sdgs.choices = [SelectChoice(t.code, topic_label(t.code, t.label)) for t in vocab.sdgs]
        self.language.choices = language_choices()
        self.regions.choices = places_grouped()
        self.meeting.choices = meeting_choices(vocab.meetings)

    def set_defaults(self) -> None:
        self.kind.data = "publication"
        self.access.data = "public"
        self.language.data = "en"

    def load(self, document: Document) -> None:
        """Fill the form from a record, for editing."""
        acronyms = [o.acronym for o in document.organizations]
        self.ref.data = document.ref
        self.kind.data = document.kind.value
        self.doc_type.data = document.doc_type.code if document.doc_type else ""
        self.date.data = document.date or ""
        self.lead_organization.data = acronyms[0] if acronyms else ""
        self.organizations.data = acronyms[1:]
        self.authors.data = "\n".join(document.authors or [])
        self.themes.data = [t.code for t in document.topics if not t.is_sdg]
        self.sdgs.data = [t.code for t in document.topics if t.is_sdg]
        self.regions.data = [r.code for r in document.regions]
        self.access.data = document.access.value
        self.series.data = document.series or ""
        self.meeting.data = str(document.meeting.number) if document.meeting else ""
        self.set_language(document.original_language)
        original = document.original
        self.title.data = original.title if original else ""
        self.summary.data = (original.summary or "") if original else ""

    def record_fields(self, current: Document | None = None) -> RecordFields:
        """The form's values as the services take them.

        The lead comes first; contributors keep the order they had on the record, and
        new ones follow in the order of the list.
        """
        lead = self.lead_organization.data or ""
        contributors = [a for a in self.organizations.data or [] if a != lead]
        if current is not None:
            order = {o.acronym: i for i, o in enumerate(current.organizations)}
            contributors.sort(key=lambda a: order.get(a, len(order)))
        return RecordFields(
            ref=self.ref.data or "",
            kind=self.kind.data or "",
            doc_type=self.doc_type.data or "",
            date=(self.date.data or "").strip(),
            organizations=([lead] if lead else []) + contributors,
            authors=[line.strip() for line in (self.authors.data or "").splitlines()],
            topics=list(self.themes.data or []) + list(self.sdgs.data or []),
            regions=list(self.regions.data or []),
            access=self.access.data or "public",
            series=self.series.data or "",
            meeting=self.meeting.data or "",
        )


def show_problems(form: FlaskForm, problems: dict[str, str], fallback: str = "") -> list[str]:
    """Put a service's problems under the fields they concern; return those that fit none."""
    mapping = getattr(form, "PROBLEM_FIELDS", {})
    left = []
    for key, message in problems.items():
        name = mapping.get(key, key)
        field = getattr(form, name, None)
        if isinstance(field, Field):
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        else:
            left.append(message)
    if not problems and fallback:
        left.append(fallback)
    return left


class VersionForm(LanguageMixin, FlaskForm):
    """A new language version of a record: its language, title and summary."""

    language = SelectField(_l("Language"), choices=[])
    other_language = StringField(
        _l("Other language tag"), validators=[_language_tag, Length(max=35)]
    )
    title = StringField(
        _l("Title"), validators=[DataRequired(message=_l("Give the title.")), Length(max=1000)]
    )
    summary = TextAreaField(_l("Summary"), validators=[Length(max=20000)])

    PROBLEM_FIELDS = {"language": "other_language", "title": "title", "summary": "summary"}

    def set_choices(self) -> None:
        self.language.choices = language_choices()


class VersionTextForm(FlaskForm):
    """A language version's title and summary."""

    title = StringField(
        _l("Title"), validators=[DataRequired(message=_l("Give the title.")), Length(max=1000)]
    )
    summary = TextAreaField(_l("Summary"), validators=[Length(max=20000)])

    PROBLEM_FIELDS = {"title": "title", "summary": "summary"}


class UploadForm(FlaskForm):
    """One or more files for a language version."""

    files = MultipleFileField(_l("Files"))

    def chosen(self) -> list:
        return [f for f in self.files.data or [] if f and f.filename]


class ImportForm(FlaskForm):
    """A manifest and its files, for a preview before the import."""

    manifest = FileField(
        _l("Manifest (CSV)"),
        validators=[FileRequired(message=_l("Choose the manifest CSV file."))],
        description=_l(
            "UTF-8 CSV, one row per file: ref, file, language, title, kind are required."
        ),
    )
    archive = FileField(
        _l("ZIP of the folder"),
        description=_l("The folder the manifest's file paths are relative to, as one ZIP."),
    )
    files = MultipleFileField(
        _l("Or the files themselves"),
        description=_l("Without the ZIP: choose every file the manifest names."),
    )
    replace = BooleanField(_l("Replace language versions that already exist"))

    PROBLEM_FIELDS = {"manifest": "manifest", "archive": "archive", "files": "files"}

    def chosen_files(self) -> list:
        return [f for f in self.files.data or [] if f and f.filename]

    def chosen_archive(self):
        data = self.archive.data
        return data if data and getattr(data, "filename", "") else None


class ConfirmImportForm(FlaskForm):
    """Run the previewed import, optionally putting each record through the release gate."""

    release = BooleanField(_l("Release each record that passes the publication criteria"))
