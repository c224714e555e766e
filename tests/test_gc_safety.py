"""The guard against CPython 3.11's collections inside attribute stores (gc_safety).

Each case runs in a new interpreter with Python's debug allocator, which fills freed
memory with a pattern, so that a use of freed memory crashes there and then instead of
corrupting something else."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from knowledge_hub.gc_safety import COLLECTS_INSIDE_ALLOCATIONS
from tests.server import PROJECT_ROOT

affected = pytest.mark.skipif(
    not COLLECTS_INSIDE_ALLOCATIONS, reason="this interpreter collects at safe points only"
)

# The interpreter's bug in plain Python: a store that wraps the instance's values in a
# dict starts a collection, whose weakref callback stores on the same instance.
PLAIN_PYTHON = """
import gc, weakref

class Garbage: pass
class Holder: pass

filler = Holder()
for i in range(40):  # fill the class's shared keys: new names miss them
    setattr(filler, f"name{i}", i)
holder = Holder()
holder.name0 = 0

def callback(ref):
    holder.stored_by_callback = True

gc.disable()
garbage = Garbage()
garbage.cycle = garbage
watch = weakref.ref(garbage, callback)
del garbage
spare_dicts = [{} for _ in range(200)]  # the next dict is a new allocation
gc.enable()
gc.set_threshold(1)
holder.stored_by_caller = True  # collects, in the middle of this store
gc.set_threshold(700)
print(sorted(vars(holder)))
"""

# The same with SQLAlchemy's InstanceState, as Session.close() meets it: it stores
# _strong_obj on a state whose object is garbage by then, and collecting that object
# calls the state's weakref callback (_cleanup), which stores session_id and _strong_obj.
INSTANCE_STATE = """
import gc, sys
from sqlalchemy import inspect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

if sys.argv[1] == "guarded":
    from knowledge_hub.gc_safety import give_instance_states_their_dicts
    give_instance_states_their_dicts()

class Base(DeclarativeBase): pass
class Record(Base):
    __tablename__ = "record"
    id: Mapped[int] = mapped_column(primary_key=True)

kept = Record()  # alive: its state's callback would store _strong_obj first
filler = inspect(kept)
filler.session_id = 1
for i in range(40):  # fill InstanceState's shared keys: _strong_obj misses them
    setattr(filler, f"name{i}", i)

gc.disable()
record = Record()
state = inspect(record)
state.session_id = 7
record.cycle = record  # garbage only the collector finds, once let go of
del record
spare_dicts = [{} for _ in range(200)]
gc.enable()
gc.set_threshold(1)
state._strong_obj = None  # as Session.close() does; collects in the middle unguarded
gc.set_threshold(700)
gc.collect()
print("cleaned up" if state.session_id is None and state.obj() is None else "not cleaned up")
"""


def run_python(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONMALLOC": "debug", "PYTHONFAULTHANDLER": "1"},
        capture_output=True,
        text=True,
        errors="replace",  # a crashing child may print freed memory's bytes
        timeout=120,
    )


@affected
def test_the_interpreter_loses_or_crashes_on_a_store_from_a_collection_in_a_store():
    """The upstream bug, reproduced in plain Python: if this starts passing, the
    interpreter no longer needs the guard."""
    result = run_python(PLAIN_PYTHON)
    kept_both = "'stored_by_callback'" in result.stdout and "'stored_by_caller'" in result.stdout
    assert result.returncode != 0 or not kept_both, result.stdout


@affected
def test_an_unguarded_instance_state_meets_the_bug():
    """Without the guard the InstanceState case crashes: the guarded case below tests the
    very path that crashed the server."""
    result = run_python(INSTANCE_STATE, "unguarded")
    assert result.returncode != 0 or "not cleaned up" in result.stdout, result.stdout


@pytest.mark.slow
def test_a_guarded_instance_state_keeps_the_callbacks_stores():
    result = run_python(INSTANCE_STATE, "guarded")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "cleaned up"


@affected
def test_the_hub_guards_instance_states_as_soon_as_its_models_exist():
    from sqlalchemy.orm.state import InstanceState

    import knowledge_hub.models  # noqa: F401

    assert InstanceState.__init__.gives_dict_first  # type: ignore[attr-defined]
    assert InstanceState.__setstate__.gives_dict_first  # type: ignore[attr-defined]
