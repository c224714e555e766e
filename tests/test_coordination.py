"""Matching more of the query's words ranks a version higher, and a version's score does
not depend on where it sits in the index: the same entries written in another order
and cut into other segments score the same."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from knowledge_hub.search import SearchIndex
from knowledge_hub.search.columns import score_every_match
from knowledge_hub.search.coordination import WORDS_SCALE
from knowledge_hub.search.coordination import WordsOr
from knowledge_hub.search.coordination import coordinate
from knowledge_hub.search.query import _scored_by_matchers
from knowledge_hub.search.query import parse
from knowledge_hub.search.schema import text_field
from knowledge_hub.search.schema import title_field

LANGUAGES = ("ar", "zh", "en", "fr", "ru", "es")
WORDS = {
    "en": "flow heat boundary layer pressure wing shock velocity surface solution "
    "cooperative economy social solidarity finance women decent work",
    "fr": "économie sociale solidaire coopérative travail politique femmes finance",
    "zh": "社会 团结 经济 合作社 工作 政策 妇女 金融",
}
QUERIES = [
    "heat boundary",
    "cooperative economy social",
    "women finance",
    "économie sociale solidaire",
    "社会团结经济",
    "经济 women",
    "flow",
]


def entries() -> list[dict]:
    rng = random.Random(20261128)
    made = []
    for variant_id in range(1, 601):
        language = rng.choice(["en", "en", "en", "fr", "zh"])
        words = WORDS[language].split()
        text = " ".join(words[min(int(rng.expovariate(0.3)), len(words) - 1)] for __ in range(25))
        title = " ".join(rng.choice(words) for __ in range(4))
        if language == "zh":
            text, title = text.replace(" ", ""), title.replace(" ", "")
        made.append(
            {
                "variant_id": str(variant_id),
                "document_id": variant_id,
                "language": language,
                title_field(language): title,
                text_field(language): text,
            }
        )
    return made


def write(folder: Path, written: list[dict], segments: int) -> SearchIndex:
    index = SearchIndex(folder, LANGUAGES)
    size = -(-len(written) // segments)
    for start in range(0, len(written), size):
        with index.writing(merge=False) as writer:
            for fields in written[start : start + size]:
                writer.add_document(**fields)
    return index


def scores_by_version(index: SearchIndex, q: str) -> dict[str, float]:
    query = parse(index, q)
    with index.searching() as (searcher, columns):
        docnums, scores = score_every_match(searcher, columns, query)
        return {
            searcher.stored_fields(int(docnum))["variant_id"]: score
            for docnum, score in zip(docnums, scores, strict=True)
        }


@pytest.fixture(scope="module")
def two_layouts(tmp_path_factory: pytest.TempPathFactory) -> tuple[SearchIndex, SearchIndex]:
    written = entries()
    folder = tmp_path_factory.mktemp("coordination")
    in_order = write(folder / "in-order", written, segments=1)
    shuffled = written[::-1]
    random.Random(7).shuffle(shuffled)
    return in_order, write(folder / "shuffled", shuffled, segments=4)


@pytest.mark.slow
@pytest.mark.parametrize("q", QUERIES)
def test_a_versions_score_does_not_depend_on_its_place_in_the_index(
    two_layouts: tuple[SearchIndex, SearchIndex], q: str
) -> None:
    in_order, shuffled = two_layouts
    expected = scores_by_version(in_order, q)
    assert expected
    # Sums over a word's fields may be added in another order in other segments.
    assert scores_by_version(shuffled, q) == pytest.approx(expected, rel=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("q", QUERIES)
def test_every_version_matching_some_words_scores_above_zero(
    two_layouts: tuple[SearchIndex, SearchIndex], q: str
) -> None:
    for index in two_layouts:
        assert min(scores_by_version(index, q).values()) > 0


@pytest.mark.slow
def test_the_words_scores_are_added_and_coordinated_by_how_many_matched(
    two_layouts: tuple[SearchIndex, SearchIndex],
) -> None:
    index = two_layouts[0]
    query = parse(index, "heat boundary")
    assert isinstance(query, WordsOr) and len(query.subqueries) == 2
    heat, boundary = (scores_by_version(index, word) for word in ("heat", "boundary"))
    both = scores_by_version(index, "heat boundary")
    assert set(both) == set(heat) | set(boundary)
    for variant_id, score in both.items():
        matched = (variant_id in heat) + (variant_id in boundary)
        total = heat.get(variant_id, 0.0) + boundary.get(variant_id, 0.0)
        assert score == pytest.approx(coordinate(total, matched, 2, WORDS_SCALE), rel=1e-12)


def test_chinese_words_found_in_one_string_are_coordinated_too(
    two_layouts: tuple[SearchIndex, SearchIndex],
) -> None:
    index = two_layouts[0]
    query = parse(index, "社会团结经济")
    in_chinese_text = [
        sub for sub in query.subqueries if isinstance(sub, WordsOr) and sub.field() == "text_zh"
    ]
    assert [len(sub.subqueries) for sub in in_chinese_text] == [3]
    found = scores_by_version(index, "社会团结经济")
    one_word = scores_by_version(index, "经济")
    assert one_word and all(found[v] > 0 for v in one_word)


def test_more_words_matched_score_higher_for_the_same_sum() -> None:
    scores = [coordinate(4.0, matched, 3, WORDS_SCALE) for matched in (1, 2, 3)]
    assert scores == sorted(scores) and len(set(scores)) == 3
    as_arrays = coordinate(np.array([4.0, 4.0, 4.0]), np.array([1, 2, 3]), 3, WORDS_SCALE)
    assert as_arrays.tolist() == scores


@pytest.mark.parametrize("q", ["heat boundary", '"boundary layer" heat', "heat AND flow social"])
def test_whooshs_matchers_give_the_array_scores(
    two_layouts: tuple[SearchIndex, SearchIndex], q: str
) -> None:
    index = two_layouts[1]
    query = parse(index, q)
    with index.searching() as (searcher, columns):
        everything = np.ones(searcher.doc_count_all(), dtype=bool)
        docnums, scores = _scored_by_matchers(searcher, query, everything)
        by_matchers = dict(zip(docnums.tolist(), scores.tolist(), strict=True))
        assert by_matchers == {hit.docnum: hit.score for hit in searcher.search(query, limit=None)}
        if q == "heat boundary":
            docnums, scores = score_every_match(searcher, columns, query)
            assert dict(zip(docnums.tolist(), scores.tolist(), strict=True)) == by_matchers
