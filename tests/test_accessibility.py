"""Accessibility measured: axe-core runs on the pages of every role, in English, Arabic
and Chinese, in a real browser, and finds no violation of the WCAG 2.1 A and AA rules.
A screenshot of each page is kept under the pytest temp folder for people to look at."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import Criterion
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import Organization
from knowledge_hub.models import OutgoingMail
from knowledge_hub.models import User
from knowledge_hub.services import alerts as alert_service
from knowledge_hub.services import imports
from knowledge_hub.services import translations
from knowledge_hub.services import users
from tests.conftest import PASSWORD
from tests.test_browser import CHROMIUM
from tests.test_browser import browser  # noqa: F401  (the Chromium fixture)
from tests.test_browser import live_hub  # noqa: F401  (the hub with its demo, served)
from tests.test_browser import six_language_record

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Chromium is installed by tests/setup.sh"
    ),
]

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LANGUAGES = ("en", "ar", "zh")

PUBLIC = [
    "/",
    "/search?q=social",
    "/search?q=zzzzqqq",
    "/search/help",
    "/search/advanced",
    "/documents/{record}",
    "/documents/{record}?version=fr",
    "/browse/",
    "/browse/organizations",
    "/browse/organizations/ILO",
    "/browse/topics",
    "/browse/topics/cooperatives",
    "/browse/regions",
    "/browse/regions/002",
    "/browse/types",
    "/browse/years",
    "/auth/login",
    "/meetings/",
    "/meetings/47",
    "/auth/forgot",
    "/no-such-page",
]
SIGNED_IN = [
    "/documents/{record}",
    "/staff/",
    "/staff/new",
    "/staff/{record}/edit",
    "/staff/{record}/versions",
    "/staff/import",
    "/meetings/new",
    "/meetings/47/edit",
    "/review/",
    "/review/{record}",
    "/review/{record}/history",
    "/translations/review/",
    "/translations/coverage",
    "/staff/statistics",
    "/translate/",
    "/admin/users",
    "/admin/users/invite",
    "/admin/organizations",
    "/admin/vocabularies",
    "/admin/criteria",
    "/admin/audit",
    "/auth/password",
    "/auth/tokens/",
    "/alerts/",
    "/admin/mail",
]


def violations(page, axe: Axe) -> list[str]:
    result = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    return [
        f"{v['id']} ({len(v['nodes'])}): {v['nodes'][0]['target']}"
        for v in result.response["violations"]
    ]


def test_no_page_of_any_role_breaks_a_wcag_21_aa_rule(
    app: Flask,
    live_hub: str,  # noqa: F811
    browser: Browser,  # noqa: F811
    make_user,
    tmp_path: Path,
) -> None:
    record = six_language_record(app)
    email = make_user("admin", "staff", "reviewer", "translator", languages=("fr",))
    axe = Axe()
    found: dict[str, list[str]] = {}
    checked = 0
    reader = browser.new_page()
    staff = browser.new_page()
    staff.goto(f"{live_hub}/auth/login")
    staff.fill("input[name=email]", email)
    staff.fill("input[name=password]", PASSWORD)
    staff.click("main form button[type=submit]")
    assert "/auth/login" not in staff.url
    for page, paths in ((reader, PUBLIC), (staff, SIGNED_IN)):
        for language in LANGUAGES:
            for path in paths:
                address = path.format(record=record)
                joiner = "&" if "?" in address else "?"
                response = page.goto(f"{live_hub}{address}{joiner}lang={language}")
                expected = 404 if address == "/no-such-page" else 200
                assert response is not None and response.status == expected, address
                name = address.strip("/").replace("/", "_").replace("?", "_") or "home"
                page.screenshot(path=str(tmp_path / f"{language}-{name}.png"), full_page=True)
                checked += 1
                if problems := violations(page, axe):
                    found[f"{language} {address}"] = problems
    assert checked == len(LANGUAGES) * (len(PUBLIC) + len(SIGNED_IN))
    assert found == {}


#: The pages of one thing each (a user, a request, a batch...), set up by remaining_pages().
ONE_OF_EACH = [
    "/admin/",
    "/admin/users/{user}",
    "/admin/organizations/{organization}",
    "/admin/organizations/new",
    "/admin/criteria/{criterion}",
    "/admin/criteria/new",
    "/admin/criteria/versions/1",
    "/admin/vocabularies/types",
    "/admin/vocabularies/topics",
    "/staff/{record}/versions/fr/edit",
    "/staff/fixity/",
    "/staff/import/{batch}",
    "/translations/request/{untranslated}",
    "/translate/{request}",
    "/translations/review/{translated}/fr",
]


def remaining_pages(app: Flask, email: str) -> dict[str, str]:
    """A translation asked for and claimed (its workspace), another delivered and waiting
    for review (its checklist), an import waiting for confirmation, an invitation; the
    ids of what the pages of ONE_OF_EACH show."""
    with app.test_request_context():
        actor = db.session.scalar(select(User).where(User.email == email))
        without_french = [
            d
            for d in db.session.scalars(select(Document).order_by(Document.id))
            if "fr" not in {v.language for v in d.variants}
        ]
        [claimed] = translations.request_translations(actor, without_french[0], ["fr"])
        translations.claim(actor, claimed)
        [delivered] = translations.request_translations(actor, without_french[1], ["fr"])
        translations.claim(actor, delivered)
        translations.submit(
            actor,
            delivered,
            "Titre de la version française",
            "Résumé de la version française.",
            [("note-fr.txt", io.BytesIO("Le texte de la version française.".encode()))],
        )
        manifest = (
            "ref,file,language,title,kind,type,date\n"
            "A11Y-1,a11y.txt,en,A page to check,publication,report,2024\n"
        )
        batch = imports.stage_batch(
            actor,
            ("manifest.csv", io.BytesIO(manifest.encode())),
            None,
            [("a11y.txt", io.BytesIO(b"Text of the record to import."))],
        )
        invitation = users.invite_user(actor, "invited@example.org", "Invited Person", ["staff"])
        # Saved searches: the staff member's own (their list), and a reader's waiting for
        # confirmation (the pages its mail links to); a "Forgot your password?" link.
        alert_service.save_search(actor, None, "social", {"language": ["en"]}, "daily", "en")
        released = next(d for d in without_french if d.status == DocumentStatus.RELEASED)
        alert_service.watch_translation(actor, None, released.id, "fr", "en")
        waiting = alert_service.save_search(
            None, "reader@example.org", "cooperatives", {}, "weekly", "en"
        )
        users.request_password_reset("invited@example.org", "en")
        reset_mail = db.session.scalar(select(OutgoingMail).where(OutgoingMail.kind == "reset"))
        return {
            "user": str(actor.id),
            "organization": str(db.session.scalar(select(Organization.id).limit(1))),
            "criterion": str(db.session.scalar(select(Criterion.id).limit(1))),
            "untranslated": str(without_french[2].id),
            "request": str(claimed.id),
            "translated": str(without_french[1].id),
            "batch": str(batch.id),
            "token": invitation.token,
            "alert": waiting.token,
            "reset": reset_mail.body_text.split("/auth/reset/")[1].split()[0],
        }


def test_the_pages_of_one_thing_break_no_wcag_21_aa_rule(
    app: Flask,
    live_hub: str,  # noqa: F811
    browser: Browser,  # noqa: F811
    make_user,
    tmp_path: Path,
) -> None:
    record = six_language_record(app)
    email = make_user("admin", "staff", "reviewer", "translator", languages=("fr",))
    ids = {"record": str(record), **remaining_pages(app, email)}
    axe = Axe()
    found: dict[str, list[str]] = {}
    staff = browser.new_page()
    staff.goto(f"{live_hub}/auth/login")
    staff.fill("input[name=email]", email)
    staff.fill("input[name=password]", PASSWORD)
    staff.click("main form button[type=submit]")
    assert "/auth/login" not in staff.url
    invited = browser.new_page()  # nobody signed in opens an invitation
    pages = [(staff, path) for path in ONE_OF_EACH] + [
        (invited, path)
        for path in (
            "/auth/invitation/{token}",
            "/auth/reset/{reset}",
            "/alerts/confirm/{alert}",
            "/alerts/unsubscribe/{alert}",
        )
    ]
    for language in LANGUAGES:
        for page, path in pages:
            address = path.format(**ids)
            response = page.goto(f"{live_hub}{address}?lang={language}")
            assert response is not None and response.status == 200, address
            name = path.strip("/").replace("/", "_").replace("{", "").replace("}", "")
            page.screenshot(path=str(tmp_path / f"{language}-{name}.png"), full_page=True)
            if problems := violations(page, axe):
                found[f"{language} {address}"] = problems
    assert found == {}


def test_the_check_finds_what_it_looks_for(browser: Browser) -> None:  # noqa: F811
    # A page with an image without text and an unnamed field: axe must say so, or the
    # clean run above would prove nothing.
    page = browser.new_page()
    page.set_content(
        '<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
        '<img src="data:,"><input type="text"></main></body></html>'
    )
    found = " ".join(violations(page, Axe()))
    assert "image-alt" in found and "label" in found
