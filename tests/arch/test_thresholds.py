"""Every smell threshold is honoured: changing it alone flips its smell on or off."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import mscheck
from mscheck.arch.graph import build_graph
from mscheck.arch.smells import DEFAULT_THRESHOLDS, SMELL_CODES, detect_smells, validate_thresholds

# a, b, c call each other in a cycle across contexts A and B; db (b's) is written by b and
# c and read by a; d has one component and one relation; gw_x is the only entry.
SMELLY = '''system Smelly
context A { service a { component X } service gw_x }
context B { service b { component Y } service c { component Z } service d { component W } }
datastore db owned_by b
a calls b
b calls c
c calls a
c calls d
b writes db
c writes db
a reads db
'''

# h has callers a, b, c and callees x, y, z; a, b, c are entries with no gateway;
# p -> q -> r -> s -> t is a chain of four calls.
HUB = '''system Hub
service a { component A1, A2 }
service b { component B1, B2 }
service c { component C1, C2 }
service h { component H1, H2 }
service x { component X1, X2 }
service y { component Y1, Y2 }
service z { component Z1, Z2 }
a calls h
b calls h
c calls h
h calls x, y, z
x calls y
y calls z
'''

_GRAPHS = {}


def _graph(text):
    if text not in _GRAPHS:
        _GRAPHS[text] = build_graph(mscheck.loads(text, "t.ms"))
    return _GRAPHS[text]


def _found(text, thresholds=None):
    return {(s.code, s.severity, s.services) for s in detect_smells(_graph(text), thresholds)}


# (threshold, new value, spec, the smell (code, severity, services), present by default?)
FLIPS = [
    ("cycle_min", 4, SMELLY, ("MS310", "high", ("a", "b", "c")), True),
    ("shared_persistence_min", 4, SMELLY, ("MS311", "high", ("a", "b", "c")), True),
    ("shared_writers_high", 3, SMELLY, ("MS311", "medium", ("a", "b", "c")), False),
    ("intimacy_min", 3, SMELLY, ("MS312", "medium", ("a", "b")), True),
    ("hub_in", 4, HUB, ("MS313", "medium", ("h",)), True),
    ("hub_out", 4, HUB, ("MS313", "medium", ("h",)), True),
    ("greedy_out", 3, HUB, ("MS314", "low", ("h",)), False),
    ("max_chain", 4, HUB, ("MS315", "medium", ("a", "h", "x", "y", "z")), True),
    ("nano_components", 0, SMELLY, ("MS316", "low", ("d",)), True),
    ("nano_relations", 0, SMELLY, ("MS316", "low", ("d",)), True),
    ("monolith_contexts", 3, SMELLY, ("MS317", "high", ("a", "b", "c")), True),
    ("gateway_entries", 4, HUB, ("MS318", "medium", ("a", "b", "c")), True),
]


@pytest.mark.parametrize("key,value,text,smell,default", FLIPS, ids=[f[0] for f in FLIPS])
def test_threshold_flips_its_smell(key, value, text, smell, default):
    assert (smell in _found(text)) is default
    assert (smell in _found(text, {key: value})) is not default
    # only that smell changes
    before, after = _found(text), _found(text, {key: value})
    assert {s[0] for s in before ^ after} == {smell[0]}


def test_every_threshold_and_every_smell_is_covered():
    assert {f[0] for f in FLIPS} == set(DEFAULT_THRESHOLDS)
    assert {f[3][0] for f in FLIPS} == set(SMELL_CODES)


def test_thresholds_can_turn_smells_on():
    # the reverse direction: a lower threshold makes a clean service smell
    assert ("MS313", "medium", ("x",)) in _found(HUB, {"hub_in": 1, "hub_out": 1})
    assert ("MS314", "low", ("x",)) in _found(HUB, {"greedy_out": 1})
    assert ("MS316", "low", ("x",)) in _found(HUB, {"nano_components": 2,
                                                    "nano_relations": 3})
    assert ("MS318", "medium", ("gw_x",)) not in _found(SMELLY, {"gateway_entries": 1})
    assert ("MS310", "high", ("a", "b", "c")) in _found(SMELLY, {"cycle_min": 3})


def test_defaults_and_validation():
    assert DEFAULT_THRESHOLDS == {
        "cycle_min": 2, "shared_persistence_min": 2, "shared_writers_high": 2,
        "intimacy_min": 1, "hub_in": 3, "hub_out": 3, "greedy_out": 6, "max_chain": 3,
        "nano_components": 1, "nano_relations": 1, "monolith_contexts": 2,
        "gateway_entries": 3}
    assert validate_thresholds({"max-chain": 7})["max_chain"] == 7
    assert _found(HUB, {"max-chain": 4}) == _found(HUB, {"max_chain": 4})
    g = _graph(HUB)
    for bad in ({"nope": 1}, {"hub_in": -1}, {"hub_in": 1.5}, {"hub_in": True},
                {"hub_in": "3"}):
        with pytest.raises(ValueError):
            detect_smells(g, bad)
    assert detect_smells(g, {}) == detect_smells(g, None) == detect_smells(g)


def test_zero_thresholds_do_not_crash():
    zeros = dict.fromkeys(DEFAULT_THRESHOLDS, 0)
    for text in (SMELLY, HUB, "system E\nservice only\n"):
        detect_smells(_graph(text), zeros)
    assert detect_smells(build_graph(mscheck.loads("system E\n", "e.ms")), zeros) == []


def test_large_generated_system_is_fast_and_consistent():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    try:
        from metrics import generate
    finally:
        sys.path.pop(0)
    g = build_graph(mscheck.loads(generate(300, 2500, 10, cycles=3), "big.ms"))
    from mscheck.arch import metrics as M

    s = M.system_metrics(g)
    assert (s["N"], s["cycles"]) == (300, 3)
    assert s["longest_chain"] == len(M.longest_chain(g)) - 1 > 3
    codes = {x.code for x in detect_smells(g)}
    assert {"MS310", "MS315"} <= codes
