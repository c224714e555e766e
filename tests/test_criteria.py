"""The release gate as a pure function: each automatic criterion, and property tests over
any sequence of checks, waivers and edits."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from knowledge_hub import criteria
from knowledge_hub.criteria import Check
from knowledge_hub.criteria import CriterionSpec
from knowledge_hub.criteria import FileFacts
from knowledge_hub.criteria import RecordFacts
from knowledge_hub.criteria import VersionFacts
from knowledge_hub.i18n import vocabularies

SPECS = [
    CriterionSpec(c.code, str(c.label), c.kind, True, c.applies_to) for c in vocabularies.CRITERIA
]
AUTOMATIC = [s.code for s in SPECS if s.kind == "automatic" and "publication" in s.applies_to]
ATTESTATION = [s.code for s in SPECS if s.kind == "attestation" and "publication" in s.applies_to]

GOOD_VERSION = VersionFacts(
    language="en",
    title="Local governments and the SSE",
    summary="How local governments can support cooperatives and other SSE entities.",
    files=(FileFacts("a" * 64, "application/pdf", True),),
    detected_language="en",
)
GOOD = RecordFacts(
    kind="publication",
    doc_type="policy-brief",
    date="2024-02",
    organizations=("UNRISD",),
    topics=("local-development",),
    original=GOOD_VERSION,
)
T0 = datetime(2026, 1, 1)


def test_each_automatic_criterion() -> None:
    assert criteria.metadata_complete(GOOD).passed
    incomplete = criteria.metadata_complete(replace(GOOD, topics=(), date=None))
    assert not incomplete.passed and incomplete.detail == "missing: date, topic"
    assert not criteria.text_extracted(
        replace(
            GOOD,
            original=replace(
                GOOD_VERSION,
                files=(FileFacts("b" * 64, "image/png", False, "An image has no text layer."),),
            ),
        )
    ).passed
    wrong = criteria.language_matches(
        replace(GOOD, original=replace(GOOD_VERSION, detected_language="fr"))
    )
    assert not wrong.passed and "reads as fr" in wrong.detail
    assert not criteria.summary_length(
        replace(GOOD, original=replace(GOOD_VERSION, summary="Too short."))
    ).passed
    assert not criteria.summary_length(
        replace(GOOD, original=replace(GOOD_VERSION, summary="x" * 1501))
    ).passed
    assert criteria.no_duplicate(GOOD).passed
    assert (
        criteria.no_duplicate(replace(GOOD, duplicate_of=("PB-1",))).detail == "same file as PB-1"
    )


def test_translation_criteria() -> None:
    translation = replace(
        GOOD_VERSION,
        language="fr",
        detected_language="fr",
        title="Les collectivités locales et l'ESS",
        summary="Comment les collectivités…",
        original_title=GOOD_VERSION.title,
        original_summary=GOOD_VERSION.summary,
    )
    assert criteria.title_summary_translated(translation).passed
    untranslated = replace(translation, summary=GOOD_VERSION.summary)
    assert criteria.title_summary_translated(untranslated).detail == "not translated: summary"
    result = criteria.gate(SPECS, "translation", translation, [])
    assert result.missing == ("Reviewed by a second speaker of the language",)


def test_the_latest_check_counts() -> None:
    checks = [Check("un_disclaimer", "pass", T0), Check("un_disclaimer", "fail", T0 + timedelta(1))]
    item = next(
        i
        for i in criteria.gate(SPECS, "publication", GOOD, checks).items
        if i.spec.code == "un_disclaimer"
    )
    assert not item.satisfied and item.latest.outcome == "fail"


def test_archives_are_gated_by_automatic_criteria_only() -> None:
    archive = replace(GOOD, kind="archive")
    assert criteria.gate(SPECS, "archive", archive, []).passed
    assert not criteria.gate(SPECS, "publication", GOOD, []).passed


# --- properties: any sequence of checks, waivers and edits

edits = st.sampled_from(
    [
        "clear_summary",
        "restore_summary",
        "drop_topics",
        "restore_topics",
        "lose_text",
        "restore_text",
    ]
)
checks = st.tuples(
    st.sampled_from(AUTOMATIC + ATTESTATION), st.sampled_from(["pass", "fail", "waived"])
)
steps = st.lists(
    st.one_of(st.tuples(st.just("check"), checks), st.tuples(st.just("edit"), edits)), max_size=40
)


def apply_edit(facts: RecordFacts, edit: str) -> RecordFacts:
    version = facts.original
    return {
        "clear_summary": lambda: replace(facts, original=replace(version, summary="")),
        "restore_summary": lambda: replace(
            facts, original=replace(version, summary=GOOD_VERSION.summary)
        ),
        "drop_topics": lambda: replace(facts, topics=()),
        "restore_topics": lambda: replace(facts, topics=GOOD.topics),
        "lose_text": lambda: replace(
            facts, original=replace(version, files=(FileFacts("c" * 64, "image/png", False),))
        ),
        "restore_text": lambda: replace(facts, original=replace(version, files=GOOD_VERSION.files)),
    }[edit]()


def expected_release(facts: RecordFacts, history: list[tuple[str, str]]) -> bool:
    """The rule, written out plainly: each required publication criterion must be met."""
    latest = {}
    for code, outcome in history:
        latest[code] = outcome
    summary = facts.original.summary
    automatic_now = {
        "metadata_complete": bool(
            summary and facts.topics and facts.date and facts.doc_type and facts.organizations
        ),
        "text_extracted": any(f.has_text for f in facts.original.files),
        "language_matches": True,
        "summary_length": 50 <= len(summary) <= 1500,
        "no_duplicate": True,
    }
    for code in AUTOMATIC:
        if not (automatic_now[code] or latest.get(code) == "waived"):
            return False
    return all(latest.get(code) in ("pass", "waived") for code in ATTESTATION)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(steps)
def test_release_passes_exactly_when_the_rule_says(sequence) -> None:
    facts = GOOD
    recorded: list[Check] = []
    history: list[tuple[str, str]] = []
    for n, (kind, payload) in enumerate(sequence):
        if kind == "edit":
            facts = apply_edit(facts, payload)
        else:
            code, outcome = payload
            recorded.append(Check(code, outcome, T0 + timedelta(minutes=n)))
            history.append((code, outcome))
        result = criteria.gate(SPECS, "publication", facts, recorded)
        assert result.passed == expected_release(facts, history)
        labels = {s.code: s.label for s in SPECS}
        assert set(result.missing) == {labels[i.spec.code] for i in result.items if not i.satisfied}


@settings(max_examples=100, deadline=None)
@given(st.permutations(ATTESTATION))
def test_order_of_attestations_does_not_matter(order) -> None:
    recorded = [Check(code, "pass", T0 + timedelta(minutes=n)) for n, code in enumerate(order)]
    assert criteria.gate(SPECS, "publication", GOOD, recorded).passed
    assert not criteria.gate(SPECS, "publication", GOOD, recorded[:-1]).passed
