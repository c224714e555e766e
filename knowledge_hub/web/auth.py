"""Signing in and out, and changing one's password."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from flask_login import login_user
from flask_login import logout_user
from werkzeug.wrappers import Response

from knowledge_hub import i18n
from knowledge_hub.models import Role
from knowledge_hub.models import User
from knowledge_hub.models.base import utcnow
from knowledge_hub.services import Invalid
from knowledge_hub.services import auth
from knowledge_hub.services import users
from knowledge_hub.web.forms import EmptyForm
from knowledge_hub.web.forms import ForgotPasswordForm
from knowledge_hub.web.forms import LoginForm
from knowledge_hub.web.forms import PasswordForm

bp = Blueprint("auth", __name__, url_prefix="/auth")


def landing_for(user: User) -> str:
    """Where a person's work starts: their own queue."""
    if user.has_role(Role.REVIEWER):
        return url_for("review.queue")
    if user.has_role(Role.STAFF):
        return url_for("staff.records")
    if user.has_role(Role.ADMIN):
        return url_for("admin.users")
    return url_for("public.home")


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _remember_device(response: Response, user: User) -> None:
    """Give this browser the account's device cookie (only the sign-in pages read it)."""
    response.set_cookie(
        auth.DEVICE_COOKIE,
        auth.remember_device(user, request.cookies.get(auth.DEVICE_COOKIE)),
        max_age=int(auth.DEVICE_TRUST.total_seconds()),
        path=f"{request.script_root}{bp.url_prefix}",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = auth.authenticate(
                form.email.data,
                form.password.data,
                request.remote_addr or "",
                # The language chosen on this device goes with the account to the others.
                interface_language=request.cookies.get(i18n.COOKIE),
                device_cookie=request.cookies.get(auth.DEVICE_COOKIE),
            )
        except (auth.LoginRefused, auth.TooManyAttempts) as e:
            flash(str(e), "error")
            return render_template("auth/login.html", form=form), 401
        # A new session at sign-in: nothing set before it (a planted id) survives.
        session.clear()
        login_user(user)
        now = utcnow().isoformat()
        session["login_at"] = session["seen_at"] = now
        response = redirect(_safe_next(request.args.get("next")) or landing_for(user))
        _remember_device(response, user)
        return response
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    if EmptyForm().validate_on_submit():
        auth.sign_out(current_user._get_current_object())
        logout_user()
        session.clear()
        flash(_("You are signed out."), "success")
    return redirect(url_for("public.home"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            auth.change_password(user, form.current.data, form.new.data)
        except Invalid as e:
            flash(str(e), "error")
        else:
            # The token changed: keep this session, sign out every other one.
            login_user(user)
            flash(_("Your password is changed. Other sessions are signed out."), "success")
            response = redirect(url_for("public.home"))
            # The new password voided every device cookie of the account; this browser
            # has just proved it knows the password, so it stays a trusted device.
            _remember_device(response, user)
            return response
    return render_template("auth/password.html", form=form)


# --- accepting an invitation (or a reset): the link's signed token is the permission

#: The page carries the token in its address: keep it out of caches and referrers.
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _invitation_refused(error: Exception):
    page = render_template("auth/invitation.html", form=None, account=None, problem=str(error))
    return page, 410, _PRIVATE


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    return _password_by_link(token, users.invited_user, users.accept_invitation, reset=False)


def _password_by_link(
    token: str,
    account_for: Callable[[str], User],
    set_password: Callable[[str, str], User],
    *,
    reset: bool,
):
    """The page of a link sent to one person (an invitation, a password reset): choose a
    password, then sign in with it."""
    from knowledge_hub.web.forms.admin import InvitationForm

    form = InvitationForm()
    if form.validate_on_submit():
        try:
            set_password(token, form.password.data)
        except users.InvitationInvalid as e:
            return _invitation_refused(e)
        except Invalid as e:
            flash(str(e), "error")
        else:
            flash(_("Your password is set. Sign in with it now."), "success")
            return redirect(url_for("auth.login"))
    try:
        account = account_for(token)
    except users.InvitationInvalid as e:
        return _invitation_refused(e)
    status = 400 if form.is_submitted() else 200
    page = render_template(
        "auth/invitation.html", form=form, account=account, problem=None, reset=reset
    )
    return page, status, _PRIVATE


# --- "Forgot your password?": the answer is the same whether the address has an account


@bp.route("/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        users.request_password_reset(form.email.data, i18n.current_language())
        return render_template("auth/forgot.html", form=None, asked=form.email.data)
    status = 400 if form.is_submitted() else 200
    return render_template("auth/forgot.html", form=form, asked=None), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _password_by_link(token, users.reset_link_user, users.reset_password, reset=True)
