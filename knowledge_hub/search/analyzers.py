"""One Whoosh analyzer per UN language: stemming where Snowball has a stemmer, a word
segmenter for Chinese, normalisation and stemming for Arabic.

The functions here are referenced from the index schema, so they must stay importable
by these names (Whoosh pickles analyzers by reference).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from collections.abc import Iterator
from functools import cache
from functools import lru_cache

import rjieba
import Stemmer
from whoosh.analysis import Analyzer
from whoosh.analysis import CharsetFilter
from whoosh.analysis import Filter
from whoosh.analysis import LowercaseFilter
from whoosh.analysis import RegexTokenizer
from whoosh.analysis import StemFilter
from whoosh.analysis import StopFilter
from whoosh.analysis import Token
from whoosh.analysis import Tokenizer
from whoosh.lang import stopwords_for_language
from whoosh.support.charset import accent_map

SNOWBALL_NAMES = {"en": "english", "fr": "french", "es": "spanish", "ru": "russian", "ar": "arabic"}

# Words joined by apostrophes or hyphens stay apart ("l'économie" -> "l", "économie").
# Combining marks are part of the word: Python's \w leaves out Arabic harakat and
# Latin combining accents, which would otherwise split a word in two.
#: Combining marks that belong to the word they are written on: Latin accents typed
#: apart, Arabic diacritics and tatweel.
WORD_MARKS = "\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640"
WORD = re.compile(rf"(?:\w|[{WORD_MARKS}])+")

# Arabic diacritics (harakat, shadda, sukun, superscript alef) and tatweel carry no
# meaning for search and are often absent from queries.
ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
ARABIC_LETTER_FORMS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})


@cache
def _stemmer(language: str) -> Stemmer.Stemmer:
    stemmer = Stemmer.Stemmer(SNOWBALL_NAMES[language])
    stemmer.maxCacheSize = 50_000
    return stemmer


def stem_en(word: str) -> str:
    return _stemmer("en").stemWord(word)


def stem_fr(word: str) -> str:
    return _stemmer("fr").stemWord(word)


def stem_es(word: str) -> str:
    return _stemmer("es").stemWord(word)


def stem_ru(word: str) -> str:
    # Snowball's Russian stemmer treats "ё" and "е" alike only after this step.
    return _stemmer("ru").stemWord(word.replace("ё", "е"))


def stem_ar(word: str) -> str:
    return _stemmer("ar").stemWord(word)


STEMMERS = {"en": stem_en, "fr": stem_fr, "es": stem_es, "ru": stem_ru, "ar": stem_ar}


# A conjunction or preposition written onto the article ("والاقتصاد", "بالتعاون"),
# which the Snowball stemmer leaves in place (light stemming after Larkey et al.).
ARABIC_JOINED_ARTICLE = re.compile("^[وبفك](?=ال..)")


def normalize_arabic(text: str) -> str:
    """Drop diacritics and tatweel, fold the letter forms that spelling varies on, and
    detach a conjunction or preposition written onto the article."""
    word = ARABIC_MARKS.sub("", text).translate(ARABIC_LETTER_FORMS)
    return ARABIC_JOINED_ARTICLE.sub("", word)


class ArabicNormalizeFilter(Filter):
    """Normalise Arabic tokens before stemming (see normalize_arabic)."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = normalize_arabic(t.text)
            if t.text:
                yield t


class ChineseTokenizer(Tokenizer):
    """Segment Chinese text into words with jieba (rjieba), keeping other words whole."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar = start_char
                t.endchar = start_char + len(value)
            yield t
            return
        # Search mode also yields the shorter words inside long compounds, so that
        # "权利" finds "一切权利".
        segment_mode = "search" if mode != "query" else "default"
        pos = start_pos
        for word, start, end in rjieba.tokenize(value, mode=segment_mode):
            if not WORD.search(word):
                continue
            t.text = word
            t.boost = 1.0
            if keeporiginal:
                t.original = word
            t.stopped = False
            if positions:
                t.pos = pos
                pos += 1
            if chars:
                t.startchar = start_char + start
                t.endchar = start_char + end
            yield t


class NFKCFilter(Filter):
    """Fold compatibility forms (full-width Latin letters, ligatures) to their plain form."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = unicodedata.normalize("NFKC", t.text)
            yield t


# Whoosh has no Arabic list; these are the commonest function words, already in the
# normalised spelling that ArabicNormalizeFilter produces.
ARABIC_STOPWORDS = frozenset(
    "في من على الى عن ان او ثم مع هذا هذه ذلك تلك التي الذي الذين كان كانت لا ما لم لن "
    "قد كل بين عند غير حتى اذا هو هي هم نحن انت انا و ب ل ف ك".split()
)


def _stoplist(language: str) -> frozenset[str]:
    if language == "ar":
        return ARABIC_STOPWORDS
    return frozenset(stopwords_for_language(language))


@cache
def analyzer_for(language: str) -> Analyzer:
    """Return the analyzer for text in one of the six UN languages."""
    if language == "zh":
        return ChineseTokenizer() | NFKCFilter() | LowercaseFilter()
    chain = RegexTokenizer(WORD) | NFKCFilter() | LowercaseFilter()
    if language not in STEMMERS:
        # Languages beyond the six: words as written, accents folded.
        return chain | CharsetFilter(accent_map)
    if language == "ar":
        chain = chain | ArabicNormalizeFilter()
    chain = chain | StopFilter(stoplist=_stoplist(language), minsize=1)
    chain = chain | StemFilter(stemfn=STEMMERS[language], cachesize=-1)
    if language in ("fr", "es"):
        # After stemming, so the stemmer sees the accents it expects, while queries
        # typed without accents still match ("developpement").
        chain = chain | CharsetFilter(accent_map)
    return chain


#: How many words' terms each word-by-word analyzer remembers for snippets.
WORD_TERM_CACHE = 20_000


def analyzes_word_by_word(language: str) -> bool:
    """Whether the language's analyzer makes each word's term from that word alone: all
    but Chinese's, whose segmenter reads the words around it."""
    return language != "zh"


@cache
def word_term(language: str) -> Callable[[str], str | None]:
    """For a word-by-word analyzer: the term one word (a WORD match) becomes, or None
    where the analyzer drops it; remembered, since a text repeats its words."""
    analyzer = analyzer_for(language)

    @lru_cache(maxsize=WORD_TERM_CACHE)
    def term(word: str) -> str | None:
        for token in analyzer(word, mode="query", removestops=False):
            return token.text
        return None

    return term


def spelling_analyzer() -> Analyzer:
    """Words as written, lowercased: the vocabulary of "did you mean" suggestions."""
    return RegexTokenizer(WORD) | NFKCFilter() | LowercaseFilter()
