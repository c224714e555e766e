"""The Task Force's meetings: the list and each meeting's page for every reader, and the
staff's forms to record and correct them."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext as _

from knowledge_hub import i18n
from knowledge_hub.models import Meeting
from knowledge_hub.queries import meetings as meeting_queries
from knowledge_hub.queries import staff as staff_queries
from knowledge_hub.services import Invalid
from knowledge_hub.services import ServiceError
from knowledge_hub.services import meetings
from knowledge_hub.web.forms.meetings import MeetingForm
from knowledge_hub.web.forms.staff import show_problems
from knowledge_hub.web.permissions import requires
from knowledge_hub.web.permissions import viewer

bp = Blueprint("meetings", __name__, url_prefix="/meetings")


def _meeting(number: int) -> Meeting:
    meeting = meeting_queries.meeting_numbered(number)
    if meeting is None:
        abort(404, description=_("There is no such meeting."))
    return meeting


@bp.get("/")
def index():
    return render_template("meetings/index.html", entries=meeting_queries.meetings_list(viewer()))


@bp.get("/<int:number>")
def meeting(number: int):
    found = _meeting(number)
    return render_template(
        "meetings/meeting.html",
        meeting=found,
        entries=meeting_queries.meeting_documents(viewer(), found, i18n.reader_languages()),
    )


def _form_page(form: MeetingForm, found: Meeting | None):
    status = 400 if form.is_submitted() else 200
    return render_template("meetings/form.html", form=form, meeting=found), status


def _saving_failed(form: MeetingForm, error: ServiceError) -> None:
    if isinstance(error, Invalid):
        for message in show_problems(form, error.problems, str(error)):
            flash(message, "error")
    else:
        flash(str(error), "error")


@bp.route("/new", methods=["GET", "POST"])
@requires("manage_meetings")
def new():
    form = MeetingForm()
    form.set_choices(staff_queries.vocabularies().organizations)
    if form.validate_on_submit():
        try:
            created = meetings.create_meeting(viewer(), form.meeting_fields())
        except ServiceError as e:
            _saving_failed(form, e)
        else:
            flash(_("Meeting %(number)s is recorded.", number=created.number), "success")
            return redirect(url_for("meetings.meeting", number=created.number))
    return _form_page(form, None)


@bp.route("/<int:number>/edit", methods=["GET", "POST"])
@requires("manage_meetings")
def edit(number: int):
    found = _meeting(number)
    form = MeetingForm()
    form.set_choices(staff_queries.vocabularies().organizations)
    if not form.is_submitted():
        form.load(found)
    elif form.validate():
        try:
            changed = meetings.update_meeting(viewer(), found.id, form.meeting_fields())
        except ServiceError as e:
            _saving_failed(form, e)
        else:
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("meetings.meeting", number=found.number))
    return _form_page(form, found)
