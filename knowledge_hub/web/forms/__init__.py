"""Forms of the web interface, one module per audience (`admin`, `staff`, `translations`),
and the empty form every button posts (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms import PasswordField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import Length


class LoginForm(FlaskForm):
    # Any address an account was made with must work here, so no stricter check.
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


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
