"""The query language: words, "quoted phrases", (groups), AND, OR, NOT and -word,
read into a tree whose meaning is decided per record (matching.py).

- Words side by side are alternatives (OR), ranked by how many of them a record holds
  (coordination.py); AND asks for both, OR for either.
- NOT and a leading minus exclude: `a NOT b` and `a -b` mean a and not b. In a group,
  the excluded parts are taken away from what its other parts match, as in Lucene, so
  `a OR NOT b` is a without b too; a group made only of exclusions matches nothing.
- A minus inside a word (`high-speed`, `A/RES/77/281`) is part of the word, and such
  joined words match a version that holds all their parts.
- AND binds closer than OR: `a b AND c` is a, or b and c.
- A field name before a word, a "quoted phrase" or a (group) looks for it in one part
  of the record only: `title:`, `author:`, `org:` (an acronym or a name in any
  language), `type:` (a type code or label), `year:` (`year:2023`, `year:2019..2023`)
  and `ref:` (a record's ref or a document symbol). Names are read without case; any
  other `name:` (`http://x`, `status:draft`) is a word as written.

Reading never fails: a stray operator or parenthesis is dropped, an unclosed quote or
parenthesis ends with the query."""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge_hub.search.analyzers import WORD

#: Words that are operators when written in capitals.
OPERATORS = frozenset({"AND", "OR", "NOT"})

#: Capitalised words that Whoosh's own parser would read as operators; the words of the
#: query given to it for scoring are lowercased when they are one of these.
WHOOSH_OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})

#: The fields a query may name, as the advanced search form writes them.
FIELDS = ("title", "author", "org", "type", "year", "ref")

#: A field name written right before a quote or a parenthesis is a token of its own;
#: before a word it is part of the word's token (`title:economy`), read by _fielded().
_FIELD_PREFIX = "|".join(FIELDS)
_TOKEN = re.compile(rf'\s+|(?i:{_FIELD_PREFIX}):(?=["(])|"[^"]*"?|\(|\)|-(?=[^\s-])|-+|[^\s"()]+')
_FIELDED_WORD = re.compile(rf"(?i)({_FIELD_PREFIX}):(.*)", re.DOTALL)


@dataclass(frozen=True)
class Word:
    text: str


@dataclass(frozen=True)
class Phrase:
    text: str


@dataclass(frozen=True)
class Not:
    part: Node


@dataclass(frozen=True)
class AllOf:
    """Every part (AND), less the excluded parts."""

    parts: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    """One of the parts (OR, or words side by side), less the excluded parts."""

    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Fielded:
    """A word, a phrase or a group looked for in one field of the record (FIELDS)."""

    field: str
    part: Node


Node = Word | Phrase | Not | AllOf | AnyOf | Fielded


def joined(word: str) -> bool:
    """Whether a word is words joined by a hyphen, a slash or other marks (`high-speed`,
    `A/RES/77/281`): it matches a version that holds all of them."""
    return len(WORD.findall(word)) > 1


def has_operators(q: str) -> bool:
    """Whether q uses AND, NOT, a leading minus (Whoosh's parser reads them per
    language version, or not at all: "NOT NOT a") or a field name."""
    return any(token in ("AND", "NOT", "-") or _fielded(token) is not None for token in _tokens(q))


def _fielded(token: str) -> tuple[str, str] | None:
    """(field, what follows the colon) of a token that starts with a field's name."""
    match = _FIELDED_WORD.fullmatch(token)
    return (match.group(1).lower(), match.group(2)) if match else None


def _tokens(q: str) -> list[str]:
    tokens = []
    for match in _TOKEN.finditer(q):
        token = match.group()
        if token.isspace() or (token.startswith("-") and token.strip("-") == ""):
            if token == "-" and match.end() < len(q) and not q[match.end()].isspace():
                tokens.append("-")
            continue
        tokens.append(token)
    return tokens


def negate(node: Node) -> Node:
    return node.part if isinstance(node, Not) else Not(node)


class _Reader:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def alternatives(self, inside: bool) -> Node | None:
        parts: list[Node] = []
        while (token := self.peek()) is not None:
            if token == ")":
                if inside:
                    break
                self.take()  # a parenthesis closing nothing
                continue
            if token == "OR" or token == "AND":
                self.take()  # an operator with nothing before it
                continue
            part = self.conjunction()
            if part is not None:
                parts.append(part)
            if self.peek() == "OR":
                self.take()
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def conjunction(self) -> Node | None:
        first = self.unary()
        parts = [] if first is None else [first]
        while (token := self.peek()) in ("AND", "NOT"):
            self.take()
            if token == "AND" and self.peek() in ("AND", "OR", ")", None):
                continue
            part = self.unary()
            if part is not None:
                parts.append(part if token == "AND" else negate(part))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def unary(self) -> Node | None:
        token = self.peek()
        if token is None or token in (")", "AND", "OR"):
            return None
        self.take()
        if token in ("NOT", "-"):
            part = self.unary()
            return None if part is None else negate(part)
        if token == "(":
            group = self.alternatives(inside=True)
            if self.peek() == ")":
                self.take()
            return group
        if token.startswith('"'):
            text = token.strip('"').strip()
            return Phrase(text) if text else None
        fielded = _fielded(token)
        if fielded is not None:
            field, rest = fielded
            if rest:
                return Fielded(field, Word(rest))
            # A name followed by a quote or a parenthesis (the tokenizer keeps it apart
            # only then): the phrase or the group is what the field is searched for.
            if self.peek() == "(" or _is_phrase(self.peek()):
                part = self.unary()
                return None if part is None else Fielded(field, part)
            return Word(token)  # "title:" followed by a space is a word, as before
        return Word(token)


def _is_phrase(token: str | None) -> bool:
    return token is not None and token.startswith('"')


def read(q: str) -> Node | None:
    """The tree of q (None: nothing to look for)."""
    return _Reader(_tokens(q)).alternatives(inside=False)


def sought(node: Node | None) -> list[Word | Phrase | Fielded]:
    """The words, phrases and fielded words a record is looked for by (those not
    excluded), in the query's order: what ranks the records that match. A fielded
    group comes as one Fielded of the group's sought words."""
    if node is None or isinstance(node, Not):
        return []
    if isinstance(node, Word | Phrase):
        return [node]
    if isinstance(node, Fielded):
        inner = sought(node.part)
        if not inner:
            return []
        return [Fielded(node.field, inner[0] if len(inner) == 1 else AnyOf(tuple(inner)))]
    return [leaf for part in node.parts for leaf in sought(part)]


def unfielded(leaves: list[Word | Phrase | Fielded]) -> list[Word | Phrase]:
    """The leaves looked for in every field."""
    return [leaf for leaf in leaves if not isinstance(leaf, Fielded)]


def fielded(leaves: list[Word | Phrase | Fielded]) -> list[Fielded]:
    """The leaves looked for in one field each."""
    return [leaf for leaf in leaves if isinstance(leaf, Fielded)]


def as_words(leaves: list[Word | Phrase]) -> str:
    """The words and phrases as a query of alternatives for Whoosh's parser."""
    written = []
    for leaf in leaves:
        if isinstance(leaf, Phrase):
            written.append(f'"{leaf.text}"')
        elif leaf.text in WHOOSH_OPERATORS:
            written.append(leaf.text.lower())
        else:
            written.append(leaf.text)
    return " ".join(written)


def write(node: Node) -> str:
    """The query text of a tree, which read() reads back to the same meaning."""
    if isinstance(node, Fielded):
        part = write(node.part)
        return f"{node.field}:{part if isinstance(node.part, Word | Phrase) else f'({part})'}"
    if isinstance(node, Word):
        return node.text
    if isinstance(node, Phrase):
        return f'"{node.text}"'
    if isinstance(node, Not):
        return f"-{_grouped(node.part)}"
    joiner = " AND " if isinstance(node, AllOf) else " OR "
    return joiner.join(_grouped(part) for part in node.parts)


def _grouped(node: Node) -> str:
    return f"({write(node)})" if isinstance(node, AllOf | AnyOf) else write(node)
