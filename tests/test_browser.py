"""Pages in a real browser (Debian's Chromium through Playwright): Arabic mirrors, Chinese
and Arabic render with real glyphs. Screenshots are kept under the pytest temp folder."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from knowledge_hub import seed
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.services import setup

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Chromium is installed by tests/setup.sh"
)


def load_demo_catalogue(app: Flask, kept_states) -> None:
    """The release criteria and the demo catalogue, as two kept steps (tests/snapshots.py)."""

    def seed_criteria() -> None:
        with app.app_context():
            seed.criteria(db.session)
            db.session.commit()

    def load_demo() -> None:
        with app.app_context():
            setup.load_demo()

    kept_states.run(("criteria",), seed_criteria)
    kept_states.run(("load_demo",), load_demo)


@pytest.fixture
def live_hub(app: Flask, kept_states) -> Iterator[str]:
    """The hub with its demo catalogue, served on a loopback port."""
    load_demo_catalogue(app, kept_states)
    yield from serving(app)


def serving(app: Flask) -> Iterator[str]:
    """The hub served on a loopback port while the caller runs: its address."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for the file's tests; each test's page is in a context of its own
    (Browser.new_page), with nothing shared between them."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def six_language_record(app: Flask) -> int:
    with app.app_context():
        for document in db.session.scalars(select(Document).order_by(Document.id)):
            if {v.language for v in document.variants} >= {"ar", "zh", "en", "fr", "ru", "es"}:
                return document.id
    raise AssertionError("the demo has no record in all six languages")


def test_fonts_cover_arabic_and_chinese() -> None:
    for language in ("ar", "zh"):
        fonts = subprocess.run(
            ["fc-list", f":lang={language}"], capture_output=True, text=True, check=True
        )
        assert fonts.stdout.strip(), f"no font covers {language}: run tests/setup.sh"


@pytest.mark.slow
@pytest.mark.parametrize("language", ["ar", "zh", "en"])
def test_pages_mirror_for_arabic_and_render_every_script(
    app: Flask,
    live_hub: str,
    browser: Browser,
    tmp_path_factory: pytest.TempPathFactory,
    language: str,
) -> None:
    shots = tmp_path_factory.mktemp(f"screenshots-{language}")
    record_id = six_language_record(app)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    query = {
        "ar": "الاقتصاد الاجتماعي والتضامني",
        "zh": "社会和团结经济",
        "en": "solidarity economy",
    }[language]

    page.goto(f"{live_hub}/?lang={language}")
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    page.screenshot(path=str(shots / "home.png"), full_page=True)

    page.goto(f"{live_hub}/search?q={query}")
    page.screenshot(path=str(shots / "search.png"), full_page=True)
    facets = page.locator("aside.facets").bounding_box()
    results = page.locator("section.results").bounding_box()
    assert facets and results
    if language == "ar":
        assert facets["x"] > results["x"], "the facet column is on the right in Arabic"
    else:
        assert facets["x"] < results["x"], "the facet column is on the left"
    assert page.locator("mark").count() > 0

    page.goto(f"{live_hub}/documents/{record_id}")
    page.screenshot(path=str(shots / "record.png"), full_page=True)
    heading = page.locator("h1")
    assert (
        heading.get_attribute("lang") in (language, None)
        or page.locator(f'header[lang="{language}"]').count() == 1
    )
    # Real glyphs, not boxes: the heading's script has a font, so it is laid out with
    # proper advance widths (missing glyphs would all share one box width).
    widths = page.evaluate(
        """() => {
            const text = document.querySelector('header h1').textContent.trim();
            const canvas = document.createElement('canvas').getContext('2d');
            canvas.font = getComputedStyle(document.querySelector('header h1')).font;
            const chars = Array.from(text).filter(c => c.trim());
            return chars.slice(0, 12).map(c => canvas.measureText(c).width);
        }"""
    )
    assert widths and all(w > 0 for w in widths)
    if language in ("ar", "en"):
        assert len({round(w, 1) for w in widths}) > 1, "glyph widths vary: no tofu boxes"
    for name in ("home.png", "search.png", "record.png"):
        assert (shots / name).stat().st_size > 10_000
    page.close()


@pytest.mark.slow
def test_the_search_page_reads_on_a_phone(live_hub: str, browser: Browser, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{live_hub}/search?q=cooperatives&lang=fr")
    page.screenshot(path=str(tmp_path / "phone.png"), full_page=False)
    first_result = page.locator(".records > li").first.bounding_box()
    assert first_result["y"] < 844, "on a phone the results come first"
    assert not page.locator("#facet-type").is_visible(), "the filters wait behind a button"
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390, "nothing overflows sideways"
    page.close()
