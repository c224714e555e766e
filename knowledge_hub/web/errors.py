"""Error pages and API errors: one shape for every failure a reader can meet."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask import current_app
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import HTTPException

from knowledge_hub.access import NotAllowed
from knowledge_hub.extensions import db
from knowledge_hub.extensions import login_manager
from knowledge_hub.services import setup


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.unauthorized_handler(_unauthorized)
    login_manager.login_message = _l("Sign in to see this page.")
    app.register_error_handler(NotAllowed, _not_allowed)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _server_error)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def _unauthorized() -> Any:
    """An API caller gets 401 JSON; a person is sent to sign in and brought back."""
    if wants_json():
        return jsonify(error="unauthorized", message=_("Sign in to use this.")), 401
    flash(_("Sign in to see this page."), "error")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _not_allowed(error: NotAllowed):
    return _http_error(Forbidden(description=str(error)))


#: What a status is called and what it tells a reader, in the reader's language:
#: Werkzeug's own names and descriptions are English only.
STATUS_TEXTS = {
    400: (_l("Bad request"), _l("The hub could not read this request.")),
    401: (_l("Sign-in needed"), _l("Sign in to see this page.")),
    403: (_l("Not allowed"), _l("Your account may not see or do this.")),
    404: (
        _l("Not found"),
        _l("There is no page at this address. Check the address, or search the hub."),
    ),
    405: (_l("Not allowed this way"), _l("This address does not take that kind of request.")),
    410: (_l("Gone"), _l("What was here has been removed.")),
    413: (_l("Too large"), _l("What was sent is larger than the hub accepts.")),
    429: (_l("Too many requests"), _l("Too many requests in a short time: wait a moment.")),
    500: (_l("Server error"), _l("Something went wrong on our side.")),
    503: (_l("Not available"), _l("The hub cannot answer just now: try again in a moment.")),
}


def status_texts(error: HTTPException) -> tuple[str, str]:
    """The error's name and description for a reader: ours, translated, unless the code
    that raised it gave its own description (already in the reader's language)."""
    name, default = STATUS_TEXTS.get(error.code or 500, (error.name, error.description))
    own = error.description and error.description != type(error).description
    return str(name), str(error.description if own else default)


def _http_error(error: HTTPException):
    if wants_json():
        response = jsonify(error=error.name.lower().replace(" ", "_"), message=error.description)
        return response, error.code
    name, description = status_texts(error)
    return render_template(
        "errors/error.html", error=error, name=name, description=description
    ), error.code


def _server_error(error: Exception):
    db.session.rollback()
    if isinstance(error, HTTPException):
        return _http_error(error)
    if isinstance(error, SQLAlchemyError):
        set_up = _database_is_set_up()
        if set_up is False:
            # A server started before `hub init`: say what to do, not "something went wrong".
            current_app.logger.error("the database has no tables: run `flask --app app hub init`")
            return _unavailable(
                _("The hub's database is not set up yet. Run: flask --app app hub init"),
                "not_set_up",
            )
        if set_up is None:
            # The database cannot even be asked what it holds (unreachable, locked past the
            # busy timeout, a file that cannot be opened): that, not a missing `hub init`,
            # is what the log must say.
            current_app.logger.exception("the database cannot be read on %s", request.path)
            return _unavailable(
                _("The hub cannot answer just now: try again in a moment."), "database_unavailable"
            )
    current_app.logger.exception("unhandled error on %s", request.path)
    message = _(
        "Something went wrong on our side. Please try again; if it persists, tell the secretariat."
    )
    if wants_json():
        return jsonify(error="server_error", message=message), 500
    return render_template("errors/error.html", error=None, message=message), 500


def _unavailable(message: str, code: str):
    if wants_json():
        return jsonify(error=code, message=message), 503
    return render_template("errors/error.html", error=None, message=message), 503


def _database_is_set_up() -> bool | None:
    """Whether `hub init` has made the tables (asked only after a database error); None
    when the database cannot be asked."""
    try:
        return setup.is_set_up()
    except SQLAlchemyError:
        return None
