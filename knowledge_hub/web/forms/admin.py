"""Forms of the administration pages and of accepting an invitation (Flask-WTF, CSRF on)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import DateField
from wtforms import EmailField
from wtforms import PasswordField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms import URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput
from wtforms.widgets import ListWidget

from knowledge_hub.i18n.vocabularies import audit_action_label
from knowledge_hub.models import APPLIES_TO
from knowledge_hub.models import CriterionKind
from knowledge_hub.models import OrganizationKind
from knowledge_hub.models import Role
from knowledge_hub.services.users import MIN_PASSWORD_LENGTH
from knowledge_hub.web.forms.choices import CodeListField
from knowledge_hub.web.forms.choices import languages_grouped
from knowledge_hub.web.forms.choices import organization_label

ROLE_LABELS = {
    Role.MEMBER: _l("Member (reads members-only records)"),
    Role.STAFF: _l("Staff (secretariat: creates and edits records)"),
    Role.TRANSLATOR: _l("Translator"),
    Role.REVIEWER: _l("Reviewer (applies the criteria, releases)"),
    Role.ADMIN: _l("Administrator"),
}
ORGANIZATION_KIND_LABELS = {
    OrganizationKind.MEMBER: _l("Member"),
    OrganizationKind.OBSERVER: _l("Observer"),
    OrganizationKind.OTHER: _l("Other"),
}
CRITERION_KIND_LABELS = {
    CriterionKind.AUTOMATIC: _l("Automatic (computed by the hub)"),
    CriterionKind.ATTESTATION: _l("Attestation (ticked by a reviewer)"),
}
APPLIES_TO_LABELS = {
    "publication": _l("Publications"),
    "archive": _l("Archives"),
    "translation": _l("Translations (language versions)"),
}


class MultiCheckboxField(SelectMultipleField):
    """A set of checkboxes; templates render it as a fieldset with a legend."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _AccountFields(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    roles = MultiCheckboxField(
        _l("Roles"), choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()]
    )
    # The service checks the acronym, with a clearer message than "not a valid choice".
    organization = SelectField(_l("Organization"), choices=[], validate_choice=False)
    languages = CodeListField(
        _l("Languages"),
        description=_l(
            "For translators: the languages they translate into. Type a name's first "
            "letters to reach it; hold Ctrl (Cmd on a Mac) to choose more than one."
        ),
    )

    def set_choices(self, organizations: list[tuple[str, str]]) -> None:
        """The organizations, given as (acronym, name), by acronym and name in the
        reader's language; the languages by name."""
        self.organization.choices = [SelectChoice("", _l("None"))] + [
            SelectChoice(acronym, organization_label(acronym, name))
            for acronym, name in organizations
        ]
        self.languages.choices = languages_grouped()


class InviteForm(_AccountFields):
    # The service checks the address; any address an account can have must be accepted.
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=320)])


class UserForm(_AccountFields):
    """The editable part of an account; the e-mail address stays."""


class ResetForm(FlaskForm):
    """Resetting locks the person out until they use the new link: it is confirmed."""

    confirm = BooleanField(
        _l("Yes, clear the password and sign this person out everywhere"),
        validators=[DataRequired()],
    )


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    role = SelectField(
        _l("Role"),
        choices=[SelectChoice("", _l("Any role"))]
        + [SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()],
    )
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("", _l("Any")),
            SelectChoice("active", _l("Active")),
            SelectChoice("disabled", _l("Disabled")),
        ],
    )


class OrganizationForm(FlaskForm):
    acronym = StringField(_l("Acronym"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(k.value, label) for k, label in ORGANIZATION_KIND_LABELS.items()],
    )
    url = URLField(
        _l("Web address"),
        validators=[Optional(), Length(max=500)],
        description=_l("Starting with https://"),
    )


class VocabularyEntryForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l(
            "Lowercase letters and digits, words joined by hyphens, e.g. "
            "policy-brief. Used in import manifests; it cannot change later."
        ),
    )
    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=200)])


class RelabelForm(FlaskForm):
    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=200)])


class CriterionForm(FlaskForm):
    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=300)])
    help_text = TextAreaField(_l("Help text for reviewers"), validators=[Length(max=5000)])
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(k.value, label) for k, label in CRITERION_KIND_LABELS.items()],
    )
    is_required = BooleanField(_l("Required for release"), default=True)
    applies_to = MultiCheckboxField(
        _l("Applies to"), choices=[SelectChoice(t, APPLIES_TO_LABELS[t]) for t in APPLIES_TO]
    )
    reason = StringField(
        _l("Reason for the change"),
        validators=[Length(max=300)],
        description=_l("Optional; kept in the note of the new version of the set."),
    )


class NewCriterionForm(CriterionForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=60)],
        description=_l(
            "Lowercase words joined by underscores, e.g. un_disclaimer. An "
            "automatic criterion must use the code of a check the hub has. "
            "It cannot change later."
        ),
    )


class ReasonForm(FlaskForm):
    """A button that posts, with an optional reason (retire or restore a criterion)."""

    reason = StringField(_l("Reason"), validators=[Length(max=300)])


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    # The options are the recorded action codes, shown in words.
    action = SelectField(_l("Action"), choices=[], validate_choice=False)
    actor = StringField(_l("Actor e-mail"), validators=[Length(max=320)])
    record = StringField(
        _l("Record"),
        validators=[Length(max=200)],
        description=_l("Its reference or its number."),
    )
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To (included)"), validators=[Optional()])

    def set_actions(self, actions: list[str]) -> None:
        self.action.choices = [SelectChoice("", _l("Any action"))] + [
            SelectChoice(a, audit_action_label(a)) for a in actions
        ]


class InvitationForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)],
        description=_l("At least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
