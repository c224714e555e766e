"""Places, languages and organizations are chosen from lists named in the reader's
language, and the forms send and store the same codes the former text boxes did."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import Region
from knowledge_hub.models import User
from knowledge_hub.services import documents
from knowledge_hub.services import users
from tests.conftest import PASSWORD
from tests.conftest import sign_in
from tests.test_web_staff import STAFF
from tests.test_web_staff import record_form
from tests.test_web_staff import staff  # noqa: F401  (the signed-in staff client)
from tests.test_web_staff import staff_app  # noqa: F401  (the app with a staff account)


def options(page: str, field: str) -> list[tuple[str, str, bool]]:
    """(value, label, selected) of a select's options, in their order."""
    select = re.search(rf'<select[^>]* id="{field}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"no select {field}"
    return [
        (value, html.unescape(label), "selected" in attributes)
        for attributes, value, label in re.findall(
            r'<option([^>]*?)value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1)
        )
    ]


def names(page: str, field: str) -> dict[str, str]:
    return {value: label for value, label, _ in options(page, field)}


def chosen(page: str, field: str) -> list[str]:
    return [value for value, _, selected in options(page, field) if selected]


def record_with_regions(app: Flask, ref: str, regions: list[str]) -> int:
    with app.app_context():
        actor = db.session.scalar(select(User).where(User.email == STAFF))
        document = documents.create_record(
            actor,
            documents.RecordFields(ref=ref, kind="publication", regions=regions),
            "en",
            f"Title of {ref}",
            "",
        )
        return document.id


def stored_regions(app: Flask, ref: str) -> list[str]:
    with app.app_context():
        document = db.session.scalar(select(Document).where(Document.ref == ref))
        return sorted(r.code for r in document.regions)


# --- places on a record


def test_places_are_named_and_grouped_in_the_interface_language(
    staff: FlaskClient,  # noqa: F811
) -> None:
    french = staff.get("/staff/new?lang=fr").get_data(as_text=True)
    places = names(french, "regions")
    assert places["SN"] == "Sénégal" and places["002"] == "Afrique" and places["419"]
    assert "data-picker" in french
    # The areas first, then the countries under their continent, by name in French.
    groups = re.findall(r'<optgroup label="([^"]+)">', french.split('id="regions"')[1])
    assert groups[:6] == [
        "Monde et zones M49 de l&#39;ONU",
        "Afrique",
        "Amériques",
        "Asie",
        "Europe",
        "Océanie",
    ]
    africa = french.index('<optgroup label="Afrique">')
    assert french.index('value="002"') < africa < french.index('value="SN"')
    assert africa < french.index('value="EG"') < french.index('<optgroup label="Amériques">')
    # Sorted as French sorts: Égypte and Éthiopie with the E's, not after Zimbabwe.
    order = [value for value, _, _ in options(french, "regions")]
    assert order.index("EG") < order.index("ET") < order.index("SN") < order.index("ZW")
    assert order.index("ES") < order.index("FR") < order.index("SE")
    # Places no record can be given (unions, pseudo-locales, "unknown") are not offered.
    assert not {"EU", "ZZ", "XA", "UN"} & set(places)
    # The organizations by acronym and their UN name in the reader's language.
    lead = names(french, "lead_organization")
    assert lead["ILO"] == "ILO — Organisation internationale du Travail"

    arabic = staff.get("/staff/new?lang=ar").get_data(as_text=True)
    assert names(arabic, "regions")["SN"] == "السنغال"
    assert names(arabic, "regions")["002"] == "أفريقيا"
    assert names(arabic, "lead_organization")["ILO"] == "ILO — منظمة العمل الدولية"


def test_picked_places_are_stored_as_the_same_codes(
    staff_app: Flask,  # noqa: F811
    staff: FlaskClient,  # noqa: F811
) -> None:
    response = staff.post("/staff/new", data=record_form(regions=["SN", "002", "419"]))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert stored_regions(staff_app, "WP-2023-07") == ["002", "419", "SN"]


def test_editing_shows_the_places_chosen_and_keeps_a_code_no_longer_offered(
    staff_app: Flask,  # noqa: F811
    staff: FlaskClient,  # noqa: F811
) -> None:
    # A region an older catalogue held (Yugoslavia) which the list no longer offers.
    with staff_app.app_context():
        db.session.add(Region(code="YU", is_area=False))
        db.session.commit()
    document_id = record_with_regions(staff_app, "AR-1990-01", ["YU", "BR", "019"])

    page = staff.get(f"/staff/{document_id}/edit?lang=es").get_data(as_text=True)
    assert sorted(chosen(page, "regions")) == ["019", "BR", "YU"]
    assert names(page, "regions")["BR"] == "Brasil"
    assert '<optgroup label="Otros códigos (se conservan tal cual)">' in page

    form = record_form(ref="AR-1990-01", regions=chosen(page, "regions"), title="Renamed")
    response = staff.post(f"/staff/{document_id}/edit", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert stored_regions(staff_app, "AR-1990-01") == ["019", "BR", "YU"]


def test_a_code_that_is_no_place_is_refused_and_nothing_typed_is_lost(
    staff_app: Flask,  # noqa: F811
    staff: FlaskClient,  # noqa: F811
) -> None:
    response = staff.post(
        "/staff/new",
        data=record_form(regions=["SN", "Africa!"], title="Économie sociale et solidaire"),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Not a country or area code: AFRICA!" in html.unescape(page)
    assert 'aria-describedby="regions-hint regions-errors"' in page
    # What was chosen and typed is still there, to correct and send again.
    assert "SN" in chosen(page, "regions") and "AFRICA!" in chosen(page, "regions")
    assert 'value="Économie sociale et solidaire"' in page
    assert 'value="WP-2023-07"' in page
    with staff_app.app_context():
        assert db.session.scalar(select(Document).where(Document.ref == "WP-2023-07")) is None


# --- a translator's languages and organization


@pytest.fixture
def admin(app: Flask, client: FlaskClient, make_user) -> FlaskClient:
    sign_in(client, make_user("admin"))
    return client


def test_languages_are_offered_by_name_the_six_first_in_the_hubs_order(admin: FlaskClient) -> None:
    page = admin.get("/admin/users/invite?lang=fr").get_data(as_text=True)
    languages = options(page, "languages")
    assert [value for value, _, _ in languages[:6]] == ["ar", "zh", "en", "fr", "ru", "es"]
    offered = dict((value, label) for value, label, _ in languages)
    assert offered["ar"] == "arabe" and offered["pt"] == "portugais"
    assert page.index('<optgroup label="Les six langues de l&#39;ONU">') < page.index(
        '<optgroup label="Autres langues">'
    )
    assert names(page, "organization")["UNCTAD"] == (
        "UNCTAD — Conférence des Nations Unies sur le commerce et le développement"
    )
    arabic = admin.get("/admin/users/invite?lang=ar").get_data(as_text=True)
    assert names(arabic, "languages")["fr"] == "الفرنسية"


@pytest.mark.slow
def test_picked_languages_are_stored_as_codes_and_shown_chosen_on_edit(
    app: Flask, admin: FlaskClient
) -> None:
    data = {
        "email": "t@hub.test",
        "name": "T",
        "roles": ["translator"],
        "organization": "ILO",
        "languages": ["fr", "pt"],
    }
    assert admin.post("/admin/users/invite", data=data).status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "t@hub.test"))
        assert user.languages == ["fr", "pt"]
        user_id = user.id
    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert sorted(chosen(page, "languages")) == ["fr", "pt"]
    assert chosen(page, "organization") == ["ILO"]

    response = admin.post(
        f"/admin/users/{user_id}",
        data={"name": "T", "roles": ["translator"], "organization": "ILO", "languages": ["es"]},
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id).languages == ["es"]


def test_a_language_held_but_not_offered_stays_chosen(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        user = users.create_user(
            None, "old@hub.test", "Old", PASSWORD, ["translator"], None, ["gsw"]
        )
        user_id = user.id
    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert chosen(page, "languages") == ["gsw"]


def test_a_language_that_is_no_tag_is_refused_by_its_field(admin: FlaskClient) -> None:
    response = admin.post(
        "/admin/users/invite",
        data={"email": "x@hub.test", "name": "Xavier", "roles": ["member"], "languages": ["xx-!!"]},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="languages-errors"' in page and "is not a language code" in page
    assert 'value="Xavier"' in page and "xx-!!" in chosen(page, "languages")
