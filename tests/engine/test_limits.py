"""``mscheck check`` options and violation kinds: limits end a run as inconclusive (exit 3,
never 0), a violation found first is still a violation (exit 1), --property, --no-deadlock,
--continue, and the JSON document with its traces."""

from __future__ import annotations

import json

import pytest

from mscheck.cli import main

ENGINES = ["auto", "scalar", "packed"]

# 2**20 states, every one at depth = number of bits set: wide levels, depth 20.
CUBE = """
const BITS = 20
service Bit[i in 1..BITS] {
  var on: bool
  action flip { on := not on }
}
"""

# The same, with an invariant that fails at depth 2 (first two bits both on).
CUBE_BAD = CUBE + "invariant NotBoth: not (Bit[1].on and Bit[2].on)\n"

PHILOSOPHERS = """
const N = 5
def right(p) = if p == N then 1 else p + 1
channel fork[f in 1..N]: fifo(1) of bool = [true]
service Philosopher[p in 1..N] {
  var phase: {thinking, holding_left, eating, sated, holding_right} = thinking
  on take_left: fork[p]?(_) when phase == thinking { phase := holding_left }
  on take_right: fork[right(p)]?(_) when phase == holding_left { phase := eating }
  action eat when phase == eating { phase := sated }
  action put_left when phase == sated { fork[p]!(true); phase := holding_right }
  action put_right when phase == holding_right { fork[right(p)]!(true); phase := thinking }
}
invariant Calm: forall p in 1..N: Philosopher[p].phase != sated
invariant NoRightOnly: forall p in 1..N: Philosopher[p].phase != holding_right
reachable AllEat: forall p in 1..N: Philosopher[p].phase == eating
"""


@pytest.fixture
def run(tmp_path, capsys):
    """run(spec text, *options) -> (exit code, JSON document)."""

    def go(text: str, *options: str):
        path = tmp_path / "spec.ms"
        path.write_text(text)
        code = main(["check", str(path), "--format", "json", *options])
        out = capsys.readouterr().out
        return code, (json.loads(out) if out.strip() else None)
    return go


# ---------------------------------------------------------------- limits


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("limit", [["--max-states", "5000"], ["--max-depth", "3"],
                                   ["--timeout", "0.3"]], ids=["states", "depth", "timeout"])
def test_a_limit_is_inconclusive_never_ok(run, engine, limit):
    code, doc = run(CUBE, "--engine", engine, *limit)
    assert (code, doc["verdict"], doc["complete"]) == (3, "inconclusive", False)
    assert doc["violations"] == []
    assert doc["reason"]
    assert doc["states"] < 2 ** 20
    if limit[0] == "--max-depth":
        # levels 0..3 of the cube: 1 + 20 + 190 + 1140 states, none deeper
        assert (doc["states"], doc["depth"]) == (1351, 3)
    if limit[0] == "--max-states":
        assert doc["states"] >= 5000


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("limit", [["--max-states", "30"], ["--max-depth", "2"],
                                   ["--timeout", "30"]], ids=["states", "depth", "timeout"])
def test_a_violation_before_the_limit_is_a_violation(run, engine, limit):
    code, doc = run(CUBE_BAD, "--engine", engine, *limit)
    assert (code, doc["verdict"]) == (1, "violation")
    (v,) = doc["violations"]
    assert (v["kind"], v["property"]) == ("invariant", "NotBoth")
    assert [t["actor"] for t in v["trace"][1:]] == ["Bit[1]", "Bit[2]"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_limit_is_inconclusive_for_reachable_without_witness_yet(run, engine):
    code, doc = run(CUBE + "reachable AllOn: forall i in 1..BITS: Bit[i].on\n",
                    "--engine", engine, "--max-depth", "5")
    assert (code, doc["verdict"]) == (3, "inconclusive")
    assert doc["violations"] == []  # not 'unreachable': the search did not finish


@pytest.mark.parametrize("engine", ENGINES)
def test_a_limit_larger_than_the_space_is_ok(run, engine):
    code, doc = run(PHILOSOPHERS.replace("invariant", "# invariant").replace(
        "reachable", "# reachable"), "--engine", engine, "--max-depth", "100",
        "--max-states", "100000", "--timeout", "60", "--no-deadlock")
    assert (code, doc["verdict"], doc["states"], doc["transitions"]) == (0, "ok", 392, 1251)


# ---------------------------------------------------------------- selecting what to check


@pytest.mark.parametrize("engine", ENGINES)
def test_without_options_the_first_violation_is_reported(run, engine):
    code, doc = run(PHILOSOPHERS, "--engine", engine)
    assert code == 1
    (v,) = doc["violations"]
    # Calm fails at depth 3 (take_left, take_right, eat), before the deadlock at depth 5.
    assert (v["kind"], v["property"], len(v["trace"]) - 1) == ("invariant", "Calm", 3)
    assert doc["states"] < 392


@pytest.mark.parametrize("engine", ENGINES)
def test_property_selects(run, engine):
    code, doc = run(PHILOSOPHERS, "--engine", engine, "--property", "NoRightOnly",
                    "--continue")
    assert code == 1
    assert {(v["kind"], v["property"]) for v in doc["violations"]} == {
        ("invariant", "NoRightOnly")}  # not Calm, not the deadlock, not AllEat
    # take_left, take_right, eat, put_left
    assert min(len(v["trace"]) - 1 for v in doc["violations"]) == 4


@pytest.mark.parametrize("engine", ENGINES)
def test_property_deadlock_free_selects_the_deadlock(run, engine):
    code, doc = run(PHILOSOPHERS, "--engine", engine, "--property", "deadlock_free")
    assert code == 1
    (v,) = doc["violations"]
    assert (v["kind"], v["property"], len(v["trace"]) - 1) == ("deadlock", "deadlock_free", 5)


@pytest.mark.parametrize("engine", ENGINES)
def test_property_reachable_without_witness(run, engine):
    code, doc = run(PHILOSOPHERS, "--engine", engine, "--property", "AllEat")
    assert (code, doc["verdict"], doc["states"]) == (1, "violation", 392)
    (v,) = doc["violations"]
    assert (v["kind"], v["property"], v["trace"]) == ("unreachable", "AllEat", [])


@pytest.mark.parametrize("engine", ENGINES)
def test_no_deadlock(run, engine):
    text = PHILOSOPHERS.split("invariant Calm")[0]
    code, doc = run(text, "--engine", engine)
    assert (code, [v["kind"] for v in doc["violations"]]) == (1, ["deadlock"])
    code, doc = run(text, "--engine", engine, "--no-deadlock")
    assert (code, doc["verdict"], doc["states"], doc["transitions"]) == (0, "ok", 392, 1251)


@pytest.mark.parametrize("engine", ENGINES)
def test_continue_counts_the_whole_space(run, engine):
    code, doc = run(PHILOSOPHERS, "--engine", engine, "--continue")
    assert code == 1
    assert (doc["states"], doc["transitions"], doc["complete"]) == (392, 1251, True)
    kinds = {(v["kind"], v["property"]) for v in doc["violations"]}
    assert kinds == {("invariant", "Calm"), ("invariant", "NoRightOnly"),
                     ("deadlock", "deadlock_free"), ("unreachable", "AllEat")}
    shortest = {}
    for v in doc["violations"]:
        d = len(v["trace"]) - 1
        key = v["property"]
        shortest[key] = min(shortest.get(key, d), d)
    assert shortest == {"Calm": 3, "NoRightOnly": 4, "deadlock_free": 5, "AllEat": -1}


# ---------------------------------------------------------------- violation kinds

RANGE = """
service Counter {
  var x: 0..2
  action inc { x := x + 1 }
}
"""

ASSERTION = """
service Stock {
  var units: 0..3 = 2
  action sell when units > 0 {
    units := units - 1
    assert units > 0 else "sold the last unit"
  }
  end when true
}
"""

DOMAIN = """
service Lookup {
  var k: 0..3
  var table: [0..2 -> bool] = [j in 0..2 |-> true]
  var seen: bool
  action next when k < 3 { k := k + 1 }
  action read { seen := table[k] }
  end when true
}
"""

UNREACHABLE = """
service Counter {
  var x: 0..2
  action inc when x < 2 { x := x + 1 }
  end when x == 2
}
reachable Three: Counter.x + 1 == 4
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_range_violation(run, engine):
    code, doc = run(RANGE, "--engine", engine)
    assert (code, doc["verdict"]) == (1, "violation")
    (v,) = doc["violations"]
    assert v["kind"] == "range"
    assert "3" in v["message"] and "0..2" in v["message"]
    assert v["location"]["line"] == 4
    assert [t["action"] for t in v["trace"]] == ["initial state", "inc", "inc"]
    assert v["trace"][-1]["state"] == {"Counter.x": "2"}
    assert v["failing_step"]["actor"] == "Counter" and v["failing_step"]["action"] == "inc"


@pytest.mark.parametrize("engine", ENGINES)
def test_failed_assertion(run, engine):
    code, doc = run(ASSERTION, "--engine", engine)
    assert code == 1
    (v,) = doc["violations"]
    assert (v["kind"], v["message"]) == ("assertion", "sold the last unit")
    assert v["trace"][-1]["state"] == {"Stock.units": "1"}
    assert len(v["trace"]) == 2
    assert v["failing_step"]["action"] == "sell"


@pytest.mark.parametrize("engine", ENGINES)
def test_map_lookup_outside_the_domain(run, engine):
    code, doc = run(DOMAIN, "--engine", engine)
    assert code == 1
    (v,) = doc["violations"]
    assert v["kind"] == "domain"
    assert "3" in v["message"]
    assert v["trace"][-1]["state"]["Lookup.k"] == "3"
    assert len(v["trace"]) == 4  # three steps to k = 3, where 'read' fails
    assert v["failing_step"]["action"] == "read"


@pytest.mark.parametrize("engine", ENGINES)
def test_reachable_without_witness_is_unreachable(run, engine):
    code, doc = run(UNREACHABLE, "--engine", engine)
    assert (code, doc["verdict"], doc["states"]) == (1, "violation", 3)
    (v,) = doc["violations"]
    assert (v["kind"], v["property"], v["trace"]) == ("unreachable", "Three", [])


def test_json_document_keys(run):
    code, doc = run(RANGE)
    assert code == 1
    for key in ("verdict", "states", "transitions", "depth", "seconds", "violations"):
        assert key in doc
    assert isinstance(doc["seconds"], (int, float)) and doc["seconds"] >= 0
    (v,) = doc["violations"]
    for key in ("kind", "property", "message", "trace"):
        assert key in v
    for i, item in enumerate(v["trace"]):
        assert {"step", "actor", "action", "changes", "state"} <= set(item)
        assert item["step"] == i
    first, second = v["trace"][:2]
    assert (first["actor"], first["action"]) == (None, "initial state")
    assert first["changes"] == first["state"] == {"Counter.x": "0"}
    assert (second["actor"], second["action"], second["changes"]) == ("Counter", "inc",
                                                                       {"Counter.x": "1"})


def test_exit_codes_from_a_fresh_interpreter(tmp_path):
    import subprocess
    import sys

    def code(text, *options):
        path = tmp_path / "s.ms"
        path.write_text(text)
        return subprocess.run([sys.executable, "-m", "mscheck", "check", str(path), *options],
                              capture_output=True, text=True, timeout=120).returncode

    assert code(ASSERTION.replace("units > 0 else", "units >= 0 else")) == 0
    assert code(RANGE) == 1
    assert code("service S { var x: 0..2 = 5 }") == 2  # a spec error (MS214)
    assert code(CUBE, "--max-states", "100") == 3


@pytest.mark.parametrize("options", [(), ("--max-states", "300000"), ("--max-depth", "9")],
                         ids=["whole", "states", "depth"])
def test_two_workers_give_the_same_document(run, options):
    # the 2**20-state cube has levels of up to 184,756 states: two processes share them
    code1, one = run(CUBE, *options)
    code2, two = run(CUBE, "--workers", "2", *options)
    assert two["processes"] == 2 and one["processes"] == 1
    for doc in (one, two):
        for key in ("seconds", "states_per_second", "peak_memory", "processes"):
            doc.pop(key, None)
    assert (code2, two) == (code1, one)
    assert code1 == (0 if not options else 3)


def test_the_command_line_hashes_without_openssl():
    """lark needs only sha256 (for its cache files): the command line gives it the
    interpreter's own, so OpenSSL's libcrypto is not mapped into a check; a later import of
    _hashlib still works."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from mscheck.cli import _builtin_hashes\n"
        "_builtin_hashes()\n"
        "import hashlib, lark\n"
        "print(hashlib.sha256(b'ms').hexdigest()[:12], '_hashlib' in sys.modules)\n"
        "maps = open('/proc/self/maps').read()\n"
        "print('libcrypto' in maps)\n"
        "import hmac\n"
        "print(hmac.new(b'k', b'm', 'sha256').hexdigest()[:12])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert out[:3] == ["f785c3ce1d58 False", "False", "b60090e30522"]


def test_ctrl_c_ends_a_check_as_inconclusive(repo_root):
    """A real SIGINT to a running ``mscheck check`` (philosophers, N = 15: some 60
    million states, half a minute of search here, stopped after 2.5 s): exit 3, the figures found
    so far, no traceback."""
    import os
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "mscheck", "check", "specs/classic/philosophers.ms", "--const",
         "N=15", "--no-deadlock", "--format", "json"], cwd=repo_root, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2.5)
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    doc = json.loads(out)
    assert proc.returncode == 3, err
    assert (doc["verdict"], doc["reason"], doc["complete"]) == (
        "inconclusive", "interrupted", False)
    assert doc["states"] > 0
    assert "Traceback" not in err
