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
from knowledge_hub.search import highlight_of
from knowledge_hub.search import snippet
from knowledge_hub.search.analyzers import WORD
from knowledge_hub.search.analyzers import analyzer_for
from knowledge_hub.search.analyzers import analyzes_word_by_word
from knowledge_hub.search.query import parse
from knowledge_hub.search.schema import text_field
from knowledge_hub.search.schema import title_field
from knowledge_hub.search.snippets import SNIPPET_CHARACTERS
from knowledge_hub.search.snippets import SNIPPET_SCAN_CHARS
from knowledge_hub.search.snippets import SNIPPET_WORDS
from knowledge_hub.search.snippets import WORD_CHAR
from knowledge_hub.search.snippets import _MarkFormatter
from knowledge_hub.search.snippets import clean_snippet_text
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
        clean_snippet_text(text),
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
    shown = clean_snippet_text(text)  # what snippets are cut from
    marked = 0
    for q in queries:
        query = parse(index, q)
        ours, whooshs = (
            snippet(highlight_of(query), index, language, text),
            whooshs_snippet(query, language, text),
        )
        assert ("<mark>" in ours) == ("<mark>" in whooshs), q
        terms = {word for field, word in query.iter_all_terms() if field == text_field(language)}
        for plain, marks in fragments_of(ours) if ours else []:
            # A fragment is a stretch of the text that starts and ends on whole words...
            at = shown.find(plain.strip())
            assert at >= 0, (q, plain)
            assert not (at and WORD_CHAR.match(shown, at - 1)), (q, plain)
            assert not WORD_CHAR.match(shown, at + len(plain.strip())), (q, plain)
            # ...whose matching words are marked, and only those.
            matching = [
                t.original
                for t in analyzer(plain, keeporiginal=True, removestops=False)
                if t.text in terms
            ]
            assert marks == matching and marks, (q, plain)
        # ...and the passages hold SNIPPET_WORDS words at most in all.
        assert len(WORD.findall(" ".join(p for p, __ in fragments_of(ours)))) <= SNIPPET_WORDS
        marked += "<mark>" in ours
    assert marked >= len(queries) * 3 // 4


def test_the_fragment_with_most_of_the_words_comes_first_among_equals(index: SearchIndex) -> None:
    filler = " ".join(["ordinary words fill the text here"] * 20)
    text = f"Cooperatives alone. {filler} Cooperatives and finance together. {filler} finance."
    [(best, marks)] = fragments_of(
        snippet(highlight_of(parse(index, "cooperatives finance")), index, "en", text, top=1)
    )
    assert marks == ["Cooperatives", "finance"] and "together" in best


def test_a_word_the_analyzer_drops_is_no_token(index: SearchIndex) -> None:
    # Arabic: a lone tatweel normalises to nothing, so the analyzer drops the word.
    text = "ـ " * 50 + "الكرامة الإنسانية"
    query = parse(index, "الكرامة")
    assert fragments_of(snippet(highlight_of(query), index, "ar", text))[0][1] == ["الكرامة"]


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
    assert "cooperatives" in snippet(
        highlight_of(parse(index, "cooperatives")), index, language, text
    )
    assert snippet(highlight_of(parse(index, "finance")), index, language, text) == ""


def test_the_window_does_not_end_in_a_cut_word(index: SearchIndex) -> None:
    # "cooperatives" cut after "cooperative" would be another word, and marked.
    text = "x " * 100 + " " * (SNIPPET_SCAN_CHARS - 200 - len("cooperative")) + "cooperatives"
    assert text[:SNIPPET_SCAN_CHARS].endswith("cooperative")
    assert snippet(highlight_of(parse(index, "cooperative")), index, "en", text) == ""


#: Two words of a query in each language, both in its declaration.
TWO_WORDS = {
    "en": "dignity rights",
    "fr": "dignité droits",
    "es": "dignidad derechos",
    "ru": "достоинство права",
    "ar": "كرامة حقوق",
    "zh": "尊严 权利",
}


def as_markdown(text: str) -> str:
    """The declaration laid out in Markdown: headings, bullets, emphasis, links."""
    paragraphs = text.split("\n\n")
    laid_out = []
    for i, paragraph in enumerate(paragraphs):
        if i % 3 == 0:
            laid_out.append(f"## {paragraph}\n\n---")
        elif i % 3 == 1:
            laid_out.append(f"- **{paragraph}**\n- [{paragraph[:10]}](https://example.org/{i})")
        else:
            laid_out.append(f"> {paragraph}")
    return "\n\n".join(laid_out)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_snippet_is_short_clean_text_with_what_matched_marked(
    index: SearchIndex, language: str
) -> None:
    query = parse(index, TWO_WORDS[language])
    cut = snippet(highlight_of(query), index, language, as_markdown(udhr_text(language)))
    fragments = fragments_of(cut)
    assert 1 <= len(fragments) <= 2
    plain = " ".join(p for p, __ in fragments)
    assert "\n" not in plain
    for mark in ("##", "**", "](", "https://", "---", "> "):
        assert mark not in plain, (mark, plain)
    assert not re.search(r"(^| )- ", plain), plain
    # Both words are shown when two passages can show them, and marked.
    marked = {
        analyzer_for(language)(m, mode="query").__next__().text for __, ms in fragments for m in ms
    }
    assert len(marked) == 2, cut
    if language == "zh":
        # Chinese is cut by characters: about two lines, never a page.
        assert 100 <= len(plain) <= SNIPPET_CHARACTERS, plain
    else:
        assert 20 <= len(WORD.findall(plain)) <= SNIPPET_WORDS, plain


def test_one_passage_when_it_holds_every_word(index: SearchIndex) -> None:
    filler = " ".join(["ordinary words fill the text here"] * 20)
    text = f"{filler} Cooperatives and finance together. {filler} finance."
    [(passage, marks)] = fragments_of(
        snippet(highlight_of(parse(index, "cooperatives finance")), index, "en", text)
    )
    assert marks == ["Cooperatives", "finance"]
    assert len(WORD.findall(passage)) == SNIPPET_WORDS


def test_a_chinese_heading_loses_its_marks(index: SearchIndex) -> None:
    text = (
        "## 决议确认了什么\n\n"
        "- 大会确认社会和团结经济可以促进可持续发展。\n"
        "- 决议鼓励各国制定相关政策。"
    )
    cut = snippet(highlight_of(parse(index, "社会")), index, "zh", text)
    assert cut.startswith("决议确认了什么 大会确认<mark>社会</mark>") and "#" not in cut
