"""Regression tests for engine bugs found while writing the liveness and fault tests."""

from __future__ import annotations


from .helpers import check_text, steps_of


def test_invariant_evaluation_error_keeps_its_trace():
    text = """
system B1
var s: seq of 0..3 max 3 = [1]
service P { action drop when len(s) > 0 { s := tail(s) } }
invariant HeadSmall: head(s) < 3
"""
    doc = check_text(text, engine="scalar")
    (v,) = doc["violations"]
    assert v["property"] == "HeadSmall"
    assert doc["states"] > 0 and len(v["trace"]) == 2


def test_lasso_shows_the_fair_step():
    text = """
system B3
var x: 0..1 = 0
service A { action idle { skip } }
service B { action spin { skip } }
fairness weak B.spin
eventually Never: x == 1
"""
    doc = check_text(text)
    (v,) = doc["violations"]
    assert ("B", "spin") in steps_of(v["trace"])[v["loop_start"]:]


def test_crash_steps_do_not_discharge_fairness_of_a_whole_service():
    """Crash and restart are faults, not steps of the service's own: `fairness strong W`
    is not met by crashing for ever, just as `strong W.work` is not."""
    text = """
system B2
crashable service W {
  durable var done: bool = false
  action work when not done { done := true }
}
fairness FAIR
eventually Done: W.done
"""
    assert check_text(text.replace("FAIR", "strong W"))["verdict"] == "ok"
    assert check_text(text.replace("FAIR", "strong W.work"))["verdict"] == "ok"
    (v,) = check_text(text.replace("FAIR", "weak W"))["violations"]
    assert steps_of(v["trace"]) == [("W", "crash"), ("W", "restart")]
