"""The vocabularies administrators manage: document types and topics (the seeded entries
and their labels are in `knowledge_hub.i18n.vocabularies`)."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub import access
from knowledge_hub.extensions import db
from knowledge_hub.models import DocType
from knowledge_hub.models import Topic
from knowledge_hub.models import User
from knowledge_hub.services import NotFound
from knowledge_hub.services import audit
from knowledge_hub.services import invalid
from knowledge_hub.services import race_safe
from knowledge_hub.services import transaction

#: Codes of document types and topics: lowercase words joined by hyphens.
VOCABULARY_CODE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

VOCABULARIES: dict[str, type[DocType] | type[Topic]] = {"types": DocType, "topics": Topic}


def _vocabulary_model(vocabulary: str) -> type[DocType] | type[Topic]:
    try:
        return VOCABULARIES[vocabulary]
    except KeyError:
        raise NotFound(_("There is no such vocabulary.")) from None


def _label(label: str) -> str:
    label = label.strip()
    if not label:
        raise invalid("label", _("The label is missing."))
    if len(label) > 200:
        raise invalid("label", _("The label is longer than 200 characters."))
    return label


@race_safe
def add_vocabulary_entry(actor: User, vocabulary: str, code: str, label: str) -> DocType | Topic:
    """Add a document type or a topic at the end of its list."""
    access.require(actor, "manage_vocabularies")
    model = _vocabulary_model(vocabulary)
    with transaction() as session:
        code = code.strip().lower()
        if not VOCABULARY_CODE.fullmatch(code) or len(code) > 40:
            raise invalid(
                "code",
                _(
                    "The code must be lowercase letters and digits, words joined by hyphens "
                    "(like policy-brief), at most 40 characters."
                ),
            )
        if session.scalar(select(model.id).where(model.code == code)) is not None:
            raise invalid("code", _("The code %(code)s is already used.", code=code))
        last = session.scalar(select(func.max(model.position))) or 0
        entry = model(code=code, label=_label(label), position=last + 1, is_active=True)
        session.add(entry)
        session.flush()
        audit(
            actor,
            "add_vocabulary_entry",
            entry,
            vocabulary=vocabulary,
            after={"code": code, "label": entry.label},
        )
        return entry


def _vocabulary_entry(vocabulary: str, entry_id: int) -> DocType | Topic:
    entry = db.session.get(_vocabulary_model(vocabulary), entry_id)
    if entry is None:
        raise NotFound(_("There is no such entry."))
    return entry


def relabel_vocabulary_entry(actor: User, vocabulary: str, entry_id: int, label: str) -> bool:
    """Change the label of a document type or topic (its code stays); False if unchanged."""
    access.require(actor, "manage_vocabularies")
    with transaction():
        entry = _vocabulary_entry(vocabulary, entry_id)
        label = _label(label)
        if entry.label == label:
            return False
        before = entry.label
        entry.label = label
        audit(
            actor,
            "relabel_vocabulary_entry",
            entry,
            vocabulary=vocabulary,
            code=entry.code,
            before={"label": before},
            after={"label": label},
        )
        return True


def set_vocabulary_entry_active(actor: User, vocabulary: str, entry_id: int, active: bool) -> bool:
    """Retire a document type or topic (it stays on records) or restore it; False if already so."""
    access.require(actor, "manage_vocabularies")
    with transaction():
        entry = _vocabulary_entry(vocabulary, entry_id)
        if entry.is_active == active:
            return False
        entry.is_active = active
        audit(
            actor,
            "restore_vocabulary_entry" if active else "retire_vocabulary_entry",
            entry,
            vocabulary=vocabulary,
            code=entry.code,
            before={"is_active": not active},
            after={"is_active": active},
        )
        return True
