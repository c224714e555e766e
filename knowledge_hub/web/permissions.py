"""Who is reading: the signed-in user of a request, and the guard views put on actions
that need a role (the permission table is `knowledge_hub.access`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user

from knowledge_hub import access
from knowledge_hub.extensions import db
from knowledge_hub.extensions import login_manager
from knowledge_hub.models import User


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


def viewer() -> User | None:
    """The signed-in user, or None for an anonymous reader."""
    return current_user if current_user.is_authenticated else None


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
