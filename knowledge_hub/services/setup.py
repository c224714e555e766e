"""Creating or upgrading an installation, and loading the demonstration catalogue."""

from __future__ import annotations

import csv
from pathlib import Path

from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import select
from sqlalchemy import update

from knowledge_hub import search
from knowledge_hub import seed
from knowledge_hub.extensions import db
from knowledge_hub.field_values import split_list
from knowledge_hub.models import Document
from knowledge_hub.models import Meeting
from knowledge_hub.models import User
from knowledge_hub.services import ServiceError
from knowledge_hub.services import deferred_indexing
from knowledge_hub.services import documents
from knowledge_hub.services import imports
from knowledge_hub.services import meetings
from knowledge_hub.services import review
from knowledge_hub.services import transaction
from knowledge_hub.services.users import system_user

DEMO_FOLDER = Path(__file__).resolve().parent.parent / "demo"
SAMPLE_ATTESTATION = "Sample record: attested for the demonstration catalogue."


def initialize() -> None:
    """Create or upgrade the database, the vocabularies and the index. Again is harmless."""
    Path(current_app.instance_path).mkdir(parents=True, exist_ok=True)
    upgrade(directory=str(current_app.config["MIGRATIONS_DIR"]))
    with transaction() as session:
        seed.vocabularies(session)
        seed.criteria(session)
    index = search.get_index()
    index.ix  # creates the index folder on first run  # noqa: B018
    if not index.schema_is_current():
        # An upgrade changed what the index holds: searches would miss what the old
        # generation lacks until it is rebuilt.
        search.reindex()


def demo_is_loaded() -> bool:
    return db.session.scalar(select(Document.id).where(Document.is_sample).limit(1)) is not None


def load_demo(progress: imports.ProgressCallback | None = None) -> imports.ImportReport | None:
    """Import and release the demonstration catalogue, unless it is there already."""
    if demo_is_loaded():
        return None
    manifest = DEMO_FOLDER / "manifest.csv"
    actor = system_user()
    _record_demo_meetings(actor)
    with deferred_indexing():
        report = imports.import_manifest(actor, DEMO_FOLDER / "files", manifest, progress=progress)
        refs = list(dict.fromkeys(row.ref for row in report.rows))
        with transaction() as session:
            session.execute(update(Document).where(Document.ref.in_(refs)).values(is_sample=True))
        for ref in refs:
            _attest_and_release_sample(actor, ref, report)
    return report


def _record_demo_meetings(actor: User) -> None:
    """Record the meetings the demonstration manifest names, from demo/meetings.csv (the
    facts known of each; an unknown one is left empty), unless recorded already."""
    with open(DEMO_FOLDER / "meetings.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    recorded = set(db.session.scalars(select(Meeting.number)))
    for row in rows:
        if int(row["number"]) in recorded:
            continue
        meetings.create_meeting(
            actor,
            meetings.MeetingFields(
                number=row["number"],
                held_on=row["date"],
                place=row["place"],
                is_virtual=row["online"] == "yes",
                participants_count=row["participants"],
                members_present=split_list(row["members_present"]),
                observers_present=split_list(row["observers_present"]),
            ),
        )


def _attest_and_release_sample(actor: User, ref: str, report: imports.ImportReport) -> None:
    """Put a sample record through the gate, its attestations made for the demonstration."""
    document = documents.find_by_ref(ref)
    if document is None:
        return
    for spec in review.criteria_specs():
        if spec.kind == "attestation" and document.kind.value in spec.applies_to:
            review.attest(actor, document, spec.code, True, SAMPLE_ATTESTATION)
    try:
        review.release(actor, document)
    except ServiceError as e:
        report.not_released[ref] = str(e)
    else:
        report.released.append(ref)
