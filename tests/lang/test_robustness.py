"""Hostile and degenerate input: every case ends in exit code 2 (or a clean success) with a
stable code and no Python traceback; never a crash, a hang or a stack overflow."""

from __future__ import annotations

import json

import pytest

import mscheck
from mscheck.cli import main
from mscheck.diagnostics import CODES, SpecError
from mscheck.ir.nodes import Spec
from mscheck.lang import source as ms_source
from mscheck.lang.parser import MAX_DEPTH
from mscheck.lang.source import read_source

DEEP = 100_000
PREFIXES = 20_000  # a process of 100,000 prefixes takes too long for the suite

TWO_PHASE = """system TwoPhase
const RM = {r1, r2, r3}
type Phase = {working, prepared, committed, aborted}
message Prepared(rm: RM)
message Commit
message Abort
channel msgs: log of Prepared | Commit | Abort

service TM {
  var state: {init, committed, aborted} = init
  var prepared: set of RM = {}
  on msgs?Prepared(r) when state == init { prepared := prepared union {r} }
  action commit when state == init and prepared == RM { state := committed; msgs!Commit }
  action abort  when state == init { state := aborted; msgs!Abort }
}

service ResourceManager[r in RM] {
  var state: Phase = working
  action prepare      when state == working { state := prepared; msgs!Prepared(r) }
  action choose_abort when state == working { state := aborted }
  on msgs?Commit { state := committed }
  on msgs?Abort  { state := aborted }
}

invariant Consistent:
  not exists a, b in RM: ResourceManager[a].state == aborted and ResourceManager[b].state == committed
"""


def _error(text: str, filename: str = "t.ms"):
    """The diagnostics of a spec that must be rejected."""
    with pytest.raises(SpecError) as info:
        mscheck.loads(text, filename)
    diags = info.value.diagnostics
    assert diags and all(d.code in CODES for d in diags)
    return diags


def _only(text: str, code: str):
    diags = _error(text)
    assert [d.code for d in diags] == [code], diags
    return diags[0]


def _no_traceback(proc) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "Error:" not in proc.stderr.replace("error[", "")


# ---------------------------------------------------------------- unreadable files (MS001)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "binary.ms").write_bytes(b"system S\nconst N = 1\x00\x01\x02\n")
    (tmp_path / "latin1.ms").write_bytes(b"system S\nconst N = 1 # caf\xe9\n")
    (tmp_path / "empty.ms").write_bytes(b"")
    (tmp_path / "blank.ms").write_bytes(b"  \n\t\n\r\n   ")
    (tmp_path / "bom.ms").write_bytes("\ufeffsystem S\nconst N = 1\n".encode())
    (tmp_path / "crlf.ms").write_bytes(b"system S\r\nconst N = 3\r\nconst M = N +\r\n")
    (tmp_path / "dir.ms").mkdir()
    (tmp_path / "good.ms").write_text(TWO_PHASE)
    return tmp_path


@pytest.mark.parametrize("name, message", [
    ("missing.ms", "{p}: no such file"),
    ("dir.ms", "{p}: is a directory, not a .ms file"),
    ("binary.ms", "{p}: is a binary file (it contains NUL bytes), not a .ms spec"),
    ("latin1.ms", "{p}: is not UTF-8 text (invalid byte 0xe9 on line 2)"),
    ("empty.ms", "{p}: is empty; a spec needs at least one declaration"),
    ("blank.ms", "{p}: is empty; a spec needs at least one declaration"),
])
def test_unreadable_file_is_ms001(files, name, message):
    path = str(files / name)
    with pytest.raises(SpecError) as info:
        read_source(path)
    (d,) = info.value.diagnostics
    assert (d.code, d.message, d.span, d.severity) == ("MS001", message.format(p=path), None,
                                                        "error")
    with pytest.raises(SpecError) as again:
        mscheck.load(path)
    assert again.value.diagnostics == info.value.diagnostics
    assert main(["lint", path]) == 2
    assert main(["model", path]) == 2


@pytest.mark.parametrize("name", ["missing.ms", "dir.ms", "binary.ms", "latin1.ms", "empty.ms"])
def test_unreadable_file_on_the_command_line(files, name, mscheck_cli):
    proc = mscheck_cli("lint", name, cwd=files)
    assert proc.returncode == 2
    _no_traceback(proc)
    assert proc.stdout == ""
    first, summary = proc.stderr.splitlines()
    assert first.startswith(f"error[MS001]: {name}: ")
    assert summary == "0 of 1 file(s) ok"


def test_one_bad_file_among_good_ones(files, mscheck_cli):
    proc = mscheck_cli("lint", "good.ms", "empty.ms", "good.ms", cwd=files)
    assert proc.returncode == 2
    _no_traceback(proc)
    assert proc.stderr.splitlines() == [
        "error[MS001]: empty.ms: is empty; a spec needs at least one declaration",
        "2 of 3 file(s) ok",
    ]


def test_byte_order_mark_is_ignored(files):
    assert read_source(str(files / "bom.ms")) == "system S\nconst N = 1\n"
    assert mscheck.load(str(files / "bom.ms")).constants["N"].value == 1


def test_crlf_line_endings_keep_positions(files):
    with pytest.raises(SpecError) as info:
        mscheck.load(str(files / "crlf.ms"))
    (d,) = info.value.diagnostics
    assert (d.code, d.span.line, d.span.column) == ("MS102", 3, 13)


def test_file_too_large_is_ms002(files, monkeypatch):
    monkeypatch.setattr(ms_source, "MAX_BYTES", 16)
    path = str(files / "good.ms")
    with pytest.raises(SpecError) as info:
        read_source(path)
    (d,) = info.value.diagnostics
    size = len(TWO_PHASE.encode())
    assert d.code == "MS002"
    assert d.message == f"{path}: file is {size} bytes; the limit is 16"
    assert (d.span.file, d.span.line, d.span.column) == (path, 1, 1)


# ---------------------------------------------------------------- characters and literals


@pytest.mark.parametrize("text, code, line, column", [
    ("const Größe = 3", "MS101", 1, 9),
    ('const S = "no end', "MS101", 1, 11),
    ("const N = 3\n\tconst M = $\n", "MS101", 2, 12),
    ("const N = 1 ` 2", "MS101", 1, 13),
    ("\u00a0const N = 1", "MS101", 1, 1),
])
def test_unexpected_characters(text, code, line, column):
    d = _only(text, code)
    assert (d.span.line, d.span.column) == (line, column)


def test_integer_literal_with_5000_digits():
    text = "system S\nconst Big = " + "7" * 5000 + "\n"
    d = _only(text, "MS104")
    assert d.message == "integer literal has 5000 digits; at most 1000 are allowed"
    assert (d.span.line, d.span.column) == (2, 13)


def test_integer_literal_of_1000_digits_is_accepted():
    spec = mscheck.loads("const Big = " + "9" * 1000, "t.ms")
    assert spec.constants["Big"].value == int("9" * 1000)


@pytest.mark.parametrize("where", [
    "const N = {digits}",
    "service S {{ var x: 0..{digits} = 0 }}",
    "service A\nservice B\nA calls B weight {digits}",
    "context A\ncontext B\nA -> B : customer_supplier weight {digits}",
    "type T = -{digits}..0",
    "channel c: fifo({digits}) of int",
])
def test_huge_integer_literal_everywhere(where):
    d = _only(where.format(digits="1" * 5000), "MS104")
    assert d.message.startswith("integer literal has 5000 digits")


def test_huge_integer_where_a_process_is_expected():
    d = _only("process P = " + "5" * 5000, "MS100")
    assert d.message == "'55555555555555555...' is not a process; the inactive process is '0'"


# ---------------------------------------------------------------- deep nesting


def _deep_error(text: str):
    d = _only(text, "MS103")
    assert d.message == (f"nesting is deeper than {MAX_DEPTH} levels; split the expression or "
                         "process into definitions")
    assert d.span is not None and d.span.line >= 1 and d.span.column >= 1
    return d


NESTINGS = {
    "not": lambda n: "var x: bool = false\ninvariant I: " + "not " * n + "x",
    "minus-paren": lambda n: "const N = " + "-(" * n + "1" + ")" * n,
    "minus": lambda n: "const N = " + "-" * n + "1",
    "brackets": lambda n: "const N = " + "[" * n + "1" + "]" * n,
    "braces": lambda n: "const N = " + "{" * n + "1" + "}" * n,
    "if-then-else": lambda n: "const N = " + "if true then " * n + "1" + " else 2" * n,
    "process-parens": lambda n: "process P = " + "(" * n + "0" + ")" * n,
}


@pytest.mark.parametrize("kind", NESTINGS)
def test_deep_nesting_is_ms103(kind):
    _deep_error(NESTINGS[kind](5_000))


@pytest.mark.parametrize("kind", ["not", "minus-paren", "brackets", "braces"])
def test_nesting_100000_deep_is_ms103(kind):
    _deep_error(NESTINGS[kind](DEEP))


def test_redundant_parentheses_collapse():
    spec = mscheck.loads("const N = " + "(" * 300 + "41" + ")" * 300 + " + 1", "t.ms")
    assert spec.constants["N"].value == 42


def test_deep_redundant_parentheses_collapse():
    spec = mscheck.loads("const N = " + "(" * DEEP + "41" + ")" * DEEP + " + 1", "t.ms")
    assert spec.constants["N"].value == 42


def test_long_process_of_prefixes():
    text = "channel c: fifo(1) of int\nprocess P = " + "c!(1). " * PREFIXES + "0"
    d = _deep_error(text)
    assert d.span.line == 2


def test_nesting_below_the_limit_is_accepted():
    spec = mscheck.loads("const N = card({" + "[" * 100 + "1" + "]" * 100 + "})", "t.ms")
    assert spec.constants["N"].value == 1


def test_deep_nesting_on_the_command_line(tmp_path, mscheck_cli):
    (tmp_path / "deep.ms").write_text("var x: bool = false\ninvariant I: " + "not " * 5_000
                                      + "x\n")
    proc = mscheck_cli("lint", "deep.ms", cwd=tmp_path)
    assert proc.returncode == 2
    _no_traceback(proc)
    assert proc.stderr.startswith("deep.ms:2:")
    assert "error[MS103]: nesting is deeper than 400 levels" in proc.stderr
    assert proc.stderr.endswith("0 of 1 file(s) ok\n")


def test_100000_deep_nesting_on_the_command_line(tmp_path, mscheck_cli):
    (tmp_path / "deep.ms").write_text("var x: bool = false\ninvariant I: " + "not " * DEEP
                                      + "x\n")
    proc = mscheck_cli("lint", "deep.ms", cwd=tmp_path)
    _no_traceback(proc)
    assert proc.returncode == 2
    assert "error[MS103]" in proc.stderr


def test_long_flat_conjunction_is_accepted():
    spec = mscheck.loads("invariant I: " + "true and " * 20_000 + "true", "t.ms")
    assert len(spec.properties[0].expr.operands) == 20_001


# ---------------------------------------------------------------- the command itself


def test_version(mscheck_cli):
    proc = mscheck_cli("--version")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"mscheck {mscheck.__version__}\n",
                                                           "")


def test_no_arguments(mscheck_cli):
    proc = mscheck_cli()
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("usage: mscheck [-h] [--version] COMMAND ...")
    assert "lint" in proc.stderr and "model" in proc.stderr


def test_unknown_subcommand(mscheck_cli):
    proc = mscheck_cli("frobnicate")
    assert proc.returncode == 2
    last = proc.stderr.splitlines()[-1]
    assert last.startswith("mscheck: error: argument COMMAND: invalid choice: 'frobnicate' "
                           "(choose from ")
    assert "'lint'" in last and "'model'" in last


def test_lint_without_files(mscheck_cli):
    proc = mscheck_cli("lint")
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == ("mscheck: error: the following arguments are "
                                            "required: FILE")


def test_bad_format_choice(mscheck_cli, files):
    proc = mscheck_cli("lint", "--format", "xml", "good.ms", cwd=files)
    assert proc.returncode == 2
    assert "invalid choice: 'xml'" in proc.stderr


def test_const_without_value(files):
    assert main(["lint", "--const", "RM", str(files / "good.ms")]) == 2


def test_lint_ok(files, mscheck_cli):
    proc = mscheck_cli("lint", "good.ms", cwd=files)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "1 file(s) ok\n", "")


def test_lint_json_reports_positions(files, mscheck_cli):
    (files / "bad.ms").write_text("system S\nconst N = 3\nconst N = 4\n")
    proc = mscheck_cli("lint", "--format", "json", "bad.ms", "good.ms", cwd=files)
    assert proc.returncode == 2
    doc = json.loads(proc.stdout)
    assert doc["version"] == 1 and doc["command"] == "lint"
    bad, good = doc["files"]
    assert good == {"file": "good.ms", "ok": True, "diagnostics": []}
    assert bad["ok"] is False
    (d,) = bad["diagnostics"]
    assert (d["code"], d["severity"], d["file"], d["line"]) == ("MS201", "error", "bad.ms", 3)
    assert d["message"] == "'N' is already declared as a constant (line 2)"


def _instances(proc) -> list[str]:
    doc = json.loads(proc.stdout)
    (rm,) = [s for s in doc["formal_model"]["S"] if s["name"] == "ResourceManager"]
    return rm["instances"]


def test_const_override_changes_the_model(files, mscheck_cli):
    default = mscheck_cli("model", "--format", "json", "good.ms", cwd=files)
    four = mscheck_cli("model", "--format", "json", "--const", "RM=4", "good.ms", cwd=files)
    assert default.returncode == four.returncode == 0
    assert _instances(default) == [f"ResourceManager[r{i}]" for i in (1, 2, 3)]
    assert _instances(four) == [f"ResourceManager[rm{i}]" for i in (1, 2, 3, 4)]


def test_const_override_with_an_explicit_set(files, mscheck_cli):
    proc = mscheck_cli("model", "--format", "json", "--const", "RM={a, b}", "good.ms", cwd=files)
    assert proc.returncode == 0
    assert _instances(proc) == ["ResourceManager[a]", "ResourceManager[b]"]


def test_model_of_a_bad_file(files, mscheck_cli):
    (files / "bad.ms").write_text("system S\ncontext A\nA -> A : partnership\n")
    proc = mscheck_cli("model", "bad.ms", cwd=files)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines()[0] == "bad.ms:3:1: error[MS206]: context A is related to itself"


def test_good_spec_is_a_spec():
    assert isinstance(mscheck.loads(TWO_PHASE, "two_phase.ms"), Spec)
