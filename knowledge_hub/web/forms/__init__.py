"""Forms of the web interface, one module per audience (`admin`, `staff`, `translations`),
and the empty form every button posts (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms import PasswordField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import Length

from knowledge_hub.i18n import format_number
from knowledge_hub.services import Invalid
from knowledge_hub.services.review import CheckChoice


class LoginForm(FlaskForm):
    # Any address an account was made with must work here, so no stricter check.
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=320)])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10)])
    confirm = PasswordField(
        _l("New password again"), validators=[EqualTo("new", message=_l("The passwords differ."))]
    )


class CommentForm(FlaskForm):
    """A form with one comment or reason, for send-back, waiver and withdrawal."""

    comment = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=5000)])


class EmptyForm(FlaskForm):
    """A button that posts: carries only the CSRF token."""


class AttestationForm(FlaskForm):
    code = StringField(validators=[DataRequired()])
    comment = TextAreaField(_l("Comment"), validators=[Length(max=5000)])


#: A checklist post's outcomes; an empty choice ("No change") leaves the criterion alone.
OUTCOMES = {"pass": True, "fail": False}
COMMENT_LENGTH = 5000


class ChecklistForm(FlaskForm):
    """A checklist post: the page's rows, each `outcome-<code>` (pass, fail, or empty for
    no change) with its evidence in `comment-<code>`; or the single criterion that
    earlier clients post as `code` and `comment`, the outcome in the address."""

    code = StringField()
    comment = TextAreaField(_l("Comment"), validators=[Length(max=COMMENT_LENGTH)])


def chosen_checks(formdata: Mapping[str, str], outcome: str | None = None) -> list[CheckChoice]:
    """The checks a checklist post asks for, in the order of the page's rows.

    Raises Invalid for an outcome other than pass, fail or empty, or an overlong comment,
    so that a post with one bad row records nothing."""
    if outcome is not None:
        rows = [(formdata.get("code", "").strip(), outcome, formdata.get("comment", ""))]
    else:
        rows = []
        for key, value in formdata.items():
            code = key.removeprefix("outcome-")
            if code != key and value:
                rows.append((code, value, formdata.get(f"comment-{code}", "")))
    for code, value, comment in rows:
        if value not in OUTCOMES:
            raise Invalid(_("%(value)s is not an outcome of a check.", value=repr(value)))
        if len(comment) > COMMENT_LENGTH:
            raise Invalid(
                _(
                    "The comment on %(code)s is longer than %(length)s characters.",
                    code=code,
                    length=COMMENT_LENGTH,
                )
            )
    return [CheckChoice(code, OUTCOMES[value], comment) for code, value, comment in rows]


def checks_recorded(checks: list) -> str:
    """The flash after a checklist post: how many checks it recorded."""
    return _("Checks recorded: %(count)s.", count=format_number(len(checks)))
