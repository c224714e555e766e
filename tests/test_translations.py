"""Translations as language versions: requests, claims, review, and staleness."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import AuditEvent
from knowledge_hub.models import Document
from knowledge_hub.models import RequestStatus
from knowledge_hub.models import User
from knowledge_hub.models import VariantStatus
from knowledge_hub.services import Invalid
from knowledge_hub.services import NotAllowed
from knowledge_hub.services import ReleaseRefused
from knowledge_hub.services import documents
from knowledge_hub.services import translations
from tests.test_search import UDHR_FILES
from tests.test_search import udhr_as_html

FRENCH = (
    "L'économie sociale et solidaire rassemble des coopératives, des mutuelles, des associations "
    "et des entreprises sociales qui placent les personnes et la planète avant le profit. Cette "
    "note explique comment les collectivités locales peuvent les soutenir par la commande publique."
)


@pytest.fixture
def udhr_record(import_rows) -> None:
    rows = []
    for language in UDHR_FILES:
        title, html = udhr_as_html(language)
        rows.append(
            dict(
                ref="UDHR",
                file=f"udhr-{language}.html",
                language=language,
                title=title,
                kind="publication",
                type="other",
                date="1948-12-10",
                content=html,
            )
        )
    # English first: the original.
    rows.sort(key=lambda r: r["language"] != "en")
    assert import_rows(rows).failed == 0


@pytest.mark.slow
def test_changing_the_english_file_flags_the_other_five(
    app: Flask, import_rows, udhr_record
) -> None:
    with app.app_context():
        document = db.session.scalar(select(Document))
        assert not any(v.is_out_of_date for v in document.variants)
    title, html = udhr_as_html("en")
    report = import_rows(
        [
            dict(
                ref="UDHR",
                file="udhr-en-2.html",
                language="en",
                title=title,
                kind="publication",
                content=html.replace("Article", "Art."),
            )
        ],
        replace=True,
    )
    assert [r.outcome for r in report.rows] == ["replaced"]
    with app.app_context():
        document = db.session.scalar(select(Document))
        stale = sorted(v.language for v in document.variants if v.is_out_of_date)
        assert stale == ["ar", "es", "fr", "ru", "zh"]


@pytest.mark.slow
def test_the_arabic_version_renders_right_to_left(app: Flask, client, udhr_record) -> None:
    with app.app_context():
        document_id = db.session.scalar(select(Document.id))
    html = client.get(f"/documents/{document_id}?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert '<h1 id="record-title" lang="ar" dir="rtl">' in html


def _user(app: Flask, email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


@pytest.mark.slow
def test_request_claim_submit_send_back_resubmit_approve(
    app: Flask, criteria, import_rows, make_user
) -> None:
    from tests.test_review import ATTESTATIONS
    from tests.test_review import PUBLICATION

    assert import_rows([PUBLICATION], release=False).failed == 0
    editor = make_user("staff", "reviewer")
    staff, french, spanish, reviewer = (
        make_user("staff"),
        make_user("translator", languages=("fr",)),
        make_user("translator", languages=("es",)),
        make_user("reviewer"),
    )
    with app.app_context():
        document = db.session.scalar(select(Document))
        for code in ATTESTATIONS:
            from knowledge_hub.services import review

            review.attest(_user(app, reviewer), document, code, True)
        review.release(_user(app, reviewer), document)
        [request] = translations.request_translations(
            _user(app, staff), document, ["fr"], note="For the 48th meeting"
        )
        # Asking again does not make a second request.
        assert translations.request_translations(_user(app, staff), document, ["fr"]) == []
        with pytest.raises(NotAllowed):
            translations.claim(_user(app, spanish), request)
        with pytest.raises(NotAllowed):
            translations.request_translations(_user(app, french), document, ["es"])
        translations.claim(_user(app, french), request)
        with pytest.raises(NotAllowed):
            translations.submit(_user(app, spanish), request, "x", "y", [])
        with pytest.raises(Invalid, match="translated file"):
            translations.submit(_user(app, french), request, "Titre", "Résumé", [])
        variant = translations.submit(
            _user(app, french),
            request,
            "Les collectivités locales et l'économie sociale et solidaire",
            "Comment les collectivités locales soutiennent les coopératives.",
            [("note-fr.txt", io.BytesIO(FRENCH.encode()))],
        )
        assert (
            variant.status == VariantStatus.IN_REVIEW and request.status == RequestStatus.SUBMITTED
        )
        with pytest.raises(ReleaseRefused, match="second speaker"):
            translations.approve(_user(app, reviewer), variant)
        translations.send_back(
            _user(app, reviewer), variant, "Use « collectivités territoriales »."
        )
        assert request.status == RequestStatus.CLAIMED and variant.status == VariantStatus.SENT_BACK
        translations.submit(
            _user(app, french),
            request,
            "Les collectivités territoriales et l'ESS",
            "Comment les collectivités territoriales soutiennent les coopératives.",
            [],
        )
        translations.attest_translation(
            _user(app, reviewer), variant, "second_speaker_review", True, "Read by M. Diallo"
        )
        translations.approve(_user(app, reviewer), variant)
        assert variant.status == VariantStatus.APPROVED and request.status == RequestStatus.DONE
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        for step in (
            "request_translation",
            "claim_translation",
            "submit_translation",
            "send_back_translation",
            "check",
            "approve_translation",
        ):
            assert step in actions
        # Editing the original's summary (a released record's: by someone who may release
        # it) makes the translation out of date …
        documents.edit_variant(
            _user(app, editor),
            document.original,
            document.original.title,
            "A new summary of the brief, longer and clearer than before.",
        )
        assert variant.is_out_of_date
        # … until a reviewer confirms it still holds.
        translations.confirm_current(_user(app, reviewer), variant, "Only a typo changed.")
        assert not variant.is_out_of_date


@pytest.mark.slow
def test_the_coverage_csv_of_the_demo_matches_the_database(app: Flask, criteria, make_user) -> None:
    import csv

    from knowledge_hub.models import TranslationRequest
    from knowledge_hub.services import setup
    from tests.conftest import sign_in

    staff_email, translator_email = make_user("staff"), make_user("translator", languages=("ru",))
    with app.app_context():
        assert setup.load_demo() is not None
        staff, translator = _user(app, staff_email), _user(app, translator_email)
        documents_by_ref = {d.ref: d for d in db.session.scalars(select(Document))}
        missing_ru = [d for d in documents_by_ref.values() if d.variant_in("ru") is None][:2]
        translations.request_translations(staff, missing_ru[0], ["ru", "zh"])
        [claimed] = translations.request_translations(staff, missing_ru[1], ["ru"])
        translations.claim(translator, claimed)

        expected = {}
        requests = db.session.scalars(select(TranslationRequest)).all()
        for ref, document in documents_by_ref.items():
            row = {}
            for language in ("ar", "zh", "en", "fr", "ru", "es"):
                variant = document.variant_in(language)
                request = next(
                    (
                        r
                        for r in requests
                        if r.document_id == document.id and r.language == language
                    ),
                    None,
                )
                if variant is not None and variant.is_original:
                    row[language] = "original"
                elif request is not None:
                    row[language] = {"open": "requested", "claimed": "claimed"}[
                        request.status.value
                    ]
                elif variant is not None:
                    row[language] = (
                        "released" if document.status.value == "released" else "approved"
                    )
                else:
                    row[language] = "missing"
            expected[ref] = row

    client = app.test_client()
    sign_in(client, staff_email)
    response = client.get("/translations/coverage.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["ref"] for r in rows} == set(expected)
    for row in rows:
        assert {lang: row[lang] for lang in ("ar", "zh", "en", "fr", "ru", "es")} == expected[
            row["ref"]
        ], row["ref"]
    states = {cell for r in expected.values() for cell in r.values()}
    assert {"original", "released", "requested", "claimed", "missing"} <= states
