"""Error pages speak the reader's language: Werkzeug's own names and descriptions are
English only, and an English sentence in an Arabic page puts its full stop on the wrong
side."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound

from knowledge_hub.config import LANGUAGES

NOT_FOUND = {
    "ar": ("غير موجود", "لا توجد صفحة على هذا العنوان"),
    "en": ("Not found", "There is no page at this address"),
    "es": ("No encontrado", "No hay ninguna página en esta dirección"),
    "fr": ("Introuvable", "Il n'y a pas de page à cette adresse"),
    "ru": ("Не найдено", "По этому адресу нет страницы"),
    "zh": ("未找到", "此地址没有页面"),
}


def test_the_languages_checked_are_the_hubs() -> None:
    assert sorted(NOT_FOUND) == sorted(LANGUAGES)


@pytest.mark.parametrize("language", sorted(NOT_FOUND))
def test_a_missing_page_says_so_in_the_readers_language(client: FlaskClient, language: str) -> None:
    response = client.get(f"/no-such-page?lang={language}")
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 404
    name, description = NOT_FOUND[language]
    assert f"<bdi>404</bdi> · {name}</h1>" in html
    assert description in html
    assert NotFound.description not in html
    # A sentence keeps its own direction inside a right-to-left page.
    assert '<p dir="auto">' in html


def test_a_description_given_by_the_page_is_kept_and_translated(client: FlaskClient) -> None:
    response = client.get("/documents/999999?lang=fr")
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 404
    assert "Cette notice n'existe pas ou n'est pas publique." in html
    assert "Introuvable" in html


def test_a_wrong_method_is_named_in_the_readers_language(client: FlaskClient) -> None:
    response = client.delete("/?lang=ru")
    html = response.get_data(as_text=True)
    assert response.status_code == 405
    assert "Этот адрес не принимает запросы такого вида." in html
    assert MethodNotAllowed.description not in html


def test_the_api_keeps_its_machine_readable_errors(client: FlaskClient) -> None:
    response = client.get("/api/no-such-thing?lang=ar")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_a_database_that_cannot_be_opened_is_not_called_unset(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    """A database the server cannot reach answers 503 and logs why, instead of telling
    the reader to run `hub init` on a hub that may be set up."""
    from knowledge_hub import create_app
    from tests.conftest import make_config

    config = make_config(tmp_path)
    config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'no-such-folder' / 'hub.sqlite'}"
    app = create_app(config)
    answer = app.test_client().get("/")
    assert answer.status_code == 503
    page = answer.get_data(as_text=True)
    assert "hub init" not in page
    assert "try again in a moment" in page
    assert "the database cannot be read on /" in caplog.text
