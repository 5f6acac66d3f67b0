"""Liveness on a state graph held in arrays, for graphs too big for Python lists.

The same search as :mod:`mscheck.engine.liveness` (read its docstring for the semantics:
fair SCCs with Streett refinement, lassos whose cycle is itself fair), on a graph in
compressed sparse row form: ``indptr`` and, per edge, ``dst`` (target state) and ``sid``
(step id). Strongly connected components come from SciPy's ``connected_components``
(Pearce's algorithm, in C) on the subgraph searched, its states renumbered. The
obligations are bit sets (64 to a word): one lookup by step id gives the obligations each
edge takes, an OR over a state's edges those enabled there, and the fairness of every
component is decided at once by OR and AND over its states and inner edges; a strong
obligation that fails removes its enabled states from the components it fails in, and
those are split again, all of them in one pass. The paths of the lasso are found by
breadth-first searches a layer at a time, as the list-based search would find them.

The verdicts are those of :func:`mscheck.engine.liveness.find_lasso` and
:func:`~mscheck.engine.liveness.find_livelock`; the lasso shown may be another one.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from mscheck.engine.liveness import Lasso, Obligation, _cycle_through, _sccs
from mscheck.engine.search import poll

__all__ = ["ArrayGraph", "fair_core", "find_lasso_arrays", "find_livelock_arrays"]

POSITIONS_AT_ONCE = 1 << 24  # edges scanned at once for the positions of a subgraph's edges
# a subgraph of at most this many states and edges gets its SCCs in Python while SciPy is not
# loaded: loading it takes longer (about 0.2 s)
SMALL_SCC = 1 << 14


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

    def degree(self) -> np.ndarray:
        """The number of edges of every state (computed once)."""
        cached = getattr(self, "_degree", None)
        if cached is None:
            cached = self._degree = np.diff(self.indptr)
        return cached

    def at_source(self, mask: np.ndarray) -> np.ndarray:
        """``mask`` (over the states) at the source of every edge: ``mask[src()]``, made by
        repeating each state's value over its edges."""
        return np.repeat(mask, self.degree())

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


def _sid_mask(g: ArrayGraph, ids) -> np.ndarray:
    """Which edges take one of the steps ``ids`` (a lookup by step id, not a search)."""
    top = int(g.sid.max()) + 1 if len(g.sid) else 0
    table = np.zeros(max(top, 1), dtype=bool)
    for i in ids:
        if 0 <= i < top:
            table[i] = True
    return table[g.sid]


def _bits_dtype(k: int) -> np.dtype:
    return np.dtype(np.uint8 if k <= 8 else np.uint16 if k <= 16 else
                    np.uint32 if k <= 32 else np.uint64)


class _Obligations:
    """The obligations as bit sets, in words of up to 64 (bit ``j`` of word ``w`` is
    obligation ``64 w + j``): per edge, those whose steps it takes (``edge``, one gather from
    a table by step id); per state, those enabled there (``enabled``: the OR over its
    edges); per word, the weak ones and the strong ones. Made once per graph and list of
    obligations."""

    def __init__(self, g: ArrayGraph, obligations: Sequence[Obligation]):
        self.k = len(obligations)
        top = int(g.sid.max()) + 1 if len(g.sid) else 0
        self.edge, self.enabled, self.weak, self.strong, self.base = [], [], [], [], []
        for base in range(0, self.k, 64):
            group = obligations[base:base + 64]
            dtype = _bits_dtype(len(group))
            table = np.zeros(max(top, 1), dtype=dtype)
            weak = strong = 0
            for j, ob in enumerate(group):
                for i in ob.steps:
                    if 0 <= i < top:
                        table[i] |= dtype.type(1 << j)
                if ob.strength == "weak":
                    weak |= 1 << j
                else:
                    strong |= 1 << j
            bits = table[g.sid]
            self.edge.append(bits)
            self.enabled.append(_row_or(g.indptr, bits))
            self.weak.append(dtype.type(weak))
            self.strong.append(dtype.type(strong))
            self.base.append(base)
        self.is_strong = np.array([ob.strength == "strong" for ob in obligations] + [False])

    @staticmethod
    def of(g: ArrayGraph, obligations: Sequence[Obligation]) -> "_Obligations":
        cache = g.__dict__.setdefault("_obligations", {})
        key = tuple(obligations)
        got = cache.get(key)
        if got is None:
            got = cache[key] = _Obligations(g, obligations)
        return got

    def has(self, bits: list[np.ndarray], k: int) -> np.ndarray:
        """Where obligation ``k`` is in the bit sets ``bits`` (one array per word)."""
        w, j = divmod(k, 64)
        x = bits[w]
        return (x >> x.dtype.type(j)) & x.dtype.type(1) != 0


def _row_or(indptr: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """Per row of ``indptr``: the OR of ``bits`` over its entries (0 for an empty row)."""
    out = np.zeros(len(indptr) - 1, dtype=bits.dtype)
    rows = np.flatnonzero(indptr[1:] > indptr[:-1])
    if len(rows):
        out[rows] = np.bitwise_or.reduceat(bits, indptr[rows])
    return out


def _lowest_bit(x: np.ndarray) -> np.ndarray:
    """The index of the lowest set bit of each (unsigned) value; -1 for 0."""
    x = x.astype(np.uint64)
    low = x & (~x + np.uint64(1))
    return np.frexp(low.astype(np.float64))[1].astype(np.int64) - 1  # low = 2 ** (e - 1)


def _positions(mask: np.ndarray, dtype, count: int | None = None) -> np.ndarray:
    """``np.flatnonzero(mask)`` as ``dtype``, found a slice at a time (no int64 array as
    long as the whole is made on the way); ``count``: how many are set, when known."""
    out = np.empty(int(np.count_nonzero(mask)) if count is None else count, dtype=dtype)
    at = 0
    for a in range(0, len(mask), POSITIONS_AT_ONCE):
        nz = np.flatnonzero(mask[a:a + POSITIONS_AT_ONCE])
        nz += a
        out[at:at + len(nz)] = nz
        at += len(nz)
    return out


class _Sub:
    """The subgraph of the states ``nodes`` (a boolean mask) and the edges ``emask`` (each
    with both ends in ``nodes``), its states renumbered ``0..len(idx)-1`` in their order:
    ``idx`` the states, ``indptr``/``dst`` its rows, ``epos`` the position of each of its
    edges in the graph."""

    def __init__(self, g: ArrayGraph, nodes: np.ndarray, emask: np.ndarray):
        edges = int(np.count_nonzero(emask))
        # the edges' positions and targets, the states and their new numbers
        poll(edges * 12 + g.n * 12)
        self.idx = idx = np.flatnonzero(nodes)
        # positions in the graph's edges: int32 while they fit
        pt = np.int32 if len(emask) < 1 << 31 else np.int64
        self.epos = epos = _positions(emask, pt, edges)
        self.n = nn = len(idx)
        it = np.int32 if max(nn, len(epos)) < 1 << 31 else np.int64
        new = np.full(g.n, -1, dtype=it)
        new[idx] = np.arange(nn, dtype=it)
        self.dst = new[g.dst[epos]]
        del new
        # the other states have no edge of ``emask``: a row starts where the edges of ``emask``
        # before its state's first edge end (searched as positions, which ``epos`` is not
        # converted to)
        self.indptr = np.append(np.searchsorted(epos, g.indptr[idx].astype(pt)),
                                len(epos)).astype(it)

    def src(self) -> np.ndarray:
        return np.repeat(np.arange(self.n, dtype=self.dst.dtype), np.diff(self.indptr))

    def scc_labels(self) -> tuple[int, np.ndarray]:
        """(number of components, the component of each state) by SciPy's strong
        ``connected_components``, or for a small subgraph while SciPy is not loaded by
        Tarjan's algorithm in Python. (The components picked never depend on how they are
        numbered.)"""
        if max(self.n, len(self.dst)) <= SMALL_SCC and not _scipy_loaded():
            dst, ip = self.dst.tolist(), self.indptr.tolist()
            succ = [[(w, 0) for w in dst[ip[v]:ip[v + 1]]] for v in range(self.n)]
            labels = np.empty(self.n, dtype=np.int64)
            comps = _sccs(dict.fromkeys(range(self.n)), succ)
            for k, comp in enumerate(comps):
                labels[comp] = k
            return len(comps), labels
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import connected_components

        # a float64 weight and a copy of the target per edge; the rows, and SciPy's arrays
        # per state
        poll(len(self.dst) * 12 + self.n * 32)

        # (copies: sum_duplicates sorts them in place)
        m = csr_matrix((np.ones(len(self.dst)), self.dst.copy(), self.indptr.copy()),
                       shape=(self.n, self.n))
        m.sum_duplicates()
        ncomp, labels = connected_components(m, directed=True, connection="strong")
        return ncomp, labels


def fair_core(g: ArrayGraph, nodes: np.ndarray, edges: np.ndarray | None,
              obligations: Sequence[Obligation], stutter: bool = True):
    """The states of one fair SCC inside ``nodes`` (a boolean mask over states), cycles made
    of the edges in ``edges`` (a boolean mask over edges, None for all; the whole graph says
    what is enabled), or None.

    With ``stutter``, the lowest state of ``nodes`` with no step at all (it stutters for
    ever: a fair cycle of its own) is taken first, no SCC computed. Else, of the fair SCCs
    that the refinement finds, the one holding the lowest state, the nearest to the initial
    states in breadth-first order: the lasso through it is short. Components whose states
    are all above the best one found are not refined further."""
    n = g.n
    if stutter:
        core = _stuttering(g, nodes)
        if core is not None:
            return core
    best = n  # the lowest state of the best fair SCC so far
    core = None
    obs = _Obligations.of(g, obligations)
    k = obs.k
    while nodes.any():
        poll()
        emask = g.at_source(nodes)
        emask &= nodes[g.dst]
        if edges is not None:
            emask &= edges
        sub = _Sub(g, nodes, emask)
        del emask
        ncomp, labels = sub.scc_labels()
        ssrc = sub.src()
        inner = np.flatnonzero(labels[ssrc] == labels[sub.dst])
        cyclic = np.zeros(ncomp, dtype=bool)  # a component with an inner edge has a cycle
        cyclic[labels[ssrc[inner]]] = True
        del ssrc
        first_fail = np.full(ncomp, k, dtype=np.int64)
        for w, base in enumerate(obs.base):
            # per component: the obligations taken on an inner edge, enabled in every state,
            # enabled in some state
            bits = np.zeros(len(sub.dst), dtype=obs.edge[w].dtype)
            bits[inner] = obs.edge[w][sub.epos[inner]]
            taken = np.zeros(ncomp, dtype=bits.dtype)
            np.bitwise_or.at(taken, labels, _row_or(sub.indptr, bits))
            del bits
            en = obs.enabled[w][sub.idx]
            every = np.full(ncomp, ~en.dtype.type(0), dtype=en.dtype)
            np.bitwise_and.at(every, labels, en)
            some = np.zeros(ncomp, dtype=en.dtype)
            np.bitwise_or.at(some, labels, en)
            fails = ~taken & ((every & obs.weak[w]) | (some & obs.strong[w]))
            low = _lowest_bit(fails)
            first_fail = np.where((first_fail == k) & (low >= 0), base + low, first_fail)
        fair = cyclic & (first_fail == k)
        at = np.flatnonzero(fair[labels])  # the states of fair SCCs (``sub.idx`` ascends)
        if len(at) and int(sub.idx[at[0]]) < best:
            best = int(sub.idx[at[0]])
            core = np.zeros(n, dtype=bool)
            core[sub.idx[labels == labels[at[0]]]] = True
        del at
        # refine: in each cyclic component whose first failing obligation is strong (and
        # with a state below the best fair SCC's), drop the states where that obligation is
        # enabled; split what is left again
        lowest = np.empty(ncomp, dtype=np.int64)
        lowest[labels[::-1]] = sub.idx[::-1]  # of the writes to a component the last wins
        ff = first_fail[labels]
        keep = np.flatnonzero(cyclic[labels] & obs.is_strong[ff] & (lowest[labels] < best))
        del lowest
        ff = ff[keep]
        drop = np.zeros(len(keep), dtype=bool)
        for w, base in enumerate(obs.base):
            mine = np.flatnonzero((ff >= base) & (ff < base + 64))
            if len(mine):
                x = obs.enabled[w][sub.idx[keep[mine]]].astype(np.uint64)
                drop[mine] = (x >> (ff[mine] - base).astype(np.uint64)) & np.uint64(1) != 0
        nodes = np.zeros(n, dtype=bool)
        nodes[sub.idx[keep[~drop]]] = True
    return core


def _spread(indptr: np.ndarray, nbr: np.ndarray, starts: np.ndarray,
            within: np.ndarray) -> np.ndarray:
    """The states of ``within`` reachable from ``starts & within`` along the rows
    ``indptr``/``nbr`` (a breadth-first closure, a frontier at a time)."""
    seen = starts & within
    frontier = np.flatnonzero(seen)
    last = None  # per state, where it last stood in the states just met (to drop repeats)
    while len(frontier):
        poll()
        a, b = indptr[frontier], indptr[frontier + 1]
        cnt = b - a
        total = int(cnt.sum())
        if not total:
            break
        pos = np.repeat(a - (np.cumsum(cnt) - cnt), cnt) + np.arange(total)
        w = nbr[pos]
        w = w[within[w] & ~seen[w]]
        if last is None:
            last = np.empty(len(seen), dtype=np.int64)
        at = np.arange(len(w))
        last[w] = at  # of equal states one writes last: that one is kept
        w = w[last[w] == at]
        seen[w] = True
        frontier = w
    return seen


def _reach(g: ArrayGraph, starts: np.ndarray, within: np.ndarray) -> np.ndarray:
    """The states of ``within`` reachable from ``starts`` through states of ``within``."""
    return _spread(g.indptr, g.dst, starts, within)


def _reach_back(g: ArrayGraph, targets: np.ndarray, within: np.ndarray) -> np.ndarray:
    """The states of ``within`` from which some state of ``targets`` is reachable through
    states of ``within``."""
    emask = g.at_source(within)
    emask &= within[g.dst]
    sub = _Sub(g, within, emask)
    del emask
    sub.epos = None  # not needed here
    indptr, nbr = _reverse(sub)
    seen = _spread(indptr, nbr, targets[sub.idx], np.ones(sub.n, dtype=bool))
    out = np.zeros(g.n, dtype=bool)
    out[sub.idx[seen]] = True
    return out


def _scipy_loaded() -> bool:
    return "scipy.sparse.csgraph" in sys.modules


def _reverse(sub: "_Sub") -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``sub`` reversed: per state, the sources of the edges to it. By SciPy's
    transpose (a counting sort in C) when SciPy is loaded already (the SCCs needed it);
    else by stable sorts of the targets in numpy, 16 bits at a time (radix sorts), which
    take less than loading SciPy."""
    if "scipy.sparse" in sys.modules:
        from scipy.sparse import csr_matrix

        fwd = csr_matrix((np.ones(len(sub.dst), dtype=np.int8), sub.dst, sub.indptr),
                         shape=(sub.n, sub.n))
        rev = fwd.T.tocsr()
        return rev.indptr, rev.indices
    return _reverse_sorted(sub.n, sub.src(), sub.dst)


def _reverse_sorted(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The edges ``src`` -> ``dst`` (in order of source) as rows by target: (indptr, the
    sources, in order), by stable sorts of the targets 16 bits at a time."""
    if n > 1 << 32:  # pragma: no cover
        order = np.argsort(dst, kind="stable")
    else:
        order = np.argsort((dst & 0xFFFF).astype(np.uint16), kind="stable")
        if n > 1 << 16:
            high = (dst >> 16).astype(np.uint16)[order]
            order = order[np.argsort(high, kind="stable")]
            del high
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(dst, minlength=n), out=indptr[1:])
    return indptr, src[order]


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


def _bfs_path(g: ArrayGraph, edges: np.ndarray | None, src: int, targets: np.ndarray,
              within: np.ndarray) -> list[tuple[int, int | None]]:
    """The path :func:`mscheck.engine.liveness._bfs_path` finds from ``src`` to a state of
    ``targets`` through states of ``within`` (masks over the states), along the edges in
    ``edges`` (None for all): its breadth-first search a layer at a time, each layer in the
    order that search queues it (by the edges of the layer before, in order, each state
    where it is first met), up to the first state of ``targets`` met."""
    if targets[src]:
        return [(src, None)]
    indptr, dst = g.indptr, g.dst
    seen = np.zeros(g.n, dtype=bool)
    seen[src] = True
    frontier = np.array([src], dtype=np.int64)
    layers = []  # per layer: its states and the edge each was first met on
    while len(frontier):
        poll()
        a = indptr[frontier]
        cnt = indptr[frontier + 1] - a
        total = int(cnt.sum())
        if not total:
            break
        pos = np.repeat(a - (np.cumsum(cnt) - cnt), cnt) + np.arange(total)
        if edges is not None:
            pos = pos[edges[pos]]
        w = dst[pos]
        ok = within[w] & ~seen[w]
        pos, w = pos[ok], w[ok]
        if len(w):
            first = np.unique(w, return_index=True)[1]
            first.sort()
            pos, w = pos[first], w[first]
        layers.append((w, pos))
        hit = np.flatnonzero(targets[w])
        if len(hit):
            out = []
            x, e = int(w[hit[0]]), int(pos[hit[0]])
            for depth in range(len(layers) - 1, -1, -1):
                if depth < len(layers) - 1:
                    ws, ps = layers[depth]
                    e = int(ps[int(np.flatnonzero(ws == x)[0])])
                out.append((x, int(g.sid[e])))
                x = int(np.searchsorted(indptr, e, side="right")) - 1  # the edge's source
            out.append((src, None))
            return list(reversed(out))
        seen[w] = True
        frontier = w
    raise AssertionError("target not reachable inside the region")


class _In:
    """``v in _In(mask)``: whether state ``v`` is in a boolean mask."""

    def __init__(self, mask: np.ndarray):
        self.mask = mask

    def __contains__(self, v) -> bool:
        return bool(self.mask[v])


def find_lasso_arrays(g: ArrayGraph, p: np.ndarray, q: np.ndarray,
                      obligations: Sequence[Obligation]) -> Lasso | None:
    """A fair behaviour that reaches a P-and-not-Q state and never reaches Q afterwards
    (``p``, ``q``: boolean masks over the states)."""
    not_q = ~q
    starts = not_q & p
    if not starts.any():
        return None
    region = _reach(g, starts, not_q)
    core = fair_core(g, region, None, obligations, True)
    if core is None:
        return None
    # the nearest start from which the fair core is reachable without passing Q
    start = _nearest(g, starts & _reach_back(g, core, region))
    prefix = _path_from_initial(g, start)
    to_core = _bfs_path(g, None, start, core, region)
    prefix += to_core[1:]
    entry = prefix[-1][0]
    cycle = _fair_cycle(g, None, entry, core, obligations)
    return Lasso(prefix, len(prefix) - 1, cycle)


def _stuttering(g: ArrayGraph, nodes: np.ndarray) -> np.ndarray | None:
    """The lowest state of ``nodes`` with no step at all (it stutters for ever), as a core."""
    terminal = np.flatnonzero(nodes & (g.indptr[1:] == g.indptr[:-1]))
    if not len(terminal):
        return None
    core = np.zeros(g.n, dtype=bool)
    core[terminal[0]] = True
    return core


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
    cycle = _fair_cycle(g, quiet, entry, core, obligations)
    return Lasso(prefix, len(prefix) - 1, cycle)


def _fair_cycle(g: ArrayGraph, edges, entry: int, core: np.ndarray,
                obligations) -> list[tuple[int, int | None]]:
    """As :func:`mscheck.engine.liveness._fair_cycle`: a cycle from ``entry`` through the
    core and back that takes, for each obligation, the first of its edges inside the core,
    and passes a core state where each weak obligation it cannot take is not enabled;
    empty when ``entry`` has no step."""
    succ = g.succ(edges)
    if not succ[entry]:
        return []
    inside = g.at_source(core)
    inside &= core[g.dst]
    if edges is not None:
        inside &= edges
    inside = np.flatnonzero(inside)
    obs = _Obligations.of(g, obligations)
    bits = [x[inside] for x in obs.edge]
    needed, visit = [], []
    for k, ob in enumerate(obligations):
        hit = np.flatnonzero(obs.has(bits, k))
        if len(hit):
            e = int(inside[hit[0]])
            source = int(np.searchsorted(g.indptr, e, side="right")) - 1
            needed.append((source, int(g.dst[e]), int(g.sid[e])))
        elif ob.strength == "weak":  # the core is fair: some state has it disabled
            visit.append(int(np.flatnonzero(core & ~obs.has(obs.enabled, k))[0]))

    def path(a: int, b: int) -> list[tuple[int, int | None]]:
        target = np.zeros(g.n, dtype=bool)
        target[b] = True
        return _bfs_path(g, edges, a, target, core)

    return _cycle_through(succ, entry, needed, visit, _In(core), path)
