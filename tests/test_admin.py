"""Administration: accounts and invitations, organizations, vocabularies, the criteria set
and its versions, the audit log; and that only administrators reach any of it."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.i18n import vocabularies
from knowledge_hub.models import AuditEvent
from knowledge_hub.models import CriteriaSetVersion
from knowledge_hub.models import Criterion
from knowledge_hub.models import DocType
from knowledge_hub.models import Document
from knowledge_hub.models import Organization
from knowledge_hub.models import Role
from knowledge_hub.models import Topic
from knowledge_hub.models import User
from knowledge_hub.services import Invalid
from knowledge_hub.services import NotAllowed
from knowledge_hub.services import Refused
from knowledge_hub.services import criteria_set as criteria_service
from knowledge_hub.services import organizations as organization_service
from knowledge_hub.services import users as user_service
from knowledge_hub.services import vocabularies as vocabulary_service

PASSWORD = "a long enough password"
NEW_PASSWORD = "another long password"
LINK = re.compile(r"https?://hub\.test/auth/invitation/([A-Za-z0-9_.\-]+)")


@pytest.fixture(autouse=True)
def plain_http(app: Flask) -> None:
    # The test client speaks http; the session cookie is Secure by default.
    app.config["SESSION_COOKIE_SECURE"] = False


@pytest.fixture(autouse=True)
def criteria_set(criteria: None) -> None:
    """The first criteria set (conftest's `criteria`)."""


def make_user(app: Flask, email: str, *roles: str, organization: str | None = None) -> int:
    with app.app_context():
        user = user_service.create_user(
            None, email, email.split("@")[0].title(), PASSWORD, list(roles), organization
        )
        return user.id


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> int:
    return client.post("/auth/login", data={"email": email, "password": password}).status_code


@pytest.fixture
def admin_id(app: Flask, client: FlaskClient, kept_states) -> int:
    user_id = kept_states.run(
        (__name__, "make_user", "root@hub.test", "admin"),
        lambda: make_user(app, "root@hub.test", "admin"),
    )
    assert sign_in(client, "root@hub.test") == 302
    return user_id


def invite(client: FlaskClient, email: str = "new@hub.test", **fields) -> str:
    data = {
        "email": email,
        "name": "New Person",
        "roles": ["translator"],
        "organization": "ILO",
        "languages": "fr, es",
    }
    data.update(fields)
    response = client.post("/admin/users/invite", data=data)
    assert response.status_code == 200, response.get_data(as_text=True)
    match = LINK.search(response.get_data(as_text=True))
    assert match, "the invitation link is shown"
    return match.group(1)


def user_by_email(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


# --- invitations


@pytest.mark.slow
def test_invitation_sets_the_password_once(app: Flask, client: FlaskClient, admin_id: int) -> None:
    token = invite(client)
    with app.app_context():
        user = user_by_email("new@hub.test")
        assert user.password_hash is None
        assert user.roles == ["translator"] and user.languages == ["fr", "es"]
        assert user.organization.acronym == "ILO"
        [event] = events("invite_user")
        assert event.actor_id == admin_id
        assert event.details["after"]["roles"] == ["translator"]

    newcomer = app.test_client()
    assert sign_in(newcomer, "new@hub.test", "") != 302
    page = newcomer.get(f"/auth/invitation/{token}")
    assert page.status_code == 200
    assert "new@hub.test" in page.get_data(as_text=True)

    short = newcomer.post(
        f"/auth/invitation/{token}", data={"password": "short", "confirm": "short"}
    )
    assert short.status_code == 400

    done = newcomer.post(
        f"/auth/invitation/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done.location.endswith("/auth/login")
    assert sign_in(newcomer, "new@hub.test", NEW_PASSWORD) == 302

    # The link worked once: opening or posting it again is refused and changes nothing.
    again = app.test_client()
    refused = again.get(f"/auth/invitation/{token}")
    assert refused.status_code == 410
    assert "already used" in refused.get_data(as_text=True)
    assert (
        again.post(
            f"/auth/invitation/{token}",
            data={"password": "yet another password", "confirm": "yet another password"},
        ).status_code
        == 410
    )
    assert sign_in(again, "new@hub.test", "yet another password") == 401
    assert sign_in(again, "new@hub.test", NEW_PASSWORD) == 302


@pytest.mark.slow
def test_a_forged_or_expired_link_is_refused(
    app: Flask, client: FlaskClient, admin_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = invite(client)
    assert client.get(f"/auth/invitation/{token[:-3]}xyz").status_code == 410
    monkeypatch.setattr(user_service, "INVITATION_MAX_AGE", timedelta(seconds=-1))
    response = client.get(f"/auth/invitation/{token}")
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)


@pytest.mark.slow
def test_reset_voids_the_password_and_earlier_links(
    app: Flask, client: FlaskClient, admin_id: int
) -> None:
    first = invite(client)
    with app.app_context():
        user_id = user_by_email("new@hub.test").id
    response = client.post(f"/admin/users/{user_id}/reset", data={"confirm": "y"})
    assert response.status_code == 200
    second = LINK.search(response.get_data(as_text=True)).group(1)
    assert second != first
    other = app.test_client()
    assert other.get(f"/auth/invitation/{first}").status_code == 410
    assert (
        other.post(
            f"/auth/invitation/{second}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        ).status_code
        == 302
    )
    # A reset of a working account clears its password too.
    client.post(f"/admin/users/{user_id}/reset", data={"confirm": "y"})
    assert sign_in(other, "new@hub.test", NEW_PASSWORD) == 401
    with app.app_context():
        assert [e.details["before"] for e in events("reset_user")] == [
            {"has_password": False},
            {"has_password": True},
        ]


@pytest.mark.slow
def test_a_reset_needs_its_confirmation(app: Flask, client: FlaskClient, admin_id: int) -> None:
    user_id = make_user(app, "staff@hub.test", "staff")
    response = client.post(f"/admin/users/{user_id}/reset", follow_redirects=True)
    assert "Tick the box to confirm the reset" in response.get_data(as_text=True)
    assert sign_in(app.test_client(), "staff@hub.test") == 302
    with app.app_context():
        assert events("reset_user") == []


@pytest.mark.slow
def test_invitation_problems_are_shown_beside_the_fields(
    app: Flask, client: FlaskClient, admin_id: int
) -> None:
    invite(client)
    again = client.post(
        "/admin/users/invite", data={"email": "new@hub.test", "name": "Twice", "roles": ["member"]}
    )
    assert again.status_code == 400
    assert "There is already an account for new@hub.test" in again.get_data(as_text=True)
    bad = client.post(
        "/admin/users/invite",
        data={"email": "x@hub.test", "name": "X", "roles": ["member"], "languages": "xx-!!"},
    )
    assert bad.status_code == 400
    assert "is not a language code" in bad.get_data(as_text=True)
    with app.app_context():
        assert user_by_email("x@hub.test") is None


# --- accounts


@pytest.mark.slow
def test_disabling_ends_an_open_session(app: Flask, client: FlaskClient, admin_id: int) -> None:
    user_id = make_user(app, "staff@hub.test", "staff")
    staff = app.test_client()
    assert sign_in(staff, "staff@hub.test") == 302
    assert staff.get("/auth/password").status_code == 200

    response = client.post(f"/admin/users/{user_id}/disable", follow_redirects=True)
    assert "open sessions have ended" in response.get_data(as_text=True)

    gone = staff.get("/auth/password")
    assert gone.status_code == 302 and "/auth/login" in gone.location
    assert sign_in(staff, "staff@hub.test") == 401

    client.post(f"/admin/users/{user_id}/enable")
    assert sign_in(staff, "staff@hub.test") == 302
    with app.app_context():
        assert [
            e.action
            for e in db.session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.object_id == user_id,
                    AuditEvent.action.in_(["disable_user", "enable_user"]),
                )
                .order_by(AuditEvent.id)
            )
        ] == ["disable_user", "enable_user"]


def test_an_admin_cannot_demote_or_disable_themselves(
    app: Flask, client: FlaskClient, admin_id: int
) -> None:
    response = client.post(f"/admin/users/{admin_id}/disable", follow_redirects=True)
    assert "You cannot disable your own account" in response.get_data(as_text=True)
    demote = client.post(
        f"/admin/users/{admin_id}", data={"name": "Root", "roles": ["staff"], "organization": ""}
    )
    assert demote.status_code == 400
    assert "You cannot remove your own admin role" in demote.get_data(as_text=True)
    with app.app_context():
        me = db.session.get(User, admin_id)
        assert me.is_active and me.roles == ["admin"]
        with pytest.raises(Refused):
            user_service.set_user_active(me, admin_id, False)
        with pytest.raises(Refused):
            user_service.update_user(
                me, admin_id, name="Root", roles=[], organization=None, languages=[]
            )
    # Keeping the admin role while adding another is fine.
    ok = client.post(
        f"/admin/users/{admin_id}",
        data={"name": "Root", "roles": ["admin", "reviewer"], "organization": ""},
    )
    assert ok.status_code == 302


def test_role_changes_are_audited_with_before_and_after(
    app: Flask, client: FlaskClient, admin_id: int
) -> None:
    user_id = make_user(app, "m@hub.test", "member", organization="ILO")
    response = client.post(
        f"/admin/users/{user_id}",
        data={
            "name": "M. Renamed",
            "roles": ["member", "reviewer"],
            "organization": "UNRISD",
            "languages": "",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.roles == ["member", "reviewer"] and user.organization.acronym == "UNRISD"
        [event] = events("update_user")
        assert event.actor_id == admin_id and event.object_id == user_id
        assert event.details["before"] == {"name": "M", "roles": ["member"], "organization": "ILO"}
        assert event.details["after"] == {
            "name": "M. Renamed",
            "roles": ["member", "reviewer"],
            "organization": "UNRISD",
        }
    # Sending the same again changes nothing and records nothing.
    client.post(
        f"/admin/users/{user_id}",
        data={"name": "M. Renamed", "roles": ["member", "reviewer"], "organization": "UNRISD"},
    )
    with app.app_context():
        assert len(events("update_user")) == 1


@pytest.mark.slow
def test_the_user_list_filters_by_role_and_status(
    app: Flask, client: FlaskClient, admin_id: int
) -> None:
    make_user(app, "rev@hub.test", "reviewer")
    disabled = make_user(app, "off@hub.test", "staff")
    client.post(f"/admin/users/{disabled}/disable")
    invite(client, "invited@hub.test")
    everyone = client.get("/admin/users").get_data(as_text=True)
    for email in ("root@hub.test", "rev@hub.test", "off@hub.test", "invited@hub.test"):
        assert email in everyone
    assert user_service.SYSTEM_EMAIL not in everyone
    assert "invited, no password yet" in everyone
    reviewers = client.get("/admin/users?role=reviewer").get_data(as_text=True)
    assert "rev@hub.test" in reviewers and "off@hub.test" not in reviewers
    off = client.get("/admin/users?status=disabled").get_data(as_text=True)
    assert "off@hub.test" in off and "rev@hub.test" not in off


# --- who may see the administration


def _admin_requests(app: Flask) -> list[tuple[str, str]]:
    """Every admin route and method, with addresses the routes really answer."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        words = {
            "vocabulary": "types",
            "direction": "up",
            "change": "disable" if rule.rule.startswith("/admin/users") else "retire",
        }
        path = re.sub(
            r"<(?:(\w+):)?(\w+)>",
            lambda m, words=words: "1" if m.group(1) == "int" else words[m.group(2)],
            rule.rule,
        )
        found += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    assert len(found) > 20
    return found


@pytest.mark.slow
@pytest.mark.parametrize("role", ["member", "staff", "translator", "reviewer"])
def test_other_roles_are_forbidden_every_admin_page(app: Flask, role: str) -> None:
    victim = make_user(app, "victim@hub.test", "member")
    make_user(app, f"{role}@hub.test", role)
    client = app.test_client()
    assert sign_in(client, f"{role}@hub.test") == 302
    for method, path in _admin_requests(app):
        response = client.open(path, method=method, data={"roles": ["admin"], "name": "x"})
        assert response.status_code == 403, (method, path)
    with app.app_context():
        assert db.session.get(User, victim).is_active
        assert (
            db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action != "login"))
            == 0
        )


def test_unknown_words_in_an_address_are_not_found(
    app: Flask, client: FlaskClient, admin_id: int
) -> None:
    for method, path in (
        ("POST", f"/admin/users/{admin_id}/promote"),
        ("GET", "/admin/vocabularies/colours"),
        ("POST", "/admin/vocabularies/colours/new"),
        ("POST", "/admin/vocabularies/types/1/delete"),
        ("POST", "/admin/criteria/1/delete"),
        ("POST", "/admin/criteria/1/move/sideways"),
    ):
        assert client.open(path, method=method).status_code == 404, path


def test_anonymous_visitors_are_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    for method, path in _admin_requests(app):
        response = client.open(path, method=method)
        assert response.status_code == 302, (method, path)
        assert "/auth/login" in response.location


def test_services_check_permission_first(app: Flask) -> None:
    make_user(app, "staff@hub.test", "staff")
    with app.app_context():
        staff = user_by_email("staff@hub.test")
        fields = criteria_service.CriterionFields("x", "", "attestation", True, ["publication"])
        for call in (
            lambda: user_service.invite_user(staff, "a@hub.test", "A", ["member"]),
            lambda: user_service.set_user_active(staff, staff.id, False),
            lambda: organization_service.add_organization(staff, "NEW", "New", "other"),
            lambda: vocabulary_service.add_vocabulary_entry(
                staff, "types", "factsheet", "Factsheet"
            ),
            lambda: criteria_service.add_criterion(staff, "new_one", fields),
            lambda: criteria_service.move_criterion(staff, 1, "down"),
        ):
            with pytest.raises(NotAllowed):
                call()


# --- organizations


def test_organizations_add_and_edit(app: Flask, client: FlaskClient, admin_id: int) -> None:
    added = client.post(
        "/admin/organizations/new",
        data={
            "acronym": "UNECE",
            "name": "Economic Commission for Europe",
            "kind": "member",
            "url": "https://unece.org",
        },
    )
    assert added.status_code == 302
    clash = client.post(
        "/admin/organizations/new", data={"acronym": "ilo", "name": "Someone else", "kind": "other"}
    )
    assert clash.status_code == 400
    assert "There is already an organization ILO" in clash.get_data(as_text=True)
    bad_url = client.post(
        "/admin/organizations/new",
        data={"acronym": "X", "name": "X", "kind": "other", "url": "javascript:alert(1)"},
    )
    assert bad_url.status_code == 400
    with app.app_context():
        org = db.session.scalar(select(Organization).where(Organization.acronym == "UNECE"))
        org_id = org.id
    edited = client.post(
        f"/admin/organizations/{org_id}",
        data={
            "acronym": "UNECE",
            "name": "UN Economic Commission for Europe",
            "kind": "member",
            "url": "https://unece.org",
        },
    )
    assert edited.status_code == 302
    page = client.get("/admin/organizations").get_data(as_text=True)
    assert "UN Economic Commission for Europe" in page
    with app.app_context():
        [event] = events("update_organization")
        assert event.details == {
            "before": {"name": "Economic Commission for Europe"},
            "after": {"name": "UN Economic Commission for Europe"},
        }


# --- vocabularies


def test_vocabulary_entries_are_added_relabelled_retired_and_restored(
    app: Flask, client: FlaskClient, admin_id: int, import_rows
) -> None:
    assert (
        client.post(
            "/admin/vocabularies/types/new", data={"code": "Fact-Sheet", "label": "Fact sheet"}
        ).status_code
        == 302
    )
    for code in ("fact sheet", "-x", "report"):
        response = client.post("/admin/vocabularies/types/new", data={"code": code, "label": "L"})
        assert response.status_code == 400, code
    report = import_rows(
        [
            {
                "ref": "R-1",
                "title": "A report",
                "type": "report",
                "content": "Some text of a report.",
            }
        ],
        release=False,
    )
    assert report.failed == 0, report.summary()
    with app.app_context():
        fact = db.session.scalar(select(DocType).where(DocType.code == "fact-sheet"))
        assert fact.label == "Fact sheet" and fact.is_active
        report_id = db.session.scalar(select(DocType.id).where(DocType.code == "report"))
        topic = db.session.scalar(select(Topic).where(Topic.code == "sdg-8"))
    client.post(f"/admin/vocabularies/types/{report_id}/label", data={"label": "Report (study)"})
    client.post(f"/admin/vocabularies/types/{report_id}/retire")
    client.post(f"/admin/vocabularies/topics/{topic.id}/retire")
    with app.app_context():
        retired = db.session.get(DocType, report_id)
        assert retired.label == "Report (study)" and not retired.is_active
        assert not db.session.get(Topic, topic.id).is_active
        # A retired entry stays on the records that have it.
        document = db.session.scalar(select(Document).where(Document.ref == "R-1"))
        assert document.doc_type.code == "report"
    page = client.get("/admin/vocabularies/types").get_data(as_text=True)
    assert "Restore report" in page
    client.post(f"/admin/vocabularies/types/{report_id}/restore")
    with app.app_context():
        assert db.session.get(DocType, report_id).is_active
        assert [
            e.action
            for e in db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.object_type == "doctype")
                .order_by(AuditEvent.id)
            )
        ] == [
            "add_vocabulary_entry",
            "relabel_vocabulary_entry",
            "retire_vocabulary_entry",
            "restore_vocabulary_entry",
        ]


# --- the criteria set


def _versions() -> list[CriteriaSetVersion]:
    return list(db.session.scalars(select(CriteriaSetVersion).order_by(CriteriaSetVersion.number)))


def _criterion(code: str) -> Criterion:
    return db.session.scalar(select(Criterion).where(Criterion.code == code))


def test_every_criteria_change_makes_a_new_version(
    app: Flask, client: FlaskClient, admin_id: int
) -> None:
    with app.app_context():
        disclaimer = _criterion("un_disclaimer")
        disclaimer_id, logo_id = disclaimer.id, _criterion("logo_use").id
        assert [v.number for v in _versions()] == [1]

    edit = {
        "label": "UN disclaimer on the cover",
        "help_text": disclaimer.help_text,
        "kind": "attestation",
        "is_required": "y",
        "applies_to": ["publication"],
        "reason": "Wording agreed at the 48th meeting",
    }
    assert client.post(f"/admin/criteria/{disclaimer_id}", data=edit).status_code == 302
    with app.app_context():
        v2 = _versions()[-1]
        assert v2.number == 2 and v2.created_by_id == admin_id
        assert "un_disclaimer" in v2.note and "48th meeting" in v2.note
        snap = {c["code"]: c for c in v2.snapshot}
        assert snap["un_disclaimer"]["label"] == "UN disclaimer on the cover"
        assert len(v2.snapshot) == len(vocabularies.CRITERIA)
        [event] = events("update_criterion")
        assert event.details["version"] == 2
        assert event.details["before"] == {"label": "UN disclaimer present"}

    # The same form again changes nothing, so no version.
    client.post(f"/admin/criteria/{disclaimer_id}", data=edit)
    # Optional now: a new version whose snapshot says so.
    client.post(f"/admin/criteria/{disclaimer_id}", data={**edit, "is_required": ""})
    client.post(f"/admin/criteria/{logo_id}/retire", data={"reason": "Logos are cleared centrally"})
    client.post(f"/admin/criteria/{logo_id}/move/up")
    added = client.post(
        "/admin/criteria/new",
        data={
            "code": "gender_review",
            "label": "Gender review done",
            "help_text": "",
            "kind": "attestation",
            "is_required": "y",
            "applies_to": ["publication", "archive"],
        },
    )
    assert added.status_code == 302
    client.post(f"/admin/criteria/{logo_id}/restore")

    with app.app_context():
        versions = _versions()
        assert [v.number for v in versions] == [1, 2, 3, 4, 5, 6, 7]
        snapshots = [{c["code"]: c for c in v.snapshot} for v in versions]
        assert snapshots[2]["un_disclaimer"]["is_required"] is False
        assert snapshots[3]["logo_use"]["is_active"] is False
        assert snapshots[4]["logo_use"]["position"] < snapshots[4]["un_disclaimer"]["position"]
        assert snapshots[5]["gender_review"]["applies_to"] == ["publication", "archive"]
        assert snapshots[6]["logo_use"]["is_active"] is True
        assert "Logos are cleared centrally" in versions[3].note
        order = [
            c.code
            for c in db.session.scalars(
                select(Criterion).order_by(Criterion.position, Criterion.id)
            )
        ]
        assert order.index("logo_use") == order.index("un_disclaimer") - 1
        assert order[-1] == "gender_review"
        assert {
            e.details["version"]
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.object_type == "criterion")
            )
        } == {2, 3, 4, 5, 6, 7}

    page = client.get("/admin/criteria").get_data(as_text=True)
    assert "Gender review done" in page and "Moved logo_use up" in page
    version_page = client.get("/admin/criteria/versions/4").get_data(as_text=True)
    assert "logo_use" in version_page and "retired" in version_page
    assert client.get("/admin/criteria/versions/99").status_code == 404


def test_an_automatic_criterion_needs_a_registered_check(
    app: Flask, client: FlaskClient, admin_id: int
) -> None:
    response = client.post(
        "/admin/criteria/new",
        data={
            "code": "magic_quality",
            "label": "Magically good",
            "kind": "automatic",
            "is_required": "y",
            "applies_to": ["publication"],
        },
    )
    assert response.status_code == 400
    assert "There is no automatic check with the code magic_quality" in response.get_data(
        as_text=True
    )
    with app.app_context():
        assert _criterion("magic_quality") is None
        assert [v.number for v in _versions()] == [1]
        actor = db.session.get(User, admin_id)
        # A record's check cannot apply to translations, nor a version's check to records.
        with pytest.raises(Invalid, match="not translations"):
            criteria_service.update_criterion(
                actor,
                _criterion("summary_length").id,
                criteria_service.CriterionFields(
                    "Summary", "", "automatic", True, ["publication", "translation"]
                ),
            )
        with pytest.raises(Invalid, match="translations only"):
            criteria_service.update_criterion(
                actor,
                _criterion("title_summary_translated").id,
                criteria_service.CriterionFields("T", "", "automatic", True, ["archive"]),
            )
        # An attestation may be made automatic only under a registered code.
        with pytest.raises(Invalid, match="no automatic check"):
            criteria_service.update_criterion(
                actor,
                _criterion("logo_use").id,
                criteria_service.CriterionFields("Logo", "", "automatic", True, ["publication"]),
            )
        with pytest.raises(Invalid, match="already a criterion"):
            criteria_service.add_criterion(
                actor,
                "summary_length",
                criteria_service.CriterionFields("Again", "", "automatic", True, ["publication"]),
            )
        assert [v.number for v in _versions()] == [1]
    # Attestations take any new code.
    ok = client.post(
        "/admin/criteria/new",
        data={
            "code": "magic_quality",
            "label": "Magically good",
            "kind": "attestation",
            "is_required": "y",
            "applies_to": ["translation"],
        },
    )
    assert ok.status_code == 302


def test_moving_past_either_end_is_refused(app: Flask, client: FlaskClient, admin_id: int) -> None:
    with app.app_context():
        first = db.session.scalar(select(Criterion).order_by(Criterion.position, Criterion.id))
        first_id = first.id
    response = client.post(f"/admin/criteria/{first_id}/move/up", follow_redirects=True)
    assert "is already first" in response.get_data(as_text=True)
    with app.app_context():
        assert [v.number for v in _versions()] == [1]


# --- the audit log


def _audit_rows(client: FlaskClient, query: str) -> list[dict[str, str]]:
    response = client.get(f"/admin/audit.csv?{query}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.slow
def test_the_audit_log_filters_pages_and_downloads(
    app: Flask, client: FlaskClient, admin_id: int, import_rows
) -> None:
    report = import_rows(
        [
            {
                "ref": "ARC-7",
                "title": "Minutes",
                "kind": "archive",
                "content": "The minutes of a meeting.",
            }
        ],
        release=False,
    )
    assert report.failed == 0, report.summary()
    with app.app_context():
        document_id = db.session.scalar(select(Document.id).where(Document.ref == "ARC-7"))
        actor = db.session.get(User, admin_id)
        other_id = db.session.scalar(select(DocType.id).where(DocType.code == "agenda"))
        for __ in range(30):  # 60 events: more than a page
            vocabulary_service.set_vocabulary_entry_active(actor, "types", other_id, False)
            vocabulary_service.set_vocabulary_entry_active(actor, "types", other_id, True)
        total = db.session.scalar(select(func.count(AuditEvent.id)))

    page = client.get("/admin/audit")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and f"{total} events" in text
    assert "page 1 of 2" in text
    assert text.count("<tr>") == 51  # the header row and 50 events
    assert "page 2 of 2" in client.get("/admin/audit?page=2").get_data(as_text=True)

    retired = client.get("/admin/audit?action=retire_vocabulary_entry").get_data(as_text=True)
    assert "30 events" in retired

    by_actor = client.get("/admin/audit?actor=ROOT@hub.test").get_data(as_text=True)
    assert "61 events" in by_actor  # 60 changes and the sign-in
    assert "0 events" in client.get("/admin/audit?actor=nobody@hub.test").get_data(as_text=True)

    for record in ("ARC-7", str(document_id)):
        rows = _audit_rows(client, f"record={record}")
        assert rows and {r["record_ref"] for r in rows} == {"ARC-7"}, record
        assert {r["record_id"] for r in rows} == {str(document_id)}

    today = date.today()
    tomorrow, yesterday = today + timedelta(days=1), today - timedelta(days=1)
    assert "0 events" in client.get(f"/admin/audit?since={tomorrow}").get_data(as_text=True)
    assert "0 events" in client.get(f"/admin/audit?until={yesterday}").get_data(as_text=True)
    within = client.get(f"/admin/audit?since={yesterday}&until={tomorrow}").get_data(as_text=True)
    assert f"{total} events" in within
    wrong = client.get("/admin/audit?since=not-a-date")
    assert wrong.status_code == 200 and "Not a valid date value" in wrong.get_data(as_text=True)

    everything = _audit_rows(client, "")
    assert len(everything) == total
    newest_first = [int(r["id"]) for r in everything]
    assert newest_first == sorted(newest_first, reverse=True)
    restored = _audit_rows(client, "action=restore_vocabulary_entry&actor=root@hub.test")
    assert len(restored) == 30
    assert {r["actor"] for r in restored} == {"root@hub.test"}
    assert '"code": "agenda"' in restored[0]["details"]
    assert "/admin/audit.csv?action=invite_user" in client.get(
        "/admin/audit?action=invite_user&page=2"
    ).get_data(as_text=True)


def _audited_actions() -> set[str]:
    """Every action code the services record, read from their calls of audit()."""
    import ast
    from pathlib import Path

    import knowledge_hub

    actions: set[str] = set()
    for path in Path(knowledge_hub.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "audit":
                code = node.args[1] if len(node.args) > 1 else None
                branches = [code.body, code.orelse] if isinstance(code, ast.IfExp) else [code]
                actions.update(b.value for b in branches if isinstance(b, ast.Constant))
    return actions


def test_every_audited_action_has_words() -> None:
    actions = _audited_actions()
    assert {"login", "withdraw", "enable_user", "disable_user"} <= actions
    assert sorted(actions - set(vocabularies.AUDIT_ACTIONS)) == []


def test_the_audit_log_reads_in_the_readers_language(
    app: Flask, client: FlaskClient, admin_id: int
) -> None:
    with app.app_context():
        actor = db.session.get(User, admin_id)
        other_id = db.session.scalar(select(DocType.id).where(DocType.code == "agenda"))
        vocabulary_service.set_vocabulary_entry_active(actor, "types", other_id, False)
    page = client.get("/admin/audit?lang=ar").get_data(as_text=True)
    table = page[page.index('<table class="grid audit">') : page.index("</table>")]
    words = set(re.findall(r"[a-z_]{3,}", re.sub(r"<[^>]+>", " ", table)))
    # Codes and English names stay out of the visible text; recorded values (the type's
    # code, "agenda") are kept as recorded.
    assert not words & {"login", "retire_vocabulary_entry", "user", "doctype", "code"}, words
    assert "سجّل الدخول" in table  # signed in
    assert "أوقف مدخلًا في المفردات" in table  # retired a vocabulary entry
    assert "حساب <bdi>#" in table and "نوع الوثيقة <bdi>#" in table
    options = page[page.index('name="action"') : page.index("</select>")]
    assert ">سجّل الدخول</option>" in options and 'value="login"' in options


@pytest.mark.slow
def test_every_admin_page_renders(app: Flask, client: FlaskClient, admin_id: int) -> None:
    with app.app_context():
        criterion_id = _criterion("un_disclaimer").id
        org_id = db.session.scalar(select(Organization.id).where(Organization.acronym == "ILO"))
    for path in (
        "/admin/users",
        "/admin/users/invite",
        f"/admin/users/{admin_id}",
        "/admin/organizations",
        "/admin/organizations/new",
        f"/admin/organizations/{org_id}",
        "/admin/vocabularies/types",
        "/admin/vocabularies/topics",
        "/admin/criteria",
        "/admin/criteria/new",
        f"/admin/criteria/{criterion_id}",
        "/admin/criteria/versions/1",
        "/admin/audit",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert html.count("<h1>") == 1, path
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/users/999").status_code == 404
    assert Role.ADMIN.value == "admin"


@pytest.mark.slow
def test_every_admin_form_carries_a_csrf_token_and_posts_without_one_fail(
    app: Flask, client: FlaskClient
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    make_user(app, "root@hub.test", "admin")
    user_id = make_user(app, "staff@hub.test", "staff")
    login = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    signed_in = client.post(
        "/auth/login", data={"email": "root@hub.test", "password": PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 302

    assert client.post(f"/admin/users/{user_id}/disable").status_code == 400
    page = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    forms = re.findall(r"<form method=\"post\".*?</form>", page, re.S)
    assert len(forms) == 4 and all("csrf_token" in f for f in forms)  # and signing out
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    done = client.post(f"/admin/users/{user_id}/disable", data={"csrf_token": token})
    assert done.status_code == 302
    with app.app_context():
        assert not db.session.get(User, user_id).is_active
    for path in ("/admin/criteria", "/admin/vocabularies/types", f"/admin/users/{user_id}"):
        html = client.get(path).get_data(as_text=True)
        forms = re.findall(r"<form method=\"post\".*?</form>", html, re.S)
        assert forms and all("csrf_token" in f for f in forms), path
        assert html.count('id="csrf_token"') <= 1, path
