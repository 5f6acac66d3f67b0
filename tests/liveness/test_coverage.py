"""``check --coverage``: how often each action and handler was enabled and taken, counted by
hand on tiny specs; dead steps flagged; fault steps apart; a partial search says so."""

from __future__ import annotations

import json

import mscheck
from mscheck.cli import main
from mscheck.engine.check import _coverage
from mscheck.engine.compile import CompiledModel
from mscheck.report.check import render_check

from .helpers import check_text

# States (sent, jobs, got), by hand:
#   s0 (0,[],0) -send-> s1 (1,[J],0) -take-> s2 (1,[],1) -send-> s3 (2,[J],1)
#   s3 -take-> s4 (2,[],1) -call-> s0;  s3 -call-> s5 (0,[J],0) -take-> s6 (0,[],1)
#   s6 -send-> s7 (1,[J],1) -take-> s2
# 8 states, 9 edges (10 transitions with the initial state). send is enabled in s0, s2, s6;
# call in s3, s4 (and runs Consumer.reset inside it, on the sync channel); take in s1, s3,
# s5, s7; dead never.
DEAD = """
system Dead
message Job
channel jobs: fifo(1) of Job
channel rpc: sync of Job
service Producer {
  var sent: 0..2 = 0
  action send when sent < 2 { jobs!Job; sent := sent + 1 }
  action call when sent == 2 { rpc!Job; sent := 0 }
  action dead when sent > 2 { sent := 0 }
}
service Consumer {
  var got: 0..1 = 0
  on take: jobs?Job { got := 1 }
  on reset: rpc?Job { got := 0 }
}
"""


def _entry(enabled: int, taken: int) -> dict:
    return {"enabled_states": enabled, "taken": taken, "never_taken": taken == 0}


WHOLE = {"Producer.send": _entry(3, 3), "Producer.call": _entry(2, 2),
         "Producer.dead": _entry(0, 0), "Consumer.take": _entry(4, 4),
         "Consumer.reset": _entry(2, 2)}


def _table(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("coverage"))
    return [line.rstrip() for line in lines[start:]]


def test_counts_of_a_tiny_spec_with_a_dead_action():
    doc = check_text(DEAD, coverage=True)
    assert (doc["verdict"], doc["states"], doc["transitions"]) == ("ok", 8, 10)
    assert doc["coverage"] == WHOLE
    assert doc["coverage_complete"] is True
    assert "fault_coverage" not in doc
    assert _table(render_check(doc)) == [
        "coverage",
        "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━┓",
        "┃ step                       ┃ enabled in states ┃ taken ┃",
        "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━┩",
        "│ Producer.send              │                 3 │     3 │",
        "│ Producer.call              │                 2 │     2 │",
        "│ Producer.dead  never taken │                 0 │     0 │",
        "│ Consumer.take              │                 4 │     4 │",
        "│ Consumer.reset             │                 2 │     2 │",
        "└────────────────────────────┴───────────────────┴───────┘"]


def test_coverage_through_the_command(tmp_path, capsys):
    path = tmp_path / "dead.ms"
    path.write_text(DEAD)
    assert main(["check", str(path), "--coverage", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["coverage"], doc["coverage_complete"]) == (WHOLE, True)
    assert [n for n, c in doc["coverage"].items() if c["never_taken"]] == ["Producer.dead"]


def test_a_search_stopped_at_a_violation_covers_the_explored_part_only():
    # the invariant fails in s3, found while expanding s2: s0, s1 and s2 were expanded
    spec = DEAD + "invariant NoCall: Producer.sent < 2\n"
    doc = check_text(spec, coverage=True)
    assert doc["verdict"] == "violation" and doc["coverage_complete"] is False
    assert doc["coverage"] == {"Producer.send": _entry(2, 2), "Producer.call": _entry(0, 0),
                               "Producer.dead": _entry(0, 0), "Consumer.take": _entry(1, 1),
                               "Consumer.reset": _entry(0, 0)}
    assert _table(render_check(doc))[0] == (
        "coverage of the explored part only: the search stopped at the first violation")
    doc = check_text(spec, coverage=True, keep_going=True)
    assert (doc["coverage"], doc["coverage_complete"]) == (WHOLE, True)


def test_a_limit_makes_the_coverage_partial():
    from mscheck.engine.search import Limits

    doc = check_text(DEAD, coverage=True, limits=Limits(max_states=3))
    assert doc["verdict"] == "inconclusive" and doc["coverage_complete"] is False
    assert _table(render_check(doc))[0] == (
        f"coverage of the explored part only: {doc['reason']}")


CRASHY = """
system Crashy
crashable service W {
  var x: 0..2 = 0
  action step when x < 2 { x := x + 1 }
  action never when x > 5 { x := 0 }
}
"""


def test_fault_steps_are_counted_apart():
    # up with x = 0, 1, 2 (crash from each), and down (restart, to x = 0)
    doc = check_text(CRASHY, coverage=True, deadlock=False)
    assert doc["states"] == 4
    assert doc["coverage"] == {"W.step": _entry(2, 2), "W.never": _entry(0, 0)}
    assert doc["fault_coverage"] == {"W.crash": _entry(3, 3), "W.restart": _entry(1, 1)}
    assert _table(render_check(doc))[-3:] == [
        "│ W.crash (fault)      │                 3 │     3 │",
        "│ W.restart (fault)    │                 1 │     1 │",
        "└──────────────────────┴───────────────────┴───────┘"]


def test_a_user_step_and_a_fault_step_of_one_name_are_never_mixed():
    # a step named like a fault step (crashable services may not declare one: MS221), and a
    # graph where the fault step of that name was taken and the user's step never was
    spec = mscheck.loads("""
system Named
service W {
  var x: 0..1 = 0
  action crash when x > 1 { x := 0 }
  action go when x == 0 { x := 1 }
}
""")
    graph = {"states": [(0,), (1,)], "succ": [[(1, 0), (0, 1)], []],
             "steps": {0: ("W", "go", "step"), 1: ("W", "crash", "fault")}}
    user, faults = _coverage(spec, CompiledModel(spec), graph)
    assert user == {"W.crash": _entry(0, 0), "W.go": _entry(1, 1)}
    assert faults == {"W.crash": _entry(1, 1)}
