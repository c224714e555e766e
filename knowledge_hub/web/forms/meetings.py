"""The form of a Task Force meeting, and the meeting picker of a record's form."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import DateField
from wtforms import IntegerField
from wtforms import SelectField
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional

from knowledge_hub.i18n import format_number
from knowledge_hub.i18n import format_partial_date
from knowledge_hub.models import Meeting
from knowledge_hub.models import Organization
from knowledge_hub.services.meetings import MAX_NUMBER
from knowledge_hub.services.meetings import MAX_PARTICIPANTS
from knowledge_hub.services.meetings import MeetingFields
from knowledge_hub.web.forms.choices import CodeListField
from knowledge_hub.web.forms.choices import organization_label


def meeting_label(meeting: Meeting) -> str:
    """ "Meeting 45, 5 Sept 2023" in the reader's language."""
    return _(
        "Meeting %(number)s, %(date)s",
        number=format_number(meeting.number),
        date=format_partial_date(meeting.held_on.isoformat()),
    )


class MeetingForm(FlaskForm):
    number = IntegerField(
        _l("Number"),
        validators=[
            DataRequired(message=_l("Give the meeting's number, e.g. 45.")),
            NumberRange(min=1, max=MAX_NUMBER),
        ],
        description=_l("45 for the 45th meeting. Import manifests name the meeting by it."),
    )
    held_on = DateField(
        _l("Date"),
        validators=[DataRequired(message=_l("Write the date as YYYY-MM-DD, e.g. 2023-09-05."))],
    )
    is_virtual = BooleanField(_l("Held online"))
    place = StringField(
        _l("Place"),
        validators=[Optional(), Length(max=200)],
        description=_l("The city where it was held; leave it empty for an online meeting."),
    )
    participants_count = IntegerField(
        _l("Participants"),
        validators=[Optional(), NumberRange(min=0, max=MAX_PARTICIPANTS)],
        description=_l("How many people took part, if known."),
    )
    members_present = CodeListField(_l("Member organizations present"))
    observers_present = CodeListField(_l("Observer organizations present"))

    def set_choices(self, organizations: list[Organization]) -> None:
        offered = [
            SelectChoice(o.acronym, organization_label(o.acronym, o.name)) for o in organizations
        ]
        self.members_present.choices = offered
        self.observers_present.choices = offered

    def load(self, meeting: Meeting) -> None:
        self.number.data = meeting.number
        self.held_on.data = meeting.held_on
        self.is_virtual.data = meeting.is_virtual
        self.place.data = meeting.place or ""
        self.participants_count.data = meeting.participants_count
        self.members_present.data = [o.acronym for o in meeting.members_present]
        self.observers_present.data = [o.acronym for o in meeting.observers_present]

    def meeting_fields(self) -> MeetingFields:
        return MeetingFields(
            number=str(self.number.data or ""),
            held_on=self.held_on.data.isoformat() if self.held_on.data else "",
            place=self.place.data or "",
            is_virtual=bool(self.is_virtual.data),
            participants_count=""
            if self.participants_count.data is None
            else str(self.participants_count.data),
            members_present=list(self.members_present.data or []),
            observers_present=list(self.observers_present.data or []),
        )


def meeting_picker() -> SelectField:
    """The record form's choice of meeting: a plain select, newest first, which works
    without JavaScript and is reached by typing the number."""
    return SelectField(
        _l("Meeting"),
        choices=[],
        # The service says when a number names no meeting.
        validate_choice=False,
        description=_l("The Task Force meeting the document belongs to, if any."),
    )


def meeting_choices(meetings: list[Meeting]) -> list[SelectChoice]:
    return [SelectChoice("", str(_l("— none —")))] + [
        SelectChoice(str(m.number), meeting_label(m)) for m in meetings
    ]
