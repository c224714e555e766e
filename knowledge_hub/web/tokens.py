"""Personal API tokens: the page where people create and revoke them, and how a request
to /api/ carrying `Authorization: Bearer <token>` is authenticated as the token's user.

A token request has no session and no cookie: it is exempt from CSRF (nothing a browser
sends on its own can carry the header), and the session layer sees a fresh session that
is never saved, so the idle-session rules of the web do not apply to it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from knowledge_hub.extensions import csrf
from knowledge_hub.extensions import login_manager
from knowledge_hub.models import User
from knowledge_hub.models.base import utcnow
from knowledge_hub.queries import tokens as token_queries
from knowledge_hub.services import Invalid
from knowledge_hub.services import NotFound
from knowledge_hub.services import tokens
from knowledge_hub.web.forms import EmptyForm

bp = Blueprint("tokens", __name__, url_prefix="/auth/tokens")


@bp.get("/")
@login_required
def page():
    return _render()


@bp.post("/")
@login_required
def create():
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        __, secret = tokens.create_token(current_user, current_user, request.form.get("name", ""))
    except Invalid as e:
        flash(str(e), "error")
        return _render(), 400
    # Shown in this response only: never in a flash message, a session or a log.
    response = current_app.make_response(_render(secret=secret))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        tokens.revoke_token(current_user, token_id)
    except NotFound as e:
        abort(404, description=str(e))
    flash(_("The token is revoked."), "success")
    return redirect(url_for("tokens.page"))


def _render(secret: str | None = None) -> str:
    return render_template(
        "tokens/tokens.html",
        tokens=token_queries.tokens_of(current_user),
        form=EmptyForm(formdata=None),
        secret=secret,
    )


# --- Authenticating API requests by token --------------------------------------------


def _bearer() -> str | None:
    """The token an API request carries, if it carries one."""
    if not request.path.startswith("/api/"):
        return None
    scheme, __, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


@login_manager.request_loader
def _load_user_from_token(req: Any) -> User | None:
    """Flask-Login asks here when there is no session user: only /api/ requests qualify."""
    return g.get("api_token_user")


def _authenticate_token() -> Any:
    """Before anything else: authenticate a bearer token, or check CSRF as usual."""
    secret = _bearer()
    if secret is None:
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect(apply_exemptions=True)
        return None
    user = tokens.authenticate(secret)
    if user is None:
        response = jsonify(error="invalid_token", message=_("The API token is not valid."))
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response, 401
    g.api_token_user = user
    # The token, not a cookie, says who this is: start from an empty session, fresh for
    # the idle-session check, and never save it (see _forget_token_session).
    session.clear()
    session["login_at"] = session["seen_at"] = utcnow().isoformat()
    return None


def _forget_token_session(response: Any) -> Any:
    if g.get("api_token_user") is not None:
        session.clear()
        session.modified = False  # no Set-Cookie on a token request
    return response


@bp.record_once
def _install(state: Any) -> None:
    app = state.app
    # CSRF is checked by _authenticate_token, which knows token requests; it runs first,
    # where CSRFProtect's own check ran.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.before_request_funcs.setdefault(None, []).insert(0, _authenticate_token)
    app.after_request_funcs.setdefault(None, []).append(_forget_token_session)
