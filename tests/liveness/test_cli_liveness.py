"""Livelock checks on crashable services, and the command line around them: fault steps
never count as progress, negative counts are usage errors, a closed pipe keeps the verdict's
exit code."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mscheck.cli import main

from .helpers import REPO, SPECS, check_text, steps_of

CRASH_LOOP = """
system CrashLoop
crashable service W {
  var x: 0..1 = 0
  action work when false { x := 0 }
}
"""


def test_crash_and_restart_are_no_progress_of_the_whole_service():
    for progress in ("progress W", "progress W.work"):
        doc = check_text(CRASH_LOOP + progress + "\n", deadlock=False)
        [v] = doc["violations"]
        assert (doc["verdict"], v["kind"], v["property"]) == ("violation", "livelock",
                                                              "progress")
        assert steps_of(v["trace"]) == [("W", "crash"), ("W", "restart")]
        assert v["loop_start"] == 0


def test_a_service_that_makes_progress_between_crashes_has_no_livelock():
    spec = CRASH_LOOP.replace("when false", "when true")
    doc = check_text(spec + "progress W\nfairness strong W.work\n", deadlock=False)
    assert (doc["verdict"], doc["violations"]) == ("ok", [])
    # weak fairness does not hold the service to its step: a crash disables it each time
    doc = check_text(spec + "progress W\nfairness weak W.work\n", deadlock=False)
    [v] = doc["violations"]
    assert steps_of(v["trace"]) == [("W", "crash"), ("W", "restart")]


# ---------------------------------------------------------------- counts on the command line

ABP = str(SPECS / "classic" / "alternating_bit.ms")


@pytest.mark.parametrize("argv,option", [
    (["check", ABP, "--max-faults", "-1"], "--max-faults"),
    (["check", ABP, "--max-states", "-1"], "--max-states"),
    (["check", ABP, "--max-depth", "-3"], "--max-depth"),
    (["check", ABP, "--timeout", "-1"], "--timeout"),
    (["simulate", ABP, "--max-faults", "-1"], "--max-faults"),
    (["simulate", ABP, "--runs", "-1"], "--runs"),
    (["simulate", ABP, "--depth", "-1"], "--depth"),
    (["prove", ABP, "--depth", "-1"], "--depth"),
])
def test_negative_counts_are_usage_errors(argv, option, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == f"mscheck: error: argument {option}: must be >= 0, not -" \
        + argv[-1][1:]


def test_a_count_that_is_no_number_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["check", ABP, "--max-faults", "two"])
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "mscheck: error: argument --max-faults: expected a whole number >= 0, not 'two'")


def test_negative_counts_from_the_configuration(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mscheck.toml").write_text("max-faults = -1\n")
    assert main(["check", ABP]) == 2
    assert capsys.readouterr().err == (
        "mscheck: error: configuration: max-faults must be a whole number >= 0, not -1\n")
    (tmp_path / "mscheck.toml").write_text("[limits]\ntimeout = -0.5\n")
    assert main(["check", ABP]) == 2
    assert capsys.readouterr().err == (
        "mscheck: error: configuration: timeout must be a number of seconds >= 0, not -0.5\n")


def test_zero_faults_is_still_allowed(capsys):
    assert main(["check", ABP, "--max-faults", "0", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["states"] == 69


# ---------------------------------------------------------------- a reader that goes away

def _exit_with_closed_pipe(*args: str) -> tuple[int, str]:
    """Run mscheck with its standard output a pipe closed before anything is written (as
    ``| head -1`` does once it has its line); returns the exit code and standard error."""
    proc = subprocess.Popen([sys.executable, "-m", "mscheck", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    return proc.wait(timeout=120), err


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_closed_pipe_keeps_the_violation_exit_code(fmt):
    assert _exit_with_closed_pipe("check", "specs/classic/philosophers.ms",
                                  "--format", fmt) == (1, "")


def test_closed_pipe_keeps_ok_and_inconclusive_exit_codes():
    assert _exit_with_closed_pipe("check", "specs/classic/alternating_bit.ms") == (0, "")
    assert _exit_with_closed_pipe("check", "specs/classic/alternating_bit.ms",
                                  "--max-states", "10") == (3, "")


def test_head_reads_the_first_line_and_the_verdict_is_kept():
    out = subprocess.run(
        f"set -o pipefail; '{sys.executable}' -m mscheck check specs/classic/philosophers.ms"
        " | head -1", shell=True, executable="/bin/bash", cwd=REPO, capture_output=True,
        text=True, timeout=120)
    assert (out.returncode, out.stdout, out.stderr) == (
        1, "DiningPhilosophers: VIOLATION\n", "")
