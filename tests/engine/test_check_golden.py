"""Golden tests of the text that ``mscheck check`` prints: verdict, statistics, traces and
sequence charts, so that any change in how a result is rendered shows up as a diff.

``golden/NAME.ms`` is checked from the repository root with the path as written here; the
standard output must equal ``golden/NAME.expect`` once the lines that vary from run to run
(seconds, states per second, peak memory) are dropped. A spec may start with directive
comments: ``# check-args: --continue`` (options placed before the file name) and
``# exit: 1`` (the exit code expected; 0 when not given).

Set ``UPDATE_GOLDEN=1`` to rewrite the ``.expect`` files from the current output; review the
diff before keeping it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(GOLDEN.glob("*.ms"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
_DIRECTIVE = re.compile(r"^#\s*(check-args|exit):\s*(.*)$")
_VARYING = re.compile(r"^(seconds|states/s|peak memory)\s")


def _directives(path: Path) -> tuple[list[str], int]:
    args, code = [], 0
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _DIRECTIVE.match(line)
        if not m:
            break
        if m.group(1) == "check-args":
            args += shlex.split(m.group(2))
        else:
            code = int(m.group(2))
    return args, code


def masked(text: str) -> str:
    """The output without the lines that change from run to run."""
    return "\n".join(line for line in text.splitlines() if not _VARYING.match(line)) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_check_output(case: Path):
    args, code = _directives(case)
    rel = case.relative_to(REPO).as_posix()
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR")}
    proc = subprocess.run([sys.executable, "-m", "mscheck", "check", *args, rel], cwd=REPO,
                          capture_output=True, text=True, timeout=120, env=env)
    out = masked(proc.stdout)
    expect = case.with_suffix(".expect")
    if UPDATE:
        expect.write_text(out, encoding="utf-8")
    assert proc.returncode == code, proc.stderr
    assert out == expect.read_text(encoding="utf-8")


def test_masking_keeps_everything_else():
    text = "S: OK\ndistinct states  4\nseconds   0.00\nstates/s  1,000\npeak memory  3 MiB\nx\n"
    assert masked(text) == "S: OK\ndistinct states  4\nx\n"
