"""The release gate: refusals that list what is missing, attestations, waivers, release,
withdrawal, and the audit trail of all of it."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import AuditEvent
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from tests.conftest import sign_in

ATTESTATIONS = [
    "mandate_alignment",
    "member_review",
    "un_disclaimer",
    "logo_use",
    "copyright_cleared",
    "accessible_format",
]

TEXT = (
    "The social and solidarity economy brings together cooperatives, mutual societies, "
    "associations and social enterprises that put people and the planet before profit. "
    "This brief explains how local governments can support them with procurement, "
    "finance and training, and how the Task Force follows their work across regions."
)

PUBLICATION = dict(
    ref="PB-LOCAL-2024",
    file="brief.txt",
    language="en",
    kind="publication",
    title="Local governments and the social and solidarity economy",
    summary=(
        "How local governments can support cooperatives and other SSE entities with "
        "procurement, finance and training."
    ),
    type="policy-brief",
    date="2024-02",
    organizations="UNRISD;ILO",
    topics="local-development",
    regions="001",
    content=TEXT,
)


@pytest.fixture
def draft(app: Flask, criteria, import_rows) -> tuple[int, int]:
    report = import_rows([PUBLICATION], release=False)
    assert report.failed == 0
    with app.app_context():
        document = db.session.scalar(select(Document))
        return document.id, document.variants[0].files[0].id


def flashes(html: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", m).strip()
        for m in re.findall(r'class="flash[^"]*"[^>]*>(.*?)</(?:p|div)>', html, re.S)
    ]


@pytest.mark.slow
def test_the_whole_life_of_a_publication(app: Flask, criteria, make_user) -> None:
    staff, reviewer, admin, reader = (app.test_client() for __ in range(4))
    sign_in(staff, make_user("staff"))
    sign_in(reviewer, make_user("reviewer"))
    sign_in(admin, make_user("admin"))

    # Staff create the record and upload its file on the web, then send it to review.
    created = staff.post(
        "/staff/new",
        data={
            "ref": PUBLICATION["ref"],
            "kind": "publication",
            "doc_type": "policy-brief",
            "date": "2024-02",
            "lead_organization": "UNRISD",
            "organizations": ["ILO"],
            "authors": "",
            "themes": ["local-development"],
            "sdgs": [],
            "regions": "001",
            "access": "public",
            "series": "",
            "language": "en",
            "other_language": "",
            "title": PUBLICATION["title"],
            "summary": PUBLICATION["summary"],
        },
    )
    assert created.status_code == 302, created.get_data(as_text=True)
    with app.app_context():
        document_id = db.session.scalar(
            select(Document.id).where(Document.ref == PUBLICATION["ref"])
        )
    uploaded = staff.post(
        f"/staff/{document_id}/versions/en/upload",
        data={"files": [(io.BytesIO(TEXT.encode()), "brief.txt")]},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code in (200, 302)
    with app.app_context():
        file_id = db.session.get(Document, document_id).variants[0].files[0].id
    staff.post(f"/review/{document_id}/submit")
    page = reviewer.get(f"/review/{document_id}").get_data(as_text=True)
    assert "Not yet releasable" in page
    assert "Aligned with the UNTFSSE mandate and A/RES/77/281" in page

    # Releasing now is refused, naming every missing criterion.
    refused = reviewer.post(f"/review/{document_id}/release", follow_redirects=True).get_data(
        as_text=True
    )
    message = next(m for m in flashes(refused) if m.startswith("Not released"))
    for label in (
        "Aligned with the UNTFSSE mandate",
        "Reviewed by at least two member organizations",
        "UN disclaimer present",
        "Logo use approved",
        "Copyright and license cleared",
        "Accessible format",
    ):
        assert label in message
    assert "Metadata complete" not in message  # the automatic ones pass

    for code in ATTESTATIONS[:-1]:
        reviewer.post(
            f"/review/{document_id}/attest/pass",
            data={"code": code, "comment": "Checked against the final PDF."},
        )
    # A reviewer may not waive; an admin may, with a reason.
    assert (
        reviewer.post(
            f"/review/{document_id}/waive",
            data={"code": "accessible_format", "comment": "Tagged PDF follows"},
        ).status_code
        == 403
    )
    admin.post(
        f"/review/{document_id}/waive", data={"code": "accessible_format", "comment": "short"}
    )
    with app.app_context():
        assert db.session.get(Document, document_id).status == DocumentStatus.IN_REVIEW
    admin.post(
        f"/review/{document_id}/waive",
        data={
            "code": "accessible_format",
            "comment": "The tagged PDF follows next week; released for the meeting.",
        },
    )

    released = reviewer.post(f"/review/{document_id}/release", follow_redirects=True).get_data(
        as_text=True
    )
    assert "Released." in flashes(released)
    with app.app_context():
        document = db.session.get(Document, document_id)
        assert document.status == DocumentStatus.RELEASED
        assert document.criteria_version == 1

    # Found anonymously, file served.
    assert reader.get("/api/search?q=procurement").get_json()["total"] == 1
    download = reader.get(f"/documents/{document_id}/files/{file_id}")
    assert download.status_code == 200
    download.close()

    # Withdrawal: tombstone, no file, not in search, reason shown.
    reviewer.post(
        f"/review/{document_id}/withdraw", data={"comment": "Superseded by the 2025 edition."}
    )
    tombstone = reader.get(f"/documents/{document_id}")
    assert tombstone.status_code == 200
    html = tombstone.get_data(as_text=True)
    assert "This record was withdrawn on" in html and "Superseded by the 2025 edition." in html
    assert f"/files/{file_id}" not in html
    assert reader.get(f"/documents/{document_id}/files/{file_id}").status_code == 404
    assert reader.get("/api/search?q=procurement").get_json()["total"] == 0
    assert reader.get(f"/api/documents/{document_id}").get_json()["status"] == "withdrawn"

    # The audit trail tells the whole story, in order.
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.document_id == document_id)
            .order_by(AuditEvent.id)
        ).all()
    story = [
        a
        for a in actions
        if a in ("create", "upload", "submit_for_review", "check", "waive", "release", "withdraw")
    ]
    assert story == [
        "create",
        "create",
        "upload",
        "submit_for_review",
        *["check"] * 5,
        "waive",
        "release",
        "withdraw",
    ]
    history = staff.get(f"/review/{document_id}/history").get_data(as_text=True)
    assert "Superseded by the 2025 edition." in history and "accessible_format" in history


@pytest.mark.slow
def test_send_back_needs_a_comment_and_returns_a_draft(app: Flask, draft, make_user) -> None:
    document_id, __ = draft
    staff, reviewer = app.test_client(), app.test_client()
    sign_in(staff, make_user("staff"))
    sign_in(reviewer, make_user("reviewer"))
    staff.post(f"/review/{document_id}/submit")
    reviewer.post(f"/review/{document_id}/send-back", data={"comment": ""})
    with app.app_context():
        assert db.session.get(Document, document_id).status == DocumentStatus.IN_REVIEW
    reviewer.post(
        f"/review/{document_id}/send-back", data={"comment": "Add the UN disclaimer on page 2."}
    )
    with app.app_context():
        assert db.session.get(Document, document_id).status == DocumentStatus.DRAFT
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "send_back"))
        assert event.details == {"comment": "Add the UN disclaimer on page 2."}


def test_hub_release_exits_non_zero_listing_what_is_missing(app: Flask, draft) -> None:
    result = app.test_cli_runner().invoke(args=["hub", "release", "PB-LOCAL-2024"])
    assert result.exit_code == 1
    assert "Missing:" in result.output and "UN disclaimer present" in result.output


def test_archives_need_only_the_automatic_criteria(app: Flask, criteria, import_rows) -> None:
    archive = dict(
        PUBLICATION,
        ref="MIN-45",
        kind="archive",
        type="meeting-minutes",
        title="Minutes of the 45th meeting",
    )
    report = import_rows([archive])
    assert report.released == ["MIN-45"]


def test_an_incomplete_record_is_not_released_and_says_why(
    app: Flask, criteria, import_rows
) -> None:
    bare = dict(ref="BARE", kind="archive", title="Notes", content="Short text.", summary="")
    report = import_rows([bare])
    reason = report.not_released["BARE"]
    assert "Metadata complete" in reason and "Summary of suitable length" in reason
    assert "Declared language matches the text" in reason


def test_a_duplicate_file_is_refused_by_the_gate(app: Flask, criteria, import_rows) -> None:
    first = dict(PUBLICATION, ref="MIN-1", kind="archive", type="meeting-minutes")
    second = dict(first, ref="MIN-2", file="copy.txt")
    report = import_rows([first, second])
    assert report.released == ["MIN-1"]
    assert "Not a duplicate of another record" in report.not_released["MIN-2"]


@pytest.mark.slow
def test_the_api_refuses_release_listing_what_is_missing(app: Flask, draft, make_user) -> None:
    document_id, __ = draft
    anonymous, reviewer = app.test_client(), app.test_client()
    sign_in(reviewer, make_user("reviewer"))
    assert anonymous.post(f"/api/documents/{document_id}/release").status_code == 401
    checklist = reviewer.get(f"/api/documents/{document_id}/checklist").get_json()
    assert checklist["passed"] is False
    assert "UN disclaimer present" in checklist["missing"]
    assert {c["code"]: c["satisfied"] for c in checklist["criteria"]}["metadata_complete"] is True
    refused = reviewer.post(f"/api/documents/{document_id}/release")
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["error"] == "release_refused" and "Logo use approved" in body["missing"]
    for code in ATTESTATIONS:
        reviewer.post(f"/review/{document_id}/attest/pass", data={"code": code})
    released = reviewer.post(f"/api/documents/{document_id}/release")
    assert released.status_code == 200 and released.get_json()["status"] == "released"


# --- changes to a released record ---------------------------------------------------


def _released_archive(app: Flask, import_rows, ref: str, access: str) -> int:
    """A record released through the gate (archives need the automatic criteria only)."""
    row = dict(
        ref=ref,
        title=f"Minutes {ref}",
        summary=PUBLICATION["summary"],
        kind="archive",
        type="meeting-minutes",
        date="2023",
        organizations="ILO",
        topics="cooperatives",
        access=access,
        content=f"{TEXT} Meeting {ref}.",
    )
    assert import_rows([row], release=True).failed == 0
    with app.app_context():
        document = db.session.scalar(select(Document).where(Document.ref == ref))
        assert document.status == DocumentStatus.RELEASED
        return document.id


@pytest.mark.slow
def test_a_released_records_reviewed_fields_change_only_through_review(
    app: Flask, criteria, import_rows, make_user
) -> None:
    from tests.test_api_tokens import bearer
    from tests.test_api_tokens import token_for

    members = _released_archive(app, import_rows, "TF-M-1", "members")
    public = _released_archive(app, import_rows, "TF-P-1", "public")
    staff = bearer(token_for(app, make_user("staff")))
    admin = bearer(token_for(app, make_user("admin")))
    api = app.test_client()

    def patch(document_id: int, who: dict, **body: object):
        return api.patch(f"/api/documents/{document_id}", json=body, headers=who)

    def state(document_id: int) -> tuple[str, str, str]:
        with app.app_context():
            document = db.session.get(Document, document_id)
            return document.access.value, document.original.title, document.date

    # Staff alone may not widen the audience, retitle, re-credit or re-file it …
    for change in (
        dict(access="public"),
        dict(title="A new title"),
        dict(summary="Other."),
        dict(organizations=["ILO", "FAO"]),
        dict(kind="publication"),
    ):
        refused = patch(members, staff, **change)
        assert refused.status_code == 409, (change, refused.get_json())
        assert "goes through review" in refused.get_json()["message"]
    assert state(members) == ("members", "Minutes TF-M-1", "2023")
    upload = api.post(
        f"/api/documents/{members}/versions/en/files",
        headers=staff,
        data={"files": (io.BytesIO(b"Another text of the minutes."), "more.txt")},
    )
    assert upload.status_code == 409
    with app.app_context():
        assert len(db.session.get(Document, members).original.files) == 1

    # … but corrects its cataloguing, and narrows its audience, at once.
    assert patch(members, staff, date="2023-05").status_code == 200
    assert patch(public, staff, access="members").status_code == 200
    assert state(public)[0] == "members"

    # Someone who may release makes the change; the gate is passed again on the result.
    assert patch(members, admin, access="public").status_code == 200
    assert state(members) == ("public", "Minutes TF-M-1", "2023-05")
    emptied = patch(members, admin, summary="")
    assert emptied.status_code == 409 and "cannot be released" in emptied.get_json()["message"]
    with app.app_context():
        assert db.session.get(Document, members).original.summary == PUBLICATION["summary"]
        reviewed = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "reviewed_change")
        ).all()
        assert [e.details["fields"] for e in reviewed] == [["access"]]


@pytest.mark.slow
def test_staff_cannot_retitle_a_released_version_on_its_page(
    app: Flask, client: FlaskClient, criteria, import_rows, make_user
) -> None:
    document_id = _released_archive(app, import_rows, "TF-M-2", "public")
    sign_in(client, make_user("staff"))
    response = client.post(
        f"/staff/{document_id}/versions/en/edit", data={"title": "=Retitled", "summary": "Other."}
    )
    assert "goes through review" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Document, document_id).original.title == "Minutes TF-M-2"


def checklist_rows(app: Flask, document_id: int, make_user, language: str) -> dict[str, str]:
    """A reviewer sends the record to review, attests the UN disclaimer and refuses the
    logo use; the checklist's rows (HTML) in the language, by criterion code."""
    reviewer = app.test_client()
    sign_in(reviewer, make_user("reviewer"))
    reviewer.post(f"/review/{document_id}/submit")
    reviewer.post(f"/review/{document_id}/attest/pass", data={"code": "un_disclaimer"})
    reviewer.post(f"/review/{document_id}/attest/fail", data={"code": "logo_use"})
    page = reviewer.get(f"/review/{document_id}?lang={language}").get_data(as_text=True)
    return {
        code: page[page.index(f'id="criterion-{code}"') :].split("</tr>", 1)[0]
        for code in re.findall(r'id="criterion-([a-z_]+)"', page)
    }


def test_the_latest_check_reads_as_a_sentence_in_the_readers_language(
    app: Flask, draft, make_user
) -> None:
    rows = checklist_rows(app, draft[0], make_user, "ar")
    attested = rows["un_disclaimer"]
    assert "أقرّه Reviewer" in attested and "pass" not in re.sub(r"<[^>]+>", " ", attested)
    assert "رفضه Reviewer" in rows["logo_use"]


def test_a_met_criterion_folds_its_form_and_attesting_looks_like_the_main_step(
    app: Flask, draft, make_user
) -> None:
    rows = checklist_rows(app, draft[0], make_user, "en")
    met, open_ = rows["un_disclaimer"], rows["logo_use"]
    assert '<details class="change-check"><summary>Change this check</summary>' in met
    assert "<details" not in open_
    assert 'class="attest"' in open_ and 'class="refuse"' in open_
    assert open_.index('class="attest"') < open_.index('class="refuse"')
