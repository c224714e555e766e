"""The publication-criteria checklist: a pure engine, fed plain facts, writing nothing.

Automatic criteria are computed from the facts of a record each time they are needed;
attestations are ticked by reviewers. A record may be released when every required
criterion that applies to it is satisfied:

- an automatic criterion, when it passes now, or when its latest recorded check is a
  waiver (an admin's, with a reason);
- an attestation, when its latest recorded check is a pass or a waiver.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from knowledge_hub.i18n.messages import N_

SUMMARY_MIN = 50
SUMMARY_MAX = 1500
#: Detected-language checks need enough text to be meaningful.
MIN_TEXT_FOR_DETECTION = 200


@dataclass(frozen=True)
class FileFacts:
    sha256: str
    media_type: str
    has_text: bool
    extraction_error: str | None = None
    #: Every scanned page of the file has been through OCR (even if it found no words).
    ocr_done: bool = False


@dataclass(frozen=True)
class VersionFacts:
    """What the automatic criteria look at in one language version."""

    language: str
    title: str
    summary: str
    files: tuple[FileFacts, ...] = ()
    #: The language detected in the extracted text, or None when undetectable.
    detected_language: str | None = None
    #: The original's title and summary, for a translation.
    original_title: str = ""
    original_summary: str = ""


@dataclass(frozen=True)
class RecordFacts:
    """What the automatic criteria look at in a record, plain values only."""

    kind: str
    doc_type: str | None
    date: str | None
    organizations: tuple[str, ...]
    topics: tuple[str, ...]
    original: VersionFacts | None
    #: References of other records holding a file with the same sha256.
    duplicate_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class CriterionSpec:
    code: str
    label: str
    kind: str  # "automatic" | "attestation"
    is_required: bool
    applies_to: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    code: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class Check:
    """A recorded check: pass, fail or waived, by whom, when, why."""

    code: str
    outcome: str  # "pass" | "fail" | "waived"
    at: datetime
    by: str = ""
    comment: str = ""


@dataclass(frozen=True)
class ItemState:
    """One line of the checklist as a reviewer sees it."""

    spec: CriterionSpec
    satisfied: bool
    #: For automatic criteria, the outcome computed now.
    automatic: Outcome | None
    latest: Check | None


@dataclass(frozen=True)
class GateResult:
    items: tuple[ItemState, ...]
    missing: tuple[str, ...] = field(default=())  # labels of unsatisfied required items

    @property
    def passed(self) -> bool:
        return not self.missing


RecordCheck = Callable[[RecordFacts], Outcome]
VersionCheck = Callable[[VersionFacts], Outcome]

RECORD_CHECKS: dict[str, RecordCheck] = {}
VERSION_CHECKS: dict[str, VersionCheck] = {}


def automatic(code: str) -> Callable[[RecordCheck], RecordCheck]:
    """Register an automatic criterion computed from a record's facts."""

    def register(check: RecordCheck) -> RecordCheck:
        RECORD_CHECKS[code] = check
        return check

    return register


def automatic_for_version(code: str) -> Callable[[VersionCheck], VersionCheck]:
    """Register an automatic criterion computed from one language version's facts."""

    def register(check: VersionCheck) -> VersionCheck:
        VERSION_CHECKS[code] = check
        return check

    return register


# --- automatic criteria of a record


@automatic("metadata_complete")
def metadata_complete(record: RecordFacts) -> Outcome:
    version = record.original
    missing = [
        name
        for name, present in (
            (N_("title"), bool(version and version.title.strip())),
            (N_("summary"), bool(version and version.summary.strip())),
            (N_("date"), bool(record.date)),
            (N_("type"), bool(record.doc_type)),
            (N_("organization"), bool(record.organizations)),
            (N_("topic"), bool(record.topics)),
        )
        if not present
    ]
    if missing:
        return Outcome("metadata_complete", False, N_("missing: %(fields)s", fields=tuple(missing)))
    return Outcome("metadata_complete", True)


@automatic("text_extracted")
def text_extracted(record: RecordFacts) -> Outcome:
    return _text_extracted("text_extracted", record.original)


@automatic("language_matches")
def language_matches(record: RecordFacts) -> Outcome:
    return _language_matches("language_matches", record.original)


@automatic("summary_length")
def summary_length(record: RecordFacts) -> Outcome:
    n = len((record.original.summary if record.original else "").strip())
    ok = SUMMARY_MIN <= n <= SUMMARY_MAX
    detail = N_(
        "%(count)s characters (between %(min)s and %(max)s)",
        count=n,
        min=SUMMARY_MIN,
        max=SUMMARY_MAX,
    )
    return Outcome("summary_length", ok, detail)


@automatic("no_duplicate")
def no_duplicate(record: RecordFacts) -> Outcome:
    if record.duplicate_of:
        return Outcome(
            "no_duplicate", False, N_("same file as %(refs)s", refs=tuple(record.duplicate_of))
        )
    return Outcome("no_duplicate", True)


# --- automatic criteria of a language version (translations)


@automatic_for_version("translation_text_extracted")
def translation_text_extracted(version: VersionFacts) -> Outcome:
    return _text_extracted("translation_text_extracted", version)


@automatic_for_version("translation_language_matches")
def translation_language_matches(version: VersionFacts) -> Outcome:
    return _language_matches("translation_language_matches", version)


@automatic_for_version("title_summary_translated")
def title_summary_translated(version: VersionFacts) -> Outcome:
    problems = []
    if not version.title.strip() or version.title.strip() == version.original_title.strip():
        problems.append(N_("title"))
    if not version.summary.strip() or version.summary.strip() == version.original_summary.strip():
        problems.append(N_("summary"))
    if problems:
        return Outcome(
            "title_summary_translated",
            False,
            N_("not translated: %(fields)s", fields=tuple(problems)),
        )
    return Outcome("title_summary_translated", True)


def _text_extracted(code: str, version: VersionFacts | None) -> Outcome:
    if version is None or not version.files:
        return Outcome(code, False, N_("no file"))
    # Once OCR has read a scan, its text is extracted, even if the scan held no words.
    if any(f.has_text or f.ocr_done for f in version.files):
        return Outcome(code, True)
    errors = "; ".join(f.extraction_error for f in version.files if f.extraction_error)
    return Outcome(code, False, errors or N_("no text could be extracted"))


def _language_matches(code: str, version: VersionFacts | None) -> Outcome:
    if version is None:
        return Outcome(code, False, N_("no language version"))
    declared = version.language.split("-")[0].lower()
    if version.detected_language is None:
        return Outcome(code, False, N_("the language of the text could not be detected"))
    if version.detected_language != declared:
        return Outcome(
            code,
            False,
            N_(
                "declared %(declared)s, but the text reads as %(detected)s",
                declared=declared,
                detected=version.detected_language,
            ),
        )
    return Outcome(code, True, N_("the text reads as %(declared)s", declared=declared))


# --- the gate


def evaluate(
    specs: Iterable[CriterionSpec], facts: RecordFacts | VersionFacts
) -> dict[str, Outcome]:
    """Compute every automatic criterion among specs from the facts."""
    checks: dict[str, Callable] = (
        RECORD_CHECKS if isinstance(facts, RecordFacts) else VERSION_CHECKS
    )
    outcomes = {}
    for spec in specs:
        if spec.kind == "automatic":
            check = checks.get(spec.code)
            outcomes[spec.code] = (
                check(facts) if check else Outcome(spec.code, False, "no such automatic check")
            )
    return outcomes


def latest_checks(checks: Iterable[Check]) -> dict[str, Check]:
    """The latest check of each criterion (the later one wins a tie, as recorded)."""
    latest: dict[str, Check] = {}
    for check in checks:
        current = latest.get(check.code)
        if current is None or check.at >= current.at:
            latest[check.code] = check
    return latest


def gate(
    specs: Sequence[CriterionSpec],
    target: str,
    facts: RecordFacts | VersionFacts,
    checks: Iterable[Check],
) -> GateResult:
    """Tell whether a record (target "publication" or "archive") or a language version
    (target "translation") may be released, and what is missing."""
    applicable = [s for s in specs if target in s.applies_to]
    computed = evaluate(applicable, facts)
    latest = latest_checks(checks)
    items = []
    missing = []
    for spec in applicable:
        last = latest.get(spec.code)
        waived = last is not None and last.outcome == "waived"
        if spec.kind == "automatic":
            satisfied = computed[spec.code].passed or waived
        else:
            satisfied = last is not None and last.outcome in ("pass", "waived")
        items.append(ItemState(spec, satisfied, computed.get(spec.code), last))
        if spec.is_required and not satisfied:
            missing.append(spec.label)
    return GateResult(tuple(items), tuple(missing))
