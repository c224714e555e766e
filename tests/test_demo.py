"""The demonstration catalogue loads through the import path, once, and looks like the
Task Force's holdings."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from knowledge_hub import seed
from knowledge_hub.extensions import db
from knowledge_hub.models import AccessLevel
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import StoredFile

DEMO_FILES = Path(__file__).resolve().parents[1] / "knowledge_hub" / "demo" / "files"


@pytest.mark.slow
def test_the_demo_loads_once_and_everything_in_it_is_searchable(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        seed.criteria(db.session)  # the demo passes the real release gate
        db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["hub", "demo"])
    assert first.exit_code == 0, first.output
    assert "0 errors" in first.output
    assert "0 not released" in first.output, first.output
    assert "already loaded" in runner.invoke(args=["hub", "demo"]).output

    with app.app_context():
        documents = db.session.scalars(select(Document)).all()
        assert len(documents) >= 40
        assert all(d.is_sample and d.status == DocumentStatus.RELEASED for d in documents)
        languages = Counter(len(d.variants) for d in documents)
        assert sum(n for size, n in languages.items() if size >= 2) >= 10
        six = [
            d
            for d in documents
            if {v.language for v in d.variants} >= {"ar", "zh", "en", "fr", "ru", "es"}
        ]
        assert len(six) >= 3
        types = Counter(f.media_type for f in db.session.scalars(select(StoredFile)))
        assert len(types) >= 5
        assert all(
            f.text and not f.extraction_error for f in db.session.scalars(select(StoredFile))
        )
        # Markdown is stored as its text, without the markup.
        markdown = db.session.scalars(
            select(StoredFile).where(StoredFile.media_type == "text/markdown")
        ).all()
        assert len(markdown) >= 10
        for stored in markdown:
            marked = [line for line in stored.text.splitlines() if line.startswith(("#", "- "))]
            assert not marked, stored.original_name
        markdown_versions = {(f.variant.document.ref, f.variant.language) for f in markdown}
        public = [d for d in documents if d.access == AccessLevel.PUBLIC]
        kinds = Counter(d.doc_type.code for d in public)
        assert {
            "position-paper",
            "awareness-package",
            "case-study",
            "meeting-minutes",
            "agenda",
        } <= set(kinds)
        sample_id = public[0].id
        six_ref = six[0].ref

    everything = client.get("/api/search", query_string={"per_page": 100}).get_json()
    assert everything["total"] == len(public)
    landing = client.get(f"/documents/{sample_id}").get_data(as_text=True)
    assert "Sample record written for the demonstration catalogue" in landing
    for query in (
        "社会和团结经济",
        "الاقتصاد الاجتماعي والتضامني",
        "социальная и солидарная экономика",
        "économie sociale et solidaire",
    ):
        refs = [
            r["ref"]
            for r in client.get(
                "/api/search", query_string={"q": query, "per_page": 100}
            ).get_json()["results"]
        ]
        assert six_ref in refs, query

    # The search snippets cut from the Markdown files' text show no markup either.
    snippets = []
    for path in sorted(DEMO_FILES.rglob("*.md")):
        heading = next(
            line[3:] for line in path.read_text(encoding="utf-8").splitlines() if line[:3] == "## "
        )
        found = client.get("/api/search", query_string={"q": heading, "per_page": 100}).get_json()
        snippets += [
            r["snippet"]
            for r in found["results"]
            if r["snippet"] and (r["ref"], r["matched_language"]) in markdown_versions
        ]
    assert len(snippets) >= 10
    assert any("<mark>" in s for s in snippets)
    assert not [s for s in snippets if "##" in s or re.search(r"(?m)^\s*- ", s)]
