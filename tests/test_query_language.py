"""The query language on the demonstration catalogue: -word, NOT, AND, OR, quotes and
parentheses mean what they say record by record, over the versions the reader may see,
checked against a brute-force reading of the demo's texts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from sqlalchemy import select

from knowledge_hub import search
from knowledge_hub.access import visible_levels
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import Variant
from knowledge_hub.models import VariantStatus
from knowledge_hub.search.analyzers import WORD
from knowledge_hub.search.analyzers import analyzer_for
from knowledge_hub.search.indexer import index_language
from knowledge_hub.search.indexer import metadata_text
from knowledge_hub.search.schema import metadata_analyzer
from knowledge_hub.search.syntax import AllOf
from knowledge_hub.search.syntax import AnyOf
from knowledge_hub.search.syntax import Fielded
from knowledge_hub.search.syntax import Node
from knowledge_hub.search.syntax import Not
from knowledge_hub.search.syntax import Phrase
from knowledge_hub.search.syntax import Word
from knowledge_hub.search.syntax import read
from knowledge_hub.search.syntax import write
from knowledge_hub.services import setup
from tests.conftest import seed_criteria

#: Words of the demo's texts in its six languages, common and rare, and words the
#: analyzers split (a hyphen, a document symbol).
WORDS = (
    "social",
    "cooperatives",
    "economy",
    "ILO",
    "UNDP",
    "women",
    "finance",
    "employment",
    "solidarity",
    "enterprises",
    "policy",
    "development",
    "rural",
    "youth",
    "housing",
    "informal",
    "care",
    "public",
    "procurement",
    "local",
    "coopératives",
    "économie",
    "solidaria",
    "economía",
    "empresas",
    "экономика",
    "социальной",
    "الاقتصاد",
    "合作社",
    "经济",
    "A/RES/77/281",
    "secretary-general",
    # Found in the records' metadata: organizations in other languages, authors.
    "OIT",
    "PNUD",
    "国际劳工组织",
    "Secretariat",
)

#: Phrases, within one field of one version.
PHRASES = (
    "social economy",
    "solidarity economy",
    "social enterprises",
    "public procurement",
    "économie sociale",
    "economía social",
    "International Labour Organization",
)


@pytest.fixture
def demo(app: Flask, kept_states) -> None:
    """The demo catalogue as `hub init` and `hub demo` load it (kept: tests/snapshots.py)."""
    seed_criteria(app, kept_states)

    def load_demo() -> None:
        with app.app_context():
            setup.load_demo()

    kept_states.run(("load_demo",), load_demo)


def found(client: FlaskClient, q: str) -> set[int]:
    """The ids of every record the search answers q with, the words typed only (the
    query language's meaning, without the concepts' labels in other languages)."""
    ids: set[int] = set()
    page = 1
    while True:
        params = {"q": q, "per_page": 100, "page": page, "expand": "0"}
        response = client.get("/api/search", query_string=params)
        assert response.status_code == 200, (q, response.get_json())
        answer = response.get_json()
        ids.update(result["id"] for result in answer["results"])
        if page * 100 >= answer["total"]:
            assert len(ids) == answer["total"], q
            return ids
        page += 1


@dataclass(frozen=True)
class Version:
    language: str
    fields: tuple[tuple[str, ...], ...]  # the terms of its title and of its text
    meta: tuple[str, ...] = ()  # the terms of its record's metadata
    organizations: frozenset[str] = frozenset()  # its record's acronyms
    year: int | None = None  # its record's


def _terms(language: str, text: str, mode: str = "index") -> tuple[str, ...]:
    # The analyzer yields one token object, changed from word to word.
    tokens = [(t.pos, t.text) for t in analyzer_for(language)(text, positions=True, mode=mode)]
    return tuple(text for __, text in sorted(tokens))


def _meta_terms(text: str, mode: str = "index") -> tuple[str, ...]:
    tokens = [(t.pos, t.text) for t in metadata_analyzer()(text, positions=True, mode=mode)]
    return tuple(text for __, text in sorted(tokens))


class Oracle:
    """The meaning of a query tree, read from the texts of every visible version."""

    def __init__(self, app: Flask) -> None:
        seen = visible_levels(None)
        languages = app.config["LANGUAGES"]
        self.records: dict[int, list[Version]] = {}
        with app.app_context():
            for document in db.session.scalars(select(Document)):
                if document.status not in seen.statuses:
                    continue
                if document.access not in seen.access_levels:
                    continue
                versions = []
                meta = _meta_terms(metadata_text(document))
                for variant in document.variants:
                    if variant.status not in seen.variant_statuses:
                        continue
                    language = index_language(variant.language, languages)
                    text = "\n\n".join(p for p in (variant.summary, variant.text) if p)
                    fields = (_terms(language, variant.title), _terms(language, text))
                    acronyms = frozenset(o.acronym for o in document.organizations)
                    versions.append(Version(language, fields, meta, acronyms, document.year))
                self.records[document.id] = versions

    def holds(self, version: Version, leaf: Word | Phrase, field: str | None = None) -> bool:
        """In the version's language, in its title or text; or in its record's metadata
        (every language at once). Fielded: the title alone, the record's acronyms, its
        year or range of years."""
        if field == "title":
            wanted = _terms(version.language, leaf.text, mode="query")
            return self._held(leaf, wanted, version.fields[:1])
        if field == "org":
            return leaf.text in version.organizations
        if field == "year":
            first, __, last = leaf.text.partition("..")
            years = range(int(first), int(last or first) + 1)
            return version.year is not None and version.year in years
        in_text = (_terms(version.language, leaf.text, mode="query"), version.fields)
        in_meta = (_meta_terms(leaf.text, mode="query"), (version.meta,))
        return any(self._held(leaf, wanted, fields) for wanted, fields in (in_text, in_meta))

    @staticmethod
    def _held(
        leaf: Word | Phrase, wanted: tuple[str, ...], fields: tuple[tuple[str, ...], ...]
    ) -> bool:
        if not wanted:
            return False
        if isinstance(leaf, Word):
            present = set().union(*fields)
            if len(WORD.findall(leaf.text)) > 1:  # joined by a hyphen or a slash
                return set(wanted) <= present
            return bool(set(wanted) & present)
        size = len(wanted)
        return any(
            field[i : i + size] == wanted for field in fields for i in range(len(field) - size + 1)
        )

    def matches(self, record: int, node: Node, field: str | None = None) -> bool:
        if isinstance(node, Word | Phrase):
            return any(self.holds(version, node, field) for version in self.records[record])
        if isinstance(node, Fielded):
            return self.matches(record, node.part, node.field)
        if isinstance(node, Not):
            return False  # an exclusion alone looks for nothing
        sought = [part for part in node.parts if not isinstance(part, Not)]
        if not sought:
            return False
        test = all if isinstance(node, AllOf) else any
        if not test(self.matches(record, part, field) for part in sought):
            return False
        return not any(
            self.matches(record, part.part, field) for part in node.parts if isinstance(part, Not)
        )

    def answer(self, node: Node) -> set[int]:
        return {record for record in self.records if self.matches(record, node)}


@pytest.mark.slow  # the demo catalogue is imported once per process
def test_exclusion_removes_records(client: FlaskClient, demo) -> None:
    social = found(client, "social")
    cooperatives = found(client, "cooperatives")
    assert social & cooperatives, "the demo has records with both words"
    for q in ("social -cooperatives", "social NOT cooperatives", "social AND NOT cooperatives"):
        assert found(client, q) == social - cooperatives, q
    assert found(client, "-cooperatives social") == social - cooperatives
    page = client.get("/search", query_string={"q": "social -cooperatives"})
    assert page.status_code == 200


@pytest.mark.slow  # the demo catalogue is imported once per process
def test_exclusion_counts_every_visible_version(app: Flask, client: FlaskClient, demo) -> None:
    oracle = Oracle(app)
    excluded = Word("cooperatives")
    left = found(client, "social -cooperatives")
    assert left
    for record in left:
        assert not oracle.matches(record, excluded), record
    # Some records say "cooperatives" only in a version other than the one that
    # ranks best for "social" (Spanish "cooperativas" included): they are gone too.
    assert any(
        len(oracle.records[r]) > 1 for r in found(client, "social") & found(client, "cooperatives")
    )


@pytest.mark.slow  # the demo catalogue is imported once per process
def test_and_or_and_words_side_by_side(client: FlaskClient, demo) -> None:
    ilo, undp = found(client, "ILO"), found(client, "UNDP")
    both = found(client, "ILO AND UNDP")
    assert both and both <= ilo & undp
    assert both == ilo & undp
    assert found(client, "ILO OR UNDP") == ilo | undp
    assert found(client, "ILO UNDP") == ilo | undp
    assert both < ilo | undp


@pytest.mark.slow  # the demo catalogue is imported once per process
def test_a_query_of_exclusions_only_finds_nothing(client: FlaskClient, demo) -> None:
    assert found(client, "")  # browsing lists every record …
    for q in ("-cooperatives", "NOT cooperatives", "-social -economy", "NOT (social OR economy)"):
        assert found(client, q) == set(), q  # … an exclusion alone lists none


@pytest.mark.slow  # the demo catalogue is imported once per process
def test_a_hyphen_inside_a_word_is_not_an_exclusion(app: Flask, client: FlaskClient, demo) -> None:
    assert read("high-speed -rail") == AnyOf((Word("high-speed"), Not(Word("rail"))))
    assert read("A/RES/77/281") == Word("A/RES/77/281")
    assert read("a - b") == AnyOf((Word("a"), Word("b")))
    oracle = Oracle(app)
    for q, tree in (
        ("A/RES/77/281 -cooperatives", AllOf((Word("A/RES/77/281"), Not(Word("cooperatives"))))),
        (
            "secretary-general -cooperatives",
            AllOf((Word("secretary-general"), Not(Word("cooperatives")))),
        ),
        ("social -secretary-general", AllOf((Word("social"), Not(Word("secretary-general"))))),
        ("A/RES/77/281", Word("A/RES/77/281")),
        ("secretary-general", Word("secretary-general")),
    ):
        answer = found(client, q)
        assert answer and answer == oracle.answer(tree), q


def test_precedence_and_grouping() -> None:
    a, b, c = Word("a"), Word("b"), Word("c")
    assert read("a b AND c") == AnyOf((a, AllOf((b, c))))
    assert read("(a b) AND c") == AllOf((AnyOf((a, b)), c))
    assert read("a NOT b") == AllOf((a, Not(b)))
    assert read("a AND NOT b") == AllOf((a, Not(b)))
    assert read("NOT NOT a") == a
    assert read('"a b" -(b c)') == AnyOf((Phrase("a b"), Not(AnyOf((b, c)))))
    # Stray operators and parentheses are dropped, never an error.
    assert read("AND a OR") == a
    assert read("a AND") == a
    assert read("(a") == a
    assert read("a)") == a
    assert read("NOT") is None


@pytest.mark.slow  # the demo catalogue is imported once per process
def test_a_hidden_translation_never_hides_a_public_record(
    app: Flask, client: FlaskClient, demo
) -> None:
    social = found(client, "social")
    kept = found(client, "social -cooperatives")
    record = min(kept)
    with app.app_context():
        document = db.session.get(Document, record)
        taken = {v.language for v in document.variants}
        language = next(lang for lang in ("en", "fr", "es", "ru", "ar", "zh") if lang not in taken)
        db.session.add(
            Variant(
                document=document,
                language=language,
                title="Draft",
                summary="cooperatives social",
                status=VariantStatus.SUBMITTED,
            )
        )
        db.session.commit()
        search.apply_pending()
    assert found(client, "social") == social
    assert found(client, "social -cooperatives") == kept
    assert record not in found(client, "cooperatives")


#: Fielded words the oracle reads: a title's words, an organization, years.
FIELDED = (
    Fielded("title", Word("social")),
    Fielded("title", Word("économie")),
    Fielded("title", Phrase("solidarity economy")),
    Fielded("org", Word("ILO")),
    Fielded("org", Word("UNDP")),
    Fielded("year", Word("2023")),
    Fielded("year", Word("2015..2020")),
)


def _trees(depth: int) -> st.SearchStrategy[Node]:
    leaves = st.one_of(
        st.sampled_from(WORDS).map(Word),
        st.sampled_from(PHRASES).map(Phrase),
        st.sampled_from(FIELDED),
    )
    if depth == 0:
        return leaves
    smaller = _trees(depth - 1)
    parts = st.lists(st.one_of(smaller, smaller.map(Not)), min_size=2, max_size=3)
    return st.one_of(
        leaves,
        parts.map(lambda p: AllOf(tuple(p))),
        parts.map(lambda p: AnyOf(tuple(p))),
    )


@pytest.fixture
def oracle(app: Flask, demo) -> Iterator[Oracle]:
    yield Oracle(app)


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tree=_trees(3))
def test_the_hub_answers_as_the_brute_force_reading(
    client: FlaskClient, oracle: Oracle, tree: Node
) -> None:
    q = write(tree)
    assert read(q) == tree, q
    assert found(client, q) == oracle.answer(tree), q
