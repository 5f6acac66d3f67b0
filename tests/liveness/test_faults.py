"""Faults explored exhaustively: each kind shows in traces, --faults none removes them,
--max-faults bounds them, and durable variables survive a crash."""

from __future__ import annotations

import mscheck
import pytest
from mscheck.engine.compile import CompiledModel

from .helpers import check_text, kinds, raw_path, steps_of

# One message on a channel with the given flags; the invariant says which fault shows.
CHANNEL = """
system Net
message M(n: 1..2)
channel c: fifo(2) of M FLAGS = [M(1), M(2)]
service Rx {
  var got: seq of 1..2 max 4 = []
  on c?M(n) when len(got) < 4 { got := append(got, n) }
  end when true
}
invariant Prop: PROP
"""

CASES = {
    # flag: (invariant broken only by that fault, action shown)
    "lossy": ("len(c) + len(Rx.got) >= 2", "lose"),
    "duplicating": ("len(Rx.got) <= 2", "duplicate"),
    "reordering": ("len(Rx.got) == 0 or Rx.got[1] == 1", "reorder"),
}


@pytest.mark.parametrize("flag", sorted(CASES))
def test_each_channel_fault_shows_in_the_trace(flag):
    prop, action = CASES[flag]
    text = CHANNEL.replace("FLAGS", flag).replace("PROP", prop)
    doc = check_text(text)
    assert kinds(doc) == {("invariant", "Prop"): 1}
    trace = doc["violations"][0]["trace"]
    fault = [t for t in trace if t["actor"] == "network"]
    assert [t["action"] for t in fault] == [action]
    assert fault[0]["params"] == {"channel": "c"}
    assert fault[0]["messages"][0]["direction"] == action
    raw_path(CompiledModel(mscheck.loads(text)), trace)   # a real path of the model
    # without faults the same invariant holds
    doc = check_text(text, faults=False)
    assert doc["verdict"] == "ok"


def _reachable(model) -> set:
    seen = set(model.initial_states())
    todo = list(seen)
    while todo:
        for _, t in model.successors(todo.pop()):
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return seen


def _fault_steps(model, state):
    return [st for st, _ in model.successors(state) if st.kind == "fault"]


@pytest.mark.parametrize("flag", sorted(CASES))
def test_faults_none_removes_fault_steps(flag):
    text = CHANNEL.replace("FLAGS", flag).replace("PROP", "true")
    with_faults = check_text(text)
    without = check_text(text, faults=False)
    reference = check_text(CHANNEL.replace("FLAGS", "").replace("PROP", "true"))
    assert (without["states"], without["transitions"]) == (reference["states"],
                                                           reference["transitions"])
    assert with_faults["states"] > without["states"]
    spec = mscheck.loads(text)
    model = CompiledModel(spec, faults=False)
    assert not model.has_faults
    assert not any(_fault_steps(model, s) for s in _reachable(model))
    model = CompiledModel(spec)
    assert any(_fault_steps(model, s) for s in _reachable(model))


def test_exact_state_counts_with_and_without_faults():
    text = CHANNEL.replace("FLAGS", "lossy duplicating reordering").replace("PROP", "true")
    counts = {k: check_text(text, **kw)["states"] for k, kw in [
        ("none", {"faults": False}), ("0", {"max_faults": 0}), ("1", {"max_faults": 1}),
        ("2", {"max_faults": 2}), ("all", {})]}
    assert counts["none"] == 3   # got = [], [1], [1, 2] as the channel drains
    # --max-faults 0 explores no fault (one extra slot, always 0)
    assert counts["0"] == counts["none"]
    assert counts["none"] < counts["1"] < counts["2"]


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_max_faults_bounds_the_faults_of_every_run(k):
    text = CHANNEL.replace("FLAGS", "lossy duplicating reordering").replace("PROP", "true")
    model = CompiledModel(mscheck.loads(text), max_faults=k)
    # breadth-first over the whole graph, counting faults along the way
    seen = {}
    frontier = [(s, 0) for s in model.initial_states()]
    most = 0
    while frontier:
        s, n = frontier.pop()
        if seen.get(s, -1) >= n:
            continue
        seen[s] = n
        most = max(most, n)
        for st, t in model.successors(s):
            frontier.append((t, n + (st.kind == "fault")))
    assert most == k
    assert model.describe(next(iter(model.initial_states())))["faults"] == "0"


def test_max_faults_finds_the_violation_only_with_enough_faults():
    # three duplicates are needed before Rx has five messages... it stores at most 4:
    text = CHANNEL.replace("FLAGS", "duplicating").replace("PROP", "len(Rx.got) <= 3")
    assert check_text(text, max_faults=1)["verdict"] == "ok"
    doc = check_text(text, max_faults=2)
    assert kinds(doc) == {("invariant", "Prop"): 1}
    assert sum(t["actor"] == "network" for t in doc["violations"][0]["trace"]) == 2


CRASH = """
system Crash
crashable service Store {
  durable var saved: 0..2 = 0
  var cache: 0..2 = 0
  action write when saved < 2 { saved := saved + 1; cache := cache + 1 }
  end when true
}
invariant Prop: PROP
"""


def test_crash_and_restart_show_in_traces_and_keep_durable_variables():
    text = CRASH.replace("PROP", "Store.cache == Store.saved")
    doc = check_text(text)
    (v,) = doc["violations"]
    assert steps_of(v["trace"]) == [("Store", "write"), ("Store", "crash")]
    crashed = v["trace"][-1]
    assert crashed["state"]["Store.saved"] == "1"    # durable: survives
    assert crashed["state"]["Store.cache"] == "0"    # volatile: lost
    assert crashed["state"]["Store.up"] == "false"
    # the durable value survives crash and restart alike (the service's up flag is a slot
    # of the state, not a variable a spec can read)
    text = CRASH.replace("PROP", "Store.saved >= Store.cache")
    assert check_text(text)["verdict"] == "ok"
    model = CompiledModel(mscheck.loads(text))
    (s0,) = model.initial_states()
    (wrote,) = [t for st, t in model.successors(s0) if st.action == "write"]
    (down,) = [t for st, t in model.successors(wrote) if st.action == "crash"]
    assert [st.action for st, _ in model.successors(down)] == ["restart"]   # no step while down
    (up,) = [t for st, t in model.successors(down)]
    assert model.describe(up)["Store.saved"] == "1"
    assert model.describe(up)["Store.cache"] == "0"
    assert model.describe(up)["Store.up"] == "true"


def test_crash_steps_are_counted_as_faults():
    text = CRASH.replace("PROP", "true")
    assert check_text(text, faults=False)["states"] == 3
    assert check_text(text, max_faults=0)["states"] == 3
    with_one = check_text(text, max_faults=1)["states"]
    assert with_one > 3
    model = CompiledModel(mscheck.loads(text), max_faults=1)
    (s0,) = model.initial_states()
    (down,) = [t for st, t in model.successors(s0) if st.action == "crash"]
    (up,) = [t for st, t in model.successors(down) if st.action == "restart"]
    assert [st.action for st, _ in model.successors(up)] == ["write"]   # budget used up


def test_restart_reinitialises_to_every_initial_value():
    text = """
system Restart
crashable service S {
  var mode: 0..2 in {1, 2}
  action bump when mode < 2 { mode := mode + 1 }
}
"""
    model = CompiledModel(mscheck.loads(text))
    starts = model.initial_states()
    assert sorted(model.describe(s)["S.mode"] for s in starts) == ["1", "2"]
    (down,) = [t for st, t in model.successors(starts[0]) if st.action == "crash"]
    restarted = sorted(model.describe(t)["S.mode"] for st, t in model.successors(down)
                       if st.action == "restart")
    assert restarted == ["1", "2"]
