"""Golden tests: ``mscheck lint tests/golden/NAME.ms`` must print exactly NAME.expect.

Each ``.expect`` file holds the whole standard error of the command, run from the repository
root with the path as written here. A spec may start with directive comments:

* ``# lint-args: --const N=0`` extra arguments placed before the file name;
* ``# exit: 0`` the exit code expected (2, a spec error, when not given).

Set ``UPDATE_GOLDEN=1`` to rewrite the ``.expect`` files from the current output; review the
diff before keeping it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mscheck.diagnostics import CODES

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(GOLDEN.glob("*.ms"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
_DIRECTIVE = re.compile(r"^#\s*(lint-args|exit):\s*(.*)$")
# Codes no spec file can produce: an unreadable or empty file (MS001) and one over 64 MiB
# (MS002). tests/lang/test_robustness.py covers both.
NOT_FROM_A_SPEC = {"MS001", "MS002", "MS220"}  # files, not spec text


def _directives(path: Path) -> tuple[list[str], int]:
    args, exit_code = [], 2
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _DIRECTIVE.match(line)
        if not m:
            break
        if m.group(1) == "lint-args":
            args += shlex.split(m.group(2))
        else:
            exit_code = int(m.group(2))
    return args, exit_code


def _run(path: Path) -> subprocess.CompletedProcess:
    args, _ = _directives(path)
    rel = path.relative_to(REPO).as_posix()
    return subprocess.run([sys.executable, "-m", "mscheck", "lint", *args, rel], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def results() -> dict[str, subprocess.CompletedProcess]:
    """Every golden case, run once, several at a time (each run starts a new interpreter)."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return dict(zip((p.stem for p in CASES), pool.map(_run, CASES)))


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_golden(case: Path, results):
    proc = results[case.stem]
    _, exit_code = _directives(case)
    expect = case.with_suffix(".expect")
    assert "Traceback" not in proc.stderr, proc.stderr
    if UPDATE:
        expect.write_text(proc.stderr, encoding="utf-8")
    assert expect.exists(), f"{expect.name} is missing; run with UPDATE_GOLDEN=1 to create it"
    assert proc.stderr == expect.read_text(encoding="utf-8")
    assert proc.returncode == exit_code
    if exit_code == 0:
        assert proc.stdout == "1 file(s) ok\n"
    else:
        assert proc.stdout == ""
        assert proc.stderr.endswith("0 of 1 file(s) ok\n")


def test_every_lint_code_has_a_golden_file():
    """Each code lint can report from a spec file is shown by at least one golden case."""
    shown = set()
    for exp in GOLDEN.glob("*.expect"):
        shown |= set(re.findall(r"(?:error|warning|note)\[(MS\d{3})\]", exp.read_text()))
    lint_codes = {c for c in CODES if not c.startswith("MS3")}  # MS3xx: `mscheck metrics`
    assert lint_codes - NOT_FROM_A_SPEC - shown == set()
    assert shown <= set(CODES)


def test_each_expect_has_its_spec():
    assert {p.stem for p in GOLDEN.glob("*.expect")} == {p.stem for p in CASES}


def test_several_errors_are_all_reported(results):
    """Lint reports every error of a file, in source order, not only the first."""
    err = results["several_errors"].stderr
    headers = [line for line in err.splitlines() if "error[" in line]
    locations = [tuple(int(x) for x in re.match(r"[^:]+:(\d+):(\d+):", h).groups())
                 for h in headers]
    assert len(headers) >= 6
    assert locations == sorted(locations)
    assert {re.search(r"\[(MS\d+)\]", h).group(1) for h in headers} >= {
        "MS200", "MS201", "MS205", "MS206", "MS213"}
