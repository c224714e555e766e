"""A record's landing page and its file downloads."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import render_template
from flask import send_file

from knowledge_hub import i18n
from knowledge_hub import queries
from knowledge_hub.services.documents import blob_store
from knowledge_hub.storage import StorageError
from knowledge_hub.web import viewer

bp = Blueprint("documents", __name__, url_prefix="/documents")


@bp.get("/<int:document_id>")
def landing(document_id: int):
    reader = viewer()
    document = queries.landing_page(reader, document_id)
    if document is None:
        abort(404, description="There is no such record, or it is not public.")
    variants = queries.visible_variants(reader, document)
    shown = queries.pick_variant(variants, [i18n.current_language()])
    others = [v for v in variants if v is not shown]
    return render_template("documents/landing.html", document=document, shown=shown, others=others)


@bp.get("/<int:document_id>/files/<int:file_id>")
def download(document_id: int, file_id: int):
    stored = queries.downloadable_file(viewer(), document_id, file_id)
    if stored is None:
        abort(404, description="There is no such file, or it is not public.")
    try:
        stream = blob_store().open(stored.sha256)
    except StorageError:
        current_app.logger.error("stored file %s is missing from the blob store", stored.sha256)
        abort(410, description="The file is missing from storage; the secretariat has been told.")
    # Uploaded HTML must never run in the hub's origin: it is always an attachment.
    return send_file(
        stream,
        mimetype=stored.media_type,
        as_attachment=True,
        download_name=stored.original_name,
        etag=stored.sha256,
        conditional=True,
        max_age=3600,
    )
