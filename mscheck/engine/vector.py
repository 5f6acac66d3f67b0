"""The vectorised packed engine: the breadth-first search of :func:`packed_search`, with each
level of states held in numpy ``uint64`` arrays and expanded array-wide.

It reads the same transition tables (:class:`mscheck.engine.packed.PackedModel`) and gives the
same result as :func:`packed_search`, figure for figure: distinct states, transitions (as TLC
counts them), depth, verdict, the violations in the same order, the same state picked for each
(the first in level order) and so the same traces. Levels are ordered as ``packed_search``
orders them: by parent (in the parent level's order), then by table, then by the order of the
deltas in a table entry; a state belongs to the first parent that produces it.

States of any width: a state of ``bits`` bits is held as ``W = ceil(bits / 64)`` words, one
``uint64`` array per word (least significant first); with ``W = 1`` that is one array.
Every comparison of states is exact, word by word: hashes only group states, they never
stand for them (no fingerprints).

How a level is expanded, a chunk of states at a time:

* per table, a key (the bits of the table's mask) is folded into one ``uint64``: each word's
  masked bits rotated by an amount chosen per word so that the rotated masks are disjoint,
  then OR-ed (injective; with the mask in one word this is ``word & mask``); the table's
  Python-int keys are folded alike. A key of at most ``DENSE_BITS`` bits, its bits packed
  together, indexes a direct table of positions; a wider one is looked up with
  ``np.searchsorted`` in the sorted array of the keys the table knows. A mask whose words admit
  no such rotations (more than 64 bits, say) is keyed by the big-endian bytes of its words
  (a numpy ``S`` array: it sorts and compares bytewise, as the numbers do). Each key's deltas
  (split per word) sit in flat arrays (CSR layout: ``offsets``, ``counts``). Keys the table
  has not met yet are filled (``_Table.fill``) once each and the arrays are rebuilt;
* successors are laid out in discovery order with ``np.repeat`` and written in one scatter;
* the first occurrence of each successor is found by hashing into a table that keeps, per
  slot, the least index hashed there (``np.minimum.at``): a successor equal to its slot's
  holder is settled, the others are hashed again;
* the first occurrences go into the visited set, an open-addressing hash table (linear
  probing) of whole states or of quotient slots, inserted a batch at a time; those not
  there before are the new states, in discovery order.

A state's successors, its step errors (a state where a step fails is not expanded) and
deadlock are found as ``packed_search`` finds them; the limits (``Limits``) are checked at the
same points (every 16384 states of a level, and after each level), so a state limit stops at
the same count. Invariant leaves with a table of good keys are tested array-wide (a direct
table, or membership by ``np.searchsorted``); a leaf split into tabulated parts by its boolean
structure combines their masks with ``&``, ``|`` and ``~``; the other leaves that read too
many slots to tabulate are evaluated once per distinct key of the level (their ``test``
depends on the key only) and then applied array-wide.

Memory, per state: the visited set (``8 W`` bytes a slot, at most ``MAX_LOAD`` of the slots
used, so ``8 W / MAX_LOAD`` to twice that; a byte more a slot when ``bits`` is a multiple of
64; 4 to 6 bytes a slot for states of one word kept in quotient slots, see ``_Visited``) and
the levels kept for traces (8 bytes per word, the top word in the smallest unsigned type
that holds its bits: 4 bytes a state of 29 bits), plus the working arrays of one chunk. With
``keep`` (for the liveness graph, states of at most 64 bits), each slot of the visited set
also holds its state's breadth-first number (4 bytes while the slots fit in ``int32``), and
every transition's target number is kept (4 bytes each while the states fit in ``int32``).
"""

from __future__ import annotations

import time
from typing import Callable, Iterable

import numpy as np

from mscheck.engine.model import Violation
from mscheck.engine.packed import (ERROR, SMALL_LEVEL, SMALL_STATES, Handoff, Inverse,
                                   PackedModel, _Compound, _fails, _step_error,
                                   check_level, packed_search, packed_start,
                                   report_unreachable, traces_of, with_cut)
from mscheck.engine.search import (CHECK_EVERY, Limits, SearchResult, _peak, _rss,
                                   limit_reached, memory_reason)

__all__ = ["NotVectorisable", "vector_search", "packed_or_vector_search", "CHUNK",
           "MIN_FRONTIER"]

CHUNK = 1 << 14  # states of a level expanded at once (a multiple of 16384)...
BIG_SEARCH = 1 << 22  # ...twice as many from this many visited states: larger batches are a
# little faster, and by then their temporaries (some 15 MiB more) are small next to the
# visited set. From a million states instead, service_registry N=3 (1.9 M states) and
# philosophers N=12 peaked 7 MiB higher, for 0-2 % of the time
MIN_FRONTIER = 0  # see packed_or_vector_search
GOOD_SLICE = 1 << 16  # states whose invariants are tested at once (_AllGood)
PARALLEL_LEVEL = 1 << 16  # with two workers: the level size from which both processes work
_U64 = np.uint64
_M64 = (1 << 64) - 1
ROTATION_BUDGET = 1 << 12  # rotations tried when folding a mask that spans words
DENSE_BITS = 20  # a key of at most this many bits may index a direct table (else a search)
DENSE_BYTES = 1 << 26  # the direct tables of one search take at most this much memory
REHASH = 1 << 16  # slots of the visited set moved at once when it grows
# quotient slots split in two arrays up to this many slots (the second array, of 1 or 2
# MiB, then mostly stays in cache): each probe that meets a state reads both arrays, which
# costs 8 % of the search at 614 k states, and more in larger tables
QUOTIENT_LOW_SLOTS = 1 << 20
PART_SALT = 5  # the hash multiplier (of _MULS) that splits the states between two processes


class NotVectorisable(Exception):
    """Why the vectorised engine cannot run this model (``packed_search`` still can)."""


def _rotl64(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _M64 if r else x


def _rotations(masks: list[int]) -> list[int] | None:
    """Rotation amounts, one per word mask, that make the rotated masks pairwise disjoint
    (the first is not rotated); None when none are found."""
    if len(masks) == 1:
        return [0]
    if sum(m.bit_count() for m in masks) > 64:
        return None
    order = sorted(range(len(masks)), key=lambda i: -masks[i].bit_count())
    rot = [0] * len(masks)
    budget = [ROTATION_BUDGET]

    def place(j: int, used: int) -> bool:
        if j == len(order):
            return True
        i = order[j]
        for r in range(64 if j else 1):
            budget[0] -= 1
            if budget[0] < 0:
                return False
            rm = _rotl64(masks[i], r)
            if not rm & used:
                rot[i] = r
                if place(j + 1, used | rm):
                    return True
        return False

    return rot if place(0, 0) else None


def _runs(mask: int) -> list[tuple[int, int]]:
    """The runs of one bits of ``mask``: (lowest bit, length), from the lowest."""
    out = []
    lo = 0
    while mask >> lo:
        if mask >> lo & 1:
            n = 0
            while mask >> (lo + n) & 1:
                n += 1
            out.append((lo, n))
            lo += n
        else:
            lo += 1
    return out


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    if not r:
        return x
    return (x << _U64(r)) | (x >> _U64(64 - r))


def _bytes_key(words: list[np.ndarray]) -> np.ndarray:
    """The words (least significant first, of equal length) as big-endian byte strings: an
    ``S`` array whose order is the numbers' order."""
    w = len(words)
    n = len(words[0])
    buf = np.empty((n, w), dtype=">u8")
    for i, x in enumerate(words):
        buf[:, w - 1 - i] = x
    return buf.view(f"S{8 * w}").reshape(n)


class _Fold:
    """An injective map from the bits of ``mask`` in a state to one sortable key: a
    ``uint64`` (the masked words rotated and OR-ed) or, failing that, big-endian bytes.
    ``keys`` maps states (a list of word arrays), ``fold``/``unfold`` map Python ints."""

    def __init__(self, mask: int, words: int):
        self.mask = mask
        parts = [(w, (mask >> 64 * w) & _M64) for w in range(words)]
        parts = [(w, m) for w, m in parts if m] or [(0, 0)]
        rot = _rotations([m for _, m in parts])
        self.parts = parts
        if rot is not None:
            self.rot = [(w, m, r, _U64(m), _rotl64(m, r)) for (w, m), r in zip(parts, rot)]
            self.dtype = np.dtype(_U64)
            folded = 0
            for *_, rm in self.rot:
                folded |= rm
            # the key's bits packed together index a direct table of 2**bits entries
            self.bits = folded.bit_count()
            self.runs = _runs(folded) if self.bits <= DENSE_BITS else None
        else:
            self.rot = self.runs = None
            self.lo, self.hi = parts[0][0], parts[-1][0]
            self.nbytes = 8 * (self.hi - self.lo + 1)
            self.umask = {w: _U64(m) for w, m in parts}
            self.dtype = np.dtype(f"S{self.nbytes}")

    def keys(self, states: list[np.ndarray]) -> np.ndarray:
        if self.rot is not None:
            w, _, r, um, _ = self.rot[0]
            key = _rotl(states[w] & um, r)
            for w, _, r, um, _ in self.rot[1:]:
                key |= _rotl(states[w] & um, r)
            return key
        zero = None
        words = []
        for w in range(self.lo, self.hi + 1):
            um = self.umask.get(w)
            if um is None:
                if zero is None:
                    zero = np.zeros(len(states[0]), dtype=_U64)
                words.append(zero)
            else:
                words.append(states[w] & um)
        return _bytes_key(words)

    def index(self, keys: np.ndarray) -> np.ndarray:
        """The bits of each key (from ``keys``) packed together, as ``int64`` (when
        ``runs``)."""
        if not self.runs:  # an empty mask: one key
            return np.zeros(len(keys), dtype=np.int64)
        out = None
        acc = 0
        last = len(self.runs) - 1
        for j, (lo, n) in enumerate(self.runs):
            x = keys >> _U64(lo) if lo else keys
            if j < last:
                x = x & _U64((1 << n) - 1)
            if acc:
                x <<= _U64(acc)
            if out is None:
                out = x
            else:
                out |= x
            acc += n
        return out.view(np.int64)

    def fold(self, k: int):
        if self.rot is not None:
            out = 0
            for w, m, r, _, _ in self.rot:
                out |= _rotl64((k >> 64 * w) & m, r)
            return out
        return ((k >> 64 * self.lo) & ((1 << 8 * self.nbytes) - 1)).to_bytes(self.nbytes, "big")

    def unfold(self, v) -> int:
        """The masked Python int of a key (an element of ``keys(...).tolist()``)."""
        if self.rot is not None:
            out = 0
            for w, _, r, _, rm in self.rot:
                out |= _rotl64(v & rm, (64 - r) % 64) << 64 * w
            return out
        # tolist() drops an S value's trailing NUL bytes
        return int.from_bytes(v.ljust(self.nbytes, b"\0"), "big") << 64 * self.lo

    def array(self, values: list) -> np.ndarray:
        if self.rot is not None:
            return np.fromiter(values, dtype=_U64, count=len(values))
        return np.array(values, dtype=self.dtype) if values else np.empty(0, self.dtype)


class _Budget:
    """The memory left for direct tables."""

    def __init__(self, nbytes: int = DENSE_BYTES):
        self.left = nbytes

    def take(self, fold: _Fold, itemsize: int) -> bool:
        """Whether a direct table of ``fold``'s keys (``itemsize`` bytes an entry) fits;
        it is then counted."""
        if fold.runs is None:
            return False
        size = itemsize << fold.bits
        if size > self.left:
            return False
        self.left -= size
        return True


class _Layout:
    """States of ``bits`` bits as ``words`` uint64 arrays (least significant first)."""

    def __init__(self, bits: int):
        self.bits = bits
        self.words = max(1, -(-bits // 64))
        top = bits - 64 * (self.words - 1)
        # the levels kept hold the top word in the smallest type that holds its bits; so do
        # the whole-state slots of the visited set, but for states of one word (uint64)
        self.kept = np.dtype(np.uint8 if top <= 8 else np.uint16 if top <= 16 else
                             np.uint32 if top <= 32 else _U64)
        self.top = np.dtype(_U64) if self.words == 1 else self.kept

    def from_ints(self, ints: list[int]) -> list[np.ndarray]:
        return [np.fromiter(((s >> 64 * w) & _M64 for s in ints), dtype=_U64, count=len(ints))
                for w in range(self.words)]

    def to_int(self, states: list[np.ndarray], i: int) -> int:
        out = 0
        for w, x in enumerate(states):
            out |= int(x[i]) << 64 * w
        return out

    def to_ints(self, states: list[np.ndarray]) -> list[int]:
        out = states[0].tolist()
        for w in range(1, len(states)):
            sh = 64 * w
            out = [a | (b << sh) for a, b in zip(out, states[w].tolist())]
        return out

    def store(self, states: list[np.ndarray]) -> list[np.ndarray]:
        """A level as kept for traces: the top word in its smallest type."""
        if self.kept == states[-1].dtype:
            return states
        return states[:-1] + [states[-1].astype(self.kept)]

    def load(self, stored: list[np.ndarray], a: int, b: int) -> list[np.ndarray]:
        return [x[a:b] if x.dtype == _U64 else x[a:b].astype(_U64) for x in stored]


class _VTable:
    """One transition table as numpy arrays, one row per key the table knows: per row
    ``count`` deltas at ``offset`` in ``deltas`` (one array per word, None for a word the
    table does not touch), ``error`` when the step raises, ``moved`` when it has a step (or
    raises). A key's row is found through a direct table (``dense``) or the sorted folded
    ``keys`` with their rows (``krow``). Keys met later are appended as new rows, so a long,
    narrow search that meets one new key per level does not rebuild the arrays each time."""

    def __init__(self, table, layout: _Layout, budget: _Budget):
        self.table = table
        self.fold = _Fold(table.mask, layout.words)
        self.dense_on = budget.take(self.fold, 4)  # a direct table of positions
        self.words = layout.words
        self.touched = {w for w, _ in self.fold.parts}
        self.known = -1
        self.rebuild()

    def _rows(self, items):
        """Arrays for rows made of (folded key, deltas) items."""
        n = len(items)
        error = np.fromiter((ds is ERROR for _, ds in items), dtype=bool, count=n)
        count = np.fromiter((0 if ds is ERROR else len(ds) for _, ds in items), dtype=np.int64,
                            count=n)
        total = int(count.sum())
        deltas = [np.fromiter(((d >> 64 * w) & _M64 for _, ds in items if ds is not ERROR
                               for d in ds), dtype=_U64, count=total)
                  if w in self.touched else None for w in range(self.words)]
        return error, count, deltas

    def rebuild(self):
        entries = self.table.entries
        fold = self.fold.fold
        items = sorted((fold(k), ds) for k, ds in entries.items())
        n = len(items)
        self.keys = self.fold.array([k for k, _ in items])
        self.krow = np.arange(n, dtype=np.int64)
        self.error, self.count, self.deltas = self._rows(items)
        self.offset = np.cumsum(self.count) - self.count
        self.moved = (self.count > 0) | self.error
        self.known = len(entries)
        if self.dense_on:
            self.dense = np.full(1 << self.fold.bits, -1, dtype=np.int32)
            self.dense[self.fold.index(self.keys)] = np.arange(n, dtype=np.int32)

    def _append(self, new: list[int]) -> None:
        """Rows for the keys ``new`` (Python ints, just filled), after the others."""
        entries, fold = self.table.entries, self.fold.fold
        items = sorted((fold(k), entries[k]) for k in new)
        n0, m = len(self.count), len(items)
        error, count, deltas = self._rows(items)
        base = int(self.offset[-1] + self.count[-1]) if n0 else 0
        self.offset = np.concatenate((self.offset, base + np.cumsum(count) - count))
        self.count = np.concatenate((self.count, count))
        self.error = np.concatenate((self.error, error))
        self.moved = np.concatenate((self.moved, (count > 0) | error))
        self.deltas = [None if old is None else np.concatenate((old, add))
                       for old, add in zip(self.deltas, deltas)]
        fkeys = self.fold.array([k for k, _ in items])
        rows = np.arange(n0, n0 + m, dtype=np.int64)
        at = np.searchsorted(self.keys, fkeys)
        self.keys = np.insert(self.keys, at, fkeys)
        self.krow = np.insert(self.krow, at, rows)
        if self.dense_on:
            self.dense[self.fold.index(fkeys)] = rows.astype(np.int32)
        self.known += m

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """The row of each key, filling the table's missing keys."""
        if self.known != len(self.table.entries):
            self.rebuild()
        idx = self.fold.index(keys) if self.dense_on else None
        for _ in range(2):
            if idx is not None:
                pos = self.dense[idx]
                if not len(pos) or pos.min() >= 0:
                    return pos
                missing = keys[pos < 0]
            elif len(self.keys):
                pos = np.searchsorted(self.keys, keys)
                np.minimum(pos, len(self.keys) - 1, out=pos)
                found = self.keys[pos] == keys
                if found.all():
                    return self.krow[pos]
                missing = keys[~found]
            else:
                missing = keys.copy()
            missing.sort()
            if len(missing) > 1:
                missing = missing[np.concatenate(([True], missing[1:] != missing[:-1]))]
            entries, fill, unfold = self.table.entries, self.table.fill, self.fold.unfold
            new = []
            for k in missing.tolist():
                k = unfold(k)
                if k not in entries:
                    fill(k)
                    new.append(k)
            if self.known + len(new) == len(entries):
                self._append(new)
            else:  # filled elsewhere too: start again from the table
                self.rebuild()
        raise AssertionError("a filled key is missing")  # pragma: no cover


def _moved_array(x: np.ndarray, moves) -> np.ndarray:
    """:func:`mscheck.engine.packed._moved` array-wide (states of one word)."""
    out = np.zeros(len(x), dtype=_U64)
    for at, mask, to in moves:
        out |= ((x >> _U64(at)) & _U64(mask)) << _U64(to)
    return out


class _SharedVTable:
    """The table of an instance whose entries are another instance's with the bits of
    their own variables moved (``_Table.twin``), as numpy arrays: a key is moved to the
    first instance's key and looked up in its table (:class:`_VTable`, which fills it), the
    rows are that table's, and the deltas are its deltas moved back, array-wide. So the
    instance's own Python entries are not made while searching: :meth:`sync` makes them
    (from the first instance's) when a trace or a failing step needs them. States of one
    word."""

    def __init__(self, table, src: _VTable):
        self.table = table
        self.src = src
        _, self.to_src, self.to_twin = table.twin
        self.fold = _Fold(table.mask, 1)
        self._deltas = (None, None)  # (the first instance's deltas array, moved back)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        return self.src.lookup(_moved_array(keys, self.to_src))

    def __getattr__(self, name: str):
        # the rows are the first instance's: its arrays as they are now (they grow)
        if name in ("moved", "error", "count", "offset"):
            return getattr(self.src, name)
        raise AttributeError(name)

    @property
    def deltas(self) -> list:
        d = self.src.deltas[0]
        if d is None:
            return [None]
        if self._deltas[0] is not d:  # the first instance's rows changed: move them again
            self._deltas = (d, _moved_array(d, self.to_twin))
        return [self._deltas[1]]

    def sync(self) -> None:
        """Give the instance's table the entries of every key its first instance knows
        (:meth:`mscheck.engine.packed._Table.fill`, which makes a twin's entry from the
        first instance's)."""
        from mscheck.engine.packed import _moved

        table, to_twin = self.table, self.to_twin
        for k in list(self.src.table.entries):
            t = _moved(k, to_twin)
            if t not in table.entries:
                table.fill(t)


def _vtables(pm: PackedModel, layout: _Layout, budget: _Budget, share: bool) -> list:
    """The tables as numpy arrays; with ``share`` (states of one word), an instance whose
    table mirrors another's reads that one's arrays (:class:`_SharedVTable`)."""
    out, made = [], {}
    for t in pm.tables:
        src = made.get(id(t.twin[0])) if t.twin is not None else None
        if share and layout.words == 1 and src is not None:
            out.append(_SharedVTable(t, src))
        else:
            vt = _VTable(t, layout, budget)
            made[id(t)] = vt
            out.append(vt)
    return out


def _sync(vtables) -> None:
    for vt in vtables:
        if isinstance(vt, _SharedVTable):
            vt.sync()


def placed(looked, run: np.ndarray):
    """Lay out successors table by table: for each ``(table, rows, counts)`` of ``looked``
    with steps, yields ``(table, counts, at, di, sel)``: the state's successors go to
    positions ``at`` of the flat output and take the table's deltas ``di``; ``sel``, when
    no state has more than one successor by the table, are the states that have one (the
    sources, as ``np.repeat(states, counts)`` gives them, are then ``states[sel]``).
    ``run`` holds each state's next free position and advances."""
    for vt, pos, cnt in looked:
        sel = np.flatnonzero(cnt)
        if not len(sel):
            continue
        tot = int(cnt.sum())
        if tot == len(sel):  # one successor or none each: picked, not repeated
            yield vt, cnt, run[sel], vt.offset[pos[sel]], sel
        else:
            excl = np.cumsum(cnt) - cnt
            ramp = np.arange(tot, dtype=np.int64)
            yield vt, cnt, np.repeat(run - excl, cnt) + ramp, np.repeat(vt.offset[pos] - excl,
                                                                        cnt) + ramp, None
        run += cnt


def _member(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """For each of ``keys``, whether it is in the sorted array ``sorted_keys``."""
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=bool)
    pos = np.searchsorted(sorted_keys, keys)
    np.minimum(pos, len(sorted_keys) - 1, out=pos)
    return sorted_keys[pos] == keys


def _test_ok(fold: _Fold, test, states: list[np.ndarray]) -> np.ndarray:
    """``test(s)`` for each state, calling ``test`` once per distinct key ``s & mask`` (a
    leaf's test depends on the key only)."""
    keys = fold.keys(states)
    ks = np.sort(keys)
    if len(ks) > 1:
        ks = ks[np.concatenate(([True], ks[1:] != ks[:-1]))]
    unfold = fold.unfold
    vals = np.fromiter((bool(test(unfold(k))) for k in ks.tolist()), dtype=bool,
                       count=len(ks))
    return vals[np.searchsorted(ks, keys)]


def _good_keys(fold: _Fold, good, budget: _Budget) -> np.ndarray:
    """The good keys of a tabulated leaf: a direct table (whether each key is good) when
    the budget allows, else a sorted array."""
    arr = fold.array(sorted(fold.fold(k) for k in good))
    if budget.take(fold, 1):
        table = np.zeros(1 << fold.bits, dtype=bool)
        table[fold.index(arr)] = True
        arr = table
    return arr


def _vtree(tree, words: int, budget: _Budget):
    """A :class:`mscheck.engine.packed._Compound`'s tree with each tabulated part's fold
    and good keys."""
    if tree[0] == "leaf":
        mask, good = tree[1]
        fold = _Fold(mask, words)
        return ("leaf", fold, _good_keys(fold, good, budget))
    if tree[0] == "not":
        return ("not", _vtree(tree[1], words, budget))
    return (tree[0], [_vtree(t, words, budget) for t in tree[1]])


def _combine(t, leaf: Callable, empty: Callable[[bool], np.ndarray]) -> np.ndarray:
    """A tree of ``leaf``/``not``/``and``/``or`` nodes evaluated bitwise: ``leaf(node)``
    gives a leaf's array, ``empty(is_and)`` the value of an ``and`` or ``or`` of nothing."""
    if t[0] == "leaf":
        return leaf(t)
    if t[0] == "not":
        return ~_combine(t[1], leaf, empty)
    out = None
    for x in t[1]:
        v = _combine(x, leaf, empty)
        out = v if out is None else (out & v if t[0] == "and" else out | v)
    return empty(t[0] == "and") if out is None else out


def _tree_ok(t, states: list[np.ndarray]) -> np.ndarray:
    return _combine(t, lambda lf: _good(lf[1], lf[2], states),
                    lambda is_and: np.full(len(states[0]), is_and))


def _leaves(leaves, words: int, budget: _Budget):
    """Property leaves with their fold and their good keys (a direct table or a sorted
    array), or for a compound leaf its tree of tabulated parts."""
    out = []
    for mask, good, test in leaves:
        fold = _Fold(mask, words)
        arr = None
        if test is None:
            arr = _good_keys(fold, good, budget)
        elif isinstance(test, _Compound):
            arr = _vtree(test.tree, words, budget)
        out.append((mask, fold, arr, test))
    return out


def _good(fold: _Fold, good: np.ndarray, states: list[np.ndarray]) -> np.ndarray:
    """Whether each state's key is among the good keys of a leaf (a direct table, or a
    sorted array)."""
    keys = fold.keys(states)
    if good.dtype == bool:
        return good[fold.index(keys)]
    return _member(good, keys)


def leaf_ok(leaf, states: list[np.ndarray]) -> np.ndarray:
    """Whether each state satisfies a leaf made by :func:`_leaves`."""
    _mask, fold, good, test = leaf
    if test is None:
        return _good(fold, good, states)
    if isinstance(test, _Compound):
        return _tree_ok(good, states)
    return _test_ok(fold, test, states)


GROUP_BITS = 16  # the invariants' leaves are joined into tables of at most 2**16 keys
LANES = 64  # compound leaves of one shape tested together, one bit each


def _shape(t):
    """A compound leaf's tree without its tables: trees of one shape are tested together."""
    if t[0] == "leaf":
        return "leaf"
    if t[0] == "not":
        return ("not", _shape(t[1]))
    return (t[0], tuple(_shape(x) for x in t[1]))


def _tree_leaves(t, out: list) -> list:
    """The ``("leaf", fold, good)`` nodes of a tree, left to right."""
    if t[0] == "leaf":
        out.append(t)
    elif t[0] == "not":
        _tree_leaves(t[1], out)
    else:
        for x in t[1]:
            _tree_leaves(x, out)
    return out


def _scatter(fold: _Fold) -> np.ndarray:
    """Every key of a fold with a direct table (``runs``), its bits put back in place: the
    states (of one word) whose keys are ``0, 1, 2, ...``."""
    idx = np.arange(1 << fold.bits, dtype=_U64)
    states = np.zeros(len(idx), dtype=_U64)
    acc = 0
    for lo, n in fold.runs:
        states |= ((idx >> _U64(acc)) & _U64((1 << n) - 1)) << _U64(lo)
        acc += n
    return states


class _Lanes:
    """Compound leaves of one shape (as ``forall x in D: ...`` makes, one per value), tested
    together: at each position of the shared tree, one direct table over the union of the
    leaves' bits there gives, per key, a word whose bit ``j`` says whether the ``j``-th
    leaf's part holds; the tree's ``and``/``or``/``not`` become bitwise operations, and a
    state passes when every bit of the result is set. Raises ValueError when a position's
    bits are too many for a direct table, or the tables would take more than ``room``
    bytes."""

    def __init__(self, leaves: list, room: int = DENSE_BYTES):
        n = len(leaves)
        self.dtype = np.dtype(np.uint8 if n <= 8 else np.uint16 if n <= 16 else
                              np.uint32 if n <= 32 else _U64)
        self.full = self.dtype.type((1 << n) - 1)
        columns = list(zip(*[_tree_leaves(leaf[2], []) for leaf in leaves]))
        tables = []
        for column in columns:
            union = 0
            for _, fold, _ in column:
                union |= fold.mask
            fold = _Fold(union, 1)
            if fold.runs is None or fold.bits > GROUP_BITS:
                raise ValueError("too many bits for one table")
            room -= self.dtype.itemsize << fold.bits
            if room < 0:
                raise ValueError("the tables would take too much memory")
            states = [_scatter(fold)]
            table = np.zeros(len(states[0]), dtype=self.dtype)
            for j, (_, f, good) in enumerate(column):
                table |= _good(f, good, states).astype(self.dtype) << self.dtype.type(j)
            tables.append((fold, table))
        self.tree = self._rebuild(leaves[0][2], iter(tables))
        self.nbytes = sum(table.nbytes for _, table in tables)

    def _rebuild(self, t, tables):
        if t[0] == "leaf":
            return ("leaf",) + next(tables)
        if t[0] == "not":
            return ("not", self._rebuild(t[1], tables))
        return (t[0], [self._rebuild(x, tables) for x in t[1]])

    def __call__(self, states: list[np.ndarray]) -> bool:
        got = _combine(self.tree, lambda lf: lf[2][lf[1].index(lf[1].keys(states))],
                       lambda is_and: np.full(len(states[0]), self.full if is_and else 0,
                                              dtype=self.dtype))
        got &= self.full
        return bool((got == self.full).all())


class _AllGood:
    """Whether a batch of states satisfies every invariant, in a few lookups: the leaves
    tested by a table of good keys are joined, neighbours in the layout first, into groups
    whose keys take at most ``GROUP_BITS`` bits, each with a direct table of the keys good
    for all its leaves (states of one word); compound leaves of one shape are tested
    together (:class:`_Lanes`); the other leaves are tested as they are. Only
    when some state fails does the search look for the first failing state of each
    invariant (:func:`first_bad`); a violation is then found exactly as without this."""

    def __init__(self, invariants, words: int):
        self.groups: list[tuple[_Fold, np.ndarray]] = []
        self.rest = []
        self.lanes: list[_Lanes] = []
        simple = []
        shapes: dict = {}  # compound leaves (states of one word) by the shape of their tree
        for _, leaves in invariants:
            for leaf in leaves:
                mask, _, _, test = leaf
                if test is None and words == 1 and mask.bit_count() <= GROUP_BITS:
                    simple.append(leaf)
                elif isinstance(test, _Compound) and words == 1:
                    shapes.setdefault(_shape(leaf[2]), []).append(leaf)
                else:
                    self.rest.append(leaf)
        room = DENSE_BYTES  # for the lanes' tables
        for same in shapes.values():
            for a in range(0, len(same), LANES):
                chunk = same[a:a + LANES]
                try:
                    if len(chunk) < 2:
                        raise ValueError("one leaf")
                    self.lanes.append(_Lanes(chunk, room))
                    room -= self.lanes[-1].nbytes
                except ValueError:
                    self.rest.extend(chunk)
        simple.sort(key=lambda leaf: (leaf[0] & -leaf[0], leaf[0]))  # by lowest bit
        group, union = [], 0
        for leaf in simple + [None]:
            if leaf is not None and (union | leaf[0]).bit_count() <= GROUP_BITS:
                group.append(leaf)
                union |= leaf[0]
                continue
            if group and _Fold(union, 1).runs is None:  # no direct table for the keys
                self.rest.extend(group)
            elif group:
                self.groups.append(self._table(union, group))
            if leaf is not None:
                group, union = [leaf], leaf[0]

    @staticmethod
    def _table(union: int, group: list) -> tuple[_Fold, np.ndarray]:
        """The fold of ``union`` and, per key, whether it is good for every leaf of
        ``group``: the keys' bits are put back in place, as states, and tested."""
        fold = _Fold(union, 1)
        states = _scatter(fold)
        good = np.ones(len(states), dtype=bool)
        for leaf in group:
            good &= leaf_ok(leaf, [states])
        return fold, good

    def __call__(self, states: list[np.ndarray]) -> bool:
        # a slice at a time: the temporaries of a whole level (keys, indices, lanes' words)
        # added 2.5 MiB to the peak of order_events with 12 orders
        for a in range(0, len(states[0]), GOOD_SLICE):
            part = [x[a:a + GOOD_SLICE] for x in states]
            for fold, good in self.groups:
                if not good[fold.index(fold.keys(part))].all():
                    return False
            if not all(lanes(part) for lanes in self.lanes):
                return False
            if not all(leaf_ok(leaf, part).all() for leaf in self.rest):
                return False
        return True


def first_bad(leaves, states: list[np.ndarray]) -> int | None:
    """The index of the first state that fails some leaf of an invariant, or None."""
    best = None
    for leaf in leaves:
        ok = leaf_ok(leaf, states)
        if not ok.all():
            hit = int(np.argmin(ok))
            if best is None or hit < best:
                best = hit
    return best


def witnessed(disjuncts, states: list[np.ndarray]) -> bool:
    """Whether some state satisfies one of the disjuncts (each a list of leaves) of a
    ``reachable`` property."""
    for leaves in disjuncts:
        cand = states
        for leaf in sorted(leaves, key=lambda lf: lf[3] is not None):
            sel = leaf_ok(leaf, cand)
            cand = [x[sel] for x in cand]
            if not len(cand[0]):
                break
        if len(cand[0]):
            return True
    return False


# odd multipliers, one per hashing round (a round that leaves collisions rehashes the rest)
_MULS = [_U64(c) for c in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                           0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53,
                           0x94D049BB133111EB, 0xBF58476D1CE4E5B9)]


def _hash(words: list[np.ndarray], k: int, salt: int = 0) -> np.ndarray:
    """A ``k``-bit hash (as ``int64``) of each state of ``words``: the top bits of a product
    by an odd constant (they depend on every bit of the state)."""
    mul = _MULS[salt % len(_MULS)]
    h = words[0] * mul
    for x in words[1:]:
        h ^= x
        h *= mul
    h >>= _U64(64 - k)
    return h.view(np.int64)


def _equal(a: list[np.ndarray], i, b: list[np.ndarray], j=None) -> np.ndarray:
    """Whether ``a[i]`` equals ``b[j]`` (``b`` itself when ``j`` is None), word by word."""
    out = None
    for x, y in zip(a, b):
        e = x[i] == (y if j is None else y[j])
        out = e if out is None else out & e
    return out


class _Scratch:
    """A reusable buffer of indices (the hash table of one round of deduplication):
    ``int32`` while they fit."""

    def __init__(self):
        self.buf = np.empty(0, dtype=np.int32)

    def full(self, size: int, value: int) -> np.ndarray:
        dtype = np.int32 if value < 1 << 31 else np.int64
        if len(self.buf) < size or self.buf.dtype != dtype:
            self.buf = np.empty(size, dtype=dtype)
        out = self.buf[:size]
        out.fill(value)
        return out


def _first_occurrence(words: list[np.ndarray], scratch: _Scratch,
                      rep: np.ndarray | None = None) -> np.ndarray:
    """For each state of ``words``, whether no equal state comes before it (exact: states
    are compared word by word; the hash only groups them). With ``rep`` (an integer array
    as long as the states), the index of each state's first occurrence is written there.

    Each round hashes the unresolved states into a table holding, per slot, the least index
    hashed there (``np.minimum.at``); a state equal to its slot's holder is resolved (first
    iff it is the holder); the others (another value won the slot; all occurrences of a value
    share its slot) go to the next round with another hash."""
    m = len(words[0])
    first = np.zeros(m, dtype=bool)
    todo = None  # the global indices of ``cur`` (None: all)
    cur = words
    salt = 0
    while True:
        n = len(cur[0])
        if not n:
            return first
        k = max(4, (n - 1).bit_length())
        h = _hash(cur, k, salt)
        tab = scratch.full(1 << k, n)
        local = np.arange(n, dtype=tab.dtype)
        np.minimum.at(tab, h, local)
        holder = tab[h]
        same = _equal(cur, holder, cur)
        if rep is not None:  # the holder is the first occurrence of the states equal to it
            if todo is None:
                rep[:] = holder  # the others are written again in a later round
            else:
                eq = np.flatnonzero(same)
                rep[todo[eq]] = todo[holder[eq]]
        won = np.flatnonzero(same & (holder == local))
        first[won if todo is None else todo[won]] = True
        rest = np.flatnonzero(~same)
        if not len(rest):
            return first
        todo = rest if todo is None else todo[rest]
        cur = [x[rest] for x in cur]
        salt += 1


def _quotient_mul(bits: int, salt: int = 0) -> int:
    """The odd multiplier ``C`` of quotient slots for states of ``bits`` bits."""
    return (int(_MULS[salt]) & ((1 << bits) - 1)) | 1


def quotient_part(x: np.ndarray, bits: int) -> np.ndarray:
    """The top bit of ``h = x * C mod 2**bits`` for states of one word, ``C`` the multiplier
    of the quotient slots of a set of one part (``_Visited(part=...)``), which then need not
    hold that bit. ``C`` is not the multiplier of :func:`_hash`'s first round: the slots of
    whole states and the first occurrences' hash tables would otherwise see one of their
    bits fixed in each part, and use half their slots."""
    h = x * _U64(_quotient_mul(bits, PART_SALT))
    h >>= _U64(bits - 1)
    h &= _U64(1)
    return h.view(np.int64)


class _Crowded(Exception):
    """A quotient slot cannot hold how far a state was probed from its home slot."""


class _Visited:
    """The visited states: an open-addressing hash set (linear probing), exact: a probe
    compares whole states, never hashes alone. Two ways to hold a slot:

    * quotient slots (states of one word, not ``numbered``, when they make a slot smaller
      than 8 bytes): a state ``x`` of ``b`` bits is first mapped one-to-one onto
      ``h = x * C mod 2**b`` (``C`` odd); the top ``k`` bits of ``h`` name its home slot
      (the table has ``2**k`` slots) and the slot keeps only the other ``r = b - k`` bits,
      with ``d + 1`` above them, ``d`` being how far past its home the state sits. The slot
      and what it holds give back ``h``, hence ``x``, so the set stays exact. The value
      is split into a ``uint32`` (``d + 1`` and the top bits: 0 when the slot is empty)
      and, when it needs more than 32 bits (in tables of up to ``QUOTIENT_LOW_SLOTS``
      slots), a ``uint8`` or ``uint16`` of the low bits. A 50-bit state in a table of
      ``2**20`` slots takes 5 bytes a slot instead of 8, a 32-bit state 4. Should a state
      be probed too far for its ``d + 1`` to fit (``_Crowded``: clustered hashes), the set
      holds whole states from then on;
    * whole states, one array per word (the top word in its narrow type, as
      ``_Layout.store`` keeps it). Empty slots hold all ones in the top word, which no
      state has when the top word has a spare bit; otherwise an extra byte per slot marks
      them.

    With ``numbered`` (whole states), each slot also holds its state's number (``ids``,
    given by :meth:`number`), and each insertion leaves in ``slot`` where each state it was
    given sits."""

    MAX_LOAD = 0.7
    #: a quotient slot holds at least this many bits of ``d + 1`` (probes of up to 254)
    MIN_PROBE_BITS = 8

    def __init__(self, layout: "_Layout", capacity: int = 1 << 10, numbered: bool = False,
                 part: int | None = None):
        self.words = layout.words
        self.top = layout.top
        self.bits = layout.bits
        # with ``part`` (states of one word): every state added has ``part`` as the top bit
        # of ``h`` (:func:`quotient_part`), which quotient slots then need not hold
        self.part = part if layout.words == 1 else None
        top_bits = layout.bits - 64 * (layout.words - 1)
        self.spare = top_bits < 8 * self.top.itemsize
        self.size = 0
        self.numbered = numbered
        self.crowded = False  # quotient slots were crowded once: whole states from then on
        self.ids = self.slot = None
        self._alloc(capacity)

    def _alloc(self, cap: int):
        self.cap = cap
        self.k = cap.bit_length() - 1
        self.quotient = False
        implied = self.part is not None  # the top bit of h
        if (self.words == 1 and not self.numbered and not self.crowded
                and self.bits - implied >= self.k):
            r = self.bits - implied - self.k
            low = max(0, r + self.MIN_PROBE_BITS - 32)  # bits kept apart from the uint32
            low = 0 if low == 0 else 8 if low <= 8 else 16 if low <= 16 else None
            if low == 0 or low is not None and cap <= QUOTIENT_LOW_SLOTS:
                self.quotient = True
                mul = _quotient_mul(self.bits, 0 if self.part is None else PART_SALT)
                self.r, self.low = r, low
                self.mul = _U64(mul)
                self.inv = _U64(pow(mul, -1, 1 << self.bits))
                self.hmask = _U64((1 << self.bits) - 1)
                self.step = np.uint32(1 << (r - low))  # one probe further: d + 1 grows
                self.table = [np.zeros(cap, dtype=np.uint32)]
                if low:
                    self.table.append(np.zeros(cap, dtype=np.uint8 if low == 8 else np.uint16))
                self.tag, self.empty = self.table[0], np.uint32(0)
                return
        if self.numbered:  # fewer states than slots: their numbers fit in int32 while cap does
            self.ids = np.empty(cap, dtype=np.int32 if cap <= 1 << 31 else np.int64)
        self.table = [np.zeros(cap, dtype=_U64) for _ in range(self.words - 1)]
        if self.spare:
            ones = self.top.type(np.iinfo(self.top).max)
            self.table.append(np.full(cap, ones, dtype=self.top))
            self.tag, self.empty = self.table[-1], ones
        else:
            self.table.append(np.zeros(cap, dtype=self.top))
            self.tag, self.empty = np.full(cap, 255, dtype=np.uint8), np.uint8(255)

    def __len__(self):
        return self.size

    def add(self, words: list[np.ndarray], distinct: bool = True,
            source: Callable[[], Iterable[list[np.ndarray]]] | None = None) -> np.ndarray:
        """Insert states; returns for each whether it was new. Unless ``distinct`` (no state
        occurs twice), of equal states only the first (least index) counts as new.

        ``source``, when given, lists the states already in the set (batches of word
        arrays, numbered ones in the order of their numbers): to grow, the set then drops
        its table before making the larger one and inserts them again from there, so the
        two tables never exist at once."""
        need = self.size + len(words[0])
        cap = self.cap
        while need > self.MAX_LOAD * cap:
            cap *= 2
        if cap != self.cap:
            self._grow(cap, source)
        try:
            return self._insert(words, distinct)
        except _Crowded:  # the set is as it was before this batch
            self.crowded = True
            self._grow(self.cap, source)
            return self._insert(words, distinct)

    def _grow(self, cap: int, source) -> None:
        """Move the states into a table of ``cap`` slots (of whole states, should quotient
        slots be crowded)."""
        size = self.size
        while True:
            try:
                if source is not None:
                    self.table = self.tag = self.ids = self.slot = None
                    self._alloc(cap)
                    self.size = 0
                    for batch in source():
                        first = self.size
                        if not self._insert(batch).all():  # pragma: no cover
                            raise AssertionError("the states listed to grow the set repeat")
                        if self.ids is not None:
                            self.ids[self.slot] = np.arange(first, self.size,
                                                            dtype=self.ids.dtype)
                    if self.size != size:  # pragma: no cover
                        raise AssertionError("the states listed to grow the set are not "
                                             "its own")
                    return
                old = object.__new__(_Visited)
                old.__dict__.update(self.__dict__)
                self._alloc(cap)
                self.size = 0
                for a in range(0, old.cap, REHASH):  # a slice at a time: small temporaries
                    used, states = old._entries(a, a + REHASH)
                    if len(used):
                        self._insert(states)
                        if old.ids is not None:
                            self.ids[self.slot] = old.ids[used]
                return
            except _Crowded:
                if source is None:  # back to the old table
                    self.__dict__.update(old.__dict__)
                self.crowded = True

    def _entries(self, a: int, b: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """The used slots among slots ``a`` to ``b`` and the states they hold."""
        used = np.flatnonzero(self.tag[a:b] != self.empty) + a
        if not self.quotient:
            return used, [x[used] for x in self.table]
        v = self.table[0][used].astype(_U64) << _U64(self.low)
        if self.low:
            v |= self.table[1][used]
        r = _U64(self.r)
        d1 = v >> r  # d + 1
        home = (used.view(_U64) - d1 + _U64(1)) & _U64(self.cap - 1)
        h = (home << r) | (v & ((_U64(1) << r) - _U64(1)))
        if self.part:
            h |= _U64(1 << (self.bits - 1))
        h *= self.inv
        h &= self.hmask
        return used, [h]

    def number(self, new: np.ndarray, first: int) -> np.ndarray:
        """After :meth:`add` (``new``: what it returned), with ``numbered``: the number of
        each state added; the new ones are numbered ``first``, ``first + 1``, ... in their
        order, the others keep the number they were given before."""
        slot = self.slot
        out = np.empty(len(new), dtype=self.ids.dtype)
        fresh = np.flatnonzero(new)
        out[fresh] = np.arange(first, first + len(fresh), dtype=out.dtype)
        self.ids[slot[fresh]] = out[fresh]
        old = np.flatnonzero(~new)  # read after the writes: an equal state may be new
        out[old] = self.ids[slot[old]]
        return out

    def _insert(self, words: list[np.ndarray], distinct: bool = True) -> np.ndarray:
        if self.quotient:
            return self._insert_quotient(words[0], distinct)
        n = len(words[0])
        new = np.zeros(n, dtype=bool)
        slot = self.slot = np.empty(n, dtype=np.int64) if self.numbered else None
        if not n:
            return new
        table, tag, empty, mask = self.table, self.tag, self.empty, self.cap - 1
        # the words compared after the tag: below the top one (or all, with a separate tag)
        rest = table[:-1] if self.spare else table
        at = _hash(words, self.k)  # the slot each pending state probes next
        pend = None  # the indices of the pending states (None: all)
        q = words if words[-1].dtype == self.top else words[:-1] + [words[-1].astype(self.top)]
        while True:
            cur = tag[at]
            free = cur == empty
            done = cur == q[-1] if self.spare else ~free  # already there, so far
            if rest:
                hit = np.flatnonzero(done)
                if len(hit):
                    same = _equal(rest, at[hit], q, hit)
                    done[hit[~same]] = False
            fi = np.flatnonzero(free)
            if len(fi):
                # claim the free slots; of several states claiming one slot, one wins
                fat = at[fi]
                if len(table) == 1 and distinct:
                    qfi = q[0][fi]
                    table[0][fat] = qfi  # one state's word lands in each slot
                    won = fi[table[0][fat] == qfi]
                else:
                    # words written apart could land from different states (and equal
                    # states claim the same slots together): the claims are settled first
                    # (the least index wins), in the lowest word of the free slots (unused
                    # while a slot is free), then the winners are written
                    low, ids = table[0], fi.view(_U64)
                    low[fat] = _M64
                    np.minimum.at(low, fat, ids)
                    sole = low[fat] == ids
                    won, fat = fi[sole], fat[sole]
                    for t, x in zip(table, q):
                        t[fat] = x[won]
                if not self.spare:
                    tag[fat] = 0
                new[won if pend is None else pend[won]] = True
                self.size += len(won)
                done[won] = True
                if not distinct:
                    free[won] = False  # the others try the same slot again: now taken
            if slot is not None:  # the last write for a state is where it ends
                if pend is None:
                    slot[:] = at
                else:
                    slot[pend] = at
            keep = np.flatnonzero(~done)
            if distinct:  # a state that lost a slot differs from its winner: it moves on
                at = at[keep]
                at += 1
            else:  # the others probe the next slot
                at += ~(done | free)
                at = at[keep]
            at &= mask
            if not len(keep):
                return new
            pend = keep if pend is None else pend[keep]
            q = [x[keep] for x in q]

    def _insert_quotient(self, x: np.ndarray, distinct: bool) -> np.ndarray:
        """:meth:`_insert` into quotient slots; raises :class:`_Crowded` (after taking the
        batch's states out again) when a state would sit too far from its home slot."""
        n = len(x)
        new = np.zeros(n, dtype=bool)
        if not n:
            return new
        lo_t = self.table[0]
        hi_t = self.table[1] if self.low else None
        mask, r = self.cap - 1, _U64(self.r)
        h = x * self.mul
        h &= self.hmask
        at = (h >> r).view(np.int64)  # the slot each pending state probes next
        if self.part is not None:  # the top bit of h, the same in every state: not held
            at &= mask
        qh = h.astype(hi_t.dtype) if hi_t is not None else None  # the low bits (truncated)
        h &= (_U64(1) << r) - _U64(1)
        h >>= _U64(self.low)
        q = h.astype(np.uint32)  # the top bits of the rest, below them d + 1 = 1
        del h
        q |= self.step
        pend = None  # the indices of the pending states (None: all)
        claimed = []  # the slots this batch took (to give back when crowded)
        while True:
            cur = lo_t[at]
            free = cur == 0
            done = cur == q  # already there, so far
            if hi_t is not None:
                hit = np.flatnonzero(done)
                if len(hit):
                    done[hit[hi_t[at[hit]] != qh[hit]]] = False
            fi = np.flatnonzero(free)
            if len(fi):
                fat = at[fi]
                # of several states claiming a slot one wins: the last to write its index
                # there (distinct states), or the least index (equal states claim the same
                # slots together); then the winners are written
                ids = fi.astype(np.uint32)
                if distinct:
                    lo_t[fat] = ids
                else:
                    lo_t[fat] = np.uint32(0xFFFFFFFF)
                    np.minimum.at(lo_t, fat, ids)
                sole = lo_t[fat] == ids
                won, fat = fi[sole], fat[sole]
                lo_t[fat] = q[won]
                if hi_t is not None:
                    hi_t[fat] = qh[won]
                claimed.append(fat)
                new[won if pend is None else pend[won]] = True
                self.size += len(won)
                done[won] = True
            if distinct:  # a state that lost a slot differs from its winner: it moves on
                keep = np.flatnonzero(~done)
                at = at[keep]
                at += 1
                q = q[keep]
                q += self.step
            else:  # the others try the same slot again: it may hold an equal state
                on = ~(done | free)
                at += on
                np.add(q, self.step, out=q, where=on)
                keep = np.flatnonzero(~done)
                at, q = at[keep], q[keep]
            at &= mask
            if not len(keep):
                return new
            pend = keep if pend is None else pend[keep]
            if q.min() < self.step:  # d + 1 went past its bits (to 0)
                for fat in claimed:  # nothing else was written since: give them back
                    lo_t[fat] = 0
                self.size -= int(new.sum())
                raise _Crowded
            if qh is not None:
                qh = qh[keep]


class _ArrayInverse(Inverse):
    """:class:`mscheck.engine.packed.Inverse` for states of one word: every entry's key,
    delta and mask in arrays, so a step back is a few array operations."""

    def __init__(self, pm: PackedModel):
        super().__init__(pm)
        keys, deltas, masks = [], [], []
        for mask, pairs in self.pairs:
            keys.extend(k for k, _ in pairs)
            deltas.extend(d for _, d in pairs)
            masks.append(np.full(len(pairs), mask, dtype=_U64))
        self.keys = np.array(keys, dtype=_U64)
        self.deltas = np.array(deltas, dtype=_U64)
        self.masks = np.concatenate(masks) if masks else np.zeros(0, dtype=_U64)
        self.pairs = []

    def predecessors(self, cur: int) -> list[int]:
        s = self.deltas ^ _U64(cur)
        # (few states: a set, not ``np.unique``, which imports ``numpy.ma`` on first use)
        return sorted(set(s[(s & self.masks) == self.keys].tolist()))


class _Levels:
    """The levels as ``_trace`` reads them: lists of Python ints, made on demand."""

    def __init__(self, levels: list[list[np.ndarray]], layout: _Layout):
        self._levels = levels
        self._layout = layout

    def __len__(self):
        return len(self._levels)

    def __getitem__(self, j):
        return self._layout.to_ints(self._levels[j])

    def locate(self, j: int, states: list[int]) -> dict[int, int]:
        """Where each of ``states`` first occurs in level ``j`` (those that occur)."""
        level = self._levels[j]
        out = {}
        if len(level) == 1:  # one word: one pass over the level for all the states
            x = level[0]
            at = np.flatnonzero(_member(np.sort(np.array(states, dtype=_U64)), x))
            for i in at[::-1]:  # the first occurrence wins
                out[int(x[i])] = int(i)
            return out
        for s in states:
            hit = None
            for w, x in enumerate(level):
                eq = x == x.dtype.type((s >> 64 * w) & _M64)
                hit = eq if hit is None else hit & eq
            at = np.flatnonzero(hit)
            if len(at):
                out[s] = int(at[0])
        return out


def vector_search(pm: PackedModel, *, limits: Limits = Limits(), check_deadlock: bool = True,
                  keep_going: bool = False, properties: list[str] | None = None,
                  progress: Callable[[dict], None] | None = None,
                  chunk: int = CHUNK, keep: dict | None = None, workers: int = 1,
                  min_level: int = PARALLEL_LEVEL, small: int = 0,
                  handoff: Handoff | None = None) -> SearchResult:
    """Breadth-first search over packed states, a level at a time as numpy arrays; the same
    result as :func:`mscheck.engine.packed.packed_search` (see the module docstring).

    With ``keep`` (a dict), the levels (``levels``: per level the stored word arrays),
    ``layout`` and the filled tables (``vtables``) are left in it, for the state graph of
    :mod:`mscheck.engine.livegraph`; and, when the search is complete and the states take
    at most 64 bits, the breadth-first number of every transition's target, transitions in
    the order of their sources, each source's table by table (``dst``, from level
    ``dst_level`` on: 0, or the number of levels when the packed loop did the whole search).

    With ``small`` > 0, the levels are expanded by the packed loop
    (:func:`mscheck.engine.packed.packed_start`) while they have fewer than ``small``
    states and there are fewer than ``SMALL_STATES`` visited states; the search goes on
    here from the first level that breaks either bound. The results are the same. With
    ``handoff`` (what ``packed_start`` returned when it stopped; not with ``keep``), the
    search goes on from there.

    With ``workers`` = 2, from the first level of at least ``min_level`` states the search
    runs on two processes (:mod:`mscheck.engine.parallel`), with the same results; not with
    ``keep``.

    Raises :class:`mscheck.engine.packed.NotPackable` when a table cannot be filled."""
    if chunk <= 0 or chunk % CHECK_EVERY:
        raise ValueError(f"chunk must be a positive multiple of {CHECK_EVERY}")
    if handoff is not None and keep is not None:
        raise ValueError("a search that keeps its levels starts here, not from a handoff")
    if small > 0 and handoff is None:
        # levels of fewer than ``small`` states: the packed loop, which has no numpy
        # overhead per call (until the visited states outgrow its Python set)
        packed_levels: list = []
        got = packed_start(pm, small, SMALL_STATES, packed_levels, limits=limits,
                           check_deadlock=check_deadlock, keep_going=keep_going,
                           properties=properties, progress=progress)
        if isinstance(got, SearchResult):
            if keep is not None:
                layout = _Layout(pm.bits)
                budget = _Budget()
                keep.update(levels=[layout.store(layout.from_ints(list(lv)))
                                    for lv in packed_levels],
                            layout=layout, vtables=[_VTable(t, layout, budget)
                                                    for t in pm.tables])
                if got.complete:  # no level's targets recorded
                    keep.update(dst=np.empty(0, dtype=np.int32), dst_level=len(packed_levels))
            return got
        handoff = got
    t0 = time.monotonic() if handoff is None else handoff.t0
    model = pm.model
    layout = _Layout(pm.bits)
    W = layout.words
    budget = _Budget()
    # shared tables need their Python entries made for traces: not for the liveness graph,
    # which reads each table's keys
    vtables = _vtables(pm, layout, budget, share=keep is None)
    invariants = [(n, _leaves(leaves, W, budget)) for n, leaves in pm.invariants.items()
                  if properties is None or n in properties]
    reach = {n: [_leaves(d, W, budget) for d in disjuncts]
             for n, disjuncts in pm.reachables.items()
             if properties is None or n in properties}
    all_good = _AllGood(invariants, W) if invariants else None
    inv_spans = {p.name: p.span for p in model.spec.properties}
    violations: list[Violation] = []
    found: list[tuple[int, int]] = []
    reason = None
    stop = False

    scratch = _Scratch()
    # with ``keep``: the number (breadth-first index) of every successor's state, in the
    # order of the edges (by source, table by table): ``targets[:n_targets]``, an array
    # grown in place (``resize``: no copy once it is large). Not for states wider than 64
    # bits, which the liveness graph does not take.
    targets = None if keep is None or W > 1 else np.empty(1 << 20, dtype=np.int32)
    n_targets = 0

    def unique_successors(succ: list[np.ndarray], n_before: int):
        """The positions of the first occurrences of the successors ``succ`` and which of
        them are new (now visited); with ``keep``, the number of every successor is
        recorded, the new ones numbered from ``n_before`` in their order."""
        nonlocal targets, n_targets
        m = len(succ[0])
        rep = None if targets is None else np.empty(m, dtype=np.int32 if m < 1 << 31
                                                    else np.int64)
        cand = np.flatnonzero(_first_occurrence(succ, scratch, rep))
        new = visited.add([x[cand] for x in succ], source=visited_so_far)
        if rep is not None:  # the number of each successor: that of its first occurrence
            ids = visited.number(new, n_before)
            num = np.empty(m, dtype=ids.dtype)
            num[cand] = ids
            del ids
            if num.dtype != targets.dtype:  # numbers past int32 from here on
                targets = targets.astype(num.dtype)
            if n_targets + m > len(targets):
                targets.resize(max(2 * len(targets), n_targets + m), refcheck=False)
            np.take(num, rep, out=targets[n_targets:n_targets + m], mode="clip")
            n_targets += m
        return cand, new

    parts: list[list[np.ndarray]] = []  # the next level's states found so far, in order

    def visited_so_far():
        """The visited states in breadth-first order, a slice at a time: the levels kept
        for traces, then the next level's states found so far."""
        for lv in levels:
            for a in range(0, len(lv[0]), REHASH):
                yield layout.load(lv, a, a + REHASH)
        for part in parts:
            for a in range(0, len(part[0]), REHASH):
                yield [x[a:a + REHASH] for x in part]

    if handoff is None:
        init: list[int] = []
        seen: set[int] = set()
        initial = model.initial_states()
        for st in initial:
            s = pm.encode(st)
            if s not in seen:
                seen.add(s)
                init.append(s)
        transitions = len(initial)
        frontier = layout.from_ints(init)  # the current level, one uint64 array per word
        visited = _Visited(layout, numbered=targets is not None)
        new = visited.add(frontier)
        if targets is not None:
            visited.number(new, 0)
        n_visited = len(init)
        levels: list[list[np.ndarray]] = []
        depth = 0
        last_report = t0
    else:  # go on where the packed loop stopped
        transitions, depth, last_report = (handoff.transitions, handoff.depth,
                                           handoff.last_report)
        violations, found = handoff.violations, handoff.found
        reach = {n: reach[n] for n in handoff.reach}
        levels = [layout.store(layout.from_ints(list(lv))) for lv in handoff.levels]
        frontier = layout.from_ints(handoff.frontier)
        n_visited = len(handoff.visited)
        capacity = 1 << max(10, int(n_visited / _Visited.MAX_LOAD).bit_length())
        if targets is None:
            visited = _Visited(layout, capacity=capacity)
            visited.add(layout.from_ints(list(handoff.visited)))
        else:  # the visited states numbered in breadth-first order: the levels, the frontier
            bfs_order = [s for lv in handoff.levels for s in lv] + list(handoff.frontier)
            visited = _Visited(layout, capacity=capacity, numbered=True)
            new = visited.add(layout.from_ints(bfs_order))
            visited.number(new, 0)
            if len(bfs_order) != n_visited or not new.all():  # pragma: no cover
                raise AssertionError("the packed loop's levels are not its visited states")
            del bfs_order
            # the targets of the edges of the levels the packed loop expanded (all visited;
            # should the set grow meanwhile, its states are the levels, then the frontier)
            parts = [frontier]
            for lv in levels:
                for a in range(0, len(lv[0]), chunk):
                    succ = successors(vtables, layout.load(lv, a, a + chunk), W)[3]
                    if len(succ[0]) and unique_successors(succ, n_visited)[1].any():
                        raise AssertionError("a successor of the packed loop's levels was "
                                             "not visited")  # pragma: no cover
            parts = []
        handoff.visited = None

    def first_violation(leaves, states: list[np.ndarray]):
        best = first_bad(leaves, states)
        return None if best is None else layout.to_int(states, best)

    def check_new(states: list[np.ndarray], level: int, local: bool = False) -> bool:
        """Check a new level; ``local``: here, even when both processes checked theirs."""
        nonlocal stop, unchecked
        unchecked = (states, level, len(found))  # until the check is done (for Ctrl-C)
        if checked is None or local:
            good = all_good is not None and all_good(states)
            ok = check_level(pm, invariants, reach, states, level, inv_spans, violations,
                             found, keep_going,
                             (lambda *_: None) if good else first_violation, witnessed)
        else:  # the two processes checked their new states
            bad = {id(leaves): at for (_, leaves), at in zip(invariants, checked[0])}
            seen = {id(d): w for (_, d), w in zip(reach_items, checked[1])}
            ok = check_level(pm, invariants, reach, states, level, inv_spans, violations,
                             found, keep_going,
                             lambda leaves, st: (None if bad[id(leaves)] is None
                                                 else layout.to_int(st, bad[id(leaves)])),
                             lambda disjuncts, st: seen[id(disjuncts)])
        stop = stop or not ok
        unchecked = None
        return ok

    def expand(states: list[np.ndarray], base: int, n_before: int):
        """Expand ``states`` (``base`` = index of states[0] in the level). Returns (cut, new
        states in discovery order, transitions, events, reason): the states after index
        ``cut`` of ``states`` were not taken (a stop or a limit; the search then stops)."""
        total, moved, failed, succ = successors(vtables, states, W)
        events = failed | deadlocked(model, pm, layout, states, moved, check_deadlock)
        # the first occurrence of each successor, kept when it is not visited yet (it is
        # added to the visited states at once); positions in discovery order
        if len(succ[0]):
            cand, new = unique_successors(succ, n_before)
            pos_sorted = cand[new]
            del cand, new
        else:
            pos_sorted = np.empty(0, dtype=np.intp)
        cut, pos_sorted, moves, event_idx, why = settle(
            limits, t0, keep_going, base, n_before, failed, events, np.cumsum(total),
            pos_sorted)
        return cut, [x[pos_sorted] for x in succ], moves, event_idx, why

    def expand_both(n_before: int):
        """Expand the whole level on both processes; as ``expand``, plus which states fail."""
        nonlocal checked
        total, failed, dead, words, pos_sorted, checked = pair.level()
        end = np.cumsum(total)
        cut, pos_sorted, moves, event_idx, why = settle(
            limits, t0, keep_going, 0, n_before, failed, failed | dead, end, pos_sorted)
        return cut, [x[:len(pos_sorted)] for x in words], moves, event_idx, why, failed

    partial = False  # stopped in a level, after finding states of the next
    expanding = False  # a level is being expanded (``parts``: the next level found so far)
    unchecked = None  # a level found, counted, and being checked
    pair = None  # the two-process search, once started
    checked = None  # with it: the checks of the next level, made by both processes
    reach_items = list(reach.items())  # all reachable properties, as the processes see them
    child_peak = 0
    try:
        if handoff is None:
            check_new(frontier, 0)
        while len(frontier[0]) and not stop:
            frontier = layout.store(frontier)  # the top word narrowed
            levels.append(frontier)
            if limits.max_depth is not None and depth >= limits.max_depth:
                reason = f"depth bound {limits.max_depth} reached"
                break
            parts = []
            n_new = 0
            size = len(frontier[0])
            if (pair is None and workers > 1 and keep is None and size >= min_level
                    and size > 1):
                from mscheck.engine import parallel

                if parallel.available():
                    visited = None  # each process keeps the states it owns (made from levels)
                    pair = parallel.Pair(dict(layout=layout, vtables=vtables, model=model,
                                              pm=pm, check_deadlock=check_deadlock,
                                              chunk=chunk, invariants=invariants,
                                              all_good=all_good,
                                              reach=reach_items), levels)
            step = size if pair is not None else chunk if n_visited < BIG_SEARCH else 2 * chunk
            expanding = True
            for a in range(0, size, step):
                if pair is None:
                    states = layout.load(frontier, a, a + step)
                    cut, new_ordered, moves, events, why = expand(states, a, n_visited + n_new)
                    failed = None
                else:
                    cut, new_ordered, moves, events, why, failed = expand_both(n_visited)
                    states = layout.load(frontier, 0, size) if len(events) else None
                transitions += moves
                parts.append(new_ordered)
                n_new += len(new_ordered[0])
                if len(events) and failed is None:
                    _sync(vtables)  # the entries _fails reads
                for i in events.tolist():
                    s = layout.to_int(states, i)
                    if _fails(pm, s) if failed is None else failed[i]:
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
                              "queue": size - a - cut - 1 + n_new, "depth": depth,
                              "seconds": now - t0, "memory": _rss()})
            expanding = False
            n_visited += n_new
            if not stop and not reason:
                reason = limit_reached(limits.time_and_memory(), t0, n_visited)
                if (not reason and pair is not None and limits.memory is not None
                        and pair.memory() > limits.memory):
                    reason = memory_reason(limits)
            if stop or reason:
                partial = n_new > 0  # states of the next level were found
                if reason and not stop and n_new:  # a limit: what was found is still checked
                    nxt = _joined(parts)
                    levels.append(layout.store(nxt))
                    check_new(nxt, depth + 1, local=True)
                break
            depth += 1
            nxt = _joined(parts)
            del parts
            if len(nxt[0]) and not check_new(nxt, depth):
                levels.append(layout.store(nxt))
                break
            frontier, nxt = nxt, None  # (narrowed as it is kept)
            if (limits.max_states is not None and n_visited >= limits.max_states
                    and len(frontier[0])):
                reason = f"state limit of {limits.max_states} reached"
                break
    except KeyboardInterrupt:
        reason = "interrupted"
        # every state found is checked, as on a limit (and as the scalar engine checks each
        # state it finds): the states found of a level being built, or a level whose check
        # was cut short (checked again, from the start); a second Ctrl-C meanwhile leaves
        # them uncounted, or counted and not all checked
        try:
            if unchecked is None and expanding and not stop and any(len(p[0]) for p in parts):
                nxt = _joined(parts)
                levels.append(layout.store(nxt))
                n_visited += len(nxt[0])
                partial = True
                unchecked = (nxt, depth + 1, len(found))
            if unchecked is not None:
                left, at_level, before = unchecked
                del violations[before:], found[before:]
                check_new(left, at_level, local=True)
        except KeyboardInterrupt:
            pass
    except (EOFError, OSError, RuntimeError) as exc:
        if pair is None:
            raise
        # the second process died or failed: what was found so far stands, the rest is
        # unknown
        last = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
        reason = f"the second search process stopped ({last})"
    finally:
        if pair is not None:
            child_peak = pair.close() or child_peak

    del violations[len(found):]  # one recorded without its state as Ctrl-C came
    complete = reason is None and not stop
    if complete:
        report_unreachable(reach, inv_spans, violations, found)
    if keep is not None:
        keep.update(levels=levels, layout=layout, vtables=vtables)
        if complete and targets is not None:  # every level expanded: all edges' targets
            targets.resize(n_targets, refcheck=False)
            keep.update(dst=targets, dst_level=0)

    def prepare():  # the table entries _trace walks back through
        if pair is not None:
            # the child filled the table entries of the states it expanded; a trace walks
            # back through the entries, so this process fills those of the levels it crosses
            for j in range(max(level for level, _ in found)):
                for a in range(0, len(levels[j][0]), chunk):
                    states = layout.load(levels[j], a, a + chunk)
                    for vt in vtables:
                        vt.lookup(vt.fold.keys(states))
        _sync(vtables)

    traces, cut = traces_of(pm, _Levels(levels, layout), found,
                            _ArrayInverse if layout.words == 1 else Inverse, prepare)
    if cut:  # the run was stopped: what was found stands
        reason, complete = with_cut(reason, cut), False
    verdict = "violation" if violations else ("inconclusive" if reason else "ok")
    max_depth = depth + 1 if partial else depth if len(frontier[0]) else max(depth - 1, 0)
    return SearchResult(verdict, n_visited, transitions, max(max_depth, 0),
                        time.monotonic() - t0, _peak() + child_peak, violations, traces,
                        reason, "bfs", complete, workers=1 if pair is None else 2,
                        packed_levels=0 if handoff is None else handoff.depth)


def _joined(parts: list[list[np.ndarray]]) -> list[np.ndarray]:
    """Batches of states (word arrays) as one (the batch itself when there is one)."""
    return [p[0] if len(parts) == 1 else np.concatenate(p) for p in zip(*parts)]


def successors(vtables, states: list[np.ndarray], W: int):
    """The successors of ``states`` in discovery order (per state, table by table), with
    per state: their number (``total``), whether some step is enabled or fails (``moved``),
    whether a step fails (``failed``; such a state gets no successors)."""
    n = len(states[0])
    moved = np.zeros(n, dtype=bool)
    failed = np.zeros(n, dtype=bool)
    total = np.zeros(n, dtype=np.int64)
    looked = []
    for vt in vtables:
        pos = vt.lookup(vt.fold.keys(states))
        moved |= vt.moved[pos]
        failed |= vt.error[pos]
        looked.append((vt, pos))
    any_failed = failed.any()
    counts = []
    for vt, pos in looked:
        cnt = vt.count[pos]
        if any_failed:  # a state where a step fails is not expanded
            cnt[failed] = 0
        total += cnt
        counts.append((vt, pos, cnt))
    run = np.cumsum(total) - total  # where each state's next successor goes
    m = int(total.sum())
    succ = [np.empty(m, dtype=_U64) for _ in range(W)]
    for vt, cnt, at, di, sel in placed(counts, run):
        for w in range(W):
            out = np.repeat(states[w], cnt) if sel is None else states[w][sel]
            if vt.deltas[w] is not None:
                out ^= vt.deltas[w][di]
            succ[w][at] = out
    return total, moved, failed, succ


def deadlocked(model, pm: PackedModel, layout: _Layout, states: list[np.ndarray],
               moved: np.ndarray, check_deadlock: bool) -> np.ndarray:
    """Which states are deadlocks: no step, and not a valid end state."""
    dead = np.zeros(len(moved), dtype=bool)
    if check_deadlock:
        for i in np.flatnonzero(~moved).tolist():
            if not model.is_valid_end(pm.decode(layout.to_int(states, i))):
                dead[i] = True
    return dead


def settle(limits: Limits, t0: float, keep_going: bool, base: int, n_before: int,
           failed: np.ndarray, events: np.ndarray, end: np.ndarray, pos_sorted: np.ndarray):
    """Where the expansion of a run of ``n`` states (``base`` = index of the first in the
    level) stops, as ``packed_search`` decides it: at the first event (a step error or a
    deadlock) unless ``keep_going``, or at a limit checked every ``CHECK_EVERY`` states of the
    level. ``end`` holds each state's cumulative successor count; ``pos_sorted`` the
    positions (in discovery order) of the new states. Returns (cut, the positions of the new
    states before the cut, transitions, the events up to the cut, why a limit stopped it)."""
    n = len(events)
    event_idx = np.flatnonzero(events)
    cut = n - 1
    if not keep_going and len(event_idx):
        cut = int(event_idx[0])
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
        pos_sorted = pos_sorted[:int(np.searchsorted(pos_sorted, end[cut]))]
    moves = int(end[cut]) if n else 0
    return cut, pos_sorted, moves, event_idx[event_idx <= cut], why


def packed_or_vector_search(pm: PackedModel, **kwargs) -> SearchResult:
    """:func:`vector_search`, or :func:`packed_search` should it raise
    :class:`NotVectorisable` (before searching); the same keyword arguments and result."""
    try:
        return vector_search(pm, **kwargs)
    except NotVectorisable:
        return packed_search(pm, **kwargs)
