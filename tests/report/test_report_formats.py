"""The result model and the machine formats: SARIF, JUnit, GitHub annotations, Mermaid."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mscheck.diagnostics import CODES, Diagnostic, Span
from mscheck.report.github import escape_data, escape_property, to_github
from mscheck.report.junit import to_junit
from mscheck.report.mermaid import trace_chart, trace_to_mermaid
from mscheck.report.results import (REPORT_CODES, VIOLATION_CODES, from_check,
                                    from_diagnostics, from_metrics, from_prove, rule_summary)
from mscheck.report.sarif import to_sarif

from .conftest import REPO

SCHEMA = Path("/work/shared/schemas/sarif-schema-2.1.0.json")


# ---------------------------------------------------------------- the result model

def test_rule_codes_are_distinct_and_documented():
    assert not set(REPORT_CODES) & set(CODES)
    assert set(VIOLATION_CODES.values()) <= set(REPORT_CODES)
    doc = (REPO / "docs" / "json-schema.md").read_text()
    for code in list(REPORT_CODES) + ["MS310", "MS200"]:
        assert code in doc
        assert rule_summary(code) != code


def test_from_check_deadlock(philosophers):
    spec, doc = philosophers
    r = from_check(doc, spec)
    assert r.verdict == "violation" and r.system == "DiningPhilosophers"
    [f] = r.findings
    assert (f.rule, f.level, f.kind, f.name) == ("MS400", "error", "violation", "deadlock_free")
    # the document has no location for a deadlock: the deadlock_free line stands in
    assert f.span.line == spec.source.splitlines().index("deadlock_free") + 1
    assert len(f.trace) == 6 and all(s is not None for s in f.step_spans[1:])
    status = {c.name: c.status for c in r.checks}
    assert status["deadlock_free"] == "failed"
    assert status["ForkConservation"] == "skipped"  # the search stopped at the deadlock


def test_from_check_kinds(shop, live, asserting):
    r = from_check(shop[1], shop[0])
    assert [(f.rule, f.name) for f in r.findings] == [("MS401", "FewAcks")]
    assert r.findings[0].span.line == 20
    r = from_check(live[1], live[0], deadlock=False)
    [f] = r.findings
    assert f.rule == "MS406" and f.loop_start == 0
    assert {c.name: c.status for c in r.checks}["Done"] == "failed"
    assert "deadlock_free" not in {c.name for c in r.checks}
    r = from_check(asserting[1], asserting[0])
    [f] = r.findings
    assert f.rule == "MS402" and f.extra["failing_step"]["action"] == "inc"


def test_from_check_ok_lists_every_property_passed():
    import mscheck
    from mscheck.engine.check import check_spec

    spec = mscheck.load(str(REPO / "specs" / "classic" / "two_phase.ms"))
    r = from_check(check_spec(spec), spec)
    assert r.verdict == "ok" and not r.findings
    assert r.checks and all(c.status == "passed" for c in r.checks)


def test_from_prove(breaker_cti, counter_bmc):
    r = from_prove(breaker_cti[1], breaker_cti[0])
    [f] = r.findings
    assert (f.rule, f.level) == ("MS411", "warning") and r.verdict == "inconclusive"
    assert f.span is not None and f.extra["result"]["counterexample"]["kind"] == "cti"
    r = from_prove(counter_bmc[1], counter_bmc[0])
    [f] = r.findings
    assert (f.rule, f.level) == ("MS410", "error") and r.verdict == "violation"
    assert [s["actor"] for s in f.trace] == [None, "S", "S"]
    assert f.step_spans[1].line == 4


def test_from_metrics(boutique):
    spec, doc = boutique
    r = from_metrics(doc, spec)
    assert len(r.findings) == len(doc["smells"]) > 0
    assert {f.rule for f in r.findings} <= {c for c in CODES if c.startswith("MS31")}
    assert all(f.level == "note" for f in r.findings if f.extra["severity"] == "low")
    assert len(r.checks) == sum(1 for c in CODES if c.startswith("MS31"))


def test_from_diagnostics():
    d = [Diagnostic("MS200", "undefined name 'x'", Span("a.ms", 3, 5, 3, 6)),
         Diagnostic("MS301", "edge", Span("a.ms", 4, 1), severity="warning")]
    r = from_diagnostics(d, "a.ms")
    assert r.verdict == "error" and [f.level for f in r.findings] == ["error", "warning"]
    assert from_diagnostics([], "a.ms").verdict == "ok"


def test_fingerprints_do_not_depend_on_lines_or_directories(shop):
    spec, doc = shop
    a = from_check(doc, spec).findings[0]
    moved = json.loads(json.dumps(doc))
    moved["violations"][0]["location"].update(line=99, file="/elsewhere/shop.ms")
    b = from_check(moved, spec).findings[0]
    assert a.fingerprint() == b.fingerprint()


# ---------------------------------------------------------------- SARIF

def _all_results(philosophers, shop, live, asserting, breaker_cti, counter_bmc, boutique):
    return [from_check(philosophers[1], philosophers[0]), from_check(shop[1], shop[0]),
            from_check(live[1], live[0]), from_check(asserting[1], asserting[0]),
            from_prove(breaker_cti[1], breaker_cti[0]),
            from_prove(counter_bmc[1], counter_bmc[0]), from_metrics(boutique[1], boutique[0]),
            from_diagnostics([Diagnostic("MS200", "undefined name 'x'",
                                         Span("specs/x.ms", 1, 2, 1, 3))], "specs/x.ms")]


@pytest.fixture
def everything(philosophers, shop, live, asserting, breaker_cti, counter_bmc, boutique):
    return _all_results(philosophers, shop, live, asserting, breaker_cti, counter_bmc, boutique)


def test_sarif_validates_against_the_schema(everything, monkeypatch):
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA.exists():
        pytest.skip("SARIF schema not available")
    monkeypatch.chdir(REPO)
    log = to_sarif(everything)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    json.dumps(log)  # JSON-ready


def test_sarif_content(everything, monkeypatch):
    monkeypatch.chdir(REPO)
    log = to_sarif(everything)
    [run] = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert ids == sorted(set(ids)) and {"MS400", "MS401", "MS402", "MS406", "MS410",
                                         "MS411", "MS200"} <= set(ids)
    assert all(r["shortDescription"]["text"] == rule_summary(r["id"]) for r in rules)
    results = run["results"]
    assert all(ids[r["ruleIndex"]] == r["ruleId"] for r in results)
    dead = next(r for r in results if r["ruleId"] == "MS400")
    loc = dead["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "specs/classic/philosophers.ms",
                                       "uriBaseId": "%SRCROOT%"}
    assert loc["region"]["startLine"] > 1
    [flow] = dead["codeFlows"]
    steps = flow["threadFlows"][0]["locations"]
    assert len(steps) == 6
    assert steps[1]["location"]["message"]["text"].startswith("1. Philosopher[1].take_left")
    take_left = next(n for n, line in enumerate(
        (REPO / "specs/classic/philosophers.ms").read_text().splitlines(), 1)
        if "on take_left" in line)
    assert steps[1]["location"]["physicalLocation"]["region"]["startLine"] == take_left
    lasso = next(r for r in results if r["ruleId"] == "MS406")
    assert lasso["codeFlows"][0]["threadFlows"][0]["properties"]["loopStart"] == 0
    # fingerprints are stable: the same input gives the same log
    again = to_sarif(everything)["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in results] == \
        [r["partialFingerprints"] for r in again]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")


def test_sarif_outside_the_root_is_absolute(shop, tmp_path):
    log = to_sarif([from_check(shop[1], shop[0])], root=tmp_path)
    art = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert art["uri"].startswith("file:///") and "uriBaseId" not in art


# ---------------------------------------------------------------- JUnit

def test_junit_parses_and_counts(everything):
    text = to_junit(everything)
    root = ET.fromstring(text.encode())
    suites = root.findall("testsuite")
    assert len(suites) == len(everything)
    total = sum(len(r.checks) for r in everything)
    assert int(root.get("tests")) == total == len(root.iter("testcase").__class__
                                                  and list(root.iter("testcase")))
    failures = sum(1 for r in everything for c in r.checks if c.status == "failed")
    assert int(root.get("failures")) == failures == len(list(root.iter("failure")))
    assert int(root.get("skipped")) == len(list(root.iter("skipped")))
    phil = suites[0]
    assert phil.get("name") == "check: DiningPhilosophers"
    assert phil[0].tag == "properties"
    case = next(c for c in phil.iter("testcase") if c.get("name").startswith("deadlock_free"))
    fail = case.find("failure")
    assert fail.get("type") == "MS400" and "Philosopher[5].take_left" in fail.text
    metrics = suites[6]
    assert int(metrics.get("tests")) == sum(1 for c in CODES if c.startswith("MS31"))
    lasso = next(c for c in suites[2].iter("testcase") if c.get("name").startswith("Done"))
    assert "repeat for ever" in lasso.find("failure").text


def test_junit_strips_characters_xml_cannot_hold():
    r = from_diagnostics([Diagnostic("MS101", "unexpected character '\x01'", Span("a.ms", 1, 1))],
                         "a.ms")
    ET.fromstring(to_junit([r]).encode())


# ---------------------------------------------------------------- GitHub annotations

def test_github_annotations(everything, monkeypatch):
    monkeypatch.chdir(REPO)
    lines = to_github(everything).splitlines()
    assert len(lines) == sum(len(r.findings) for r in everything)
    dead = next(line for line in lines if "title=MS400" in line)
    assert dead.startswith("::error file=specs/classic/philosophers.ms,line=")
    assert ",col=1," in dead and "%0A" in dead and "\n" not in dead
    assert any(line.startswith("::warning ") and "MS411" in line for line in lines)
    assert any(line.startswith("::notice ") and "MS31" in line for line in lines)
    assert "::error file=specs/x.ms,line=1,col=2,endColumn=3,title=MS200::" in lines[-1]


def test_github_escaping():
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"
    r = from_diagnostics([Diagnostic("MS203", "bad: x,y 100%\nsecond", Span("d,ir/a:b.ms", 2, 3))],
                         "d,ir/a:b.ms")
    [line] = to_github([r]).splitlines()
    assert line == ("::error file=d%2Cir/a%3Ab.ms,line=2,col=3,title=MS203::"
                    "bad: x,y 100%25%0Asecond")


# ---------------------------------------------------------------- Mermaid

def test_mermaid_sync_and_async(shop):
    spec, doc = shop
    text = trace_to_mermaid(doc["violations"][0], spec)
    lines = text.splitlines()
    assert lines[0] == "sequenceDiagram"
    assert "  participant Client as Client" in lines
    assert "  Client->>Server: 1. rpc!Order(1)" in lines  # synchronous: solid
    assert "  Server-->>Client: 3. acks!Ack(1) (sent at step 1)" in lines  # async: dashed
    assert any(line.startswith("  Note right of Client: 1. order<br/>Client.sent := 1")
               for line in lines)


def test_mermaid_lasso_and_initial_contents(live, philosophers):
    text = trace_to_mermaid(live[1]["violations"][0], live[0])
    assert "  loop repeats for ever" in text and text.rstrip().endswith("end")
    text = trace_to_mermaid(philosophers[1]["violations"][0], philosophers[0])
    assert "participant fork_1 as fork[1] (channel)" in text
    assert "fork_1-->>Philosopher_1: 1. fork[1]?true (in the channel from the start)" in text


def test_mermaid_escapes_and_reserved_names():
    trace = [{"step": 0, "actor": None, "action": "initial state", "params": {},
              "messages": [], "changes": {"end.x": "a;b#c"}, "state": {}},
             {"step": 1, "actor": "end", "action": "go", "params": {},
              "messages": [{"direction": "send", "channel": "q", "message": "M(1)"}],
              "changes": {"end.x": "<b>"}, "state": {}}]
    text = trace_to_mermaid({"message": "x; y", "trace": trace})
    assert "participant p_end as end" in text
    assert "a#59;b#35;c" in text and "#lt;b#gt;" in text and "title x#59; y" in text
    assert "p_end-->>q: 1. q!M(1) (never received)" in text  # still in the channel


def test_trace_chart_without_spec_guesses_sync(shop):
    chart = trace_chart(shop[1]["violations"][0])  # no spec
    sync = [a for a in chart.arrows if a.sync]
    assert [(a.src, a.dst, a.sent) for a in sync] == [("Client", "Server", 1),
                                                     ("Client", "Server", 2)]
    assert [(a.src, a.dst, a.sent, a.received) for a in chart.arrows if not a.sync] == \
        [("Server", "Client", 1, 3), ("Server", "Client", 2, 4)]
