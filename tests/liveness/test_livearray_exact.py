"""The pieces of the array-based liveness search give exactly what their plain versions give,
on random graphs with repeated edges, any number of obligations (more than 64 too), weak and
strong, and subsets of states and edges:

* ``fair_core`` (obligations as bit sets, the SCCs of the subgraph renumbered, refinement
  cut short) picks the same states as a reference that scans each obligation over all edges,
  labels the SCCs of the whole graph, refines every component to the end and takes the
  lowest state that stutters or, if there is none, of all the fair SCCs it finds the one
  holding the lowest state;
* ``_bfs_path`` (a layer at a time) returns the same path as the list-based breadth-first
  search of :mod:`mscheck.engine.liveness`.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mscheck.engine import liveness
from mscheck.engine.livearray import (ArrayGraph, _bfs_path, _lowest_bit, _reverse_sorted,
                                      _row_or, fair_core)
from mscheck.engine.liveness import Obligation


def reference_fair_core(g: ArrayGraph, nodes, edges, obligations, stutter=True):
    """Per obligation masks and per obligation counts over the SCC labels of all states."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n = g.n
    src = np.repeat(np.arange(n), np.diff(g.indptr))
    dst = g.dst.astype(np.int64)
    top = int(g.sid.max()) + 1 if len(g.sid) else 0
    ob_edges = []
    for ob in obligations:
        table = np.zeros(max(top, 1), dtype=bool)
        table[[i for i in ob.steps if 0 <= i < top]] = True
        ob_edges.append(table[g.sid])
    out_full = np.diff(g.indptr)
    enabled = []
    for em in ob_edges:
        en = np.zeros(n, dtype=bool)
        en[src[em]] = True
        enabled.append(en)
    nodes = nodes.copy()
    found = []  # every fair SCC (a boolean mask)
    while nodes.any():
        emask = edges & nodes[src] & nodes[dst]
        m = csr_matrix((np.ones(int(emask.sum()), dtype=np.int8), (src[emask], dst[emask])),
                       shape=(n, n))
        labels = connected_components(m, directed=True, connection="strong")[1]
        labels = np.where(nodes, labels, -1)
        ncomp = int(labels.max()) + 1
        members = labels >= 0
        size = np.bincount(labels[members], minlength=ncomp)
        inner = emask & (labels[src] == labels[dst])
        has_edge = np.bincount(labels[src[inner]], minlength=ncomp) > 0
        if stutter:
            terminal = members & (out_full == 0)
            if terminal.any():
                core = np.zeros(n, dtype=bool)
                core[int(np.flatnonzero(terminal)[0])] = True
                return core
        first_fail = np.full(ncomp, len(obligations), dtype=np.int64)
        for k, (ob, em) in enumerate(zip(obligations, ob_edges)):
            taken = np.bincount(labels[src[inner & em]], minlength=ncomp) > 0
            en_count = np.bincount(labels[members & enabled[k]], minlength=ncomp)
            fails = ~taken & ((en_count == size) if ob.strength == "weak" else (en_count > 0))
            first_fail = np.where((first_fail == len(obligations)) & fails, k, first_fail)
        fair = has_edge & (first_fail == len(obligations))
        found += [labels == c for c in np.flatnonzero(fair)]
        nxt = np.zeros(n, dtype=bool)
        for k, ob in enumerate(obligations):
            if ob.strength == "strong":
                comps = np.flatnonzero(has_edge & (first_fail == k))
                nxt |= np.isin(labels, comps) & ~enabled[k]
        nodes = nxt
    return min(found, key=lambda core: int(np.flatnonzero(core)[0]), default=None)


@st.composite
def cases(draw):
    n = draw(st.integers(1, 16))
    nsid = draw(st.integers(1, 6))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                                    st.integers(0, nsid - 1)), max_size=4 * n))
    succ = [[] for _ in range(n)]
    for a, b, s in edges:  # repeated edges (and repeated targets) kept, in the drawn order
        succ[a].append((b, s))
    count = draw(st.sampled_from([0, 1, 2, 3, 9, 17, 40, 70]))
    obligations = [Obligation(draw(st.sampled_from(["weak", "strong"])),
                              draw(st.frozensets(st.integers(0, nsid), min_size=1, max_size=3)),
                              f"o{i}") for i in range(count)]
    wide = draw(st.booleans())
    return succ, obligations, wide, draw(st.integers(0, 2 ** 31))


def _graph(succ, wide: bool) -> ArrayGraph:
    n = len(succ)
    indptr = np.cumsum([0] + [len(e) for e in succ]).astype(np.int64)
    dst = np.array([w for e in succ for w, _ in e], dtype=np.int64 if wide else np.int32)
    sid = np.array([s for e in succ for _, s in e], dtype=np.int32)
    zeros = np.zeros(n, dtype=np.int64)
    return ArrayGraph(indptr, dst, sid, np.array([0], dtype=np.int64), zeros - 1, zeros)


@settings(max_examples=600, deadline=None)
@given(cases(), st.booleans())
def test_fair_core_is_the_reference(case, python_sccs):
    """Either way of finding the SCCs: SciPy's, or (small subgraphs, SciPy not loaded yet)
    Tarjan's in Python."""
    import mscheck.engine.livearray as la

    succ, obligations, wide, seed = case
    loaded, la._scipy_loaded = la._scipy_loaded, (lambda: False) if python_sccs else (
        lambda: True)
    try:
        _compare_with_reference(succ, obligations, wide, seed)
    finally:
        la._scipy_loaded = loaded


def _compare_with_reference(succ, obligations, wide, seed):
    g = _graph(succ, wide)
    rng = np.random.default_rng(seed)
    for _ in range(3):
        nodes = rng.random(g.n) < rng.uniform(0.3, 1.0)
        edges = rng.random(len(g.dst)) < rng.uniform(0.3, 1.0)
        for stutter in (True, False):
            want = reference_fair_core(g, nodes, edges, obligations, stutter)
            got = fair_core(g, nodes, edges, obligations, stutter)
            assert (got is None) == (want is None)
            if want is not None:
                assert np.array_equal(got, want)
    everything = np.ones(len(g.dst), dtype=bool)
    nodes = np.ones(g.n, dtype=bool)
    want = reference_fair_core(g, nodes, everything, obligations)
    got = fair_core(g, nodes, None, obligations)
    assert (got is None) == (want is None) and (want is None or np.array_equal(got, want))


@settings(max_examples=400, deadline=None)
@given(cases())
def test_bfs_path_is_the_list_search(case):
    succ, _, wide, seed = case
    g = _graph(succ, wide)
    rng = np.random.default_rng(seed)
    for _ in range(4):
        within = rng.random(g.n) < 0.8
        targets = rng.random(g.n) < 0.3
        edges = None if rng.random() < 0.5 else rng.random(len(g.dst)) < 0.7
        start = int(rng.integers(g.n))
        lists = g.succ(edges)
        try:
            want = liveness._bfs_path(lists, start, set(np.flatnonzero(targets).tolist()),
                                      set(np.flatnonzero(within).tolist()))
        except AssertionError:
            want = None
        try:
            got = _bfs_path(g, edges, start, targets, within)
        except AssertionError:
            got = None
        assert got == want


@pytest.mark.parametrize("n", [1, 5, 300, 70000, 200000])
def test_reverse_sorted_is_the_transpose(n):
    from scipy.sparse import csr_matrix

    rng = np.random.default_rng(n)
    m = 3 * n
    src = np.sort(rng.integers(0, n, m)).astype(np.int32)
    dst = rng.integers(0, n, m).astype(np.int32)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    rev = csr_matrix((np.ones(m, dtype=np.int8), dst, indptr), shape=(n, n)).T.tocsr()
    got = _reverse_sorted(n, src, dst)
    assert np.array_equal(got[0], rev.indptr) and np.array_equal(got[1], rev.indices)


def test_bits():
    bits = np.array([0b0110, 0, 0b1000, 0b0001, 0], dtype=np.uint8)
    indptr = np.array([0, 2, 2, 5])  # rows of 2, 0 and 3 entries
    assert _row_or(indptr, bits).tolist() == [0b0110, 0, 0b1001]
    x = np.array([0, 1, 6, 1 << 63, (1 << 64) - 1, 1 << 40], dtype=np.uint64)
    assert _lowest_bit(x).tolist() == [-1, 0, 1, 63, 0, 40]


# ---------------------------------------------------- lassos with real cycles, on the engine
import mscheck  # noqa: E402
from mscheck.engine.check import check_spec  # noqa: E402
from mscheck.engine.compile import CompiledModel  # noqa: E402

from .helpers import SPECS, raw_path  # noqa: E402

# dining philosophers where the last one takes its right fork first: no deadlock, so every
# fair behaviour that starves someone is a cycle (none ends in a state without a step)
ASYMMETRIC = (SPECS / "classic" / "philosophers.ms").read_text()
ASYMMETRIC = ASYMMETRIC[:ASYMMETRIC.index("def holds_left")].replace(
    "def left(p) =", "def first(p) = if p == N then right(p) else p\n"
    "def second(p) = if p == N then p else right(p)\ndef left(p) =").replace(
    "fork[p]?(_) when phase == thinking", "fork[first(p)]?(_) when phase == thinking").replace(
    "fork[right(p)]?(_) when", "fork[second(p)]?(_) when").replace(
    "fork[p]!(true); phase := holding_right", "fork[first(p)]!(true); phase := holding_right"
).replace("fork[right(p)]!(true); phase := thinking",
          "fork[second(p)]!(true); phase := thinking") + """
leadsto Eats: Philosopher[1].phase == holding_left ~> Philosopher[1].phase == eating
always eventually Thinks: Philosopher[2].phase == thinking
eventually Sated: Philosopher[1].phase == sated
"""


@pytest.mark.parametrize("fairness,want", [
    ("", {"Eats": (6, 1), "Thinks": (6, 1), "Sated": (5, 0)}),
    ("fairness weak Philosopher", {"Eats": (21, 1), "Thinks": (21, 1), "Sated": (20, 0)}),
    ("fairness strong Philosopher", {}),
    ("fairness weak Philosopher, strong Philosopher.take_right", {"Sated": (45, 0)}),
    ("fairness weak Philosopher.eat, strong Philosopher.take_left",
     {"Eats": (31, 1), "Thinks": (22, 2), "Sated": (31, 1)}),
])
def test_fair_cycles_on_the_vector_engine(fairness, want):
    spec = mscheck.loads(ASYMMETRIC + fairness + "\n", "a.ms", {"N": "5"})
    doc = check_spec(spec, keep_going=True, deadlock=False)
    assert doc["engine"] == "vector" and doc["states"] == 393
    got = {v["property"]: (len(v["trace"]) - 1, v["loop_start"]) for v in doc["violations"]}
    assert got == want  # (trace length, where the cycle starts): the lassos shown
    slow = check_spec(spec, keep_going=True, deadlock=False, engine="scalar")
    assert {v["property"]: (len(v["trace"]) - 1, v["loop_start"])
            for v in slow["violations"]} == want  # the scalar engine's lassos are as long
    model = CompiledModel(spec)
    for v in doc["violations"]:
        path = raw_path(model, v["trace"])  # every step is a step of the model
        assert path[-1] == path[v["loop_start"]]  # the cycle closes
