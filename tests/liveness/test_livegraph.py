"""The state graph of :func:`mscheck.engine.livegraph.build_graph` is the same whether the
edges' targets come from the vector search (recorded with ``keep``) or are looked up in a
hash index of the states: for a search wholly on the vector engine, one handed over from the
packed loop, and one the packed loop finished alone."""

from __future__ import annotations

import os

import numpy as np
import pytest

import mscheck
from mscheck.engine.compile import CompiledModel
from mscheck.engine.livegraph import GraphTooWide, build_graph
from mscheck.engine.packed import PackedModel
from mscheck.engine.vector import CHECK_EVERY, SMALL_LEVEL, vector_search

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _model(rel: str, consts: dict | None = None) -> PackedModel:
    return PackedModel(CompiledModel(mscheck.load(os.path.join(ROOT, rel), consts or {})))


def _graphs(pm: PackedModel, **kwargs):
    kept: dict = {}
    r = vector_search(pm, keep_going=True, check_deadlock=False, properties=[], keep=kept,
                      **kwargs)
    assert r.complete and "dst" in kept
    kept["packed_levels"] = r.packed_levels
    recorded = build_graph(pm, kept)
    looked_up = build_graph(pm, {k: v for k, v in kept.items() if k != "dst"})
    return kept, recorded, looked_up


def _same(a, b):
    (ga, sa, ia), (gb, sb, ib) = a, b
    assert np.array_equal(sa, sb) and ia == ib
    for name in ("indptr", "dst", "sid", "initial", "parent", "depth"):
        assert np.array_equal(getattr(ga, name), getattr(gb, name)), name
    assert np.array_equal(ga.src(), gb.src())


CASES = [("specs/classic/philosophers.ms", {"N": "5"}),
         ("specs/classic/philosophers.ms", {"N": "8"}),
         ("specs/classic/two_phase.ms", None), ("specs/classic/tcommit.ms", None),
         ("specs/seed/service_registry.ms", None), ("specs/seed/load_balancer.ms", None),
         ("specs/seed/order_events.ms", None)]


@pytest.mark.parametrize("small", [0, 5, SMALL_LEVEL])
@pytest.mark.parametrize("rel,consts", CASES, ids=lambda x: str(x))
def test_recorded_targets_make_the_same_graph(rel, consts, small):
    kept, recorded, looked_up = _graphs(_model(rel, consts), small=small, chunk=CHECK_EVERY)
    _same(recorded, looked_up)
    assert len(recorded[0].dst) == int(recorded[0].indptr[-1])
    if small == 0:
        assert kept["dst_level"] == 0 and len(kept["dst"]) == len(recorded[0].dst)


def test_hand_over_from_the_packed_loop():
    # philosophers N = 8: levels of 1, 8, 36, 112, 266, ... states; from the level of 266
    # states (the first of SMALL_LEVEL or more) the vector engine expands, and it records
    # the targets of the levels before too
    kept, recorded, looked_up = _graphs(_model("specs/classic/philosophers.ms", {"N": "8"}),
                                        small=SMALL_LEVEL)
    assert kept["packed_levels"] == 4 and kept["dst_level"] == 0
    assert len(kept["dst"]) == len(recorded[0].dst)
    _same(recorded, looked_up)


def test_targets_of_the_first_levels_looked_up():
    # a recording from level 4 on: the targets of the edges of levels 0-3 are looked up
    kept, recorded, _ = _graphs(_model("specs/classic/philosophers.ms", {"N": "8"}))
    first = int(recorded[0].indptr[1 + 8 + 36 + 112])  # the edges of the first 4 levels
    part = dict(kept, dst=kept["dst"][first:], dst_level=4)
    _same(build_graph(_model("specs/classic/philosophers.ms", {"N": "8"}), part), recorded)


def test_packed_loop_alone():
    kept, recorded, looked_up = _graphs(_model("specs/classic/tcommit.ms"), small=10 ** 6)
    assert kept["dst_level"] == len(kept["levels"]) and not len(kept["dst"])
    _same(recorded, looked_up)


def test_wide_states_fall_back():
    text = open(os.path.join(ROOT, "specs", "classic", "philosophers.ms")).read()
    pad = "\n".join(f"var pad{i}: 0..16383 = 0" for i in range(4)) + "\n"  # 56 bits more
    at = text.index("service Philosopher")
    pm = PackedModel(CompiledModel(mscheck.loads(text[:at] + pad + text[at:], "w.ms")))
    assert pm.bits > 64
    kept: dict = {}
    vector_search(pm, keep_going=True, check_deadlock=False, keep=kept)
    assert "dst" not in kept  # not recorded for states the graph does not take
    with pytest.raises(GraphTooWide):
        build_graph(pm, kept)


STEP_CASES = CASES + [("specs/seed/circuit_breaker_faults.ms", None),
                      ("specs/seed/saga_faults.ms", None),
                      ("specs/classic/alternating_bit.ms", None)]


@pytest.mark.parametrize("rel,consts", STEP_CASES, ids=lambda x: str(x))
def test_steps_recorded_as_tables_fill_give_the_same_step_ids(rel, consts):
    """With ``record_steps`` the tables keep each successor's step as they compute it (a
    twin's are its first instance's, renamed), and the graph's step ids are those found by
    computing every entry again with its labels."""
    graphs = []
    for record in (False, True):
        pm = _model(rel, consts)
        pm.record_steps = record
        kept: dict = {}
        vector_search(pm, keep_going=True, check_deadlock=False, properties=[], keep=kept,
                      chunk=CHECK_EVERY)
        recorded = sum(len(t.steps_of) for t in pm.tables for t in (t.parts or [t]))
        assert (recorded > 0) == record
        if record:  # no step is run again to label the edges
            pm.model.step_successors = None
        graphs.append(build_graph(pm, kept))
    _same(*graphs)
    assert len(graphs[0][2]) > 1  # several kinds of step
