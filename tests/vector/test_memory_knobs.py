"""What the vector engine does to keep its peak down changes no result: levels kept in the
narrowest type of their top word, invariants tested a slice of a level at a time, batches
twice as large only from ``BIG_SEARCH`` visited states."""

from __future__ import annotations

import os

import numpy as np
import pytest

import mscheck
import mscheck.engine.vector as vector
from mscheck.engine.compile import CompiledModel
from mscheck.engine.packed import PackedModel, packed_search
from mscheck.engine.vector import _Layout, vector_search

from .test_agreement import ROOT, summary


def _model(path: str, consts: dict | None = None):
    spec = mscheck.load(os.path.join(ROOT, path), consts)
    return lambda: PackedModel(CompiledModel(spec))


@pytest.mark.parametrize("bits,kept,top", [(7, np.uint8, np.uint64), (29, np.uint32, np.uint64),
                                          (48, np.uint64, np.uint64),
                                          (80, np.uint16, np.uint16)])
def test_levels_keep_the_top_word_in_its_narrowest_type(bits, kept, top):
    layout = _Layout(bits)
    assert (layout.kept, layout.top) == (np.dtype(kept), np.dtype(top))
    states = layout.from_ints([0, 5, (1 << bits) - 1])
    stored = layout.store(states)
    assert stored[-1].dtype == kept
    assert layout.to_ints(stored) == [0, 5, (1 << bits) - 1]
    assert [x.dtype for x in layout.load(stored, 1, 3)] == [np.uint64] * layout.words
    assert layout.to_ints(layout.load(stored, 1, 3)) == [5, (1 << bits) - 1]


def test_narrow_levels_give_the_same_traces():
    make = _model("specs/seed/circuit_breaker_faults.ms")
    pm = make()
    assert pm.bits <= 32
    keep: dict = {}
    got = vector_search(pm, keep_going=True, keep=keep)
    assert {lv[0].dtype for lv in keep["levels"]} == {np.dtype(np.uint32)}
    assert sum(len(lv[0]) for lv in keep["levels"]) == got.states
    assert summary(got) == summary(packed_search(make(), keep_going=True))
    assert (got.states, len(got.violations)) == (660, 27)
    assert all(t is not None for t in got.traces)


@pytest.mark.parametrize("path,consts", [
    ("specs/seed/circuit_breaker_faults.ms", None),
    ("specs/seed/order_events.ms", {"ORDERS": "5", "CAPACITY": "2", "WORKERS": "2"}),
    ("specs/classic/philosophers6.ms", {"N": "6"}),
])
@pytest.mark.parametrize("keep_going", [False, True])
def test_invariants_tested_a_slice_at_a_time_find_the_same_violations(
        path, consts, keep_going, monkeypatch):
    make = _model(path, consts)
    want = summary(vector_search(make(), keep_going=keep_going))
    monkeypatch.setattr(vector, "GOOD_SLICE", 3)
    assert summary(vector_search(make(), keep_going=keep_going)) == want
    assert want == summary(packed_search(make(), keep_going=keep_going))


def test_larger_batches_from_big_search_give_the_same_results(monkeypatch):
    make = _model("specs/classic/philosophers6.ms", {"N": "8"})
    want = summary(vector_search(make(), keep_going=True, chunk=16384))
    monkeypatch.setattr(vector, "BIG_SEARCH", 0)  # batches of 32,768 states from the start
    got = vector_search(make(), keep_going=True, chunk=16384)
    assert summary(got) == want
    assert (got.states, got.transitions) == (42_686, 227_657)
