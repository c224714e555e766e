"""Snippets: one or two short passages of a version's text around the words a query
matched, marked, as safe HTML.

A snippet is cut from the text as a reader would read it: layout marks (Markdown
headings, bullets, quotes, emphasis and links, rules and underlines of plain-text
layouts) are left out and line breaks read as spaces. It is measured in words, except
in the languages written without spaces between words (Chinese, Japanese), where it
is measured in characters: about as much as two lines of a result list either way."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from whoosh import highlight
from whoosh.analysis import Token
from whoosh.query import Query

from knowledge_hub.search.analyzers import WORD
from knowledge_hub.search.analyzers import WORD_MARKS
from knowledge_hub.search.analyzers import analyzer_for
from knowledge_hub.search.analyzers import analyzes_word_by_word
from knowledge_hub.search.analyzers import word_term
from knowledge_hub.search.index import SearchIndex
from knowledge_hub.search.indexer import index_language
from knowledge_hub.search.schema import text_field
from knowledge_hub.search.schema import title_field

RULE_LINE = re.compile(r"[-=_*#~]{3,}")
WORD_CHAR = re.compile(rf"[\w{WORD_MARKS}]")
#: Where a word starts and where one ends (a fragment neither starts nor ends inside one).
WORD_START = re.compile(rf"(?<![\w{WORD_MARKS}])[\w{WORD_MARKS}]")
WORD_END = re.compile(rf"[\w{WORD_MARKS}](?![\w{WORD_MARKS}])")

#: The longest snippet: in words, and in characters for the languages below.
SNIPPET_WORDS = 36
SNIPPET_CHARACTERS = 160
#: Languages written without spaces between words: their snippets are cut by characters.
CHARACTER_LANGUAGES = frozenset({"zh", "ja"})
#: A snippet has at most this many passages (each then gets its share of the length).
SNIPPET_FRAGMENTS = 2
#: The longest word a text's window is not cut inside (within_snippet_window).
SNIPPET_CHARS = 300
#: Snippets are cut from this many first characters of a text (about twelve pages):
#: the work grows with the text, and a 10-million-character text took 10-25 s a search.
#: A record whose words match only further on shows its summary without a snippet.
SNIPPET_SCAN_CHARS = 30_000

#: What a reader does not read as text: a heading's #, a list's bullet or a quote's >
#: opening a line, a link's address, rules, emphasis and code marks.
_LINE_MARK = re.compile(r"\n[ \t]*(?:#{1,6}[ \t]+|[-*+•][ \t]+|>[ \t]?)")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\s]*\)")
_EMPHASIS = re.compile(r"\*\*|__|`+")


def clean_snippet_text(text: str) -> str:
    """text as a snippet shows it: without layout marks, on one line (every run of
    whitespace, line breaks included, one space).

    Each kind of mark is looked for only in a text that holds its characters: a
    pattern run over the whole text costs more than the rest of its snippet."""
    # A line break before the first line lets its mark be found as any other line's.
    text = _LINE_MARK.sub(" ", "\n" + text)
    if "](" in text:
        text = _LINK.sub(r"\1", text)
    if any(c * 3 in text for c in "-=_*#~"):
        text = RULE_LINE.sub(" ", text)
    if "**" in text or "__" in text or "`" in text:
        text = _EMPHASIS.sub("", text)
    return " ".join(text.split())


class _MarkFormatter(highlight.Formatter):
    """Wrap matched words in a bare <mark>, escaping everything else."""

    between = " … "

    def format_token(self, text: str, token: object, replace: bool = False) -> str:
        return f"<mark>{highlight.htmlescape(highlight.get_text(text, token, replace))}</mark>"

    def _text(self, text: str) -> str:
        return highlight.htmlescape(text, quote=False)


#: The (field, term) pairs a search looked for: what the snippets of its results mark.
Highlight = frozenset[tuple[str, str]]


def highlight_of(query: Query | None) -> Highlight:
    """The terms of a parsed query, by field, to mark in its results' snippets."""
    if query is None:
        return frozenset()
    return frozenset(
        (fieldname, word.decode("utf-8") if isinstance(word, bytes) else word)
        for fieldname, word in query.iter_all_terms()
    )


def snippet(
    highlight: Highlight,
    index: SearchIndex,
    language: str,
    text: str,
    top: int = SNIPPET_FRAGMENTS,
) -> str:
    """Up to `top` passages of text around the words looked for (highlight_of), marked,
    as safe HTML: at most SNIPPET_WORDS words in all (SNIPPET_CHARACTERS characters in
    Chinese and Japanese)."""
    if not highlight or not text:
        return ""
    lang = index_language(language, index.languages)
    fields = {title_field(lang), text_field(lang)}
    terms = frozenset(word for fieldname, word in highlight if fieldname in fields)
    if not terms:
        return ""
    text = clean_snippet_text(within_snippet_window(text))
    if analyzes_word_by_word(lang):
        # Only the words that match are looked at one by one: each distinct word of the
        # text is analysed once, then the matching ones are found with str.find.
        # Running every word through the analyzer took a fifth of a search page's time.
        matches = _matched_words(text, word_term(lang), terms)
    else:
        matches = _matched_tokens(text, lang, terms)
    units, length = _measure(language)
    return _MarkFormatter()(text, _passages(text, matches, units, length, top))


#: An opening is cut from this many first characters of a text, ample for its words.
OPENING_SCAN_CHARS = 3_000


def opening(language: str, text: str) -> str:
    """The beginning of text, as long as a snippet and as clean, as safe HTML: what a
    result shows of a version that did not match the query's words."""
    text = clean_snippet_text(text[:OPENING_SCAN_CHARS])
    units, length = _measure(language)
    end = units.forward(text, 0, length)
    more = " …" if end < len(text) else ""
    return highlight.htmlescape(text[:end], quote=False) + more


def _measure(language: str) -> tuple[_Units, int]:
    """How snippets in a language are measured, and their longest length."""
    if language.split("-")[0].lower() in CHARACTER_LANGUAGES:
        return _CHARACTERS, SNIPPET_CHARACTERS
    return _WORDS, SNIPPET_WORDS


def within_snippet_window(text: str) -> str:
    """The first SNIPPET_SCAN_CHARS characters of text, without a word cut at its end
    (it would be another word), unless the word is longer than SNIPPET_CHARS."""
    end = min(len(text), SNIPPET_SCAN_CHARS)
    if end == len(text):
        return text
    shortest = end - SNIPPET_CHARS
    while end > shortest and WORD_CHAR.match(text, end - 1) and WORD_CHAR.match(text, end):
        end -= 1
    return text[: end if end > shortest else SNIPPET_SCAN_CHARS]


def _matched_words(
    text: str, term_of: Callable[[str], str | None], terms: frozenset[str]
) -> list[Token]:
    """The words of text whose term is one of terms, in order, with their offsets."""
    surfaces = [w for w in set(WORD.findall(text)) if term_of(w) in terms]
    matches = []
    for surface in surfaces:  # str.find: compiling a pattern of them costs far more
        end = 0
        while (start := text.find(surface, end)) >= 0:
            end = start + len(surface)
            if (start and WORD_CHAR.match(text, start - 1)) or WORD_CHAR.match(text, end):
                continue  # inside a longer word
            matches.append(_match(term_of(surface), start, end))
    matches.sort(key=lambda token: token.startchar)
    return matches


def _matched_tokens(text: str, language: str, terms: frozenset[str]) -> list[Token]:
    """The tokens of text whose term is one of terms, for an analyzer that reads words
    in their context (Chinese's segmenter): the whole text goes through it."""
    return [
        _match(token.text, token.startchar, token.endchar)
        for token in analyzer_for(language)(text, chars=True, mode="query", removestops=False)
        if token.text in terms
    ]


def _match(term: str | None, start: int, end: int) -> Token:
    token = Token(chars=True, mode="query")
    token.text, token.startchar, token.endchar = term, start, end
    token.matched = True
    return token


@dataclass(frozen=True)
class _Units:
    """How a snippet's length is measured: counting the units between two offsets,
    and moving over a number of them backwards (to a unit's start) or forwards (to a
    unit's end)."""

    count: Callable[[str, int, int], int]
    back: Callable[[str, int, int], int]
    forward: Callable[[str, int, int], int]


#: How far back to look for each word before a match.
_WORD_LOOKBACK_CHARS = 40


def _words_back(text: str, pos: int, n: int) -> int:
    if n <= 0:
        return pos
    window = max(0, pos - n * _WORD_LOOKBACK_CHARS)
    starts = [m.start() for m in WORD_START.finditer(text, window, pos)]
    if len(starts) >= n:
        return starts[-n]
    return starts[0] if starts else pos


def _words_forward(text: str, pos: int, n: int) -> int:
    end = pos
    for taken, word_end in enumerate(WORD_END.finditer(text, pos)):  # no endpos: it
        if taken == n:  # would end the words there
            break
        end = word_end.end()
    return end


_WORDS = _Units(
    count=lambda text, start, end: len(WORD_START.findall(text, start, end)),
    back=_words_back,
    forward=_words_forward,
)
_CHARACTERS = _Units(
    count=lambda text, start, end: end - start,
    back=lambda text, pos, n: max(0, pos - max(0, n)),
    forward=lambda text, pos, n: min(len(text), pos + max(0, n)),
)


def _passages(
    text: str, matches: list[Token], units: _Units, length: int, top: int
) -> list[highlight.Fragment]:
    """The best passage of `length` units, or, when it leaves out words that `top`
    shorter passages would show, those."""
    scorer = highlight.BasicFragmentScorer()
    whole = highlight.top_fragments(
        _fragments(text, matches, units, length), 1, scorer, highlight.FIRST, minscore=1
    )
    if top < 2 or not whole:
        return whole
    words = {m.text for m in matches}
    if whole[0].matched_terms >= words:
        return whole
    parts = highlight.top_fragments(
        _fragments(text, matches, units, length // top), top, scorer, highlight.FIRST, minscore=1
    )
    shown = set().union(*(f.matched_terms for f in parts))
    return parts if len(shown) > len(whole[0].matched_terms) else whole


def _fragments(
    text: str, matches: list[Token], units: _Units, length: int
) -> list[highlight.Fragment]:
    """Cut text around the matches into passages of at most `length` units: each takes
    in the next matches while they fit, then the words around them, a third of what is
    left before the first match and the rest after the last."""
    fragments = []
    i = 0
    while i < len(matches):
        first = matches[i]
        taken = [first]
        i += 1
        while i < len(matches) and units.count(text, first.startchar, matches[i].endchar) <= length:
            taken.append(matches[i])
            i += 1
        last = taken[-1].endchar
        spare = max(0, length - units.count(text, first.startchar, last))
        start = units.back(text, first.startchar, spare // 3)
        before = units.count(text, start, first.startchar)
        end = units.forward(text, last, spare - before)
        fragments.append(highlight.Fragment(text, taken, start, end))
    return fragments
