"""The fixity report for staff: what the last `hub check` runs found in the file store."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template

from knowledge_hub.services import fixity
from knowledge_hub.web.permissions import requires

bp = Blueprint("fixity", __name__, url_prefix="/staff/fixity")


@bp.route("/")
@requires("import")  # those who load files into the store answer for them
def report() -> str:
    """Problems first, then the files checked most recently."""
    return render_template(
        "fixity/report.html", summary=fixity.summary(), checks=fixity.latest_checks()
    )
