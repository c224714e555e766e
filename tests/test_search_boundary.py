"""The search engine stays behind its package: the rest of the hub reaches it through
`knowledge_hub.search` alone, and no Whoosh object (a parsed query, a searcher) leaves
it, so that the engine can change without touching views, queries or services."""

from __future__ import annotations

import ast
from pathlib import Path

import knowledge_hub

PACKAGE = Path(knowledge_hub.__file__).parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_search_package_imports_whoosh_or_its_inner_modules() -> None:
    crossings = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "search":
            continue
        wrong = {
            name
            for name in imported_modules(path)
            if name == "whoosh" or name.startswith(("whoosh.", "knowledge_hub.search."))
        }
        if wrong:
            crossings[str(relative)] = sorted(wrong)
    assert crossings == {}


def test_a_search_result_holds_no_whoosh_object() -> None:
    from dataclasses import fields

    from knowledge_hub.search import SearchResult

    annotations = {f.name: str(f.type) for f in fields(SearchResult)}
    assert not [name for name, kind in annotations.items() if "Query" in kind or "whoosh" in kind]
    assert "highlight" in annotations


def test_the_outbox_knows_nothing_of_the_engine() -> None:
    names = imported_modules(PACKAGE / "search" / "outbox.py")
    assert not {n for n in names if n.startswith("whoosh") or n.startswith("knowledge_hub.search")}
