"""Livelock checks on crashable services, and the command line around them: fault steps
never count as progress, negative counts are usage errors, a closed pipe keeps the verdict's
exit code."""

from __future__ import annotations

from .helpers import check_text, steps_of

CRASH_LOOP = """
system CrashLoop
crashable service W {
  var x: 0..1 = 0
  action work when false { x := 0 }
}
"""


def test_crash_and_restart_are_no_progress_of_the_whole_service():
    for progress in ("progress W", "progress W.work"):
        doc = check_text(CRASH_LOOP + progress + "\n", deadlock=False)
        [v] = doc["violations"]
        assert (doc["verdict"], v["kind"], v["property"]) == ("violation", "livelock",
                                                              "progress")
        assert steps_of(v["trace"]) == [("W", "crash"), ("W", "restart")]
        assert v["loop_start"] == 0


def test_a_service_that_makes_progress_between_crashes_has_no_livelock():
    spec = CRASH_LOOP.replace("when false", "when true")
    doc = check_text(spec + "progress W\nfairness strong W.work\n", deadlock=False)
    assert (doc["verdict"], doc["violations"]) == ("ok", [])
    # weak fairness does not hold the service to its step: a crash disables it each time
    doc = check_text(spec + "progress W\nfairness weak W.work\n", deadlock=False)
    [v] = doc["violations"]
    assert steps_of(v["trace"]) == [("W", "crash"), ("W", "restart")]
