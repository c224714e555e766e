"""Signing in: hashed passwords, rate limits shared through the database, session expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from knowledge_hub import create_app
from knowledge_hub.extensions import db
from knowledge_hub.models import AuditEvent
from knowledge_hub.services import auth
from tests.conftest import PASSWORD
from tests.conftest import make_config
from tests.conftest import sign_in


def test_session_cookies_are_secure_by_default(tmp_path) -> None:
    config = make_config(tmp_path)
    del config["SESSION_COOKIE_SECURE"]
    app = create_app(config)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_sign_in_lands_on_the_users_queue_and_is_audited(
    app: Flask, client: FlaskClient, make_user
) -> None:
    reviewer = make_user("reviewer")
    response = client.post("/auth/login", data={"email": reviewer, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/review/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "login"))


@pytest.mark.slow
def test_a_wrong_password_does_not_say_which_part_was_wrong(client: FlaskClient, make_user) -> None:
    staff = make_user("staff")
    wrong_password = client.post("/auth/login", data={"email": staff, "password": "nope nope nope"})
    no_account = client.post(
        "/auth/login", data={"email": "ghost@hub.test", "password": "nope nope nope"}
    )
    assert wrong_password.status_code == no_account.status_code == 401
    message = "The e-mail address or the password is not right."
    assert message in wrong_password.get_data(as_text=True)
    assert message in no_account.get_data(as_text=True)


@pytest.mark.slow
def test_repeated_failures_pause_sign_in_for_that_account(
    app: Flask, client: FlaskClient, make_user
) -> None:
    staff = make_user("staff")
    for __ in range(auth.MAX_FAILURES_PER_ACCOUNT):
        client.post("/auth/login", data={"email": staff, "password": "guess guess guess"})
    # Even the right password is refused now: the pause holds across workers because
    # the attempts are counted in the database.
    other_worker = app.test_client()
    refused = other_worker.post("/auth/login", data={"email": staff, "password": PASSWORD})
    assert refused.status_code == 401
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)


@pytest.mark.slow
def test_too_many_failures_from_one_address_pause_it(
    app: Flask, client: FlaskClient, make_user
) -> None:
    victims = [make_user("member") for __ in range(5)]
    for i in range(auth.MAX_FAILURES_PER_ADDRESS):
        client.post("/auth/login", data={"email": victims[i % 5], "password": "guess guess guess"})
    fresh = make_user("member")
    refused = client.post("/auth/login", data={"email": fresh, "password": PASSWORD})
    assert refused.status_code == 401


@pytest.mark.slow
def test_an_idle_session_expires(app: Flask, client: FlaskClient, make_user) -> None:
    sign_in(client, make_user("staff"))
    assert client.get("/staff/").status_code == 200
    with client.session_transaction() as session:
        from datetime import datetime

        stale = datetime.fromisoformat(session["seen_at"]) - timedelta(minutes=31)
        session["seen_at"] = stale.isoformat()
    expired = client.get("/staff/")
    assert expired.status_code == 302 and "/auth/login" in expired.headers["Location"]
    assert client.get("/staff/").status_code == 302


@pytest.mark.slow
def test_changing_the_password_signs_out_other_sessions(app: Flask, make_user) -> None:
    staff = make_user("staff")
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, staff)
    sign_in(phone, staff)
    changed = laptop.post(
        "/auth/password",
        data={
            "current": PASSWORD,
            "new": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert changed.status_code == 302
    assert laptop.get("/staff/").status_code == 200
    assert phone.get("/staff/").status_code == 302  # back to sign-in


def test_sign_in_starts_a_new_session(client: FlaskClient, make_user) -> None:
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    sign_in(client, make_user("staff"))
    with client.session_transaction() as session:
        assert "planted" not in session


def test_next_never_leaves_the_site(client: FlaskClient, make_user) -> None:
    staff = make_user("staff")
    response = client.post(
        "/auth/login?next=//evil.example/x", data={"email": staff, "password": PASSWORD}
    )
    assert response.headers["Location"].endswith("/staff/")
    response = client.post(
        "/auth/login?next=/search?q=x", data={"email": staff, "password": PASSWORD}
    )
    assert response.headers["Location"].endswith("/search?q=x")


def test_sign_out_needs_a_post(client: FlaskClient, make_user) -> None:
    sign_in(client, make_user("staff"))
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 302
    assert client.get("/staff/").status_code == 302


def test_a_users_language_follows_them_to_another_device(app: Flask, make_user) -> None:
    staff = make_user("staff")
    laptop, phone = app.test_client(), app.test_client()
    laptop.get("/?lang=ru")
    sign_in(laptop, staff)  # signing in keeps this device's choice on the account
    sign_in(phone, staff)  # a new device: no language cookie
    assert '<html lang="ru" dir="ltr">' in phone.get("/staff/").get_data(as_text=True)
    # A reader's own choice on this device still wins.
    assert '<html lang="zh"' in phone.get("/staff/?lang=zh").get_data(as_text=True)


def test_a_cookie_saved_before_sign_out_opens_nothing_after_it(app: Flask, make_user) -> None:
    reviewer = make_user("reviewer")
    browser = app.test_client()
    sign_in(browser, reviewer)
    saved = browser.get_cookie("session", domain="hub.test")
    assert saved is not None
    assert browser.get("/review/").status_code == 200
    assert browser.post("/auth/logout").status_code == 302
    # A copy of the cookie kept elsewhere (a proxy's log, another tab, a thief).
    replay = app.test_client()
    replay.set_cookie("session", saved.value, domain=saved.domain)
    refused = replay.get("/review/")
    assert refused.status_code == 302 and "/auth/login" in refused.headers["Location"]
    assert replay.get("/auth/tokens/").status_code == 302
    # The owner signs in again as usual.
    sign_in(browser, reviewer)
    assert browser.get("/review/").status_code == 200


@pytest.mark.slow
def test_a_get_never_changes_the_stored_language(app: Flask, make_user) -> None:
    staff = make_user("staff")
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, staff)
    # A link on another site, an image, a prefetch: a GET keeps the choice on this device.
    assert '<html lang="ru"' in laptop.get("/?lang=ru").get_data(as_text=True)
    assert '<html lang="ru"' in laptop.get("/staff/").get_data(as_text=True)
    with app.app_context():
        from knowledge_hub.models import User

        assert db.session.scalar(select(User.interface_language).where(User.email == staff)) is None
    sign_in(phone, staff)
    assert '<html lang="en"' in phone.get("/staff/").get_data(as_text=True)
    # Signing in again, a deliberate POST, keeps the device's choice on the account.
    sign_in(laptop, staff)
    assert '<html lang="ru"' in phone.get("/staff/").get_data(as_text=True)


# --- device cookies: an attacker's failures lock an account for untrusted devices only


def _lock_out(app: Flask, email: str) -> None:
    """An attacker's browser, with no device cookie, fails until the account is locked."""
    attacker = app.test_client()
    for __ in range(auth.MAX_FAILURES_PER_ACCOUNT + 2):
        attacker.post("/auth/login", data={"email": email, "password": "guess guess guess"})
    assert "Too many failed sign-ins" in attacker.post(
        "/auth/login", data={"email": email, "password": PASSWORD}
    ).get_data(as_text=True)


def _device_cookie(browser: FlaskClient):
    return browser.get_cookie(auth.DEVICE_COOKIE, domain="hub.test", path="/auth")


def test_signing_in_gives_the_browser_a_device_cookie(tmp_path) -> None:
    config = make_config(tmp_path)
    config["SESSION_COOKIE_SECURE"] = True
    app = create_app(config)
    with app.app_context():
        db.create_all()
        from knowledge_hub.services import users

        users.create_user(None, "owner@hub.test", "Owner", PASSWORD, ["staff"], None, [])
    response = app.test_client().post(
        "/auth/login", data={"email": "owner@hub.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith(auth.DEVICE_COOKIE + "=")
    )
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert "Path=/auth" in cookie
    assert f"Max-Age={180 * 24 * 3600}" in cookie
    with app.app_context():
        db.engine.dispose()


@pytest.mark.slow
def test_the_owner_on_a_known_device_signs_in_while_others_are_locked_out(
    app: Flask, make_user
) -> None:
    admin = make_user("admin")
    laptop = app.test_client()
    sign_in(laptop, admin)
    assert laptop.post("/auth/logout").status_code == 302
    assert _device_cookie(laptop) is not None  # signing out keeps the device trusted
    _lock_out(app, admin)
    # The owner's laptop signed in before: its attempts are counted on their own.
    sign_in(laptop, admin)
    assert laptop.get("/admin/users").status_code == 200
    with app.app_context():
        from knowledge_hub.models import LoginAttempt

        attempts = db.session.scalars(select(LoginAttempt).where(LoginAttempt.email == admin)).all()
        assert [a.device is not None for a in attempts if a.succeeded] == [False, True]
        assert all(a.device is None for a in attempts if not a.succeeded)


@pytest.mark.slow
def test_a_new_device_is_refused_during_the_lock_even_with_the_right_password(
    app: Flask, make_user
) -> None:
    staff = make_user("staff")
    laptop, new_phone = app.test_client(), app.test_client()
    sign_in(laptop, staff)
    _lock_out(app, staff)
    refused = new_phone.post("/auth/login", data={"email": staff, "password": PASSWORD})
    assert refused.status_code == 401
    assert "Sign in on a device you have signed in with before" in refused.get_data(as_text=True)
    assert new_phone.get("/staff/").status_code == 302
    assert _device_cookie(new_phone) is None
    # The owner's trusted sign-in does not lift the lock for untrusted devices.
    sign_in(laptop, staff)
    again = new_phone.post("/auth/login", data={"email": staff, "password": PASSWORD})
    assert again.status_code == 401 and "Too many failed sign-ins" in again.get_data(as_text=True)


@pytest.mark.slow
def test_a_trusted_device_that_keeps_failing_is_locked_too(app: Flask, make_user) -> None:
    staff = make_user("staff")
    laptop = app.test_client()
    sign_in(laptop, staff)
    for __ in range(auth.MAX_FAILURES_PER_DEVICE):
        wrong = laptop.post("/auth/login", data={"email": staff, "password": "guess guess guess"})
        assert wrong.status_code == 401
    refused = laptop.post("/auth/login", data={"email": staff, "password": PASSWORD})
    assert refused.status_code == 401
    assert "Too many failed sign-ins on this device" in refused.get_data(as_text=True)
    # A stolen device cookie buys a guesser no more than five tries; the failures were
    # the device's, so they do not lock the account for the owner's other devices.
    sign_in(app.test_client(), staff)


@pytest.mark.slow
def test_a_device_cookie_of_another_account_or_a_forged_one_gives_no_trust(
    app: Flask, make_user
) -> None:
    from itsdangerous import URLSafeSerializer

    victim, other = make_user("admin"), make_user("staff")
    victims_laptop, shared = app.test_client(), app.test_client()
    sign_in(victims_laptop, victim)
    sign_in(shared, other)  # this browser is trusted for the other account only
    genuine = _device_cookie(victims_laptop).value
    with app.app_context():
        from knowledge_hub.models import User

        victim_id = db.session.scalar(select(User.id).where(User.email == victim))
        entry = URLSafeSerializer("test", salt="device-cookie").loads(genuine)[0]
    _lock_out(app, victim)
    entry_for_victim = [victim_id, "chosen-nonce", entry[2], entry[3]]
    forged = {
        "another account's": _device_cookie(shared).value,
        "a wrong key's": URLSafeSerializer("guessed", salt="device-cookie").dumps(
            [entry_for_victim]
        ),
        "the session's signer's": URLSafeSerializer("test").dumps([entry_for_victim]),
        "an unsigned": genuine.split(".")[0],
        "a tampered": genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB"),
    }
    for kind, value in forged.items():
        browser = app.test_client()
        browser.set_cookie(auth.DEVICE_COOKIE, value, domain="hub.test", path="/auth")
        refused = browser.post("/auth/login", data={"email": victim, "password": PASSWORD})
        assert refused.status_code == 401, kind
    shared_refused = shared.post("/auth/login", data={"email": victim, "password": PASSWORD})
    assert shared_refused.status_code == 401
    # The genuine cookie, copied to a fresh browser, is trusted: that is the only key.
    copy = app.test_client()
    copy.set_cookie(auth.DEVICE_COOKIE, genuine, domain="hub.test", path="/auth")
    sign_in(copy, victim)


@pytest.mark.slow
def test_changing_the_password_voids_the_old_device_cookies(app: Flask, make_user) -> None:
    staff = make_user("staff")
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, staff)
    sign_in(phone, staff)
    new = "a brand new passphrase"
    changed = laptop.post("/auth/password", data={"current": PASSWORD, "new": new, "confirm": new})
    assert changed.status_code == 302
    _lock_out(app, staff)
    # The phone's cookie was for the old password: it is an untrusted device now.
    refused = phone.post("/auth/login", data={"email": staff, "password": new})
    assert refused.status_code == 401 and "Too many failed sign-ins" in refused.get_data(
        as_text=True
    )
    # The laptop changed the password, proving it knew the old one: it stays trusted.
    sign_in(laptop, staff, new)


@pytest.mark.slow
def test_an_admin_reset_voids_the_accounts_device_cookies(app: Flask, make_user) -> None:
    from knowledge_hub.models import User
    from knowledge_hub.services import users

    owner, admin = make_user("staff"), make_user("admin")
    laptop = app.test_client()
    sign_in(laptop, owner)
    _lock_out(app, owner)
    sign_in(laptop, owner)  # trusted while the account is locked for the others
    with app.app_context():
        actor = db.session.scalar(select(User).where(User.email == admin))
        user_id = db.session.scalar(select(User.id).where(User.email == owner))
        invitation = users.reset_user(actor, user_id)
        users.accept_invitation(invitation.token, PASSWORD)
    # Even with the same password set again, the old device cookie no longer vouches.
    refused = laptop.post("/auth/login", data={"email": owner, "password": PASSWORD})
    assert refused.status_code == 401 and "Too many failed sign-ins" in refused.get_data(
        as_text=True
    )
