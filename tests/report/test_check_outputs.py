"""The check document in the machine formats: livelocks keep their own rule code, and fault
steps of a trace are marked."""

from __future__ import annotations

import json

import mscheck
from mscheck.cli import main
from mscheck.engine.check import check_spec
from mscheck.report.junit import to_junit
from mscheck.report.results import REPORT_CODES, VIOLATION_CODES, from_check, rule_summary

from .conftest import REPO

LIVELOCK = """
system Spin
service W {
  var x: 0..1 = 0
  action flip { x := 1 - x }
  action work when false { x := 0 }
}
progress W.work
"""


def _livelock_file(tmp_path):
    path = tmp_path / "spin.ms"
    path.write_text(LIVELOCK)
    return str(path)


def test_livelock_has_its_own_rule_code():
    assert VIOLATION_CODES["livelock"] == "MS407"
    assert rule_summary("MS407") == REPORT_CODES["MS407"]
    assert "progress step" in rule_summary("MS407")
    spec = mscheck.loads(LIVELOCK)
    doc = check_spec(spec)
    [v] = doc["violations"]
    assert (v["kind"], v["property"]) == ("livelock", "progress")
    r = from_check(doc, spec)
    [f] = r.findings
    assert (f.rule, f.name, f.loop_start) == ("MS407", "progress", 0)
    status = {c.name: (c.kind, c.rule, c.status) for c in r.checks}
    assert status["progress"] == ("livelock", "MS407", "failed")
    assert 'type="MS407"' in to_junit([r])


def test_progress_that_holds_is_a_passed_check():
    spec = mscheck.loads(LIVELOCK.replace("when false", "when x == 1")
                         + "fairness strong W.work\n")
    doc = check_spec(spec)
    assert doc["verdict"] == "ok"
    status = {c.name: (c.rule, c.status) for c in from_check(doc, spec).checks}
    assert status["progress"] == ("MS407", "passed")


def test_livelock_in_sarif_and_github(tmp_path, capsys):
    path = _livelock_file(tmp_path)
    assert main(["check", path, "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    [run] = sarif["runs"]
    assert [r["ruleId"] for r in run["results"]] == ["MS407"]
    rules = {r["id"]: r["shortDescription"]["text"] for r in run["tool"]["driver"]["rules"]}
    assert rules["MS407"] == REPORT_CODES["MS407"]
    assert main(["check", path, "--format", "github"]) == 1
    [line] = [x for x in capsys.readouterr().out.splitlines() if x.startswith("::error")]
    assert "title=MS407 progress::livelock: a fair cycle" in line


# ---------------------------------------------------------------- fault steps in traces

SAGA_FAULTS = REPO / "specs" / "seed" / "saga_faults.ms"
TRACE_KEYS = {"step", "actor", "action", "params", "messages", "changes", "state"}


def test_fault_steps_are_marked_in_check_traces():
    doc = check_spec(mscheck.load(str(SAGA_FAULTS)))
    [v] = doc["violations"]
    assert v["kind"] == "liveness"
    assert [(t["actor"], t["action"], t.get("fault")) for t in v["trace"]] == [
        (None, "initial state", None), ("OrderSaga", "run_step", None),
        ("network", "lose", True), ("OrderSaga", "retry", None), ("network", "lose", True),
        ("OrderSaga", "retry", None)]
    for item in v["trace"]:  # the other keys stay as they were
        assert set(item) - {"fault"} == TRACE_KEYS
        assert item.get("fault", True) is True


def test_fault_steps_are_marked_in_simulation_traces():
    from mscheck.engine.compile import CompiledModel
    from mscheck.engine.simulate import replay

    model = CompiledModel(mscheck.load(str(SAGA_FAULTS)))
    runs = [replay(model, 11, k, depth=40)["trace"] for k in range(10)]
    steps = [item for trace in runs for item in trace[1:]]
    faults = [item for item in steps if item.get("fault")]
    assert faults and len(faults) < len(steps)
    for item in steps:
        is_fault = item["actor"] == "network" or item["action"] in ("crash", "restart")
        assert item.get("fault", False) is is_fault
        assert set(item) - {"fault"} == TRACE_KEYS


def test_the_statistics_say_which_engine_ran():
    from mscheck.report.check import render_check

    def engine_line(spec, **kw):
        doc = check_spec(mscheck.load(str(REPO / spec), kw.pop("consts", None)), **kw)
        (line,) = [x for x in render_check(doc).splitlines() if x.startswith("engine")]
        return line[len("engine"):].strip()

    # the packed loop took every level: numpy was not needed
    assert engine_line("specs/seed/saga.ms") == "packed"
    # three levels in the packed loop, then the vector engine
    assert engine_line("specs/classic/philosophers.ms", consts={"N": "9"},
                       keep_going=True) == "vector, after 3 packed levels"
    assert engine_line("specs/classic/philosophers.ms", consts={"N": "9"}, keep_going=True,
                       engine="vector") == "vector"
    assert engine_line("specs/seed/order_inventory.ms") == \
        "scalar (the spec has pi-calculus processes)"
    assert engine_line("specs/seed/saga.ms", engine="scalar") == "scalar"
    assert engine_line("specs/classic/philosophers.ms", consts={"N": "12"}, keep_going=True,
                       workers=2, engine="vector") == "vector, 2 processes"
