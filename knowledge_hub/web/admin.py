"""Administration: users, organizations, vocabularies, the criteria set, the audit log."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template

from knowledge_hub import queries
from knowledge_hub.web import requires

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@requires("manage_users")
def users():
    return render_template("admin/users.html", users=queries.all_users())
