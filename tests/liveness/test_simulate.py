"""Random simulation: reproducible from the seed, finds violations, never says 'ok'."""

from __future__ import annotations

import json

import mscheck
import pytest
from mscheck.engine.compile import CompiledModel, Unsupported
from mscheck.engine.simulate import replay, run_once, simulate

from .helpers import SPECS, raw_path

DEEP_BUG = """
system Deep
service Counter {
  var n: 0..20 = 0
  var m: 0..20 = 0
  action inc when n < 20 { n := n + 1 }
  action other when m < 20 { m := m + 1 }
  action reset { n := 0 }
}
invariant Small: Counter.n < 6
"""


def _model(text: str, **kw) -> CompiledModel:
    return CompiledModel(mscheck.loads(text), **kw)


def test_same_seed_same_trace():
    model = CompiledModel(mscheck.load(str(SPECS / "seed/saga_faults.ms")))
    a = simulate(model, runs=20, depth=40, seed=11)
    b = simulate(CompiledModel(mscheck.load(str(SPECS / "seed/saga_faults.ms"))),
                 runs=20, depth=40, seed=11)
    for doc in (a, b):
        doc.pop("seconds")
    assert a == b
    r1 = replay(model, 11, 7, depth=40)
    r2 = replay(model, 11, 7, depth=40)
    assert r1["trace"] == r2["trace"] and r1["steps"] > 0
    other = [replay(model, s, 7, depth=40)["trace"] for s in range(12, 16)]
    assert any(t != r1["trace"] for t in other)      # the seed matters


def test_finds_a_violation_and_replay_reproduces_it():
    model = _model(DEEP_BUG)
    doc = simulate(model, runs=200, depth=60, seed=3)
    assert doc["command"] == "simulate" and doc["version"] == 1
    assert doc["verdict"] == "violation"
    (v,) = doc["violations"]
    assert (v["kind"], v["property"]) == ("invariant", "Small")
    assert v["trace"][-1]["state"]["Counter.n"] == "6"
    assert v["trace"][0]["action"] == "initial state"
    raw_path(model, v["trace"])                       # a real path of the model
    again = replay(model, 3, v["run"], depth=60)
    assert again["violations"][0]["trace"] == v["trace"]
    assert doc["runs"] == v["run"] + 1


def test_nothing_found_is_inconclusive_never_ok():
    model = CompiledModel(mscheck.load(str(SPECS / "classic/alternating_bit.ms")))
    doc = simulate(model, runs=30, depth=50, seed=1)
    assert doc["verdict"] == "inconclusive" and doc["violations"] == []
    assert doc["runs"] == 30 and 0 < doc["steps"] <= 30 * 50
    assert "proves nothing" in doc["reason"]
    assert "AllSent" in doc["witnessed"]


def test_weights_steer_the_runs():
    model = _model(DEEP_BUG)
    # without 'inc' the bug cannot show; with 'reset' and 'other' switched off it shows fast
    doc = simulate(model, runs=50, depth=60, seed=5, weights={"Counter.inc": 0})
    assert doc["verdict"] == "inconclusive"
    doc = simulate(model, runs=1, depth=60, seed=5,
                   weights={"Counter.reset": 0, "Counter.other": 0})
    assert doc["verdict"] == "violation" and len(doc["violations"][0]["trace"]) == 7
    with pytest.raises(ValueError):
        simulate(model, 1, 5, 0, weights={"Counter.nope": 1})
    with pytest.raises(ValueError):
        simulate(model, 1, 5, 0, weights={"Counter.inc": -1})


def test_weights_on_fault_steps():
    model = CompiledModel(mscheck.load(str(SPECS / "seed/order_events_faults.ms")))
    doc = simulate(model, runs=50, depth=30, seed=2, weights={"network.duplicate": 0})
    assert doc["verdict"] == "inconclusive"
    doc = simulate(model, runs=50, depth=30, seed=2, weights={"network.duplicate": 20})
    (v,) = doc["violations"]
    assert v["property"] == "NaiveChargesOnce"
    assert any(t["actor"] == "network" and t["action"] == "duplicate" for t in v["trace"])


def test_step_errors_and_deadlocks_are_violations():
    model = _model("""
system Boom
service S {
  var n: 0..3 = 0
  action inc { n := n + 1 }
}
""")
    doc = simulate(model, runs=5, depth=10, seed=0)
    (v,) = doc["violations"]
    assert v["kind"] == "range" and v["failing_step"]["action"] == "inc"
    assert len(v["trace"]) == 4                      # the state before the failing step
    model = CompiledModel(mscheck.load(str(SPECS / "classic/philosophers.ms")))
    doc = simulate(model, runs=50, depth=50, seed=0)
    assert doc["violations"][0]["kind"] == "deadlock"
    doc = simulate(model, runs=5, depth=50, seed=0, deadlock=False)
    assert doc["verdict"] == "inconclusive"


def test_properties_selects_the_invariants():
    model = CompiledModel(mscheck.load(str(SPECS / "seed/order_events_faults.ms")))
    doc = simulate(model, runs=100, depth=30, seed=4, properties=["IdempotentChargesOnce"])
    assert doc["verdict"] == "inconclusive"
    with pytest.raises(Unsupported):
        simulate(model, 1, 1, 0, properties=["NoSuchThing"])


def test_a_run_ends_in_a_valid_end_state():
    model = CompiledModel(mscheck.load(str(SPECS / "seed/saga.ms")))
    r = run_once(model, 0, 0, 1000)
    assert r.violation is None and r.ended == "end"
    assert model.is_valid_end(r.trace[-1].state)


def test_zero_runs():
    model = _model(DEEP_BUG)
    doc = simulate(model, runs=0, depth=10, seed=0)
    assert (doc["verdict"], doc["runs"], doc["steps"]) == ("inconclusive", 0, 0)


# ---------------------------------------------------------------- the command

def _simulate(capsys, tmp_path, *args: str, text: str = DEEP_BUG) -> tuple[int, str, str]:
    path = tmp_path / "spec.ms"
    path.write_text(text)
    from mscheck.cli import main

    code = main(["simulate", str(path), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_seeded_run_finds_the_violation_the_same_way_twice(tmp_path, capsys):
    args = ("--runs", "200", "--depth", "60", "--seed", "3", "--format", "json")
    code, out, err = _simulate(capsys, tmp_path, *args)
    assert (code, err) == (1, "")
    doc = json.loads(out)
    assert (doc["verdict"], doc["runs"], doc["steps"], doc["seed"]) == ("violation", 2, 79, 3)
    [v] = doc["violations"]
    assert (v["kind"], v["property"], v["run"], len(v["trace"])) == ("invariant", "Small", 1,
                                                                    20)
    assert v["trace"][-1]["changes"] == {"Counter.n": "6"}
    code2, out2, _ = _simulate(capsys, tmp_path, *args)
    again = json.loads(out2)
    doc.pop("seconds")
    again.pop("seconds")
    assert (code2, again) == (1, doc)
    code, text, _ = _simulate(capsys, tmp_path, *args[:-2])
    assert code == 1
    assert text.splitlines()[0] == "Deep: VIOLATION"
    assert "  trace (19 steps):" in text.splitlines()


def test_cli_weights_steer_the_run(tmp_path, capsys):
    code, out, _ = _simulate(capsys, tmp_path, "--runs", "5", "--depth", "20", "--seed", "1",
                             "--weight", "Counter.inc=5", "--weight", "Counter.reset=0",
                             "--format", "json")
    doc = json.loads(out)
    assert (code, doc["runs"], doc["steps"]) == (1, 1, 7)
    [v] = doc["violations"]
    assert [t["action"] for t in v["trace"][1:]].count("inc") == 6
    assert "reset" not in [t["action"] for t in v["trace"]]


def test_cli_nothing_found_exits_3(tmp_path, capsys):
    code, out, err = _simulate(capsys, tmp_path, "--runs", "100", "--depth", "5",
                               "--format", "json")
    doc = json.loads(out)
    assert (code, err, doc["verdict"], doc["runs"], doc["steps"]) == (3, "", "inconclusive",
                                                                      100, 500)
    assert doc["reason"] == ("100 random runs of at most 5 steps found no violation; "
                             "a simulation proves nothing")
    assert doc["violations"] == [] and doc["run_ends"]["depth"] == 100


@pytest.mark.parametrize("args,message", [
    (("--weight", "Counter.nope=1"), "mscheck: error: weight for Counter.nope: no step of the "
     "model has that name; the steps are Counter.inc, Counter.other, Counter.reset"),
    (("--weight", "Counter.inc=x"), "mscheck: error: --weight Counter.inc=x: write "
     "Service.step=WEIGHT"),
    (("--weight", "Counter.inc=-1"), "mscheck: error: the weight of Counter.inc must be a "
     "number >= 0, not -1.0"),
    (("--property", "Nope"), "mscheck: error: no invariant or reachable property named Nope; "
     "the spec has Small"),
])
def test_cli_bad_arguments_exit_2(tmp_path, capsys, args, message):
    code, out, err = _simulate(capsys, tmp_path, *args)
    assert (code, out, err) == (2, "", message + "\n")


def test_cli_bad_counts_exit_2(tmp_path, capsys):
    for option in ("--runs", "--depth", "--max-faults"):
        with pytest.raises(SystemExit) as info:
            _simulate(capsys, tmp_path, option, "-2")
        assert info.value.code == 2
        assert capsys.readouterr().err.splitlines()[-1] == (
            f"mscheck: error: argument {option}: must be >= 0, not -2")
