"""The invariants' leaves joined into a few tables (``_AllGood``): a batch of states passes
exactly when every state satisfies every invariant leaf, tested one by one."""

from __future__ import annotations

import os

import numpy as np
import pytest

import mscheck
from mscheck.engine.compile import CompiledModel
from mscheck.engine.packed import PackedModel
from mscheck.engine.vector import (GROUP_BITS, _AllGood, _Budget, _leaves, leaf_ok,
                                   vector_search)

from .test_agreement import ROOT


def _invariants(path: str, consts: dict):
    pm = PackedModel(CompiledModel(mscheck.load(os.path.join(ROOT, path), consts)))
    budget = _Budget()
    return pm, [(n, _leaves(leaves, 1, budget)) for n, leaves in pm.invariants.items()]


def test_philosophers_leaves_join_into_few_tables():
    pm, invariants = _invariants("specs/classic/philosophers6.ms", {"N": "12"})
    assert pm.bits == 48
    leaves = [leaf for _, ls in invariants for leaf in ls]
    assert len(leaves) == 24  # ForkConservation and NeighboursNeverEatTogether, 12 each
    all_good = _AllGood(invariants, 1)
    assert not all_good.rest
    assert len(all_good.groups) == 4  # keys of at most 16 bits: 4 phases and their forks
    assert all(fold.bits <= GROUP_BITS for fold, _ in all_good.groups)


def test_order_events_compound_leaves_are_tested_as_lanes():
    # NoOrderLost is one compound leaf per order (forall id in 1..ORDERS), all of one shape:
    # tested together, a bit each; NotifiedAtMostCreated is a simple leaf, in a table
    pm, invariants = _invariants("specs/seed/order_events.ms",
                                 {"ORDERS": "12", "CAPACITY": "3", "WORKERS": "5"})
    all_good = _AllGood(invariants, 1)
    assert not all_good.rest
    assert len(all_good.groups) == 1
    (lanes,) = all_good.lanes
    assert (lanes.dtype, lanes.full) == (np.uint16, 0xFFF)
    # id <= created, the queue, five workers' current orders, the processed orders (a bit
    # each, 12 in all): eight tables
    folds = [fold.bits for fold, _ in _columns(lanes.tree)]
    assert folds == [4, 11, 4, 4, 4, 4, 4, 12]
    assert lanes.nbytes == 2 * (16 + 2048 + 5 * 16 + 4096)


def test_lanes_that_would_take_too_much_memory_are_not_made(monkeypatch):
    import mscheck.engine.vector as vector

    monkeypatch.setattr(vector, "DENSE_BYTES", 2 * (16 + 2048 + 5 * 16 + 4096) - 1)
    _, invariants = _invariants("specs/seed/order_events.ms",
                                {"ORDERS": "12", "CAPACITY": "3", "WORKERS": "5"})
    all_good = _AllGood(invariants, 1)
    assert (all_good.lanes, len(all_good.rest)) == ([], 12)


def _columns(t) -> list:
    if t[0] == "leaf":
        return [(t[1], t[2])]
    if t[0] == "not":
        return _columns(t[1])
    return [c for x in t[1] for c in _columns(x)]


CASES = [("specs/classic/philosophers6.ms", {"N": "6"}),
         ("specs/seed/order_events.ms", {"ORDERS": "5", "CAPACITY": "2", "WORKERS": "2"})]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("path,consts", CASES, ids=["philosophers6", "order_events"])
@pytest.mark.parametrize("lanes", [64, 2])
def test_a_batch_passes_exactly_when_every_leaf_holds(seed, path, consts, lanes, monkeypatch):
    import mscheck.engine.vector as vector

    monkeypatch.setattr(vector, "LANES", lanes)
    pm, invariants = _invariants(path, consts)
    all_good = _AllGood(invariants, 1)
    if "order_events" in path:
        # the five orders' leaves: together, or in pairs and one left on its own
        assert ([lane.full for lane in all_good.lanes], len(all_good.rest)) == \
            (([0x1F], 0) if lanes == 64 else ([3, 3], 1))
    keep: dict = {}
    vector_search(pm, keep_going=True, keep=keep)
    reachable = np.concatenate([lv[0] for lv in keep["levels"]])
    rng = np.random.default_rng(seed)
    leaves = [leaf for _, ls in invariants for leaf in ls]
    # reachable states (every invariant holds), and some with one field set at random
    passed = failed = 0
    for _ in range(300):
        states = reachable[rng.integers(0, len(reachable), size=int(rng.integers(1, 4)))]
        if rng.random() < 0.5:
            f = int(rng.integers(0, len(pm.offset)))
            o, w = pm.offset[f], pm.width[f]
            v = np.uint64(int(rng.integers(0, len(pm.domains[f]))) << o)
            states[0] = (states[0] & ~np.uint64(((1 << w) - 1) << o)) | v
        want = all(leaf_ok(leaf, [states]).all() for leaf in leaves)
        assert all_good([states]) == want
        passed += want
        failed += not want
    assert passed > 100 and failed > 30


WIDE = """
const N = 2
service S[i in 1..N] {
  var a: 0..31 = 0
  action inc when a < 31 { a := a + 1 }
}
service T {
  var b: 0..31 = 0
  var c: 0..31 = 0
  var d: bool = false
  action step when b < 31 { b := b + 1 }
  action jump when c < 31 { c := c + 1 }
  action flip { d := not d }
}
invariant Mixed:
  forall i in 1..N:
    (S[i].a != T.b and T.c < 14) or (S[i].a + i > T.b and not T.d) or S[i].a == T.c
"""


@pytest.mark.parametrize("seed", range(3))
def test_lanes_with_and_inside_or_on_random_states(seed):
    # each conjunct reads 16 bits, more than one table takes: split into parts, one of them
    # an ``and`` of two; the two conjuncts are tested as two lanes, on states drawn at random
    pm = PackedModel(CompiledModel(mscheck.loads(WIDE, "wide.ms")))
    invariants = [(n, _leaves(leaves, 1, _Budget())) for n, leaves in pm.invariants.items()]
    all_good = _AllGood(invariants, 1)
    assert (len(all_good.lanes), all_good.rest, all_good.groups) == (1, [], [])
    tree = all_good.lanes[0].tree
    assert (tree[0], [x[0] for x in tree[1]], tree[1][0][1][0][0]) == \
        ("or", ["and", "leaf", "leaf"], "leaf")
    leaves = [leaf for _, ls in invariants for leaf in ls]
    rng = np.random.default_rng(seed)
    passed = failed = 0
    for _ in range(200):
        n = int(rng.integers(1, 5))
        states = np.zeros(n, dtype=np.uint64)
        for o, values in zip(pm.offset, pm.domains):
            states |= rng.integers(0, len(values), size=n).astype(np.uint64) << np.uint64(o)
        want = all(leaf_ok(leaf, [states]).all() for leaf in leaves)
        assert all_good([states]) == want
        passed += want
        failed += not want
    assert passed > 30 and failed > 30
