"""The pages a researcher uses: home, search, a record's landing page, downloads."""

from __future__ import annotations

import hashlib

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import Document

HTML_FILE = (
    "<!doctype html><html><head><title>Guide</title><script>alert(1)</script></head><body><p>"
    "Guía sobre cooperativas de plataforma.</p></body></html>"
)


@pytest.fixture
def record(app: Flask, import_rows) -> int:
    report = import_rows(
        [
            dict(
                ref="ARP-M1",
                file="arp-en.txt",
                language="en",
                title="Awareness Raising Package: module 1",
                summary="What the social and solidarity economy is.",
                kind="publication",
                type="awareness-package",
                date="2023-06",
                organizations="ILO;ITC-ILO",
                topics="sdg-8;cooperatives",
                regions="002;SN",
                authors="International Labour Office",
                content="The social and solidarity economy in practice.",
            ),
            dict(
                ref="ARP-M1",
                file="arp-es.html",
                language="es",
                title="Paquete de sensibilización: módulo 1",
                summary="Qué es la economía social y solidaria.",
                kind="publication",
                content=HTML_FILE,
            ),
            dict(
                ref="ARP-M1",
                file="arp-ar.txt",
                language="ar",
                title="مجموعة التوعية: الوحدة 1",
                summary="ما هو الاقتصاد الاجتماعي والتضامني.",
                kind="publication",
                content="الاقتصاد الاجتماعي والتضامني في الممارسة.",
            ),
        ]
    )
    assert report.failed == 0, [str(r) for r in report.rows]
    with app.app_context():
        return db.session.scalar(select(Document.id))


def test_home_shows_latest_releases_and_counts(client: FlaskClient, record: int) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "Awareness Raising Package: module 1" in html
    assert 'href="/search?type=awareness-package"' in html
    assert 'href="/search?language=ar"' in html
    assert "1 record," in html


def test_the_landing_page_lists_every_language_version(client: FlaskClient, record: int) -> None:
    html = client.get(f"/documents/{record}").get_data(as_text=True)
    assert 'lang="en" dir="ltr">Awareness Raising Package: module 1</h1>' in html
    assert "Paquete de sensibilización: módulo 1" in html
    assert 'lang="ar" dir="rtl">مجموعة التوعية: الوحدة 1' in html
    assert "ITC-ILO" in html and "Senegal" in html and "Africa" in html
    assert html.count("/files/") == 3


def test_the_readers_language_picks_the_version_shown_first(
    client: FlaskClient, record: int
) -> None:
    response = client.get(f"/documents/{record}?lang=es")
    html = response.get_data(as_text=True)
    assert '<html lang="es" dir="ltr">' in html
    assert 'lang="es" dir="ltr">Paquete de sensibilización: módulo 1</h1>' in html
    assert "lang=es" in response.headers["Set-Cookie"]
    # The cookie remembers the choice on the next page.
    again = client.get(f"/documents/{record}").get_data(as_text=True)
    assert '<html lang="es"' in again
    arabic = client.get(f"/documents/{record}?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in arabic


@pytest.mark.slow
def test_downloads_have_the_sniffed_type_and_the_original_name(
    app: Flask, client: FlaskClient, record: int
) -> None:
    with app.app_context():
        document = db.session.get(Document, record)
        files = {v.language: v.files[0] for v in document.variants}
        ids = {lang: f.id for lang, f in files.items()}
    response = client.get(f"/documents/{record}/files/{ids['es']}")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    # Uploaded HTML is never rendered in the hub's origin.
    assert response.headers["Content-Disposition"] == "attachment; filename=arp-es.html"
    assert hashlib.sha256(response.data).hexdigest() == response.headers["ETag"].strip('"')
    response.close()
    arabic = client.get(f"/documents/{record}/files/{ids['ar']}")
    assert arabic.mimetype == "text/plain"
    arabic.close()
    # A file id under another record's address is not found.
    assert client.get(f"/documents/{record + 1}/files/{ids['en']}").status_code == 404


def test_api_record_reads(client: FlaskClient, record: int) -> None:
    by_id = client.get(f"/api/documents/{record}").get_json()
    by_ref = client.get("/api/documents/ref/ARP-M1").get_json()
    assert by_id == by_ref
    assert by_id["ref"] == "ARP-M1" and by_id["type"] == "awareness-package"
    assert [v["language"] for v in by_id["languages"]] == ["en", "es", "ar"]
    assert by_id["organizations"][0] == {
        "acronym": "ILO",
        "name": "International Labour Organization",
        "role": "lead",
    }
    assert by_id["languages"][1]["files"][0]["media_type"] == "text/html"
    missing = client.get("/api/documents/999")
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"


def test_the_openapi_description_is_served(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    assert {"/api/search", "/api/documents/{id}", "/api/documents/ref/{ref}"} <= set(spec["paths"])


def test_an_unknown_page_says_what_to_do(client: FlaskClient) -> None:
    response = client.get("/documents/12345")
    assert response.status_code == 404
    assert "Back to the home page" in response.get_data(as_text=True)


def test_an_oversized_id_is_simply_not_found(client: FlaskClient) -> None:
    for path in (
        "/documents/99999999999999999999",
        "/documents/1/files/99999999999999999999",
        "/api/documents/99999999999999999999",
        "/review/99999999999999999999",
    ):
        assert client.get(path).status_code in (302, 404), path


def test_facet_links_add_or_remove_one_value_and_go_back_to_the_first_page(
    client: FlaskClient, record: int
) -> None:
    html = client.get("/search?q=economy&organization=ILO&page=1&language=en&lang=en").get_data(
        as_text=True
    )
    # A chosen value's link takes it out (and the page with it), the others stay.
    assert 'href="/search?q=economy&amp;language=en&amp;lang=en" aria-current="true"' in html
    assert 'aria-label="Remove filter ILO"' in html
    # Another value is added after the facet's values already chosen.
    assert (
        'href="/search?q=economy&amp;organization=ILO&amp;organization=ITC-ILO'
        '&amp;language=en&amp;lang=en"' in html
    )
    # Values read as labels: a region's name, a type's label.
    assert ">Senegal</a>" in html and ">Awareness package</a>" in html
