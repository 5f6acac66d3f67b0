"""Proofs over sequences, strings, min/max and synchronous channels, and the definedness of
properties: each verdict agrees with the explicit checker on the same spec."""

from __future__ import annotations

from pathlib import Path

import pytest

import mscheck
from mscheck.engine.check import check_spec
from mscheck.engine.compile import CompiledModel
from mscheck.smt import prove_property, prove_spec

FIX = Path(__file__).resolve().parent / "fixtures"


def statuses(spec):
    return {r["property"]: (r["status"], r["method"], r.get("k"))
            for r in prove_spec(spec)["results"]}


def first_violation_depths(spec):
    """Property -> length of the shortest counterexample the checker finds."""
    doc = check_spec(spec, keep_going=True, deadlock=False)
    out = {}
    for v in doc["violations"]:
        if v["kind"] == "invariant":
            out.setdefault(v["property"], len(v["trace"]) - 1)
    return out


@pytest.fixture(scope="module")
def seq_spec():
    return mscheck.load(str(FIX / "sequences.ms"))


def test_sequence_proofs(seq_spec):
    got = statuses(seq_spec)
    assert {p: s for p, (s, _, _) in got.items()} == {
        "Bounded": "proved", "Lens": "proved", "Extremes": "proved", "Names": "proved",
        "Ops": "proved", "Upd": "violated", "Wrong": "violated", "Undef": "violated",
        "Guarded": "proved", "GuardedAnd": "proved", "Div": "proved", "Quant": "proved"}
    # a violation is found at the depth of the checker's shortest counterexample; Upd and
    # Undef cannot be evaluated in the initial state (an update outside the sequence, the
    # head of an empty sequence), which the checker reports as a violation too
    depths = first_violation_depths(seq_spec)
    assert depths == {"Upd": 0, "Undef": 0, "Wrong": 6}
    assert {p: k for p, (s, _, k) in got.items() if s == "violated"} == depths


def test_undefined_invariant_is_never_proved():
    spec = mscheck.loads("""system U
var s: seq of 0..3 max 2 = []
service A { action push when len(s) < 2 { s := append(s, 1) } }
invariant HeadIsOne: head(s) == 1
invariant Safe: len(s) > 0 => head(s) == 1
invariant SafeOr: len(s) == 0 or s[len(s)] == 1
invariant Exists: exists i in 1..2: s[i] == 1
""", "u.ms")
    got = {r["property"]: r["status"] for r in prove_spec(spec)["results"]}
    assert got == {"HeadIsOne": "violated", "Safe": "proved", "SafeOr": "proved",
                   "Exists": "violated"}
    assert first_violation_depths(spec) == {"HeadIsOne": 0, "Exists": 0}
    r = prove_property(spec, "HeadIsOne", method="inductive")
    assert r["status"] == "violated" and r["counterexample"]["kind"] == "trace"


def test_rendezvous_proofs():
    spec = mscheck.load(str(FIX / "rendezvous.ms"))
    assert statuses(spec) == {"I": ("proved", "kind", 1), "J": ("violated", "bmc", 3)}
    assert first_violation_depths(spec) == {"J": 3}
    r = prove_property(spec, "J", method="bmc", depth=5)
    states = r["counterexample"]["states"]
    assert [s.get("action") for s in states] == [None, "A.go", "A.go", "A.go"]
    # each send met the receiver whose guard takes its value: B[1] the even ones
    assert [s["state"] for s in states][-1] == {"A.k": "3", "B[1].n": "2", "B[2].n": "1"}


def test_fifo_initial_contents_philosophers():
    # every fork channel starts holding its token: the initial contents are encoded
    spec = mscheck.load(str(FIX.parents[2] / "specs" / "classic" / "philosophers.ms"),
                        {"N": "7"})
    r = prove_property(spec, "ForkConservation", method="inductive")
    assert (r["status"], r["method"]) == ("proved", "inductive")
    r = prove_property(spec, "NeighboursNeverEatTogether", method="inductive")
    assert r["status"] == "unknown" and r["counterexample"]["kind"] == "cti"
    r = prove_property(spec, "NeighboursNeverEatTogether", using=("ForkConservation",),
                       method="inductive")
    assert r["status"] == "proved"


def test_network_faults_agree_with_checker():
    spec = mscheck.load(str(FIX / "faults.ms"))
    got = {r["property"]: (r["status"], r.get("k")) for r in prove_spec(spec)["results"]}
    assert {p: s for p, (s, _) in got.items()} == {
        "GotAtMostSent": "proved", "InOrder": "proved", "NoDuplicateAcks": "violated",
        "NothingLost": "violated"}
    depths = first_violation_depths(spec)
    assert depths == {"NothingLost": 4, "NoDuplicateAcks": 5}
    assert {p: k for p, (s, k) in got.items() if s == "violated"} == depths
    # the trace is one the checker can replay, fault steps included
    r = prove_property(spec, "NoDuplicateAcks", method="bmc", depth=6, raw=True)
    model = CompiledModel(spec)
    slots = [tuple(s["state"][n] for n in model.slot_names)
             for s in r["counterexample"]["states"]]
    assert slots[0] in model.initial_states()
    for a, b in zip(slots, slots[1:]):
        assert b in [t for _, t in model.successors(a)]
    assert "network.duplicate" in [s.get("action") for s in r["counterexample"]["states"]]


def test_duplicating_channel_breaks_the_naive_consumer():
    spec = mscheck.load(str(FIX.parents[2] / "specs" / "seed" / "order_events_faults.ms"))
    r = prove_property(spec, "NaiveChargesOnce")
    assert (r["status"], r["k"]) == ("violated", 4)
    assert [s.get("action") for s in r["counterexample"]["states"]] == [
        None, "Order.create_order", "network.duplicate", "NaiveBilling.on_OrderCreated",
        "NaiveBilling.on_OrderCreated"]
    assert prove_property(spec, "IdempotentChargesOnce")["status"] == "proved"


def test_crashes_agree_with_checker():
    spec = mscheck.load(str(FIX / "crashes.ms"))
    got = {r["property"]: (r["status"], r.get("k")) for r in prove_spec(spec)["results"]}
    assert got == {"DoneBounded": ("proved", None), "SomeoneIdle": ("proved", None),
                   "NeverLost": ("violated", 3)}
    assert first_violation_depths(spec) == {"NeverLost": 3}
    r = prove_property(spec, "NeverLost", method="bmc", depth=4, raw=True)
    states = r["counterexample"]["states"]
    # a worker takes the job, then crashes and loses it (busy is not durable)
    assert [s.get("action") for s in states][-1] == "Worker.crash"
    model = CompiledModel(spec)
    slots = [tuple(s["state"][n] for n in model.slot_names) for s in states]
    assert slots[0] in model.initial_states()
    for a, b in zip(slots, slots[1:]):
        assert b in [t for _, t in model.successors(a)]
