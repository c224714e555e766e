"""Forms of the translation pages (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms import widgets
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional


class LanguageChoices(SelectMultipleField):
    """Checkboxes, one per language."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class RequestForm(FlaskForm):
    languages = LanguageChoices(
        _l("Languages"),
        validators=[DataRequired(message=_l("Choose at least one language."))],
    )
    due_on = DateField(_l("Due date"), validators=[Optional()])
    note = TextAreaField(_l("Note for the translator"), validators=[Length(max=2000)])


class DeliveryForm(FlaskForm):
    """A translator's language version: translated title, summary and file(s)."""

    title = StringField(_l("Translated title"), validators=[DataRequired(), Length(max=500)])
    summary = TextAreaField(_l("Translated summary"), validators=[DataRequired(), Length(max=5000)])
    files = MultipleFileField(
        _l("Translated file(s)"),
        description=_l(
            "PDF, Word, Excel, PowerPoint, OpenDocument, HTML, text or Markdown. Leave empty "
            "on a resubmission to keep the files already delivered."
        ),
    )


class TranslationCommentForm(FlaskForm):
    comment = TextAreaField(_l("What must change"), validators=[DataRequired(), Length(max=5000)])


class ConfirmForm(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[Length(max=5000)])
