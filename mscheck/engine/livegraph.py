"""The state graph of a packed model, built with numpy, for liveness on large state spaces.

:func:`build_graph` takes the levels the vector engine's breadth-first search kept and its
filled transition tables (:mod:`mscheck.engine.vector`), numbers the states in breadth-first
order, and writes every transition as an edge of an
:class:`mscheck.engine.livearray.ArrayGraph` (compressed rows by source): its target and its
step id. The search records each target's number as it meets it (and those of the levels
the packed loop expanded before handing over); when the packed loop did the whole search,
the targets are looked up in a hash index of the states. A step id names (actor, action,
kind), as the scalar engine records them, so fairness obligations read the same. The
breadth-first parent of each state is the source of the last edge (in edge order) that
reaches it from the level before.

A table entry lists the XOR deltas of a key's steps; the step behind each delta is found by
running the same steps again on the same key (once per key, in the same order), so the
tables themselves are not changed.

:func:`holds_mask` evaluates a state predicate (a liveness property's ``P`` or ``Q``) over
all states, once per distinct key of the slots it reads.
"""

from __future__ import annotations

import numpy as np

from mscheck.engine.livearray import ArrayGraph
from mscheck.engine.packed import NotPackable, PackedModel, _moved
from mscheck.engine.search import poll
from mscheck.engine.vector import _Budget, _hash, _leaves, leaf_ok, placed, vector_search

__all__ = ["build_graph", "holds_mask", "GraphTooWide", "DecodedStates", "NotPackable"]

_U64 = np.uint64
EDGES_AT_ONCE = 1 << 20  # the step ids of about this many edges are written at once
STATES_AT_ONCE = 1 << 17  # the edges of this many states are counted at once


class GraphTooWide(Exception):
    """The states take more than 64 bits, or a step raises: the scalar engine runs instead."""


class _Labels:
    """The step ids of a table's entries, in the order of their deltas."""

    def __init__(self, pm: PackedModel, steps: dict):
        self.pm, self.steps = pm, steps
        self.memo: dict[tuple[int, int], tuple] = {}

    def sid(self, step) -> int:
        return self._sid((step.actor, step.action, step.kind))

    def _sid(self, key: tuple) -> int:
        ids = self.steps.setdefault("ids", {})
        if key not in ids:
            ids[key] = len(ids)
        return ids[key]

    @staticmethod
    def _recorded(table, key: int) -> tuple | None:
        """The steps the table recorded for ``key`` when it computed the entry (a twin's:
        its first instance's, for the moved key, with the twin's actor), or None."""
        got = table.steps_of.get(key)
        if got is not None or table.twin is None:
            return got
        src, to_src, _ = table.twin
        got = src.steps_of.get(_moved(key, to_src))
        if got is None:
            return None
        st, inst = table.members[0]
        actor = st["actor"](inst)
        return tuple((actor, action, kind) for _, action, kind in got)

    def of(self, table, key: int) -> tuple:
        memo_key = (id(table), key)
        got = self.memo.get(memo_key)
        if got is not None:
            return got
        if table.parts:
            out: tuple = ()
            for part in table.parts:
                out += self.of(part, key & part.mask)
        elif (got := self._recorded(table, key)) is not None:
            out = tuple(self._sid(k) for k in got)
        else:
            pm, model = self.pm, self.pm.model
            state = pm.partial_state(table.slots, key)
            out = tuple(self.sid(step) for st, inst in table.members
                        for step, _ in model.step_successors(state, st, inst))
        self.memo[memo_key] = out
        return out


class _IndexMap:
    """State -> position in ``keys`` (distinct uint64 states), an open-addressing hash table
    (linear probing, load at most 1/2) probed array-wide: a lookup touches one or two slots,
    where a binary search over the sorted states touches twenty scattered ones."""

    def __init__(self, keys: np.ndarray):
        self.keys = keys
        self.k = k = max(4, (2 * len(keys)).bit_length())
        self.mask = (1 << k) - 1
        self.slot = np.full(1 << k, -1, dtype=np.int64)
        todo = np.arange(len(keys), dtype=np.int64)
        h = _hash([keys], k)
        while len(todo):
            at = h[todo]
            free = self.slot[at] < 0
            self.slot[at[free]] = todo[free]  # of several writers, one wins
            won = np.zeros(len(todo), dtype=bool)
            won[free] = self.slot[at[free]] == todo[free]
            todo = todo[~won]
            h[todo] = (h[todo] + 1) & self.mask

    def find(self, x: np.ndarray) -> np.ndarray:
        """The position of each state of ``x`` (each must be one of the keys)."""
        out = np.empty(len(x), dtype=np.int64)
        todo = np.arange(len(x), dtype=np.int64)
        h = _hash([x], self.k)
        while len(todo):
            idx = self.slot[h[todo]]
            if (idx < 0).any():
                raise AssertionError("a successor is not a reachable state")
            hit = self.keys[idx] == x[todo]
            out[todo[hit]] = idx[hit]
            todo = todo[~hit]
            h[todo] = (h[todo] + 1) & self.mask
        return out


def build_graph(pm: PackedModel, kept: dict | None = None) -> tuple[ArrayGraph, np.ndarray,
                                                                     dict]:
    """The whole reachable state graph: (graph, the states in breadth-first order as uint64,
    the step ids: ``{(actor, action, kind): id}``). State ``i`` of the graph is the ``i``-th
    state in breadth-first order, so the initial states come first.

    ``kept`` is what :func:`mscheck.engine.vector.vector_search` left with ``keep``: its
    levels and filled tables (without it, the search runs here first), and, when the search
    was complete, the target of every edge from level ``dst_level`` on (``dst``; that level
    is 0 unless the packed loop did the whole search); the targets of the edges before it, or
    of all edges without ``dst``, are found in a hash index of the states. Raises
    :class:`GraphTooWide` when a state takes more than 64 bits or a step raises (the scalar
    engine then records the graph)."""
    if pm.bits > 64:
        raise GraphTooWide(f"a state takes {pm.bits} bits")
    if kept is None:
        kept = {}
        vector_search(pm, keep_going=True, check_deadlock=False, properties=[], keep=kept)
    vtables = kept["vtables"]
    levels = kept["levels"]  # one word a state, in the narrowest type that holds its bits
    sizes = np.array([len(lv[0]) for lv in levels], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(sizes)))  # where each level starts, then n
    n = int(starts[-1])
    bfs = np.empty(n, dtype=_U64)  # the states in breadth-first order, widened in place
    for lv, a in zip(levels, starts.tolist()):
        bfs[a:a + len(lv[0])] = lv[0]
    idx = np.int32 if n < 1 << 31 else np.int64
    depth = np.repeat(np.arange(len(levels), dtype=idx), sizes)

    def looked(a: int, b: int) -> list:
        """Per table, the rows of the states ``a..b-1`` and their numbers of steps (looked
        up a run of states at a time, so the working arrays stay small)."""
        out = []
        for vt in vtables:
            pos = vt.lookup(vt.fold.keys([bfs[a:b]]))
            out.append((vt, pos, vt.count[pos]))
        return out

    # the number of edges of every state; then every edge written in place (CSR by source)
    total = np.zeros(n, dtype=np.int64)
    for a in range(0, n, STATES_AT_ONCE):
        poll()
        for vt, pos, cnt in looked(a, a + STATES_AT_ONCE):
            if vt.error[pos].any():
                raise GraphTooWide("a step raises an error")
            total[a:a + len(cnt)] += cnt
    indptr = np.empty(n + 1, dtype=np.int64)
    indptr[0] = 0
    np.cumsum(total, out=indptr[1:])
    m = int(indptr[-1])
    steps: dict = {}
    labels = _Labels(pm, steps)
    row_labels = {id(vt): _row_labels(vt, labels) for vt in vtables}
    top = max((int(x.max()) for x in row_labels.values() if len(x)), default=0)
    sid_type = np.dtype(np.int16 if top < 1 << 15 else np.int32)
    recorded = kept.get("dst")
    first = len(levels)  # the first level whose edges' targets were recorded
    if recorded is not None:
        first = min(int(kept.get("dst_level", 0)), len(levels))
        if len(recorded) != m - int(indptr[starts[first]]):
            raise AssertionError("the recorded targets do not match the edges")
    lo = int(starts[first])  # the states whose edges' targets are looked up: 0..lo-1
    # what is allocated from here: the edges' step ids; the targets looked up, and all
    # targets in one array when some were recorded (already held) and some looked up
    width = np.dtype(idx).itemsize
    poll(m * sid_type.itemsize + (int(indptr[lo]) * width + (m * width if lo and recorded
                                                                  is not None else 0)))
    sid = np.empty(m, dtype=sid_type)
    a = 0
    while a < n:  # a run of states at a time
        poll()
        b = max(a + 1, int(np.searchsorted(indptr, indptr[a] + EDGES_AT_ONCE, "right")) - 1)
        for vt, _cnt, at, di, _sel in placed(looked(a, b), indptr[a:b].copy()):
            sid[at] = row_labels[id(vt)][di]
        a = b

    if lo:
        # their targets lie in the levels up to ``first`` (the next one for the last level)
        hi = int(starts[min(first + 1, len(levels))])
        index = _IndexMap(bfs[:hi]).find
        front = np.empty(int(indptr[lo]), dtype=idx)
        for vt, cnt, at, di, sel in placed(looked(0, lo), indptr[:lo].copy()):
            target = np.repeat(bfs[:lo], cnt) if sel is None else bfs[sel]
            if vt.deltas[0] is not None:
                target ^= vt.deltas[0][di]
            front[at] = index(target)
        dst = front if recorded is None else np.concatenate(
            (front, recorded.astype(idx, copy=False)))
    elif recorded is None:  # no state
        dst = np.empty(0, dtype=idx)
    else:
        dst = recorded.astype(idx, copy=False)
    # a breadth-first parent: the last edge (in edge order) from the level before; an edge
    # from level d ends in level d + 1 exactly when its target comes after level d
    parent = np.full(n, -1, dtype=idx)
    for d in range(len(levels) - 1):
        poll()
        a, b = int(starts[d]), int(starts[d + 1])
        out = dst[indptr[a]:indptr[b]]
        down = np.flatnonzero(out >= b)
        if len(down):
            src = np.repeat(np.arange(a, b, dtype=idx), total[a:b])
            parent[out[down]] = src[down]
    initial = np.arange(sizes[0] if len(levels) else 0, dtype=np.int64)
    return ArrayGraph(indptr, dst, sid, initial, parent, depth), bfs, steps.get("ids", {})


def _row_labels(vt, labels: _Labels) -> np.ndarray:
    """The step id of every delta of a vector table, laid out as its rows lay them out."""
    out = np.empty(int(vt.count.sum()), dtype=np.int64)
    unfold = vt.fold.unfold
    for fk, row in zip(vt.keys.tolist(), vt.krow.tolist()):
        ids = labels.of(vt.table, unfold(fk))
        a = int(vt.offset[row])
        out[a:a + len(ids)] = ids
    return out


def holds_mask(pm: PackedModel, expr, states: np.ndarray) -> np.ndarray:
    """Where ``expr`` holds, for every state of ``states`` (a domain error counts as false,
    as the scalar liveness check counts it)."""
    (leaf,) = _leaves([pm._leaf(expr, {})], 1, _Budget())
    return leaf_ok(leaf, [states])


class DecodedStates:
    """``states[i]``: the i-th state (sorted order) as the scalar engine's tuple."""

    def __init__(self, pm: PackedModel, states: np.ndarray):
        self.pm, self.states = pm, states

    def __getitem__(self, i: int):
        return self.pm.decode(int(self.states[i]))

    def __len__(self):
        return len(self.states)

