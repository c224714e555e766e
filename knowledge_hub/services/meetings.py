"""The Task Force's meetings: staff record them, with who was there; documents join a
meeting through their record's metadata (`services.documents`, the import manifest)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub import access
from knowledge_hub.extensions import db
from knowledge_hub.models import Meeting
from knowledge_hub.models import MeetingOrganization
from knowledge_hub.models import Organization
from knowledge_hub.models import User
from knowledge_hub.services import Invalid
from knowledge_hub.services import NotFound
from knowledge_hub.services import audit
from knowledge_hub.services import changed_fields
from knowledge_hub.services import race_safe
from knowledge_hub.services import transaction

#: Far more than the Task Force will hold; a typo such as 4545 is caught.
MAX_NUMBER = 1000
MAX_PARTICIPANTS = 100_000


@dataclass
class MeetingFields:
    """A meeting as a person types it: text, and organizations by acronym."""

    number: str
    held_on: str
    place: str = ""
    is_virtual: bool = False
    participants_count: str = ""
    members_present: list[str] = field(default_factory=list)
    observers_present: list[str] = field(default_factory=list)


def parse_meeting_number(text: str) -> int:
    """The number of "45", "45th" or "no. 45"; raise ValueError if there is none."""
    cleaned = text.strip().lower().removeprefix("no.").strip()
    for suffix in ("st", "nd", "rd", "th"):
        cleaned = cleaned.removesuffix(suffix)
    if not cleaned.isdigit() or not 1 <= int(cleaned) <= MAX_NUMBER:
        raise ValueError(text)
    return int(cleaned)


def meeting_numbered(text: str) -> Meeting:
    """The meeting a manifest or a form names by its number; Invalid if there is none.

    An unknown number is an error, as unknown vocabulary is: a meeting is recorded first,
    with its date and place, never made up from a document that mentions it.
    """
    try:
        number = parse_meeting_number(text)
    except ValueError:
        raise Invalid(
            _(
                "%(value)s is not a meeting number (write 45 for the 45th meeting).",
                value=repr(text),
            )
        ) from None
    meeting = db.session.scalar(select(Meeting).where(Meeting.number == number))
    if meeting is None:
        raise Invalid(
            _(
                "There is no meeting %(number)s: record it under Meetings first.",
                number=number,
            )
        )
    return meeting


def _organizations(acronyms: list[str], name: str, problems: dict[str, str]) -> list[Organization]:
    wanted = [a.strip() for a in acronyms if a.strip()]
    if not wanted:
        return []
    found = {
        org.acronym.lower(): org
        for org in db.session.scalars(
            select(Organization).where(
                func.lower(Organization.acronym).in_([a.lower() for a in wanted])
            )
        )
    }
    unknown = [a for a in wanted if a.lower() not in found]
    if unknown:
        problems[name] = _("Unknown organizations: %(codes)s.", codes=", ".join(unknown))
    return list(
        {found[a.lower()].id: found[a.lower()] for a in wanted if a.lower() in found}.values()
    )


def _checked(fields: MeetingFields, current: Meeting | None = None) -> dict[str, Any]:
    """The fields as the model takes them; raise Invalid naming every problem."""
    problems: dict[str, str] = {}
    number = None
    try:
        number = parse_meeting_number(fields.number)
    except ValueError:
        problems["number"] = _("Give the meeting's number, e.g. 45.")
    else:
        clash = db.session.scalar(select(Meeting).where(Meeting.number == number))
        if clash is not None and clash is not current:
            problems["number"] = _("There is already a meeting %(number)s.", number=number)
    held_on = None
    try:
        held_on = date.fromisoformat(fields.held_on.strip())
    except ValueError:
        problems["held_on"] = _("Write the date as YYYY-MM-DD, e.g. 2023-09-05.")
    place = fields.place.strip() or None
    if place is not None and len(place) > 200:
        problems["place"] = _("The place is longer than 200 characters.")
    participants = None
    if fields.participants_count.strip():
        text = fields.participants_count.strip()
        if not text.isdigit() or int(text) > MAX_PARTICIPANTS:
            problems["participants_count"] = _("The number of participants is a whole number.")
        else:
            participants = int(text)
    members = _organizations(fields.members_present, "members_present", problems)
    observers = _organizations(fields.observers_present, "observers_present", problems)
    both = {o.id for o in members} & {o.id for o in observers}
    if both:
        problems["observers_present"] = _(
            "An organization is present as a member or as an observer, not both: %(codes)s.",
            codes=", ".join(o.acronym for o in observers if o.id in both),
        )
    if problems:
        raise Invalid(" ".join(problems.values()), problems)
    return {
        "number": number,
        "held_on": held_on,
        "place": place,
        "is_virtual": fields.is_virtual,
        "participants_count": participants,
        "members": members,
        "observers": observers,
    }


def _state(meeting: Meeting) -> dict[str, Any]:
    """A meeting as plain values, for the audit trail's before and after."""
    return {
        "number": meeting.number,
        "held_on": meeting.held_on.isoformat(),
        "place": meeting.place,
        "is_virtual": meeting.is_virtual,
        "participants_count": meeting.participants_count,
        "members_present": [o.acronym for o in meeting.members_present],
        "observers_present": [o.acronym for o in meeting.observers_present],
    }


def _apply(meeting: Meeting, values: dict[str, Any]) -> None:
    meeting.number = values["number"]
    meeting.held_on = values["held_on"]
    meeting.place = values["place"]
    meeting.is_virtual = values["is_virtual"]
    meeting.participants_count = values["participants_count"]
    links = {link.organization_id: link for link in meeting.organization_links}
    wanted = []
    for org, is_observer in [(o, False) for o in values["members"]] + [
        (o, True) for o in values["observers"]
    ]:
        link = links.get(org.id) or MeetingOrganization(organization=org)
        link.is_observer = is_observer
        wanted.append(link)
    meeting.organization_links = wanted


@race_safe
def create_meeting(actor: User | None, fields: MeetingFields) -> Meeting:
    """Record a meeting of the Task Force."""
    access.require(actor, "manage_meetings")
    with transaction() as session:
        values = _checked(fields)
        meeting = Meeting()
        _apply(meeting, values)
        session.add(meeting)
        session.flush()
        audit(actor, "create_meeting", meeting, after=_state(meeting))
        return meeting


@race_safe
def update_meeting(actor: User | None, meeting_id: int, fields: MeetingFields) -> bool:
    """Change a meeting's number, date, place or attendance; False if nothing changed."""
    access.require(actor, "manage_meetings")
    with transaction() as session:
        meeting = session.get(Meeting, meeting_id)
        if meeting is None:
            raise NotFound(_("There is no such meeting."))
        values = _checked(fields, current=meeting)
        before = _state(meeting)
        _apply(meeting, values)
        session.flush()
        after = _state(meeting)
        if before == after:
            return False
        audit(actor, "update_meeting", meeting, **changed_fields(before, after))
        return True
