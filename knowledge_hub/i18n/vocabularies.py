"""The words every hub starts with: the seeded vocabularies, the first criteria set and
the fixed values, each a code and its label.

One catalogue for both readers of it: `hub init` stores the English labels
(`knowledge_hub.seed`), and the interface shows them in the reader's language through
the functions at the end. Each label is marked with `N_`: as a string it is the English
label, and its message id is what the translation catalogues in `translations/` know.
An entry an administrator added or relabelled shows the label the database has, since
no catalogue can know it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from babel.support import Translations

from knowledge_hub.config import PROJECT_ROOT
from knowledge_hub.extraction import media
from knowledge_hub.i18n import current_locale
from knowledge_hub.i18n.messages import N_
from knowledge_hub.i18n.messages import Message
from knowledge_hub.i18n.messages import translate

if TYPE_CHECKING:
    from knowledge_hub.criteria import GateResult

#: Document types, in the order forms list them.
DOC_TYPES: dict[str, Message] = {
    "report": N_("Report"),
    "position-paper": N_("Position paper"),
    "policy-brief": N_("Policy brief"),
    "working-paper": N_("Working paper"),
    "guide": N_("Guide"),
    "toolkit": N_("Toolkit"),
    "awareness-package": N_("Awareness package"),
    "case-study": N_("Case study"),
    "meeting-minutes": N_("Meeting minutes"),
    "agenda": N_("Agenda"),
    "session-notes": N_("Session notes"),
    "workplan": N_("Workplan"),
    "presentation": N_("Presentation"),
    "correspondence": N_("Correspondence"),
    "other": N_("Other"),
}

#: The eight issue areas of the Task Force's 2014 position paper, then recurring themes.
SSE_TOPICS: dict[str, Message] = {
    "informal-economy": N_("Transition from the informal economy to decent work"),
    "green-economy": N_("Greening the economy and society"),
    "local-development": N_("Local economic development"),
    "sustainable-cities": N_("Sustainable cities and human settlements"),
    "womens-empowerment": N_("Women's well-being and empowerment"),
    "food-security": N_("Food security and smallholder empowerment"),
    "health-coverage": N_("Universal health coverage"),
    "transformative-finance": N_("Transformative finance"),
    "cooperatives": N_("Cooperatives and mutual organizations"),
    "legal-frameworks": N_("Public policies and legal frameworks for SSE"),
    "statistics": N_("Statistics and measurement of SSE"),
    "digital-economy": N_("SSE and the digital economy"),
}

#: The Sustainable Development Goals by their official short names, as topics.
SDGS: dict[str, Message] = {
    "sdg-1": N_("SDG 1: No poverty"),
    "sdg-2": N_("SDG 2: Zero hunger"),
    "sdg-3": N_("SDG 3: Good health and well-being"),
    "sdg-4": N_("SDG 4: Quality education"),
    "sdg-5": N_("SDG 5: Gender equality"),
    "sdg-6": N_("SDG 6: Clean water and sanitation"),
    "sdg-7": N_("SDG 7: Affordable and clean energy"),
    "sdg-8": N_("SDG 8: Decent work and economic growth"),
    "sdg-9": N_("SDG 9: Industry, innovation and infrastructure"),
    "sdg-10": N_("SDG 10: Reduced inequalities"),
    "sdg-11": N_("SDG 11: Sustainable cities and communities"),
    "sdg-12": N_("SDG 12: Responsible consumption and production"),
    "sdg-13": N_("SDG 13: Climate action"),
    "sdg-14": N_("SDG 14: Life below water"),
    "sdg-15": N_("SDG 15: Life on land"),
    "sdg-16": N_("SDG 16: Peace, justice and strong institutions"),
    "sdg-17": N_("SDG 17: Partnerships for the goals"),
}

PUBLICATION, ARCHIVE, TRANSLATION = "publication", "archive", "translation"


@dataclass(frozen=True)
class SeededCriterion:
    code: str
    label: Message
    help_text: Message
    kind: str  # "automatic" (checked by the hub) or "attestation" (a reviewer's word)
    applies_to: tuple[str, ...]


#: The first criteria set, from the Task Force's draft publication criteria. Archives get
#: the automatic criteria only; admins edit the set afterwards.
CRITERIA: list[SeededCriterion] = [
    SeededCriterion(
        "metadata_complete",
        N_("Metadata complete"),
        N_("Title, summary, date, type, at least one organization and one topic."),
        "automatic",
        (PUBLICATION, ARCHIVE),
    ),
    SeededCriterion(
        "text_extracted",
        N_("A file whose text could be extracted"),
        N_(
            "The original language version has a file, and its text was extracted, so that it "
            "can be found by its words."
        ),
        "automatic",
        (PUBLICATION, ARCHIVE),
    ),
    SeededCriterion(
        "language_matches",
        N_("Declared language matches the text"),
        N_(
            "The language detected in the text of the original version is the language declared "
            "for it."
        ),
        "automatic",
        (PUBLICATION, ARCHIVE),
    ),
    SeededCriterion(
        "summary_length",
        N_("Summary of suitable length"),
        N_("The summary has between 50 and 1,500 characters."),
        "automatic",
        (PUBLICATION, ARCHIVE),
    ),
    SeededCriterion(
        "no_duplicate",
        N_("Not a duplicate of another record"),
        N_("No file of the record is already held by another record (same SHA-256)."),
        "automatic",
        (PUBLICATION, ARCHIVE),
    ),
    SeededCriterion(
        "mandate_alignment",
        N_("Aligned with the UNTFSSE mandate and A/RES/77/281"),
        N_(
            "The content is consistent with the Task Force's mandate and the General Assembly "
            "resolution 'Promoting the Social and Solidarity Economy for Sustainable "
            "Development'."
        ),
        "attestation",
        (PUBLICATION,),
    ),
    SeededCriterion(
        "member_review",
        N_("Reviewed by at least two member organizations"),
        N_(
            "At least two member organizations of the Task Force reviewed the text; name them in "
            "the comment."
        ),
        "attestation",
        (PUBLICATION,),
    ),
    SeededCriterion(
        "un_disclaimer",
        N_("UN disclaimer present"),
        N_("The publication carries the standard United Nations disclaimer."),
        "attestation",
        (PUBLICATION,),
    ),
    SeededCriterion(
        "logo_use",
        N_("Logo use approved"),
        N_("Use of the UN, Task Force and member logos was approved."),
        "attestation",
        (PUBLICATION,),
    ),
    SeededCriterion(
        "copyright_cleared",
        N_("Copyright and license cleared"),
        N_("Rights to publish every part were cleared and the license is stated."),
        "attestation",
        (PUBLICATION,),
    ),
    SeededCriterion(
        "accessible_format",
        N_("Accessible format"),
        N_(
            "The file is accessible: tagged PDF or structured document, text alternatives for "
            "figures."
        ),
        "attestation",
        (PUBLICATION,),
    ),
    SeededCriterion(
        "second_speaker_review",
        N_("Reviewed by a second speaker of the language"),
        N_("A second speaker of the target language reviewed the translation."),
        "attestation",
        (TRANSLATION,),
    ),
    SeededCriterion(
        "title_summary_translated",
        N_("Title and summary translated"),
        N_("The language version has its own translated title and summary."),
        "automatic",
        (TRANSLATION,),
    ),
    SeededCriterion(
        "translation_language_matches",
        N_("Detected language matches"),
        N_("The text of the translation reads as the language declared for it."),
        "automatic",
        (TRANSLATION,),
    ),
    SeededCriterion(
        "translation_text_extracted",
        N_("Translated file with extractable text"),
        N_("The language version has a file whose text could be extracted."),
        "automatic",
        (TRANSLATION,),
    ),
]

#: A record's or a language version's status.
STATUSES: dict[str, Message] = {
    "draft": N_("Draft"),
    "in_review": N_("In review"),
    "released": N_("Released"),
    "withdrawn": N_("Withdrawn"),
    "submitted": N_("Submitted"),
    "approved": N_("Approved"),
    "sent_back": N_("Sent back"),
}

KINDS: dict[str, Message] = {"publication": N_("Publication"), "archive": N_("Archive")}

ACCESS_LEVELS: dict[str, Message] = {
    "public": N_("Public"),
    "members": N_("Members"),
    "internal": N_("Internal"),
}

#: What a stored file is, by media type, in the words people know it by.
FILE_TYPES: dict[str, Message] = {
    media.PDF: N_("PDF"),
    media.DOCX: N_("Word document"),
    media.DOC: N_("Word 97–2003 document"),
    media.XLSX: N_("Excel workbook"),
    media.XLS: N_("Excel 97–2003 workbook"),
    media.PPTX: N_("PowerPoint presentation"),
    media.PPT: N_("PowerPoint 97–2003 presentation"),
    media.ODT: N_("OpenDocument text"),
    media.ODS: N_("OpenDocument spreadsheet"),
    media.ODP: N_("OpenDocument presentation"),
    media.HTML: N_("Web page (HTML)"),
    media.PLAIN: N_("Plain text"),
    media.MARKDOWN: N_("Markdown text"),
    media.RTF: N_("Rich Text (RTF)"),
    media.EPUB: N_("EPUB e-book"),
    media.PNG: N_("PNG image"),
    media.JPEG: N_("JPEG image"),
    media.TIFF: N_("TIFF image"),
}

#: The latest check of a criterion on a checklist, by its outcome and who made it.
CHECK_OUTCOMES: dict[str, Message] = {
    "pass": N_("Attested by %(name)s"),
    "fail": N_("Refused by %(name)s"),
    "waived": N_("Waived by %(name)s"),
}

#: What the audit log records, by action code: the log shows the words, and keeps the
#: code for filtering and for the CSV.
AUDIT_ACTIONS: dict[str, Message] = {
    "accept_invitation": N_("Accepted an invitation"),
    "add_criterion": N_("Added a criterion"),
    "add_organization": N_("Added an organization"),
    "add_vocabulary_entry": N_("Added a vocabulary entry"),
    "approve_translation": N_("Approved a translation"),
    "change_password": N_("Changed the password"),
    "check": N_("Attested a criterion"),
    "claim_translation": N_("Claimed a translation"),
    "confirm_translation": N_("Confirmed a translation as current"),
    "create": N_("Created a record"),
    "create_token": N_("Created an API token"),
    "disable_user": N_("Disabled an account"),
    "edit": N_("Edited"),
    "enable_user": N_("Enabled an account"),
    "invite_user": N_("Invited a person"),
    "login": N_("Signed in"),
    "logout": N_("Signed out"),
    "move_criterion": N_("Moved a criterion"),
    "ocr": N_("Read scanned pages with OCR"),
    "reextract": N_("Read a file's text again"),
    "relabel_vocabulary_entry": N_("Relabelled a vocabulary entry"),
    "release": N_("Released a record"),
    "release_claim": N_("Gave a translation back"),
    "remove_file": N_("Removed a file"),
    "request_translation": N_("Requested a translation"),
    "requeue_ocr": N_("Queued a file for OCR again"),
    "request_password_reset": N_("Asked for a new password by mail"),
    "reset_password": N_("Set a new password with a link sent by mail"),
    "reset_user": N_("Reset an account"),
    "restore_criterion": N_("Restored a criterion"),
    "restore_vocabulary_entry": N_("Restored a vocabulary entry"),
    "retire_criterion": N_("Retired a criterion"),
    "retire_vocabulary_entry": N_("Retired a vocabulary entry"),
    "reviewed_change": N_("Changed a reviewed field"),
    "create_meeting": N_("Recorded a meeting"),
    "update_meeting": N_("Changed a meeting"),
    "revoke_token": N_("Revoked an API token"),
    "send_back": N_("Sent back to the secretariat"),
    "send_back_translation": N_("Sent a translation back"),
    "submit_for_review": N_("Sent to review"),
    "submit_translation": N_("Delivered a translation"),
    "update_criterion": N_("Changed a criterion"),
    "update_organization": N_("Changed an organization"),
    "update_user": N_("Changed an account"),
    "upload": N_("Uploaded a file"),
    "waive": N_("Waived a criterion"),
    "withdraw": N_("Withdrew a record"),
}

#: What an audit event is about, by the name the log records (the model, lower case).
AUDIT_OBJECTS: dict[str, Message] = {
    "apitoken": N_("API token"),
    "criteriasetversion": N_("criteria set"),
    "criterion": N_("criterion"),
    "criterioncheck": N_("attestation"),
    "doctype": N_("document type"),
    "document": N_("record"),
    "hub": N_("the hub"),
    "meeting": N_("meeting"),
    "organization": N_("organization"),
    "region": N_("region"),
    "storedfile": N_("file"),
    "topic": N_("topic"),
    "translationrequest": N_("translation request"),
    "user": N_("account"),
    "variant": N_("language version"),
}

#: The names of what an audit event keeps, by key (metadata snapshots included).
AUDIT_DETAILS: dict[str, Message] = {
    "access": N_("access"),
    "acronym": N_("acronym"),
    "after": N_("after"),
    "applies_to": N_("applies to"),
    "authors": N_("authors"),
    "date": N_("date"),
    "help_text": N_("help text"),
    "is_active": N_("active"),
    "is_required": N_("required"),
    "kind": N_("kind"),
    "label": N_("label"),
    "languages": N_("languages"),
    "organization": N_("organization"),
    "organizations": N_("organizations"),
    "original_language": N_("original language"),
    "ref": N_("reference"),
    "regions": N_("regions"),
    "roles": N_("roles"),
    "series": N_("series"),
    "topics": N_("topics"),
    "type": N_("type"),
    "url": N_("web address"),
    "before": N_("before"),
    "code": N_("code"),
    "comment": N_("comment"),
    "criteria_version": N_("criteria set version"),
    "criterion": N_("criterion"),
    "due_on": N_("due on"),
    "email": N_("e-mail"),
    "extraction_error": N_("extraction error"),
    "fields": N_("fields"),
    "is_original": N_("original"),
    "language": N_("language"),
    "media_type": N_("file type"),
    "name": N_("name"),
    "outcome": N_("outcome"),
    "reason": N_("reason"),
    "revoked_tokens": N_("tokens revoked"),
    "sha256": N_("SHA-256"),
    "size": N_("size"),
    "summary": N_("summary"),
    "text_length": N_("text length"),
    "title": N_("title"),
    "token_id": N_("token"),
    "version": N_("version"),
    "vocabulary": N_("vocabulary"),
    "number": N_("number"),
    "held_on": N_("date held"),
    "place": N_("place"),
    "is_virtual": N_("online"),
    "participants_count": N_("participants"),
    "members_present": N_("members present"),
    "observers_present": N_("observers present"),
    "meeting": N_("meeting"),
}

_TOPICS = SSE_TOPICS | SDGS
_CRITERIA = {c.code: c for c in CRITERIA}


def _seeded(label: Message | None, stored: str | None) -> str:
    """The catalogue's label in the reader's language, unless the database's label is not
    the seeded English one (an administrator relabelled the entry, or added it)."""
    if label is None or (stored and stored != str(label)):
        return stored or ""
    return translate(label)


def type_label(code: str, stored: str | None = None) -> str:
    """A document type's label: the catalogue's for a seeded type, else the database's."""
    return _type_label(code, stored, current_locale())


# Labels are asked for on every result and facet value; for a code, a database label
# and a locale the answer never changes.
@lru_cache(maxsize=2048)
def _type_label(code: str, stored: str | None, locale: str) -> str:
    return _seeded(DOC_TYPES.get(code), stored) or code


def topic_label(code: str, stored: str | None = None) -> str:
    """A topic's (or SDG's) label: the catalogue's for a seeded topic, else the database's."""
    return _topic_label(code, stored, current_locale())


@lru_cache(maxsize=2048)
def _topic_label(code: str, stored: str | None, locale: str) -> str:
    return _seeded(_TOPICS.get(code), stored) or code


def criterion_label(code: str, stored: str | None = None) -> str:
    """A criterion's label: the catalogue's for a seeded criterion, else the database's."""
    seeded = _CRITERIA.get(code)
    return _seeded(seeded.label if seeded else None, stored) or code


def missing_labels(result: GateResult) -> list[str]:
    """The labels of a checklist's unmet required criteria (criteria.GateResult), in the
    reader's language."""
    return [
        criterion_label(item.spec.code, item.spec.label)
        for item in result.items
        if item.spec.is_required and not item.satisfied
    ]


def criterion_help(code: str, stored: str | None = None) -> str:
    """A criterion's help text: the catalogue's for a seeded one, else the database's."""
    seeded = _CRITERIA.get(code)
    return _seeded(seeded.help_text if seeded else None, stored) or code


def status_label(value: object) -> str:
    """A record's or a language version's status, as a word."""
    return _fixed(STATUSES, value)


def kind_label(value: object) -> str:
    return _fixed(KINDS, value)


def access_label(value: object) -> str:
    return _fixed(ACCESS_LEVELS, value)


def _fixed(labels: dict[str, Message], value: object) -> str:
    value = str(value)
    return translate(labels[value]) if value in labels else value


def audit_action_label(code: str) -> str:
    return _fixed(AUDIT_ACTIONS, code)


def audit_object_label(name: str) -> str:
    return _fixed(AUDIT_OBJECTS, name)


def audit_detail_label(key: str) -> str:
    return _fixed(AUDIT_DETAILS, key)


def check_outcome_label(outcome: object, name: str) -> str:
    """'Attested by Rita Reviewer', in the reader's language."""
    label = CHECK_OUTCOMES.get(str(outcome))
    return translate(N_(label.msgid, name=name)) if label is not None else f"{outcome} · {name}"


def file_type_label(media_type: str) -> str:
    return _fixed(FILE_TYPES, media_type)


def topic_names(code: str, stored: str | None, languages: Iterable[str]) -> list[str]:
    """A topic's label in each of the languages, for the search index: the catalogues'
    translations of a seeded label, the database's label alone for one an administrator
    wrote (no catalogue knows it). Read from the catalogue files, without a request."""
    label = _TOPICS.get(code)
    if label is None or (stored and stored != str(label)):
        return [stored or code]
    return list(dict.fromkeys(_catalogue(language).gettext(label.msgid) for language in languages))


@lru_cache(maxsize=16)
def _catalogue(language: str) -> Translations:
    return Translations.load(str(PROJECT_ROOT / "translations"), [language])
