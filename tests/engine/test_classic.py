"""Exact figures for classic models, and the verdict of every bundled spec.

Figures as TLC counts them: distinct states, and transitions = initial states + every
successor computed from every distinct state. Where a figure is not published, it was
computed independently: the dining philosophers by enumerating phase vectors (a
philosopher's phase decides which forks it holds; a state is reachable when no fork is held
twice and not everyone holds only the right fork) and by the reference explorer of this
folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import mscheck
from mscheck.engine.check import check_spec
from mscheck.engine.compile import CompiledModel
from mscheck.engine.packed import PackedModel, packed_search
from mscheck.engine.search import search

from .reference import explore

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "specs"
ENGINES = ["scalar", "packed"]


def _check(path, engine, keep_going=False, consts=None) -> dict:
    spec = mscheck.load(str(path), consts)
    doc = check_spec(spec, engine=engine, keep_going=keep_going)
    assert doc["engine"] == engine
    return doc


def _kinds(doc) -> set:
    return {(v["kind"], v["property"]) for v in doc["violations"]}


# ---------------------------------------------------------------- published figures


@pytest.mark.parametrize("engine", ENGINES)
def test_two_phase_commit_288_states_1146_transitions(engine):
    doc = _check(SPECS / "classic/two_phase.ms", engine)
    assert (doc["verdict"], doc["states"], doc["transitions"]) == ("ok", 288, 1146)
    assert doc["violations"] == []


@pytest.mark.parametrize("engine", ENGINES)
def test_tcommit_34_states_94_transitions(engine):
    doc = _check(SPECS / "classic/tcommit.ms", engine)
    assert (doc["verdict"], doc["states"], doc["transitions"]) == ("ok", 34, 94)


@pytest.mark.parametrize("engine", ENGINES)
def test_two_phase_commit_with_set_orders_forgotten(engine, monkeypatch):
    # the ordered contents of the set of messages are forgotten at every second contents:
    # recomputed, they are the same
    import mscheck.engine.compile as compile_

    monkeypatch.setattr(compile_, "SET_ORDERS", 2)
    doc = _check(SPECS / "classic/two_phase.ms", engine)
    assert (doc["verdict"], doc["states"], doc["transitions"]) == ("ok", 288, 1146)


def test_reference_agrees_on_two_phase_and_tcommit():
    r = explore(mscheck.load(str(SPECS / "classic/two_phase.ms")))
    assert (r.states, r.transitions, r.kinds) == (288, 1146, set())
    r = explore(mscheck.load(str(SPECS / "classic/tcommit.ms")))
    assert (r.states, r.transitions, r.kinds) == (34, 94, set())


# ---------------------------------------------------------------- dining philosophers

TAKE_LEFT_5 = [f"Philosopher[{p}].take_left" for p in range(1, 6)]


@pytest.mark.parametrize("engine", ENGINES)
def test_philosophers_deadlock_shortest_trace(engine):
    doc = _check(SPECS / "classic/philosophers.ms", engine)
    assert doc["verdict"] == "violation"
    (v,) = doc["violations"]
    assert (v["kind"], v["property"]) == ("deadlock", "deadlock_free")
    trace = v["trace"]
    assert trace[0]["action"] == "initial state" and trace[0]["actor"] is None
    # Breadth-first: the shortest path to the deadlock, every philosopher taking its left
    # fork once, in the order the steps are declared.
    assert [f"{t['actor']}.{t['action']}" for t in trace[1:]] == TAKE_LEFT_5
    last = trace[-1]["state"]
    assert all(last[f"Philosopher[{p}].phase"] == "holding_left" for p in range(1, 6))
    assert all(last[f"fork[{f}]"] == "[]" for f in range(1, 6))
    # Each step shows the fork it received and the phase it changed.
    assert trace[1]["messages"] == [{"direction": "recv", "channel": "fork[1]",
                                     "message": "true"}]
    assert trace[1]["changes"] == {"Philosopher[1].phase": "holding_left", "fork[1]": "[]"}


# The variant with forks laid on the table by the channels' initial contents. Written out
# here so that the figures do not depend on edits to specs/classic/philosophers.ms.
PHILOSOPHERS_INIT = """
const N = 5
def right(p) = if p == N then 1 else p + 1
channel fork[f in 1..N]: fifo(1) of bool = [true]
service Philosopher[p in 1..N] {
  var phase: {thinking, holding_left, eating, sated, holding_right} = thinking
  on take_left: fork[p]?(_) when phase == thinking { phase := holding_left }
  on take_right: fork[right(p)]?(_) when phase == holding_left { phase := eating }
  action eat when phase == eating { phase := sated }
  action put_left when phase == sated { fork[p]!(true); phase := holding_right }
  action put_right when phase == holding_right { fork[right(p)]!(true); phase := thinking }
}
"""

# N -> (states, transitions), exploring past the deadlock (--continue)
PHILOSOPHER_FIGURES = {5: (392, 1251), 8: (14158, 72337), 10: (154450, 986431)}


def _phil(n: int):
    return mscheck.loads(PHILOSOPHERS_INIT, "philosophers_init.ms", {"N": str(n)})


@pytest.mark.parametrize("n", [5, 8])
def test_philosophers_with_initial_forks_scalar(n):
    r = search(CompiledModel(_phil(n)), keep_going=True)
    assert (r.states, r.transitions) == PHILOSOPHER_FIGURES[n]
    assert {(v.kind, v.property) for v in r.violations} == {("deadlock", "deadlock_free")}
    assert len(r.violations) == 1  # the one dead state: everyone holds the left fork


@pytest.mark.parametrize("n", [5, 8, 10])
def test_philosophers_with_initial_forks_packed(n):
    r = packed_search(PackedModel(CompiledModel(_phil(n))), keep_going=True)
    assert (r.states, r.transitions) == PHILOSOPHER_FIGURES[n]
    assert [(v.kind, v.property) for v in r.violations] == [("deadlock", "deadlock_free")]
    (trace,) = r.traces
    assert [s.step.label() for s in trace[1:]] == [f"Philosopher[{p}].take_left"
                                                   for p in range(1, n + 1)]


def test_reference_agrees_on_philosophers_5():
    r = explore(_phil(5))
    assert (r.states, r.transitions) == PHILOSOPHER_FIGURES[5]
    assert r.kinds == {("deadlock", "deadlock_free")}
    assert r.first_depth == {("deadlock", "deadlock_free"): 5}


@pytest.mark.parametrize("engine", ENGINES)
def test_bundled_philosophers_figures(engine):
    # The header comment: 392 reachable states (1,251 transitions, exploring past the
    # deadlock); ForkConservation and NeighboursNeverEatTogether hold; SomeoneEats and
    # AllHoldLeft are reachable; the deadlock is the only violation.
    doc = _check(SPECS / "classic/philosophers.ms", engine, keep_going=True)
    assert (doc["states"], doc["transitions"]) == (392, 1251)
    assert _kinds(doc) == {("deadlock", "deadlock_free")}


def _rings(n: int, holds: list[tuple[bool, bool]]) -> int:
    """Rings of n phases (each phase holding the left and/or the right fork) in which no
    fork is held by both of its philosophers: the trace of the n-th power of the transfer
    matrix, computed with integers."""
    k = len(holds)
    ok = [[not (holds[a][1] and holds[b][0]) for b in range(k)] for a in range(k)]
    total = 0
    for start in range(k):
        ways = [1 if j == start else 0 for j in range(k)]
        for _ in range(n):
            ways = [sum(ways[a] for a in range(k) if ok[a][b]) for b in range(k)]
        total += ways[start]
    return total


# philosophers6 phases: thinking, holding_left, ready, eating, sated, releasing
SIX_PHASES = [(False, False), (True, False), (True, True), (True, True), (True, True),
              (True, False)]


@pytest.mark.parametrize("n", [3, 5, 10])
def test_philosophers6_is_the_613574_state_model(n):
    # 613,574 states at N = 10: the count the vectorised-engine benchmark names. Every ring
    # of phases without a fork held twice is reachable but one: everyone releasing.
    spec = mscheck.load(str(SPECS / "classic/philosophers6.ms"), {"N": str(n)})
    doc = check_spec(spec, keep_going=True)
    assert doc["states"] == _rings(n, SIX_PHASES) - 1
    assert (doc["states"], doc["transitions"]) == {3: (53, 106), 5: (782, 2606),
                                                   10: (613574, 4090491)}[n]
    (v,) = doc["violations"]
    assert (v["kind"], v["property"]) == ("deadlock", "deadlock_free")
    assert [f"{t['actor']}.{t['action']}" for t in v["trace"][1:]] == [
        f"Philosopher[{p}].take_left" for p in range(1, n + 1)]


def test_philosophers_five_phase_figures_are_rings():
    five = [(False, False), (True, False), (True, True), (True, True), (False, True)]
    assert [_rings(n, five) - 1 for n in (5, 8, 10)] == [
        PHILOSOPHER_FIGURES[n][0] for n in (5, 8, 10)]


# ---------------------------------------------------------------- every bundled spec

# The verdict each spec's header comment states (its violations as (kind, property)), and
# the exact figures where the comment gives them.
EXPECTED = {
    "architectures/online_boutique.ms": (set(), (1, 1)),  # architecture only: one state
    # "84 states, 323 transitions", every fault explored; AllDelivered holds under fairness
    "classic/alternating_bit.ms": (set(), (84, 323)),
    "classic/philosophers.ms": ({("deadlock", "deadlock_free")}, (392, 1251)),
    # N = 5: the transfer-matrix count 783 less the unreachable ring of releasers
    "classic/philosophers6.ms": ({("deadlock", "deadlock_free")}, (782, 2606)),
    "classic/tcommit.ms": (set(), (34, 94)),
    "classic/two_phase.ms": (set(), (288, 1146)),
    "seed/circuit_breaker.ms": (set(), (7, None)),  # "Seven states in all"
    # "660 states, 3,464 transitions", every fault explored: OneProbeInFlight and
    # NoLateReplies fail; Recloses holds under the strong fairness
    "seed/circuit_breaker_faults.ms": ({("invariant", "NoLateReplies"),
                                        ("invariant", "OneProbeInFlight")}, (660, 3464)),
    "seed/load_balancer.ms": (set(), None),
    "seed/order_events.ms": (set(), None),
    # "--continue: 174 states, 409 transitions": NaiveChargesOnce violated, Billed fails
    "seed/order_events_faults.ms": ({("invariant", "NaiveChargesOnce"),
                                     ("liveness", "Billed")}, (174, 409)),
    "seed/order_inventory.ms": (set(), None),
    "seed/saga.ms": (set(), None),
    "seed/saga_proof.ms": (set(), None),  # "the model is specs/seed/saga.ms unchanged"
    # "728 states, 3,963 transitions": safety holds; Ends fails with unbounded faults
    "seed/saga_faults.ms": ({("liveness", "Ends")}, (728, 3963)),
    "seed/service_registry.ms": (set(), None),
}
BUNDLED = sorted(p.relative_to(SPECS).as_posix() for p in SPECS.rglob("*.ms"))


def _architecture_only(spec) -> bool:
    return (spec.init is None and not spec.properties and not spec.shared_vars
            and not any(s.has_behaviour for s in spec.services.values()))


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_spec_verdict(name):
    spec = mscheck.load(str(SPECS / name))
    if name not in EXPECTED and _architecture_only(spec):
        EXPECTED[name] = (set(), (1, 1))  # nothing behaves: one state, nothing to violate
    assert name in EXPECTED, (f"specs/{name} is new: add the verdict its header comment "
                              "states to EXPECTED")
    violations, figures = EXPECTED[name]
    doc = check_spec(spec, keep_going=True)
    assert _kinds(doc) == violations
    assert doc["verdict"] == ("violation" if violations else "ok")
    assert doc["complete"] is True
    if figures is not None:
        states, transitions = figures
        assert doc["states"] == states
        if transitions is not None:
            assert doc["transitions"] == transitions


def test_saga_proof_is_saga_unchanged():
    figures = []
    for name in ("seed/saga.ms", "seed/saga_proof.ms"):
        doc = check_spec(mscheck.load(str(SPECS / name)), keep_going=True)
        figures.append((doc["verdict"], doc["states"], doc["transitions"], doc["depth"]))
    assert figures[0] == figures[1]


def _faults(spec) -> bool:
    return (any(c.flags for c in spec.channels.values())
            or any(s.crashable for s in spec.services.values()))


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_spec_engines_agree(name):
    """Service-layer specs without faults: both engines and the reference give the same
    figures (safety only: liveness needs the scalar engine's graph)."""
    spec = mscheck.load(str(SPECS / name))
    if spec.init is not None or _faults(spec):
        pytest.skip("processes and faults are explored by the scalar engine only")
    scalar = search(CompiledModel(spec), keep_going=True)
    packed = packed_search(PackedModel(CompiledModel(spec)), keep_going=True)
    figures = [(r.states, r.transitions, r.depth, {(v.kind, v.property) for v in r.violations})
               for r in (scalar, packed)]
    assert figures[0] == figures[1]
    if scalar.states <= 1000:
        ref = explore(spec)
        assert figures[0] == (ref.states, ref.transitions, ref.max_depth, ref.kinds)


def test_order_inventory_has_processes_and_runs_on_the_scalar_engine():
    doc = check_spec(mscheck.load(str(SPECS / "seed/order_inventory.ms")), keep_going=True)
    assert doc["engine"] == "scalar"
    assert doc["verdict"] == "ok" and doc["violations"] == []
    with pytest.raises(Exception, match="processes"):
        PackedModel(CompiledModel(mscheck.load(str(SPECS / "seed/order_inventory.ms"))))


@pytest.mark.parametrize("n,states", [(2, 28_800), (3, 1_920_000)])
def test_service_registry_scaled_up_counts_as_spin_and_tlc(n, states):
    # the seed spec with n instances and its twins in bench/ (service_registry_promela,
    # bench/models/ServiceRegistry.tla): SPIN and TLC count these states too
    spec = mscheck.load(str(SPECS / "seed/service_registry.ms"), {"N": str(n)})
    doc = check_spec(spec, keep_going=True,
                     properties=["StaleOnlyWhileInFlight", "UpIsDiscoverable"])
    assert (doc["verdict"], doc["states"], doc["engine"]) == ("ok", states, "vector")
