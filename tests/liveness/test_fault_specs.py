"""The fault variants of the seed specs: the verdicts their comments state."""

from __future__ import annotations

import mscheck
import pytest
from mscheck.engine.check import check_spec

from .helpers import SPECS, kinds, steps_of

ORDERS = SPECS / "seed/order_events_faults.ms"
SAGA = SPECS / "seed/saga_faults.ms"
SAGA_SAFETY = ["AllOrNothing", "CompensateInReverse", "AbortedShape", "StepsRunInOrder"]


# ---------------------------------------------------------------- order events


def test_duplicates_make_the_naive_consumer_double_charge():
    doc = check_spec(mscheck.load(str(ORDERS)), keep_going=True)
    assert (doc["states"], doc["transitions"]) == (174, 409)
    found = {p for _, p in kinds(doc)}
    assert "NaiveChargesOnce" in found
    assert not found & {"IdempotentChargesOnce", "IdempotentChargesAll", "Duplicated",
                        "deadlock_free"}
    first = next(v for v in doc["violations"] if v["property"] == "NaiveChargesOnce")
    assert steps_of(first["trace"]) == [("Order", "create_order"), ("network", "duplicate"),
                                        ("NaiveBilling", "on_OrderCreated"),
                                        ("NaiveBilling", "on_OrderCreated")]


def test_without_faults_both_consumers_charge_once():
    doc = check_spec(mscheck.load(str(ORDERS)), keep_going=True, faults=False)
    assert doc["states"] == 14
    assert kinds(doc) == {("unreachable", "Duplicated"): 1}


def _full(state: dict, queue: str) -> bool:
    return state[queue].count("OrderCreated") == 2


def test_unbounded_duplication_starves_the_publisher():
    doc = check_spec(mscheck.load(str(ORDERS)), properties=["Billed"])
    (v,) = doc["violations"]
    assert v["kind"] == "liveness"
    cycle = v["trace"][v["loop_start"]:]
    assert ("network", "duplicate") in {(t["actor"], t["action"]) for t in cycle}
    # weak fairness: the publish is disabled (a queue is full) somewhere in the cycle
    assert any(_full(t["state"], "naive_queue") or _full(t["state"], "idempotent_queue")
               for t in cycle)
    # strong fairness: the lasso keeps one queue full in every state, so the publish is
    # never enabled in the cycle
    text = ORDERS.read_text().replace("fairness weak Order,", "fairness strong Order,")
    doc = check_spec(mscheck.loads(text), properties=["Billed"])
    (v,) = doc["violations"]
    cycle = v["trace"][v["loop_start"]:]
    assert all(_full(t["state"], "naive_queue") or _full(t["state"], "idempotent_queue")
               for t in cycle)


def test_bounded_duplication_bills_everything():
    doc = check_spec(mscheck.load(str(ORDERS)), properties=["Billed"], max_faults=3)
    assert (doc["verdict"], doc["states"]) == ("ok", 275)


# ---------------------------------------------------------------- saga


def test_saga_safety_holds_under_loss_crashes_and_retries():
    doc = check_spec(mscheck.load(str(SAGA)), keep_going=True)
    assert (doc["states"], doc["transitions"]) == (728, 3963)
    assert kinds(doc) == {("liveness", "Ends"): 1}        # unbounded faults: see below


@pytest.mark.parametrize("kw, states", [({"max_faults": 2}, 1232), ({"faults": False}, 126)])
def test_saga_ends_with_retries_and_bounded_faults(kw, states):
    doc = check_spec(mscheck.load(str(SAGA)), keep_going=True, **kw)
    assert (doc["verdict"], doc["states"]) == ("ok", states)


def test_saga_with_unbounded_faults_may_never_end():
    doc = check_spec(mscheck.load(str(SAGA)), properties=["Ends"])
    (v,) = doc["violations"]
    cycle = {t["actor"] for t in v["trace"][v["loop_start"] + 1:]}
    assert "network" in cycle or any(a.startswith("Participant[") for a in cycle)


def test_without_retry_one_lost_message_is_a_deadlock():
    spec = mscheck.load(str(SAGA), {"RETRY": "false"})
    assert check_spec(spec, faults=False)["verdict"] == "ok"
    doc = check_spec(spec, max_faults=1)
    (v,) = doc["violations"]
    assert v["kind"] == "deadlock"
    assert ("network", "lose") in steps_of(v["trace"])
    assert v["trace"][-1]["state"]["OrderSaga.waiting"] == "true"


def test_without_compensation_all_or_nothing_fails_even_without_faults():
    spec = mscheck.load(str(SAGA), {"COMPENSATE": "false"})
    doc = check_spec(spec, faults=False, properties=["AllOrNothing"])
    (v,) = doc["violations"]
    assert v["property"] == "AllOrNothing"
    assert v["trace"][-1]["state"]["OrderSaga.phase"] == "aborted"


def test_without_a_durable_store_a_crash_breaks_all_or_nothing():
    text = SAGA.read_text()
    assert "durable var state" in text
    spec = mscheck.loads(text.replace("durable var state", "var state"))
    assert check_spec(spec, faults=False, properties=SAGA_SAFETY)["verdict"] == "ok"
    doc = check_spec(spec, properties=["AllOrNothing"])
    (v,) = doc["violations"]
    actions = steps_of(v["trace"])
    assert any(a == "crash" for _, a in actions)


# ---------------------------------------------------------------- circuit breaker

BREAKER = SPECS / "seed/circuit_breaker_faults.ms"
STRONG = "fairness strong Gateway.answer, strong Checkout.accept"
WEAK = "fairness weak Gateway.answer, weak Checkout.accept"


def test_breaker_recloses_under_strong_fairness_only():
    text = BREAKER.read_text()
    assert STRONG in text
    doc = check_spec(mscheck.loads(text, "cbf.ms"), properties=["Recloses"])
    assert (doc["verdict"], doc["states"]) == ("ok", 660)
    doc = check_spec(mscheck.loads(text, "cbf.ms"), properties=["Recloses"], faults=False)
    assert (doc["verdict"], doc["states"]) == ("ok", 516)
    weak = check_spec(mscheck.loads(text.replace(STRONG, WEAK), "cbf.ms"),
                      properties=["Recloses"])
    (v,) = weak["violations"]
    # the timeout always beats the probe's answer: a lasso of 9 steps, the last 5 a cycle
    assert (v["property"], len(v["trace"]) - 1, v["loop_start"]) == ("Recloses", 9, 4)


def test_naive_breaker_counts_a_late_reply():
    spec = mscheck.load(str(BREAKER), {"CHECK_IDS": "false"})
    doc = check_spec(spec, properties=["CountsOnlyOwnReplies"])
    (v,) = doc["violations"]
    # (the vector engine reports at the end of the level where the violation shows)
    assert (doc["engine"], doc["states"], v["property"], len(v["trace"]) - 1) == (
        "vector", 27, "CountsOnlyOwnReplies", 5)


# ---------------------------------------------------------------- the base specs' pointers


def test_saga_comment_figures():
    """The figures specs/seed/saga.ms quotes for its fault variant."""
    assert "mscheck check specs/seed/saga_faults.ms --max-faults 2" in (
        SPECS / "seed/saga.ms").read_text()
    doc = check_spec(mscheck.load(str(SAGA)), properties=["Ends"])
    (v,) = doc["violations"]
    assert (doc["engine"], doc["states"], len(v["trace"]) - 1, v["loop_start"]) == (
        "vector", 728, 5, 1)
    assert steps_of(v["trace"]) == [("OrderSaga", "run_step")] + [
        ("network", "lose"), ("OrderSaga", "retry")] * 2
    doc = check_spec(mscheck.load(str(SAGA), {"RETRY": "false"}), max_faults=1)
    (v,) = doc["violations"]
    assert (v["kind"], len(v["trace"]) - 1) == ("deadlock", 2)
    doc = check_spec(mscheck.load(str(SAGA), {"COMPENSATE": "false"}), faults=False)
    (v,) = doc["violations"]
    assert (v["property"], len(v["trace"]) - 1) == ("AllOrNothing", 6)


def test_order_events_comment_figures():
    """The figures specs/seed/order_events.ms quotes for its fault variant."""
    assert "mscheck check specs/seed/order_events_faults.ms --continue" in (
        SPECS / "seed/order_events.ms").read_text()
    doc = check_spec(mscheck.load(str(ORDERS)))
    (v,) = doc["violations"]
    assert (v["property"], len(v["trace"]) - 1) == ("NaiveChargesOnce", 4)
    doc = check_spec(mscheck.load(str(ORDERS)), keep_going=True, max_faults=3)
    assert (doc["states"], set(kinds(doc))) == (275, {("invariant", "NaiveChargesOnce")})
