"""The secretariat's work: records, files, bulk import."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template

from knowledge_hub import queries
from knowledge_hub.web import requires
from knowledge_hub.web import viewer

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/")
@requires("create")
def records():
    return render_template("staff/records.html", page=queries.staff_records(viewer()))
