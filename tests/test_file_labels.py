"""Files are named as people know them ("Word document", "1.3 MB") in the reader's
language, never by their media type."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import force_locale

from knowledge_hub import i18n
from knowledge_hub.extraction import ACCEPTED_TYPES
from knowledge_hub.i18n import vocabularies
from tests.conftest import shared_data
from tests.test_web_translations import PUBLICATION
from tests.test_web_translations import release_after_attesting


@pytest.mark.parametrize(
    ("locale", "size", "shown"),
    [
        ("en", 1_300_000, "1.3 MB"),
        ("fr", 1_300_000, "1,3\u202fMo"),
        ("ru", 2_000_000, "2 МБ"),
        ("en", 840_400, "840 kB"),
        ("en", 12, "1 kB"),
    ],
)
def test_sizes_read_as_the_readers_language_writes_them(
    app: Flask, locale: str, size: int, shown: str
) -> None:
    with app.test_request_context(), force_locale(locale):
        assert i18n.format_size(size) == shown


def test_every_accepted_type_has_a_name() -> None:
    assert sorted(set(ACCEPTED_TYPES) - set(vocabularies.FILE_TYPES)) == []


@pytest.mark.slow
def test_a_record_page_names_its_files_types(app: Flask, criteria, import_rows) -> None:
    row = dict(PUBLICATION, file="brief.docx")
    row["content"] = (shared_data("files") / "docx-raw_text.docx").read_bytes()
    report = import_rows([row], release=False)
    assert report.failed == 0, report.summary()
    document_id = release_after_attesting(app, row["ref"])
    response = app.test_client().get(f"/documents/{document_id}?lang=zh")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    files_list = page[page.index('<ul class="files">') :]
    files_list = files_list[: files_list.index("</ul>")]
    assert "Word 文档" in files_list and "kB" in files_list
    assert "officedocument" not in files_list and "KB" not in files_list
