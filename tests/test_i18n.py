"""The interface in the six UN languages: complete catalogues, no unmarked text, and no
English left on any page in another language."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from sqlalchemy import select

from knowledge_hub import seed
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.services import setup
from tests.conftest import sign_in

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "translations"
LOCALES = ("ar", "es", "fr", "ru", "zh")
PLURAL_FORMS = {"ar": 6, "es": 2, "fr": 2, "ru": 3, "zh": 1}
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "N_": None,
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def template_catalog():
    with open(TRANSLATIONS / "messages.pot", encoding="utf-8") as f:
        return read_po(f)


def catalog(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", encoding="utf-8") as f:
        return read_po(f, locale=language)


def ids(message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def strings(message) -> tuple[str, ...]:
    value = message.string
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


@pytest.mark.parametrize("language", LOCALES)
def test_each_catalogue_translates_every_message(language: str) -> None:
    po = catalog(language)
    assert po.num_plurals == PLURAL_FORMS[language]
    problems = []
    for message in template_catalog():
        if not message.id:
            continue
        translated = po.get(message.id)
        if translated is None:
            problems.append(f"missing: {message.id!r}")
            continue
        if translated.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        texts = strings(translated)
        if not all(texts):
            problems.append(f"untranslated: {message.id!r}")
            continue
        expected = set(PLACEHOLDER.findall(" ".join(ids(message))))
        for index, text in enumerate(texts):
            found = set(PLACEHOLDER.findall(text))
            # The singular forms of a plural may say "one" or "two" instead of the number.
            allowed = (
                found <= expected
                if (message.pluralizable and index in (0, 1, 2))
                else found == expected
            )
            if not allowed:
                problems.append(f"placeholders {found} vs {expected}: {message.id!r}")
    assert problems == [], "\n".join(problems)


@pytest.mark.slow
def test_the_template_holds_every_marked_string() -> None:
    method_map = [
        ("knowledge_hub/**.py", "python"),
        ("knowledge_hub/templates/**.html", "jinja2"),
        ("knowledge_hub/templates/**.xml", "jinja2"),
        ("knowledge_hub/templates/**.txt", "jinja2"),
    ]
    extracted = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(str(ROOT), method_map, keywords=KEYWORDS)
    }
    in_template = {ids(m)[0] for m in template_catalog() if m.id}
    assert sorted(extracted - in_template) == [], (
        "run the pybabel extract and update commands in README.md"
    )


@pytest.mark.parametrize("language", LOCALES)
def test_the_compiled_catalogue_is_up_to_date(language: str) -> None:
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = read_mo(f)
    po = catalog(language)
    for message in po:
        if message.id and not message.fuzzy:
            assert compiled.get(message.id) is not None, f"compile the {language} catalogue"
            assert strings(compiled.get(message.id)) == strings(message), message.id


# Text a template may show as it is: proper names, units and data formats.
LITERAL = {
    "UTC",
    "KB",
    "UNTFSSE",
    "SSE",
    "API",
    "CSV",
    "ZIP",
    "BibTeX",
    "RIS",
    "CSL-JSON",
    "JSON",
    "PDF",
    "Atom",
    "OAI-PMH",
    "·",
    "—",
    "›",
    "✓",
    "✗",
    "✕",
    "…",
}
IMPORT_COLUMNS = {
    "ref",
    "file",
    "language",
    "title",
    "summary",
    "kind",
    "type",
    "date",
    "organizations",
    "authors",
    "topics",
    "regions",
    "access",
}


class _VisibleText(HTMLParser):
    """Collects text nodes and the attributes people read (title, alt, placeholder, aria-label)."""

    READ_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skip = 0

    # Recorded codes and values shown as data (audit details, commands) are not interface text.
    SKIPPED = ("script", "style", "code")

    def handle_starttag(self, tag: str, attrs: list) -> None:
        # A list whose options are codes (class "codes") is data as well.
        if tag in self.SKIPPED or (tag == "select" and "codes" in (dict(attrs).get("class") or "")):
            self._skip += 1
        for name, value in attrs:
            if name in self.READ_ATTRIBUTES and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if (tag in self.SKIPPED or tag == "select") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


def visible_texts(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    return parser.texts


def test_templates_mark_every_visible_string() -> None:
    problems = []
    jinja = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)
    for path in sorted((ROOT / "knowledge_hub" / "templates").rglob("*.html")):
        source = jinja.sub(" ", path.read_text(encoding="utf-8"))
        for text in visible_texts(source):
            words = re.findall(r"[A-Za-z][A-Za-z'’-]+", text)
            leftover = [w for w in words if w not in LITERAL and w.lower() not in IMPORT_COLUMNS]
            if leftover:
                problems.append(f"{path.relative_to(ROOT)}: {text!r}")
    assert problems == [], "\n".join(problems)


def _english_phrases(language: str) -> set[str]:
    """Messages whose translation differs from the English: finding one of them whole
    on a page in another language means it was left untranslated."""
    po = catalog(language)
    phrases = set()
    for message in template_catalog():
        if not message.id or message.pluralizable:
            continue
        if "%(" in message.id or len(message.id) < 4 or message.id in LITERAL:
            continue
        translated = po.get(message.id)
        if translated is not None and translated.string == message.id:
            continue
        phrases.add(message.id)
    return phrases


@pytest.mark.slow
def test_every_page_reads_in_each_language(app: Flask, make_user) -> None:
    with app.app_context():
        seed.criteria(db.session)
        db.session.commit()
        setup.load_demo()
        document_id = db.session.scalar(select(Document.id).order_by(Document.id))
    staff = app.test_client()
    sign_in(staff, make_user("staff", "reviewer", "admin"))
    translator = app.test_client()
    sign_in(translator, make_user("translator", languages=("fr",)))
    anonymous = app.test_client()
    values = {
        "document_id": document_id,
        "number": 47,
        "lang": "en",
        "language": "en",
        "filename": "hub.css",
    }
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if set(rule.arguments) - set(values):
            continue
        path = re.sub(
            r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule
        )
        pages.append(path)
    pages += ["/search?q=cooperatives", "/search?q=zzzzqqq", "/no-such-page"]
    problems = []
    for language in LOCALES:
        english = _english_phrases(language)
        for client in (anonymous, staff, translator):
            client.get(f"/?lang={language}")
            for path in pages:
                response = client.get(path)
                if response.mimetype != "text/html" or response.status_code in (301, 302, 303):
                    response.close()
                    continue
                html = response.get_data(as_text=True)
                if (
                    f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">'
                    not in html
                ):
                    problems.append(f"{language} {path}: wrong lang or dir")
                # English record texts are content, not interface: only whole messages count.
                leftovers = sorted({t for t in visible_texts(html) if t in english})
                if leftovers:
                    problems.append(f"{language} {path}: {leftovers[:5]}")
    assert problems == [], "\n".join(problems)
