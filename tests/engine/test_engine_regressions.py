"""Defects of the model checker found by the tests of this folder and fixed, one minimal
reproducer each. Every test states the behaviour expected (figures by hand, confirmed by the
reference explorer of ``reference.py``)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time

import pytest

import mscheck
from mscheck.cli import main
from mscheck.engine.check import check_spec
from mscheck.engine.compile import CompiledModel
from mscheck.engine.packed import PackedModel, packed_search
from mscheck.engine.search import Limits, search

from .reference import explore


def _load(text: str):
    return mscheck.loads(text, "defect.ms")


def _figures(result) -> tuple:
    return (result.states, result.transitions,
            sorted({(v.kind, v.property) for v in result.violations}))


# ---------------------------------------------------------------- canonical values

# A record variable without an initial value starts as its fields in declaration order;
# a record literal (and every later write) holds them sorted by name. The same record is
# then two different states.
RECORD_ORDER = """
service S {
  var r: {b: bool, a: 0..1}
  action reset { r := {b: false, a: 0} }
}
"""

# Likewise for a map over an enumeration that is not declared in alphabetical order: the
# default lists the keys in declaration order, a map literal sorts them.
MAP_ORDER = """
type E = {b, a}
service S {
  var m: [E -> bool]
  action reset { m := [k in E |-> false] }
}
"""


@pytest.mark.parametrize("text", [RECORD_ORDER, MAP_ORDER], ids=["record", "map"])
def test_reference_counts_one_state(text):
    # the default value and the value written are equal: one state, a self-loop
    r = explore(_load(text))
    assert (r.states, r.transitions) == (1, 2)


def test_record_default_and_literal_are_one_state():
    r = search(CompiledModel(_load(RECORD_ORDER)), check_deadlock=False)
    assert (r.states, r.transitions) == (1, 2)


def test_map_default_and_literal_are_one_state():
    r = search(CompiledModel(_load(MAP_ORDER)), check_deadlock=False)
    assert (r.states, r.transitions) == (1, 2)


# ---------------------------------------------------------------- sync channels

SYNC_HANDLER = """
channel c: sync of 0..1
service A {
  var sent: bool
  action a when not sent { c!(1); sent := true }
  end when sent
}
service B {
  var got: 0..1
  on c?(v) { got := v }
  end when true
}
"""


def test_sync_handler_scalar_and_reference():
    expected = (2, 2, [])
    assert _figures(search(CompiledModel(_load(SYNC_HANDLER)))) == expected
    r = explore(_load(SYNC_HANDLER))
    assert (r.states, r.transitions, sorted(r.kinds)) == expected


# Fixed: PackedModel used to recurse without end (RecursionError) following a sync channel
# into its receiving handlers, whose own channel is that sync channel again.
def test_packed_engine_accepts_a_handler_on_a_sync_channel():
    pm = PackedModel(CompiledModel(_load(SYNC_HANDLER)))
    assert _figures(packed_search(pm)) == (2, 2, [])


# Fixed: the default (packed) engine crashed there, exit code 1 and a traceback, as if a
# violation had been found.
def test_cli_checks_a_handler_on_a_sync_channel(tmp_path):
    path = tmp_path / "sync.ms"
    path.write_text(SYNC_HANDLER)
    proc = subprocess.run([sys.executable, "-m", "mscheck", "check", str(path), "--format",
                           "json"], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["states"] == 2


# A handler of a sync channel that sends on that same channel: every send needs another
# receive, so the step never completes.
ECHO = """
channel c: sync of 0..1
service A {
  var sent: bool
  action go when not sent { sent := true; c!(0) }
}
service B {
  on c?(v) { c!(v) }
}
"""


def test_endless_rendezvous_is_reported_not_a_crash(tmp_path):
    path = tmp_path / "echo.ms"
    path.write_text(ECHO)
    proc = subprocess.run([sys.executable, "-m", "mscheck", "check", str(path), "--engine",
                           "scalar", "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr
    assert proc.returncode in (1, 2, 3)
    if proc.returncode == 1:
        assert json.loads(proc.stdout)["violations"]


# ---------------------------------------------------------------- step errors and --continue

# x goes 0 -> 1 -> 2; in state x = 1 the step B.bad fails. Service A's table alone reads
# 3 * 16001 keys, so the packed engine keeps A's and B's tables apart.
STEP_ERROR = """
service A {
  var x: 0..2
  var pad: 0..16000
  action inc when x < 2 { x := x + 1 }
  action touch when pad > 0 { skip }
}
service B {
  var b: bool
  action bad when A.x == 1 and not b { assert false }
}
"""


def test_step_error_with_continue_scalar_and_reference():
    # The state where a step fails is reported and not expanded: x = 0 and x = 1, one
    # transition from x = 0 plus the initial state.
    expected = (2, 2, [("assertion", "assertion")])
    assert _figures(search(CompiledModel(_load(STEP_ERROR)), keep_going=True)) == expected
    r = explore(_load(STEP_ERROR))
    assert (r.states, r.transitions, sorted(r.kinds)) == expected
    assert r.first_depth == {("error", "error"): 1} and r.errors == {"assertion"}


def test_packed_continue_after_a_step_error():
    pm = PackedModel(CompiledModel(_load(STEP_ERROR)))
    r = packed_search(pm, keep_going=True)
    assert _figures(r) == (2, 2, [("assertion", "assertion")])


def test_check_continue_after_a_step_error_reports_the_trace():
    doc = check_spec(_load(STEP_ERROR), keep_going=True, engine="packed")
    assert (doc["states"], doc["transitions"]) == (2, 2)
    (v,) = doc["violations"]
    assert v["kind"] == "assertion" and len(v["trace"]) == 2


# An invariant whose evaluation fails (a map lookup outside the domain) at x = 2.
INVARIANT_DOMAIN = """
service A {
  var x: 0..2
  action inc when x < 2 { x := x + 1 }
  end when true
}
invariant Lookup: [k in 0..1 |-> true][A.x]
"""


# Fixed: the scalar engine let the StepError of the invariant escape the search, and it was
# reported as 0 states without a trace, while the packed engine counted the invariant as
# violated.
@pytest.mark.parametrize("engine", ["scalar", "packed"])
def test_an_invariant_that_fails_to_evaluate_is_a_violation_with_a_trace(engine):
    doc = check_spec(_load(INVARIANT_DOMAIN), engine=engine, keep_going=True)
    assert (doc["verdict"], doc["states"], doc["transitions"]) == ("violation", 3, 3)
    (v,) = doc["violations"]
    assert [t["state"]["A.x"] for t in v["trace"]] == ["0", "1", "2"]
    other = check_spec(_load(INVARIANT_DOMAIN), keep_going=True,
                       engine="packed" if engine == "scalar" else "scalar")
    assert [(w["kind"], w["property"]) for w in other["violations"]] == [
        (v["kind"], v["property"])]


# ---------------------------------------------------------------- sends out of range

# Ping's field is 0..1, and the second send builds Ping(2).
MESSAGE_RANGE = """
message Ping(n: 0..1)
channel c: fifo(2) of Ping
service Sender {
  var k: 0..2
  action send when k < 2 { c!Ping(k + 1); k := k + 1 }
  end when true
}
service Receiver {
  var last: 0..1
  on c?Ping(n) { last := n }
  end when true
}
"""


def test_reference_reports_the_send_of_an_out_of_range_message():
    r = explore(_load(MESSAGE_RANGE))
    assert (r.states, r.transitions, r.first_depth) == (2, 2, {("error", "error"): 1})
    assert r.errors == {"range"}


def test_a_message_field_out_of_range_is_a_range_error_at_the_send():
    r = search(CompiledModel(_load(MESSAGE_RANGE)), keep_going=True)
    assert _figures(r) == (2, 2, [("range", "range")])
    (v,) = r.violations
    assert (v.step.actor, v.step.action) == ("Sender", "send")


# ---------------------------------------------------------------- limits

# 160,000 states in one long chain: every breadth-first level holds one state.
CHAIN = """
service Counter {
  var hi: 0..399
  var lo: 0..399
  action tick when lo < 399 { lo := lo + 1 }
  action carry when lo == 399 and hi < 399 { lo := 0; hi := hi + 1 }
  end when true
}
"""

# A binary tree of 262,143 states: each expansion finds two new states, so the number of
# states found is always odd.
TREE = """
const M = 262142
service Tree {
  var node: 0..M
  action left when 2 * node + 2 <= M { node := 2 * node + 1 }
  action right when 2 * node + 2 <= M { node := 2 * node + 2 }
  end when true
}
"""


def test_packed_timeout_on_a_long_chain():
    t0 = time.monotonic()
    r = packed_search(PackedModel(CompiledModel(_load(CHAIN))), limits=Limits(timeout=0.1))
    assert r.verdict == "inconclusive"  # the whole chain takes over a second
    assert time.monotonic() - t0 < 1


def test_scalar_timeout_on_a_binary_tree():
    t0 = time.monotonic()
    r = search(CompiledModel(_load(TREE)), limits=Limits(timeout=0.1))
    assert r.verdict == "inconclusive"  # the whole tree takes over a second
    assert time.monotonic() - t0 < 1


# ---------------------------------------------------------------- reporting


def test_unknown_property_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "s.ms"
    path.write_text("service S { var x: bool; action a { x := not x } }\n"
                    "invariant I: S.x or not S.x\n")
    assert main(["check", str(path), "--property", "Typo"]) == 2


def test_an_error_in_a_guard_names_the_step():
    text = """
service Lookup {
  var k: 0..3
  var table: [0..2 -> bool]
  action next when k < 3 { k := k + 1 }
  action read when table[k] { skip }
  end when true
}
"""
    r = search(CompiledModel(_load(text)))
    (v,) = r.violations
    assert v.kind == "domain"
    assert v.step is not None and v.step.action == "read"


NEGATED = """
const K = 4
service Cell[i in 1..K] {
  var v: 0..3 = 0
  action up when v < 3 { v := v + 1 }
}
invariant NoneAtThreeAndOne: not exists a, b in 1..K: Cell[a].v == 3 and Cell[b].v == 1
invariant NotBoth: not (Cell[1].v == 2 or Cell[2].v == 3)
invariant Twice: not not (Cell[3].v <= 3)
reachable SomeoneHigh: not forall i in 1..K: Cell[i].v < 2
"""


def test_negations_split_into_small_leaves():
    # `not exists` is split into one leaf per binding, each reading two slots; `not (a or b)`
    # into two; `not not` disappears; for a witness `not forall` is split into disjuncts
    spec = mscheck.loads(NEGATED, "negated.ms")
    pm = PackedModel(CompiledModel(spec))
    leaves = pm.invariants["NoneAtThreeAndOne"]
    assert len(leaves) == 16
    assert len(pm.invariants["NotBoth"]) == 2
    assert len(pm.invariants["Twice"]) == 1
    assert len(pm.reachables["SomeoneHigh"]) == 4
    fields = [bin(mask).count("1") for mask, _, _ in leaves]
    assert max(fields) == 2 * max(bin(m).count("1") for m, _, _ in pm.invariants["Twice"])
    # and the verdicts are the scalar engine's
    packed = packed_search(pm, keep_going=True)
    scalar = search(CompiledModel(spec), keep_going=True)
    assert (packed.states, packed.transitions) == (scalar.states, scalar.transitions) \
        == (256, 769)
    assert {v.property for v in packed.violations} == {v.property for v in scalar.violations} \
        == {"NotBoth", "NoneAtThreeAndOne", "deadlock_free"}
    first = packed_search(PackedModel(CompiledModel(spec)))
    assert [(v.property, len(t)) for v, t in zip(first.violations, first.traces)] == \
        [("NotBoth", 3)]



# Found by the reference-agreement test: S1 starts with x4 true or false; where x4 is true,
# S0.a1's assertion fails, so those states are not expanded. A trace must not walk back
# through one of them (it did, and replaying that step raised the assertion).
FAILING_PARENT = (
    'type Color = {red, green, blue}\n'
    'message Ping(n: 0..1)\n'
    'message Ack\n'
    'message Pair(x: 0..2, y: bool)\n'
    '\n'
    'channel ch0: fifo(1) of Ping | Ack\n'
    'channel ch1: fifo(2) of (0..1, bool)\n'
    'var g0: 0..2 in {0}\n'
    'service S0 {\n'
    '  var x1: [0..1 -> 0..2] = [k in 0..1 |-> k]\n'
    '  var x2: [0..1 -> 0..2]\n'
    '  action a0 when (exists q1 in 0..1: (x1[0] == 0)) { g0 := g0 + 1 }\n'
    '  action a1(p2 in 0..1) { assert (not S1.x4) }\n'
    '  action a2 when (g0 != 0) { g0 := 0; x1[0] := (0) mod 3; g0 := (0) mod 3 }\n'
    '}\n'
    'service S1 {\n'
    '  var x3: 0..2 = 1\n'
    '  var x4: bool in {false, true}\n'
    '  action a0 when true { g0 := g0; x3 := (0) mod 3; x3 := 0 }\n'
    '  action a1(p3 in 0..1) when (Ping(0) in pending(ch0)) { assert (0 == 0) }\n'
    '  on h0: ch1?(m4, m5) { x4 := true }\n'
    '}\n'
    'service S2 {\n'
    '  action a0(p6 in 1..2) { if (not (not S1.x4)) { } else if (S0.x2 == [k7 in 0..1 |-> (S1.x3 + 1) mod 3]) { ch0!Ping((g0 + 2) mod 2); g0 := g0 + 2 }; ch1!(0, (Ping(0) in pending(ch0))); g0 := (S0.x1[0] + 1) mod 3 }\n'
    '  end when (S0.x2[1] >= 1)\n'
    '}\n'
    'invariant Inv0: false\n'
    'invariant Inv1: (not S1.x4)\n'
    'reachable Reach: (exists q8 in 0..1: S1.x4)\n')


def test_a_trace_never_walks_back_through_a_state_whose_step_fails():
    spec = mscheck.loads(FAILING_PARENT, "failing_parent.ms")
    packed = packed_search(PackedModel(CompiledModel(spec)), keep_going=True)
    scalar = search(CompiledModel(spec), keep_going=True)
    assert (packed.states, packed.transitions) == (scalar.states, scalar.transitions)
    model = CompiledModel(spec)
    for v, trace in zip(packed.violations, packed.traces):
        for a, b in zip(trace, trace[1:]):  # each step replays from a state that moves
            assert any(succ == b.state for _, succ in model.successors(a.state))
    assert len(packed.violations) == 25


MEMBERSHIP = """
const K = 3
message Done(i: 1..K)
message Stop
channel log_ch: log of Done | Stop
service W[i in 1..K] {
  var state: {idle, busy, done} = idle
  action start when state == idle { state := busy }
  action finish when state == busy { state := done; log_ch!Done(i) }
}
service Boss {
  var seen: set of 1..K = {}
  var stopped: bool = false
  on log_ch?Done(i) { seen := seen union {i} }
  action stop when seen == 1..K and not stopped { stopped := true; log_ch!Stop }
}
invariant SeenWereDone: forall i in Boss.seen: W[i].state == done
invariant LoggedWereDone: forall m in pending(log_ch): m == Stop or
  (exists i in 1..K: m == Done(i) and W[i].state == done)
invariant StopLast: Stop in pending(log_ch) => Boss.stopped and not (1 notin Boss.seen)
invariant Outside: 7 notin Boss.seen
invariant NotTwoSeen: not (1 in Boss.seen and 2 in Boss.seen)
invariant FewSeen: card(Boss.seen) < 3 or 3 in Boss.seen
reachable AllSeen: exists i in Boss.seen: i == 3 and Done(1) in pending(log_ch)
reachable Never: exists i in Boss.seen: W[i].state == idle
"""


def test_set_membership_leaves_read_single_bits():
    # a leaf reading a set slot only through `c in S` keys on the bits of those elements;
    # `forall x in S: B` over a set slot becomes `x in S => B` for each x of its list
    spec = mscheck.loads(MEMBERSHIP, "membership.ms")
    pm = PackedModel(CompiledModel(spec))
    seen = CompiledModel(spec).slot_names.index("Boss.seen")
    log = [i for i, n in enumerate(CompiledModel(spec).slot_names) if "log_ch" in n]
    assert len(log) == 1

    def bits_in(slot, leaves):
        return [bin(mask & pm.field_mask[slot]).count("1") for mask, _, _ in leaves]

    # one leaf per element of 1..K, each reading one bit of `seen` and W[i].state
    assert bits_in(seen, pm.invariants["SeenWereDone"]) == [1, 1, 1]
    # Done(1..3) and Stop: four leaves, one bit of the channel each
    assert bits_in(log[0], pm.invariants["LoggedWereDone"]) == [1, 1, 1, 1]
    assert bits_in(seen, pm.invariants["NotTwoSeen"]) == [2]
    assert bits_in(seen, pm.invariants["Outside"]) == [0]  # 7 is in no value of the slot
    assert bits_in(seen, pm.invariants["FewSeen"]) == [3]  # card reads the whole slot
    assert all(good is not None for leaves in pm.invariants.values()
               for _, good, _ in leaves)
    # and every figure, verdict and trace length is the scalar engine's
    from mscheck.engine.vector import vector_search

    scalar = search(CompiledModel(spec), keep_going=True)
    for run in (packed_search(pm, keep_going=True), vector_search(pm, keep_going=True)):
        assert (run.states, run.transitions) == (scalar.states, scalar.transitions)
        assert sorted((v.property, len(t)) for v, t in zip(run.violations, run.traces)) == \
            sorted((v.property, len(t)) for v, t in zip(scalar.violations, scalar.traces))
    assert (scalar.states, scalar.transitions) == (65, 197)
    assert sorted({(v.kind, v.property) for v in scalar.violations}) == [
        ("invariant", "NotTwoSeen"), ("unreachable", "Never")]
    first = vector_search(PackedModel(CompiledModel(spec)))
    assert [(v.property, len(t)) for v, t in zip(first.violations, first.traces)] == \
        [("NotTwoSeen", 7)]


def test_unlabelled_steps_give_the_same_successors():
    """The packed engine's tables fill with step labels off: the successors must be the
    same states, and labels must come back on for traces."""
    from mscheck.cli import _load
    from mscheck.engine.packed import PackedModel

    spec, _ = _load("specs/seed/order_events.ms", {"ORDERS": "3", "CAPACITY": "2"})
    model = CompiledModel(spec)
    state = model.initial_states()[0]
    labelled = []
    for st in model.steps:
        for inst in st["instances"]:
            labelled += model.step_successors(state, st, inst)
    steps = [s for s, _ in labelled]
    assert [s.messages for s in steps] == [(("send", "processing_queue", "OrderCreated(1)"),
                                        ("send", "notification_queue", "OrderCreated(1)"))]
    assert steps[0].actor == "Order"
    model.labels = False
    bare = []
    for st in model.steps:
        for inst in st["instances"]:
            bare += model.step_successors(state, st, inst)
    assert [w for _, w in bare] == [w for _, w in labelled]
    assert [(s.actor, s.messages) for s, _ in bare] == [("", ())]
    model.labels = True
    pm = PackedModel(model)
    for t in pm.tables:
        t.fill(pm.encode(state) & t.mask)
    assert model.labels  # filling switches them off only while it runs


# ---------------------------------------------------------------- ordered channel contents

# The ordered messages of a set or log channel are remembered by contents; {1} == {True},
# so a log of bools read after a log of numbers holding 1 took the number's order, and its
# handler received 1 for true.
TWO_LOGS = """
channel nums: log of 0..1
channel flags: log of bool
service P {
  var sent: bool = false
  action go when not sent {
    nums!(1)
    flags!(true)
    sent := true
  }
}
service Q {
  var seen: 0..1 = 0
  var got: bool = false
  on nums?n { seen := n }
  on flags?f { got := f }
}
invariant NotGot: not Q.got
"""


@pytest.mark.parametrize("engine", ["scalar", "packed", "vector"])
def test_equal_sets_of_two_channels_keep_their_own_values(engine):
    doc = check_spec(_load(TWO_LOGS), engine=engine)
    (v,) = doc["violations"]
    last = v["trace"][-1]
    assert (doc["states"], last["action"], last["messages"], last["changes"]) == (
        4, "on_flags", [{"direction": "recv", "channel": "flags", "message": "true"}],
        {"Q.got": "true"})


# ---------------------------------------------------------------- where a first run stops

# Level 1 holds (x=1, y=0) then (x=0, y=1). Expanding the first finds (1, 2), which breaks
# NotTwo at depth 2; the second is a deadlock at depth 1. The scalar engine stopped at the
# broken invariant as it met it (a 2-step trace), the packed and vector engines at the end
# of level 1's expansion, at the deadlock. Every engine now stops level by level: the
# deadlock, one step shorter, with the 4 states and 4 transitions found by then and depth 2
# (the deepest state found).
STOP_ORDER = """
system StopOrder
service S {
  var x: 0..3 = 0
  var y: 0..3 = 0
  action a when x == 0 and y == 0 { x := 1 }
  action b when x == 0 and y == 0 { y := 1 }
  action c when x == 1 and y == 0 { y := 2 }
}
invariant NotTwo: S.y != 2
"""

# Without the deadlock (S.y may go on to 3), the run stops once level 1 is expanded, at the
# first invariant declared that a state of level 2 breaks (Small, broken at its first state,
# though NotTwo breaks at a state found before it).
STOP_AT_FIRST_DECLARED = STOP_ORDER.replace("}\ninvariant NotTwo", """\
  action d when y == 1 { x := 3 }
  action e when x == 3 or y == 2 { y := 3 }
}
invariant Small: S.x != 3
invariant NotTwo""")


@pytest.mark.parametrize("engine", ["scalar", "packed", "vector"])
def test_every_engine_stops_level_by_level(engine):
    assert "action d" in STOP_AT_FIRST_DECLARED
    doc = check_spec(_load(STOP_ORDER), engine=engine)
    assert (doc["states"], doc["transitions"], doc["depth"]) == (4, 4, 2)
    [v] = doc["violations"]
    assert (v["kind"], len(v["trace"])) == ("deadlock", 2)
    assert v["trace"][-1]["state"] == {"S.x": "0", "S.y": "1"}

    doc = check_spec(_load(STOP_AT_FIRST_DECLARED), engine=engine)
    # level 0: (0, 0); level 1: (1, 0), (0, 1); level 2: (1, 2) by c, then (3, 1) by d
    assert (doc["states"], doc["transitions"], doc["depth"]) == (5, 5, 2)
    [v] = doc["violations"]
    assert (v["property"], len(v["trace"])) == ("Small", 3)
    assert v["trace"][-1]["state"] == {"S.x": "3", "S.y": "1"}


# An invariant whose evaluation fails (head of an empty sequence) does not hold there; the
# scalar engine said why, the packed and vector engines did not.
HEAD_OF_EMPTY = """
system H
service S {
  var x: 0..2 = 0
  var q: seq of 0..1 max 2 = []
  action a when x < 2 { x := x + 1 }
}
invariant H: S.x < 1 or head(S.q) == 0
"""


@pytest.mark.parametrize("engine", ["scalar", "packed", "vector"])
def test_every_engine_says_why_an_invariant_could_not_be_evaluated(engine):
    doc = check_spec(_load(HEAD_OF_EMPTY), engine=engine)
    [v] = doc["violations"]
    assert v["message"] == ("invariant H is violated (evaluating it failed: head of an empty "
                            "sequence)")
    assert (doc["states"], len(v["trace"])) == (2, 2)


# ---------------------------------------------------------------- Ctrl-C inside a level

# 2**18 states; level k holds the states with k bits set (C(18, k): 18,564 at 6), and every
# state of level 7 breaks the invariant. Ctrl-C while level 6 is expanded, after its first
# 16,384 states: the states of level 7 found from them were left unchecked (the run was
# inconclusive, with no violation), where the scalar engine, which checks each state as it
# finds it, reports one.
SEVEN = """
const BITS = 18
var n: 0..BITS = 0
service Bit[i in 1..BITS] {
  var on: bool
  action flip when not on { on := true; n := n + 1 }
}
invariant Few: n < 7
"""


def _interrupted(result) -> tuple:
    return (result.verdict, result.reason, result.states, result.depth,
            [(v.kind, v.property) for v in result.violations],
            [len(t) for t in result.traces])


def test_ctrl_c_inside_a_level_checks_the_states_found(monkeypatch):
    from mscheck.engine import packed as packed_mod
    from mscheck.engine import vector as vector_mod
    from mscheck.engine.vector import vector_search

    def pm():
        return PackedModel(CompiledModel(_load(SEVEN)))

    real_limit = packed_mod.limit_reached

    def limit_then_stop(limits, t0, states):
        if limits is searched_limits:  # the check after 16,384 states of a level
            raise KeyboardInterrupt
        return real_limit(limits, t0, states)

    searched_limits = Limits()
    monkeypatch.setattr(packed_mod, "limit_reached", limit_then_stop)
    packed = packed_search(pm(), limits=searched_limits)
    monkeypatch.undo()

    calls = []
    real_successors = vector_mod.successors

    def successors_then_stop(vtables, states, W):
        calls.append(len(states[0]))
        if len(calls) == 8:  # levels 0-5 in a batch each, level 6 in two: its second batch
            raise KeyboardInterrupt
        return real_successors(vtables, states, W)

    monkeypatch.setattr(vector_mod, "successors", successors_then_stop)
    vector = vector_search(pm(), small=0)
    assert calls[6:] == [16384, 18564 - 16384]
    # levels 0-6 (31,180 states) and the 29,646 states of level 7 found from the first
    # 16,384 of level 6; a trace of 7 steps (8 states). Before, the packed engine counted
    # them but left them unchecked, and the vector engine did not count them.
    assert sum(math.comb(18, k) for k in range(7)) == 31180
    assert _interrupted(packed) == _interrupted(vector) == (
        "violation", "interrupted", 31180 + 29646, 7, [("invariant", "Few")], [8])


def test_ctrl_c_as_the_vector_engine_takes_over(monkeypatch):
    # with --continue the packed loop finds the broken invariant at depth 2 (1 + 18 + 153
    # states) and hands level 2 (153 states) to the vector engine; Ctrl-C while that engine
    # sets out (here: making its tables) ended the run without its result
    import mscheck.engine.vector as vector_mod

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(vector_mod, "_vtables", interrupt)
    doc = check_spec(_load(SEVEN.replace("n < 7", "n < 2")), keep_going=True)
    assert (doc["verdict"], doc["reason"], doc["complete"], doc["states"], doc["depth"]) == (
        "violation", "interrupted", False, 172, 2)
    (v,) = doc["violations"]
    assert v["property"] == "Few" and len(v["trace"]) == 3
    # and a second Ctrl-C as its trace is walked back: the run still says it was cut short
    import mscheck.engine.packed as packed_mod

    monkeypatch.setattr(packed_mod, "_trace", interrupt)
    doc = check_spec(_load(SEVEN.replace("n < 7", "n < 2")), keep_going=True)
    assert (doc["verdict"], doc["reason"], doc["states"], len(doc["violations"][0]["trace"])) \
        == ("violation", "interrupted; interrupted while the traces were rebuilt (0 of 1 made)",
            172, 0)


def test_ctrl_c_while_a_level_is_checked(monkeypatch):
    # Ctrl-C in the check of level 7 of SEVEN (31,824 states, every one breaking the
    # invariant), after the whole level was found and counted: the level is checked again,
    # whole, and the violation reported; before, the check was cut short and the run ended
    # inconclusive with all 63,004 states counted
    from mscheck.engine import packed as packed_mod
    from mscheck.engine import vector as vector_mod
    from mscheck.engine.vector import vector_search

    def once_at_level_7(module):
        real = module.check_level
        raised = []

        def check_level(pm, invariants, reach, states, level, *rest):
            if level == 7 and not raised:
                raised.append(level)
                raise KeyboardInterrupt
            return real(pm, invariants, reach, states, level, *rest)

        monkeypatch.setattr(module, "check_level", check_level)
        return raised

    def pm():
        return PackedModel(CompiledModel(_load(SEVEN)))

    raised = once_at_level_7(packed_mod)
    packed = packed_search(pm())
    assert raised == [7]
    monkeypatch.undo()
    raised = once_at_level_7(vector_mod)
    vector = vector_search(pm(), small=0)
    assert raised == [7]
    assert sum(math.comb(18, k) for k in range(8)) == 63004
    assert _interrupted(packed) == _interrupted(vector) == (
        "violation", "interrupted", 63004, 7, [("invariant", "Few")], [8])


def test_ctrl_c_while_the_traces_are_rebuilt(monkeypatch):
    # Ctrl-C after a whole search (--continue: 13 violations, a property's first state in
    # each level, and the deadlock), as the third trace is walked back: the violations
    # stand (verdict violation, two with their traces), the run says why it ended; before,
    # it ended with a bare "interrupted" and no result
    from mscheck.engine import packed as packed_mod
    from mscheck.engine.vector import vector_search

    text = SEVEN.replace("BITS = 18", "BITS = 10") + "invariant Fewer: n < 3\n"
    real = packed_mod._trace
    made = []

    def third_stops(*args):
        made.append(args[2])  # the level of the state a trace ends in
        if len(made) == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(packed_mod, "_trace", third_stops)
    for run in (packed_search, lambda pm, **kw: vector_search(pm, small=0, **kw)):
        made.clear()
        r = run(PackedModel(CompiledModel(_load(text))), keep_going=True)
        assert made == [3, 4, 5]
        assert (r.verdict, r.reason, r.complete, r.states, r.depth) == (
            "violation", "interrupted while the traces were rebuilt (2 of 13 made)", False,
            1024, 10)
        assert [len(t) for t in r.traces] == [4, 5] + [0] * 11
        assert [v.property for v in r.violations] == ["Fewer"] * 4 + ["Few", "Fewer"] * 4 + [
            "deadlock_free"]
    made.clear()
    doc = check_spec(_load(text), keep_going=True)
    assert (doc["verdict"], doc["complete"], [len(v["trace"]) for v in doc["violations"]]) == (
        "violation", False, [4, 5] + [0] * 11)
    monkeypatch.undo()
    whole = packed_search(PackedModel(CompiledModel(_load(text))), keep_going=True)
    assert (whole.reason, whole.complete, [len(t) for t in whole.traces]) == (
        None, True, [4, 5, 6, 7, 8, 8, 9, 9, 10, 10, 11, 11, 11])
    # a reason the run had already (a limit) is kept beside it; a reachable property never
    # witnessed has no trace to make: it is not counted, nor said to be missing one
    from mscheck.engine.search import Limits

    def second_stops(*args):
        made.append(args[2])
        if len(made) == 2:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(packed_mod, "_trace", second_stops)
    never = text + "reachable Never: n > 20\n"
    for run in (packed_search, lambda pm, **kw: vector_search(pm, small=0, **kw)):
        made.clear()
        r = run(PackedModel(CompiledModel(_load(never))), keep_going=True)
        assert (r.reason, [len(t) for t in r.traces], r.violations[-1].kind) == (
            "interrupted while the traces were rebuilt (1 of 13 made)", [4] + [0] * 13,
            "unreachable")
        made.clear()
        r = run(PackedModel(CompiledModel(_load(never))), keep_going=True,
                limits=Limits(max_states=300))
        assert (r.verdict, r.reason, r.states, [len(t) for t in r.traces]) == (
            "violation", "state limit of 300 reached; interrupted while the traces were "
            "rebuilt (1 of 2 made)", 386, [4, 0])
    from mscheck.report.check import render_check

    made.clear()
    out = render_check(check_spec(_load(never), keep_going=True), never, color=False)
    assert out.count("trace not rebuilt") == 12 and "reachable Never has no witness" in out

    monkeypatch.setattr(packed_mod, "_trace", third_stops)
    made.clear()
    text_out = render_check(check_spec(_load(text), keep_going=True), text, color=False)
    assert text_out.splitlines()[0] == (
        "defect: VIOLATION (interrupted while the traces were rebuilt (2 of 13 made))")
    assert text_out.count("trace not rebuilt: the run was interrupted first") == 11


def test_a_huge_range_goes_to_the_scalar_engine():
    # the packed engine listed every value of each variable's type: a range of 10**18
    # values ended the run in a MemoryError (a traceback, exit code 1); listing now stops
    # past a million values, and the spec is checked by the scalar engine
    from mscheck.ir import types as T
    from mscheck.ir.evaluate import EvalError, type_values

    doc = check_spec(_load("""
service Wide {
  var big: 0..1000000000000000000 = 0
  action bump when big < 3 { big := big + 1 }
}
"""))
    assert (doc["verdict"], doc["states"], doc["engine"], doc["engine_note"]) == (
        "violation", 4, "scalar",
        "scalar engine: Wide.big: 0..1000000000000000000 has too many values to list")
    for t in (T.IntT(0, 10 ** 6), T.TupleT((T.IntT(0, 999), T.IntT(0, 1000)))):
        with pytest.raises(EvalError, match="too many values"):
            type_values(t)
    assert len(type_values(T.TupleT((T.IntT(0, 999), T.IntT(0, 999))))) == 10 ** 6


@pytest.mark.parametrize("kind", ["fifo", "bag"])
def test_a_wide_channel_is_not_listed_before_it_is_counted(kind):
    # the packed engine listed all 5,001**2 contents of two messages (25 M tuples, 1.75 GB,
    # 8.7 s) before finding them too many for a slot; they are now counted first
    from mscheck.engine.packed import MAX_DOMAIN, NotPackable, _bags, _sequences
    from mscheck.ir.evaluate import EvalError

    spec = _load(f"""
message Job(n: 0..5000)
channel q: {kind}(4) of Job
service P {{
  var k: 0..3 = 0
  var r: 0..5000 = 0
  action send when k < 3 {{ q!Job(k * r); k := k + 1 }}
  on q?Job(x) {{ r := x }}
}}
""")
    with pytest.raises(NotPackable, match="q: too many values"):
        PackedModel(CompiledModel(spec))
    doc = check_spec(spec)
    assert (doc["verdict"], doc["states"], doc["engine"]) == ("violation", 10, "scalar")
    # at the bound (16,384): 1 + 127 + 127**2 sequences, 1 + 179 + 179*180/2 bags; one
    # element more is too many
    assert (len(_sequences(list(range(127)), 2)), len(_bags(list(range(179)), 2))) == (
        16257, 16290)
    assert MAX_DOMAIN == 16384
    for make, n in ((_sequences, 128), (_bags, 180)):
        with pytest.raises(EvalError):
            make(list(range(n)), 2)


@pytest.mark.parametrize("error,said", [
    (MemoryError, "mscheck: out of memory: no verdict"),
    (RuntimeError("a bug"), "mscheck: internal error: no verdict"),
])
def test_a_run_that_fails_is_never_taken_for_a_verdict(monkeypatch, capsys, repo_root,
                                                        error, said):
    # a MemoryError outside the search (a huge value built at the start) or a bug ended the
    # run with a traceback and Python's exit code 1, which reads as "violation"
    import mscheck.engine.check as check_mod

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(check_mod, "check_spec", fail)
    code = main(["check", str(repo_root / "specs" / "classic" / "tcommit.ms")])
    err = capsys.readouterr().err
    assert code == 3 and said in err
    assert ("Traceback" in err) == (error is not MemoryError)
