"""The vector engine leaves small levels to the packed loop (``small``) and takes over at the
first wide level: the results are still exactly those of ``packed_search``, wherever the
hand-over falls, and a search whose levels all stay small never touches numpy."""

from __future__ import annotations

import os
import sys

import pytest

import mscheck
from mscheck.engine.compile import CompiledModel
from mscheck.engine.packed import PackedModel, packed_search
from mscheck.engine.search import Limits
from mscheck.engine.vector import CHECK_EVERY, vector_search

from .test_agreement import BAD, CASES, ROOT, _cube, _packable, summary


@pytest.mark.parametrize("small", [2, 5, 40])
@pytest.mark.parametrize("path,faults", CASES)
def test_every_packable_spec_agrees(path, faults, small):
    make = _packable(path, faults)
    if make is None:
        pytest.skip("not packable")
    for keep_going in (False, True):
        packed = summary(packed_search(make(), keep_going=keep_going))
        assert summary(vector_search(make(), keep_going=keep_going, small=small)) == packed


@pytest.mark.parametrize("small", [1, 3, 30, 300, 3000])
@pytest.mark.parametrize("keep_going", [False, True], ids=["first", "continue"])
def test_philosophers_any_hand_over(small, keep_going):
    spec = mscheck.load(os.path.join(ROOT, "specs", "classic", "philosophers.ms"),
                        {"N": "7"})
    packed = summary(packed_search(PackedModel(CompiledModel(spec)), keep_going=keep_going))
    r = vector_search(PackedModel(CompiledModel(spec)), keep_going=keep_going, small=small)
    assert summary(r) == packed
    # N = 7: the levels hold 1, 7, 28, 77, 161, 266, 364, ... (at most 455) states; the
    # packed loop takes those before the first of ``small`` states or more, and all 25 (or
    # the 8 up to the deadlock, which stops the search) when there is none
    assert r.packed_levels == {1: 0, 3: 1, 30: 3, 300: 6, 3000: 25 if keep_going else 8}[small]


@pytest.mark.parametrize("case", sorted(BAD))
def test_wide_levels_and_limits(case):
    make = _cube(BAD[case])
    for limits in (Limits(), Limits(max_states=5000), Limits(max_depth=4)):
        packed = summary(packed_search(make(), limits=limits))
        got = vector_search(make(), limits=limits, small=100, chunk=CHECK_EVERY)
        assert summary(got) == packed


def test_a_narrow_search_stays_in_the_packed_loop():
    spec = mscheck.loads("service Counter { var n: 0..5000 = 0\n"
                         "  action inc when n < 5000 { n := n + 1 } }\n"
                         "invariant Small: Counter.n < 4000\n", "narrow.ms")
    r = vector_search(PackedModel(CompiledModel(spec)), small=128)
    assert (r.verdict, r.states, r.depth, len(r.traces[0])) == ("violation", 4001, 4000, 4001)
    assert r.packed_levels == 4001


def test_check_of_a_small_spec_does_not_import_numpy(check_in_fresh_interpreter, tmp_path):
    # every level of the two-phase commit is narrow: the packed loop does the whole search,
    # and numpy (some 50 ms to import) is never loaded
    out = check_in_fresh_interpreter(os.path.join(ROOT, "specs", "classic", "tcommit.ms"),
                                     ["verdict", "states", "transitions", "packed_levels"],
                                     "numpy")
    assert out == ["ok", "34", "94", "7", "False"]
    # nor is ctypes, for the allocator's settings (the command line's ``tune_memory``)
    out = check_in_fresh_interpreter(os.path.join(ROOT, "specs", "classic", "tcommit.ms"),
                                     ["verdict", "states"], "ctypes", tune_memory=True)
    assert out == ["ok", "34", "False"]
    # which a search the vector engine takes over does set (philosophers, N = 7: levels of
    # 1, 7, 28 and 77 states by the packed loop, then numpy's)
    text = open(os.path.join(ROOT, "specs", "classic", "philosophers.ms")).read()
    spec = tmp_path / "philosophers.ms"
    spec.write_text(text.replace("const N = 5", "const N = 7"))
    out = check_in_fresh_interpreter(str(spec), ["verdict", "packed_levels"], "ctypes",
                                     tune_memory=True)
    assert out == ["violation", "4", "True"]


def test_check_hands_a_wide_search_to_the_vector_engine():
    from mscheck.engine.check import check_spec

    path = os.path.join(ROOT, "specs", "classic", "philosophers.ms")
    keys = ("verdict", "states", "transitions", "depth", "complete")
    for keep_going in (False, True):
        auto = check_spec(mscheck.load(path, {"N": "7"}), keep_going=keep_going)
        packed = check_spec(mscheck.load(path, {"N": "7"}), keep_going=keep_going,
                            engine="packed")
        assert [auto[k] for k in keys] == [packed[k] for k in keys]
        assert auto["violations"] == packed["violations"]
        # levels of 1, 7, 28 and 77 states by the packed loop; the one of 161 is the first
        # the vector engine expands
        assert (auto["engine"], auto["packed_levels"]) == ("vector", 4)
    assert "numpy" in sys.modules


def test_a_trace_does_not_import_numpy_ma(check_in_fresh_interpreter, tmp_path):
    # walking a deadlock's trace back through the levels takes sets of a few states, not
    # ``np.unique``, which imports ``numpy.ma`` (6 ms) on first use (as ``np.isin`` does on
    # arrays it sorts, through ``np.unique``: the levels of larger models)
    text = open(os.path.join(ROOT, "specs", "classic", "philosophers6.ms")).read()
    spec = tmp_path / "philosophers6.ms"
    spec.write_text(text.replace("const N = 5", "const N = 6"))
    out = check_in_fresh_interpreter(str(spec), ["verdict", "states", "engine", "depth"],
                                     "numpy.ma")
    assert out == ["violation", "553", "vector", "7", "False"]
