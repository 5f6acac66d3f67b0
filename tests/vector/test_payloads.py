"""A buffered channel's slot holds only the messages that can ever enter it, when they are
known before the search: those it starts with and the payloads of its sends, each a value of
its own in every instance of its service. A token channel then takes one bit; the search
finds the same states, transitions and verdicts as the scalar engine."""

from __future__ import annotations

import pytest

import mscheck
from mscheck.engine.check import check_spec
from mscheck.engine.compile import CompiledModel
from mscheck.engine.packed import PackedModel
from mscheck.ir.evaluate import MsgVal

TOKENS = """
const N = 3
def right(p) = if p == N then 1 else p + 1
channel fork[f in 1..N]: fifo(1) of bool = [true]
service P[p in 1..N] {
  var phase: {thinking, left, eating} = thinking
  on take_left: fork[p]?(_) when phase == thinking { phase := left }
  on take_right: fork[right(p)]?(_) when phase == left { phase := eating }
  action done when phase == eating { fork[p]!(true); fork[right(p)]!(SEND); phase := thinking }
}
"""

INDEXED = """
message Hello(from: 1..5)
message Bye
channel c: fifo(2) of Hello | Bye
service S[i in 1..3] {
  var sent: bool
  action hello when not sent { c!Hello(i); sent := true }
  on c?Bye { sent := false }
  on c?Hello(j) { c!Bye }
}
"""


def _pm(text: str) -> PackedModel:
    return PackedModel(CompiledModel(mscheck.loads(text, "payloads.ms")))


def _slot(pm: PackedModel, name: str) -> int:
    return pm.model.slot_names.index(name)


def test_a_token_channel_takes_one_bit():
    pm = _pm(TOKENS.replace("SEND", "true"))
    fork = _slot(pm, "fork[1]")
    assert pm.domains[fork] == [(), (True,)]
    assert pm.width[fork] == 1
    assert pm.bits == 3 * (2 + 1)


def test_a_payload_read_from_the_state_keeps_the_whole_type():
    pm = _pm(TOKENS.replace("SEND", "phase == eating"))
    for f in (1, 2, 3):
        assert pm.domains[_slot(pm, f"fork[{f}]")] == [(), (False,), (True,)]
    assert pm.bits == 3 * (2 + 2)


def test_each_slot_of_a_channel_holds_what_its_own_sends_name():
    # `p == 2` is true in one instance, false in two: P[1] puts false into fork[2], P[2]
    # true into fork[3], P[3] false into fork[1]; each puts true into its own fork
    pm = _pm(TOKENS.replace("SEND", "p == 2"))
    assert [pm.domains[_slot(pm, f"fork[{f}]")] for f in (1, 2, 3)] == [
        [(), (False,), (True,)], [(), (False,), (True,)], [(), (True,)]]
    assert pm.bits == 3 * 2 + 2 + 2 + 1
    doc = {e: check_spec(mscheck.loads(TOKENS.replace("SEND", "p == 2"), "t.ms"), engine=e,
                         keep_going=True) for e in ("scalar", "vector")}
    assert [(d["states"], d["transitions"], d["verdict"]) for d in doc.values()] == \
        [(doc["scalar"]["states"], doc["scalar"]["transitions"], doc["scalar"]["verdict"])] * 2


def test_a_channel_per_instance_holds_only_its_instances_messages():
    # service_registry: Instance[i] sends Register(i) and Deregister(i) into control[i]
    import os

    spec = mscheck.load(os.path.join(os.path.dirname(__file__), "..", "..", "specs", "seed",
                                     "service_registry.ms"), {"N": "3"})
    pm = PackedModel(CompiledModel(spec))
    for i in (1, 2, 3):
        dom = pm.domains[_slot(pm, f"control[{i}]")]
        assert len(dom) == 1 + 2 + 4  # not 1 + 6 + 36
        assert {m for items in dom for m in items} == {MsgVal("Register", (i,)),
                                                       MsgVal("Deregister", (i,))}
    assert pm.bits == 29


def test_messages_named_by_the_instance_and_replies():
    pm = _pm(INDEXED)
    c = _slot(pm, "c")
    one = [MsgVal("Bye", ())] + [MsgVal("Hello", (i,)) for i in (1, 2, 3)]
    assert set(pm.domains[c]) == {()} | {(m,) for m in one} | {(m, n) for m in one for n in one}
    assert len(pm.domains[c]) == 1 + 4 + 16  # not 1 + 6 + 36: Hello(4), Hello(5) never sent


def test_initial_contents_count():
    pm = _pm(TOKENS.replace("SEND", "true").replace("= [true]", "= [false]"))
    assert pm.domains[_slot(pm, "fork[2]")] == [(), (False,), (True,)]


def test_a_payload_bound_by_a_receive_keeps_the_whole_type():
    pm = _pm("""
channel a: fifo(1) of 0..3 = [1]
channel b: fifo(1) of 0..3
service S { on a?(x) { b!(x) } on b?(y) { a!(2) } }
""")
    assert pm.domains[_slot(pm, "a")] == [(), (1,), (2,)]
    assert pm.domains[_slot(pm, "b")] == [(), (0,), (1,), (2,), (3,)]


@pytest.mark.parametrize("reply,expected", [
    ("reply!(true)", {}),  # the channel a reply goes to is known in the search only
    ("answers!(true)", {"answers": {True}}),  # asks is sent a value read from the state
])
def test_a_channel_passed_as_a_value_stops_the_narrowing(reply, expected):
    spec = mscheck.loads("""
message Ask(reply: chan of bool)
channel asks: fifo(1) of Ask
channel answers: fifo(1) of bool
service Server { on asks?Ask(reply) { REPLY } }
service Client {
  var reply_to: chan of bool = answers
  action ask { asks!Ask(reply_to) }
  on answers?(v) { }
}
""".replace("REPLY", reply), "ask.ms")
    pm = object.__new__(PackedModel)  # channel values have no list of values to pack
    pm.model = CompiledModel(spec)
    assert pm._sent_payloads() == {pm.model.chan_slot[name][()]: msgs
                                   for name, msgs in expected.items()}


@pytest.mark.parametrize("text,states,transitions", [
    (TOKENS.replace("SEND", "true"), 14, 28),
    (TOKENS.replace("SEND", "p == 2"), 26, 60),  # a false payload is a state apart
    (INDEXED, 84, 280),
])
def test_the_search_finds_what_the_scalar_engine_finds(text, states, transitions):
    spec = mscheck.loads(text, "payloads.ms")
    figures = []
    for engine in ("scalar", "vector"):
        doc = check_spec(spec, engine=engine, keep_going=True)
        assert doc["engine"] == engine
        figures.append((doc["verdict"], doc["states"], doc["transitions"], doc["depth"]))
    assert figures[0] == figures[1]
    assert figures[0][1:3] == (states, transitions)
