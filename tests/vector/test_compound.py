"""A property leaf that reads too many fields to tabulate is split by its boolean structure
(``and``, ``or``, ``not``, ``=>``, ``forall`` and ``exists`` over constant sets) into parts
that each read few fields and are tabulated (``PackedModel._split``); the vector engine
combines the parts' masks, the packed loop their lookups. The split is refused when a part
raises a domain error on some values, since the combination would then lose the error. The
results are those of the scalar engine, which evaluates the whole expression."""

from __future__ import annotations

import os

import pytest

import mscheck
from mscheck.engine.check import check_spec
from mscheck.engine.compile import CompiledModel
from mscheck.engine.packed import PackedModel, _Compound

from .test_agreement import ROOT

WIDE = """
system Wide

service S {
  var a: 0..8 = 0
  var b: 0..8 = 0
  var c: 0..8 = 0
  var d: 0..8 = 0
  action inc_a when a < 8 { a := a + 1 }
  action inc_b when b < 8 { b := b + 1 }
  action inc_c when c < 8 { c := c + 1 }
  action inc_d when d < 8 { d := d + 1 }
  end when true
}

"""


def kinds(pm: PackedModel, name: str) -> list[str]:
    return ["table" if test is None else "compound" if isinstance(test, _Compound) else "test"
            for _mask, _good, test in pm.invariants[name]]


def outcome(doc: dict, keep_going: bool) -> tuple:
    """What the engines must agree on: the verdict, the first violation with its trace's
    length and last state, and with ``keep_going`` the figures (stopped at a violation,
    the scalar engine has counted a level's states only up to the one that fails)."""
    figures = (doc["states"], doc["transitions"], doc["depth"]) if keep_going else ()
    first = [(v["property"], len(v["trace"]), v["trace"][-1]["state"])
             for v in doc["violations"][:1]]
    return doc["verdict"], figures, first


def agree(text: str, keep_going: bool = False) -> dict:
    spec = mscheck.loads(text, "wide.ms")
    docs = {e: check_spec(spec, engine=e, keep_going=keep_going)
            for e in ("scalar", "packed", "vector")}
    assert outcome(docs["packed"], keep_going) == outcome(docs["scalar"], keep_going)
    assert outcome(docs["vector"], keep_going) == outcome(docs["scalar"], keep_going)
    return docs["vector"]


@pytest.mark.parametrize("keep_going", [False, True])
def test_a_wide_invariant_is_split_and_agrees(keep_going):
    text = WIDE + """
invariant Mixed:
  (S.a < 2 => S.b < 3)
  or (exists i in 1..3: S.c == i and S.d == 8 - i)
  or not (S.d <= S.a + 6)
"""
    pm = PackedModel(CompiledModel(mscheck.loads(text, "wide.ms")))
    assert kinds(pm, "Mixed") == ["compound"]
    doc = agree(text, keep_going)
    # the first violation: b = 3 while a < 2, no pair (c, d) of the exception, d <= a + 6
    first = doc["violations"][0]
    assert first["property"] == "Mixed"
    assert len(first["trace"]) == 4
    assert first["trace"][-1]["state"] == {"S.a": "0", "S.b": "3", "S.c": "0", "S.d": "0"}
    if keep_going:  # every state, and every violating one counted once
        assert doc["states"] == 9 ** 4


def test_a_wide_invariant_that_holds():
    text = WIDE + """
invariant Bounded:
  forall i in 0..8: (S.a == i and S.b > 4) => (S.c + S.b <= 16 or S.d == i)
invariant Sum: S.a + S.b + S.c + S.d <= 32
"""
    pm = PackedModel(CompiledModel(mscheck.loads(text, "wide.ms")))
    assert kinds(pm, "Bounded") == ["compound"] * 9
    assert kinds(pm, "Sum") == ["test"]  # one comparison reading four fields: no structure
    doc = agree(text, True)
    assert (doc["verdict"], doc["states"], doc["transitions"]) == ("ok", 6561, 23329)


def test_a_part_that_can_fail_is_not_split():
    # 10 div (a - 3) fails at a = 3; evaluated whole, the error makes the invariant false
    # there (whatever the other operand says), which a split into parts would lose
    text = WIDE + """
invariant Divides: 10 div (S.a - 3) > 1 or S.b + S.c + S.d < 30
"""
    pm = PackedModel(CompiledModel(mscheck.loads(text, "wide.ms")))
    assert kinds(pm, "Divides") == ["test"]
    doc = agree(text)
    assert doc["verdict"] == "violation"


def test_order_events_scaled_up():
    spec = mscheck.load(os.path.join(ROOT, "specs", "seed", "order_events.ms"),
                        {"ORDERS": "10", "CAPACITY": "3", "WORKERS": "4"})
    pm = PackedModel(CompiledModel(spec))
    # NoOrderLost, one leaf per order: `id <= created => in the queue, or in a worker's
    # hands, or processed` reads every field but the notification queue
    assert kinds(pm, "NoOrderLost") == ["compound"] * 10
    doc = check_spec(spec, keep_going=True)
    assert (doc["verdict"], doc["states"], doc["transitions"], doc["engine"]) == \
        ("ok", 136126, 652954, "vector")


CONTENTS = """
system Contents
message Job(n: 1..5)
channel q: fifo(4) of Job
channel b: bag(2) of Job

service P {
  var n: 0..5 = 0
  action put when n < 5 { q!Job(n + 1); n := n + 1 }
  action copy(k in 1..5) when Job(k) in pending(q) { b!Job(k) }
  on take: q?Job(k) { skip }
  on drop: b?Job(k) { skip }
  end when true
}

# each reads more than a table takes at once (n and q: 6 x 781 keys; n, b and q: 6 x 21 x
# 781), so each is split into parts
invariant Queued: forall k in 1..3:
  k <= P.n => Job(k) in pending(q) or k notin {1, 2, 3} or Job(k) notin pending(q)
invariant NotBoth: Job(1) notin pending(b) or Job(2) notin pending(b) or P.n >= 2
  or Job(3) in pending(q)
"""


def test_membership_in_a_channels_contents_is_tabulated_from_its_contents(monkeypatch):
    # `c in pending(ch)` for a constant c and a fifo or bag channel: its keys come from
    # testing c against each contents the channel can hold, not from evaluating it per key;
    # the tables are the same either way
    from mscheck.engine import packed as P

    fast_leaves = []
    for spec in (mscheck.loads(CONTENTS, "contents.ms"),
                 mscheck.load(os.path.join(ROOT, "specs", "seed", "order_events.ms"),
                              {"ORDERS": "8", "CAPACITY": "3", "WORKERS": "3"})):
        used = []
        real = P.PackedModel._in_contents

        def counting(self, e, env):
            got = real(self, e, env)
            used.append(got is not None)
            return got

        monkeypatch.setattr(P.PackedModel, "_in_contents", counting)
        fast = PackedModel(CompiledModel(spec))
        assert any(used)
        monkeypatch.setattr(P.PackedModel, "_in_contents", lambda self, e, env: None)
        slow = PackedModel(CompiledModel(spec))
        monkeypatch.setattr(P.PackedModel, "_in_contents", real)

        def tables(pm):
            return {name: [(mask, good, getattr(test, "tree", test is None))
                           for mask, good, test in leaves]
                    for name, leaves in pm.invariants.items()}
        assert tables(fast) == tables(slow)
        fast_leaves.append(used.count(True))
    # Contents: the memberships that are parts of NotBoth, two of b and one of q (Queued's
    # parts are `k <= P.n` and the whole `or`, which reads q alone); order_events: one
    # `OrderCreated(id) in pending(processing_queue)` an order
    assert fast_leaves == [3, 8]
    # Queued is a tautology; both jobs 1 and 2 are copied to b only once 2 were put
    assert agree(CONTENTS, keep_going=True)["verdict"] == "ok"
