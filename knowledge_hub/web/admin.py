"""Administration: users, organizations, vocabularies, the criteria set, the audit log."""

from __future__ import annotations

import json
from collections.abc import Iterator

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import stream_with_context
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from knowledge_hub.csv_export import csv_lines
from knowledge_hub.models import Role
from knowledge_hub.models.base import utcnow
from knowledge_hub.queries import admin as admin_queries
from knowledge_hub.queries import alerts as alert_queries
from knowledge_hub.services import Invalid
from knowledge_hub.services import ServiceError
from knowledge_hub.services import criteria_set as criteria_service
from knowledge_hub.services import organizations as organization_service
from knowledge_hub.services import users as user_service
from knowledge_hub.services import vocabularies as vocabulary_service
from knowledge_hub.web.forms import EmptyForm
from knowledge_hub.web.forms.admin import AuditFilterForm
from knowledge_hub.web.forms.admin import CriterionForm
from knowledge_hub.web.forms.admin import InviteForm
from knowledge_hub.web.forms.admin import NewCriterionForm
from knowledge_hub.web.forms.admin import OrganizationForm
from knowledge_hub.web.forms.admin import ReasonForm
from knowledge_hub.web.forms.admin import RelabelForm
from knowledge_hub.web.forms.admin import ResetForm
from knowledge_hub.web.forms.admin import UserFilterForm
from knowledge_hub.web.forms.admin import UserForm
from knowledge_hub.web.forms.admin import VocabularyEntryForm
from knowledge_hub.web.permissions import requires
from knowledge_hub.web.permissions import viewer

bp = Blueprint("admin", __name__, url_prefix="/admin")

VOCABULARY_TITLES = {"types": _l("Document types"), "topics": _l("Topics")}


def _expired_form() -> None:
    flash(_("The form was incomplete or expired: nothing was changed."), "error")


def _show_error(form: FlaskForm | None, error: ServiceError) -> None:
    """Flash what went wrong, and mark the fields it concerns."""
    flash(str(error), "error")
    if form is not None and isinstance(error, Invalid):
        for name, message in error.problems.items():
            field = form._fields.get({"role": "roles", "language": "languages"}.get(name, name))
            if field is not None:
                field.errors = [*field.errors, message]


def _one_of(word: str, *allowed: str) -> None:
    """404 unless a word of the address is one the route knows.

    Checked in the view, after the permission: a refused role is told so, whatever the
    address, and learns nothing about which addresses exist.
    """
    if word not in allowed:
        abort(404)


def _status(form: FlaskForm) -> int:
    """200 for a form shown, 400 for one sent back with errors."""
    return 400 if form.is_submitted() else 200


def _flash_version(version) -> None:
    """Say whether a criteria edit made a new version of the set."""
    if version is None:
        flash(_("Nothing changed."), "success")
    else:
        flash(
            _("Saved. The criteria set is now at version %(number)d.", number=version.number),
            "success",
        )


@bp.get("/")
@requires("manage_users")
def index():
    return redirect(url_for("admin.users"))


# --- users


@bp.get("/users")
@requires("manage_users")
def users():
    form = UserFilterForm(request.args)
    # A value that is not among the choices (an edited address) filters nothing.
    role = form.role.data if form.role.data in Role._value2member_map_ else None
    active = {"active": True, "disabled": False}.get(form.status.data or "")
    return render_template("admin/users.html", users=admin_queries.users(role, active), form=form)


def _invitation_page(invitation: user_service.Invitation, *, reset: bool):
    if invitation.mailed:
        # The link went into the mail queue: it is not shown to anyone else.
        flash(_("The link is sent by mail to %(email)s.", email=invitation.user.email), "success")
        return redirect(url_for("admin.user", user_id=invitation.user.id))
    link = url_for("auth.invitation", token=invitation.token, _external=True)
    # Shown once, on this response only: the link is not kept anywhere else.
    response = Response(
        render_template(
            "admin/invitation.html",
            account=invitation.user,
            link=link,
            reset=reset,
            days=user_service.INVITATION_MAX_AGE.days,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/users/invite", methods=["GET", "POST"])
@requires("manage_users")
def invite():
    form = InviteForm()
    form.set_choices(admin_queries.organization_choices())
    if form.validate_on_submit():
        try:
            invitation = user_service.invite_user(
                viewer(),
                form.email.data,
                form.name.data,
                form.roles.data or [],
                form.organization.data or None,
                form.languages.data or [],
            )
        except ServiceError as e:
            _show_error(form, e)
        else:
            flash(
                _("The account for %(email)s is created.", email=invitation.user.email), "success"
            )
            return _invitation_page(invitation, reset=False)
    page = render_template("admin/invite.html", form=form, mail=alert_queries.mail_status())
    return page, _status(form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires("manage_users")
def user(user_id: int):
    account = admin_queries.user(user_id)
    if account is None:
        abort(404)
    form = UserForm(
        data={
            "name": account.name,
            "roles": list(account.roles),
            "organization": account.organization.acronym if account.organization else "",
            "languages": list(account.languages),
        }
    )
    form.set_choices(admin_queries.organization_choices())
    if form.validate_on_submit():
        try:
            changed = user_service.update_user(
                viewer(),
                user_id,
                name=form.name.data,
                roles=form.roles.data or [],
                organization=form.organization.data or None,
                languages=form.languages.data or [],
            )
        except ServiceError as e:
            _show_error(form, e)
        else:
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("admin.user", user_id=user_id))
    return (
        render_template("admin/user.html", account=account, form=form),
        _status(form),
    )


@bp.post("/users/<int:user_id>/<change>")
@requires("manage_users")
def set_user_active(user_id: int, change: str):
    _one_of(change, "disable", "enable")
    if not EmptyForm().validate_on_submit():
        _expired_form()
    else:
        try:
            changed = user_service.set_user_active(viewer(), user_id, change == "enable")
        except ServiceError as e:
            flash(str(e), "error")
        else:
            if not changed:
                flash(_("Nothing changed."), "success")
            elif change == "enable":
                flash(_("The account is enabled."), "success")
            else:
                flash(_("The account is disabled and its open sessions have ended."), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/reset")
@requires("manage_users")
def reset_user(user_id: int):
    if not ResetForm().validate_on_submit():
        flash(_("Tick the box to confirm the reset: nothing was changed."), "error")
        return redirect(url_for("admin.user", user_id=user_id))
    try:
        invitation = user_service.reset_user(viewer(), user_id)
    except ServiceError as e:
        flash(str(e), "error")
        return redirect(url_for("admin.user", user_id=user_id))
    flash(
        _(
            "The password of %(email)s is cleared and their sessions have ended.",
            email=invitation.user.email,
        ),
        "success",
    )
    return _invitation_page(invitation, reset=True)


# --- mail


@bp.get("/mail")
@requires("manage_users")
def mail():
    return render_template("admin/mail.html", status=alert_queries.mail_status())


# --- organizations


@bp.get("/organizations")
@requires("manage_vocabularies")
def organizations():
    return render_template("admin/organizations.html", organizations=admin_queries.organizations())


@bp.route("/organizations/new", methods=["GET", "POST"])
@requires("manage_vocabularies")
def new_organization():
    form = OrganizationForm()
    if form.validate_on_submit():
        try:
            org = organization_service.add_organization(
                viewer(), form.acronym.data, form.name.data, form.kind.data, form.url.data
            )
        except ServiceError as e:
            _show_error(form, e)
        else:
            flash(_("%(acronym)s is added.", acronym=org.acronym), "success")
            return redirect(url_for("admin.organizations"))
    return render_template("admin/organization.html", form=form, org=None), _status(form)


@bp.route("/organizations/<int:organization_id>", methods=["GET", "POST"])
@requires("manage_vocabularies")
def organization(organization_id: int):
    org = admin_queries.organization(organization_id)
    if org is None:
        abort(404)
    form = OrganizationForm(
        data={"acronym": org.acronym, "name": org.name, "kind": str(org.kind), "url": org.url}
    )
    if form.validate_on_submit():
        try:
            changed = organization_service.update_organization(
                viewer(),
                organization_id,
                form.acronym.data,
                form.name.data,
                form.kind.data,
                form.url.data,
            )
        except ServiceError as e:
            _show_error(form, e)
        else:
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("admin.organizations"))
    return render_template("admin/organization.html", form=form, org=org), _status(form)


# --- vocabularies


@bp.get("/vocabularies")
@requires("manage_vocabularies")
def vocabularies():
    return redirect(url_for("admin.vocabulary", vocabulary="types"))


def _vocabulary_page(vocabulary: str, add_form: VocabularyEntryForm, status: int = 200):
    return (
        render_template(
            "admin/vocabulary.html",
            vocabulary=vocabulary,
            title=str(VOCABULARY_TITLES[vocabulary]),
            entries=admin_queries.vocabulary(vocabulary),
            add_form=add_form,
        ),
        status,
    )


@bp.get("/vocabularies/<vocabulary>")
@requires("manage_vocabularies")
def vocabulary(vocabulary: str):
    _one_of(vocabulary, *VOCABULARY_TITLES)
    return _vocabulary_page(vocabulary, VocabularyEntryForm(formdata=None))


@bp.post("/vocabularies/<vocabulary>/new")
@requires("manage_vocabularies")
def add_vocabulary_entry(vocabulary: str):
    _one_of(vocabulary, *VOCABULARY_TITLES)
    form = VocabularyEntryForm()
    if form.validate_on_submit():
        try:
            entry = vocabulary_service.add_vocabulary_entry(
                viewer(), vocabulary, form.code.data, form.label.data
            )
        except ServiceError as e:
            _show_error(form, e)
        else:
            flash(_("%(code)s is added.", code=entry.code), "success")
            return redirect(url_for("admin.vocabulary", vocabulary=vocabulary))
    return _vocabulary_page(vocabulary, form, 400)


@bp.post("/vocabularies/<vocabulary>/<int:entry_id>/label")
@requires("manage_vocabularies")
def relabel_vocabulary_entry(vocabulary: str, entry_id: int):
    _one_of(vocabulary, *VOCABULARY_TITLES)
    form = RelabelForm()
    if not form.validate_on_submit():
        flash(_("The label is missing or too long: nothing was changed."), "error")
    else:
        try:
            changed = vocabulary_service.relabel_vocabulary_entry(
                viewer(), vocabulary, entry_id, form.label.data
            )
        except ServiceError as e:
            flash(str(e), "error")
        else:
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("admin.vocabulary", vocabulary=vocabulary))


@bp.post("/vocabularies/<vocabulary>/<int:entry_id>/<change>")
@requires("manage_vocabularies")
def set_vocabulary_entry_active(vocabulary: str, entry_id: int, change: str):
    _one_of(vocabulary, *VOCABULARY_TITLES)
    _one_of(change, "retire", "restore")
    if not EmptyForm().validate_on_submit():
        _expired_form()
    else:
        try:
            changed = vocabulary_service.set_vocabulary_entry_active(
                viewer(), vocabulary, entry_id, change == "restore"
            )
        except ServiceError as e:
            flash(str(e), "error")
        else:
            if not changed:
                flash(_("Nothing changed."), "success")
            elif change == "restore":
                flash(_("Restored: it is offered for new records again."), "success")
            else:
                flash(
                    _("Retired: it stays on existing records but is not offered for new ones."),
                    "success",
                )
    return redirect(url_for("admin.vocabulary", vocabulary=vocabulary))


# --- the criteria set


def _criterion_fields(form: CriterionForm) -> criteria_service.CriterionFields:
    return criteria_service.CriterionFields(
        label=form.label.data or "",
        help_text=form.help_text.data or "",
        kind=form.kind.data or "",
        is_required=bool(form.is_required.data),
        applies_to=list(form.applies_to.data or []),
    )


@bp.get("/criteria")
@requires("manage_criteria")
def criteria():
    return render_template(
        "admin/criteria.html",
        criteria=admin_queries.criteria(),
        versions=admin_queries.criteria_versions(),
    )


@bp.route("/criteria/new", methods=["GET", "POST"])
@requires("manage_criteria")
def new_criterion():
    form = NewCriterionForm()
    if not form.is_submitted():
        form.applies_to.data = ["publication"]
    if form.validate_on_submit():
        try:
            criterion, version = criteria_service.add_criterion(
                viewer(), form.code.data, _criterion_fields(form), form.reason.data or ""
            )
        except ServiceError as e:
            _show_error(form, e)
        else:
            flash(
                _(
                    "%(code)s is added. The criteria set is now at version %(number)d.",
                    code=criterion.code,
                    number=version.number,
                ),
                "success",
            )
            return redirect(url_for("admin.criteria"))
    return render_template("admin/criterion.html", form=form, criterion=None), _status(form)


@bp.route("/criteria/<int:criterion_id>", methods=["GET", "POST"])
@requires("manage_criteria")
def criterion(criterion_id: int):
    item = admin_queries.criterion(criterion_id)
    if item is None:
        abort(404)
    form = CriterionForm(
        data={
            "label": item.label,
            "help_text": item.help_text,
            "kind": str(item.kind),
            "is_required": item.is_required,
            "applies_to": list(item.applies_to),
        }
    )
    if form.validate_on_submit():
        try:
            version = criteria_service.update_criterion(
                viewer(), criterion_id, _criterion_fields(form), form.reason.data or ""
            )
        except ServiceError as e:
            _show_error(form, e)
        else:
            _flash_version(version)
            return redirect(url_for("admin.criteria"))
    return render_template("admin/criterion.html", form=form, criterion=item), _status(form)


@bp.post("/criteria/<int:criterion_id>/<change>")
@requires("manage_criteria")
def set_criterion_active(criterion_id: int, change: str):
    _one_of(change, "retire", "restore")
    form = ReasonForm()
    if not form.validate_on_submit():
        _expired_form()
    else:
        try:
            version = criteria_service.set_criterion_active(
                viewer(), criterion_id, change == "restore", form.reason.data or ""
            )
        except ServiceError as e:
            flash(str(e), "error")
        else:
            _flash_version(version)
    return redirect(url_for("admin.criteria"))


@bp.post("/criteria/<int:criterion_id>/move/<direction>")
@requires("manage_criteria")
def move_criterion(criterion_id: int, direction: str):
    _one_of(direction, "up", "down")
    if not EmptyForm().validate_on_submit():
        _expired_form()
    else:
        try:
            version = criteria_service.move_criterion(viewer(), criterion_id, direction)
        except ServiceError as e:
            flash(str(e), "error")
        else:
            flash(
                _("Moved. The criteria set is now at version %(number)d.", number=version.number),
                "success",
            )
    return redirect(url_for("admin.criteria") + f"#criterion-{criterion_id}")


@bp.get("/criteria/versions/<int:number>")
@requires("manage_criteria")
def criteria_version(number: int):
    row = admin_queries.criteria_version(number)
    if row is None:
        abort(404)
    return render_template("admin/criteria_version.html", row=row)


# --- the audit log


def _audit_filters() -> tuple[AuditFilterForm, admin_queries.AuditFilters]:
    form = AuditFilterForm(request.args)
    form.set_actions(admin_queries.audit_actions())
    # A wrong field is reported beside it; the fields that are right still filter.
    form.validate()
    filters = admin_queries.AuditFilters(
        action=(form.action.data or "") if not form.action.errors else "",
        actor=(form.actor.data or "") if not form.actor.errors else "",
        record=(form.record.data or "") if not form.record.errors else "",
        since=form.since.data if not form.since.errors else None,
        until=form.until.data if not form.until.errors else None,
    )
    return form, filters


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


@bp.get("/audit")
@requires("view_audit")
def audit():
    form, filters = _audit_filters()
    page = admin_queries.audit_page(filters, _page_number())
    csv_args = {k: v for k, v in request.args.items() if k not in ("page", "lang") and v}
    return render_template(
        "admin/audit.html",
        form=form,
        filters=filters,
        page=page,
        csv_url=url_for("admin.audit_csv", **csv_args),
    )


AUDIT_CSV_COLUMNS = (
    "id",
    "at_utc",
    "actor",
    "action",
    "object_type",
    "object_id",
    "record_id",
    "record_ref",
    "address",
    "details",
)


def _audit_rows(filters: admin_queries.AuditFilters) -> Iterator[tuple]:
    for event, email, ref in admin_queries.audit_rows(filters):
        yield (
            event.id,
            event.at.isoformat(sep=" ", timespec="seconds"),
            email,
            event.action,
            event.object_type,
            event.object_id,
            event.document_id,
            ref,
            event.address,
            json.dumps(event.details, ensure_ascii=False, sort_keys=True, default=str),
        )


@bp.get("/audit.csv")
@requires("view_audit")
def audit_csv():
    __, filters = _audit_filters()
    name = f"audit-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(
        stream_with_context(csv_lines(AUDIT_CSV_COLUMNS, _audit_rows(filters))),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
