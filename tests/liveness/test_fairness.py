"""Fairness flips liveness verdicts, and a liveness counterexample is a real, fair lasso."""

from __future__ import annotations

import mscheck
import pytest
from mscheck.engine.check import check_spec
from mscheck.engine.compile import CompiledModel

from .helpers import SPECS, check_text, kinds, raw_path, steps_of

# A worker that could finish at any time, beside a clock that ticks for ever.
WEAK_ENOUGH = """
system WeakEnough
service Worker {
  var done: bool = false
  action finish when not done { done := true }
  end when done
}
service Clock {
  var t: 0..1 = 0
  action tick { t := 1 - t }
}
FAIRNESS
eventually Done: Worker.done
"""

# The worker may finish only when the clock shows 1: its step is enabled infinitely often
# but never continuously, so weak fairness does not force it and strong fairness does.
NEEDS_STRONG = """
system NeedsStrong
service Clock {
  var t: 0..1 = 0
  action tick { t := 1 - t }
}
service Worker {
  var done: bool = false
  action finish when not done and Clock.t == 1 { done := true }
}
FAIRNESS
eventually Done: Worker.done
leadsto Answered: Clock.t == 1 ~> Worker.done
always eventually Ticks: Clock.t == 0
"""


def _doc(template: str, fairness: str, **kw) -> dict:
    return check_text(template.replace("FAIRNESS", fairness), **kw)


@pytest.mark.parametrize("fairness, verdict", [
    ("", "violation"),
    ("fairness weak Clock", "violation"),          # fairness to the wrong service
    ("fairness weak Worker.finish", "ok"),
    ("fairness weak Worker", "ok"),
    ("fairness strong Worker.finish", "ok"),
])
def test_weak_fairness_against_none(fairness, verdict):
    doc = _doc(WEAK_ENOUGH, fairness)
    assert doc["verdict"] == verdict
    assert doc["states"] == 4
    if verdict == "violation":
        assert kinds(doc) == {("liveness", "Done"): 1}
        (v,) = doc["violations"]
        assert set(steps_of(v["trace"])[v["loop_start"]:]) == {("Clock", "tick")}


@pytest.mark.parametrize("fairness, verdict", [
    ("", "violation"),
    ("fairness weak Clock, weak Worker.finish", "violation"),
    ("fairness weak Clock, strong Worker.finish", "ok"),
    ("fairness weak Clock, strong Worker", "ok"),
    # no fairness for the clock is needed: a behaviour never stops while a step is enabled,
    # so the clock ticks for ever and finish is enabled infinitely often
    ("fairness strong Worker.finish", "ok"),
])
def test_strong_fairness_against_weak(fairness, verdict):
    doc = _doc(NEEDS_STRONG, fairness, properties=["Done"])
    assert doc["verdict"] == verdict
    assert doc["states"] == 4


def test_weak_fairness_is_not_enough_and_the_lasso_shows_why():
    doc = _doc(NEEDS_STRONG, "fairness weak Clock, weak Worker.finish", properties=["Done"])
    (v,) = doc["violations"]
    assert v["kind"] == "liveness" and v["property"] == "Done"
    cycle = v["trace"][v["loop_start"] + 1:]
    # the cycle ticks through t == 1 (finish enabled there) and t == 0 (disabled)
    assert {t["state"]["Clock.t"] for t in v["trace"][v["loop_start"]:]} == {"0", "1"}
    assert {(t["actor"], t["action"]) for t in cycle} == {("Clock", "tick")}


def test_leadsto_and_always_eventually():
    doc = _doc(NEEDS_STRONG, "fairness weak Clock, weak Worker.finish")
    assert set(kinds(doc)) == {("liveness", "Done"), ("liveness", "Answered")}
    doc = _doc(NEEDS_STRONG, "fairness weak Clock, strong Worker.finish")
    assert doc["verdict"] == "ok"
    # without fairness, a behaviour still never stops while a step is enabled: the clock
    # ticks for ever, so Ticks holds; Answered fails
    doc = _doc(NEEDS_STRONG, "")
    assert ("liveness", "Ticks") not in kinds(doc)
    assert ("liveness", "Answered") in kinds(doc)


def test_always_eventually_fails_when_the_goal_stops_recurring():
    text = """
system Stops
service S {
  var n: 0..2 = 0
  action up when n < 2 { n := n + 1 }
  action stay when n == 2 { skip }
}
fairness weak S
always eventually Zero: S.n == 0
"""
    doc = check_text(text)
    (v,) = doc["violations"]
    assert v["property"] == "Zero" and "finitely often" in v["message"]
    assert steps_of(v["trace"])[v["loop_start"]:] == [("S", "stay")]


def test_a_final_state_is_a_lasso_without_a_cycle():
    text = """
system Halts
service S {
  var n: 0..1 = 0
  action stop when n == 0 { n := 1 }
  end when true
}
fairness weak S
eventually Never: S.n == 2
"""
    doc = check_text(text)
    (v,) = doc["violations"]
    assert "ends in a state with no step" in v["message"]
    assert v["loop_start"] == len(v["trace"]) - 1


@pytest.mark.parametrize("fairness", ["", "fairness weak Clock, weak Worker.finish"])
def test_lasso_shape_is_a_real_cycle(fairness):
    text = NEEDS_STRONG.replace("FAIRNESS", fairness)
    model = CompiledModel(mscheck.loads(text))
    doc = check_text(text, properties=["Done"])
    (v,) = doc["violations"]
    trace, k = v["trace"], v["loop_start"]
    assert 0 <= k < len(trace) - 1
    path = raw_path(model, trace)          # every step is a step of the model
    # the trace ends where the cycle began: the last state steps back into the loop
    assert path[-1] == path[k]
    assert trace[-1]["state"] == trace[k]["state"]
    succ_of_last = {t for _, t in model.successors(path[-2])}
    assert path[k] in succ_of_last
    # Done never holds along the lasso
    assert all(t["state"]["Worker.done"] == "false" for t in trace)


# ---------------------------------------------------------------- the circuit breaker's timer

BREAKER = SPECS / "seed/circuit_breaker.ms"
TIMER = "fairness weak Checkout.tick, weak Checkout.half_open"
REJECTS = [("Checkout", "call_closed")] * 3 + [("Checkout", "reject")]


@pytest.mark.parametrize("engine, used", [("scalar", "scalar"), ("auto", "vector")])
def test_breaker_does_not_stay_open_with_a_fair_timer(engine, used):
    doc = check_spec(mscheck.load(str(BREAKER)), engine=engine, properties=["Recovers"])
    assert (doc["verdict"], doc["engine"], doc["states"], doc["transitions"]) == (
        "ok", used, 7, 14)


@pytest.mark.parametrize("engine", ["scalar", "auto"])
@pytest.mark.parametrize("fairness", ["", "fairness weak Checkout.half_open"])
def test_breaker_stays_open_for_ever_without_fairness_on_the_clock(engine, fairness):
    text = BREAKER.read_text()
    assert TIMER in text
    doc = check_text(text.replace(TIMER, fairness), engine=engine, properties=["Recovers"])
    assert (doc["states"], doc["transitions"]) == (7, 14)
    (v,) = doc["violations"]
    assert (v["kind"], v["property"], len(v["trace"]) - 1, v["loop_start"]) == (
        "liveness", "Recovers", 4, 3)
    assert steps_of(v["trace"]) == REJECTS
    # the cycle: Open, the clock never ticking, rejecting calls for ever
    assert {(t["state"]["Checkout.breaker"], t["state"]["Checkout.elapsed"])
            for t in v["trace"][v["loop_start"]:]} == {("Open", "0")}


def test_fairness_of_the_tick_alone_is_enough():
    text = BREAKER.read_text().replace(TIMER, "fairness weak Checkout.tick")
    assert check_text(text, properties=["Recovers"])["verdict"] == "ok"


def test_a_fair_timer_does_not_make_the_breaker_close_again():
    # the downstream may fail every trial: nothing assumes that it ever answers ok
    text = BREAKER.read_text() + (
        "\nleadsto Recloses: Checkout.breaker == Open ~> Checkout.breaker == Closed\n")
    doc = check_text(text, properties=["Recloses"])
    (v,) = doc["violations"]
    assert (len(v["trace"]) - 1, v["loop_start"]) == (7, 3)
    assert steps_of(v["trace"])[3:] == [("Checkout", "tick"), ("Checkout", "tick"),
                                        ("Checkout", "half_open"),
                                        ("Checkout", "call_half_open")]
    assert v["trace"][-1]["state"]["Checkout.breaker"] == "Open"


# ---------------------------------------------------------------- fairness of a process

# A process whose one step stays enabled while a clock process spins: weak fairness of the
# process is enough.
PROCESS_WEAK = """
system Tick
channel done: fifo(1) of 0..1
process Clock = tau. Clock
process Worker = done!(1). 0
init Clock | Worker
FAIRNESS
eventually Sent: len(done) == 1
"""

# The worker needs the one-slot gate empty, and the clock fills and empties it in turn: the
# worker's send is enabled infinitely often but never continuously, so weak fairness of the
# process does not force it and strong fairness does. Once the worker's message is in the
# gate, the clock rests at its start (a valid end: `end Clock`).
PROCESS_STRONG = """
system Gate
channel gate: fifo(1) of 0..1
channel done: fifo(1) of 0..1
process Clock = gate!(0). gate?(x). Clock
process Worker = gate!(1). done!(1). 0
init Clock | Worker
end Clock
FAIRNESS
eventually Sent: len(done) == 1
"""


@pytest.mark.parametrize("engine", ["scalar", "auto"])
@pytest.mark.parametrize("fairness, verdict", [
    ("", "violation"),
    ("fairness weak Clock", "violation"),          # fairness to the process that spins
    ("fairness strong Clock", "violation"),
    ("fairness weak Worker", "ok"),
    ("fairness strong Worker", "ok"),
])
def test_weak_fairness_of_a_process(engine, fairness, verdict):
    doc = _doc(PROCESS_WEAK, fairness, engine=engine)
    assert (doc["verdict"], doc["engine"], doc["states"], doc["transitions"]) == (
        verdict, "scalar", 2, 4)
    if verdict == "violation":
        (v,) = doc["violations"]
        assert (v["property"], len(v["trace"]) - 1, v["loop_start"]) == ("Sent", 1, 0)
        assert steps_of(v["trace"]) == [("Clock", "tau")]


@pytest.mark.parametrize("engine", ["scalar", "auto"])
@pytest.mark.parametrize("fairness, verdict", [
    ("", "violation"),
    ("fairness weak Clock", "violation"),
    ("fairness strong Clock", "violation"),
    ("fairness weak Worker", "violation"),         # enabled only while the gate is empty
    ("fairness strong Worker", "ok"),
    ("fairness weak Clock, strong Worker", "ok"),
])
def test_strong_fairness_of_a_process(engine, fairness, verdict):
    doc = _doc(PROCESS_STRONG, fairness, engine=engine)
    assert (doc["verdict"], doc["engine"], doc["states"], doc["transitions"]) == (
        verdict, "scalar", 4, 5)
    if verdict == "violation":
        (v,) = doc["violations"]
        assert (v["property"], len(v["trace"]) - 1, v["loop_start"]) == ("Sent", 2, 0)
        assert steps_of(v["trace"]) == [("Clock", "send"), ("Clock", "receive")]
        # the cycle passes through an empty gate, where the worker could send
        assert [t["state"]["gate"] for t in v["trace"]] == ["[]", "[0]", "[]"]


def test_the_process_lasso_is_a_real_cycle():
    text = PROCESS_STRONG.replace("FAIRNESS", "fairness weak Worker")
    model = CompiledModel(mscheck.loads(text))
    (v,) = check_text(text)["violations"]
    path = raw_path(model, v["trace"])
    assert path[-1] == path[v["loop_start"]]
