"""Phones and zoomed windows, measured in Chromium: on the search page the results come
first and a "Filters (n)" button opens the facets; the header folds under a Menu button;
controls are at least 44 × 44 px to the finger; no page scrolls sideways at 360, 390 or
768 px in any of the six languages; nothing moves for a reader who asked for reduced
motion; at 200 % and 400 % zoom the search page still reflows. Screenshots are kept
under the pytest temp folder for people to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import Page

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

PHONE = {"width": 390, "height": 844}
LANGUAGES = ("en", "fr", "es", "ru", "ar", "zh")
WIDTHS = (360, 390, 768)
SEARCH = "/search?q=social+economy"
PUBLIC = [
    "/",
    f"{SEARCH}&type=policy-brief&language=en",
    "/documents/{record}",
    "/search/help",
    "/search/advanced",
    "/auth/login",
]
SIGNED_IN = ["/staff/", "/review/{record}"]
#: The controls that must be 44 × 44 px on a phone (WCAG 2.5.5): every link and button
#: of the header, the facets, the pagination and the results' language chips.
TAP_TARGETS = [
    ".brand",
    ".site-menu > summary",
    ".account a",
    ".account button",
    ".languages a",
    ".search-box input",
    ".search-box button",
    ".search-links a",
    ".filters-toggle",
    ".facets li a",
    ".clear-filters",
    ".facet-more a",
    ".sort select",
    ".sort button",
    ".pagination a",
    ".langs a",
]
TAP_SIZE = 44

#: Visible elements that stick out of the window sideways, outside any box that scrolls
#: or clips them: what makes the page scroll sideways, named.
STICKING_OUT = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const element of document.body.querySelectorAll('*')) {
    if (!element.checkVisibility() || element.matches('.skip')) continue;
    const box = element.getBoundingClientRect();
    if (box.width === 0 || (box.right <= width + 0.5 && box.left >= -0.5)) continue;
    let held = false;
    for (let up = element.parentElement; up; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible') { held = true; break; }
    }
    if (!held) out.push(`${element.tagName.toLowerCase()}.${element.className}`);
  }
  return out.slice(0, 5);
}"""

SMALL_TARGETS = """(selectors) => {
  const small = [];
  for (const selector of selectors) {
    for (const element of document.querySelectorAll(selector)) {
      if (!element.checkVisibility()) continue;
      const box = element.getBoundingClientRect();
      if (box.width < 44 - 0.01 || box.height < 44 - 0.01) {
        small.push(`${selector} "${element.textContent.trim().slice(0, 20)}" `
                   + `${Math.round(box.width)}x${Math.round(box.height)}`);
      }
    }
  }
  return small;
}"""


@pytest.fixture
def every_role(make_user) -> str:
    """An account with every role, so that the menu holds every link it can."""
    return make_user("admin", "staff", "reviewer", "translator", languages=("fr",))


def sign_in(page: Page, live_hub: str, email: str) -> None:
    page.goto(f"{live_hub}/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    assert "/auth/login" not in page.url


def with_language(address: str, language: str) -> str:
    return f"{address}{'&' if '?' in address else '?'}lang={language}"


def overflow(page: Page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def test_on_a_phone_the_results_come_first_and_a_button_opens_the_filters(
    live_hub: str,  # noqa: F811
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{live_hub}{SEARCH}")
    page.screenshot(path=str(tmp_path / "search-phone.png"))
    toggle = page.locator(".filters-toggle")
    first_result = page.locator(".records > li").first.bounding_box()
    assert toggle.inner_text() == "Filters (0)"
    assert toggle.bounding_box()["y"] < first_result["y"] < PHONE["height"] - 100
    assert not page.locator("#facet-type").is_visible()

    toggle.click()
    assert page.locator(".filters-panel").get_attribute("open") is not None
    facets = page.locator("#facet-type").bounding_box()
    assert facets["y"] < page.locator(".records > li").first.bounding_box()["y"]
    assert page.evaluate("document.activeElement.matches('.filters-toggle')")
    page.screenshot(path=str(tmp_path / "filters-open.png"))
    page.locator("#facet-type li a:not(.on)").first.click()
    page.wait_for_url("**type=**")
    assert toggle.inner_text() == "Filters (1)"
    toggle.click()
    page.locator("#facet-language li a:not(.on)").first.click()
    page.wait_for_url("**language=**")
    assert toggle.inner_text() == "Filters (2)"
    # Back on a closed panel, with the results first again.
    first_result = page.locator(".records > li").first.bounding_box()
    assert first_result["y"] < PHONE["height"] - 100
    assert not page.locator("#facet-type").is_visible()
    page.goto(f"{live_hub}{SEARCH}&type=policy-brief&lang=ru")
    assert toggle.inner_text() == "Фильтры (1)"

    # The header: well under a quarter of the screen, its menu folded behind a button.
    header = page.locator(".site-header").bounding_box()
    assert header["height"] < 0.25 * PHONE["height"]
    assert not page.locator(".languages").is_visible()
    page.locator(".site-menu > summary").click()
    assert page.locator(".languages a[hreflang=zh]").is_visible()
    page.screenshot(path=str(tmp_path / "menu-open.png"))
    page.close()

    # Without JavaScript both buttons still open what they fold.
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    plain = context.new_page()
    plain.goto(f"{live_hub}{SEARCH}")
    plain.locator(".filters-toggle").click()
    assert plain.locator("#facet-type").is_visible()
    plain.locator(".site-menu > summary").click()
    assert plain.locator(".account a").first.is_visible()
    context.close()

    # A wide screen shows the facets beside the results and the menu in the bar, with
    # no button to press, as before.
    wide = browser.new_page(viewport={"width": 1280, "height": 900})
    wide.goto(f"{live_hub}{SEARCH}")
    assert not wide.locator(".filters-toggle").is_visible()
    assert not wide.locator(".site-menu > summary").is_visible()
    assert wide.locator("#facet-type").is_visible() and wide.locator(".languages").is_visible()
    facets = wide.locator("aside.facets").bounding_box()
    results = wide.locator("section.results").bounding_box()
    assert facets["x"] + facets["width"] <= results["x"]
    assert abs(facets["y"] - results["y"]) < 50
    wide.close()


def test_controls_on_a_phone_are_44_pixels_to_the_finger(
    live_hub: str,  # noqa: F811
    browser: Browser,  # noqa: F811
    every_role: str,
) -> None:
    page = browser.new_page(viewport=PHONE)
    sign_in(page, live_hub, every_role)
    seen: set[str] = set()
    for address in (SEARCH, f"{SEARCH}&type=policy-brief&facet_all=organization"):
        page.goto(f"{live_hub}{address}")
        if not page.locator(".filters-panel[open]").count():
            page.locator(".filters-toggle").click()
        page.locator(".site-menu > summary").click()
        assert page.evaluate(SMALL_TARGETS, TAP_TARGETS) == [], address
        seen |= {s for s in TAP_TARGETS if page.locator(s).first.is_visible()}
    # Every kind of control was there to be measured.
    assert seen == set(TAP_TARGETS)
    page.close()


def test_no_page_scrolls_sideways_on_a_phone_or_a_tablet_in_any_language(
    app: Flask,
    live_hub: str,  # noqa: F811
    browser: Browser,  # noqa: F811
    every_role: str,
    tmp_path: Path,
) -> None:
    record = six_language_record(app)
    found: dict[str, object] = {}
    checked = 0
    for width in WIDTHS:
        reader = browser.new_page(viewport={"width": width, "height": 844})
        staff = browser.new_page(viewport={"width": width, "height": 844})
        sign_in(staff, live_hub, every_role)
        for page, paths in ((reader, PUBLIC), (staff, SIGNED_IN)):
            for language in LANGUAGES:
                for path in paths:
                    address = with_language(path.format(record=record), language)
                    response = page.goto(f"{live_hub}{address}")
                    assert response is not None and response.status == 200, address
                    checked += 1
                    scroll_width, inner_width = overflow(page)
                    if scroll_width > inner_width:
                        found[f"{width} {address}"] = (scroll_width, page.evaluate(STICKING_OUT))
                        name = address.strip("/").replace("/", "_").replace("?", "_")
                        page.screenshot(path=str(tmp_path / f"{width}-{name}.png"), full_page=True)
        reader.close()
        staff.close()
    assert checked == len(WIDTHS) * len(LANGUAGES) * (len(PUBLIC) + len(SIGNED_IN))
    assert found == {}


def test_nothing_moves_for_a_reader_who_asked_for_reduced_motion(
    live_hub: str,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    durations = """() => {
      const toggle = getComputedStyle(document.querySelector('.filters-toggle'), '::after');
      const html = getComputedStyle(document.documentElement);
      return [toggle.transitionDuration, toggle.animationDuration, html.scrollBehavior];
    }"""
    moving = browser.new_context(viewport=PHONE, reduced_motion="no-preference")
    page = moving.new_page()
    page.goto(f"{live_hub}{SEARCH}")
    # The Filters button's arrow turns as the facets open: the one thing that moves.
    assert page.evaluate(durations)[0] == "0.2s"
    moving.close()
    still = browser.new_context(viewport=PHONE, reduced_motion="reduce")
    page = still.new_page()
    page.goto(f"{live_hub}{SEARCH}")
    assert page.evaluate(durations) == ["0s", "0s", "auto"]
    assert page.evaluate(
        """() => [...document.querySelectorAll('*')].every(e => {
             const s = getComputedStyle(e);
             return s.transitionDuration.split(', ').every(d => d === '0s')
                 && s.animationDuration.split(', ').every(d => d === '0s');
           })"""
    )
    still.close()


@pytest.mark.parametrize("zoom", [200, 400])
def test_the_search_page_reflows_at_200_and_400_percent_zoom(
    live_hub: str,  # noqa: F811
    browser: Browser,  # noqa: F811
    tmp_path: Path,
    zoom: int,
) -> None:
    # A 1280 × 800 window zoomed to 200 % is 640 × 400 CSS px; to 400 %, 320 × 200
    # (WCAG 1.4.4 and 1.4.10).
    viewport = {"width": 1280 * 100 // zoom, "height": 800 * 100 // zoom}
    context = browser.new_context(viewport=viewport, device_scale_factor=zoom / 100)
    page = context.new_page()
    page.goto(f"{live_hub}{SEARCH}&type=policy-brief")
    page.screenshot(path=str(tmp_path / f"search-{zoom}.png"), full_page=True)
    scroll_width, inner_width = overflow(page)
    assert scroll_width <= inner_width, page.evaluate(STICKING_OUT)
    assert page.evaluate(STICKING_OUT) == []
    toggle = page.locator(".filters-toggle")
    toggle.focus()
    assert toggle.is_visible() and toggle.inner_text() == "Filters (1)"
    page.keyboard.press("Enter")
    assert page.locator("#facet-type").is_visible()
    assert page.evaluate(STICKING_OUT) == []
    context.close()
