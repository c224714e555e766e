"""The web layer: blueprints, error pages, and what every template needs."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import Flask
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
from flask_login import logout_user
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import HTTPException
from urllib.parse import urlencode

from knowledge_hub import access
from knowledge_hub import i18n
from knowledge_hub.access import NotAllowed
from knowledge_hub.extensions import db
from knowledge_hub.extensions import login_manager
from knowledge_hub.i18n import _l
from knowledge_hub.models import Document
from knowledge_hub.models import User
from knowledge_hub.models.base import utcnow
from knowledge_hub.web.forms import EmptyForm


#: The largest id an integer column holds on every supported database (PostgreSQL's
#: INTEGER is the smallest).
MAX_ID = 2**31 - 1


def _ids_in_range(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """An id too large for any row names nothing: 404, not a database overflow (500)."""
    for value in (values or {}).values():
        if isinstance(value, int) and value > MAX_ID:
            abort(404, description=_("There is no such entry."))


def register_blueprints(app: Flask) -> None:
    app.url_value_preprocessor(_ids_in_range)
    from knowledge_hub.web import admin
    from knowledge_hub.web import api
    from knowledge_hub.web import auth
    from knowledge_hub.web import documents
    from knowledge_hub.web import feeds
    from knowledge_hub.web import fixity
    from knowledge_hub.web import oai
    from knowledge_hub.web import public
    from knowledge_hub.web import review
    from knowledge_hub.web import security
    from knowledge_hub.web import staff
    from knowledge_hub.web import tokens
    from knowledge_hub.web import translations

    app.register_blueprint(public.bp)
    app.register_blueprint(documents.bp)
    api.register(app)  # under /api/ and /api/v1/
    for blueprint in (auth.bp, staff.bp, review.bp, admin.bp, translations.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(oai.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(fixity.bp)
    app.register_blueprint(tokens.bp)
    login_manager.login_view = "auth.login"
    login_manager.unauthorized_handler(_unauthorized)
    login_manager.login_message = _l("Sign in to see this page.")
    app.register_error_handler(NotAllowed, _not_allowed)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _server_error)
    app.context_processor(_template_globals)
    app.before_request(_refuse_nul_characters)
    app.before_request(_note_client_address)
    app.before_request(_expire_idle_sessions)
    app.after_request(_remember_language)
    security.init_app(app)


def requires(action: str) -> Callable:
    """Let a view run only for signed-in users whom the permission table allows `action`."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not access.can(viewer(), action):
                abort(403, description=_("Your role does not allow this."))
            return view(*args, **kwargs)

        return guarded

    return decorator


def _unauthorized() -> Any:
    """An API caller gets 401 JSON; a person is sent to sign in and brought back."""
    if wants_json():
        return jsonify(error="unauthorized", message=_("Sign in to use this.")), 401
    flash(_("Sign in to see this page."), "error")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _contains_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


def _refuse_nul_characters() -> None:
    """Refuse text with NUL characters in a query, form or JSON body: no reader needs
    one, and PostgreSQL cannot store it (the request would fail later, as a 500)."""
    # The API's read parameters are described as plain strings and never reach the
    # database as text, so a NUL there is harmless and accepted, as its spec says.
    texts: list[object] = [] if wants_json() else list(request.args.values())
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        texts += list(request.form.values())
    elif request.is_json:
        texts.append(request.get_json(silent=True))
    if any(_contains_nul(t) for t in texts):
        abort(400, description=_("Text may not contain NUL characters."))


def _note_client_address() -> None:
    # For the audit trail: services never read the request.
    db.session.info["client_address"] = request.remote_addr


def _expire_idle_sessions() -> Any:
    """Sign out a session idle too long, or older than the absolute limit."""
    if not current_user.is_authenticated:
        return None
    now = utcnow()
    config = current_app.config
    try:
        login_at = datetime.fromisoformat(session["login_at"])
        seen_at = datetime.fromisoformat(session["seen_at"])
    except (KeyError, ValueError):
        login_at = seen_at = datetime.min
    if (
        now - seen_at > timedelta(minutes=config["SESSION_IDLE_MINUTES"])
        or now - login_at > timedelta(hours=config["SESSION_ABSOLUTE_HOURS"])
    ):
        logout_user()
        session.clear()
        if wants_json():
            abort(401, description=_("Your session has expired: sign in again."))
        flash(_("Your session has expired: sign in again."), "error")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    session["seen_at"] = now.isoformat()
    return None


def _not_allowed(error: NotAllowed):
    return _http_error(Forbidden(description=str(error)))


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """The user a session belongs to, unless disabled or signed out everywhere since."""
    user_id, __, token = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_token != token:
        return None
    return user


def viewer() -> User | None:
    """The signed-in user, or None for an anonymous reader."""
    return current_user if current_user.is_authenticated else None


def url_with(**changes: str | int | None) -> str:
    """This page's address with some query parameters set (or removed, with None)."""
    args = request.args.copy()
    for key, value in changes.items():
        args.pop(key, None)
        if value is not None:
            args[key] = str(value)
    return request.path + ("?" + urlencode(list(args.items(multi=True))) if args else "")


def url_toggle(facet: str, value: str) -> str:
    """This search with a facet value added, or removed if it is already chosen (and
    back to its first page)."""
    # A search page asks for dozens of these; the request's own pairs are read once.
    if "search_pairs" not in g:
        g.search_pairs = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    pairs: list[tuple[str, str]] = g.search_pairs
    if (facet, value) in pairs:
        toggled = [pair for pair in pairs if pair != (facet, value)]
    else:
        # After the facet's other values, where MultiDict.setlist would put it.
        places = [i for i, (k, __) in enumerate(pairs) if k == facet]
        at = places[-1] + 1 if places else len(pairs)
        toggled = [*pairs[:at], (facet, value), *pairs[at:]]
    return request.path + ("?" + urlencode(toggled) if toggled else "")


def facet_value_label(facet: str, value: str, labels: dict[str, dict[str, str]]) -> str:
    """How a facet value reads: a language's or region's name, a kind's, type's or
    topic's label in the reader's language, else the database's label or the value."""
    if facet == "language":
        return i18n.language_name(value)
    if facet == "region":
        return i18n.region_name(value)
    if facet == "kind":
        return i18n.kind_label(value)
    if facet == "type":
        return i18n.type_label(value, labels.get("type", {}).get(value))
    if facet == "topic":
        return i18n.topic_label(value, labels.get("topic", {}).get(value))
    return labels.get(facet, {}).get(value, value)


def sort_facet(
    facet: str,
    values: list[tuple[str, int]],
    labels: dict[str, dict[str, str]],
    limit: int | None = None,
) -> list[tuple[str, int]]:
    """Facet values by count, ties in the reader's alphabetical order; years newest first.

    With a limit, the first `limit` of that order. Only the values that can be among them
    are named and collated: doing so for every value of a long facet (hundreds of regions)
    took about a tenth of a browsing page's time.
    """
    if facet == "year":
        return sorted(values, key=lambda item: item[0], reverse=True)[:limit]
    if limit is not None and len(values) > limit:
        lowest = heapq.nlargest(limit, (count for __, count in values))[-1]
        values = [item for item in values if item[1] >= lowest]
    def order(item: tuple[str, int]) -> tuple:
        return (-item[1], i18n.collation_key(facet_value_label(facet, item[0], labels)))

    return sorted(values, key=order)[:limit]


def _template_globals() -> dict:
    return {
        "url_with": url_with,
        "url_toggle": url_toggle,
        "viewer": viewer(),
        "can": lambda action: access.can(viewer(), action),
        "interface_languages": i18n.interface_languages(),
        "current_language": i18n.current_language(),
        "text_direction": i18n.text_direction,
        "language_name": i18n.language_name,
        "region_name": i18n.region_name,
        "format_number": i18n.format_number,
        "type_label": i18n.type_label,
        "topic_label": i18n.topic_label,
        "status_label": i18n.status_label,
        "kind_label": i18n.kind_label,
        "access_label": i18n.access_label,
        "criterion_label": i18n.criterion_label,
        "criterion_help": i18n.criterion_help,
        "translate": i18n.translate,
        "format_partial_date": i18n.format_partial_date,
        "sort_facet": sort_facet,
        "facet_value_label": facet_value_label,
        # Never bound to the request: an error page (413 included) must not read the body.
        "logout_form": lambda: EmptyForm(formdata=None),
    }


def _remember_language(response):
    """A language chosen with ?lang= is kept in a cookie on this device.

    Only the cookie: a GET changes nothing stored (a link or an image on another site
    could otherwise rewrite an account's language). The account keeps the choice when
    its owner next signs in on this device (a POST).
    """
    chosen = request.args.get("lang")
    if chosen and chosen in current_app.config["LANGUAGES"]:
        response.set_cookie(
            i18n.COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
        )
    return response


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def _http_error(error: HTTPException):
    if wants_json():
        response = jsonify(error=error.name.lower().replace(" ", "_"), message=error.description)
        return response, error.code
    return render_template("errors/error.html", error=error), error.code


def _server_error(error: Exception):
    db.session.rollback()
    if isinstance(error, HTTPException):
        return _http_error(error)
    if isinstance(error, SQLAlchemyError) and not _database_is_set_up():
        # A server started before `hub init`: say what to do, not "something went wrong".
        current_app.logger.error("the database has no tables: run `flask --app app hub init`")
        message = _("The hub's database is not set up yet. Run: flask --app app hub init")
        if wants_json():
            return jsonify(error="not_set_up", message=message), 503
        return render_template("errors/error.html", error=None, message=message), 503
    current_app.logger.exception("unhandled error on %s", request.path)
    message = _("Something went wrong on our side. Please try again; if it persists, tell the secretariat.")
    if wants_json():
        return jsonify(error="server_error", message=message), 500
    return render_template("errors/error.html", error=None, message=message), 500


def _database_is_set_up() -> bool:
    """Whether `hub init` has made the tables (asked only after a database error)."""
    try:
        return sa_inspect(db.engine).has_table(Document.__tablename__)
    except SQLAlchemyError:
        return False
