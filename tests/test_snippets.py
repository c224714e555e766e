"""Snippets analyse each distinct word once, and mark exactly what Whoosh's highlighter,
running every word through the analyzer, marks."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from whoosh import highlight

from knowledge_hub.config import LANGUAGES
from knowledge_hub.search import SearchIndex
from knowledge_hub.search import snippet
from knowledge_hub.search.analyzers import WORD
from knowledge_hub.search.analyzers import analyzer_for
from knowledge_hub.search.analyzers import analyzes_word_by_word
from knowledge_hub.search.query import RULE_LINE
from knowledge_hub.search.query import _MarkFormatter
from knowledge_hub.search.query import parse
from knowledge_hub.search.schema import text_field
from knowledge_hub.search.schema import title_field
from tests.conftest import shared_data
from tests.test_search import UDHR_FILES


def udhr_text(language: str) -> str:
    root = ET.parse(shared_data("udhr", UDHR_FILES[language])).getroot()
    paragraphs = [p.text.strip() for p in root.iter("{http://efele.net/udhr}para") if p.text]
    return "\n\n".join(paragraphs)


def whooshs_snippet(query: object, language: str, text: str) -> str:
    """The snippet as Whoosh's highlighter makes it, every word through the analyzer."""
    fields = {title_field(language), text_field(language)}
    terms = frozenset(word for field, word in query.iter_all_terms() if field in fields)
    if not terms:
        return ""
    return highlight.highlight(
        RULE_LINE.sub(" ", text),
        terms,
        analyzer_for(language),
        highlight.ContextFragmenter(maxchars=300, surround=60),
        _MarkFormatter(),
        top=3,
    )


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    index = SearchIndex(Path(tmp_path_factory.mktemp("snippets")) / "index", LANGUAGES)
    yield index
    index.close()


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if analyzes_word_by_word(lang)])
def test_snippets_mark_what_whooshs_highlighter_marks(index: SearchIndex, language: str) -> None:
    text = udhr_text(language) + "\n\n======\nÉCONOMIE sociale, ÉCONOMIES; « dignité »."
    words = sorted({w.group() for w in WORD.finditer(text)})
    rng = random.Random(language)
    queries = [" ".join(rng.sample(words, rng.choice([1, 2, 3]))) for __ in range(40)]
    queries += [w.upper() for w in rng.sample(words, 10)] + ["économie", "dignite"]
    marked = 0
    for q in queries:
        query = parse(index, q)
        ours = snippet(query, index, language, text)
        assert ours == whooshs_snippet(query, language, text), q
        marked += "<mark>" in ours
    assert marked >= len(queries) * 3 // 4


def test_a_word_the_analyzer_drops_is_no_token(index: SearchIndex) -> None:
    # Arabic: a lone tatweel normalises to nothing, so the analyzer drops the word.
    text = "ـ " * 50 + "الكرامة الإنسانية"
    query = parse(index, "الكرامة")
    assert snippet(query, index, "ar", text) == whooshs_snippet(query, "ar", text)
    assert "<mark>" in snippet(query, index, "ar", text)
