"""A guard against a CPython 3.11 memory corruption that SQLAlchemy's sessions set off.

CPython 3.11 may run the cyclic garbage collector inside any allocation of a tracked
object (3.12 moved it to the interpreter loop's safe points, python/cpython#97922, and
3.11 takes security fixes only). One such allocation is the dict an instance gets when
it stores an attribute whose name its class's shared keys have no room for: the
instance's values array is wrapped in a new dict, and only then detached from the
instance. If the collection that this allocation starts frees an object whose weakref
callback stores an attribute on the *same* instance, the callback wraps the same values
array in a second dict and frees it when that dict grows; the first store then goes on
with freed memory. The interpreter crashes later, wherever the memory is reused
(`tests/test_gc_safety.py` reproduces it in a few lines of plain Python).

SQLAlchemy's InstanceState meets every condition. The weakref to its mapped object calls
`InstanceState._cleanup`, which stores `session_id` and `_strong_obj`; `Session.close()`
stores `_strong_obj` on each state while the objects it let go of become garbage; and
the class's dict attributes are more than its shared keys hold, so which names miss them
depends on the order a process first set them. In the hub that made the server die with
a segmentation fault on the second page a new user opened.

The guard gives every InstanceState its dict before anything refers to it weakly: later
stores go into that dict, and a dict store allocates nothing the collector counts, so no
collection, and no callback, can run in the middle of one.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm.state import InstanceState

#: CPython versions that collect inside allocations (3.12 collects at safe points only).
COLLECTS_INSIDE_ALLOCATIONS = sys.version_info < (3, 12)


def _with_dict_first(method: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(method)
    def with_dict_first(self: InstanceState, *args: Any, **kwargs: Any) -> None:
        self.__dict__  # noqa: B018  (reading it gives the instance its own dict)
        method(self, *args, **kwargs)

    with_dict_first.gives_dict_first = True  # type: ignore[attr-defined]
    return with_dict_first


def give_instance_states_their_dicts() -> None:
    """Make every InstanceState (new, or unpickled) hold its attributes in a dict of its
    own from the start. Idempotent; nothing to do where the interpreter is not affected."""
    if not COLLECTS_INSIDE_ALLOCATIONS:
        return
    for name in ("__init__", "__setstate__"):
        method = getattr(InstanceState, name)
        if not getattr(method, "gives_dict_first", False):
            setattr(InstanceState, name, _with_dict_first(method))
