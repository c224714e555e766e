"""Reviewers' work: the queue, each record's checklist, and release."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _

from knowledge_hub.models import Document
from knowledge_hub.queries import public as public_queries
from knowledge_hub.queries import review as review_queries
from knowledge_hub.services import ReleaseRefused
from knowledge_hub.services import ServiceError
from knowledge_hub.services import review
from knowledge_hub.web.forms import OUTCOMES
from knowledge_hub.web.forms import AttestationForm
from knowledge_hub.web.forms import ChecklistForm
from knowledge_hub.web.forms import CommentForm
from knowledge_hub.web.forms import EmptyForm
from knowledge_hub.web.forms import checks_recorded
from knowledge_hub.web.forms import chosen_checks
from knowledge_hub.web.permissions import requires
from knowledge_hub.web.permissions import viewer

bp = Blueprint("review", __name__, url_prefix="/review")


def _document(document_id: int) -> Document:
    # The checklist's facts include whether each file's text was extracted.
    document = public_queries.landing_page(viewer(), document_id, with_texts=True)
    if document is None:
        abort(404)
    return document


def _back(document_id: int):
    return redirect(url_for("review.checklist", document_id=document_id))


@bp.get("/")
@requires("view_checklist")
def queue():
    return render_template("review/queue.html", queue=review_queries.review_queue(viewer()))


@bp.get("/<int:document_id>")
@requires("view_checklist")
def checklist(document_id: int):
    document = _document(document_id)
    result = review.checklist(viewer(), document)
    return render_template(
        "review/checklist.html",
        document=document,
        result=result,
        attest_form=ChecklistForm(),
        comment_form=CommentForm(),
        button=EmptyForm(),
    )


@bp.get("/<int:document_id>/history")
@requires("view_history")
def history(document_id: int):
    document = _document(document_id)
    return render_template(
        "review/history.html",
        document=document,
        events=review_queries.document_history(document.id),
    )


def _run(document_id: int, form, action, success: str | Callable[[Any], str]):
    """Validate the posted form, run one service call, and say how it went (`success`
    may word the message from what the call returned)."""
    document = _document(document_id)
    if not form.validate_on_submit():
        flash(_("The form was incomplete or expired: nothing was changed."), "error")
        return _back(document_id)
    try:
        done = action(document, form)
    except ReleaseRefused as e:
        flash(_("Not released. Missing: %(items)s", items="; ".join(e.missing)), "error")
    except ServiceError as e:
        flash(str(e), "error")
    else:
        flash(success(done) if callable(success) else success, "success")
    return _back(document_id)


@bp.post("/<int:document_id>/submit")
@requires("edit")
def submit(document_id: int):
    return _run(
        document_id,
        EmptyForm(),
        lambda d, f: review.submit_for_review(viewer(), d),
        _("Sent to the reviewers."),
    )


@bp.post("/<int:document_id>/attest", defaults={"outcome": None})
@bp.post("/<int:document_id>/attest/<outcome>")
@requires("attest")
def attest(document_id: int, outcome: str | None):
    """The checklist's checks, several at once; or one, its outcome in the address."""
    if outcome is not None and outcome not in OUTCOMES:
        abort(404)
    return _run(
        document_id,
        ChecklistForm(),
        lambda d, f: review.attest_many(viewer(), d, chosen_checks(request.form, outcome)),
        checks_recorded,
    )


@bp.post("/<int:document_id>/waive")
@requires("waive")
def waive(document_id: int):
    return _run(
        document_id,
        AttestationForm(),
        lambda d, f: review.waive(viewer(), d, f.code.data, f.comment.data or ""),
        _("Waived."),
    )


@bp.post("/<int:document_id>/send-back")
@requires("send_back")
def send_back(document_id: int):
    return _run(
        document_id,
        CommentForm(),
        lambda d, f: review.send_back(viewer(), d, f.comment.data),
        _("Sent back to the secretariat."),
    )


@bp.post("/<int:document_id>/release")
@requires("release")
def release(document_id: int):
    return _run(document_id, EmptyForm(), lambda d, f: review.release(viewer(), d), _("Released."))


@bp.post("/<int:document_id>/withdraw")
@requires("withdraw")
def withdraw(document_id: int):
    return _run(
        document_id,
        CommentForm(),
        lambda d, f: review.withdraw(viewer(), d, f.comment.data),
        _("Withdrawn. The landing page stays with a notice; the files are no longer served."),
    )
