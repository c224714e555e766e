"""Translations as language versions: translators' queue and workspace, staff requests,
reviewers' checklist of a language version, and the coverage of the catalogue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for
from flask_babel import gettext as _

from knowledge_hub.csv_export import csv_text
from knowledge_hub.i18n import language_name
from knowledge_hub.models import Document
from knowledge_hub.models import RequestStatus
from knowledge_hub.models import TranslationRequest
from knowledge_hub.models import Variant
from knowledge_hub.queries import translations as translation_queries
from knowledge_hub.services import NotFound
from knowledge_hub.services import ReleaseRefused
from knowledge_hub.services import ServiceError
from knowledge_hub.services import translations
from knowledge_hub.services.documents import blob_store
from knowledge_hub.storage import StorageError
from knowledge_hub.web.forms import OUTCOMES
from knowledge_hub.web.forms import ChecklistForm
from knowledge_hub.web.forms import EmptyForm
from knowledge_hub.web.forms import checks_recorded
from knowledge_hub.web.forms import chosen_checks
from knowledge_hub.web.forms.translations import ConfirmForm
from knowledge_hub.web.forms.translations import DeliveryForm
from knowledge_hub.web.forms.translations import RequestForm
from knowledge_hub.web.forms.translations import TranslationCommentForm
from knowledge_hub.web.permissions import requires
from knowledge_hub.web.permissions import viewer

bp = Blueprint("translations", __name__)

UN_LANGUAGES = translation_queries.UN_LANGUAGES


def _flash_error(error: ServiceError) -> None:
    if isinstance(error, ReleaseRefused):
        flash(_("Not approved. Missing: %(items)s", items="; ".join(error.missing)), "error")
    else:
        flash(str(error), "error")


# --- translators ------------------------------------------------------------------


def _request(request_id: int) -> TranslationRequest:
    try:
        return translations.get_request(request_id)
    except NotFound:
        abort(404)


def _own_language(translation_request: TranslationRequest) -> None:
    if not translations.works_in(viewer(), translation_request.language):
        abort(403, description=_("This request is for translators who work in that language."))


def _claimed_by_me(translation_request: TranslationRequest) -> None:
    _own_language(translation_request)
    me = viewer()
    if translation_request.claimed_by_id != (me.id if me else None):
        abort(403, description=_("This request is claimed by someone else, or by nobody."))


@bp.get("/translate/")
@requires("translate")
def queue():
    return render_template(
        "translations/queue.html",
        queue=translation_queries.translator_queue(viewer()),
        button=EmptyForm(),
    )


@bp.post("/translate/<int:request_id>/claim")
@requires("translate")
def claim(request_id: int):
    translation_request = _request(request_id)
    _own_language(translation_request)
    if not EmptyForm().validate_on_submit():
        flash(_("The form was incomplete or expired: nothing was changed."), "error")
        return redirect(url_for("translations.queue"))
    try:
        translations.claim(viewer(), translation_request)
    except ServiceError as e:
        _flash_error(e)
        return redirect(url_for("translations.queue"))
    flash(_("Claimed. The request is yours until you deliver or give it back."), "success")
    return redirect(url_for("translations.workspace", request_id=request_id))


@bp.post("/translate/<int:request_id>/release")
@requires("translate")
def release(request_id: int):
    translation_request = _request(request_id)
    _claimed_by_me(translation_request)
    if not EmptyForm().validate_on_submit():
        flash(_("The form was incomplete or expired: nothing was changed."), "error")
    else:
        try:
            translations.release_claim(viewer(), translation_request)
        except ServiceError as e:
            _flash_error(e)
        else:
            flash(_("Given back: other translators can claim it now."), "success")
    return redirect(url_for("translations.queue"))


@bp.route("/translate/<int:request_id>", methods=["GET", "POST"])
@requires("translate")
def workspace(request_id: int):
    translation_request = _request(request_id)
    _claimed_by_me(translation_request)
    document = translation_request.document
    variant = document.variant_in(translation_request.language)
    form = DeliveryForm()
    status = 200
    if not form.is_submitted() and variant is not None:
        form.title.data = variant.title
        form.summary.data = variant.summary
    elif form.is_submitted():
        if form.validate():
            uploads = [
                (f.filename or "", f.stream)
                for f in request.files.getlist("files")
                if f and f.filename
            ]
            try:
                translations.submit(
                    viewer(), translation_request, form.title.data, form.summary.data, uploads
                )
            except ServiceError as e:
                _flash_error(e)
                status = 400
            else:
                flash(_("Delivered: the translation now waits for a reviewer."), "success")
                return redirect(url_for("translations.queue"))
        else:
            flash(_("The form was incomplete or expired: nothing was changed."), "error")
            status = 400
    comment = ""
    if variant is not None and variant.status.value == "sent_back":
        comment = translation_queries.send_back_comment(variant)
    return render_template(
        "translations/workspace.html",
        translation_request=translation_request,
        document=document,
        original=document.original,
        variant=variant,
        comment=comment,
        can_submit=translation_request.status == RequestStatus.CLAIMED,
        form=form,
        button=EmptyForm(),
    ), status


@bp.get("/translate/<int:request_id>/original/<int:file_id>")
@requires("translate")
def original_file(request_id: int, file_id: int):
    translation_request = _request(request_id)
    _claimed_by_me(translation_request)
    original = translation_request.document.original
    stored = next((f for f in (original.files if original else []) if f.id == file_id), None)
    if stored is None:
        abort(404)
    try:
        stream = blob_store().open(stored.sha256)
    except StorageError:
        current_app.logger.error("stored file %s is missing from the blob store", stored.sha256)
        abort(
            410, description=_("The file is missing from storage; the secretariat has been told.")
        )
    return send_file(
        stream, mimetype=stored.media_type, as_attachment=True, download_name=stored.original_name
    )


# --- staff: requests --------------------------------------------------------------


def _document(document_id: int) -> Document:
    document = translation_queries.record(viewer(), document_id)
    if document is None:
        abort(404)
    return document


def _requestable(document: Document) -> list[str]:
    """UN languages the record lacks (or has only out of date) and nobody works on."""
    out = []
    for language in UN_LANGUAGES:
        if language == document.original_language.split("-")[0]:
            continue
        existing = document.variant_in(language)
        if existing is not None and not existing.is_out_of_date:
            continue
        if translations.active_request(document, language) is not None:
            continue
        out.append(language)
    return out


@bp.route("/translations/request/<int:document_id>", methods=["GET", "POST"])
@requires("request_translation")
def request_page(document_id: int):

    document = _document(document_id)
    form = RequestForm()
    form.languages.choices = [(code, language_name(code)) for code in _requestable(document)]
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                created = translations.request_translations(
                    viewer(), document, form.languages.data, form.due_on.data, form.note.data or ""
                )
            except ServiceError as e:
                _flash_error(e)
                status = 400
            else:
                if created:
                    flash(
                        _(
                            "Requested: %(languages)s.",
                            languages=", ".join(language_name(r.language) for r in created),
                        ),
                        "success",
                    )
                else:
                    flash(_("Nothing was requested: those languages are covered already."), "info")
                return redirect(url_for("translations.request_page", document_id=document_id))
        else:
            flash(_("The form was incomplete or expired: nothing was changed."), "error")
            status = 400
    requests = [
        r for r in (translations.active_request(document, code) for code in UN_LANGUAGES) if r
    ]
    return render_template(
        "translations/request.html", document=document, form=form, requests=requests
    ), status


# --- reviewers --------------------------------------------------------------------


def _variant(document_id: int, language: str) -> Variant:
    document = _document(document_id)
    variant = document.variant_in(language)
    if variant is None or variant.is_original:
        abort(404)
    return variant


def _back(document_id: int, language: str):
    return redirect(url_for("translations.checklist", document_id=document_id, language=language))


@bp.get("/translations/review/")
@requires("view_checklist")
def review_queue():
    return render_template(
        "translations/review_queue.html",
        waiting=translation_queries.translations_in_review(),
        out_of_date=translation_queries.out_of_date_translations(),
    )


@bp.get("/translations/review/<int:document_id>/<language>")
@requires("view_checklist")
def checklist(document_id: int, language: str):
    variant = _variant(document_id, language)
    result = translations.translation_checklist(viewer(), variant)
    return render_template(
        "translations/checklist.html",
        document=variant.document,
        original=variant.document.original,
        variant=variant,
        result=result,
        comment=translation_queries.send_back_comment(variant)
        if variant.status.value == "sent_back"
        else "",
        attest_form=ChecklistForm(),
        comment_form=TranslationCommentForm(),
        confirm_form=ConfirmForm(),
        button=EmptyForm(),
    )


def _run(document_id: int, language: str, form, action, success: str | Callable[[Any], str]):
    """Validate the posted form, run one service call, and say how it went (`success`
    may word the message from what the call returned)."""
    variant = _variant(document_id, language)
    if not form.validate_on_submit():
        flash(_("The form was incomplete or expired: nothing was changed."), "error")
        return _back(document_id, language)
    try:
        done = action(variant, form)
    except ServiceError as e:
        _flash_error(e)
    else:
        flash(success(done) if callable(success) else success, "success")
    return _back(document_id, language)


@bp.post("/translations/review/<int:document_id>/<language>/attest", defaults={"outcome": None})
@bp.post("/translations/review/<int:document_id>/<language>/attest/<outcome>")
@requires("review_translation")
def attest(document_id: int, language: str, outcome: str | None):
    """The checklist's checks, several at once; or one, its outcome in the address."""
    if outcome is not None and outcome not in OUTCOMES:
        abort(404)
    return _run(
        document_id,
        language,
        ChecklistForm(),
        lambda v, f: translations.attest_translation_many(
            viewer(), v, chosen_checks(request.form, outcome)
        ),
        checks_recorded,
    )


@bp.post("/translations/review/<int:document_id>/<language>/approve")
@requires("review_translation")
def approve(document_id: int, language: str):
    return _run(
        document_id,
        language,
        EmptyForm(),
        lambda v, f: translations.approve(viewer(), v),
        _("Approved."),
    )


@bp.post("/translations/review/<int:document_id>/<language>/send-back")
@requires("review_translation")
def send_back(document_id: int, language: str):
    return _run(
        document_id,
        language,
        TranslationCommentForm(),
        lambda v, f: translations.send_back(viewer(), v, f.comment.data),
        _("Sent back to the translator."),
    )


@bp.post("/translations/review/<int:document_id>/<language>/confirm")
@requires("review_translation")
def confirm(document_id: int, language: str):
    return _run(
        document_id,
        language,
        ConfirmForm(),
        lambda v, f: translations.confirm_current(viewer(), v, f.comment.data or ""),
        _("Confirmed: the translation holds for the current original."),
    )


# --- coverage ---------------------------------------------------------------------


def _coverage():
    wanted = translation_queries.CoverageFilter.clean(
        request.args.get("type", ""),
        request.args.get("year", ""),
        request.args.get("organization", ""),
    )
    return wanted, translation_queries.coverage(viewer(), wanted)


@bp.get("/translations/coverage")
@requires("view_coverage")
def coverage():
    wanted, table = _coverage()
    types, years, organizations = translation_queries.coverage_choices()
    return render_template(
        "translations/coverage.html",
        wanted=wanted,
        table=table,
        types=types,
        years=years,
        organizations=organizations,
    )


@bp.get("/translations/coverage.csv")
@requires("view_coverage")
def coverage_csv():
    wanted, table = _coverage()
    rows = (
        (
            row.document.ref,
            row.document.original.title if row.document.original else "",
            row.document.doc_type.code if row.document.doc_type else "",
            row.document.year or "",
            *(row.cells[language] for language in table.languages),
        )
        for row in table.rows
    )
    return Response(
        csv_text(["ref", "title", "type", "year", *table.languages], rows),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=translation-coverage.csv"},
    )
