"""Proofs with Z3: exact outcomes on the seed specs, replay of BMC traces in the explicit
engine, agreement with explicit search on generated specs, and the text of a CTI."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import mscheck
from mscheck.engine.compile import CompiledModel
from mscheck.engine.search import Limits, search
from mscheck.report.prove import prove_exit_code, render_prove_text
from mscheck.smt import prove_property, prove_spec
from mscheck.smt.encode import Encoder

REPO = Path(__file__).resolve().parents[2]
CB = REPO / "specs/seed/circuit_breaker.ms"
TP = REPO / "specs/classic/two_phase.ms"
SAGA = REPO / "specs/seed/saga.ms"


def one(doc):
    assert doc["version"] == 1 and len(doc["results"]) == 1
    return doc["results"][0]


# ---------------------------------------------------------------- circuit breaker
@pytest.fixture(scope="module")
def cb():
    return mscheck.load(str(CB))


def test_threshold_is_symbolic(cb):
    enc = Encoder(cb)
    assert [n for n, _, _ in enc.const_syms] == ["THRESHOLD", "RESET_TIMEOUT"]
    assert len(enc.axioms) == 2


def test_failures_bounded_not_inductive_alone(cb):
    r = one(prove_spec(cb, property="FailuresBounded", method="inductive"))
    assert r["status"] == "unknown" and r["method"] == "inductive"
    cex = r["counterexample"]
    assert cex["kind"] == "cti"
    assert cex["action"] == "Checkout.call_closed"
    assert cex["broken"] == ["FailuresBounded"]
    assert cex["pre"]["Checkout.breaker"] == "Closed"
    assert cex["post"]["Checkout.breaker"] == "Open"
    t = int(cex["constants"]["THRESHOLD"])
    assert int(cex["pre"]["Checkout.failures"]) == t
    assert int(cex["post"]["Checkout.failures"]) == t + 1
    assert prove_exit_code({"results": [r]}) == 3


def test_failures_bounded_with_helper(cb):
    doc = prove_spec(cb)
    assert [(r["property"], r["using"], r["status"], r["method"]) for r in doc["results"]] == [
        ("FailuresBounded", ["ClosedBelowThreshold"], "proved", "inductive"),
        ("OpenOnlyAtThreshold", ["ClosedBelowThreshold"], "proved", "inductive")]
    assert prove_exit_code(doc) == 0
    assert all(r["seconds"] < 2 for r in doc["results"])


def test_failures_bounded_by_k_induction(cb):
    r = one(prove_spec(cb, property="FailuresBounded", method="kind"))
    assert (r["status"], r["method"], r["k"]) == ("proved", "kind", 2)


def test_failures_bounded_by_pdr(cb):
    r = one(prove_spec(cb, property="FailuresBounded", method="pdr"))
    assert (r["status"], r["method"]) == ("proved", "pdr")
    lines = r["invariant"].splitlines()
    # Spacer's wording varies from run to run; what it found must be, in the spec's own
    # syntax, an inductive invariant that proves the property
    found = " and ".join(f"({x})" for x in lines)
    spec = mscheck.loads(CB.read_text() + f"\ninvariant Found: {found}\n", str(CB))
    assert prove_property(spec, "Found", method="inductive")["status"] == "proved"
    r2 = prove_property(spec, "FailuresBounded", using=("Found",), method="inductive")
    assert r2["status"] == "proved"
    # it needs the breaker's state: failures stay below the threshold while Closed
    assert any("Checkout.breaker" in x for x in lines)
    text = render_prove_text({"results": [r]})
    assert "inductive invariant found:" in text


def test_auto_without_helper(cb):
    r = one(prove_spec(cb, property="OpenOnlyAtThreshold"))
    assert r["status"] == "proved" and r["method"] in ("kind", "pdr")


def test_cti_text_golden(cb):
    r = one(prove_spec(cb, property="FailuresBounded", method="inductive"))
    r["seconds"] = 0.01
    assert render_prove_text({"results": [r]}) == (
        "FailuresBounded: unknown (inductive, 0.01 s): not inductive: Checkout.call_closed "
        "breaks FailuresBounded\n"
        f"  with THRESHOLD = {r['counterexample']['constants']['THRESHOLD']}, RESET_TIMEOUT = "
        f"{r['counterexample']['constants']['RESET_TIMEOUT']}\n"
        "  counterexample to induction: step Checkout.call_closed\n"
        "  before (satisfies FailuresBounded):\n"
        "    Checkout.breaker = Closed\n"
        f"    Checkout.failures = {r['counterexample']['pre']['Checkout.failures']}\n"
        "  after (violates FailuresBounded):\n"
        "    Checkout.breaker = Open\n"
        f"    Checkout.failures = {r['counterexample']['post']['Checkout.failures']}\n")


# ---------------------------------------------------------------- two-phase commit
def test_two_phase_consistent_any_number_of_rms():
    spec = mscheck.load(str(TP))
    enc = Encoder(spec)
    assert "RM" in enc.usorts  # an uninterpreted sort: no bound on the number of RMs
    r = one(prove_spec(spec))
    assert (r["property"], r["status"], r["method"]) == ("Consistent", "proved", "inductive")
    assert r["seconds"] < 2


def test_two_phase_tpinv_needed():
    spec = mscheck.load(str(TP))
    r = one(prove_spec(spec, property="TPInv", method="inductive"))
    assert r["status"] == "proved"
    r = one(prove_spec(spec, property="Consistent", method="inductive"))
    assert r["status"] == "unknown" and r["counterexample"]["kind"] == "cti"


# ---------------------------------------------------------------- saga
def test_saga_all_or_nothing_bounded():
    spec = mscheck.load(str(SAGA))
    r = one(prove_spec(spec, property="AllOrNothing", method="bmc", depth=14, timeout=20))
    assert r["status"] == "unknown" and r["k"] == 14 and r["counterexample"] is None
    res = search(CompiledModel(spec), limits=Limits(max_depth=14))
    assert not [v for v in res.violations if v.kind == "invariant"]


def test_saga_never_proved_falsely():
    spec = mscheck.load(str(SAGA))
    text = SAGA.read_text().replace("invariant AllOrNothing:", "invariant Wrong: not (OrderSaga"
                                    ".phase == completed)\ninvariant AllOrNothing:")
    spec = mscheck.loads(text, "saga_wrong.ms")
    r = one(prove_spec(spec, property="Wrong", depth=12, timeout=20))
    assert r["status"] == "violated" and r["method"] == "bmc"
    assert r["counterexample"]["states"][-1]["state"]["OrderSaga.phase"] == "completed"


# ---------------------------------------------------------------- BMC traces replay
BUGGY = """
system Buggy
message Req(n: 0..3)
channel q: fifo(2) of Req
channel seen: set of Req
service Client {
  var sent: 0..3 = 0
  action send_req when sent < 3 { q!Req(sent); sent := sent + 1 }
}
service Server {
  var total: 0..10 = 0
  on q?Req(n) { total := total + n; seen!Req(n) }
  on peek: seen?Req(n) when n == 2 { skip }
}
invariant TotalSmall: Server.total <= 2
"""


def to_slots(model, state):
    return tuple(state[name] for name in model.slot_names)


def test_bmc_trace_replays_in_engine():
    spec = mscheck.loads(BUGGY, "buggy.ms")
    r = prove_property(spec, "TotalSmall", method="bmc", depth=10, raw=True)
    assert r["status"] == "violated"
    states = r["counterexample"]["states"]
    assert len(states) - 1 == r["k"] == 6  # 3 sends and 3 receives: 0 + 1 + 2 = 3 > 2
    model = CompiledModel(spec)
    slots = [to_slots(model, s["state"]) for s in states]
    assert slots[0] in model.initial_states()
    for a, b in zip(slots, slots[1:]):
        assert b in [t for _, t in model.successors(a)]
    assert not model.properties()[0].check(slots[-1])
    assert all(model.properties()[0].check(s) for s in slots[:-1])
    doc = {"results": [prove_property(spec, "TotalSmall", method="auto", depth=10)]}
    assert prove_exit_code(doc) == 1
    assert "Client.send_req" in render_prove_text(doc)


def test_unsupported_is_unknown():
    text = """
system S
channel c: fifo(1) of int
var n: 0..1 = 0
process P = c!(1). 0
service B { on c?(x) { n := 1 } }
invariant I: n <= 1
"""
    r = one(prove_spec(mscheck.loads(text, "s.ms"), property="I"))
    assert r["status"] == "unknown" and r["reason"].startswith("unsupported:")


# ---------------------------------------------------------------- agreement with search
def explicit_violation_within(model, k) -> bool:
    inv = model.properties()[0]
    frontier = deque((s, 0) for s in model.initial_states())
    seen = {s for s, _ in frontier}
    while frontier:
        s, d = frontier.popleft()
        if not inv.check(s):
            return True
        if d == k:
            continue
        for _, t in model.successors(s):
            if t not in seen:
                seen.add(t)
                frontier.append((t, d + 1))
    return False


def explicit_violation(model) -> bool:
    return explicit_violation_within(model, 10 ** 6)


ACTIONS = [
    "when {v} < 3 {{ {v} := {v} + 1 }}",
    "when {v} > 0 {{ {v} := {v} - 1 }}",
    "when {v} < 3 and {w} < 3 {{ {v} := {w} }}",
    "{{ choose z in {{0, 1}} {{ {v} := z }} }}",
    "when {w} == {c} {{ {v} := {d} }}",
    "when {v} != {w} {{ if {v} < {w} {{ {v} := {v} + 1 }} else {{ {w} := {w} + 1 }} }}",
]


@st.composite
def small_specs(draw):
    acts = []
    for i in range(draw(st.integers(1, 4))):
        v, w = draw(st.sampled_from([("x", "y"), ("y", "x")]))
        tmpl = draw(st.sampled_from(ACTIONS))
        body = tmpl.format(v=v, w=w, c=draw(st.integers(0, 3)), d=draw(st.integers(0, 3)))
        acts.append(f"  action a{i} {body}")
    a, b = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    inv = draw(st.sampled_from([f"not (S.x == {a} and S.y == {b})", f"S.x + S.y <= {a + b}",
                                f"S.x <= S.y + {a}"]))
    return ("system Gen\nservice S {\n  var x: 0..3 = 0\n  var y: 0..3 = 0\n"
            + "\n".join(acts) + f"\n}}\ninvariant P: {inv}\n")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_specs(), st.integers(0, 5))
# a deadlock at depth 3 (x = 3) comes before the invariant's violation at depth 4
@example("system Gen\nservice S {\n  var x: 0..3 = 0\n  var y: 0..3 = 0\n"
         "  action a0 when x < 3 { x := x + 1 }\n"
         "  action a1 when y < 3 and x < 3 { y := x }\n}\ninvariant P: S.x + S.y <= 4\n", 4)
def test_bmc_and_proofs_agree_with_explicit_search(text, k):
    spec = mscheck.loads(text, "gen.ms")
    model = CompiledModel(spec)
    r = prove_property(spec, "P", method="bmc", depth=k, timeout=20)
    assert r["status"] in ("violated", "unknown")
    assert (r["status"] == "violated") == explicit_violation_within(model, k)
    # (BMC looks for the invariant's violations only: a deadlock must not stop the search)
    res = search(model, limits=Limits(max_depth=k), check_deadlock=False)
    found = any(v.kind == "invariant" for v in res.violations)
    assert found == (r["status"] == "violated")
    proof = prove_property(spec, "P", method="auto", depth=k + 1, timeout=20)
    if proof["status"] == "proved":
        assert not explicit_violation(model)
    if proof["status"] == "violated":
        assert explicit_violation(model)
