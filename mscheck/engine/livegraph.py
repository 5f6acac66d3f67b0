"""The state graph of a packed model, built with numpy, for liveness on large state spaces.

:func:`build_graph` explores the reachable states breadth-first a level at a time, as the
vectorised engine does (the transition tables of :class:`mscheck.engine.packed.PackedModel`
looked up array-wide, duplicates dropped by sorting), then lays out every transition as an
edge of an :class:`mscheck.engine.livearray.ArrayGraph`: the states in sorted order, per edge
its target (found by ``searchsorted``) and its step id. A step id names (actor, action,
kind), as the scalar engine records them, so fairness obligations read the same.

A table entry lists the XOR deltas of a key's steps; the step behind each delta is found by
running the same steps again on the same key (once per key, in the same order), so the
tables themselves are not changed.

:func:`check_liveness_packed` evaluates the liveness properties and livelock on that graph
(:mod:`mscheck.engine.livearray`), each ``P`` and ``Q`` as a mask over all states computed
once per distinct key of the slots they read.
"""

from __future__ import annotations

import numpy as np

from mscheck.engine.livearray import ArrayGraph
from mscheck.engine.packed import ERROR, NotPackable, PackedModel

__all__ = ["build_graph", "holds_mask", "GraphTooWide", "DecodedStates", "NotPackable"]

_U64 = np.uint64


class GraphTooWide(Exception):
    """The states take more than 64 bits, or a step raises: the scalar engine runs instead."""


class _Labels:
    """The step ids of a table's entries, in the order of their deltas."""

    def __init__(self, pm: PackedModel, steps: dict):
        self.pm, self.steps = pm, steps
        self.memo: dict[tuple[int, int], tuple] = {}

    def sid(self, step) -> int:
        key = (step.actor, step.action, step.kind)
        ids = self.steps.setdefault("ids", {})
        if key not in ids:
            ids[key] = len(ids)
        return ids[key]

    def of(self, table, key: int) -> tuple:
        memo_key = (id(table), key)
        got = self.memo.get(memo_key)
        if got is not None:
            return got
        if table.parts:
            out: tuple = ()
            for part in table.parts:
                out += self.of(part, key & part.mask)
        else:
            pm, model = self.pm, self.pm.model
            state = pm.partial_state(table.slots, key)
            out = tuple(self.sid(step) for st, inst in table.members
                        for step, _ in model.step_successors(state, st, inst))
        self.memo[memo_key] = out
        return out


class _Tab:
    """A transition table as sorted arrays (keys; per key its deltas in a flat array at
    ``offset``, ``count`` of them; ``error`` when a step raises), filled on demand."""

    def __init__(self, table):
        self.table = table
        self.mask = _U64(table.mask)
        self.known = -1

    def _rebuild(self):
        items = sorted(self.table.entries.items())
        self.keys = np.array([k for k, _ in items], dtype=_U64)
        self.error = np.array([ds is ERROR for _, ds in items], dtype=bool)
        self.count = np.array([0 if ds is ERROR else len(ds) for _, ds in items],
                              dtype=np.int64)
        self.offset = np.cumsum(self.count) - self.count
        self.deltas = np.array([d for _, ds in items if ds is not ERROR for d in ds],
                               dtype=_U64)
        self.known = len(items)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """The position of each key in ``self.keys``, filling the table's missing keys."""
        entries = self.table.entries
        for k in _unique_sorted(keys).tolist():
            if k not in entries:
                self.table.fill(k)
        if self.known != len(entries):
            self._rebuild()
        return np.searchsorted(self.keys, keys)


def _unique_sorted(a: np.ndarray) -> np.ndarray:
    if len(a) < 2:
        return a
    a = np.sort(a)
    return a[np.concatenate(([True], a[1:] != a[:-1]))]


def _member(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[pos] == keys


def _expand(vtables, states: np.ndarray):
    """Every transition of ``states``: (source position, target state, table, entry index)
    per table, in table order."""
    out = []
    for vt in vtables:
        pos = vt.lookup(states & vt.mask)
        if vt.error[pos].any():
            raise GraphTooWide("a step raises an error")
        cnt = vt.count[pos]
        tot = int(cnt.sum())
        if not tot:
            continue
        excl = np.cumsum(cnt) - cnt
        ramp = np.arange(tot, dtype=np.int64) - np.repeat(excl, cnt)
        di = np.repeat(vt.offset[pos], cnt) + ramp
        src = np.repeat(np.arange(len(states), dtype=np.int64), cnt)
        out.append((src, states[src] ^ vt.deltas[di], vt, di))
    return out


def build_graph(pm: PackedModel) -> tuple[ArrayGraph, np.ndarray, dict]:
    """The whole reachable state graph: (graph, the states in sorted order as uint64, the
    step ids: ``{(actor, action, kind): id}``).

    Raises :class:`GraphTooWide` when a state takes more than 64 bits or a step raises (the
    scalar engine then records the graph)."""
    if pm.bits > 64:
        raise GraphTooWide(f"a state takes {pm.bits} bits")
    vtables = [_Tab(t) for t in pm.tables]
    init = _unique_sorted(np.array([pm.encode(s) for s in pm.model.initial_states()],
                                   dtype=_U64))
    visited = init
    frontier = init
    levels_states = [init]
    levels_parent = [np.full(len(init), -1, dtype=np.int64)]  # parent *state* per level
    parent_states: list[np.ndarray] = []
    while len(frontier):
        parts = _expand(vtables, frontier)
        if not parts:
            break
        src = np.concatenate([p[0] for p in parts])
        dst = np.concatenate([p[1] for p in parts])
        order = np.argsort(dst, kind="stable")
        sv = dst[order]
        first = np.concatenate(([True], sv[1:] != sv[:-1])) if len(sv) else sv
        cand, csrc = sv[first], src[order][first]
        fresh = ~_member(visited, cand)
        new, new_src = cand[fresh], csrc[fresh]
        if not len(new):
            break
        levels_states.append(new)
        parent_states.append(frontier[new_src])
        visited = np.sort(np.concatenate((visited, new)))
        frontier = new
    states = visited
    n = len(states)
    # BFS parent and depth, per state in sorted order
    parent = np.full(n, -1, dtype=np.int64)
    depth = np.zeros(n, dtype=np.int64)
    for d, lvl in enumerate(levels_states):
        at = np.searchsorted(states, lvl)
        depth[at] = d
        if d:
            parent[at] = np.searchsorted(states, parent_states[d - 1])
    # every edge: from each state (sorted order), per table
    steps: dict = {}
    labels = _Labels(pm, steps)
    srcs, dsts, sids = [], [], []
    for src, dst, vt, di in _expand(vtables, states):
        flat = np.fromiter((sid for k in vt.keys.tolist()
                            for sid in labels.of(vt.table, k)), dtype=np.int64,
                           count=len(vt.deltas))
        srcs.append(src)
        dsts.append(np.searchsorted(states, dst))
        sids.append(flat[di])
    if srcs:
        src = np.concatenate(srcs)
        order = np.argsort(src, kind="stable")
        dst_i = np.concatenate(dsts)[order]
        sid = np.concatenate(sids)[order]
        src = src[order]
    else:
        src = dst_i = sid = np.empty(0, dtype=np.int64)
    indptr = np.concatenate(([0], np.cumsum(np.bincount(src, minlength=n)))).astype(np.int64)
    initial = np.searchsorted(states, init)
    g = ArrayGraph(indptr, dst_i, sid, initial, parent, depth)
    return g, states, steps.get("ids", {})


def holds_mask(pm: PackedModel, expr, states: np.ndarray) -> np.ndarray:
    """Where ``expr`` holds, for every state of ``states`` (a domain error counts as false,
    as the scalar liveness check counts it)."""
    mask, good, test = pm._leaf(expr, {})
    keys = states & _U64(mask)
    if test is None:
        arr = np.array(sorted(good), dtype=_U64)
        return _member(arr, keys)
    uniq = _unique_sorted(keys)
    vals = np.fromiter((bool(test(int(k))) for k in uniq.tolist()), dtype=bool,
                       count=len(uniq))
    return vals[np.searchsorted(uniq, keys)]


class DecodedStates:
    """``states[i]``: the i-th state (sorted order) as the scalar engine's tuple."""

    def __init__(self, pm: PackedModel, states: np.ndarray):
        self.pm, self.states = pm, states

    def __getitem__(self, i: int):
        return self.pm.decode(int(self.states[i]))

    def __len__(self):
        return len(self.states)

