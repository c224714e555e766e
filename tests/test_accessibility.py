"""Accessibility measured: axe-core runs on the pages of every role, in English, Arabic
and Chinese, in a real browser, and finds no violation of the WCAG 2.1 A and AA rules.
A screenshot of each page is kept under the pytest temp folder for people to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser

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
    "/auth/login",
    "/no-such-page",
]
SIGNED_IN = [
    "/staff/",
    "/staff/new",
    "/staff/{record}/edit",
    "/staff/{record}/versions",
    "/staff/import",
    "/review/",
    "/review/{record}",
    "/review/{record}/history",
    "/translations/review/",
    "/translations/coverage",
    "/translate/",
    "/admin/users",
    "/admin/users/invite",
    "/admin/organizations",
    "/admin/vocabularies",
    "/admin/criteria",
    "/admin/audit",
    "/auth/password",
    "/auth/tokens/",
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
