"""A reader browses in a real browser (Debian's Chromium) against `flask run` serving the
demonstration catalogue: home → Browse → Organizations → an organization → a record →
its French tab, by mouse and by the arrow keys of the tabs → a download, counted once."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser
from playwright.sync_api import expect

from tests.conftest import make_config
from tests.server import FlaskServer
from tests.server import run_hub
from tests.test_browser import CHROMIUM
from tests.test_browser import browser  # noqa: F401  (the Chromium fixture)

#: A desktop Chrome's user agent. Headless Chromium names itself "HeadlessChrome", which
#: the COUNTER robots list holds, so a reader's downloads are made with a reader's name.
DESKTOP_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Chromium is installed by tests/setup.sh"
    ),
]


@pytest.fixture
def demo_server(tmp_path: Path, installed) -> Iterator[str]:
    """`flask run` over a hub made by `hub init` and `hub demo`: its address."""
    config = make_config(tmp_path)

    def install() -> None:
        for command in (("hub", "init"), ("hub", "demo")):
            done = run_hub(config, *command)
            assert done.returncode == 0, done.stderr

    installed((__name__, "demo"), config, install)
    with FlaskServer(config) as server:
        yield server.url


def test_a_reader_browses_to_a_record_and_reads_it_in_french(
    demo_server: str,
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, user_agent=DESKTOP_CHROME
    )
    page = context.new_page()
    page.goto(f"{demo_server}/?lang=en")
    page.locator(".search-links").get_by_role("link", name="Browse", exact=True).click()
    expect(page).to_have_url(re.compile(r"/browse/$"))
    page.locator("main").get_by_role("link", name="Organizations", exact=True).click()
    expect(page.locator("h1")).to_have_text("Organizations")
    page.locator('main a[href="/browse/organizations/UN-NGLS"]').click()
    expect(page.locator("h1")).to_contain_text("UN-NGLS")
    record = page.get_by_role("link", name=re.compile(r"Overview of the 2014 position paper"))
    record.click()
    expect(page).to_have_url(re.compile(r"/documents/\d+"))
    page.screenshot(path=str(tmp_path / "record.png"), full_page=True)

    # The script made the language links ARIA tabs: the interface's language first.
    tabs = page.get_by_role("tablist").get_by_role("tab")
    expect(tabs.first).to_have_text("English")
    expect(tabs.first).to_have_attribute("aria-selected", "true")
    french = page.get_by_role("tab", name="French")
    french.click()
    expect(french).to_have_attribute("aria-selected", "true")
    expect(page.locator("#version-fr")).to_be_visible()
    expect(page.locator("#version-en")).to_be_hidden()
    heading = page.locator("h1#record-title")
    expect(heading).to_have_attribute("lang", "fr")
    expect(heading).to_contain_text("Présentation du document de position de 2014")
    expect(page).to_have_url(re.compile(r"version=fr"))

    # The arrow keys move between the tabs, as the ARIA Authoring Practices describe.
    french.focus()
    page.keyboard.press("Home")
    expect(tabs.first).to_be_focused()
    expect(page.locator("#version-en")).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(tabs.nth(1)).to_be_focused()
    expect(tabs.nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")  # from the first, round to the last
    expect(tabs.last).to_be_focused()
    expect(tabs.last).to_have_attribute("aria-selected", "true")

    # The reloaded page, without any clicking, shows the version its address names.
    page.goto(re.sub(r"version=[\w-]+", "version=fr", page.url))
    expect(page.locator("#version-fr")).to_be_visible()
    # The permanent link is there to select, and the copy button shown by the script.
    expect(page.locator("#permanent-link")).to_have_value(re.compile(r"/r/DEMO-PP-2014$"))
    expect(page.get_by_role("button", name="Copy link")).to_be_visible()

    # The French version's file, downloaded: the record's count rises by one; the same
    # download again within 30 seconds is the same click; a robot's is not counted.
    document_id = re.search(r"/documents/(\d+)", page.url).group(1)
    api = f"{demo_server}/api/documents/{document_id}"
    before = requests.get(api, timeout=30).json()["statistics"]
    french_download = page.locator("#version-fr").get_by_role("link", name=re.compile("^Download"))
    with page.expect_download() as fetched:
        french_download.click()
    assert fetched.value.failure() is None
    assert counts_after(api, before["downloads"] + 1, seconds=15) == before["downloads"] + 1
    with page.expect_download() as fetched:
        french_download.click()
    assert fetched.value.failure() is None
    file_url = demo_server + french_download.get_attribute("href")
    robot = requests.get(file_url, headers={"User-Agent": GOOGLEBOT}, timeout=30)
    assert robot.status_code == 200 and robot.content
    assert counts_after(api, before["downloads"] + 2, seconds=5) == before["downloads"] + 1
    page.reload()
    expect(page.locator(".record-usage")).to_contain_text(f"{before['downloads'] + 1} download")
    context.close()


def counts_after(api: str, hoped_for: int, seconds: float) -> int:
    """The record's downloads once they reach hoped_for, or what they are after waiting:
    each server process writes its counts a moment after the answer."""
    deadline = time.monotonic() + seconds
    while True:
        downloads = requests.get(api, timeout=30).json()["statistics"]["downloads"]
        if downloads >= hoped_for or time.monotonic() > deadline:
            return downloads
        time.sleep(0.2)


def test_the_tabs_are_links_without_script(demo_server: str, browser: Browser) -> None:  # noqa: F811
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{demo_server}/?lang=en")
    page.goto(f"{demo_server}/r/DEMO-PP-2014")
    expect(page).to_have_url(re.compile(r"/documents/\d+$"))
    assert page.get_by_role("tab").count() == 0
    page.locator(".version-tabs").get_by_role("link", name="French").click()
    expect(page).to_have_url(re.compile(r"version=fr"))
    expect(page.locator("#version-fr")).to_be_visible()
    expect(page.locator("h1#record-title")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("button", name="Copy link")).to_be_hidden()
    context.close()
