"""The time and memory limits, and Ctrl-C, also stop the liveness analysis that follows a
complete search: the run is then inconclusive (or a violation, if one was found), keeps the
search's figures, and says why; without ``--memory`` the command line caps the memory at a
share of what is free."""

from __future__ import annotations

import time

import pytest

import mscheck.engine.check as check_mod
import mscheck.engine.search as search_mod
from mscheck.cli import main
from mscheck.engine.search import (DEFAULT_MEMORY_SHARE, Limits, LimitReached,
                                   default_memory, guarded, poll)

from .helpers import SPECS, check_text

# a ring of N counters, each stepping 0 -> 1 -> 2 -> 0: 3**N states, each with N steps;
# Ends never holds on the ring's cycles
RING = """
system Ring
const N = 3
service C[i in 1..N] {
  var x: 0..2 = 0
  action step { x := (x + 1) mod 3 }
}
invariant Small: forall i in 1..N: C[i].x <= 2
fairness weak C
eventually Ends: C[1].x == 2 and C[2].x == 2 and C[3].x == 2
"""

BAD_RING = RING.replace("C[i].x <= 2", "C[i].x <= 1")


def test_poll_checks_only_inside_guarded():
    poll()  # no limits: nothing
    with guarded(Limits(memory=1 << 30), time.monotonic()):
        poll()
        with pytest.raises(LimitReached, match=r"^memory limit of 1024 MiB: the next step "
                                                r"needs about 1,048,576 MiB, more than is left$"):
            poll(1 << 40)
    with guarded(Limits(memory=1), time.monotonic()):
        with pytest.raises(LimitReached, match=r"^memory limit of 0 MiB reached$"):
            poll()
    with guarded(Limits(timeout=0.5), time.monotonic() - 1):
        with pytest.raises(LimitReached, match=r"^time limit of 0.5 s reached$"):
            poll()
    poll(1 << 60)  # outside again


def test_default_memory_is_a_share_of_what_is_free():
    cap = default_memory()
    assert cap is not None
    with open("/proc/meminfo") as fh:
        total = next(int(line.split()[1]) for line in fh if line.startswith("MemTotal:"))
    assert search_mod._rss() < cap <= DEFAULT_MEMORY_SHARE * total * 1024 + search_mod._rss()


def _memory_runs_out_in_liveness(monkeypatch):
    """From the liveness analysis on, the process appears to hold 1 TiB."""
    live = []
    real_guarded = check_mod.guarded

    def flagging(*args):
        live.append(True)
        return real_guarded(*args)

    real_rss = search_mod._rss
    monkeypatch.setattr(check_mod, "guarded", flagging)
    monkeypatch.setattr(search_mod, "_rss", lambda: 1 << 40 if live else real_rss())
    return live


@pytest.mark.parametrize("engine", ["auto", "scalar"])
def test_memory_limit_in_liveness_is_inconclusive(monkeypatch, engine):
    ok = check_text(RING, engine=engine, keep_going=True)
    assert (ok["verdict"], ok["states"]) == ("violation", 27)  # Ends fails on a cycle
    live = _memory_runs_out_in_liveness(monkeypatch)
    doc = check_text(RING, engine=engine, keep_going=True, limits=Limits(memory=1 << 30))
    assert live
    assert (doc["verdict"], doc["states"], doc["transitions"], doc["violations"]) == \
        ("inconclusive", 27, 82, [])
    assert doc["reason"] == "liveness not decided: memory limit of 1024 MiB reached"


@pytest.mark.parametrize("engine", ["auto", "scalar"])
def test_a_safety_violation_stands_when_liveness_is_stopped(monkeypatch, engine):
    _memory_runs_out_in_liveness(monkeypatch)
    doc = check_text(BAD_RING, engine=engine, keep_going=True, limits=Limits(memory=1 << 30))
    assert doc["verdict"] == "violation"
    # with --continue, Small's first violating state at each depth (2 to 6 steps); no lasso
    assert [(v["kind"], v["property"], len(v["trace"])) for v in doc["violations"]] == \
        [("invariant", "Small", n) for n in range(3, 8)]
    assert doc["reason"] == "liveness not decided: memory limit of 1024 MiB reached"


@pytest.mark.parametrize("where", ["mscheck.engine.livearray.fair_core",
                                   "mscheck.engine.liveness._fair_core"])
def test_ctrl_c_in_liveness_keeps_what_was_found(monkeypatch, where):
    module, name = where.rsplit(".", 1)

    def interrupted(*args, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(__import__(module, fromlist=[name]), name, interrupted)
    engine = "auto" if "livearray" in where else "scalar"
    doc = check_text(RING, engine=engine, keep_going=True)
    assert (doc["verdict"], doc["states"], doc["reason"]) == \
        ("inconclusive", 27, "liveness not decided: interrupted")


def test_memory_error_in_liveness_is_inconclusive(monkeypatch):
    def too_big(*args, **kw):
        raise MemoryError

    monkeypatch.setattr("mscheck.engine.livearray.fair_core", too_big)
    doc = check_text(RING, keep_going=True)
    assert (doc["verdict"], doc["reason"]) == ("inconclusive",
                                               "liveness not decided: out of memory")


def test_the_peak_memory_counts_the_liveness_analysis(monkeypatch):
    monkeypatch.setattr(check_mod, "_peak", lambda: 1 << 40)
    doc = check_text(RING, keep_going=True)
    assert doc["peak_memory"] == 1 << 40


def test_command_line_default_memory_cap(monkeypatch, capsys, tmp_path):
    spec = tmp_path / "ring.ms"
    spec.write_text(RING)
    monkeypatch.setattr(search_mod, "default_memory", lambda: 1 << 20)  # 1 MiB: at once
    code = main(["check", str(spec)])
    out = capsys.readouterr().out
    assert code == 3
    assert ("memory limit of 1 MiB reached (the default, 90% of the memory free at the "
            "start; --memory sets another)") in " ".join(out.split())
    # --memory replaces the default
    code = main(["check", str(spec), "--memory", "64G", "--property", "Small"])
    assert code == 0


def test_command_line_liveness_timeout_is_exit_code_3(monkeypatch, capsys):
    # the search takes no time; the analysis after it finds the time limit past
    real = time.monotonic
    started = []

    def clock():
        return real() + (3600 if started else 0)

    real_guarded = check_mod.guarded

    def late(*args):
        started.append(True)
        return real_guarded(*args)

    monkeypatch.setattr(check_mod, "guarded", late)
    monkeypatch.setattr(search_mod.time, "monotonic", clock)
    code = main(["check", str(SPECS / "seed" / "saga.ms"), "--timeout", "600"])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 3
    assert "Saga: INCONCLUSIVE (liveness not decided: time limit of 600 s reached" in out
    assert "distinct states 25 transitions 25 depth 15" in out  # the search's figures


def test_continue_reports_an_invariant_once_per_depth_on_every_engine():
    # the scalar engine, breadth- or depth-first, reports what the packed and vector engines
    # report: per depth, the first state (in breadth-first order) that violates it
    docs = {e: check_text(BAD_RING.replace("eventually Ends", "# "), engine=e,
                          keep_going=True)
            for e in ("scalar", "packed", "vector")}
    seen = {e: [(v["property"], [t["state"] for t in v["trace"]]) for v in d["violations"]]
            for e, d in docs.items()}
    assert seen["scalar"] == seen["packed"] == seen["vector"]
    assert [len(trace) for _, trace in seen["scalar"]] == [3, 4, 5, 6, 7]
    assert seen["scalar"][0][1][-1] == {"C[1].x": "2", "C[2].x": "0", "C[3].x": "0"}
    dfs = check_text(BAD_RING.replace("eventually Ends", "# "), engine="scalar",
                     strategy="dfs", keep_going=True)
    depths = [len(v["trace"]) - 1 for v in dfs["violations"]]
    assert depths == sorted(set(depths)) and len(depths) == 13


def test_a_control_group_limit_lowers_the_default(monkeypatch, tmp_path):
    monkeypatch.setattr(search_mod, "CGROUP", str(tmp_path))
    assert search_mod._cgroup_headroom() is None  # no files: no limit
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "memory.current").write_text("1000\n")
    assert search_mod._cgroup_headroom() is None
    (tmp_path / "memory.max").write_text(f"{3 << 30}\n")
    (tmp_path / "memory.current").write_text(f"{2 << 30}\n")
    (tmp_path / "memory.stat").write_text(f"anon 5\ninactive_file {1 << 29}\nactive_file 7\n")
    assert search_mod._cgroup_headroom() == (1 << 30) + (1 << 29)
    monkeypatch.setattr(search_mod, "_meminfo_available", lambda: 1 << 40)
    monkeypatch.setattr(search_mod, "_rss", lambda: 1 << 20)
    assert default_memory() == int(0.9 * ((1 << 30) + (1 << 29) + (1 << 20)))
    # version 1: its "no limit" is a huge number
    for name in ("memory.max", "memory.current", "memory.stat"):
        (tmp_path / name).unlink()
    (tmp_path / "memory").mkdir()
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (tmp_path / "memory" / "memory.usage_in_bytes").write_text("1208332288\n")
    assert search_mod._cgroup_headroom() is None
    assert default_memory() == int(0.9 * ((1 << 40) + (1 << 20)))
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text(f"{2 << 30}\n")
    (tmp_path / "memory" / "memory.stat").write_text("total_inactive_file 1000\n")
    assert search_mod._cgroup_headroom() == (2 << 30) - 1208332288 + 1000


@pytest.mark.parametrize("engine", ["auto", "scalar"])
def test_the_liveness_analysis_reports_progress(monkeypatch, engine, capsys):
    ticks = iter(range(0, 10 ** 9, 2))
    monkeypatch.setattr(search_mod.time, "monotonic", lambda: float(next(ticks)))
    seen = []
    check_text(RING, engine=engine, keep_going=True, progress=seen.append)
    stages = [p for p in seen if "stage" in p]
    assert stages and {p["stage"] for p in stages} == {
        "liveness: 1 check on 27 states and 82 transitions"}
    assert all(p["memory"] > 0 and p["seconds"] > 0 for p in stages)
    # as the command line prints it (not on a terminal: every 10 s)
    from mscheck.cli import _progress_printer

    report, finish = _progress_printer()
    report({"stage": stages[0]["stage"], "seconds": 12.0, "memory": 3 << 20})
    finish()
    assert capsys.readouterr().err == \
        "liveness: 1 check on 27 states and 82 transitions, 3 MiB, 12 s\n"
