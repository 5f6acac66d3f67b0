"""Liveness on a state graph held in arrays, for graphs too big for Python lists.

The same search as :mod:`mscheck.engine.liveness` (read its docstring for the semantics:
fair SCCs with Streett refinement, lassos whose cycle is itself fair), on a graph in
compressed sparse row form: ``indptr`` and, per edge, ``dst`` (target state) and ``sid``
(step id). Strongly connected components come from SciPy's ``connected_components``
(Pearce's algorithm, in C); the fairness of every component is decided at once with
``bincount`` over component labels; a strong obligation that fails removes its enabled
states from the components it fails in, and those are split again, all of them in one pass.
Only the lasso itself (a few paths through the graph) is built in Python.

The verdicts are those of :func:`mscheck.engine.liveness.find_lasso` and
:func:`~mscheck.engine.liveness.find_livelock`; the lasso shown may be another one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from mscheck.engine.liveness import Lasso, Obligation, _bfs_path, _cycle_through

__all__ = ["ArrayGraph", "fair_core", "find_lasso_arrays", "find_livelock_arrays"]


@dataclass
class ArrayGraph:
    """States ``0..n-1``; the edges of state ``v`` are ``indptr[v]:indptr[v + 1]`` of
    ``dst`` and ``sid``; ``parent`` is the breadth-first parent (-1 for an initial state)
    and ``depth`` the breadth-first depth."""

    indptr: np.ndarray
    dst: np.ndarray
    sid: np.ndarray
    initial: np.ndarray
    parent: np.ndarray
    depth: np.ndarray

    @property
    def n(self) -> int:
        return len(self.indptr) - 1

    def src(self) -> np.ndarray:
        """The source state of every edge (computed once)."""
        cached = getattr(self, "_src", None)
        if cached is None:
            cached = self._src = np.repeat(np.arange(self.n, dtype=np.int64),
                                           np.diff(self.indptr))
        return cached

    def succ(self, edge_mask: np.ndarray | None = None) -> "_Succ":
        return _Succ(self, edge_mask)


class _Succ:
    """``succ[v]``: the (target, step id) pairs of state ``v``, as the list-based search of
    :mod:`mscheck.engine.liveness` reads them (only the edges in ``mask``)."""

    def __init__(self, g: ArrayGraph, mask: np.ndarray | None):
        self.g, self.mask = g, mask

    def __getitem__(self, v: int):
        a, b = int(self.g.indptr[v]), int(self.g.indptr[v + 1])
        d, s = self.g.dst[a:b], self.g.sid[a:b]
        if self.mask is not None:
            keep = self.mask[a:b]
            d, s = d[keep], s[keep]
        return list(zip(d.tolist(), s.tolist()))

    def __len__(self):
        return self.g.n


def _scc_labels(g: ArrayGraph, src: np.ndarray, emask: np.ndarray) -> np.ndarray:
    """SCC label of every state in the subgraph of the edges in ``emask``."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n = g.n
    s, d = src[emask], g.dst[emask]
    m = csr_matrix((np.ones(len(s), dtype=np.int8), (s, d)), shape=(n, n))
    _, labels = connected_components(m, directed=True, connection="strong")
    return labels


def _sid_mask(g: ArrayGraph, ids) -> np.ndarray:
    """Which edges take one of the steps ``ids`` (a lookup by step id, not a search)."""
    top = int(g.sid.max()) + 1 if len(g.sid) else 0
    table = np.zeros(max(top, 1), dtype=bool)
    for i in ids:
        if 0 <= i < top:
            table[i] = True
    return table[g.sid]


def _ob_masks(g: ArrayGraph, obligations: Sequence[Obligation]) -> list[np.ndarray]:
    """Per obligation, which edges take one of its steps."""
    return [_sid_mask(g, ob.steps) for ob in obligations]


def fair_core(g: ArrayGraph, nodes: np.ndarray, edges: np.ndarray,
              obligations: Sequence[Obligation], stutter: bool = True,
              src: np.ndarray | None = None, ob_edges: list | None = None):
    """The states of one fair SCC inside ``nodes`` (a boolean mask over states), cycles made
    of the edges in ``edges`` (a boolean mask over edges; the whole graph says what is
    enabled), or None."""
    src = g.src() if src is None else src
    ob_edges = _ob_masks(g, obligations) if ob_edges is None else ob_edges
    n = g.n
    out_full = np.diff(g.indptr)
    # per obligation, the states where one of its steps is enabled
    enabled = []
    for em in ob_edges:
        en = np.zeros(n, dtype=bool)
        en[src[em]] = True
        enabled.append(en)
    nodes = nodes.copy()
    while nodes.any():
        emask = edges & nodes[src] & nodes[g.dst]
        labels = _scc_labels(g, src, emask)
        labels = np.where(nodes, labels, -1)
        ncomp = int(labels.max()) + 1
        members = labels >= 0
        size = np.bincount(labels[members], minlength=ncomp)
        inner = emask & (labels[src] == labels[g.dst])
        has_edge = np.bincount(labels[src[inner]], minlength=ncomp) > 0
        # a state with no step at all stutters for ever: a fair cycle of its own
        if stutter:
            terminal = members & (out_full == 0)
            if terminal.any():
                v = int(np.flatnonzero(terminal)[0])
                core = np.zeros(n, dtype=bool)
                core[v] = True
                return core
        cyclic = has_edge  # a component with an inner edge has a cycle
        first_fail = np.full(ncomp, len(obligations), dtype=np.int64)
        for k, (ob, em) in enumerate(zip(obligations, ob_edges)):
            taken = np.bincount(labels[src[inner & em]], minlength=ncomp) > 0
            en_count = np.bincount(labels[members & enabled[k]], minlength=ncomp)
            if ob.strength == "weak":
                fails = ~taken & (en_count == size)
            else:
                fails = ~taken & (en_count > 0)
            first_fail = np.where((first_fail == len(obligations)) & fails, k, first_fail)
        fair = cyclic & (first_fail == len(obligations))
        if fair.any():
            c = int(np.flatnonzero(fair)[0])
            return labels == c
        # refine: in each cyclic component whose first failing obligation is strong, drop
        # the states where that obligation is enabled; split what is left again
        nxt = np.zeros(n, dtype=bool)
        for k, ob in enumerate(obligations):
            if ob.strength != "strong":
                continue
            comps = np.flatnonzero(cyclic & (first_fail == k))
            if len(comps):
                inside = np.isin(labels, comps)
                nxt |= inside & ~enabled[k]
        nodes = nxt
    return None


def _spread(indptr: np.ndarray, nbr: np.ndarray, starts: np.ndarray,
            within: np.ndarray) -> np.ndarray:
    """The states of ``within`` reachable from ``starts & within`` along the rows
    ``indptr``/``nbr`` (a breadth-first closure, a frontier at a time)."""
    seen = starts & within
    frontier = np.flatnonzero(seen)
    while len(frontier):
        a, b = indptr[frontier], indptr[frontier + 1]
        cnt = b - a
        total = int(cnt.sum())
        if not total:
            break
        pos = np.repeat(a - (np.cumsum(cnt) - cnt), cnt) + np.arange(total)
        w = nbr[pos]
        w = np.unique(w[within[w] & ~seen[w]])
        seen[w] = True
        frontier = w
    return seen


def _reach(g: ArrayGraph, starts: np.ndarray, within: np.ndarray) -> np.ndarray:
    """The states of ``within`` reachable from ``starts`` through states of ``within``."""
    return _spread(g.indptr, g.dst, starts, within)


def _reach_back(g: ArrayGraph, targets: np.ndarray, within: np.ndarray) -> np.ndarray:
    """The states of ``within`` from which some state of ``targets`` is reachable through
    states of ``within``."""
    from scipy.sparse import csr_matrix

    n = g.n
    fwd = csr_matrix((np.ones(len(g.dst), dtype=np.int8), g.dst, g.indptr), shape=(n, n))
    rev = fwd.T.tocsr()  # a counting sort by target, in C
    return _spread(rev.indptr, rev.indices, targets, within)


def _path_from_initial(g: ArrayGraph, v: int) -> list[tuple[int, int | None]]:
    path = []
    while v >= 0:
        par = int(g.parent[v])
        sid = None
        if par >= 0:
            a, b = int(g.indptr[par]), int(g.indptr[par + 1])
            k = int(np.flatnonzero(g.dst[a:b] == v)[0])
            sid = int(g.sid[a + k])
        path.append((v, sid))
        v = par
    return list(reversed(path))


def _nearest(g: ArrayGraph, starts: np.ndarray) -> int:
    """The start state closest to an initial state (then the lowest)."""
    idx = np.flatnonzero(starts)
    return int(idx[np.lexsort((idx, g.depth[idx]))[0]])


def find_lasso_arrays(g: ArrayGraph, p: np.ndarray, q: np.ndarray,
                      obligations: Sequence[Obligation]) -> Lasso | None:
    """A fair behaviour that reaches a P-and-not-Q state and never reaches Q afterwards
    (``p``, ``q``: boolean masks over the states)."""
    not_q = ~q
    starts = not_q & p
    if not starts.any():
        return None
    region = _reach(g, starts, not_q)
    src = g.src()
    core = fair_core(g, region, np.ones(len(g.dst), dtype=bool), obligations, True, src)
    if core is None:
        return None
    # the nearest start from which the fair core is reachable without passing Q
    start = _nearest(g, starts & _reach_back(g, core, region))
    prefix = _path_from_initial(g, start)
    succ = g.succ()
    region_set = set(np.flatnonzero(region).tolist())
    core_set = set(np.flatnonzero(core).tolist())
    to_core = _bfs_path(succ, start, core_set, region_set)
    prefix += to_core[1:]
    entry = prefix[-1][0]
    cycle = _fair_cycle(g, None, src, entry, core, core_set, obligations)
    return Lasso(prefix, len(prefix) - 1, cycle)


def find_livelock_arrays(g: ArrayGraph, progress: frozenset[int],
                         obligations: Sequence[Obligation]) -> Lasso | None:
    """A fair reachable cycle that takes no progress step."""
    quiet = ~_sid_mask(g, progress)
    nodes = np.ones(g.n, dtype=bool)
    core = fair_core(g, nodes, quiet, obligations, stutter=False)
    if core is None:
        return None
    entry = _nearest(g, core)
    prefix = _path_from_initial(g, entry)
    core_set = set(np.flatnonzero(core).tolist())
    cycle = _fair_cycle(g, quiet, g.src(), entry, core, core_set, obligations)
    return Lasso(prefix, len(prefix) - 1, cycle)


def _fair_cycle(g: ArrayGraph, edges, src, entry: int, core: np.ndarray, core_set: set,
                obligations) -> list[tuple[int, int | None]]:
    """As :func:`mscheck.engine.liveness._fair_cycle`: a cycle from ``entry`` through the
    core and back that takes, for each obligation, the first of its edges inside the core,
    and passes a core state where each weak obligation it cannot take is not enabled;
    empty when ``entry`` has no step."""
    succ = g.succ(edges)
    if not succ[entry]:
        return []
    inside = core[src] & core[g.dst]
    if edges is not None:
        inside &= edges
    needed, visit = [], []
    for ob, em in zip(obligations, _ob_masks(g, obligations)):
        hit = np.flatnonzero(inside & em)
        if len(hit):
            e = int(hit[0])
            needed.append((int(src[e]), int(g.dst[e]), int(g.sid[e])))
        elif ob.strength == "weak":  # the core is fair: some state has it disabled
            enabled = np.zeros(g.n, dtype=bool)
            enabled[src[em]] = True
            visit.append(int(np.flatnonzero(core & ~enabled)[0]))
    return _cycle_through(succ, entry, needed, visit, core_set)
