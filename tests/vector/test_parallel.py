"""The search on two processes gives exactly the results of the one-process vector search:
states, transitions, depth, verdict, reason, the violations in order and their traces; the
limits stop it at the same points. ``min_level`` is set low so that even small specs run on
both processes from an early level."""

from __future__ import annotations

import os

import numpy as np
import pytest

import mscheck
from mscheck.engine import parallel
from mscheck.engine.compile import CompiledModel
from mscheck.engine.packed import PackedModel
from mscheck.engine.search import Limits
from mscheck.engine.vector import CHECK_EVERY, _Layout, _Visited, vector_search

from .test_agreement import BAD, CASES, ROOT, SMALL, _cube, _packable, summary

pytestmark = pytest.mark.skipif(not parallel.available(),
                                reason="two processes need Linux and two CPUs")


def both(make_pm, **kwargs):
    one = summary(vector_search(make_pm(), **kwargs))
    two = vector_search(make_pm(), workers=2, **{"min_level": 2, **kwargs})
    return one, summary(two), two


@pytest.mark.parametrize("keep_going", [False, True], ids=["first", "continue"])
@pytest.mark.parametrize("path,faults", CASES)
def test_every_packable_spec_agrees(path, faults, keep_going):
    make = _packable(path, faults)
    if make is None:
        pytest.skip("not packable")
    one, two, _ = both(make, keep_going=keep_going)
    assert two == one


@pytest.mark.parametrize("keep_going", [False, True], ids=["first", "continue"])
@pytest.mark.parametrize("deadlock", [True, False], ids=["deadlock", "nodeadlock"])
@pytest.mark.parametrize("n", [5, 8, 9])
def test_philosophers_agree(n, deadlock, keep_going):
    spec = mscheck.load(os.path.join(ROOT, "specs", "classic", "philosophers.ms"),
                        {"N": str(n)})
    one, two, _ = both(lambda: PackedModel(CompiledModel(spec)), keep_going=keep_going,
                       check_deadlock=deadlock)
    assert two == one


def test_philosophers_10_counts():
    spec = mscheck.load(os.path.join(ROOT, "specs", "classic", "philosophers.ms"),
                        {"N": "10"})
    r = vector_search(PackedModel(CompiledModel(spec)), check_deadlock=False, workers=2,
                      min_level=1000)
    assert (r.verdict, r.states, r.transitions, r.depth) == ("ok", 154450, 986431, 36)
    assert r.workers == 2
    one = vector_search(PackedModel(CompiledModel(spec)), check_deadlock=False)
    assert one.workers == 1


def test_the_main_process_grows_its_set_from_the_levels(monkeypatch):
    # the main process keeps the levels: its share of the visited states grows from them,
    # so the old and the new table never exist at once (some 30 MB less at the peak of the
    # six-phase philosophers, N = 12); before, it moved the old table's states
    grown = []
    real = _Visited._grow

    def grow(self, cap, source):
        grown.append((self.part, cap, source is not None))
        return real(self, cap, source)

    monkeypatch.setattr(_Visited, "_grow", grow)
    spec = mscheck.load(os.path.join(ROOT, "specs", "classic", "philosophers.ms"),
                        {"N": "10"})
    r = vector_search(PackedModel(CompiledModel(spec)), check_deadlock=False, workers=2,
                      min_level=1000)
    assert (r.states, r.workers) == (154450, 2)
    mine = [(cap, listed) for part, cap, listed in grown if part == 0]
    # its share (about half of 154,450 states) grows to 2**17 slots, each time from the levels
    assert mine and all(listed for _, listed in mine) and mine[-1][0] == 1 << 17


WIDE = """
service Pad[j in 1..4] {
  var v: 0..10000 = 0
  action inc when v < 1 { v := v + 1 }
}
invariant NotAll: not (Bit[2].on and Bit[7].on and Bit[9].on and Pad[3].v == 1 and Bit[11].on)
"""


@pytest.mark.parametrize("keep_going", [False, True], ids=["first", "continue"])
def test_states_of_two_words(keep_going):
    # 11 bits of the cube and four 14-bit counters: 67-bit states, two words a state
    make = _cube(WIDE, bits=11)
    assert make().bits == 67
    one, two, r = both(make, keep_going=keep_going)
    assert two == one and r.workers == 2
    assert (r.verdict, r.states, [len(t) for t in r.traces]) == (
        ("violation", 4944, [6]) if not keep_going
        else ("violation", 32768, [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]))


@pytest.mark.parametrize("chunk", [CHECK_EVERY, 1 << 20])
@pytest.mark.parametrize("case", sorted(BAD))
def test_wide_levels(case, chunk):
    one, two, _ = both(_cube(BAD[case]), chunk=chunk)
    assert two == one


@pytest.mark.parametrize("case", sorted(SMALL))
def test_wide_levels_continue(case):
    make = _cube(BAD[case]) if case == "reach" else _cube(SMALL[case], bits=11)
    one, two, _ = both(make, keep_going=True, chunk=CHECK_EVERY)
    assert two == one


@pytest.mark.parametrize("limits", [Limits(max_states=5000), Limits(max_states=20000),
                                    Limits(max_states=70000), Limits(max_depth=3)],
                         ids=["5000", "20000", "70000", "depth3"])
def test_limits_stop_at_the_same_point(limits):
    one, two, r = both(_cube(), limits=limits, chunk=CHECK_EVERY)
    assert two == one
    assert r.verdict == "inconclusive"


# Every flip is disabled in one state only (bits 2, 5, 9, 13 on, the others off): a deadlock
# in the middle of level 4.
STUCK = " and ".join(f"{'' if i in (2, 5, 9, 13) else 'not '}Bit[{i}].on" for i in range(1, 16))
GUARDED = f"""
const BITS = 15
service Bit[i in 1..BITS] {{
  var on: bool
  action flip when not ({STUCK}) {{ on := not on }}
}}
"""
# a counter that leaves its range in many states of a wide level
COUNTER = ("service Count { var n: 0..1 = 0\n"
           "  action inc when Bit[3].on and Bit[14].on { n := n + 1 } }\n")


@pytest.mark.parametrize("spec,keep_going,kinds",
                         [(GUARDED, False, ["deadlock"]), (GUARDED, True, ["deadlock"]),
                          (GUARDED + COUNTER, False, ["range"])],
                         ids=["deadlock", "deadlock-continue", "range-error"])
def test_events_in_a_level(spec, keep_going, kinds):
    # a deadlock and range errors in the middle of levels: the cut, the transitions counted
    # up to it, the states picked and their traces are those of one process
    spec = mscheck.loads(spec, "guarded.ms")
    one, two, r = both(lambda: PackedModel(CompiledModel(spec)), keep_going=keep_going,
                       chunk=CHECK_EVERY)
    assert two == one
    assert r.workers == 2
    assert [v.kind for v in r.violations] == kinds


def test_visited_add_with_repeats_counts_the_first():
    layout = _Layout(40)
    v = _Visited(layout, capacity=8)
    v.add([np.array([5, 9], dtype=np.uint64)])
    words = [np.array([7, 5, 7, 11, 11, 7, 3], dtype=np.uint64)]
    assert v.add(words, distinct=False).tolist() == [True, False, False, True, False, False,
                                                     True]
    assert len(v) == 5
    assert v.add([np.array([3, 12], dtype=np.uint64)], distinct=False).tolist() == [False,
                                                                                   True]


def test_visited_add_with_repeats_two_words():
    layout = _Layout(100)
    v = _Visited(layout, capacity=8)
    lo = np.array([1, 2, 1, 1, 2], dtype=np.uint64)
    hi = np.array([7, 7, 7, 8, 7], dtype=np.uint64)
    assert v.add([lo, hi.astype(layout.top)], distinct=False).tolist() == [True, True, False,
                                                                          True, False]
    assert len(v) == 3


def test_the_halves_split_a_level():
    level = [np.arange(7, dtype=np.uint64)]
    assert parallel.half(level, 0)[0].tolist() == [0, 1, 2, 3]
    assert parallel.half(level, 1)[0].tolist() == [4, 5, 6]


@pytest.mark.parametrize("how", ["dies", "raises"])
def test_a_failing_child_makes_the_run_inconclusive(monkeypatch, how):
    expand = parallel._Share.expand

    def failing(self):
        if self.me == 1 and len(self.front[0]) > 100:
            if how == "dies":
                os._exit(3)
            raise ValueError("boom")
        return expand(self)

    monkeypatch.setattr(parallel._Share, "expand", failing)
    spec = mscheck.load(os.path.join(ROOT, "specs", "classic", "philosophers.ms"),
                        {"N": "8"})
    r = vector_search(PackedModel(CompiledModel(spec)), check_deadlock=False, workers=2,
                      min_level=2)
    assert (r.verdict, r.complete, r.workers) == ("inconclusive", False, 2)
    assert r.reason.startswith("the second search process stopped (")
    if how == "raises":
        assert r.reason == "the second search process stopped (ValueError: boom)"
    assert r.states < 14158  # N = 8 has 14,158 states


@pytest.mark.parametrize("seed", range(5))
def test_merge_order_places_both_runs_by_key(seed):
    rng = np.random.default_rng(seed)
    keys = np.sort(rng.choice(1 << 40, size=int(rng.integers(0, 3_000)), replace=False))
    side = rng.random(len(keys)) < rng.random()
    a, b = keys[side], keys[~side]
    pa, pb = parallel._merge_order(a, b)
    merged = np.empty(len(keys), dtype=keys.dtype)
    merged[pa], merged[pb] = a, b
    assert merged.tolist() == keys.tolist()
