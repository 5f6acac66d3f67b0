"""Configuration files and the notebook API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mscheck
from mscheck.config import find_config, load_config
from mscheck.diagnostics import SpecError

ROOT = Path(__file__).resolve().parent.parent


def _run(args, cwd):
    return subprocess.run([sys.executable, "-m", "mscheck", *args], cwd=cwd,
                          capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_limits_from_mscheck_toml(tmp_path):
    (tmp_path / "mscheck.toml").write_text("[limits]\nmax-states = 50\n")
    proc = _run(["check", str(ROOT / "specs/seed/service_registry.ms"), "--format", "json"],
                tmp_path)
    assert proc.returncode == 3
    assert json.loads(proc.stdout)["reason"] == "state limit of 50 reached"


def test_flags_override_the_configuration(tmp_path):
    (tmp_path / "mscheck.toml").write_text("[limits]\nmax-states = 50\n")
    proc = _run(["check", str(ROOT / "specs/classic/two_phase.ms"), "--max-states", "100000",
                 "--format", "json"], tmp_path)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["states"] == 288


def test_tool_section_of_pyproject_and_fail_on(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.mscheck]\nfail-on = ["low"]\n')
    spec = str(ROOT / "specs/architectures/online_boutique.ms")
    assert _run(["metrics", spec, "--format", "json"], tmp_path).returncode == 1
    assert _run(["metrics", spec, "--format", "json", "--fail-on", "high"],
                tmp_path).returncode == 0


def test_unknown_key_is_a_usage_error(tmp_path):
    (tmp_path / "mscheck.toml").write_text('colour = "red"\n[limits]\nspeed = 3\n')
    with pytest.raises(SpecError) as info:
        load_config(str(tmp_path))
    (d,) = info.value.diagnostics
    assert d.code == "MS220"
    assert d.message == "unknown configuration key(s): colour, limits.speed"
    proc = _run(["check", str(ROOT / "specs/classic/two_phase.ms")], tmp_path)
    assert proc.returncode == 2
    assert "error[MS220]" in proc.stderr and "Traceback" not in proc.stderr


def test_a_configuration_that_is_not_utf8_is_a_usage_error(tmp_path):
    (tmp_path / "mscheck.toml").write_bytes(b"[limits]\nmax-states = 5\n# caf\xe9\n")
    with pytest.raises(SpecError) as info:
        load_config(str(tmp_path))
    (d,) = info.value.diagnostics
    assert d.code == "MS220"
    assert d.message.startswith("cannot read the configuration: 'utf-8' codec can't decode")
    # so is a pyproject.toml that names mscheck and is not UTF-8 or not TOML; one that
    # never names it is not read as TOML
    (tmp_path / "mscheck.toml").unlink()
    pyproject = tmp_path / "pyproject.toml"
    for text, why in ((b'[tool.mscheck]\nfail-on = ["low"]\n# caf\xe9\n', "'utf-8' codec"),
                      (b'[tool.mscheck]\nfail-on = ["low"\n', "Unclosed array")):
        pyproject.write_bytes(text)
        with pytest.raises(SpecError) as info:
            load_config(str(tmp_path))
        (d,) = info.value.diagnostics
        assert d.code == "MS220" and why in d.message, d.message
    pyproject.write_bytes(b'[project]\nname = "shop"\n# caf\xe9 [[[\n')
    found = find_config(str(tmp_path))
    assert found is None or found[0] != str(pyproject)


def test_notebook_results_display_themselves():
    spec = mscheck.load(str(ROOT / "specs/classic/philosophers.ms"))
    assert spec._repr_markdown_().splitlines()[0] == (
        f"**system DiningPhilosophers** ({ROOT / 'specs/classic/philosophers.ms'})")
    result = mscheck.check(spec)
    assert result.verdict == "violation"
    assert result._repr_markdown_().splitlines()[1].startswith(
        "- `deadlock` **deadlock_free**: no step is enabled (deadlock) (5 steps)")
    html = result._repr_html_()
    assert "<svg" in html and "take_left" in html


def test_notebook_proof_and_metrics():
    two_phase = mscheck.load(str(ROOT / "specs/classic/two_phase.ms"))
    assert mscheck.prove(two_phase)._repr_markdown_().startswith(
        "- **Consistent**: proved (inductive")
    boutique = mscheck.metrics(mscheck.load(str(ROOT / "specs/architectures/online_boutique.ms")))
    assert boutique["system"]["SCF"] == pytest.approx(14 / 90, abs=1e-4)
    assert boutique._repr_markdown_().startswith("**OnlineBoutique**: N 10, E 14")


def test_example_notebook_is_valid_json_with_code():
    nb = json.loads((ROOT / "examples/mscheck.ipynb").read_text())
    assert nb["nbformat"] == 4
    assert any("mscheck.check(" in "".join(c["source"]) for c in nb["cells"])


def test_smell_thresholds_from_the_configuration(tmp_path):
    spec = str(ROOT / "specs/architectures/online_boutique.ms")
    (tmp_path / "mscheck.toml").write_text("fail-on = ['low']\n[thresholds]\ngreedy_out = 8\n"
                                           "nano_components = 0\n")
    doc = json.loads(_run(["metrics", spec, "--format", "json"], tmp_path).stdout)
    assert [m["code"] for m in doc["smells"]] == []
    (tmp_path / "mscheck.toml").write_text("[thresholds]\ngreedy_ads = 8\n")
    proc = _run(["metrics", spec], tmp_path)
    assert proc.returncode == 2
    assert "error[MS220]: [thresholds]: unknown smell threshold(s): greedy_ads" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_notebook_check_caps_memory_as_the_command_line(monkeypatch):
    import mscheck.engine.search as search_mod

    spec = mscheck.load(str(ROOT / "specs/classic/philosophers.ms"), {"N": "8"})
    monkeypatch.setattr(search_mod, "default_memory", lambda: 1 << 20)  # 1 MiB: at once
    capped = mscheck.check(spec, keep_going=True)
    assert (capped.verdict, capped.doc["reason"]) == (
        "inconclusive", "memory limit of 1 MiB reached (the default, 90% of the memory free "
        "at the start; --memory sets another)")
    # limits given: only those
    free = mscheck.check(spec, keep_going=True, limits=search_mod.Limits())
    assert (free.verdict, free.doc["states"]) == ("violation", 14_158)
