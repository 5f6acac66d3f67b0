"""With fingerprints the scalar engine keeps 64-bit fingerprints instead of states: the same
counts, verdicts and traces (rebuilt by replaying steps) as the exact search."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import mscheck
from mscheck.engine.check import check_spec
from mscheck.engine.compile import CompiledModel
from mscheck.engine.packed import PackedModel, packed_search
from mscheck.engine.search import Limits, search

from .gen import specs

SPECS = Path(__file__).resolve().parents[2] / "specs"


def _summary(r):
    return (r.verdict, r.states, r.transitions, r.depth,
            [(v.kind, v.property) for v in r.violations],
            [[(t.step.actor if t.step else None, t.state) for t in tr] for tr in r.traces])


@pytest.mark.parametrize("name, props", [
    ("classic/philosophers.ms", None), ("classic/two_phase.ms", None),
    ("classic/tcommit.ms", None), ("seed/load_balancer.ms", None),
    ("seed/order_events_faults.ms", ["NaiveChargesOnce", "IdempotentChargesOnce"]),
    ("seed/order_inventory.ms", ["StockNeverNegative", "NoOversell"]),  # processes
])
@pytest.mark.parametrize("strategy", ["bfs", "dfs"])
def test_same_results_as_exact_search(name, props, strategy):
    model = CompiledModel(mscheck.load(str(SPECS / name)))
    kw = dict(strategy=strategy, keep_going=True, properties=props)
    exact, fp = search(model, **kw), search(model, fingerprints=True, **kw)
    assert _summary(fp) == _summary(exact)
    assert exact.collision_probability is None
    # TLC's optimistic estimate: states * (transitions - states) / 2**64
    assert fp.collision_probability == fp.states * (fp.transitions - fp.states) / 2 ** 64


def test_philosophers_deadlock_trace_is_replayed():
    spec = mscheck.load(str(SPECS / "classic/philosophers.ms"))
    doc = check_spec(spec, engine="scalar", fingerprints=True)
    (v,) = doc["violations"]
    assert v["kind"] == "deadlock"
    assert [t["action"] for t in v["trace"][1:]] == ["take_left"] * 5
    n = doc["states"]
    assert doc["collision_probability"] == n * (doc["transitions"] - n) / 2 ** 64 > 0
    # the packed engines store exact states: fingerprints are not used, and say so
    doc = check_spec(spec, fingerprints=True)
    assert "collision_probability" not in doc
    assert doc["fingerprints_note"] == "fingerprints not used: the packed states are exact"


def test_limits_stop_a_fingerprint_search_as_inconclusive():
    model = CompiledModel(mscheck.load(str(SPECS / "classic/two_phase.ms")))
    r = search(model, fingerprints=True, limits=Limits(max_states=100))
    exact = search(model, limits=Limits(max_states=100))
    packed = packed_search(PackedModel(model), limits=Limits(max_states=100))
    # the limit is checked between levels (and every CHECK_EVERY states of a level), as in
    # the exact search and the packed engine: 117 states once level 4 is found
    assert ((r.verdict, r.states, r.transitions) == (exact.verdict, exact.states,
                                                     exact.transitions)
            == (packed.verdict, packed.states, packed.transitions) == ("inconclusive", 117, 334))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_generated_specs(text):
    try:
        spec = mscheck.loads(text, "gen.ms")
    except mscheck.SpecError:
        return
    model = CompiledModel(spec)
    exact = search(model, keep_going=True, limits=Limits(max_states=3000))
    fp = search(model, keep_going=True, fingerprints=True, limits=Limits(max_states=3000))
    assert _summary(fp) == _summary(exact)
