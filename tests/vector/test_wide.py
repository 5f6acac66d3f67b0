"""States wider than 64 bits: the vectorised engine holds them as several uint64 words and
still gives exactly the results of ``packed_search`` (states, transitions, depth, verdict,
violations in order, their traces, the limits' stopping points)."""

from __future__ import annotations

import random

import numpy as np
import pytest

import mscheck
from mscheck.engine.compile import CompiledModel
from mscheck.engine.packed import PackedModel, packed_search
from mscheck.engine.search import Limits, search
from mscheck.engine.vector import (CHECK_EVERY, _first_occurrence, _Fold, _Layout,
                                   _rotations, _Scratch, _Visited, packed_or_vector_search,
                                   vector_search)

from .test_agreement import BAD, CUBE, summary

# Dining philosophers behind a padding of constant variables: the padding moves the
# philosophers' slots across a 64-bit boundary (a phase may straddle it), so table keys and
# property leaves span two words (three with a wide padding). A fork is put back with a
# payload read from the state (always true), so a fork keeps two bits (a token channel
# that is only ever sent a literal would take one).
PHILOSOPHERS = """
const N = 6
def right(p) = if p == N then 1 else p + 1
channel fork[f in 1..N]: fifo(1) of bool = [true]
PADDING
service Philosopher[p in 1..N] {
  var phase: {thinking, holding_left, eating, sated, holding_right} = thinking
  on take_left: fork[p]?(_) when phase == thinking { phase := holding_left }
  on take_right: fork[right(p)]?(_) when phase == holding_left { phase := eating }
  action eat when phase == eating { phase := sated }
  action put_left when phase == sated { fork[p]!(phase == sated); phase := holding_right }
  action put_right when phase == holding_right {
    fork[right(p)]!(phase == holding_right); phase := thinking
  }
}
reachable SomeoneEats: exists p in 1..N: Philosopher[p].phase == eating
reachable Never: Philosopher[1].phase == eating and Philosopher[2].phase == eating
"""
EATERS = "invariant NotBoth: not (Philosopher[5].phase == eating and " \
         "Philosopher[2].phase == eating)\n"
CONSERVE = """
def holds_left(p) = Philosopher[p].phase in {holding_left, eating, sated}
def holds_right(p) = Philosopher[p].phase in {eating, sated, holding_right}
def left(p) = if p == 1 then N else p - 1
invariant ForkConservation:
  forall f in 1..N:
    len(fork[f]) + (if holds_left(f) then 1 else 0)
      + (if holds_right(left(f)) then 1 else 0) == 1
"""


def padding(bits: int) -> str:
    """Constant shared variables of ``bits`` bits in all (they come first in the layout)."""
    out = []
    while bits > 0:
        w = min(bits, 14)
        out.append(f"var pad{len(out)}: 0..{(1 << w) - 1} = 0")
        bits -= w
    return "\n".join(out)


def philosophers(pad: int, extra: str = "", n: int = 6):
    text = PHILOSOPHERS.replace("PADDING", padding(pad)).replace("N = 6", f"N = {n}") + extra
    spec = mscheck.loads(text, "philosophers.ms")
    return lambda: PackedModel(CompiledModel(spec))


def both(make, **kwargs):
    return summary(packed_search(make(), **kwargs)), summary(vector_search(make(), **kwargs))


# the philosophers take 30 bits: states of 80, 87, 92, 94, 130 and 170 bits; 64, 72 and
# 128 bits leave the top word no spare bit (the visited set then tags its empty slots apart)
@pytest.mark.parametrize("pad", [50, 57, 62, 64, 100, 140, 34, 42, 98])
@pytest.mark.parametrize("keep_going", [False, True], ids=["first", "continue"])
@pytest.mark.parametrize("deadlock", [True, False], ids=["deadlock", "nodeadlock"])
def test_philosophers_across_words(pad, deadlock, keep_going):
    make = philosophers(pad, CONSERVE)
    assert make().bits == pad + 30
    packed, vector = both(make, keep_going=keep_going, check_deadlock=deadlock)
    assert vector == packed


@pytest.mark.parametrize("pad", [50, 62, 130])
@pytest.mark.parametrize("keep_going", [False, True], ids=["first", "continue"])
def test_invariant_violation_traces(pad, keep_going):
    make = philosophers(pad, EATERS)
    packed, vector = both(make, keep_going=keep_going, check_deadlock=False)
    assert packed["verdict"] == "violation" and packed["traces"][0]
    assert vector == packed


@pytest.mark.parametrize("max_states", [20000, 30000, 45000])
def test_state_limit_on_wide_philosophers(max_states):
    # 9 philosophers behind 56 bits of padding: 98 bits
    make = philosophers(56, "", n=9)
    limits = Limits(max_states=max_states)
    packed, vector = both(make, limits=limits, check_deadlock=False)
    assert vector == packed
    assert vector["verdict"] == "inconclusive"


def cube70(extra: str = ""):
    spec = mscheck.loads(CUBE.replace("BITS = 17", "BITS = 70") + extra, "cube.ms")
    return lambda: PackedModel(CompiledModel(spec))


@pytest.mark.parametrize("chunk", [CHECK_EVERY, 1 << 17])
@pytest.mark.parametrize("max_states", [60000, 90000, 150000])
def test_state_limit_cuts_a_wide_level(max_states, chunk):
    # level 3 of the 70-bit cube holds C(70, 3) = 54740 states: the limit is met while it is
    # expanded, at one of the checks made every CHECK_EVERY states, with states of level 4
    # found (the depth of the deepest state found)
    make = cube70()
    limits = Limits(max_states=max_states)
    packed = summary(packed_search(make(), limits=limits))
    vector = summary(vector_search(make(), limits=limits, chunk=chunk))
    assert vector == packed
    assert vector["verdict"] == "inconclusive" and vector["depth"] == 4


@pytest.mark.parametrize("case", sorted(BAD))
def test_wide_cube(case):
    # 70 independent bits: 2**70 states, searched to depth 3 (C(70, 3) = 54740 on level 3)
    make = cube70(BAD[case].replace("Bit[17]", "Bit[67]"))
    assert make().bits == 70
    for limits in (Limits(max_depth=3), Limits(max_states=40000), Limits(max_depth=2)):
        for keep_going in (False, True):
            packed, vector = both(make, limits=limits, keep_going=keep_going)
            assert vector == packed
    r = packed_or_vector_search(make(), limits=Limits(max_depth=1))
    assert (r.states, r.verdict) == (71, "inconclusive")


# One service whose steps read 70 bits: its table's key cannot be folded into 64 bits by
# rotations, so it is keyed by bytes; so is the invariant, which reads them all.
BIG = """
service Big {
  var a: 0..16383 = 0
  var b: 0..16383 = 0
  var c: 0..16383 = 0
  var d: 0..16383 = 0
  var e: 0..16383 = 1
  action grow when a + b + c + d + e < LIMIT { a := a + 1 }
  action pass when a > 0 and d < 3 { a := a - 1; d := d + 1 }
  action wrap when d > 0 { d := d - 1; e := e + 1; b := b + 1 }
}
service Flag {
  var up: bool = false
  action raise when not up and Big.e > 1 { up := true }
  action lower when up { up := false }
}
invariant Small: Big.a + Big.b + Big.c + Big.d + Big.e < LIMIT
reachable Raised: Flag.up and Big.b == 2
"""


@pytest.mark.parametrize("limit", [5, 7, 100])
@pytest.mark.parametrize("keep_going", [False, True], ids=["first", "continue"])
def test_keys_wider_than_a_word(limit, keep_going):
    spec = mscheck.loads(BIG.replace("LIMIT", str(limit)), "big.ms")

    def make():
        return PackedModel(CompiledModel(spec))
    pm = make()
    assert pm.bits == 71 and any(t.mask.bit_count() > 64 for t in pm.tables)
    packed, vector = both(make, keep_going=keep_going, limits=Limits(max_states=3000))
    assert vector == packed


def test_fold_is_injective_and_inverts():
    assert _rotations([0b1, 0b1]) is not None
    assert _rotations([(1 << 64) - 1, 1]) is None
    rng = random.Random(5)
    for mask in ((0b111 << 62), (0xFF << 60) | (1 << 130), (1 << 64) | 1,
                 ((1 << 40) - 1) << 50, (1 << 128) - 1):
        fold = _Fold(mask, 3)
        ints = sorted({rng.getrandbits(192) & mask for _ in range(300)} | {0, mask})
        words = [np.array([(s >> 64 * w) & ((1 << 64) - 1) for s in ints], dtype=np.uint64)
                 for w in range(3)]
        keys = fold.keys(words)
        assert len(set(keys.tolist())) == len(ints)
        assert keys.tolist() == fold.array([fold.fold(s) for s in ints]).tolist()
        assert [fold.unfold(k) for k in keys.tolist()] == ints
        if fold.rot is None:  # bytes keys sort as the numbers do
            assert np.all(keys[1:] > keys[:-1])


@pytest.mark.parametrize("pad", [0, 70])
def test_leaves_and_tables_that_read_nothing(pad):
    # `invariant Inv: true` reads no slot (an empty mask: one key)
    text = ("service S0 {\n  var x0: bool\n  action a0 { x0 := true }\n}\n"
            "invariant Inv0: true\nreachable R: true\n" + padding(pad) + "\n")
    spec = mscheck.loads(text, "empty.ms")
    packed, vector = both(lambda: PackedModel(CompiledModel(spec)))
    assert vector == packed and packed["states"] == 2


@pytest.mark.parametrize("bits", [3, 20, 63, 64, 65, 72, 127, 128, 150])
def test_visited_set_and_first_occurrence_are_exact(bits):
    # against Python sets, on batches with many repeats, across several growths of the set
    rng = random.Random(bits)
    layout = _Layout(bits)
    visited, seen, scratch = _Visited(layout, capacity=16), set(), _Scratch()
    pool = [rng.getrandbits(bits) for _ in range(3000)] + [(1 << bits) - 1, 0]
    for size in (1, 5, 100, 1000, 4000, 7000):
        batch = [rng.choice(pool) for _ in range(size)]
        words = layout.from_ints(batch)
        first = _first_occurrence(words, scratch).tolist()
        met: set[int] = set()
        assert first == [s not in met and not met.add(s) for s in batch]
        distinct = [s for s, f in zip(batch, first) if f]
        new = visited.add(layout.from_ints(distinct)).tolist()
        assert new == [s not in seen for s in distinct]
        seen.update(distinct)
        assert len(visited) == len(seen)


@pytest.mark.parametrize("dense_bits,dense_bytes", [(0, 1 << 26), (20, 1 << 12)],
                         ids=["no-direct-tables", "small-budget"])
@pytest.mark.parametrize("pad", [0, 50])
def test_keys_searched_instead_of_indexed(monkeypatch, dense_bits, dense_bytes, pad):
    # keys too wide for a direct table (or past the memory budget) are searched in sorted
    # arrays: the same results
    import mscheck.engine.vector as V
    monkeypatch.setattr(V, "DENSE_BITS", dense_bits)
    monkeypatch.setattr(V, "DENSE_BYTES", dense_bytes)
    monkeypatch.setattr(V._Budget.__init__, "__defaults__", (dense_bytes,))
    make = philosophers(pad, CONSERVE + EATERS)
    for keep_going in (False, True):
        packed, vector = both(make, keep_going=keep_going)
        assert vector == packed


@pytest.mark.parametrize("chunk", [CHECK_EVERY, 1 << 17])
@pytest.mark.parametrize("keep_going", [False, True])
def test_a_limit_still_checks_the_states_found(chunk, keep_going):
    # the state limit stops the expansion of level 3 (54,740 states); the first state of
    # level 3 expanded, Bits 1-3 on, already led to Bits 1-4 on, in level 4: the states
    # found are checked, so the run reports the broken invariant, not only the limit
    make = cube70("invariant Four: not (Bit[1].on and Bit[2].on and Bit[3].on and "
                  "Bit[4].on)\n")
    limits = Limits(max_states=60000)
    packed = summary(packed_search(make(), limits=limits, keep_going=keep_going))
    vector = summary(vector_search(make(), limits=limits, chunk=chunk, keep_going=keep_going))
    assert vector == packed
    assert (vector["verdict"], vector["reason"], vector["depth"]) == (
        "violation", "state limit of 60000 reached", 4)
    [trace] = vector["traces"]
    assert [step.actor if step else None for step, _ in trace] == [
        None, "Bit[1]", "Bit[2]", "Bit[3]", "Bit[4]"]
    # the scalar engine, which checks each state as it finds it, reports the same
    scalar = search(make().model, limits=limits, keep_going=keep_going)
    assert [(s.step, s.state) for s in scalar.traces[0]] == trace
    assert scalar.verdict == "violation"
