"""Instances of a replicated service whose steps use the index only to name their own
variables share their table entries (``_Table.twin``): an instance's entry is the first
instance's, with the bits of the one's variables moved to the other's. The entries must be
exactly those the instance's own steps give, and the search the same as without sharing."""

from __future__ import annotations

import os

import pytest

import mscheck
from mscheck.engine.check import check_spec
from mscheck.engine.compile import CompiledModel
from mscheck.engine.packed import PackedModel
from mscheck.engine.vector import vector_search

from .test_agreement import ROOT

ORDER_EVENTS = os.path.join(ROOT, "specs", "seed", "order_events.ms")


def _tables(pm: PackedModel) -> list:
    """Every table, the parts of joined tables rather than them."""
    return [p for t in pm.tables for p in (t.parts or [t])]


def _order_events(**consts):
    from mscheck.cli import _load

    return _load(ORDER_EVENTS, {k: str(v) for k, v in consts.items()})[0]


def test_worker_tables_are_twins_with_the_entries_their_own_steps_give():
    pm = PackedModel(CompiledModel(_order_events(ORDERS=4, CAPACITY=2, WORKERS=3)))
    twins = {t.members[0][1].get("w"): t for t in _tables(pm) if t.twin is not None}
    assert sorted(twins) == [2, 3]
    first = twins[2].twin[0]
    assert first.members[0][1] == {"w": 1} and first.twin is None
    result = vector_search(pm, keep_going=True, check_deadlock=False)
    assert (result.states, result.transitions) == (560, 1_801)  # as the scalar engine finds
    for t in twins.values():
        assert len(t.entries) > 20
        for key, entry in t.entries.items():
            assert entry == t._compute(key)  # as the instance's own steps give it
    # what the first instance computed for its twins before meeting it is kept aside
    assert all(k not in first.entries for k in first.spare)


def test_sharing_changes_no_figure(monkeypatch):
    spec = _order_events(ORDERS=6, CAPACITY=3, WORKERS=3)
    props = ["NoOrderLost", "NotifiedAtMostCreated"]
    shared = check_spec(spec, keep_going=True, properties=props)
    monkeypatch.setattr(PackedModel, "_symmetric", lambda self, service: False)
    alone = check_spec(spec, keep_going=True, properties=props)
    assert (shared["states"], shared["transitions"]) == (alone["states"], alone["transitions"])
    assert shared["states"] == 3_177


BASE = """
system Twins

const N = 3
message Hello(from: 1..N)
channel box: fifo(2) of Hello

service Peer[p in 1..N] {
  var count: 0..2 = 0
  %s
  end when true
}
"""


@pytest.mark.parametrize("step,symmetric", [
    ("action tick when count < 2 { count := count + 1 }", True),
    # the index as a value: in a message, in a guard
    ("action hello when count < 2 { count := count + 1; box!Hello(p) }", False),
    ("action tick when count < p { count := count + 1 }", False),
    # another instance's variable
    ("action copy when count < 2 { count := Peer[1].count + 1 }", False),
])
def test_only_instances_that_use_their_index_for_their_own_variables_are_twins(step,
                                                                                symmetric):
    spec = mscheck.loads(BASE % step, "twins.ms")
    pm = PackedModel(CompiledModel(spec))
    assert pm._symmetric("Peer") is symmetric
    assert sum(t.twin is not None for t in _tables(pm)) == (2 if symmetric else 0)
    shared = check_spec(spec, keep_going=True)
    scalar = check_spec(spec, keep_going=True, engine="scalar")
    assert (shared["states"], shared["transitions"], shared["verdict"]) == \
        (scalar["states"], scalar["transitions"], scalar["verdict"])
