"""Each role's journey with the keyboard alone, in a real browser: Tab moves from control
to control, Enter and Space act, and at every stop the focused control is on screen with
a visible focus ring (WCAG 2.1.1 Keyboard, 2.4.7 Focus Visible). No click, no mouse.
A screenshot of each step is kept under the pytest temp folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import Page
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import User
from knowledge_hub.models import VariantStatus
from knowledge_hub.services import review
from knowledge_hub.services import translations
from tests.conftest import PASSWORD
from tests.test_browser import CHROMIUM
from tests.test_browser import browser  # noqa: F401  (the Chromium fixture)
from tests.test_browser import live_hub  # noqa: F401  (the hub with its demo, served)
from tests.test_review import ATTESTATIONS
from tests.test_review import PUBLICATION
from tests.test_review import TEXT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Chromium is installed by tests/setup.sh"
    ),
]

#: What the keyboard's focus is on, and whether a person can see it there: a ring
#: (outline or box shadow) around a control with a size, inside the window.
FOCUSED = """() => {
    const e = document.activeElement;
    if (!e || e === document.body) return null;
    const style = getComputedStyle(e);
    const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
        || (style.boxShadow && style.boxShadow !== 'none');
    const box = e.getBoundingClientRect();
    const onScreen = box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
        && box.top < innerHeight && box.left < innerWidth;
    const label = e.labels && e.labels.length ? e.labels[0].innerText : '';
    return {
        tag: e.tagName.toLowerCase(), type: e.type || '', name: e.name || '',
        text: (e.getAttribute('aria-label') || e.innerText || label || e.value || '').trim(),
        ring: !!ring, onScreen: onScreen,
    };
}"""

#: Tab presses before giving up on reaching a control.
MOST_TABS = 200


class Journey:
    """A person at the keyboard: every Tab's stop must show where the focus is."""

    def __init__(self, page: Page, shots: Path) -> None:
        self.page = page
        self.shots = shots
        self.stops = 0
        self.steps = 0

    def tab_to(self, wanted: Callable[[dict], bool], what: str) -> dict:
        for __ in range(MOST_TABS):
            self.page.keyboard.press("Tab")
            focused = self.page.evaluate(FOCUSED)
            if focused is None:
                continue
            self.stops += 1
            assert focused["ring"], f"no visible focus on {focused} (looking for {what})"
            assert focused["onScreen"], f"the focus is off screen: {focused} ({what})"
            if wanted(focused):
                return focused
        raise AssertionError(f"Tab never reached {what} on {self.page.url}")

    def field(self, name: str, text: str) -> None:
        self.tab_to(lambda f: f["name"] == name, f"the field {name}")
        self.page.keyboard.type(text)

    def press(self, label: str, key: str = "Enter") -> None:
        """Tab to the link or button whose text begins with label, and act on it."""
        self.tab_to(lambda f: f["text"].startswith(label), label)
        with self.page.expect_navigation():
            self.page.keyboard.press(key)
        self.shot(label)

    def shot(self, name: str) -> None:
        self.steps += 1
        safe = "".join(c if c.isalnum() else "-" for c in name)[:40]
        self.page.screenshot(path=str(self.shots / f"{self.steps:02d}-{safe}.png"))


def sign_in(journey: Journey, live_hub: str, email: str) -> None:  # noqa: F811
    journey.page.goto(f"{live_hub}/auth/login")
    journey.field("email", email)
    journey.field("password", PASSWORD)
    with journey.page.expect_navigation():
        journey.page.keyboard.press("Enter")
    assert "/auth/login" not in journey.page.url
    journey.shot("signed-in")


def a_record_without(app: Flask, language: str, skip: int = 0) -> Document:
    with app.app_context():
        found = [
            d
            for d in db.session.scalars(select(Document).order_by(Document.id))
            if language not in {v.language for v in d.variants}
        ]
        return found[skip]


def test_a_translator_claims_and_delivers_with_the_keyboard(
    app: Flask,
    live_hub: str,  # noqa: F811
    browser: Browser,  # noqa: F811
    make_user,
    tmp_path: Path,
) -> None:
    staff = make_user("staff")
    translator = make_user("translator", languages=("fr",))
    document = a_record_without(app, "fr")
    with app.test_request_context():
        asker = db.session.scalar(select(User).where(User.email == staff))
        translations.request_translations(asker, db.session.get(Document, document.id), ["fr"])
    delivered = tmp_path / "traduction.txt"
    delivered.write_text("Le texte traduit en français, livré au clavier.", encoding="utf-8")

    journey = Journey(browser.new_page(viewport={"width": 1280, "height": 900}), tmp_path)
    sign_in(journey, live_hub, translator)
    journey.press("Translate")
    journey.press("Claim")  # which opens the workspace
    assert "/translate/" in journey.page.url and journey.page.locator("input[name=title]").count()
    journey.field("title", "Titre livré au clavier")
    journey.field("summary", "Un résumé tapé sans souris.")
    # Playwright subscribes to file choosers without waiting for the browser's answer:
    # waiting for one from before the first Tab gives the subscription time to land.
    with journey.page.expect_file_chooser() as chooser:
        journey.tab_to(lambda f: f["type"] == "file", "the file field")
        journey.page.keyboard.press("Space")
    chooser.value.set_files(str(delivered))
    journey.press("Submit for review")
    assert journey.page.locator(".flash-success").count() == 1

    with app.app_context():
        variant = db.session.get(Document, document.id).variant_in("fr")
        assert variant is not None and variant.title == "Titre livré au clavier"
        assert variant.status == VariantStatus.IN_REVIEW
    assert journey.stops > 5


def test_staff_create_a_record_and_send_it_to_review_with_the_keyboard(
    app: Flask,
    live_hub: str,  # noqa: F811
    browser: Browser,  # noqa: F811
    make_user,
    tmp_path: Path,
) -> None:
    email = make_user("staff")
    journey = Journey(browser.new_page(viewport={"width": 1280, "height": 900}), tmp_path)
    sign_in(journey, live_hub, email)
    journey.press("Records")
    journey.press("New record")
    # Sent without its reference and title: the form says so, and the focus waits on
    # the first field to correct, which names its error.
    journey.press("Create the record")
    first = journey.page.evaluate(
        """() => { const e = document.activeElement;
            const said = (e.getAttribute('aria-describedby') || '').split(' ')
                .map(id => document.getElementById(id)).filter(Boolean)
                .map(n => n.innerText).join(' ');
            return {name: e.name, invalid: e.getAttribute('aria-invalid'), said: said}; }"""
    )
    assert first == {"name": "ref", "invalid": "true", "said": first["said"]}
    assert "Give the record a reference." in first["said"]
    journey.page.keyboard.type("KB-2026-01")
    journey.tab_to(lambda f: f["name"] == "kind", "the kind")
    journey.page.keyboard.type("Archive")  # a closed list answers to typing
    journey.field("date", "2026-05")
    journey.field("title", "Minutes typed without a mouse")
    journey.field("summary", "What the Task Force decided, entered with the keyboard.")
    journey.press("Create the record")
    assert journey.page.locator(".flash-success").count() == 1
    journey.press("Send to review")

    with app.app_context():
        document = db.session.scalar(select(Document).where(Document.ref == "KB-2026-01"))
        assert document is not None and document.kind.value == "archive"
        assert document.original.title == "Minutes typed without a mouse"
        assert document.status.value == "in_review"


def test_a_reviewer_attests_and_releases_with_the_keyboard(
    app: Flask,
    live_hub: str,  # noqa: F811
    browser: Browser,  # noqa: F811
    make_user,
    import_rows,
    tmp_path: Path,
) -> None:
    staff, email = make_user("staff"), make_user("reviewer")
    assert import_rows([{**PUBLICATION, "content": TEXT}], release=False).failed == 0
    with app.test_request_context():
        document = db.session.scalar(select(Document).where(Document.ref == PUBLICATION["ref"]))
        submitter = db.session.scalar(select(User).where(User.email == staff))
        review.submit_for_review(submitter, document)
        document_id = document.id

    journey = Journey(browser.new_page(viewport={"width": 1280, "height": 900}), tmp_path)
    sign_in(journey, live_hub, email)
    journey.press("Review")
    journey.press(PUBLICATION["ref"])  # the record waiting, in the work queue
    for code in ATTESTATIONS:
        # Into the criterion's choices (No change, checked), then up to Met.
        journey.tab_to(lambda f, code=code: f["name"] == f"outcome-{code}", code)
        journey.page.keyboard.press("ArrowUp")
        journey.page.keyboard.press("ArrowUp")
        assert journey.page.evaluate("document.activeElement.value") == "pass", code
        if code == "copyright_cleared":
            journey.field(f"comment-{code}", "Licence CC BY 4.0 confirmed by UNRISD.")
    journey.press("Record the chosen checks")
    assert f"{len(ATTESTATIONS)}" in journey.page.locator(".flash-success").first.inner_text()
    journey.press("Release")

    with app.app_context():
        document = db.session.get(Document, document_id)
        assert document.status.value == "released"
