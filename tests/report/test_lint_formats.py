"""`mscheck lint` in the machine formats: SARIF (valid against the 2.1.0 schema), JUnit,
GitHub annotations."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from mscheck.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
BAD = "tests/golden/several_errors.ms"  # paths as given, relative to the repository root
GOOD = "specs/classic/two_phase.ms"


def _lint(fmt: str, capsys, monkeypatch=None) -> tuple[int, str]:
    code = main(["lint", BAD, GOOD, "--format", fmt])
    return code, capsys.readouterr().out


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_lint_sarif_is_valid_and_lists_every_error(capsys):
    code, out = _lint("sarif", capsys)
    assert code == 2
    doc = json.loads(out)
    if SCHEMA.exists():
        jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    rules = sorted(r["ruleId"] for r in doc["runs"][0]["results"])
    # the six errors of tests/golden/several_errors.expect
    assert rules == ["MS200", "MS200", "MS201", "MS205", "MS206", "MS213"]


def test_lint_junit_has_one_suite_per_file(capsys):
    code, out = _lint("junit", capsys)
    root = ET.fromstring(out)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["lint: tests/golden/several_errors.ms",
                                               "lint: specs/classic/two_phase.ms"]
    assert [(s.get("tests"), s.get("failures")) for s in suites] == [("6", "6"), ("1", "0")]


def test_lint_github_annotations(capsys):
    code, out = _lint("github", capsys)
    lines = out.strip().splitlines()
    assert len(lines) == 6
    assert lines[0] == ("::error file=tests/golden/several_errors.ms,line=3,col=7,endColumn=12,"
                        "title=MS201::'N' is already declared as a constant (line 2)")
