"""Meetings of the Task Force: recorded by staff, joined by their documents through the
record form and the import manifest, listed on their own pages."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import AuditEvent
from knowledge_hub.models import Document
from knowledge_hub.models import Meeting
from knowledge_hub.queries.meetings import meeting_order
from knowledge_hub.services import Invalid
from knowledge_hub.services import NotAllowed
from knowledge_hub.services import documents
from knowledge_hub.services import meetings
from knowledge_hub.services.users import system_user
from tests.conftest import sign_in
from tests.conftest import write_manifest
from tests.test_browser import load_demo_catalogue
from tests.test_pickers import chosen
from tests.test_pickers import names
from tests.test_pickers import options
from tests.test_web_staff import manifest_bytes
from tests.test_web_staff import record_form
from tests.test_web_staff import staff  # noqa: F401  (the signed-in staff client)
from tests.test_web_staff import staff_app  # noqa: F401  (the app with a staff account)

FORTY_FIFTH = meetings.MeetingFields(
    number="45",
    held_on="2023-09-05",
    is_virtual=True,
    participants_count="37",
    members_present=["UNCTAD", "ilo"],
    observers_present=["EMES"],
)


def record_meeting(app: Flask, fields: meetings.MeetingFields = FORTY_FIFTH) -> int:
    with app.app_context():
        return meetings.create_meeting(system_user(), fields).id


def test_a_meeting_keeps_its_attendance_and_is_audited(app: Flask) -> None:
    meeting_id = record_meeting(app)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert (meeting.number, meeting.held_on, meeting.place) == (45, date(2023, 9, 5), None)
        assert meeting.is_virtual and meeting.participants_count == 37
        assert [o.acronym for o in meeting.members_present] == ["ILO", "UNCTAD"]
        assert [o.acronym for o in meeting.observers_present] == ["EMES"]
        (event,) = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "create_meeting")
        ).all()
        assert event.details["after"]["members_present"] == ["ILO", "UNCTAD"]


def test_a_meeting_edit_records_only_what_changed(app: Flask) -> None:
    meeting_id = record_meeting(app)
    with app.app_context():
        actor = system_user()
        fields = meetings.MeetingFields(**{**vars(FORTY_FIFTH), "place": "Geneva"})
        fields.is_virtual = False
        assert meetings.update_meeting(actor, meeting_id, fields) is True
        assert meetings.update_meeting(actor, meeting_id, fields) is False
        (event,) = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "update_meeting")
        ).all()
        assert event.details == {
            "before": {"place": None, "is_virtual": True},
            "after": {"place": "Geneva", "is_virtual": False},
        }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"number": "forty"}, "number"),
        ({"number": "45"}, "number"),  # taken by the meeting already recorded
        ({"held_on": "5 September 2023"}, "held_on"),
        ({"participants_count": "-3"}, "participants_count"),
        ({"members_present": ["NOPE"]}, "members_present"),
        ({"observers_present": ["ILO"], "members_present": ["ILO"]}, "observers_present"),
    ],
)
def test_a_wrong_meeting_is_refused_naming_the_field(app: Flask, changes, field) -> None:
    record_meeting(app)
    fields = meetings.MeetingFields(**{**vars(FORTY_FIFTH), "number": "46", **changes})
    with app.app_context(), pytest.raises(Invalid) as refused:
        meetings.create_meeting(system_user(), fields)
    assert field in refused.value.problems


def test_only_staff_and_administrators_record_meetings(app: Flask, make_user) -> None:
    reviewer = make_user("reviewer")
    with app.app_context():
        actor = db.session.scalar(select(documents.User).where(documents.User.email == reviewer))
        with pytest.raises(NotAllowed):
            meetings.create_meeting(actor, FORTY_FIFTH)


@pytest.mark.parametrize("text", ["45", "45th", "no. 45", " 45 "])
def test_a_meeting_is_named_by_its_number(text: str) -> None:
    assert meetings.parse_meeting_number(text) == 45


@pytest.mark.parametrize("text", ["", "0", "forty-five", "4.5", "100000"])
def test_what_is_not_a_meeting_number(text: str) -> None:
    with pytest.raises(ValueError):
        meetings.parse_meeting_number(text)


# --- documents join a meeting --------------------------------------------------------


def test_a_record_joins_leaves_and_keeps_its_meeting(app: Flask) -> None:
    record_meeting(app)
    with app.app_context():
        actor = system_user()
        fields = documents.RecordFields(ref="AG-45", kind="archive", meeting="45")
        document = documents.create_record(actor, fields, "en", "Agenda of the 45th meeting")
        assert document.meeting.number == 45
        # Fields that do not speak of a meeting (the API's, say) leave it as it is.
        documents.edit_document(
            actor, document, documents.RecordFields(ref="AG-45", kind="archive")
        )
        assert document.meeting.number == 45
        documents.edit_document(
            actor, document, documents.RecordFields(ref="AG-45", kind="archive", meeting="")
        )
        assert document.meeting is None
        edits = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "edit", AuditEvent.document_id == document.id
            )
        ).all()
        assert [e.details for e in edits] == [
            {"before": {"meeting": 45}, "after": {"meeting": None}}
        ]
        with pytest.raises(Invalid) as refused:
            documents.edit_document(
                actor, document, documents.RecordFields(ref="AG-45", kind="archive", meeting="44")
            )
        assert "There is no meeting 44" in refused.value.problems["meeting"]


MEETING_ROWS = [
    dict(
        ref="AG-45",
        file="ag-45.txt",
        language="en",
        title="Agenda of the 45th meeting",
        kind="archive",
        type="agenda",
        meeting="45",
        content="Agenda of the 45th meeting.",
    ),
    dict(
        ref="AG-45",
        file="ag-45.fr.txt",
        language="fr",
        title="Ordre du jour de la 45e réunion",
        kind="archive",
        meeting="45",
        content="Ordre du jour de la 45e réunion.",
    ),
    dict(
        ref="MIN-44",
        file="min-44.txt",
        language="en",
        title="Minutes of the 44th meeting",
        kind="archive",
        type="meeting-minutes",
        meeting="44",
        content="Minutes of the 44th.",
    ),
    dict(
        ref="WP-2022",
        file="wp.txt",
        language="en",
        title="Workplan 2022-2024",
        kind="archive",
        type="workplan",
        content="The workplan.",
    ),
]


def test_the_manifest_meeting_column_joins_records_to_meetings(app: Flask, import_rows) -> None:
    record_meeting(app)
    report = import_rows(MEETING_ROWS)
    assert [(r.ref, r.outcome) for r in report.rows] == [
        ("AG-45", "created"),
        ("AG-45", "added"),
        ("MIN-44", "error"),
        ("WP-2022", "created"),
    ]
    assert "There is no meeting 44: record it under Meetings first." in report.rows[2].message
    with app.app_context():
        by_ref = {d.ref: d for d in db.session.scalars(select(Document))}
        assert set(by_ref) == {"AG-45", "WP-2022"}
        assert by_ref["AG-45"].meeting.number == 45
        assert by_ref["WP-2022"].meeting is None


def test_hub_import_reports_an_unknown_meeting_on_its_row(app: Flask, tmp_path: Path) -> None:
    record_meeting(app)
    folder = tmp_path / "archive"
    folder.mkdir()
    rows = [dict(row) for row in MEETING_ROWS]
    for row in rows:
        (folder / row["file"]).write_text(row.pop("content"))
    manifest = write_manifest(tmp_path / "m.csv", rows)
    result = app.test_cli_runner().invoke(
        args=["hub", "import", str(folder), "--manifest", str(manifest)]
    )
    assert result.exit_code == 1
    assert (
        "line 4: MIN-44 [en] error: There is no meeting 44: record it under Meetings first."
        in result.output
    )
    assert "2 records created" in result.output
    with app.app_context():
        agenda = db.session.scalar(select(Document).where(Document.ref == "AG-45"))
        assert agenda.meeting.number == 45


# --- the staff's forms ----------------------------------------------------------------


def test_staff_record_and_correct_a_meeting_through_the_forms(
    staff_app: Flask, staff: FlaskClient
) -> None:
    form = staff.get("/meetings/new").get_data(as_text=True)
    assert '<label for="number">' in form and "data-picker" in form
    created = staff.post(
        "/meetings/new",
        data={
            "number": "45",
            "held_on": "2023-09-05",
            "is_virtual": "y",
            "participants_count": "37",
            "members_present": ["UNCTAD", "ILO"],
            "observers_present": ["EMES"],
        },
    )
    assert created.status_code == 302 and created.headers["Location"].endswith("/meetings/45")
    page = staff.get("/meetings/45").get_data(as_text=True)
    assert "Meeting 45" in page and "37 participants" in page and "online" in page
    assert page.index(">ILO<") < page.index(">UNCTAD<") < page.index(">EMES<")

    refused = staff.post("/meetings/45/edit", data={"number": "45", "held_on": "5/9/2023"})
    assert refused.status_code == 400
    moved = staff.post(
        "/meetings/45/edit",
        data={"number": "46", "held_on": "2023-09-05", "place": "Geneva", "members_present": "ILO"},
    )
    assert moved.headers["Location"].endswith("/meetings/46")
    assert staff.get("/meetings/45").status_code == 404
    with staff_app.app_context():
        (event,) = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "update_meeting")
        ).all()
        assert event.details["after"] == {
            "number": 46,
            "place": "Geneva",
            "is_virtual": False,
            "participants_count": None,
            "members_present": ["ILO"],
            "observers_present": [],
        }


def test_the_record_form_places_a_record_in_a_meeting_without_script(
    staff_app: Flask, staff: FlaskClient
) -> None:
    record_meeting(staff_app)
    record_meeting(staff_app, meetings.MeetingFields(number="47", held_on="2024-03-14"))
    form = staff.get("/staff/new").get_data(as_text=True)
    assert [value for value, __, __ in options(form, "meeting")] == ["", "47", "45"]
    assert names(form, "meeting")["45"] == "Meeting 45, Sep 5, 2023"
    created = staff.post("/staff/new", data=record_form(ref="AG-45", meeting="45"))
    assert created.status_code == 302, created.get_data(as_text=True)
    with staff_app.app_context():
        document = db.session.scalar(select(Document).where(Document.ref == "AG-45"))
        document_id = document.id
        assert document.meeting.number == 45
    edit = staff.get(f"/staff/{document_id}/edit").get_data(as_text=True)
    assert chosen(edit, "meeting") == ["45"]
    unknown = staff.post(f"/staff/{document_id}/edit", data=record_form(ref="AG-45", meeting="44"))
    assert unknown.status_code == 400
    assert "There is no meeting 44" in unknown.get_data(as_text=True)
    staff.post(f"/staff/{document_id}/edit", data=record_form(ref="AG-45", meeting="47"))
    with staff_app.app_context():
        assert db.session.get(Document, document_id).meeting.number == 47
    landing = staff.get(f"/documents/{document_id}").get_data(as_text=True)
    assert '<a href="/meetings/47">Meeting 47</a>' in landing


@pytest.mark.parametrize("role", [None, "member", "translator", "reviewer"])
def test_only_staff_reach_the_meeting_forms(
    app: Flask, client: FlaskClient, make_user, role: str | None
) -> None:
    record_meeting(app)
    if role:
        sign_in(client, make_user(role))
    for path in ("/meetings/new", "/meetings/45/edit"):
        response = client.get(path)
        assert response.status_code == (302 if role is None else 403), path
    assert client.get("/meetings/45").status_code == 200


def test_the_api_names_a_records_meeting_or_null(
    app: Flask, client: FlaskClient, import_rows
) -> None:
    record_meeting(app)
    import_rows([MEETING_ROWS[0], MEETING_ROWS[3]])
    with app.app_context():
        ids = {d.ref: d.id for d in db.session.scalars(select(Document))}
    agenda = client.get(f"/api/documents/{ids['AG-45']}").get_json()
    assert agenda["meeting"] == {
        "number": 45,
        "date": "2023-09-05",
        "url": "http://hub.test/meetings/45",
    }
    assert client.get(f"/api/documents/{ids['WP-2022']}").get_json()["meeting"] is None


# --- the demonstration catalogue's meetings --------------------------------------------


def linked_refs(page: str, app: Flask) -> list[str]:
    """The refs of the records a meeting page links to, in the page's order."""
    ids = [int(i) for i in re.findall(r'href="/documents/(\d+)', page)]
    with app.app_context():
        refs = dict(db.session.execute(select(Document.id, Document.ref)).all())
    return [refs[i] for i in ids]


@pytest.mark.slow
def test_the_demo_meetings_list_their_documents_in_order(
    app: Flask, client: FlaskClient, kept_states, make_user
) -> None:
    load_demo_catalogue(app, kept_states)
    listing = client.get("/meetings/").get_data(as_text=True)
    numbers = [int(n) for n in re.findall(r'href="/meetings/(\d+)"', listing)]
    assert numbers == [47, 45, 43, 42, 41, 40]
    assert "Mar 14, 2024" in listing and "45 participants" in listing
    # The draft Action Plan and the minutes of the 45th are for members only.
    assert re.search(r"Meeting 47</a>.*?2 documents", listing, re.S)
    assert re.search(r"Meeting 45</a>.*?1 document<", listing, re.S)

    assert linked_refs(client.get("/meetings/47").get_data(as_text=True), app) == [
        "DEMO-AG-47",
        "DEMO-MIN-47",
    ]
    sign_in(client, make_user("member", organization="ILO"))
    page = client.get("/meetings/47").get_data(as_text=True)
    assert linked_refs(page, app) == ["DEMO-AG-47", "DEMO-MIN-47", "DEMO-AP-2024"]
    assert linked_refs(client.get("/meetings/45").get_data(as_text=True), app) == [
        "DEMO-AG-45",
        "DEMO-MIN-45",
    ]
    assert "37 participants" in client.get("/meetings/45").get_data(as_text=True)
    with app.app_context():
        agenda = db.session.scalar(select(Document).where(Document.ref == "DEMO-AG-47"))
        agenda_id = agenda.id
    record = client.get(f"/documents/{agenda_id}").get_data(as_text=True)
    assert '<a href="/meetings/47">Meeting 47</a>' in record
    # In French, the agenda is shown by its French title.
    french = client.get("/meetings/47?lang=fr").get_data(as_text=True)
    assert "Ordre du jour de la 47e réunion" in french and "Réunion 47" in french


def test_documents_of_a_meeting_go_agenda_minutes_notes_presentations_decisions() -> None:
    shuffled = [
        ("other", "2023-09-05", "Letter"),
        ("workplan", "2023-09", "Workplan"),
        (None, None, "Untyped"),
        ("presentation", "2023-09-05", "B slides"),
        ("presentation", "2023-09-05", "a slides"),
        ("meeting-minutes", "2023-09-05", "Minutes"),
        ("session-notes", "2023-09-05", "Notes"),
        ("agenda", "2023-09-05", "Agenda"),
    ]
    ordered = sorted(shuffled, key=lambda d: meeting_order(*d))
    assert [title for __, __, title in ordered] == [
        "Agenda",
        "Minutes",
        "Notes",
        "a slides",
        "B slides",
        "Workplan",
        "Letter",
        "Untyped",
    ]


def test_the_web_bulk_import_reports_an_unknown_meeting_on_its_row(
    staff_app: Flask, staff: FlaskClient
) -> None:
    record_meeting(staff_app)
    rows = [dict(row) for row in MEETING_ROWS]
    files = [(io.BytesIO(row.pop("content").encode()), row["file"]) for row in rows]
    response = staff.post(
        "/staff/import",
        data={"manifest": (io.BytesIO(manifest_bytes(rows)), "manifest.csv"), "files": files},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    preview = response.get_data(as_text=True)
    assert "There is no meeting 44: record it under Meetings first." in preview
    batch_id = response.request.path.rsplit("/", 1)[-1]
    done = staff.post(f"/staff/import/{batch_id}", data={}, follow_redirects=True)
    assert "2 records created, 1 language versions added, 1 rows not imported" in done.get_data(
        as_text=True
    )
    with staff_app.app_context():
        agenda = db.session.scalar(select(Document).where(Document.ref == "AG-45"))
        assert agenda.meeting.number == 45
        assert db.session.scalar(select(Document).where(Document.ref == "MIN-44")) is None
