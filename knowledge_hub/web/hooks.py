"""What runs around every request: a first start's setup, refusing ids and text no row
can hold, session expiry, the client's address for the audit trail, and the language
cookie."""

from __future__ import annotations

import threading
from datetime import datetime
from datetime import timedelta
from typing import Any

from flask import Flask
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import logout_user

from knowledge_hub import i18n
from knowledge_hub.extensions import db
from knowledge_hub.models.base import utcnow
from knowledge_hub.services import setup
from knowledge_hub.web.errors import wants_json

#: The largest id an integer column holds on every supported database (PostgreSQL's
#: INTEGER is the smallest).
MAX_ID = 2**31 - 1


def init_app(app: Flask) -> None:
    # First of all, before even an API token is looked up: nothing can be read before.
    app.before_request_funcs.setdefault(None, []).insert(0, _set_up_on_first_start)
    app.url_value_preprocessor(_ids_in_range)
    app.before_request(_refuse_nul_characters)
    app.before_request(_note_client_address)
    app.before_request(_expire_idle_sessions)
    app.after_request(_remember_language)


def _set_up_on_first_start() -> None:
    """A server started on a database without tables sets the hub up before its first
    answer (FIRST_START: `hub init`, and the demonstration catalogue by default), rather
    than answering every page with "run hub init". Once known set up, nothing is asked.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if setup.is_known_set_up(app) or app.config["FIRST_START"] == "off":
        return  # "off": a database error then says to run `hub init` (errors.py)
    # In a thread of its own, as `hub init` and `hub demo` run: no request, no reader's
    # language or address in what it writes.
    outcome: list[bool | BaseException] = []

    def set_up() -> None:
        try:
            outcome.append(setup.set_up_for_serving(app))
        except BaseException as error:  # handed to the request, which answers it
            outcome.append(error)

    worker = threading.Thread(target=set_up, name="first-start")
    worker.start()
    worker.join()
    [done] = outcome
    if isinstance(done, BaseException):
        raise done


def _ids_in_range(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """An id too large for any row names nothing: 404, not a database overflow (500)."""
    for value in (values or {}).values():
        if isinstance(value, int) and value > MAX_ID:
            abort(404, description=_("There is no such entry."))


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
    if now - seen_at > timedelta(
        minutes=config["SESSION_IDLE_MINUTES"]
    ) or now - login_at > timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]):
        logout_user()
        session.clear()
        if wants_json():
            abort(401, description=_("Your session has expired: sign in again."))
        flash(_("Your session has expired: sign in again."), "error")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    session["seen_at"] = now.isoformat()
    return None


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
