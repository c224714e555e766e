"""The secretariat's work: records, their language versions and files, bulk import."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from knowledge_hub import counter
from knowledge_hub.csv_export import csv_text
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentKind
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import Variant
from knowledge_hub.models.base import utcnow
from knowledge_hub.queries import ocr as ocr_queries
from knowledge_hub.queries import staff as staff_queries
from knowledge_hub.queries import statistics as statistics_queries
from knowledge_hub.services import Invalid
from knowledge_hub.services import NotFound
from knowledge_hub.services import ServiceError
from knowledge_hub.services import documents
from knowledge_hub.services import imports
from knowledge_hub.services import ocr
from knowledge_hub.web.forms.staff import ConfirmImportForm
from knowledge_hub.web.forms.staff import ImportForm
from knowledge_hub.web.forms.staff import RecordForm
from knowledge_hub.web.forms.staff import UploadForm
from knowledge_hub.web.forms.staff import VersionForm
from knowledge_hub.web.forms.staff import VersionTextForm
from knowledge_hub.web.forms.staff import show_problems
from knowledge_hub.web.permissions import requires
from knowledge_hub.web.permissions import viewer
from knowledge_hub.web.templating import text_note

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge):
    """An upload over MAX_CONTENT_LENGTH: say so, with the limit, and how to go on."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    # The layout builds a form (the sign-out button), which would read the oversized body
    # again and fail the same way: the body is refused, so the form data is empty.
    request.form = ImmutableMultiDict()
    request.files = ImmutableMultiDict()
    return render_template("staff/too_large.html", limit_mb=limit // (1024 * 1024)), 413


def _document(document_id: int) -> Document:
    document = staff_queries.record(viewer(), document_id)
    if document is None:
        abort(404)
    return document


def _variant(document: Document, language: str) -> Variant:
    variant = document.variant_in(language)
    if variant is None:
        abort(404)
    return variant


def _flash_left(messages: list[str]) -> None:
    for message in messages:
        flash(message, "error")


# --- records ----------------------------------------------------------------------


@bp.get("/")
@requires("create")
def records():
    wanted = staff_queries.RecordFilter.clean(
        request.args.get("status", ""),
        request.args.get("kind", ""),
        request.args.get("type", ""),
        request.args.get("q", ""),
    )
    page = request.args.get("page", "1")
    listing = staff_queries.records(viewer(), wanted, page=int(page) if page.isdigit() else 1)
    return render_template(
        "staff/records.html",
        listing=listing,
        wanted=wanted,
        statuses=list(DocumentStatus),
        kinds=list(DocumentKind),
        vocab=staff_queries.vocabularies(),
    )


@bp.route("/new", methods=["GET", "POST"])
@requires("create")
def new():
    form = RecordForm()
    form.set_choices(staff_queries.vocabularies())
    if not form.is_submitted():
        form.set_defaults()
    elif form.validate():
        try:
            document = documents.create_record(
                viewer(),
                form.record_fields(),
                form.language_tag(),
                form.title.data,
                form.summary.data or "",
            )
        except Invalid as e:
            _flash_left(show_problems(form, e.problems, str(e)))
        else:
            flash(
                _("Record %(ref)s created as a draft. Now add its files.", ref=document.ref),
                "success",
            )
            return redirect(url_for("staff.versions", document_id=document.id))
    status = 400 if form.is_submitted() else 200
    return render_template("staff/record_form.html", form=form, document=None), status


@bp.route("/<int:document_id>/edit", methods=["GET", "POST"])
@requires("edit")
def edit(document_id: int):
    document = _document(document_id)
    form = RecordForm()
    form.set_choices(staff_queries.vocabularies(document))
    if not form.is_submitted():
        form.load(document)
    elif form.validate():
        try:
            changed = documents.update_record(
                viewer(),
                document,
                form.record_fields(document),
                form.language_tag(),
                form.title.data,
                form.summary.data or "",
            )
        except Invalid as e:
            _flash_left(show_problems(form, e.problems, str(e)))
        except ServiceError as e:  # a released record's reviewed fields, say
            flash(str(e), "error")
        else:
            if changed:
                flash(_("Saved. The changes are in the record's history."), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return redirect(url_for("staff.edit", document_id=document.id))
    status = 400 if form.is_submitted() else 200
    return render_template("staff/record_form.html", form=form, document=document), status


# --- language versions and files ----------------------------------------------------


def _versions_page(document: Document, version_form: VersionForm | None = None, status: int = 200):
    if version_form is None:
        version_form = VersionForm()
        version_form.set_choices()
        version_form.language.data = next(
            (code for code in current_app.config["LANGUAGES"] if document.variant_in(code) is None),
            "en",
        )
    return (
        render_template(
            "staff/versions.html",
            document=document,
            version_form=version_form,
            upload_form=UploadForm(),
            ocr=ocr_queries.file_ocr(f.id for v in document.variants for f in v.files),
            ocr_packages=ocr_queries.packages_to_install,
            max_mb=(current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024),
        ),
        status,
    )


@bp.get("/<int:document_id>/versions")
@requires("upload")
def versions(document_id: int):
    return _versions_page(_document(document_id))


@bp.post("/<int:document_id>/versions")
@requires("edit")
def add_version(document_id: int):
    document = _document(document_id)
    form = VersionForm()
    form.set_choices()
    if form.validate():
        try:
            variant = documents.add_variant(
                viewer(), document, form.language_tag(), form.title.data, form.summary.data or ""
            )
        except Invalid as e:
            _flash_left(show_problems(form, e.problems, str(e)))
        else:
            flash(
                _(
                    "The %(language)s version is added. Now upload its files.",
                    language=variant.language,
                ),
                "success",
            )
            return redirect(
                url_for("staff.versions", document_id=document.id, _anchor=f"v-{variant.language}")
            )
    return _versions_page(document, form, 400)


@bp.route("/<int:document_id>/versions/<language>/edit", methods=["GET", "POST"])
@requires("edit")
def edit_version(document_id: int, language: str):
    document = _document(document_id)
    variant = _variant(document, language)
    form = VersionTextForm(obj=None if request.method == "POST" else variant)
    if form.validate_on_submit():
        try:
            documents.edit_variant(viewer(), variant, form.title.data, form.summary.data or "")
        except Invalid as e:
            _flash_left(show_problems(form, e.problems, str(e)))
        except ServiceError as e:
            flash(str(e), "error")
        else:
            flash(_("Saved."), "success")
            return redirect(
                url_for("staff.versions", document_id=document.id, _anchor=f"v-{language}")
            )
    status = 400 if form.is_submitted() else 200
    return (
        render_template("staff/version_form.html", document=document, variant=variant, form=form),
        status,
    )


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return _("%(n)s MB", n=format_decimal(round(n / (1024 * 1024), 1)))
    if n >= 1024:
        return _("%(n)s KB", n=format_decimal(round(n / 1024, 1)))
    return _("%(n)s bytes", n=format_decimal(n))


def _say(outcome: documents.UploadOutcome) -> tuple[str, str]:
    """A flash message and its category for one uploaded file."""
    if not outcome.stored:
        return _(
            "%(name)s was refused: %(reason)s", name=outcome.name, reason=outcome.error
        ), "error"
    parts = [outcome.type_label, _size(outcome.size)]
    if outcome.page_count:
        parts.append(_("%(count)s pages", count=format_decimal(outcome.page_count)))
    note = text_note(outcome.text_length, outcome.page_count, outcome.extraction_error)
    if note.tone == "not-ok":
        message = _(
            "%(name)s is stored (%(details)s), but its text could not be extracted: %(error)s",
            name=outcome.name,
            details=", ".join(parts),
            error=outcome.extraction_error or note.sentence,
        )
        category = "warning"
    else:
        message = _(
            "%(name)s is stored (%(details)s): %(count)s characters of text extracted.",
            name=outcome.name,
            details=", ".join(parts),
            count=format_decimal(outcome.text_length),
        )
        category = "success"
        if note.tone == "partial":
            message += " " + note.sentence
            category = "warning"
    if outcome.same_as:
        message += " " + _(
            "Same file as %(ref)s: it is linked to this version too, not stored twice.",
            ref=outcome.same_as,
        )
        category = "warning" if category == "success" else category
    return message, category


@bp.post("/<int:document_id>/versions/<language>/upload")
@requires("upload")
def upload(document_id: int, language: str):
    document = _document(document_id)
    variant = _variant(document, language)
    form = UploadForm()
    back = redirect(url_for("staff.versions", document_id=document.id, _anchor=f"v-{language}"))
    if not form.validate_on_submit():
        flash(_("The form was incomplete or expired: nothing was uploaded."), "error")
        return back
    chosen = form.chosen()
    if not chosen:
        flash(_("Choose at least one file to upload."), "error")
        return back
    try:
        outcomes = documents.upload_files(
            viewer(), variant, [(f.filename or "", f.stream) for f in chosen]
        )
    except ServiceError as e:
        flash(str(e), "error")
        return back
    for outcome in outcomes:
        flash(*_say(outcome))
    return back


@bp.post("/<int:document_id>/files/<int:file_id>/ocr")
@requires("upload")
def requeue_ocr(document_id: int, file_id: int):
    try:
        stored = ocr.requeue(viewer(), document_id, file_id)
    except NotFound:
        abort(404)
    flash(_("%(name)s waits for OCR again.", name=stored.original_name), "success")
    language = stored.variant.language
    return redirect(url_for("staff.versions", document_id=document_id, _anchor=f"v-{language}"))


# --- bulk import ------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@requires("import")
def import_upload():
    form = ImportForm()
    if form.validate_on_submit():
        manifest = form.manifest.data
        archive = form.chosen_archive()
        try:
            batch = imports.stage_batch(
                viewer(),
                (manifest.filename or "", manifest.stream),
                (archive.filename or "", archive.stream) if archive else None,
                [(f.filename or "", f.stream) for f in form.chosen_files()],
                replace=form.replace.data,
            )
        except Invalid as e:
            _flash_left(show_problems(form, e.problems, str(e)))
        else:
            return redirect(url_for("staff.import_batch", batch_id=batch.id))
    status = 400 if form.is_submitted() else 200
    return render_template("staff/import.html", form=form), status


@bp.get("/import/<batch_id>")
@requires("import")
def import_batch(batch_id: str):
    try:
        batch = imports.load_batch(viewer(), batch_id)
    except NotFound as e:
        abort(404, description=str(e))
    return render_template("staff/import_batch.html", batch=batch, form=ConfirmImportForm())


@bp.post("/import/<batch_id>")
@requires("import")
def import_run(batch_id: str):
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        flash(_("The form was incomplete or expired: nothing was imported."), "error")
        return redirect(url_for("staff.import_batch", batch_id=batch_id))
    try:
        batch = imports.run_batch(viewer(), batch_id, release=form.release.data)
    except NotFound as e:
        abort(404, description=str(e))
    except ServiceError as e:
        flash(str(e), "error")
    else:
        report = batch.report
        flash(
            _(
                "Import done: %(created)s records created, %(added)s language versions added, "
                "%(failed)s rows not imported.",
                created=report.count(imports.CREATED),
                added=report.count(imports.ADDED),
                failed=report.failed,
            ),
            "error" if report.failed else "success",
        )
    return redirect(url_for("staff.import_batch", batch_id=batch_id))


@bp.get("/import/<batch_id>/report.csv")
@requires("import")
def import_report(batch_id: str):
    try:
        batch = imports.load_batch(viewer(), batch_id)
    except NotFound as e:
        abort(404, description=str(e))
    report = batch.report or batch.preview
    if report is None:
        abort(404)
    kind = "report" if batch.report else "preview"
    name = f"import-{kind}-{batch.created_at:%Y%m%d-%H%M%S}.csv"
    return Response(
        # The byte-order mark lets spreadsheets read UTF-8 (Arabic, Chinese) correctly.
        "\ufeff" + imports.report_csv(report),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )


# --- usage statistics -------------------------------------------------------------


def _statistics_span() -> tuple[str, str, str | None]:
    """The months the report covers (from/to, YYYY-MM), the last twelve unless asked,
    and what was wrong with the months asked for, if anything."""
    last = counter.month_of(utcnow())
    first = counter.previous_months(last, 12)
    asked_first = request.args.get("from", "").strip() or first
    asked_last = request.args.get("to", "").strip() or last
    if not (counter.is_month(asked_first) and counter.is_month(asked_last)):
        return first, last, _("Give the months as YYYY-MM, e.g. 2026-01.")
    if asked_first > asked_last:
        return first, last, _("The first month must not come after the last.")
    return asked_first, asked_last, None


@bp.get("/statistics")
@requires("view_statistics")
def statistics():
    """Views and downloads as COUNTER counts them, by month, organization, type and
    language."""
    first, last, problem = _statistics_span()
    return render_template(
        "staff/statistics.html",
        report=statistics_queries.report(viewer(), first, last),
        problem=problem,
    )


@bp.get("/statistics.csv")
@requires("view_statistics")
def statistics_csv():
    """The report's counts per record, month and language version, with a total line."""
    first, last, problem = _statistics_span()
    if problem:
        abort(400, description=problem)
    lines = statistics_queries.record_usage(viewer(), first, last)
    rows: list[tuple] = [
        (u.month, u.ref, u.doc_type, u.organizations, u.language, u.views, u.downloads)
        for u in lines
    ]
    rows.append(
        ("total", "", "", "", "", sum(u.views for u in lines), sum(u.downloads for u in lines))
    )
    header = ["month", "ref", "type", "organizations", "language", "views", "downloads"]
    return Response(
        # The byte-order mark lets spreadsheets read UTF-8 (Arabic, Chinese) correctly.
        "\ufeff" + csv_text(header, rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=usage-{first}-{last}.csv"},
    )
