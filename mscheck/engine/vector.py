"""The vectorised packed engine: the breadth-first search of :func:`packed_search`, with each
level of states held in a numpy ``uint64`` array and expanded array-wide.

It reads the same transition tables (:class:`mscheck.engine.packed.PackedModel`) and gives the
same result as :func:`packed_search`, figure for figure: distinct states, transitions (as TLC
counts them), depth, verdict, the violations in the same order, the same state picked for each
(the first in level order) and so the same traces. Levels are ordered as ``packed_search``
orders them: by parent (in the parent level's order), then by table, then by the order of the
deltas in a table entry; a state belongs to the first parent that produces it.

How a level is expanded, a chunk of states at a time:

* per table, ``keys = states & mask`` are looked up with ``np.searchsorted`` in the sorted
  array of the keys the table knows; each key's deltas sit in one flat array (CSR layout:
  ``offsets``, ``counts``). Keys the table has not met yet are filled (``_Table.fill``) once
  each (the distinct ones, by sort and adjacent difference) and the arrays are rebuilt;
* successors are laid out in discovery order with ``np.repeat`` and written in one scatter;
* duplicates are dropped by sorting (the first occurrence of each value is kept) and the
  states already seen are dropped with ``np.searchsorted`` against the sorted array of visited
  states; the new ones are merged into it at the end of the level.

A state's successors, its step errors (a state where a step fails is not expanded) and
deadlock are found as ``packed_search`` finds them; the limits (``Limits``) are checked at the
same points (every 16384 states of a level, and after each level), so a state limit stops at
the same count. Invariant leaves with a table of
good keys are tested array-wide (membership by ``np.searchsorted``); leaves that read too
many slots to tabulate are evaluated once per distinct key of the level (their ``test``
depends on the key only) and then applied array-wide.

This increment handles states of at most 64 bits; wider states raise :class:`NotVectorisable`
(:func:`packed_or_vector_search` then runs ``packed_search``).

Memory: the visited states (8 bytes each) and the levels kept for traces (8 bytes each), plus
the working arrays of one chunk.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from mscheck.engine.model import Violation
from mscheck.engine.packed import (ERROR, PackedModel, _step_error, _trace, check_level,
                                   packed_search, report_unreachable)
from mscheck.engine.search import Limits, SearchResult, _peak, _rss, limit_reached

__all__ = ["NotVectorisable", "vector_search", "packed_or_vector_search", "CHUNK",
           "MIN_FRONTIER"]

CHUNK = 1 << 17  # states of a level expanded at once (a multiple of 16384)
CHECK_EVERY = 1 << 14  # packed_search checks its limits every 16384 states of a level
MIN_FRONTIER = 0  # see packed_or_vector_search
_U64 = np.uint64
_EMPTY = np.empty(0, dtype=_U64)


class NotVectorisable(Exception):
    """Why the vectorised engine cannot run this model (``packed_search`` still can)."""


class _VTable:
    """One transition table as sorted numpy arrays: ``keys``; per key ``count`` deltas at
    ``offset`` in ``deltas``, ``error`` when the step raises, ``moved`` when it has a step
    (or raises)."""

    def __init__(self, table):
        self.table = table
        self.mask = _U64(table.mask)
        self.known = -1
        self.rebuild()

    def rebuild(self):
        entries = self.table.entries
        items = sorted(entries.items())
        n = len(items)
        self.keys = np.fromiter((k for k, _ in items), dtype=_U64, count=n)
        self.error = np.fromiter((ds is ERROR for _, ds in items), dtype=bool, count=n)
        count = np.fromiter((0 if ds is ERROR else len(ds) for _, ds in items), dtype=np.int64,
                            count=n)
        self.count = count
        self.offset = np.cumsum(count) - count
        self.deltas = np.fromiter((d for _, ds in items if ds is not ERROR for d in ds),
                                  dtype=_U64, count=int(count.sum()))
        self.moved = (count > 0) | self.error
        self.known = len(entries)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """The position of each key in ``self.keys``, filling the table's missing keys."""
        if self.known != len(self.table.entries):
            self.rebuild()
        for _ in range(2):
            if len(self.keys):
                pos = np.searchsorted(self.keys, keys)
                np.minimum(pos, len(self.keys) - 1, out=pos)
                found = self.keys[pos] == keys
                if found.all():
                    return pos
                missing = keys[~found]
            else:
                missing = keys.copy()
            missing.sort()
            if len(missing) > 1:
                missing = missing[np.concatenate(([True], missing[1:] != missing[:-1]))]
            entries, fill = self.table.entries, self.table.fill
            for k in missing.tolist():
                if k not in entries:
                    fill(k)
            self.rebuild()
        raise AssertionError("a filled key is missing")  # pragma: no cover


def _member(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """For each of ``keys``, whether it is in the sorted array ``sorted_keys``."""
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=bool)
    pos = np.searchsorted(sorted_keys, keys)
    np.minimum(pos, len(sorted_keys) - 1, out=pos)
    return sorted_keys[pos] == keys


def _test_ok(umask, test, states: np.ndarray) -> np.ndarray:
    """``test(s)`` for each state, calling ``test`` once per distinct key ``s & mask`` (a
    leaf's test depends on the key only)."""
    keys = states & umask
    ks = np.sort(keys)
    if len(ks) > 1:
        ks = ks[np.concatenate(([True], ks[1:] != ks[:-1]))]
    vals = np.fromiter((bool(test(k)) for k in ks.tolist()), dtype=bool, count=len(ks))
    return vals[np.searchsorted(ks, keys)]


def _merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The union of two sorted arrays without common values, sorted."""
    if not len(b):
        return a
    if not len(a):
        return b
    return np.insert(a, np.searchsorted(a, b), b)


def _leaves(leaves):
    """Property leaves with their good keys as a sorted uint64 array."""
    out = []
    for mask, good, test in leaves:
        arr = None
        if test is None:
            arr = np.fromiter(sorted(good), dtype=_U64, count=len(good))
        out.append((mask, _U64(mask), arr, test))
    return out


class _Levels:
    """The levels as ``_trace`` reads them: lists of Python ints, made on demand."""

    def __init__(self, levels: list[np.ndarray]):
        self._levels = levels

    def __len__(self):
        return len(self._levels)

    def __getitem__(self, j):
        return self._levels[j].tolist()


def vector_search(pm: PackedModel, *, limits: Limits = Limits(), check_deadlock: bool = True,
                  keep_going: bool = False, properties: list[str] | None = None,
                  progress: Callable[[dict], None] | None = None,
                  chunk: int = CHUNK) -> SearchResult:
    """Breadth-first search over packed states, a level at a time as numpy arrays; the same
    result as :func:`mscheck.engine.packed.packed_search` (see the module docstring).

    Raises :class:`NotVectorisable` when a state takes more than 64 bits and
    :class:`mscheck.engine.packed.NotPackable` when a table cannot be filled."""
    if pm.bits > 64:
        raise NotVectorisable(f"a state takes {pm.bits} bits; the vectorised engine handles "
                              "at most 64")
    if chunk <= 0 or chunk % CHECK_EVERY:
        raise ValueError(f"chunk must be a positive multiple of {CHECK_EVERY}")
    t0 = time.monotonic()
    model = pm.model
    vtables = [_VTable(t) for t in pm.tables]
    invariants = [(n, _leaves(leaves)) for n, leaves in pm.invariants.items()
                  if properties is None or n in properties]
    reach = {n: [_leaves(d) for d in disjuncts] for n, disjuncts in pm.reachables.items()
             if properties is None or n in properties}
    inv_spans = {p.name: p.span for p in model.spec.properties}
    violations: list[Violation] = []
    found: list[tuple[int, int]] = []
    reason = None
    stop = False

    init: list[int] = []
    seen: set[int] = set()
    initial = model.initial_states()
    for st in initial:
        s = pm.encode(st)
        if s not in seen:
            seen.add(s)
            init.append(s)
    transitions = len(initial)
    frontier = np.array(init, dtype=_U64)
    visited = np.sort(frontier)
    n_visited = len(visited)
    levels: list[np.ndarray] = []
    depth = 0
    last_report = t0

    def first_violation(leaves, states: np.ndarray):
        best = None
        for mask, umask, good, test in leaves:
            if test is None:
                ok = _member(good, states & umask)
                if ok.all():
                    continue
                hit = int(np.argmin(ok))
            else:
                ok = _test_ok(umask, test, states)
                hit = None if ok.all() else int(np.argmin(ok))
            if hit is not None and (best is None or hit < best):
                best = hit
        return None if best is None else int(states[best])

    def has_witness(disjuncts, states: np.ndarray) -> bool:
        for leaves in disjuncts:
            cand = states
            for mask, umask, good, test in sorted(leaves, key=lambda lf: lf[3] is not None):
                if test is None:
                    cand = cand[_member(good, cand & umask)]
                else:
                    cand = cand[_test_ok(umask, test, cand)]
                if not len(cand):
                    break
            if len(cand):
                return True
        return False

    def check_new(states: np.ndarray, level: int) -> bool:
        nonlocal stop
        ok = check_level(invariants, reach, states, level, inv_spans, violations, found,
                         keep_going, first_violation, has_witness)
        stop = stop or not ok
        return ok

    def expand(states: np.ndarray, base: int, n_before: int, level_new: np.ndarray):
        """Expand ``states`` (``base`` = index of states[0] in the level). Returns (cut,
        new states in discovery order, the same sorted, transitions, events, reason): the
        states after index ``cut`` of ``states`` were not taken (a stop or a limit)."""
        n = len(states)
        counts = []
        moved = np.zeros(n, dtype=bool)
        failed = np.zeros(n, dtype=bool)
        total = np.zeros(n, dtype=np.int64)
        looked = []
        for vt in vtables:
            pos = vt.lookup(states & vt.mask)
            moved |= vt.moved[pos]
            failed |= vt.error[pos]
            looked.append((vt, pos))
        any_failed = failed.any()
        for vt, pos in looked:
            cnt = vt.count[pos]
            if any_failed:  # a state where a step fails is not expanded
                cnt[failed] = 0
            total += cnt
            counts.append((vt, pos, cnt))
        end = np.cumsum(total)
        run = end - total  # where each state's next successor goes
        m = int(end[-1]) if n else 0
        succ = np.empty(m, dtype=_U64)
        for vt, pos, cnt in counts:
            tot = int(cnt.sum())
            if tot:
                excl = np.cumsum(cnt) - cnt
                ramp = np.arange(tot, dtype=np.int64)
                at = np.repeat(run - excl, cnt) + ramp
                di = np.repeat(vt.offset[pos] - excl, cnt) + ramp
                succ[at] = np.repeat(states, cnt) ^ vt.deltas[di]
                run += cnt

        # events, in level order: step errors, deadlocks
        events = failed.copy()
        if check_deadlock:
            for i in np.flatnonzero(~moved).tolist():
                if not model.is_valid_end(pm.decode(int(states[i]))):
                    events[i] = True
        event_idx = np.flatnonzero(events)
        cut = n - 1
        if not keep_going and len(event_idx):
            cut = int(event_idx[0])

        # distinct new successors with the position of their first occurrence
        if m:
            order = np.argsort(succ, kind="stable")
            sv = succ[order]
            first = np.empty(m, dtype=bool)
            first[0] = True
            np.not_equal(sv[1:], sv[:-1], out=first[1:])
            cand = sv[first]
            where = order[first]
            fresh = ~_member(visited, cand)
            if len(level_new):
                fresh &= ~_member(level_new, cand)
            new_sorted = cand[fresh]
            new_pos = where[fresh]
            del order, sv, first, cand, where, fresh
        else:
            new_sorted, new_pos = _EMPTY, np.empty(0, dtype=np.int64)
        pos_sorted = np.sort(new_pos)

        # the limit checks packed_search makes every CHECK_EVERY states of a level
        why = None
        b = base + (-(base + 1)) % CHECK_EVERY  # first index b >= base with b % 16384 == 16383
        bound = cut if not keep_going and len(event_idx) else n  # an event there stops first
        while b - base < bound:
            i = b - base
            if failed[i]:  # packed_search goes on to the next state without a check
                b += CHECK_EVERY
                continue
            states_then = n_before + int(np.searchsorted(pos_sorted, end[i]))
            why = limit_reached(limits, t0, states_then)
            if why:
                cut = i
                break
            b += CHECK_EVERY
        if cut < n - 1:
            limit_end = end[cut]
            keep = new_pos < limit_end
            new_sorted, new_pos = new_sorted[keep], new_pos[keep]
            pos_sorted = pos_sorted[:int(np.searchsorted(pos_sorted, limit_end))]
        new_ordered = succ[pos_sorted]
        moves = int(end[cut]) if n else 0
        return cut, new_ordered, new_sorted, moves, event_idx[event_idx <= cut], why

    try:
        check_new(frontier, 0)
        while len(frontier) and not stop:
            levels.append(frontier)
            if limits.max_depth is not None and depth >= limits.max_depth:
                reason = f"depth bound {limits.max_depth} reached"
                break
            parts: list[np.ndarray] = []
            level_new = _EMPTY
            n_new = 0
            for a in range(0, len(frontier), chunk):
                states = frontier[a:a + chunk]
                cut, new_ordered, new_sorted, moves, events, why = expand(
                    states, a, n_visited + n_new, level_new)
                transitions += moves
                parts.append(new_ordered)
                level_new = _merge(level_new, new_sorted)
                n_new += len(new_sorted)
                for i in events.tolist():
                    s = int(states[i])
                    if _failed_at(vtables, s):
                        violations.append(_step_error(model, pm, s))
                    else:
                        violations.append(Violation("deadlock", "deadlock_free",
                                                    "no step is enabled (deadlock)", None))
                    found.append((depth, s))
                    if not keep_going:
                        stop = True
                        break
                if why:
                    reason = why
                if stop or reason:
                    break
                now = time.monotonic()
                if progress is not None and now - last_report >= 1.0:
                    last_report = now
                    progress({"states": n_visited + n_new, "transitions": transitions,
                              "queue": len(frontier) - a - cut - 1 + n_new, "depth": depth,
                              "seconds": now - t0, "memory": _rss()})
            visited = _merge(visited, level_new)
            n_visited = len(visited)
            del level_new
            if stop or reason:
                break
            reason = limit_reached(Limits(timeout=limits.timeout, memory=limits.memory), t0,
                                   n_visited)
            if reason:
                break
            depth += 1
            nxt = parts[0] if len(parts) == 1 else np.concatenate(parts)
            del parts
            if len(nxt) and not check_new(nxt, depth):
                levels.append(nxt)
                break
            frontier = nxt
            if limits.max_states is not None and n_visited >= limits.max_states and len(nxt):
                reason = f"state limit of {limits.max_states} reached"
                break
    except KeyboardInterrupt:
        reason = "interrupted"

    complete = reason is None and not stop
    if complete:
        report_unreachable(reach, inv_spans, violations, found)
    view = _Levels(levels)
    traces = [_trace(pm, view, level, s) if level >= 0 else [] for level, s in found]
    verdict = "violation" if violations else ("inconclusive" if reason else "ok")
    max_depth = depth if len(frontier) else max(depth - 1, 0)
    return SearchResult(verdict, n_visited, transitions, max(max_depth, 0),
                        time.monotonic() - t0, _peak(), violations, traces, reason, "bfs",
                        complete)


def _failed_at(vtables, s: int) -> bool:
    """Whether some step of state ``s`` raises (its entry in a table is ERROR)."""
    return any(vt.table.entries.get(s & vt.table.mask) is ERROR for vt in vtables)


def packed_or_vector_search(pm: PackedModel, **kwargs) -> SearchResult:
    """:func:`vector_search` when the states fit in 64 bits, else :func:`packed_search`;
    the same keyword arguments and result."""
    if pm.bits > 64:
        return packed_search(pm, **kwargs)
    return vector_search(pm, **kwargs)
