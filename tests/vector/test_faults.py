"""Faults on the packed and vector engines: lossy, duplicating and reordering channels,
crashable services with durable variables, with and without a fault budget.

On generated specs with faults (``tests/engine/gen.py`` with ``faults=True``), the scalar
engine, the packed engine and the vector engine explore the same states and transitions to
the same depth, and report the same violations at the same depths (``--continue``), in the
same order with the same traces; without it the three stop at the same violation with the
same counts; the vector engine gives exactly the packed engine's results."""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

import mscheck
from mscheck.engine.check import check_spec
from mscheck.engine.compile import CompiledModel
from mscheck.engine.packed import NotPackable, PackedModel, packed_search
from mscheck.engine.search import Limits, search
from mscheck.engine.vector import CHECK_EVERY, vector_search

from .test_agreement import ROOT, summary

_GEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "engine",
                    "gen.py")
_spec = importlib.util.spec_from_file_location("_vector_gen", _GEN)
gen = sys.modules.setdefault("_vector_gen", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(gen)

LIMITS = Limits(max_states=5000)
ERRORS = ("range", "assertion", "domain")


def reported(r) -> list:
    """(trace depth, kind, property) of every violation, step errors as one kind (which of
    several failing steps an engine meets first is a matter of order), sorted."""
    out = []
    for v, trace in zip(r.violations, r.traces):
        key = ("error", "error") if v.kind in ERRORS else (v.kind, v.property)
        out.append((len(trace) - 1 if trace else -1,) + key)
    return sorted(out)


def first_steps(model, r) -> int:
    """Checks that every step of the traces of ``r`` is the first of all the scalar engine's
    successors that leads there (rebuilding a trace runs only the steps whose table entry
    holds the delta); returns how many steps were checked."""
    n = 0
    for trace in r.traces:
        for before, after in zip(trace, trace[1:]):
            first = next(s for s, succ in model.successors(before.state) if succ == after.state)
            assert after.step == first
            n += 1
    return n


def agree(text: str, max_faults: int | None) -> None:
    spec = mscheck.loads(text, "gen.ms")
    try:
        PackedModel(CompiledModel(spec, max_faults=max_faults))
    except NotPackable:
        assume(False)

    def pm():
        return PackedModel(CompiledModel(spec, max_faults=max_faults))

    full = {}
    for name, run in (
            ("scalar", lambda kg: search(CompiledModel(spec, max_faults=max_faults),
                                         keep_going=kg, limits=LIMITS)),
            ("packed", lambda kg: packed_search(pm(), keep_going=kg, limits=LIMITS)),
            ("vector", lambda kg: vector_search(pm(), keep_going=kg, limits=LIMITS,
                                                chunk=CHECK_EVERY))):
        try:
            every, first = run(True), run(False)
        except NotPackable:
            assume(False)
        full[name] = (every, first)
    every = full["scalar"][0]
    assume(every.complete)
    for name, (r, first) in full.items():
        assert (name, r.states, r.transitions, r.depth, r.verdict) == (
            name, every.states, every.transitions, every.depth, every.verdict)
        assert (name, reported(r)) == (name, reported(every))
        # without --continue: one violation, at the shortest depth it shows at
        assert first.verdict == every.verdict
        if every.violations:
            (depth, *key), = reported(first)
            assert depth == min(d for d, *k in reported(every) if k == key)
    first_steps(CompiledModel(spec, max_faults=max_faults), full["packed"][0])
    # every engine lists successors in one order, numbers the states alike, and reports
    # level by level: the same violations in the same order with the same traces with
    # --continue, and without it the same stop with the same counts
    for i in (0, 1):
        assert summary(full["scalar"][i]) == summary(full["packed"][i])
    # the vector engine is the packed engine's search on arrays: everything agrees
    for i in (0, 1):
        assert summary(full["vector"][i]) == summary(full["packed"][i])


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(gen.specs(faults=True), st.sampled_from([None, None, 1, 2]))
def test_engines_agree_on_generated_specs_with_faults(text, max_faults):
    note(text)
    agree(text, max_faults)


FAULT_SPECS = ["specs/seed/circuit_breaker_faults.ms", "specs/seed/saga_faults.ms",
               "specs/classic/alternating_bit.ms"]


@pytest.mark.parametrize("max_faults", [None, 1, 3])
@pytest.mark.parametrize("path", FAULT_SPECS)
def test_bundled_fault_specs_agree(path, max_faults):
    text = open(os.path.join(ROOT, path)).read()
    agree(text, max_faults)


def test_the_fault_specs_run_on_the_vector_engine():
    got = {}
    for path in FAULT_SPECS:
        doc = check_spec(mscheck.load(os.path.join(ROOT, path)), keep_going=True,
                         engine="auto")
        got[path] = (doc["engine"], doc["states"], doc["transitions"])
    assert got == {"specs/seed/circuit_breaker_faults.ms": ("vector", 660, 3464),
                   "specs/seed/saga_faults.ms": ("vector", 728, 3963),
                   "specs/classic/alternating_bit.ms": ("vector", 84, 323)}


CRASHY = """
system Crashy
const N = 2
channel jobs: fifo(2) of 0..1 lossy duplicating
crashable service W[i in 1..N] {
  var x: 0..3 = 0
  durable var done: 0..3 = 0
  action work when x < 3 { x := x + 1 }
  on jobs?j when done < 3 { done := done + 1 }
}
service Boss {
  var sent: 0..2 = 0
  action send when sent < 2 { jobs!(sent mod 2); sent := sent + 1 }
}
invariant Bounded: W[1].done + W[2].done <= 3
"""


def test_replicated_crashable_instances_share_a_table():
    pm = PackedModel(CompiledModel(mscheck.loads(CRASHY, "c.ms")))
    twins = [t for t in pm.tables for t in (t.parts or [t]) if t.twin is not None]
    assert len(twins) == 1  # W[2]'s steps read its up slot: its bits move with the instance
    packed, vector = (summary(packed_search(PackedModel(CompiledModel(
        mscheck.loads(CRASHY, "c.ms"))), keep_going=True)), summary(vector_search(
            PackedModel(CompiledModel(mscheck.loads(CRASHY, "c.ms"))), keep_going=True)))
    scalar = search(CompiledModel(mscheck.loads(CRASHY, "c.ms")), keep_going=True)
    assert (packed["states"], packed["transitions"]) == (scalar.states, scalar.transitions) == (
        3625, 21386)
    assert vector == packed


def test_stepping_back_through_the_entries_in_arrays_finds_the_same_predecessors():
    from mscheck.engine.packed import Inverse
    from mscheck.engine.vector import _ArrayInverse

    spec = mscheck.load(os.path.join(ROOT, "specs/seed/circuit_breaker_faults.ms"))
    pm = PackedModel(CompiledModel(spec))
    r = packed_search(pm, keep_going=True)  # fills the tables on every reachable state
    assert (r.states, len(r.violations)) == (660, 27)
    plain, arrays = Inverse(pm), _ArrayInverse(pm)
    seen = 0
    for t in r.traces:
        for step in t[1:]:
            s = pm.encode(step.state)
            got = arrays.predecessors(s)
            assert sorted(got) == sorted(plain.predecessors(s)) and len(set(got)) == len(got)
            seen += len(got)
    assert seen > 0


@pytest.mark.parametrize("path,steps", [("specs/classic/philosophers.ms", 5),
                                        ("specs/seed/circuit_breaker_faults.ms", 364)])
def test_a_trace_step_is_the_first_the_scalar_engine_lists(path, steps):
    spec = mscheck.load(os.path.join(ROOT, path))
    r = packed_search(PackedModel(CompiledModel(spec)), keep_going=True)
    assert first_steps(CompiledModel(spec), r) == steps


TWO_LOOPS = """
var lock: 0..4 = 0
var k: 0..3 = 0
service R[i in 1..2] {
  action a when lock == 0 { lock := i }
  action b when lock == 0 { lock := i + 2 }
}
service S {
  action go1 when lock == 1 { lock := 2 }
  action t2 when lock == 2 { k := 1 - k }
  action t3 when lock == 3 { k := (k + 1) mod 4 }
  action go4 when lock == 4 { lock := 3 }
}
always eventually Back: lock == 0
"""


def test_every_engine_shows_the_same_lasso():
    # the scalar engine once listed successors step by step (R[1].a, R[2].a, R[1].b, ...)
    # and the tables instance by instance: the states were numbered apart, and the fair
    # SCC holding the lowest state was another one
    got = []
    for engine in ("scalar", "auto"):
        doc = check_spec(mscheck.loads(TWO_LOOPS, "t.ms"), engine=engine)
        (v,) = doc["violations"]
        got.append((doc["engine"], v["loop_start"],
                    [(t["actor"], t["action"]) for t in v["trace"][1:]]))
    lasso = (1, [("R[1]", "b")] + [("S", "t3")] * 4)
    assert got == [("scalar",) + lasso, ("vector",) + lasso]


RESET_FROM_DURABLE = """
crashable service W {
  durable var d: 0..3 = 0
  var y: 0..2 = d
  action inc when d < 3 { d := d + 1 }
}
invariant Y: W.y <= 2
"""


@pytest.mark.parametrize("init,kind,message", [
    ("= d", "range", "W.y in a crash: 3 is outside 0..2"),
    ("in {v in 0..2 : v > d}", "domain",
     "W.y has no initial value to take in a crash (its set of initial values is empty)")])
def test_a_crash_checks_the_initial_values_it_takes_again(init, kind, message):
    text = RESET_FROM_DURABLE.replace("= d\n", init + "\n")
    if kind == "domain":
        text = text.replace("0..3", "0..2").replace("d < 3", "d < 2")
    got = []
    for engine in ("scalar", "auto"):
        doc = check_spec(mscheck.loads(text, "w.ms"), engine=engine)
        (v,) = doc["violations"]
        got.append((v["kind"], v["message"], [(t["actor"], t["action"]) for t in v["trace"]]))
    steps = [(None, "initial state")] + [("W", "inc")] * (3 if kind == "range" else 2)
    assert got == [(kind, message, steps)] * 2  # the trace ends where the crash fails
