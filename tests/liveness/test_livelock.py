"""Livelock end to end: ``progress`` declarations, checked on specs, with the exact lasso.

A reachable fair cycle that takes no progress step is a livelock (SPIN's non-progress
cycle), reported as the violation ``("livelock", "progress")`` with a lasso: a prefix from an
initial state, then the cycle (``loop_start`` is where it begins). Each spec is checked on
every engine that can run it: the scalar engine records the graph as it explores; under the
default engine a spec that packs is searched by the vector engine and its graph built with
numpy (``livearray``), one with processes goes to the scalar engine.
"""

from __future__ import annotations

import json
import subprocess
import sys

import mscheck
import pytest
from mscheck.engine.compile import CompiledModel

from .helpers import REPO, SPECS, check_text, kinds, raw_path, steps_of

# A client that sends a request and then either gets its answer or times out and sends again.
# Sending and timing out are not progress; only an answer is. The spin is send, timeout,
# send, timeout, ... after the client has started.
RETRY = """
system Retry
service Client {
  var state: {boot, idle, waiting, done} = boot
  action start when state == boot { state := idle }
  action send when state == idle { state := waiting }
  action timeout when state == waiting { state := idle }
  action answer when state == waiting { state := done }
  action next when state == done { state := idle }
}
FAIRNESS
progress PROGRESS
"""

# A worker that works twice and resets, beside a clock that ticks for ever: the clock alone
# is a cycle without progress unless the worker is treated fairly.
CLOCK = """
system Idle
service Worker {
  var n: 0..2 = 0
  action work when n < 2 { n := n + 1 }
  action reset when n == 2 { n := 0 }
}
service Clock {
  var t: 0..1 = 0
  action tick { t := 1 - t }
}
FAIRNESS
progress Worker.work
"""

# Processes: Retry may spin on tau for ever before it becomes Serve, which sends its result.
PROCESSES = """
system Spinner
channel done: fifo(1) of 0..1
process Retry = tau. Retry + tau. Serve
process Serve = done!(1). 0
process Sink = done?(x). 0
init Retry | Sink
progress Serve
"""

SERVICE_ENGINES = [("scalar", "scalar"), ("auto", "vector"), ("packed", "packed")]


def _retry(fairness: str = "", progress: str = "Client.answer") -> str:
    return RETRY.replace("FAIRNESS", fairness).replace("PROGRESS", progress)


def _lasso(doc: dict) -> tuple[int, int, list]:
    """(steps in the lasso, loop_start, the steps) of the one livelock of ``doc``."""
    (v,) = doc["violations"]
    assert (v["kind"], v["property"]) == ("livelock", "progress")
    assert v["message"].startswith("livelock: a fair cycle that never takes a progress step")
    return len(v["trace"]) - 1, v["loop_start"], steps_of(v["trace"])


@pytest.mark.parametrize("engine, used", SERVICE_ENGINES)
def test_a_retry_loop_is_a_livelock(engine, used):
    doc = check_text(_retry(), engine=engine)
    assert (doc["verdict"], doc["engine"], doc["states"], doc["transitions"]) == (
        "violation", used, 4, 6)
    # start (the prefix), then send and timeout for ever; the answer is never taken
    assert _lasso(doc) == (3, 1, [("Client", "start"), ("Client", "send"),
                                  ("Client", "timeout")])


@pytest.mark.parametrize("engine, used", SERVICE_ENGINES)
@pytest.mark.parametrize("fairness, progress", [
    ("", "Client.answer, Client.timeout"),       # a timeout counted as progress
    ("", "Client.send"),                          # every cycle sends
    ("", "Client"),                               # every step of the client
    ("fairness strong Client.answer", "Client.answer"),
])
def test_progress_on_every_fair_cycle_passes(engine, used, fairness, progress):
    doc = check_text(_retry(fairness, progress), engine=engine)
    assert (doc["verdict"], doc["engine"], doc["states"], doc["violations"]) == (
        "ok", used, 4, [])


@pytest.mark.parametrize("engine, used", SERVICE_ENGINES)
def test_without_the_spinning_loop_there_is_no_livelock(engine, used):
    text = _retry().replace(
        "  action timeout when state == waiting { state := idle }\n", "")
    doc = check_text(text, engine=engine)
    assert (doc["verdict"], doc["engine"], doc["states"], doc["transitions"]) == (
        "ok", used, 4, 5)


@pytest.mark.parametrize("engine", ["scalar", "auto"])
def test_weak_fairness_of_the_answer_does_not_break_the_spin(engine):
    # answer is enabled only while waiting, and the timeout leaves that state each time:
    # weak fairness allows the spin, strong fairness (above) does not
    doc = check_text(_retry("fairness weak Client.answer"), engine=engine)
    assert _lasso(doc) == (3, 1, [("Client", "start"), ("Client", "send"),
                                  ("Client", "timeout")])


@pytest.mark.parametrize("engine, used", SERVICE_ENGINES)
@pytest.mark.parametrize("fairness, verdict", [
    ("", "violation"),
    ("fairness weak Worker.reset", "violation"),   # reset is disabled while n < 2
    ("fairness weak Worker", "ok"),                # the worker is always enabled
    ("fairness weak Worker.work", "violation"),    # n == 2: work is disabled, reset free
])
def test_another_service_spinning_is_a_livelock_unless_fairness_rules_it_out(
        engine, used, fairness, verdict):
    doc = check_text(CLOCK.replace("FAIRNESS", fairness), engine=engine)
    assert (doc["verdict"], doc["engine"], doc["states"], doc["transitions"]) == (
        verdict, used, 6, 13)
    if verdict == "violation":
        steps, loop_start, trace = _lasso(doc)
        assert set(trace[loop_start:]) == {("Clock", "tick")}
        assert steps - loop_start == 2


def test_the_lasso_shape_of_weak_work():
    # weak fairness of work allows the clock to spin only where work is disabled: n == 2
    doc = check_text(CLOCK.replace("FAIRNESS", "fairness weak Worker.work"))
    (v,) = doc["violations"]
    assert _lasso(doc) == (4, 2, [("Worker", "work"), ("Worker", "work"), ("Clock", "tick"),
                                  ("Clock", "tick")])
    assert {t["state"]["Worker.n"] for t in v["trace"][v["loop_start"]:]} == {"2"}


@pytest.mark.parametrize("engine", ["scalar", "auto"])
def test_a_spinning_process_is_a_livelock(engine):
    doc = check_text(PROCESSES, engine=engine)
    # processes are explored by the scalar engine, whatever the default
    assert (doc["verdict"], doc["engine"], doc["states"], doc["transitions"]) == (
        "violation", "scalar", 4, 5)
    assert _lasso(doc) == (1, 0, [("Retry", "tau")])
    # fairness to the process does not help: its spin is a step of its own
    doc = check_text(PROCESSES + "fairness strong Retry\n", engine=engine)
    assert _lasso(doc) == (1, 0, [("Retry", "tau")])
    # without the spin, Retry becomes Serve at once: no livelock
    doc = check_text(PROCESSES.replace("tau. Retry + ", ""), engine=engine)
    assert (doc["verdict"], doc["violations"]) == ("ok", [])


@pytest.mark.parametrize("text", [_retry(), CLOCK.replace("FAIRNESS", ""), PROCESSES])
def test_the_lasso_is_a_real_cycle_without_progress(text):
    spec = mscheck.loads(text)
    model = CompiledModel(spec)
    doc = check_text(text, engine="scalar")
    (v,) = doc["violations"]
    trace, k = v["trace"], v["loop_start"]
    path = raw_path(model, trace)          # every step is a step of the model
    assert path[-1] == path[k] or path[k] in {t for _, t in model.successors(path[-1])}
    progress = {(r.owner, r.step) for r in spec.progress}
    for actor, action in steps_of(trace)[k:]:
        owner = actor.split("[", 1)[0].split("(", 1)[0]
        assert (owner, action) not in progress and (owner, None) not in progress


def test_progress_is_selected_by_name():
    assert kinds(check_text(_retry(), properties=["progress"])) == {("livelock", "progress"): 1}
    assert check_text(_retry(), properties=["deadlock_free"])["verdict"] == "ok"


def test_the_command_reports_the_livelock(tmp_path):
    path = tmp_path / "retry.ms"
    path.write_text(_retry())
    for engine in ("scalar", "vector"):
        proc = subprocess.run([sys.executable, "-m", "mscheck", "check", str(path),
                               "--engine", engine, "--format", "json"],
                              cwd=REPO, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1, proc.stderr
        doc = json.loads(proc.stdout)
        assert (doc["engine"], doc["states"]) == (engine, 4)
        assert _lasso(doc) == (3, 1, [("Client", "start"), ("Client", "send"),
                                      ("Client", "timeout")])
    proc = subprocess.run([sys.executable, "-m", "mscheck", "check", str(path)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "livelock: a fair cycle that never takes a progress step (Client.answer)" in \
        proc.stdout


# ---------------------------------------------------------------- a bundled spec

BREAKER = SPECS / "seed/circuit_breaker.ms"
TIMER = "fairness weak Checkout.tick, weak Checkout.half_open"


@pytest.mark.parametrize("engine, used", SERVICE_ENGINES)
def test_breaker_calls_are_progress_and_rejects_are_not(engine, used):
    text = BREAKER.read_text()
    assert "progress Checkout.call_closed, Checkout.call_half_open" in text
    doc = check_text(text, engine=engine, properties=["progress"])
    assert (doc["verdict"], doc["engine"], doc["states"], doc["transitions"]) == (
        "ok", used, 7, 14)
    # without fairness on the timer the breaker may reject every call for ever
    doc = check_text(text.replace(TIMER, ""), engine=engine, properties=["progress"])
    assert _lasso(doc) == (4, 3, [("Checkout", "call_closed")] * 3 + [("Checkout", "reject")])


def test_fault_steps_are_never_progress():
    text = """
system Crashy
crashable service W {
  var x: 0..1 = 0
  action work when false { x := 1 }
  end when true
}
progress W
"""
    for engine in ("auto", "scalar"):
        doc = check_text(text, engine=engine)
        assert (doc["engine"], doc["states"]) == ("vector" if engine == "auto" else engine, 2)
        assert _lasso(doc) == (2, 0, [("W", "crash"), ("W", "restart")])
    assert check_text(text, faults=False)["verdict"] == "ok"
