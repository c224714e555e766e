"""Walk the XML parts of ZIP-based documents, and follow OOXML relationships."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from urllib.parse import unquote
from xml.etree.ElementTree import Element

from knowledge_hub.extraction.safezip import SafeZip


def walk(
    root: Element,
    start: Callable[[Element, Element | None], bool],
    end: Callable[[Element], None],
) -> None:
    """Visit root's tree depth-first without recursion (documents can nest deeply).

    start(element, parent) returns whether to descend into the element; end
    is called for every element, visited or not.
    """
    stack: list[tuple[Element, Element | None, bool]] = [(root, None, False)]
    while stack:
        element, parent, finished = stack.pop()
        if finished:
            end(element)
            continue
        descend = start(element, parent)
        stack.append((element, parent, True))
        if descend:
            stack.extend((child, element, False) for child in reversed(element))


def local(tag: object) -> str:
    """Return the local part of a namespaced tag."""
    if not isinstance(tag, str):
        return ""  # comments and processing instructions
    return tag.rsplit("}", 1)[-1]


_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def relationships(zip_file: SafeZip, rels_name: str, base_dir: str) -> list[tuple[str, str, str]]:
    """Return (id, type, member name) for each internal relationship in a .rels part."""
    if not zip_file.has(rels_name):
        return []
    found: list[tuple[str, str, str]] = []
    for rel in zip_file.xml(rels_name).iter(f"{_REL_NS}Relationship"):
        if rel.get("TargetMode") == "External":
            continue
        target = unquote(rel.get("Target", ""))
        if target.startswith("/"):
            name = posixpath.normpath(target.lstrip("/"))
        else:
            name = posixpath.normpath(posixpath.join(base_dir, target))
        found.append((rel.get("Id", ""), rel.get("Type", ""), name))
    return found
