"""Bulk import from a folder and a manifest: good rows go in, bad rows are reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import StoredFile
from knowledge_hub.models import Variant
from knowledge_hub.services import Invalid
from knowledge_hub.services import imports
from knowledge_hub.services.users import system_user
from knowledge_hub.storage import BlobStore
from tests.conftest import write_manifest

GOOD = [
    dict(
        ref="WP-2022",
        file="wp-en.txt",
        language="en",
        title="Workplan 2022-2024",
        kind="archive",
        type="workplan",
        date="2022-10",
        organizations="ilo;UNCTAD",
        topics="sdg-8;Cooperatives",
        regions="001",
        content="The workplan of the Task Force.",
    ),
    dict(
        ref="WP-2022",
        file="wp-fr.txt",
        language="fr",
        title="Plan de travail 2022-2024",
        kind="archive",
        type="workplan",
        content="Le plan de travail de l'Équipe spéciale.",
    ),
]


def counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(select(func.count(Document.id))),
        db.session.scalar(select(func.count(Variant.id))),
        db.session.scalar(select(func.count(StoredFile.id))),
    )


def test_rows_sharing_a_ref_become_one_record(app: Flask, import_rows) -> None:
    report = import_rows(GOOD)
    assert [r.outcome for r in report.rows] == ["created", "added"]
    assert report.released == ["WP-2022"]
    with app.app_context():
        document = db.session.scalar(select(Document))
        assert document.status == DocumentStatus.RELEASED
        assert document.original_language == "en"
        assert [v.language for v in document.variants] == ["en", "fr"]
        assert [v.is_original for v in document.variants] == [True, False]
        assert [o.acronym for o in document.organizations] == ["ILO", "UNCTAD"]
        assert {t.code for t in document.topics} == {"sdg-8", "cooperatives"}
        assert document.variants[1].files[0].text == "Le plan de travail de l'Équipe spéciale."


def test_importing_the_same_manifest_again_creates_nothing(app: Flask, import_rows) -> None:
    import_rows(GOOD)
    with app.app_context():
        before = counts()
    again = import_rows(GOOD)
    assert [r.outcome for r in again.rows] == ["skipped", "skipped"]
    with app.app_context():
        assert counts() == before


def test_bad_rows_are_reported_and_the_good_ones_go_in(
    app: Flask, import_rows, tmp_path: Path
) -> None:
    (tmp_path / "outside.txt").write_text("secret")
    rows = [
        *GOOD,
        dict(ref="BAD-TYPE", title="x", type="novel", content="text"),
        dict(ref="BAD-ORG", title="x", organizations="ACME", content="text"),
        dict(ref="BAD-DATE", title="x", date="2023-13", content="text"),
        dict(ref="BAD-LANG", title="x", language="klingon-xx", content="text"),
        dict(ref="BAD-KIND", title="x", kind="book", content="text"),
        dict(ref="NO-TITLE", title="", content="text"),
        dict(ref="NO-FILE", file="nowhere.pdf", title="x"),
        dict(ref="ESCAPE", file="../outside.txt", title="x"),
        dict(ref="EXE", file="tool.exe", title="x", content=b"MZ\x90\x00\x03" + bytes(200)),
    ]
    report = import_rows(rows)
    outcome = {r.ref: r for r in report.rows}
    assert outcome["WP-2022"].outcome in ("created", "added")
    errors = {ref: r.message for ref, r in outcome.items() if r.outcome == "error"}
    assert set(errors) == {
        "BAD-TYPE",
        "BAD-ORG",
        "BAD-DATE",
        "BAD-LANG",
        "BAD-KIND",
        "NO-TITLE",
        "NO-FILE",
        "ESCAPE",
        "EXE",
    }
    assert "novel" in errors["BAD-TYPE"]
    assert "ACME" in errors["BAD-ORG"]
    assert "2023-13" in errors["BAD-DATE"]
    assert "title" in errors["NO-TITLE"]
    assert "not found" in errors["NO-FILE"]
    assert "outside" in errors["ESCAPE"]
    with app.app_context():
        assert db.session.scalars(select(Document.ref)).all() == ["WP-2022"]


def test_a_dry_run_writes_nothing(app: Flask, tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "a.txt").write_text("Agenda of the 45th meeting")
    manifest = write_manifest(
        tmp_path / "m.csv",
        [
            dict(
                ref="AG-45",
                file="a.txt",
                language="en",
                title="Agenda",
                kind="archive",
                type="agenda",
            ),
            dict(ref="AG-46", file="missing.txt", language="en", title="Agenda", kind="archive"),
        ],
    )
    with app.app_context():
        report = imports.import_manifest(system_user(), folder, manifest, dry_run=True)
        assert [r.outcome for r in report.rows] == ["created", "error"]
        assert "would be created" in report.summary()
        assert counts() == (0, 0, 0)
    assert list(BlobStore(app.config["UPLOAD_DIR"])) == []


def test_an_existing_language_version_is_replaced_only_when_asked(app: Flask, import_rows) -> None:
    import_rows(GOOD)
    changed = [dict(GOOD[1], title="Plan de travail révisé", content="Version révisée.")]
    conflict = import_rows(changed)
    assert [r.outcome for r in conflict.rows] == ["conflict"]
    replaced = import_rows(changed, replace=True)
    assert [r.outcome for r in replaced.rows] == ["replaced"]
    with app.app_context():
        french = db.session.scalar(select(Variant).where(Variant.language == "fr"))
        assert french.title == "Plan de travail révisé"
        assert [f.text for f in french.files] == ["Version révisée."]


def test_a_manifest_without_required_columns_is_refused(app: Flask, tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("ref,title\nA,B\n", encoding="utf-8")
    with app.app_context(), pytest.raises(Invalid, match="file, language, kind"):
        imports.import_manifest(system_user(), tmp_path, manifest)


def test_a_manifest_that_is_not_utf8_is_refused(app: Flask, tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_bytes(
        "ref,file,language,title,kind\nA,a.txt,fr,Économie,archive\n".encode("latin-1")
    )
    with app.app_context(), pytest.raises(Invalid, match="not UTF-8"):
        imports.import_manifest(system_user(), tmp_path, manifest)


def test_the_same_file_in_two_records_is_stored_once(app: Flask, import_rows) -> None:
    report = import_rows(
        [
            dict(ref="A", file="a.txt", title="A", content="identical bytes"),
            dict(ref="B", file="b.txt", title="B", content="identical bytes"),
        ]
    )
    assert "same file as A" in report.rows[1].message
    assert len(list(BlobStore(app.config["UPLOAD_DIR"]))) == 1


def _billion_laughs_docx() -> bytes:
    import io
    import zipfile

    # Each entity expands to ten of the one before: a billion "lol"s from a few bytes.
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    document = (
        '<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY lol0 "lol">' + entities + "]>"
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as docx:
        docx.writestr(
            "[Content_Types].xml",
            (
                '<?xml version="1.0"?><Types '
                'xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override '
                'PartName="/word/document.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                "</Types>"
            ),
        )
        docx.writestr("word/document.xml", document)
    return buffer.getvalue()


def test_hostile_files_become_recorded_extraction_errors(app: Flask, import_rows) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Social and solidarity economy " * 20)
    truncated = bytes(pdf.output())[:300]
    report = import_rows(
        [
            dict(ref="TRUNC", file="broken.pdf", title="Truncated", content=truncated),
            dict(ref="BOMB", file="bomb.docx", title="Bomb", content=_billion_laughs_docx()),
        ]
    )
    assert [r.outcome for r in report.rows] == ["created", "created"], [str(r) for r in report.rows]
    assert all("text not extracted" in r.message for r in report.rows)
    with app.app_context():
        files = {f.original_name: f for f in db.session.scalars(select(StoredFile))}
        assert files["broken.pdf"].media_type == "application/pdf"
        assert files["broken.pdf"].extraction_error
        assert files["bomb.docx"].extraction_error
        assert not files["bomb.docx"].text


def test_a_retired_type_or_topic_is_refused_for_new_records(app: Flask, import_rows) -> None:
    from knowledge_hub.models import DocType
    from knowledge_hub.models import Topic

    with app.app_context():
        db.session.scalar(select(DocType).where(DocType.code == "toolkit")).is_active = False
        db.session.scalar(select(Topic).where(Topic.code == "sdg-14")).is_active = False
        db.session.commit()
    report = import_rows(
        [
            dict(ref="T-1", title="Toolkit", type="toolkit", content="text"),
            dict(ref="T-2", title="Oceans", topics="sdg-14", content="text"),
        ]
    )
    assert [r.outcome for r in report.rows] == ["error", "error"]
    assert "retired" in report.rows[0].message and "sdg-14" in report.rows[1].message
