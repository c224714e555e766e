"""One checklist form: a reviewer marks several criteria of a record or of a translation
as met or not in one post, each with its evidence; all of them are recorded, or none."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from babel.dates import format_datetime
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.i18n.vocabularies import criterion_label
from knowledge_hub.models import AuditEvent
from knowledge_hub.models import CriterionCheck
from knowledge_hub.models import Document
from knowledge_hub.models import User
from knowledge_hub.services import Invalid
from knowledge_hub.services import NotAllowed
from knowledge_hub.services import criteria_set
from knowledge_hub.services import review
from knowledge_hub.services import translations
from knowledge_hub.services.review import CheckChoice
from knowledge_hub.web.forms import chosen_checks
from tests.conftest import PASSWORD
from tests.conftest import sign_in
from tests.test_accessibility import violations
from tests.test_browser import CHROMIUM
from tests.test_browser import browser  # noqa: F401  (the Chromium fixture)
from tests.test_browser import serving
from tests.test_review import ATTESTATIONS
from tests.test_review import PUBLICATION
from tests.test_web_translations import FRENCH
from tests.test_web_translations import flashes


@pytest.fixture
def draft(app: Flask, criteria, import_rows) -> int:
    """A publication waiting for its checks; its id."""
    assert import_rows([PUBLICATION], release=False).failed == 0
    with app.app_context():
        return db.session.scalar(select(Document.id))


def signed_in(app: Flask, make_user, *roles: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, make_user(*roles))
    return client


def recorded(app: Flask, document_id: int | None = None) -> list[tuple[str, str, str]]:
    """Every check people recorded (on one record, if given): (criterion, outcome,
    comment), in order."""
    stmt = select(CriterionCheck).where(CriterionCheck.is_automatic.is_(False))
    if document_id is not None:
        stmt = stmt.where(CriterionCheck.document_id == document_id)
    with app.app_context():
        return [
            (c.criterion_code, c.outcome.value, c.comment)
            for c in db.session.scalars(stmt.order_by(CriterionCheck.id))
        ]


def audited_checks(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        return [
            (e.details["criterion"], e.details["outcome"])
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "check").order_by(AuditEvent.id)
            )
        ]


def rows(page: str) -> dict[str, str]:
    """The checklist's rows (HTML), by criterion code."""
    return {
        code: page[page.index(f'id="criterion-{code}"') :].split("</tr>", 1)[0]
        for code in re.findall(r'id="criterion-([a-z_]+)"', page)
    }


@pytest.mark.slow
def test_a_reviewer_records_several_checks_of_a_record_in_one_post(
    app: Flask, draft: int, make_user
) -> None:
    reviewer = signed_in(app, make_user, "reviewer")
    response = reviewer.post(
        f"/review/{draft}/attest",
        data={
            "outcome-un_disclaimer": "pass",
            "comment-un_disclaimer": "Disclaimer on page 2 of the final PDF.",
            "outcome-copyright_cleared": "pass",
            "comment-copyright_cleared": "",
            "outcome-logo_use": "fail",
            "comment-logo_use": "The old logo is on the cover.",
            "outcome-member_review": "",
            "comment-member_review": "Typed, then left at No change.",
        },
    )
    assert response.status_code == 302
    page = html.unescape(reviewer.get(response.headers["Location"]).get_data(as_text=True))
    assert "Checks recorded: 3." in flashes(page)
    assert recorded(app) == [
        ("un_disclaimer", "pass", "Disclaimer on page 2 of the final PDF."),
        ("copyright_cleared", "pass", ""),
        ("logo_use", "fail", "The old logo is on the cover."),
    ]
    assert audited_checks(app) == [
        ("un_disclaimer", "pass"),
        ("copyright_cleared", "pass"),
        ("logo_use", "fail"),
    ]
    by_code = rows(page)
    disclaimer = by_code["un_disclaimer"]
    assert "✓ met" in disclaimer and "Attested by Reviewer" in disclaimer
    assert 'Evidence: <q dir="auto">Disclaimer on page 2 of the final PDF.</q>' in disclaimer
    assert "✓ met" in by_code["copyright_cleared"]
    assert "✗ not met" in by_code["logo_use"] and "Refused by Reviewer" in by_code["logo_use"]
    assert "✗ not met" in by_code["member_review"] and "Typed" not in page


def test_the_page_has_one_form_with_a_choice_per_criterion(
    app: Flask, draft: int, make_user
) -> None:
    reviewer = signed_in(app, make_user, "reviewer")
    reviewer.post(f"/review/{draft}/attest", data={"outcome-un_disclaimer": "pass"})
    page = reviewer.get(f"/review/{draft}").get_data(as_text=True)
    assert len(re.findall(r'<form id="checklist-checks"', page)) == 1
    assert page.count("Record the chosen checks") == 1
    by_code = rows(page)
    for code in ATTESTATIONS:
        row = by_code[code]
        assert '<fieldset class="choices check-choice">' in row
        assert row.count('form="checklist-checks"') == 4  # three outcomes and the evidence
        assert 'value="" form="checklist-checks" checked' in row  # "No change" by default
    # A met criterion can be checked again, folded away; automatic ones have no choice.
    assert "<details" in by_code["un_disclaimer"] and "<details" not in by_code["logo_use"]
    assert "<fieldset" not in by_code["metadata_complete"]


def test_the_evidence_reads_in_the_interface_language(app: Flask, draft: int, make_user) -> None:
    reviewer = signed_in(app, make_user, "reviewer")
    reviewer.post(
        f"/review/{draft}/attest",
        data={"outcome-un_disclaimer": "pass", "comment-un_disclaimer": "Page 2."},
    )
    page = reviewer.get(f"/review/{draft}?lang=fr").get_data(as_text=True)
    with app.app_context():
        at = db.session.scalar(
            select(CriterionCheck.checked_at).where(CriterionCheck.comment != "")
        )
    row = html.unescape(rows(page)["un_disclaimer"])
    assert f">{format_datetime(at, 'medium', locale='fr')}</time>" in row
    assert "Attesté par Reviewer" in row and "Page 2." in row
    assert "Evidence:" not in row and "Attested by" not in row


def test_a_post_with_nothing_chosen_is_refused(app: Flask, draft: int, make_user) -> None:
    reviewer = signed_in(app, make_user, "reviewer")
    response = reviewer.post(
        f"/review/{draft}/attest",
        data={"outcome-un_disclaimer": "", "comment-un_disclaimer": "Not sure yet."},
        follow_redirects=True,
    )
    message = "Choose Met or Not met for at least one criterion: nothing was recorded."
    assert message in flashes(response.get_data(as_text=True))
    assert recorded(app) == [] and audited_checks(app) == []


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"outcome-no_such_thing": "pass"}, "There is no criterion 'no_such_thing'"),
        ({"outcome-second_speaker_review": "pass"}, "There is no criterion"),
        ({"outcome-metadata_complete": "pass"}, "is checked automatically"),
        ({"outcome-logo_use": "maybe"}, "'maybe' is not an outcome of a check."),
    ],
)
def test_one_bad_row_records_nothing(
    app: Flask, draft: int, make_user, bad: dict[str, str], message: str
) -> None:
    reviewer = signed_in(app, make_user, "reviewer")
    data = {"outcome-un_disclaimer": "pass", **bad, "outcome-mandate_alignment": "fail"}
    page = reviewer.post(f"/review/{draft}/attest", data=data, follow_redirects=True)
    assert any(message in m for m in flashes(page.get_data(as_text=True)))
    assert recorded(app) == [] and audited_checks(app) == []


def test_only_reviewers_may_record_checks(app: Flask, draft: int, make_user) -> None:
    staff = signed_in(app, make_user, "staff")
    data = {"outcome-un_disclaimer": "pass"}
    assert staff.post(f"/review/{draft}/attest", data=data).status_code == 403
    assert staff.post(f"/review/{draft}/attest/pass", data={"code": "logo_use"}).status_code == 403
    with app.app_context():
        document = db.session.get(Document, draft)
        someone = db.session.scalar(select(User).where(User.email.startswith("staff")))
        # The permission is checked before anything else, even an empty post.
        with pytest.raises(NotAllowed):
            review.attest_many(someone, document, [])
    assert recorded(app) == [] and audited_checks(app) == []


def test_the_single_criterion_post_of_earlier_clients_still_records(
    app: Flask, draft: int, make_user
) -> None:
    reviewer = signed_in(app, make_user, "reviewer")
    response = reviewer.post(
        f"/review/{draft}/attest/fail",
        data={"code": "logo_use", "comment": "Old logo."},
        follow_redirects=True,
    )
    assert "Checks recorded: 1." in flashes(response.get_data(as_text=True))
    reviewer.post(f"/review/{draft}/attest/pass", data={"code": "logo_use"})
    assert reviewer.post(f"/review/{draft}/attest/maybe", data={"code": "x"}).status_code == 404
    assert recorded(app) == [("logo_use", "fail", "Old logo."), ("logo_use", "pass", "")]
    assert audited_checks(app) == [("logo_use", "fail"), ("logo_use", "pass")]


def test_the_choices_are_read_from_the_rows_in_order() -> None:
    form = {
        "csrf_token": "t",
        "outcome-b": "fail",
        "comment-b": "why",
        "outcome-a": "pass",
        "outcome-c": "",
        "comment-c": "ignored",
    }
    assert chosen_checks(form) == [CheckChoice("b", False, "why"), CheckChoice("a", True, "")]
    assert chosen_checks({"code": " a ", "comment": "ok"}, "pass") == [CheckChoice("a", True, "ok")]
    with pytest.raises(Invalid, match="longer than"):
        chosen_checks({"outcome-a": "pass", "comment-a": "x" * 5001})


# --- a translation ------------------------------------------------------------------


@pytest.fixture
def french_in_review(app: Flask, criteria, import_rows, make_user) -> int:
    """A released publication whose French version waits for review, with a second
    translation criterion to attest; the record's id."""
    assert import_rows([PUBLICATION], release=False).failed == 0
    admin, staff, reviewer = make_user("admin"), make_user("staff"), make_user("reviewer")
    french = make_user("translator", languages=("fr",))
    with app.app_context():

        def user(email: str) -> User:
            return db.session.scalar(select(User).where(User.email == email))

        document = db.session.scalar(select(Document))
        criteria_set.add_criterion(
            user(admin),
            "terminology_checked",
            criteria_set.CriterionFields(
                "Terminology checked against the glossary", "", "attestation", True, ["translation"]
            ),
        )
        for code in ATTESTATIONS:
            review.attest(user(reviewer), document, code, True)
        review.release(user(reviewer), document)
        [request] = translations.request_translations(user(staff), document, ["fr"])
        translations.claim(user(french), request)
        translations.submit(
            user(french),
            request,
            "Les collectivités locales et l'économie sociale et solidaire",
            "Comment les collectivités locales soutiennent les coopératives.",
            [("note-fr.txt", io.BytesIO(FRENCH.encode()))],
        )
        return document.id


def translation_checks(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        return [
            (c.criterion_code, c.outcome.value)
            for c in db.session.scalars(
                select(CriterionCheck)
                .where(
                    CriterionCheck.variant_id.is_not(None), CriterionCheck.is_automatic.is_(False)
                )
                .order_by(CriterionCheck.id)
            )
        ]


@pytest.mark.slow
def test_a_reviewer_records_several_checks_of_a_translation_in_one_post(
    app: Flask, french_in_review: int, make_user
) -> None:
    reviewer = signed_in(app, make_user, "reviewer")
    address = f"/translations/review/{french_in_review}/fr"
    page = reviewer.get(address).get_data(as_text=True)
    assert len(re.findall(r'<form id="checklist-checks"', page)) == 1
    assert 'name="outcome-terminology_checked"' in page
    checks_before = len(audited_checks(app))

    nothing = reviewer.post(f"{address}/attest", data={}, follow_redirects=True)
    assert any("nothing was recorded" in m for m in flashes(nothing.get_data(as_text=True)))
    bad = {"outcome-second_speaker_review": "pass", "outcome-un_disclaimer": "pass"}
    refused = reviewer.post(f"{address}/attest", data=bad, follow_redirects=True)
    assert any("no translation criterion" in m for m in flashes(refused.get_data(as_text=True)))
    assert translation_checks(app) == []

    response = reviewer.post(
        f"{address}/attest",
        data={
            "outcome-second_speaker_review": "pass",
            "comment-second_speaker_review": "Read by M. Diallo.",
            "outcome-terminology_checked": "pass",
            "comment-terminology_checked": "Glossary 2024.",
        },
        follow_redirects=True,
    )
    page = html.unescape(response.get_data(as_text=True))
    assert "Checks recorded: 2." in flashes(page)
    assert "Every required translation criterion is met." in page
    assert "Read by M. Diallo." in rows(page)["second_speaker_review"]
    assert translation_checks(app) == [
        ("second_speaker_review", "pass"),
        ("terminology_checked", "pass"),
    ]
    assert audited_checks(app)[checks_before:] == [
        ("second_speaker_review", "pass"),
        ("terminology_checked", "pass"),
    ]
    # The single-criterion post still records, and a translator may not post at all.
    reviewer.post(f"{address}/attest/fail", data={"code": "terminology_checked"})
    assert translation_checks(app)[-1] == ("terminology_checked", "fail")
    translator = signed_in(app, make_user, "translator")
    assert translator.post(f"{address}/attest", data={"outcome-x": "pass"}).status_code == 403


# --- in a real browser --------------------------------------------------------------


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The hub served on a loopback port, for Chromium."""
    yield from serving(app)


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is installed by tests/setup.sh")
def test_in_chromium_the_form_records_the_rows_and_breaks_no_wcag_rule(
    app: Flask,
    french_in_review: int,
    import_rows,
    make_user,
    served: str,
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    draft_row = dict(PUBLICATION, ref="PB-DRAFT-2024", file="draft.txt")
    assert import_rows([draft_row], release=False).failed == 0
    with app.app_context():
        draft = db.session.scalar(select(Document.id).where(Document.ref == "PB-DRAFT-2024"))
    page = browser.new_page()
    page.goto(f"{served}/auth/login")
    page.fill("input[name=email]", make_user("reviewer"))
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")

    # The radios and evidence boxes sit in the table, outside the form they belong to.
    page.goto(f"{served}/review/{draft}")
    page.check("#outcome-un_disclaimer-pass")
    page.fill("#comment-un_disclaimer", "Disclaimer on page 2.")
    page.check("#outcome-logo_use-fail")
    page.click("text=Record the chosen checks")
    assert "Checks recorded: 2." in page.inner_text("main")
    assert recorded(app, draft) == [
        ("un_disclaimer", "pass", "Disclaimer on page 2."),
        ("logo_use", "fail", ""),
    ]

    axe = Axe()
    found = {}
    for address in (f"/review/{draft}", f"/translations/review/{french_in_review}/fr"):
        for language in ("en", "ar", "zh"):
            page.goto(f"{served}{address}?lang={language}")
            assert page.locator("#checklist-checks").count() == 1
            name = address.strip("/").replace("/", "_")
            page.screenshot(path=str(tmp_path / f"{language}-{name}.png"), full_page=True)
            if problems := violations(page, axe):
                found[f"{language} {address}"] = problems
    assert found == {}


def test_what_is_missing_is_named_in_the_readers_language(
    app: Flask, draft: int, make_user
) -> None:
    reviewer = signed_in(app, make_user, "reviewer")
    with app.test_request_context("/?lang=ar"):
        arabic = criterion_label("mandate_alignment")
    assert arabic != "Aligned with the UNTFSSE mandate and A/RES/77/281"
    page = reviewer.get(f"/review/{draft}?lang=ar").get_data(as_text=True)
    missing = page.split('<ul class="missing">')[1].split("</ul>")[0]
    assert html.escape(arabic) in missing
    assert "Aligned with" not in missing
    # Releasing too early says what is missing, in Arabic too.
    refused = reviewer.post(f"/review/{draft}/release?lang=ar", follow_redirects=True)
    assert any(arabic in message for message in flashes(refused.get_data(as_text=True)))
