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
from mscheck.engine.packed import PackedModel, packed_search
from mscheck.engine.vector import vector_search

from .test_agreement import ROOT, summary

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


def test_the_vector_engine_reads_the_first_instances_arrays(monkeypatch):
    import mscheck.engine.vector as V

    made = []
    real = V._vtables
    monkeypatch.setattr(V, "_vtables", lambda *a, **k: made.append(real(*a, **k)) or made[-1])
    sizes = dict(ORDERS=6, CAPACITY=2, WORKERS=3)
    # tables not joined: a worker's two steps read different slots, so each worker has two
    # tables (the queue and its order; its order and the processed set)
    pm = PackedModel(CompiledModel(_order_events(**sizes)), max_table=1)
    shared = vector_search(pm, keep_going=True, check_deadlock=False)
    assert sum(isinstance(vt, V._SharedVTable) for vt in made[-1]) == 4
    twin = next(vt for vt in made[-1] if isinstance(vt, V._SharedVTable))
    assert not twin.table.entries  # made only when a trace or a failing step needs them
    monkeypatch.setattr(V, "_vtables", lambda pm, layout, budget, share:
                        real(pm, layout, budget, False))
    alone = vector_search(PackedModel(CompiledModel(_order_events(**sizes)), max_table=1),
                          keep_going=True, check_deadlock=False)
    assert (shared.states, shared.transitions) == (alone.states, alone.transitions) == \
        (2_243, 7_866)  # as the scalar engine finds
    twin.sync()  # the entries made from the first instance's: those of the instance itself
    assert len(twin.table.entries) == len(twin.src.table.entries)
    for key, entry in twin.table.entries.items():
        assert entry == twin.table._compute(key)


TWIN_FAULTS = """
system TwinFaults
service W[i in 1..3] {
  var c: 0..3 = if i == 3 then INIT else 0
  action inc when c < 3 { CHECK c := c + 1 }
  end when true
}
"""


@pytest.mark.parametrize("init,check,extra,length", [
    # found after steps of the twins W[2] and W[3]: the initial state and three steps
    (0, "", "invariant NotThere: not (W[3].c == 2 and W[2].c == 1)", 4),
    # a step of the twin W[3] fails first (its count starts higher)
    (1, 'assert c < 2 else "too far";', "", 2),
])
def test_violations_in_twin_instances_have_the_packed_loops_traces(init, check, extra,
                                                                      length):
    text = TWIN_FAULTS.replace("INIT", str(init)).replace("CHECK", check) + extra + "\n"
    spec = mscheck.loads(text, "twin_faults.ms")
    pm = PackedModel(CompiledModel(spec))
    assert sum(t.twin is not None for t in _tables(pm)) == 2
    # tables not joined (so the twins' tables read the first one's arrays), and the vector
    # search from the first level (no packed loop for the small ones)
    make = lambda: PackedModel(CompiledModel(spec), max_table=1)  # noqa: E731
    assert sum(t.twin is not None for t in make().tables) == 2
    packed, vector = summary(packed_search(make())), summary(vector_search(make()))
    assert vector == packed
    assert vector["verdict"] == "violation"
    trace = vector["traces"][0]
    assert len(trace) == length
    assert "W[3]" in str([step for step, _ in trace])


def test_steps_that_read_different_slots_key_different_tables(monkeypatch):
    spec = _order_events(ORDERS=6, CAPACITY=2, WORKERS=3)
    pm = PackedModel(CompiledModel(spec), max_table=1)  # tables not joined again
    tables = [([st["name"] for st, _ in t.members],
               sorted(pm.model.slot_names[i] for i in t.slots))
              for t in pm.tables if t.members[0][1].get("w") == 1]
    # not one table of queue x order x processed set
    assert tables == [(["finish"], ["OrderProcessing[1].current", "processed"]),
                      (["on_OrderCreated"], ["OrderProcessing[1].current",
                                             "processing_queue"])]
    split = vector_search(pm, keep_going=True, check_deadlock=False)
    # one table per instance, as before the split: the same search, more entries computed
    monkeypatch.setattr(PackedModel, "_runs_of_steps", lambda self, members: [(
        members, set().union(*(self._slots_of(st["node"], inst) for st, inst in members)))])
    one = PackedModel(CompiledModel(spec), max_table=1)
    whole = vector_search(one, keep_going=True, check_deadlock=False)
    assert (split.states, split.transitions, split.depth) == \
        (whole.states, whole.transitions, whole.depth)
    assert (split.states, split.transitions) == (2_243, 7_866)
    computed = [sum(len(t.entries) for t in p.tables if t.twin is None) for p in (pm, one)]
    assert computed == [249, 399]  # the first instances' entries (the others share them)


def test_small_joined_key_spaces_are_split_when_the_parts_are_far_smaller(monkeypatch):
    # service_registry with 3 instances: the frontend's steps read 7,776 keys together
    # (below MAX_TABLE) but 4 + 648 + 144 apart; they are keyed apart, each part's entries
    # computed once (and joined with other tables' for one lookup a state)
    from mscheck.engine import packed as P

    spec = mscheck.load(os.path.join(ROOT, "specs", "seed", "service_registry.ms"),
                        {"N": "3"})
    props = ["StaleOnlyWhileInFlight", "UpIsDiscoverable"]

    def frontend(pm):
        return [p for t in pm.tables for p in (t.parts or [t])
                if p.members and p.members[0][0]["service"] == "Frontend"]

    pm = PackedModel(CompiledModel(spec))
    parts = frontend(pm)
    assert [[st["name"] for st, _ in p.members] for p in parts] == \
        [["discover"], ["call"], ["on_Snapshot"]]
    split = vector_search(pm, keep_going=True, properties=props)
    assert [len(p.entries) for p in parts] == [3, 648, 80]
    # as one table: the same search, more entries computed
    monkeypatch.setattr(P, "SPLIT_MIN", 1 << 60)
    one = PackedModel(CompiledModel(spec))
    (whole,) = frontend(one)
    assert [st["name"] for st, _ in whole.members] == ["discover", "call", "on_Snapshot"]
    result = vector_search(one, keep_going=True, properties=props)
    assert len(whole.entries) == 6_480
    assert summary(split) == summary(result)
    assert (split.states, split.transitions) == (1_920_000, 15_565_441)
