"""Compound index segments are read in place from their memory map, byte for byte as
Whoosh's own copying reader reads them."""

from __future__ import annotations

import io
import mmap
import os
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from whoosh.filedb.compound import CompoundStorage
from whoosh.qparser import QueryParser

from knowledge_hub.config import LANGUAGES
from knowledge_hub.search import SearchIndex
from knowledge_hub.search.mapped import MappedPart
from knowledge_hub.search.mapped import MappedRange
from knowledge_hub.search.mapped import _open_part_by_copy
from knowledge_hub.search.schema import text_field
from knowledge_hub.search.schema import title_field
from tests.conftest import shared_data

UDHR = {"en": "eng", "fr": "fra", "es": "spa", "ru": "rus", "ar": "arb", "zh": "cmn_hans"}


def udhr_articles(language: str) -> list[str]:
    xml = shared_data("udhr", f"udhr_{UDHR[language]}.xml").read_text(encoding="utf-8")
    articles = re.findall(r"<article\b.*?</article>", xml, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", a).split()) for a in articles]


def udhr_entry(variant_id: int, document_id: int, language: str, article: str) -> dict:
    """The index entry of one UDHR article: a released, public version."""
    return {
        "variant_id": str(variant_id),
        "document_id": document_id,
        "language": language,
        "status": "released",
        "access": "public",
        "variant_status": "approved",
        "sort_date": 19481210,
        title_field(language): article[:60],
        text_field(language): article,
    }


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SearchIndex]:
    index = SearchIndex(tmp_path / "index", LANGUAGES)
    variant_id = 0
    for language in LANGUAGES:  # one compound segment a language
        with index.writing(merge=False) as writer:
            for number, article in enumerate(udhr_articles(language), start=1):
                variant_id += 1
                writer.add_document(**udhr_entry(variant_id, number, language, article))
    yield index
    index.close()


def compound_storages(index: SearchIndex) -> Iterator[CompoundStorage]:
    with index.searching() as (searcher, __):
        for leaf in searcher.reader().leaf_readers():
            storage = leaf[0]._storage.a  # the segment's own files, over the folder's
            assert isinstance(storage, CompoundStorage)
            yield storage


def test_every_part_reads_as_whooshs_copy_does(index: SearchIndex) -> None:
    rng = random.Random(1948)
    parts = 0
    for storage in compound_storages(index):
        for name in storage.list():
            in_place, copy = storage.open_file(name), _open_part_by_copy(storage, name)
            assert isinstance(in_place, MappedPart) and isinstance(in_place.file, MappedRange)
            whole = copy.read()
            assert in_place.read() == whole
            for __ in range(20):
                position, length = rng.randrange(len(whole) + 2), rng.randrange(64)
                assert in_place.get(position, length) == copy.get(position, length)
            in_place.seek(0)
            copy.seek(0)
            assert list(in_place) == list(copy)
            if len(whole) >= 4:
                assert list(in_place.get_array(0, "I", len(whole) // 4)) == list(
                    copy.get_array(0, "I", len(whole) // 4)
                )
            parts += 1
    assert parts > len(LANGUAGES) * 5


def test_searching_reads_the_text_of_every_language(index: SearchIndex) -> None:
    with index.searching() as (searcher, __):
        for language, word in [
            ("en", "dignity"),
            ("fr", "dignité"),
            ("ru", "достоинстве"),
            ("ar", "الكرامة"),
            ("zh", "尊严"),
            ("es", "dignidad"),
        ]:
            query = QueryParser(text_field(language), index.schema).parse(word)
            assert len(searcher.search(query)) > 0, (language, word)


def test_closing_the_index_closes_the_segment_maps(index: SearchIndex) -> None:
    storages = list(compound_storages(index))
    index.close()
    # Whoosh's copies kept the map exported, so closing it failed and it was left open.
    assert storages and all(s._source.closed for s in storages)


@pytest.fixture(scope="module")
def mapped_bytes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[mmap.mmap, bytes]]:
    content = b"head\n" + bytes(random.Random(7).randrange(256) for __ in range(3000)) + b"\nlast"
    path = tmp_path_factory.mktemp("mapped") / "segment"
    path.write_bytes(content)
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as source:
        yield source, content


operations = st.lists(
    st.one_of(
        st.tuples(st.just("read"), st.integers(-1, 400)),
        st.tuples(st.just("readline"), st.integers(-1, 400)),
        st.tuples(st.just("readinto"), st.integers(0, 400)),
        st.tuples(st.just("seek_set"), st.integers(0, 3200)),
        st.tuples(st.just("seek_cur"), st.integers(-500, 500)),
        st.tuples(st.just("seek_end"), st.integers(-3200, 50)),
    ),
    max_size=30,
)


@given(start=st.integers(0, 3000), length=st.integers(0, 3000), steps=operations)
def test_a_mapped_range_behaves_as_a_file_of_its_bytes(
    mapped_bytes: tuple[mmap.mmap, bytes], start: int, length: int, steps: list
) -> None:
    source, content = mapped_bytes
    length = min(length, len(content) - start)
    mapped, reference = (
        MappedRange(source, start, length),
        io.BytesIO(content[start : start + length]),
    )
    for operation, n in steps:
        if operation == "read":
            assert mapped.read(n) == reference.read(n)
        elif operation == "readline":
            assert mapped.readline(n) == reference.readline(n)
        elif operation == "readinto":
            mine, theirs = bytearray(n), bytearray(n)
            assert mapped.readinto(mine) == reference.readinto(theirs)
            assert mine == theirs
        else:
            whence = {"seek_set": os.SEEK_SET, "seek_cur": os.SEEK_CUR, "seek_end": os.SEEK_END}
            assert mapped.seek(n, whence[operation]) == reference.seek(n, whence[operation])
        assert mapped.tell() == reference.tell()
