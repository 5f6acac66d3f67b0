"""With ``keep``, the vector search numbers every state in breadth-first order and records, for
every transition (by source state, table by table, delta by delta), the number of its target
(``keep["dst"]``; from level ``keep["dst_level"]`` on, which is 0 unless the packed loop
did the whole search). The numbers are checked against targets looked up in Python, on
every packable spec, across hand-overs from the packed loop and chunk sizes; states wider
than 64 bits record none (numbering a visited set of several words is tested apart). The
search's results do not change with ``keep``."""

from __future__ import annotations

import glob
import os
import random

import numpy as np
import pytest

import mscheck
from mscheck.engine.compile import CompiledModel
from mscheck.engine.packed import ERROR, NotPackable, PackedModel
from mscheck.engine.search import Limits
from mscheck.engine.vector import (CHECK_EVERY, _first_occurrence, _Layout, _Scratch,
                                   _Visited, vector_search)

from .test_agreement import ROOT, summary
from .test_wide import CONSERVE, philosophers

SPECS = sorted(glob.glob(os.path.join(ROOT, "specs", "**", "*.ms"), recursive=True))


def reference_targets(pm: PackedModel, kept: dict) -> np.ndarray:
    """The target number of every edge from level ``dst_level`` on, looked up in a dict."""
    layout = kept["layout"]
    order = [s for lv in kept["levels"] for s in layout.to_ints(layout.load(lv, 0, len(lv[0])))]
    number = {s: i for i, s in enumerate(order)}
    assert len(number) == len(order)
    skip = sum(len(lv[0]) for lv in kept["levels"][:kept["dst_level"]])
    out = []
    for s in order[skip:]:
        rows = [t.entries[s & t.mask] for t in pm.tables]
        if any(ds is ERROR for ds in rows):  # a failing state is not expanded
            continue
        out += [number[s ^ d] for ds in rows for d in ds]
    return np.array(out, dtype=np.int64)


def check_recorded(make, **kwargs):
    kept: dict = {}
    got = vector_search(make(), keep=kept, **kwargs)
    assert summary(got) == summary(vector_search(make(), **kwargs))  # keep changes nothing
    assert "dst" in kept
    assert kept["dst"].dtype in (np.int32, np.int64)
    pm = make()
    # the tables of a fresh model are filled by a search without keep
    vector_search(pm, **kwargs)
    assert np.array_equal(kept["dst"].astype(np.int64), reference_targets(pm, kept))
    return kept, got


def _specs():
    out = []
    for path in SPECS:
        for faults in (True, False):
            spec = mscheck.load(path)
            try:
                PackedModel(CompiledModel(spec, faults=faults))
            except NotPackable:
                continue
            out.append(pytest.param(
                lambda spec=spec, faults=faults: PackedModel(CompiledModel(spec, faults=faults)),
                id=f"{os.path.relpath(path, ROOT)}{'' if faults else '-nofaults'}"))
    return out


@pytest.mark.parametrize("small", [0, 3, 40])
@pytest.mark.parametrize("make", _specs())
def test_every_packable_spec(make, small):
    for deadlock in (False, True):
        check_recorded(make, keep_going=True, check_deadlock=deadlock, small=small,
                       chunk=CHECK_EVERY)


@pytest.mark.parametrize("small", [0, 30, 300])
def test_philosophers_hand_over(small):
    spec = mscheck.load(os.path.join(ROOT, "specs", "classic", "philosophers.ms"), {"N": "8"})
    kept, got = check_recorded(lambda: PackedModel(CompiledModel(spec)), keep_going=True,
                               check_deadlock=False, small=small, chunk=CHECK_EVERY)
    # 14158 states on 29 levels of 1, 8, 36, 112, 266, 504, ... states: the packed loop
    # expands the first levels, the vector engine records their targets when it takes over
    assert got.packed_levels == {0: 0, 30: 2, 300: 5}[small]
    assert kept["dst_level"] == 0


def test_hand_over_grows_the_visited_set(monkeypatch):
    # handed over once 300 states are visited (the levels stay narrow): the visited set is
    # sized for them, and recording the targets of the packed loop's levels makes it grow
    # before the vector engine's first level; its states are then those levels and the
    # frontier
    import mscheck.engine.vector as vector

    monkeypatch.setattr(vector, "SMALL_STATES", 300)
    grown = []
    add = _Visited.add

    def spy(self, words, distinct=True, source=None):
        before = (len(words[0]), self.size, self.cap)
        out = add(self, words, distinct, source)
        grown.append(before + (self.cap,))
        return out

    monkeypatch.setattr(_Visited, "add", spy)
    spec = mscheck.load(os.path.join(ROOT, "specs", "classic", "philosophers.ms"), {"N": "7"})
    kept, got = check_recorded(lambda: PackedModel(CompiledModel(spec)), keep_going=True,
                               check_deadlock=False, small=1 << 30, chunk=CHECK_EVERY)
    assert (got.states, got.packed_levels) == (4286, 5)
    # (states given, states in the set, slots before, slots after): the 540 states of the
    # packed loop, then the successors of its five levels, all visited; the last ones make
    # the set grow
    assert grown[:7] == [(540, 0, 1024, 1024), (7, 540, 1024, 1024), (28, 540, 1024, 1024),
                         (77, 540, 1024, 1024), (161, 540, 1024, 1024),
                         (267, 540, 1024, 2048), (371, 540, 2048, 2048)]


@pytest.mark.parametrize("pad", [20, 34])
def test_padded_states(pad):
    # 64-bit states leave the top word no spare bit (the visited set tags its slots apart)
    make = philosophers(pad, CONSERVE)
    assert make().bits == pad + 30
    for small in (0, 50):
        check_recorded(make, keep_going=True, check_deadlock=False, small=small,
                       chunk=CHECK_EVERY)


@pytest.mark.parametrize("pad", [50, 100])
def test_wide_states_record_no_targets(pad):
    # the liveness graph takes no state wider than 64 bits: nothing to record for it
    make = philosophers(pad, CONSERVE)
    kept: dict = {}
    got = vector_search(make(), keep=kept, keep_going=True, check_deadlock=False, small=50)
    assert summary(got) == summary(vector_search(make(), keep_going=True,
                                                 check_deadlock=False, small=50))
    assert got.complete and "levels" in kept and "dst" not in kept


def test_incomplete_search_records_nothing():
    spec = mscheck.load(os.path.join(ROOT, "specs", "classic", "philosophers.ms"), {"N": "6"})
    for limits in (Limits(max_states=1000), Limits(max_depth=5)):
        kept: dict = {}
        r = vector_search(PackedModel(CompiledModel(spec)), keep=kept, limits=limits,
                          keep_going=True, check_deadlock=False)
        assert not r.complete and "levels" in kept and "dst" not in kept
    kept = {}
    r = vector_search(PackedModel(CompiledModel(spec)), keep=kept)  # stops at the deadlock
    assert r.verdict == "violation" and not r.complete and "dst" not in kept


@pytest.mark.parametrize("words", [1, 2, 3])
def test_first_occurrence_names_the_first(words):
    rng = np.random.default_rng(words)
    for n in (0, 1, 7, 1000, 50000):
        vals = rng.integers(0, max(1, n // 3), size=n)
        states = [(vals * (w + 1)).astype(np.uint64) for w in range(words)]
        rep = np.full(n, -1, dtype=np.int64)
        first = _first_occurrence(states, _Scratch(), rep)
        _, where, inverse = np.unique(vals, return_index=True, return_inverse=True)
        assert np.array_equal(rep, where[inverse.reshape(-1)])
        assert np.array_equal(first, rep == np.arange(n))
        assert np.array_equal(first, _first_occurrence(states, _Scratch()))


@pytest.mark.parametrize("from_source", [False, True], ids=["rehash", "source"])
@pytest.mark.parametrize("bits", [20, 64, 100, 128])
def test_visited_numbers_survive_growth(bits, from_source):
    # growing rehashes the old table, or (with a source listing the states in the order
    # of their numbers, as the levels do) drops it and inserts the listed states again
    layout = _Layout(bits)
    rng = random.Random(bits)
    visited = _Visited(layout, numbered=True)
    number: dict[int, int] = {}
    grown = []

    def source():
        grown.append(len(number))
        order = sorted(number, key=number.get)
        for a in range(0, len(order), 777):
            yield layout.from_ints(order[a:a + 777])

    for _ in range(12):  # from 1024 slots to many times more: the set grows and rehashes
        ints = [rng.getrandbits(bits) for _ in range(3000)]
        ints += rng.sample(sorted(number), min(500, len(number)))  # some seen before
        ints = list(dict.fromkeys(ints))
        rng.shuffle(ints)
        new = visited.add(layout.from_ints(ints), source=source if from_source else None)
        assert list(new) == [s not in number for s in ints]
        got = visited.number(new, len(number))
        for s, fresh in zip(ints, new.tolist()):
            if fresh:
                number[s] = len(number)
        assert got.tolist() == [number[s] for s in ints]
    assert len(visited) == len(number)
    # from 1024 slots to 8192, 16384, 32768 and 65536, when it holds 0, 3000, 9000 and
    # 21000 states (fewer with 20 bits: some random states repeat)
    assert grown == ([0, 3000, 9000, 21000] if bits > 20 else [0, 2996, 8970, 20787]) \
        if from_source else not grown
