"""Saved searches and translation alerts: saving, confirming, managing, unsubscribing;
and sending the mail a request queued once its response has gone."""

from __future__ import annotations

import logging

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.wrappers import Response
from flask_babel import gettext as _
from flask_login import login_required

from knowledge_hub import i18n
from knowledge_hub.extensions import csrf
from knowledge_hub.queries import alerts as alert_queries
from knowledge_hub.search import BadQuery
from knowledge_hub.services import ServiceError
from knowledge_hub.services import alerts as alert_service
from knowledge_hub.services import mail as mail_service
from knowledge_hub.web import params
from knowledge_hub.web.forms import EmptyForm
from knowledge_hub.web.permissions import viewer

log = logging.getLogger(__name__)

bp = Blueprint("alerts", __name__, url_prefix="/alerts")


@bp.after_app_request
def _send_queued_mail_after_the_response(response: Response) -> Response:
    """A request that queued mail sends it when its response is done, so that an
    invitation or a reset link arrives at once; `hub send-mail` catches up otherwise."""
    if not mail_service.queued_during_this_request():
        return response
    app = current_app._get_current_object()
    if not app.config.get("MAIL_SEND_AFTER_REQUEST"):
        return response

    def send() -> None:
        with app.app_context():
            try:
                mail_service.send_queued(limit=20)
            except Exception:
                # The mail is committed in the queue: a scheduled `hub send-mail` sends it.
                log.exception("sending the queued mail after a request failed")

    response.call_on_close(send)
    return response


def _back(default: str) -> str:
    """Where a form came from, on this site only."""
    target = request.form.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else default


@bp.post("/save")
def save():
    """Save the search the form carries (its words and filters) for alerts."""
    try:
        wanted = params.search_request(request.form)
        saved = alert_service.save_search(
            viewer(),
            request.form.get("email"),
            wanted.q,
            wanted.filters,
            request.form.get("frequency", ""),
            i18n.current_language(),
        )
    except (ServiceError, BadQuery) as e:
        flash(str(e), "error")
        return redirect(_back(url_for("public.search")))
    if saved.confirmed_at is None:
        flash(_confirm_message(saved.email), "success")
    else:
        flash(_("The search is saved: you will be sent what is new in it."), "success")
    return redirect(_back(url_for("alerts.index")))


def _confirm_message(email: str) -> str:
    return _(
        "A link to confirm the address is on its way to %(email)s; alerts start once it is "
        "followed.",
        email=email,
    )


@bp.post("/watch/<int:document_id>")
def watch(document_id: int):
    """Tell me when this record is available in a language."""
    landing = url_for("documents.landing", document_id=document_id)
    try:
        saved = alert_service.watch_translation(
            viewer(),
            request.form.get("email"),
            document_id,
            request.form.get("language", ""),
            i18n.current_language(),
        )
    except ServiceError as e:
        flash(str(e), "error")
        return redirect(landing)
    if saved.confirmed_at is None:
        flash(_confirm_message(saved.email), "success")
    else:
        flash(_("You will be told by mail when it is available."), "success")
    return redirect(landing)


@bp.get("/")
@login_required
def index():
    """The signed-in reader's saved searches and translation alerts."""
    return render_template(
        "alerts/index.html", searches=alert_queries.saved_searches(viewer()), form=EmptyForm()
    )


@bp.post("/<int:saved_id>/frequency")
@login_required
def frequency(saved_id: int):
    if EmptyForm().validate_on_submit():
        try:
            alert_service.change_frequency(viewer(), saved_id, request.form.get("frequency", ""))
        except ServiceError as e:
            flash(str(e), "error")
        else:
            flash(_("Saved."), "success")
    return redirect(url_for("alerts.index"))


@bp.post("/<int:saved_id>/delete")
@login_required
def delete(saved_id: int):
    if EmptyForm().validate_on_submit():
        try:
            alert_service.delete(viewer(), saved_id)
        except ServiceError as e:
            flash(str(e), "error")
        else:
            flash(_("The alert is removed."), "success")
    return redirect(url_for("alerts.index"))


# --- links in mail: the token in the address is the permission

_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """Confirm an address (a button, so that a mail scanner following links confirms
    nothing)."""
    saved = alert_queries.saved_search_by_token(token)
    if saved is None:
        return render_template("alerts/confirm.html", saved=None), 404, _PRIVATE
    if request.method == "POST" and EmptyForm().validate_on_submit():
        alert_service.confirm(token)
        flash(_("The address is confirmed: alerts will follow."), "success")
        return redirect(url_for("public.home"))
    return render_template("alerts/confirm.html", saved=saved, form=EmptyForm()), 200, _PRIVATE


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail programs post "List-Unsubscribe=One-Click", with no form
def unsubscribe(token: str):
    """Stop an alert: one POST (what a mail program's unsubscribe button sends), or the
    page a link in the mail opens, with its button."""
    if request.method == "POST":
        removed = alert_service.unsubscribe(token)
        return (
            render_template("alerts/unsubscribe.html", saved=None, removed=removed),
            200,
            _PRIVATE,
        )
    saved = alert_queries.saved_search_by_token(token)
    status = 200 if saved is not None else 404
    page = render_template("alerts/unsubscribe.html", saved=saved, removed=False)
    return page, status, _PRIVATE
