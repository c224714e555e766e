"""Forms announce their errors: each field in error is aria-invalid and described by its
hint and its message, a summary with links heads the form, and in a browser the focus
lands on the first field in error. The pickers' filter works with JavaScript, and the
form is sent without it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser
from playwright.sync_api import Page
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from tests.conftest import PASSWORD
from tests.conftest import sign_in
from tests.test_accessibility import violations
from tests.test_browser import CHROMIUM
from tests.test_browser import browser  # noqa: F401  (the Chromium fixture)
from tests.test_browser import live_hub  # noqa: F401  (the hub with its demo, served)
from tests.test_web_staff import record_form
from tests.test_web_staff import staff  # noqa: F401  (the signed-in staff client)
from tests.test_web_staff import staff_app  # noqa: F401  (the app with a staff account)


def summary_links(page: str) -> list[str]:
    summary = re.search(r'<div class="[^"]*error-summary[^"]*" role="alert".*?</div>', page, re.S)
    assert summary, "the form has no summary of its errors"
    return re.findall(r'<a href="#([^"]+)">', summary.group(0))


def test_a_field_in_error_is_described_by_its_message(client: FlaskClient) -> None:
    page = client.post("/auth/login", data={"email": "", "password": ""}).get_data(as_text=True)
    assert re.search(r'<input[^>]*aria-describedby="email-errors"[^>]*aria-invalid="true"', page)
    assert '<ul class="errors" id="email-errors">' in page
    assert summary_links(page) == ["email", "password"]
    assert "/static/forms.js" in page
    # A field without an error says nothing of one.
    fresh = client.get("/auth/login").get_data(as_text=True)
    assert "aria-invalid" not in fresh and "error-summary" not in fresh


@pytest.mark.slow
def test_the_record_form_links_each_problem_and_describes_by_hint_and_error(
    staff: FlaskClient,  # noqa: F811
) -> None:
    response = staff.post("/staff/new", data=record_form(ref="", title="", date="2023-13"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert summary_links(page) == ["ref", "date", "title"]
    assert 'aria-describedby="ref-hint ref-errors"' in page
    assert 'id="ref-hint"' in page and 'id="ref-errors"' in page
    assert "Give the record a reference." in page
    assert "/static/forms.js" in page and "/static/pickers.js" in page

    page = staff.post("/staff/import", data={}).get_data(as_text=True)
    assert summary_links(page) == ["manifest"]
    assert 'aria-describedby="manifest-hint manifest-errors"' in page


@pytest.mark.slow
def test_a_problem_in_a_group_of_checkboxes_links_to_its_first_box(
    app: Flask, client: FlaskClient, make_user
) -> None:
    sign_in(client, make_user("admin"))
    response = client.post(
        "/admin/users/invite", data={"email": "", "name": "N", "roles": ["nobody"]}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "roles-0" in summary_links(page) and "email" in summary_links(page)


# --- in a browser

pytestmark_browser = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Chromium is installed by tests/setup.sh"
)


def signed_in_page(page: Page, hub: str, email: str) -> Page:
    page.goto(f"{hub}/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    assert "/auth/login" not in page.url
    return page


@pytest.mark.slow
@pytestmark_browser
def test_in_a_browser_errors_take_the_focus_and_pickers_work_with_and_without_scripts(
    app: Flask,
    live_hub: str,  # noqa: F811
    browser: Browser,  # noqa: F811
    make_user,
    tmp_path: Path,
) -> None:
    email = make_user("staff")
    page = signed_in_page(browser.new_page(), live_hub, email)

    # Sent without a reference: the focus is on its box, which its message describes.
    page.goto(f"{live_hub}/staff/new")
    page.fill("#title", "A title")
    page.click("form.record-form button[type=submit]")
    page.wait_for_selector(".error-summary")
    # The script moves the focus once the page is parsed, which may come a moment after
    # the summary is in the page.
    page.wait_for_function("() => document.activeElement !== document.body")
    focused = page.evaluate(
        """() => {
            const field = document.activeElement;
            const described = (field.getAttribute("aria-describedby") || "").split(" ");
            return {
                id: field.id,
                invalid: field.getAttribute("aria-invalid"),
                messages: described.map(id => document.getElementById(id).textContent.trim()),
            };
        }"""
    )
    assert focused["id"] == "ref" and focused["invalid"] == "true"
    assert "Give the record a reference." in focused["messages"]

    # The filter box narrows the places to those whose name holds what is typed.
    page.fill("#regions-filter", "senegal")
    shown = page.evaluate(
        "() => [...document.querySelectorAll('#regions option')]"
        ".filter(o => !o.hidden).map(o => o.value)"
    )
    assert shown == ["SN"]
    groups = page.evaluate(
        "() => [...document.querySelectorAll('#regions optgroup')]"
        ".filter(g => !g.hidden).map(g => g.label)"
    )
    assert groups == ["Africa"]
    page.keyboard.press("Enter")  # picks it, and does not send the form
    assert page.locator(".picker-chips li").all_inner_texts()[0].startswith("Senegal")
    # The page in error, with its filter and chips, breaks no WCAG 2.1 AA rule (a
    # screenshot is kept under the pytest temp folder for people to look at).
    assert violations(page, Axe()) == []
    page.locator(".field.picker").screenshot(path=str(tmp_path / "places-picker.png"))
    page.click(".picker-chips .picker-remove")
    assert page.evaluate("() => document.querySelector('#regions').selectedOptions.length") == 0

    # Without scripts the plain list is there, and the form sends the places picked.
    context = browser.new_context(java_script_enabled=False)
    plain = signed_in_page(context.new_page(), live_hub, email)
    plain.goto(f"{live_hub}/staff/new")
    assert plain.locator("#regions-filter").count() == 0
    plain.fill("#ref", "NOJS-1")
    plain.fill("#title", "Sent without scripts")
    plain.select_option("#regions", ["SN", "002"])
    plain.click("form.record-form button[type=submit]")
    assert "/versions" in plain.url
    context.close()
    with app.app_context():
        document = db.session.scalar(select(Document).where(Document.ref == "NOJS-1"))
        assert sorted(r.code for r in document.regions) == ["002", "SN"]
