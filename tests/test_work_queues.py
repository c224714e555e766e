"""The reviewers' work queue: records and translations waiting, the longest waiting
first, a count in the menu, and the drafts a reviewer sent back with the reason."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import Variant
from knowledge_hub.services import review
from knowledge_hub.services import users
from tests.conftest import sign_in


def row(ref: str, title: str, language: str = "en", **more: str) -> dict[str, str]:
    return dict(
        ref=ref,
        file=f"{ref}-{language}.txt",
        language=language,
        kind="publication",
        title=title,
        summary="A brief on cooperatives and the social and solidarity economy.",
        type="policy-brief",
        date="2024-02",
        organizations="ILO",
        content=f"{title}. Cooperatives and mutual societies in the social economy. " * 5,
        **more,
    )


def build_queue(app: Flask, import_rows) -> None:
    report = import_rows(
        [
            row("WQ-NEWER", "Newer brief on cooperatives"),
            row("WQ-OLDER", "Older brief on mutual societies"),
            row("WQ-DRAFT", "Draft brief sent back"),
            row("WQ-OLDER", "Note plus ancienne sur les mutuelles", language="fr"),
        ],
        release=False,
    )
    assert report.failed == 0
    with app.app_context():
        actor = users.system_user()
        documents = {d.ref: d for d in db.session.scalars(select(Document))}
        for ref in ("WQ-NEWER", "WQ-OLDER", "WQ-DRAFT"):
            review.submit_for_review(actor, documents[ref])
        review.send_back(actor, documents["WQ-DRAFT"], "Add the UN disclaimer on page 2.")
        # The older record has waited a day longer than the newer one.
        older, newer = documents["WQ-OLDER"], documents["WQ-NEWER"]
        older.updated_at = newer.updated_at - timedelta(days=1)
        db.session.commit()


@pytest.mark.slow
def test_a_waiting_translation_shows_on_the_review_page_and_in_the_menu(
    app: Flask, criteria, import_rows, make_user
) -> None:
    build_queue(app, import_rows)
    reviewer = app.test_client()
    sign_in(reviewer, make_user("reviewer"))
    page = reviewer.get("/review/?lang=en").get_data(as_text=True)

    translations = page[page.index('id="translations"') : page.index('id="draft"')]
    assert "Translations waiting for review <span" in translations
    assert "(1)" in translations
    with app.app_context():
        french = db.session.scalar(select(Variant).where(Variant.language == "fr"))
        link = f"/translations/review/{french.document_id}/fr"
    assert link in translations and "Note plus ancienne sur les mutuelles" in translations
    assert 'href="/translations/review/"' in translations

    # Oldest first: the record that waited longest is reviewed first.
    records = page[page.index('id="in_review"') : page.index('id="translations"')]
    assert records.index("WQ-OLDER") < records.index("WQ-NEWER")
    assert "WQ-DRAFT" not in records

    # The menu counts two records and one translation.
    menu = re.search(r'href="/review/">(.*?)</a>', page, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", menu).split() == ["Review", "3", "waiting"]


@pytest.mark.slow
def test_a_draft_sent_back_says_why(app: Flask, criteria, import_rows, make_user) -> None:
    build_queue(app, import_rows)
    staff = app.test_client()
    sign_in(staff, make_user("staff"))
    page = staff.get("/review/?lang=en").get_data(as_text=True)
    drafts = page[page.index('id="draft"') :]
    assert "WQ-DRAFT" in drafts
    assert "Sent back:</strong>" in drafts and "Add the UN disclaimer on page 2." in drafts


def test_no_count_for_readers_and_none_when_nothing_waits(app: Flask, criteria, make_user) -> None:
    reader = app.test_client()
    assert 'href="/review/"' not in reader.get("/").get_data(as_text=True)
    reviewer = app.test_client()
    sign_in(reviewer, make_user("reviewer"))
    page = reviewer.get("/?lang=en").get_data(as_text=True)
    menu = re.search(r'href="/review/">(.*?)</a>', page, re.S).group(1)
    assert menu == "Review"
