"""An assignment outside its variable's type is a range error, named the same way by every
engine: an atom outside its enumeration, a set with such an atom, a number out of range."""

from __future__ import annotations

import pytest

import mscheck
from mscheck.engine.check import check_spec

SPEC = """
type Color = {red, green, blue}
type Warm = {red, green}
service S {
  var c: Warm = red
  var cs: set of Warm = {}
  var n: 0..2 = 0
  action paint(x in Color) when x != red and WHICH == 1 { cs := cs union {x} }
  action pick(x in Color) when WHICH == 2 { c := x }
  action count when WHICH == 3 { n := n + 1 }
}
"""

EXPECTED = {
    1: (("paint", {"x": "blue"}), 1, "S.cs := {blue}: blue is not a value of Warm"),
    2: (("pick", {"x": "blue"}), 1, "S.c := blue: blue is not a value of Warm"),
    3: (("count", {}), 3, "S.n := 3: 3 is outside 0..2"),
}


@pytest.mark.parametrize("engine", ["scalar", "packed", "vector"])
@pytest.mark.parametrize("which", sorted(EXPECTED))
def test_range_errors(engine, which):
    spec = mscheck.loads("const WHICH = 1\n" + SPEC, "ranges.ms", {"WHICH": str(which)})
    doc = check_spec(spec, engine=engine, deadlock=False)
    step, states, message = EXPECTED[which]
    (v,) = doc["violations"]
    assert (doc["verdict"], doc["states"], v["message"]) == ("violation", states, message)
    failing = v["failing_step"]
    assert (failing["actor"], failing["action"], failing["params"]) == ("S",) + step
