"""The vectorised engine gives exactly the results of ``packed_search``: states, transitions,
depth, verdict, reason, the violations in order and their traces, with and without
``keep_going``; the limits stop it at the same points."""

from __future__ import annotations

import glob
import importlib.util
import os
import sys

import pytest

import mscheck
from mscheck.engine.compile import CompiledModel
from mscheck.engine.packed import NotPackable, PackedModel, packed_search
from mscheck.engine.search import Limits
from mscheck.engine.vector import CHECK_EVERY, packed_or_vector_search, vector_search

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPECS = sorted(glob.glob(os.path.join(ROOT, "specs", "**", "*.ms"), recursive=True))


_OUTCOME = os.path.join(ROOT, "tests", "engine", "outcome.py")
_spec = importlib.util.spec_from_file_location("_engine_outcome", _OUTCOME)
_outcome = sys.modules.setdefault("_engine_outcome", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(_outcome)
summary = _outcome.summary


def run_both(make_pm, **kwargs):
    """(packed summary, vector summary); an exception (a known defect of packed_search) must
    be raised by both."""
    out = []
    for engine in (packed_search, vector_search):
        try:
            out.append(summary(engine(make_pm(), **kwargs)))
        except Exception as exc:  # noqa: BLE001 - compared below
            out.append(("raised", type(exc).__name__))
    return out


def _packable(path: str, faults: bool):
    spec = mscheck.load(path)
    try:
        PackedModel(CompiledModel(spec, faults=faults))
    except NotPackable:
        return None
    return lambda: PackedModel(CompiledModel(spec, faults=faults))


CASES = [pytest.param(p, f, id=f"{os.path.relpath(p, ROOT)}{'' if f else '-nofaults'}")
         for p in SPECS for f in (True, False)]


@pytest.mark.parametrize("keep_going", [False, True], ids=["first", "continue"])
@pytest.mark.parametrize("path,faults", CASES)
def test_every_packable_spec_agrees(path, faults, keep_going):
    make = _packable(path, faults)
    if make is None:
        pytest.skip("not packable")
    packed, vector = run_both(make, keep_going=keep_going)
    assert vector == packed


@pytest.mark.parametrize("keep_going", [False, True], ids=["first", "continue"])
@pytest.mark.parametrize("deadlock", [True, False], ids=["deadlock", "nodeadlock"])
@pytest.mark.parametrize("n", [5, 6, 7, 8, 9])
def test_philosophers_agree(n, deadlock, keep_going):
    spec = mscheck.load(os.path.join(ROOT, "specs", "classic", "philosophers.ms"),
                        {"N": str(n)})
    packed, vector = run_both(lambda: PackedModel(CompiledModel(spec)),
                              keep_going=keep_going, check_deadlock=deadlock)
    assert vector == packed


def test_philosophers_10_counts():
    spec = mscheck.load(os.path.join(ROOT, "specs", "classic", "philosophers.ms"),
                        {"N": "10"})
    r = vector_search(PackedModel(CompiledModel(spec)), check_deadlock=False)
    assert (r.verdict, r.states, r.transitions, r.complete) == ("ok", 154450, 986431, True)
    assert r.depth == 36


# 2**17 states, level k holds C(17, k) states: levels wider than CHECK_EVERY.
CUBE = """
const BITS = 17
service Bit[i in 1..BITS] {
  var on: bool
  action flip { on := not on }
}
"""
BAD = {
    # fails first at depth 2; the first failing state in level order is picked
    "shallow": "invariant NotBoth: not (Bit[3].on and Bit[17].on)\n",
    # fails first deep in the state space, in the middle of a wide level
    "deep": "invariant FewOn: not (Bit[1].on and Bit[4].on and Bit[9].on and Bit[12].on "
            "and Bit[16].on and Bit[15].on and Bit[2].on and Bit[7].on)\n",
    "reach": "reachable AllOn: forall i in 1..BITS: Bit[i].on\n"
             "reachable Never: Bit[1].on and not Bit[1].on\n",
}


# the same properties for an 11-bit cube
SMALL = {
    "shallow": "invariant NotBoth: not (Bit[3].on and Bit[9].on)\n",
    "deep": "invariant FewOn: not (Bit[1].on and Bit[4].on and Bit[9].on and Bit[11].on "
            "and Bit[6].on)\n",
    "reach": BAD["reach"],
}


def _cube(extra: str = "", bits: int = 17):
    spec = mscheck.loads(CUBE.replace("BITS = 17", f"BITS = {bits}") + extra, "cube.ms")
    return lambda: PackedModel(CompiledModel(spec))


@pytest.mark.parametrize("chunk", [CHECK_EVERY, 3 * CHECK_EVERY, 1 << 20])
@pytest.mark.parametrize("case", sorted(BAD))
def test_wide_levels_any_chunk(case, chunk):
    make = _cube(BAD[case])
    packed = summary(packed_search(make()))
    assert summary(vector_search(make(), chunk=chunk)) == packed


@pytest.mark.parametrize("case", sorted(BAD))
def test_wide_levels_continue(case):
    # with keep_going an invariant is reported at every level where it fails, each with a
    # trace (slow to rebuild through wide levels): a smaller cube for those
    make = _cube(BAD[case]) if case == "reach" else _cube(SMALL[case], bits=11)
    packed = summary(packed_search(make(), keep_going=True))
    assert summary(vector_search(make(), keep_going=True, chunk=CHECK_EVERY)) == packed


@pytest.mark.parametrize("chunk", [CHECK_EVERY, 1 << 17])
@pytest.mark.parametrize("limits", [Limits(max_states=5000), Limits(max_states=20000),
                                    Limits(max_states=70000), Limits(max_depth=3),
                                    Limits(max_depth=0)],
                         ids=["states5000", "states20000", "states70000", "depth3", "depth0"])
def test_limits_stop_at_the_same_point(limits, chunk):
    make = _cube()
    packed = summary(packed_search(make(), limits=limits))
    vector = summary(vector_search(make(), limits=limits, chunk=chunk))
    assert vector == packed
    assert vector["verdict"] == "inconclusive" and not vector["complete"]


def test_a_violation_before_the_state_limit_wins():
    make = _cube(BAD["shallow"])
    limits = Limits(max_states=30)
    assert summary(vector_search(make(), limits=limits)) == \
        summary(packed_search(make(), limits=limits))


@pytest.mark.parametrize("limits", [Limits(timeout=0.0), Limits(memory=1)],
                         ids=["timeout", "memory"])
def test_time_and_memory_limits_are_inconclusive(limits):
    r = vector_search(_cube()(), limits=limits)
    assert (r.verdict, r.complete, r.violations) == ("inconclusive", False, [])
    assert r.reason and r.states < 2 ** 17


def test_interrupt_is_inconclusive():
    calls = []

    def progress(info):
        calls.append(info)
        raise KeyboardInterrupt

    import mscheck.engine.vector as V
    old = V.time.monotonic
    ticks = iter(range(10 ** 9))
    V.time.monotonic = lambda: float(next(ticks))  # every chunk is a second later
    try:
        r = vector_search(_cube()(), progress=progress, chunk=CHECK_EVERY)
    finally:
        V.time.monotonic = old
    assert (r.verdict, r.reason, r.complete) == ("inconclusive", "interrupted", False)
    assert calls and {"states", "transitions", "queue", "depth", "seconds",
                      "memory"} <= set(calls[0])


def test_progress_is_reported():
    calls = []
    import mscheck.engine.vector as V
    old = V.time.monotonic
    ticks = iter(range(10 ** 9))
    V.time.monotonic = lambda: float(next(ticks))
    try:
        r = vector_search(_cube()(), progress=calls.append, chunk=CHECK_EVERY)
    finally:
        V.time.monotonic = old
    assert r.verdict == "ok" and r.states == 2 ** 17
    assert calls and all(c["states"] <= 2 ** 17 for c in calls)


def test_wide_states_are_vectorised():
    # 70 bits: two words per state (tests/vector/test_wide.py has more)
    spec = mscheck.loads(CUBE.replace("BITS = 17", "BITS = 70"), "cube.ms")
    pm = PackedModel(CompiledModel(spec))
    assert pm.bits > 64
    r = vector_search(pm, limits=Limits(max_depth=2))
    assert (r.states, r.verdict) == (1 + 70 + 70 * 69 // 2, "inconclusive")
    r = packed_or_vector_search(pm, limits=Limits(max_depth=1))
    assert (r.states, r.verdict) == (71, "inconclusive")


def test_properties_filter():
    make = _cube(SMALL["shallow"] + SMALL["reach"], bits=11)
    for props in (["AllOn"], ["NotBoth", "Never"], []):
        assert summary(vector_search(make(), properties=props, keep_going=True)) == \
            summary(packed_search(make(), properties=props, keep_going=True))
