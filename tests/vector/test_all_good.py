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


@pytest.mark.parametrize("seed", range(3))
def test_a_batch_passes_exactly_when_every_leaf_holds(seed):
    pm, invariants = _invariants("specs/classic/philosophers6.ms", {"N": "6"})
    all_good = _AllGood(invariants, 1)
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
