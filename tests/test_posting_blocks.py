"""Posting blocks are read without unpickling their positions, and give exactly the
document numbers and weights Whoosh reads from them."""

from __future__ import annotations

import pickle
import zlib
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge_hub.config import LANGUAGES
from knowledge_hub.search import SearchIndex
from knowledge_hub.search.columns import ids_and_weights_of_block
from knowledge_hub.search.columns import posting_arrays
from knowledge_hub.search.schema import text_field
from tests.test_mapped_segments import udhr_articles
from tests.test_mapped_segments import udhr_entry

COPIES = 6  # of each article: lists of the common words run over several blocks


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    index = SearchIndex(tmp_path_factory.mktemp("blocks") / "index", LANGUAGES)
    variant_id = 0
    with index.writing() as writer:
        for language in LANGUAGES:
            for __ in range(COPIES):
                for article in udhr_articles(language):
                    variant_id += 1
                    writer.add_document(**udhr_entry(variant_id, variant_id, language, article))
    yield index
    index.close()


def blocks(matcher) -> Iterator[tuple[bytes, int]]:
    """Every block of an on-disk posting list: its uncompressed pickle and size."""
    matcher.reset()
    while True:
        length = matcher._nextoffset - matcher._dataoffset
        raw = matcher._postfile.get(matcher._dataoffset, length)
        yield (zlib.decompress(raw) if matcher._compression else raw), matcher._blocklength
        if matcher._lastblock:
            return
        matcher._goto(matcher._nextoffset)


@pytest.mark.slow
def test_every_block_of_every_text_term_is_cut_and_read_as_whoosh_reads_it(
    index: SearchIndex,
) -> None:
    read = several_blocks = 0
    with index.searching() as (searcher, __):
        reader = searcher.reader()
        for language in LANGUAGES:
            fieldname = text_field(language)
            for term in reader.lexicon(fieldname):
                matcher = reader.postings(fieldname, term)
                lists = list(blocks(matcher))
                several_blocks += len(lists) > 1
                for raw, count in lists:
                    whole = pickle.loads(raw)
                    assert ids_and_weights_of_block(raw, count) == (whole[0], whole[1])
                    read += 1
                # The whole list as the search reads it: Whoosh's ids and weights.
                ids, weights = posting_arrays(reader.postings(fieldname, term))
                expected = list(reader.postings(fieldname, term).items_as("weight"))
                assert list(zip(ids.tolist(), weights.tolist(), strict=True)) == [
                    (docnum, pytest.approx(weight, rel=1e-7)) for docnum, weight in expected
                ]
    assert read > 1000 and several_blocks > 10


def test_a_block_without_positions_is_left_to_the_whole_unpickling() -> None:
    raw = pickle.dumps(((3, 1, 4), (1.0, 2.0, 1.0), None), 2)
    assert ids_and_weights_of_block(raw, 3) is None


postings = st.integers(1, 300).flatmap(
    lambda count: st.tuples(
        st.lists(st.integers(0, 2**32 - 1), min_size=count, max_size=count).map(tuple),
        st.one_of(
            st.none(),
            st.floats(0.5, 1e6),
            st.lists(st.floats(0.5, 1e6), min_size=count, max_size=count).map(tuple),
        ),
        st.lists(st.binary(max_size=40), min_size=count, max_size=count).map(tuple),
    )
)


@pytest.mark.slow
@given(postings)
def test_any_block_with_positions_reads_as_its_whole_pickle(block: tuple) -> None:
    ids, weights, values = block
    raw = pickle.dumps(block, 2)
    assert ids_and_weights_of_block(raw, len(ids)) == (ids, weights)
    # A block that is not what the count says is left to the whole unpickling.
    assert ids_and_weights_of_block(raw, len(ids) + 1) is None
