"""Snippets analyse each distinct word once and cut fragments around the matches only;
they mark the words Whoosh's highlighter, running every word through the analyzer,
marks."""

from __future__ import annotations

import html
import random
import re
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
from knowledge_hub.search.query import SNIPPET_CHARS
from knowledge_hub.search.query import SNIPPET_SCAN_CHARS
from knowledge_hub.search.query import WORD_CHAR
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


def fragments_of(snippet_html: str) -> list[tuple[str, list[str]]]:
    """Each fragment of a snippet as (plain text, the words marked in it)."""
    return [
        (html.unescape(re.sub(r"</?mark>", "", part)), re.findall(r"<mark>(.*?)</mark>", part))
        for part in snippet_html.split(_MarkFormatter.between)
    ]


@pytest.mark.slow
@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if analyzes_word_by_word(lang)])
def test_snippets_mark_the_words_whooshs_highlighter_marks(
    index: SearchIndex, language: str
) -> None:
    text = udhr_text(language) + "\n\n======\nÉCONOMIE sociale, ÉCONOMIES; « dignité »."
    words = sorted({w.group() for w in WORD.finditer(text)})
    rng = random.Random(language)
    queries = [" ".join(rng.sample(words, rng.choice([1, 2, 3]))) for __ in range(40)]
    queries += [w.upper() for w in rng.sample(words, 10)] + ["économie", "dignite"]
    analyzer = analyzer_for(language)
    shown = RULE_LINE.sub(" ", text)  # what snippets are cut from
    marked = 0
    for q in queries:
        query = parse(index, q)
        ours, whooshs = (
            snippet(query, index, language, text),
            whooshs_snippet(query, language, text),
        )
        assert ("<mark>" in ours) == ("<mark>" in whooshs), q
        terms = {word for field, word in query.iter_all_terms() if field == text_field(language)}
        for plain, marks in fragments_of(ours) if ours else []:
            # A fragment is a stretch of the text that starts and ends on whole words...
            at = shown.find(plain.strip())
            assert at >= 0 and len(plain.strip()) <= SNIPPET_CHARS, (q, plain)
            assert not (at and WORD_CHAR.match(shown, at - 1)), (q, plain)
            assert not WORD_CHAR.match(shown, at + len(plain.strip())), (q, plain)
            # ...whose matching words are marked, and only those.
            matching = [
                t.original
                for t in analyzer(plain, keeporiginal=True, removestops=False)
                if t.text in terms
            ]
            assert marks == matching and marks, (q, plain)
        marked += "<mark>" in ours
    assert marked >= len(queries) * 3 // 4


def test_the_fragment_with_most_of_the_words_comes_first_among_equals(index: SearchIndex) -> None:
    filler = " ".join(["ordinary words fill the text here"] * 20)
    text = f"Cooperatives alone. {filler} Cooperatives and finance together. {filler} finance."
    [(best, marks)] = fragments_of(
        snippet(parse(index, "cooperatives finance"), index, "en", text, top=1)
    )
    assert marks == ["Cooperatives", "finance"] and "together" in best


def test_a_word_the_analyzer_drops_is_no_token(index: SearchIndex) -> None:
    # Arabic: a lone tatweel normalises to nothing, so the analyzer drops the word.
    text = "ـ " * 50 + "الكرامة الإنسانية"
    query = parse(index, "الكرامة")
    assert fragments_of(snippet(query, index, "ar", text))[0][1] == ["الكرامة"]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_snippets_look_for_words_only_in_the_beginning_of_a_long_text(
    index: SearchIndex, language: str
) -> None:
    """A text of ten million characters cost 10-25 s a search: only its first
    SNIPPET_SCAN_CHARS characters are looked at."""
    filler = (
        "ordinary words fill the text here. " if language == "en" else "普通的文字填满了这一页。"
    )
    far = filler * (10_000_000 // len(filler))
    text = f"{filler * 10} cooperatives {far} finance"
    assert len(text) > 10_000_000
    assert "cooperatives" in snippet(parse(index, "cooperatives"), index, language, text)
    assert snippet(parse(index, "finance"), index, language, text) == ""


def test_the_window_does_not_end_in_a_cut_word(index: SearchIndex) -> None:
    # "cooperatives" cut after "cooperative" would be another word, and marked.
    text = "x " * 100 + " " * (SNIPPET_SCAN_CHARS - 200 - len("cooperative")) + "cooperatives"
    assert text[:SNIPPET_SCAN_CHARS].endswith("cooperative")
    assert snippet(parse(index, "cooperative"), index, "en", text) == ""
