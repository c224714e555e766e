"""Facets on the demonstration catalogue: values of one facet are alternatives, and each
facet is counted without its own choice but with the others' (search/facets.py); a
chosen value always shows with a link that removes it; a long facet's every value can
be reached ("Show all", and a filter box where JavaScript runs); no count includes a
record the reader may not see."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import lxml.html
import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser
from playwright.sync_api import Page

from knowledge_hub.web.templating import FACET_VALUES_SHOWN
from tests.conftest import sign_in
from tests.test_browser import CHROMIUM
from tests.test_browser import browser  # noqa: F401  (a fixture)
from tests.test_browser import live_hub  # noqa: F401  (a fixture)
from tests.test_browser import load_demo_catalogue


@pytest.fixture
def demo(app: Flask, kept_states) -> None:
    load_demo_catalogue(app, kept_states)


def api(client: FlaskClient, **params) -> dict:
    response = client.get("/api/search", query_string={"per_page": 100, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def counts(answer: dict, facet: str) -> dict[str, int]:
    return {f["value"]: f["count"] for f in answer["facets"][facet]}


def page(client: FlaskClient, url: str) -> lxml.html.HtmlElement:
    response = client.get(url)
    assert response.status_code == 200
    return lxml.html.fromstring(response.get_data(as_text=True))


def listed(tree: lxml.html.HtmlElement, facet: str) -> dict[str, tuple[str, str, str]]:
    """A facet's values as the sidebar lists them: value -> (count shown, the class of
    its link, its link's address)."""
    values = {}
    for item in tree.get_element_by_id(f"facet-{facet}-values").iter("li"):
        link = item.find("a")
        count = item.find_class("count")[0].text_content()
        values[item.get("data-value")] = (count, link.get("class") or "", link.get("href"))
    return values


def test_two_types_give_their_union_and_keep_every_types_count(client: FlaskClient, demo) -> None:
    everything = api(client)
    types = counts(everything, "type")
    assert (types["policy-brief"], types["case-study"]) == (10, 9)

    both = api(client, type=["policy-brief", "case-study"])
    assert both["total"] == 19
    assert Counter(r["type"] for r in both["results"]) == {"policy-brief": 10, "case-study": 9}
    # The type facet leaves its own choice out: both chosen types keep their counts and
    # every other type can still be added, with the records it would add.
    assert counts(both, "type") == types
    # The other facets count the records found.
    organizations = Counter(o for r in both["results"] for o in r["organizations"])
    assert counts(both, "organization") == organizations
    assert counts(both, "organization") != counts(everything, "organization")


@pytest.mark.parametrize("q", ["", "social"])
def test_each_facet_counts_with_the_other_facets_choices(client: FlaskClient, demo, q) -> None:
    organization = "ILO"
    both = api(client, q=q, type=["policy-brief", "case-study"], organization=[organization])
    by_organization = api(client, q=q, organization=[organization])
    by_type = api(client, q=q, type=["policy-brief", "case-study"])
    assert 0 < both["total"] < min(by_organization["total"], by_type["total"])
    assert counts(both, "type") == counts(by_organization, "type")
    assert counts(both, "organization") == counts(by_type, "organization")
    years = Counter(r["date"][:4] for r in both["results"])
    assert counts(both, "year") == years


def test_a_chosen_value_stays_with_a_link_that_removes_it(client: FlaskClient, demo) -> None:
    # A year without a policy brief: with both chosen, no record is found, and each
    # chosen value shows with 0 and a link that drops it alone.
    years = counts(api(client), "year")
    briefs = counts(api(client, type=["policy-brief"]), "year")
    year = next(y for y in sorted(years) if y not in briefs)
    url = f"/search?q=&type=policy-brief&year={year}"
    tree = page(client, url)
    brief = listed(tree, "type")["policy-brief"]
    assert brief[0] == "0" and "on" in brief[1]
    assert parse_qsl(urlsplit(brief[2]).query, keep_blank_values=True) == [
        ("q", ""),
        ("year", year),
    ]
    chosen_year = listed(tree, "year")[year]
    assert "on" in chosen_year[1]
    assert parse_qsl(urlsplit(chosen_year[2]).query, keep_blank_values=True) == [
        ("q", ""),
        ("type", "policy-brief"),
    ]
    names = [a.get("aria-label") for a in tree.find_class("on")]
    assert "Remove filter Policy brief" in names
    # "Remove all filters" keeps the words and drops every filter.
    clear = tree.find_class("clear-filters")[0].get("href")
    assert parse_qsl(urlsplit(clear).query, keep_blank_values=True) == [("q", "")]


def test_a_chosen_value_beyond_the_first_ones_is_listed(client: FlaskClient, demo) -> None:
    organizations = counts(api(client), "organization")
    assert len(organizations) > FACET_VALUES_SHOWN
    rarest = list(organizations)[-1]
    url = f"/search?organization={rarest}"
    tree = page(client, url)
    values = listed(tree, "organization")
    assert len(values) == FACET_VALUES_SHOWN + 1
    assert values[rarest][0] == str(organizations[rarest]) and "on" in values[rarest][1]


def test_every_organization_can_be_reached(client: FlaskClient, demo) -> None:
    organizations = counts(api(client), "organization")
    assert {"UNHCR", "WHO"} <= organizations.keys()
    tree = page(client, "/search?q=")
    shown = listed(tree, "organization")
    assert len(shown) == FACET_VALUES_SHOWN
    assert not {"UNHCR", "WHO"} & shown.keys()
    section = tree.get_element_by_id("facet-organization")
    more = section.find_class("facet-more")[0].find("a")
    assert f"({len(organizations)})" in more.text_content()
    # The filter box waits for the script; the list is whole without it.
    assert not section.find_class("facet-filter")
    everything = page(client, more.get("href"))
    section = everything.get_element_by_id("facet-organization")
    assert section.find_class("facet-filter")[0].get("hidden") is not None
    shown = listed(everything, "organization")
    assert {value: int(count) for value, (count, __, __) in shown.items()} == organizations
    fewer = section.find_class("facet-more")[0].find("a").get("href")
    assert "facet_all" not in fewer
    # Choosing a value keeps the whole list open.
    unhcr = page(client, shown["UNHCR"][2])
    assert len(listed(unhcr, "organization")) == len(organizations)


HIDDEN = [
    dict(
        ref=f"HID-{access.upper()}",
        title=f"Hidden {access} record on cooperatives",
        type=type_,
        date=date,
        access=access,
        organizations="ILO;UNHCR;OECD",
        topics="cooperatives",
        regions="KE",
        content=f"Cooperatives and social finance, a hidden {access} text.",
    )
    for access, type_, date in (
        ("members", "policy-brief", "2011"),
        ("internal", "toolkit", "2011"),
        ("public", "case-study", "2010"),
    )
]


def test_counts_never_include_records_the_reader_may_not_see(
    app: Flask, demo, import_rows, make_user
) -> None:
    anonymous = app.test_client()
    staff = app.test_client()
    sign_in(staff, make_user("admin"))
    searches = [
        {},
        {"type": ["policy-brief"]},
        {"type": ["case-study", "toolkit"], "organization": ["ILO"]},
        {"q": "cooperatives", "organization": ["UNHCR"], "year": ["2020"]},
        {"q": "cooperatives", "type": ["policy-brief"], "region": ["KE"]},
    ]
    before = [api(anonymous, **s)["facets"] for s in searches]
    staff_before = [api(staff, **s)["facets"] for s in searches]
    # Records not released (the release criteria are not met), one of them members-only
    # and one internal: no anonymous count may move, whatever the facet choices.
    report = import_rows(HIDDEN, release=True)
    assert report.failed == 0 and not report.released
    assert [api(anonymous, **s)["facets"] for s in searches] == before
    # Staff see them in every facet whose other choices they meet, which shows that the
    # searches reach the records that were added.
    staff_after = [api(staff, **s)["facets"] for s in searches]
    added = Counter({"policy-brief": 1, "toolkit": 1, "case-study": 1})
    for n in (0, 1, 2):
        grown = Counter(counts({"facets": staff_before[n]}, "type")) + added
        assert counts({"facets": staff_after[n]}, "type") == grown
    assert counts({"facets": staff_after[0]}, "year") == (
        Counter(counts({"facets": staff_before[0]}, "year")) + Counter({"2011": 2, "2010": 1})
    )


# --- in a real browser

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Chromium is installed by tests/setup.sh"
)


def tab_to(page: Page, selector: str, presses: int = 200) -> None:
    """Press Tab until the element is focused (fails if it never is)."""
    for __ in range(presses):
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} is not reached with the keyboard")


MORE = "#facet-organization .facet-more a"


def show_all_organizations(page: Page, live_hub: str, follow: Callable[[], object]) -> None:
    """Open the search page, check that the organizations are cut to their first values,
    and follow (by `follow`) the link to all of them."""
    page.goto(f"{live_hub}/search?q=")
    assert page.locator("#facet-organization-values li").count() == FACET_VALUES_SHOWN
    follow()
    page.wait_for_url("**facet_all=organization**")


@pytest.mark.slow
@needs_chromium
def test_show_all_and_the_filter_box_by_keyboard(
    live_hub: str,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    values = page.locator("#facet-organization-values li")

    def by_keyboard() -> None:
        tab_to(page, MORE)
        page.keyboard.press("Enter")

    show_all_organizations(page, live_hub, by_keyboard)
    total = values.count()
    assert total > FACET_VALUES_SHOWN
    box = page.locator("#facet-organization-filter")
    assert box.is_visible()
    tab_to(page, "#facet-organization-filter")
    page.keyboard.type("unhc")
    visible = page.locator("#facet-organization-values li:visible")
    assert visible.count() == 1 and visible.locator("a").inner_text() == "UNHCR"
    page.keyboard.type("zz")
    assert page.locator("#facet-organization-values li:visible").count() == 0
    assert page.locator("#facet-organization .facet-filter-none").is_visible()
    for __ in range(2):
        page.keyboard.press("Backspace")
    # The one value left is the next stop of the keyboard; Enter chooses it.
    tab_to(page, "#facet-organization-values li:not([hidden]) a", presses=3)
    page.keyboard.press("Enter")
    page.wait_for_url("**organization=UNHCR**")
    chosen = page.locator("#facet-organization-values a.on")
    assert chosen.inner_text().startswith("UNHCR")
    assert page.locator("#facet-organization-values li").count() == total
    page.close()


@pytest.mark.slow
@needs_chromium
def test_without_javascript_the_whole_list_is_there(
    live_hub: str,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    show_all_organizations(page, live_hub, lambda: page.locator(MORE).click())
    assert not page.locator("#facet-organization-filter").is_visible()
    names = page.locator("#facet-organization-values li a").all_inner_texts()
    assert {"UNHCR", "WHO"} <= set(names) and len(names) > FACET_VALUES_SHOWN
    context.close()
