"""The array-based liveness search agrees with the list-based one on random graphs: a fair
lasso exists for one exactly when it exists for the other, and every lasso it returns is a
real path of the graph whose cycle is fair."""

from __future__ import annotations

from collections import deque

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mscheck.engine.livearray import ArrayGraph, find_lasso_arrays, find_livelock_arrays
from mscheck.engine.liveness import Graph, Obligation, find_lasso, find_livelock


def _bfs(n, succ):
    parent, depth = [-2] * n, [0] * n
    parent[0] = -1
    queue = deque([0])
    while queue:
        v = queue.popleft()
        for w, _ in succ[v]:
            if parent[w] == -2:
                parent[w], depth[w] = v, depth[v] + 1
                queue.append(w)
    return parent, depth


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 9))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                                    st.integers(0, 3)), max_size=3 * n))
    succ = [[] for _ in range(n)]
    for a, b, s in sorted(set(edges)):
        succ[a].append((b, s))
    parent, depth = _bfs(n, succ)
    keep = [v for v in range(n) if parent[v] != -2]  # the reachable part, renumbered
    new = {v: i for i, v in enumerate(keep)}
    succ = [[(new[w], s) for w, s in succ[v]] for v in keep]
    parent, depth = _bfs(len(keep), succ)
    obs = draw(st.lists(st.tuples(st.sampled_from(["weak", "strong"]),
                                  st.frozensets(st.integers(0, 3), min_size=1)), max_size=3))
    obligations = [Obligation(k, ids, f"o{i}") for i, (k, ids) in enumerate(obs)]
    m = len(keep)
    p = draw(st.lists(st.booleans(), min_size=m, max_size=m))
    q = draw(st.lists(st.booleans(), min_size=m, max_size=m))
    return succ, parent, depth, obligations, p, q


def _arrays(succ, parent, depth) -> ArrayGraph:
    indptr = np.cumsum([0] + [len(e) for e in succ]).astype(np.int64)
    dst = np.array([w for e in succ for w, _ in e], dtype=np.int64)
    sid = np.array([s for e in succ for _, s in e], dtype=np.int64)
    return ArrayGraph(indptr, dst, sid, np.array([0], dtype=np.int64),
                      np.array(parent, dtype=np.int64), np.array(depth, dtype=np.int64))


def _valid(succ, lasso, obligations, edge_ok=lambda sid: True):
    steps = lasso.prefix + lasso.cycle
    assert steps[0] == (0, None) or steps[0][0] == 0
    for (a, _), (b, sid) in zip(steps, steps[1:]):
        assert (b, sid) in succ[a] and (a, b) != (None, None)
    if lasso.cycle:
        assert lasso.cycle[-1][0] == lasso.prefix[lasso.loop_start][0]
        loop = [lasso.prefix[lasso.loop_start]] + lasso.cycle
        assert all(edge_ok(sid) for _, sid in lasso.cycle)
        states = {v for v, _ in loop}
        taken = {sid for _, sid in lasso.cycle}
        for ob in obligations:
            if ob.steps & taken:
                continue
            enabled = [v for v in states if any(s in ob.steps for _, s in succ[v])]
            if ob.strength == "weak":
                assert len(enabled) < len(states)
            else:
                assert not enabled
    else:
        assert not succ[steps[-1][0]]


@settings(max_examples=400, deadline=None)
@given(graphs())
def test_lassos_agree(case):
    succ, parent, depth, obligations, p, q = case
    lists = find_lasso(Graph(succ, [0], parent), lambda v: p[v], lambda v: q[v], obligations)
    arrays = find_lasso_arrays(_arrays(succ, parent, depth), np.array(p), np.array(q),
                               obligations)
    assert (lists is None) == (arrays is None)
    if arrays is not None:
        _valid(succ, arrays, obligations)
        # the same fair SCC (the one holding the lowest state), the same paths to and round it
        assert (arrays.prefix, arrays.loop_start, arrays.cycle) == (
            lists.prefix, lists.loop_start, lists.cycle)
        run = [v for v, _ in arrays.prefix + arrays.cycle]
        # some P-and-not-Q state after which Q never holds
        assert any(p[run[i]] and not any(q[v] for v in run[i:]) for i in range(len(run)))


@settings(max_examples=300, deadline=None)
@given(graphs(), st.frozensets(st.integers(0, 3)))
def test_livelocks_agree(case, progress):
    succ, parent, depth, obligations, _, _ = case
    lists = find_livelock(Graph(succ, [0], parent), progress, obligations)
    arrays = find_livelock_arrays(_arrays(succ, parent, depth), progress, obligations)
    assert (lists is None) == (arrays is None)
    if arrays is not None:
        _valid(succ, arrays, obligations, lambda sid: sid not in progress)
        assert arrays.cycle


def test_strong_fairness_refines_a_component():
    # 0 <-> 1 on step 0; state 1 also enables step 1 (to 2, a dead end that loops on 2)
    succ = [[(1, 0)], [(0, 0), (2, 1)], [(2, 2)]]
    g = _arrays(succ, [-1, 0, 1], [0, 1, 2])
    q = np.array([False, False, True])
    p = np.array([True, False, False])
    strong = [Obligation("strong", frozenset({1}), "s")]
    weak = [Obligation("weak", frozenset({1}), "w")]
    # weakly fair: 1 -> 2 is not enabled in state 0, so the 0-1 cycle is fair
    assert find_lasso_arrays(g, p, q, weak) is not None
    # strongly fair: step 1 is enabled infinitely often on 0-1, so it must be taken
    assert find_lasso_arrays(g, p, q, strong) is None
    assert find_lasso(Graph(succ, [0], [-1, 0, 1]), lambda v: p[v], lambda v: q[v],
                      strong) is None


def test_start_state_that_cannot_reach_the_fair_core():
    # 0 -> 1 -> 2, 2 has no step; P holds at 0 and 2, Q at 1: the nearest P state (0) cannot
    # reach the stuttering state 2 without passing Q, so the lasso starts at 2
    succ = [[(1, 0)], [(2, 0)], []]
    p, q = [True, False, True], [False, True, False]
    lasso = find_lasso(Graph(succ, [0], [-1, 0, 1]), lambda v: p[v], lambda v: q[v], [])
    assert (lasso.prefix, lasso.loop_start, lasso.cycle) == ([(0, None), (1, 0), (2, 0)], 2, [])
    arr = find_lasso_arrays(_arrays(succ, [-1, 0, 1], [0, 1, 2]), np.array(p), np.array(q), [])
    assert (arr.prefix, arr.loop_start, arr.cycle) == ([(0, None), (1, 0), (2, 0)], 2, [])


# ---------------------------------------------------------------- on specs, against scalar
import mscheck  # noqa: E402
import pytest  # noqa: E402
from mscheck.engine.check import check_spec  # noqa: E402
from mscheck.engine.compile import CompiledModel  # noqa: E402

from .helpers import SPECS, raw_path  # noqa: E402

PHILOSOPHERS_LIVE = (SPECS / "classic" / "philosophers.ms").read_text() + """
fairness weak Philosopher
leadsto Eats: Philosopher[1].phase == holding_left ~> Philosopher[1].phase == eating
always eventually Thinks: Philosopher[2].phase == thinking
"""
LIVE_SPECS = sorted(str(p.relative_to(SPECS)) for p in SPECS.glob("*/*.ms")
                    if any(w in p.read_text() for w in ("leadsto", "eventually", "progress")))


def _agree(spec):
    fast = check_spec(spec, keep_going=True, deadlock=False)
    slow = check_spec(spec, keep_going=True, deadlock=False, engine="scalar")
    assert (fast["verdict"], fast["states"]) == (slow["verdict"], slow["states"])
    live = {"liveness", "livelock"}

    def lassos(doc):  # both pick the fair SCC holding the lowest state: lassos as long
        return {v["property"]: (len(v["trace"]) - 1, v["loop_start"]) for v in doc["violations"]
                if v["kind"] in live}
    assert lassos(fast) == lassos(slow)
    model = CompiledModel(spec)
    for v in fast["violations"]:
        if v["kind"] in live:
            path = raw_path(model, v["trace"])  # every step is a step of the model
            if len(path) - 1 > v["loop_start"]:
                assert path[-1] == path[v["loop_start"]]  # the cycle closes
    return fast


@pytest.mark.parametrize("name", LIVE_SPECS)
def test_specs_agree_with_scalar(name):
    _agree(mscheck.load(str(SPECS / name)))


def test_philosophers_liveness_on_the_array_graph():
    doc = _agree(mscheck.loads(PHILOSOPHERS_LIVE, "p.ms", {"N": "6"}))
    assert doc["engine"] == "vector" and doc["states"] == 1297  # 1,298 closed walks, less the unreachable one
    got = {v["property"]: (len(v["trace"]) - 1, v["loop_start"]) for v in doc["violations"]
           if v["kind"] == "liveness"}
    # both end in the deadlock (all hold their left fork), which stutters for ever
    assert got == {"Eats": (6, 6), "Thinks": (6, 6)}


def test_shown_cycle_passes_where_a_weak_obligation_is_disabled():
    # quiet cycles: the self-loop 2 -> 2, and 2 -> 4 -> 1 -> 2; step 1 (progress, and the
    # weak obligation) is enabled only in state 2, so the self-loop alone is not fair
    succ = [[(2, 0), (3, 0)], [(2, 0)], [(0, 1), (2, 0), (4, 0)], [], [(1, 0)]]
    parent, depth = [-1, 4, 0, 0, 2], [0, 3, 1, 1, 2]
    weak = [Obligation("weak", frozenset({1}), "o0")]
    for lasso in (find_livelock(Graph(succ, [0], parent), frozenset({1}), weak),
                  find_livelock_arrays(_arrays(succ, parent, depth), frozenset({1}), weak)):
        _valid(succ, lasso, weak, lambda sid: sid != 1)
        assert {v for v, _ in lasso.cycle} == {1, 2, 4}


def test_positions_of_a_mask_a_slice_at_a_time(monkeypatch):
    import numpy as np

    from mscheck.engine import livearray

    monkeypatch.setattr(livearray, "POSITIONS_AT_ONCE", 7)  # slices cut across the runs
    mask = np.random.default_rng(3).random(1000) < 0.3
    for dtype in (np.int32, np.int64):
        got = livearray._positions(mask, dtype)
        assert got.dtype == dtype and got.tolist() == np.flatnonzero(mask).tolist()
    assert livearray._positions(np.zeros(20, dtype=bool), np.int32).tolist() == []


def test_a_small_graph_gets_its_sccs_without_scipy(check_in_fresh_interpreter):
    # 660 states: Tarjan's algorithm in Python takes less than loading SciPy (about 0.2 s)
    out = check_in_fresh_interpreter(str(SPECS / "seed" / "circuit_breaker_faults.ms"),
                                     ["engine", "verdict", "states"], "scipy.sparse.csgraph",
                                     properties=["Recloses"])
    assert out == ["vector", "ok", "660", "False"]
