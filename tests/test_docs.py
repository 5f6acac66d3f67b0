"""The language reference (docs/language.md) must only show specs that mscheck really accepts.

* Every ```ms block is a complete spec: it must parse and lint cleanly (no error, no warning),
  and every invariant that can be evaluated in its initial state (constants fixed, variables
  at their single initial value, no channel contents read) must hold there.
* A block whose first line is ``# error: MSnnn`` must be rejected, with exactly that code.
* A block whose first line is ``# warning: MSnnn`` must be accepted with exactly that warning.
* A comment line ``# $ mscheck ... --const NAME=VALUE ...`` in a block: the block must also
  lint cleanly with those overrides.
* Every row of the diagnostic table whose example is in backticks must draw that code, and
  the table must list every code of ``mscheck.diagnostics.CODES``.
* The ```text block marked ``<!-- mscheck model output -->`` must be exactly what
  ``mscheck model`` prints for the ```ms block before it.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

import mscheck
from mscheck.diagnostics import CODES, SpecError
from mscheck.ir.evaluate import EvalError, default_value, evaluate

DOC = Path(__file__).resolve().parent.parent / "docs" / "language.md"
TEXT = DOC.read_text(encoding="utf-8")

_FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
_EXPECT = re.compile(r"^#\s*(error|warning):\s*(MS\d{3})\s*$")
_MODEL_MARK = "<!-- mscheck model output -->"


def _blocks():
    """(language, body, line number of the opening fence, text before the fence)."""
    out = []
    for m in _FENCE.finditer(TEXT):
        line = TEXT.count("\n", 0, m.start()) + 1
        out.append((m.group(1), m.group(2), line, TEXT[: m.start()]))
    return out


BLOCKS = _blocks()
MS_BLOCKS = [(body, line) for lang, body, line, _ in BLOCKS if lang == "ms"]


def _load(body: str, consts: dict[str, str] | None = None):
    return mscheck.loads(body, "docs", consts)


def _codes(diags, severity: str) -> set[str]:
    return {d.code for d in diags if d.severity == severity}


def _describe(exc: SpecError) -> str:
    return "\n".join(d.header() for d in exc.diagnostics)


def test_doc_has_examples():
    assert len(MS_BLOCKS) >= 50, f"only {len(MS_BLOCKS)} ms examples found in {DOC}"


@pytest.mark.parametrize("body,line", MS_BLOCKS, ids=[f"line{ln}" for _, ln in MS_BLOCKS])
def test_ms_block(body: str, line: int):
    first = body.splitlines()[0] if body.strip() else ""
    expect = _EXPECT.match(first.strip())
    if expect and expect.group(1) == "error":
        code = expect.group(2)
        assert code in CODES, f"block at line {line} expects unknown code {code}"
        with pytest.raises(SpecError) as info:
            _load(body)
        errors = _codes(info.value.diagnostics, "error")
        assert errors == {code}, (
            f"block at line {line} should fail with exactly {code}, got:\n{_describe(info.value)}")
        return
    try:
        spec = _load(body)
    except SpecError as exc:
        pytest.fail(f"block at line {line} does not lint cleanly:\n{_describe(exc)}")
    _check_initial_invariants(spec, line)
    warnings = _codes(spec.warnings, "warning")
    if expect:  # "# warning: MSnnn"
        assert warnings == {expect.group(2)}, (
            f"block at line {line} should warn with exactly {expect.group(2)}, got "
            f"{[d.header() for d in spec.warnings]}")
    else:
        assert not spec.warnings, (
            f"block at line {line} draws warnings: {[d.header() for d in spec.warnings]}")


class _Unknown(Exception):
    """The initial state is not a single known valuation (or reads a channel)."""


def _initial_state(spec):
    """A reader of variables in the initial state, or raise _Unknown."""
    consts = {n: c.value for n, c in spec.constants.items()}
    values = {}

    def first(var, env):
        if var.init_kind == "choice":
            raise _Unknown
        try:
            if var.init is None:
                return default_value(var.type, spec.messages)
            return evaluate(var.init, env, consts, None, spec.messages)
        except (EvalError, KeyError, TypeError, AttributeError):
            raise _Unknown from None

    for v in spec.shared_vars.values():
        values[(None, v.name, None)] = first(v, {})
    for svc in spec.services.values():
        for i in (svc.index_values if svc.index is not None else (None,)):
            env = {svc.index[0]: i} if svc.index is not None else {}
            for v in svc.vars:
                values[(svc.name, v.name, i)] = first(v, env)

    def read(ref, idx):
        return values[(ref.owner, ref.var, idx)]

    return consts, read


def _check_initial_invariants(spec, line: int) -> None:
    try:
        consts, read = _initial_state(spec)
    except _Unknown:
        return
    for prop in spec.properties_of("invariant"):
        try:
            ok = evaluate(prop.expr, {}, consts, read, spec.messages)
        except (EvalError, KeyError, TypeError, AttributeError):
            continue  # a symbolic constant, a channel's contents, ...
        assert ok is True, f"block at line {line}: invariant {prop.name} is false initially"


def _const_runs():
    runs = []
    for body, line in MS_BLOCKS:
        for text in body.splitlines():
            text = text.strip()
            if not text.startswith("# $ "):
                continue
            words = shlex.split(text[4:])
            consts = {}
            for i, w in enumerate(words):
                if w == "--const" and i + 1 < len(words):
                    k, v = words[i + 1].split("=", 1)
                    consts[k] = v
                elif w.startswith("--const="):
                    k, v = w[len("--const="):].split("=", 1)
                    consts[k] = v
            if consts:
                runs.append((body, line, consts))
    return runs


CONST_RUNS = _const_runs()


def test_const_examples_exist():
    assert CONST_RUNS, "the reference should show an example of --const"


@pytest.mark.parametrize("body,line,consts", CONST_RUNS,
                         ids=[f"line{ln}" for _, ln, _ in CONST_RUNS])
def test_const_override_block(body: str, line: int, consts: dict[str, str]):
    try:
        spec = _load(body, consts)
    except SpecError as exc:
        pytest.fail(f"block at line {line} with {consts} does not lint:\n{_describe(exc)}")
    assert not spec.warnings
    for name, value in consts.items():
        assert spec.constants[name].overridden


def _table_rows():
    """(code, example or None) for every row of the diagnostic-code table."""
    section = TEXT.split("## 12. Diagnostic codes", 1)[1]
    rows = []
    for text in section.splitlines():
        m = re.match(r"^\|\s*(MS\d{3})\s*\|(.*)\|\s*$", text)
        if not m:
            continue
        cells = re.split(r"(?<!\\)\|", m.group(2))
        example = cells[-1].strip()
        code_m = re.fullmatch(r"`(.+)`", example)
        rows.append((m.group(1), code_m.group(1).replace("\\|", "|") if code_m else None))
    return rows


TABLE = _table_rows()


def test_table_lists_every_code():
    listed = [code for code, _ in TABLE]
    assert sorted(listed) == sorted(CODES), (
        f"missing: {sorted(set(CODES) - set(listed))}, extra: {sorted(set(listed) - set(CODES))}")
    assert len(listed) == len(set(listed)), "a code is listed twice"


@pytest.mark.parametrize("code,example", [r for r in TABLE if r[1] is not None],
                         ids=[r[0] for r in TABLE if r[1] is not None])
def test_table_example(code: str, example: str):
    with pytest.raises(SpecError) as info:
        _load(example)
    errors = _codes(info.value.diagnostics, "error")
    assert errors == {code}, f"`{example}` should draw exactly {code}:\n{_describe(info.value)}"


def test_model_output(tmp_path, capsys):
    from mscheck.cli import main

    marked = [(i, b) for i, b in enumerate(BLOCKS) if b[3].rstrip().endswith(_MODEL_MARK)]
    assert marked, "the reference should show the output of mscheck model"
    for i, (lang, body, line, _) in marked:
        assert lang == "text"
        spec_blocks = [b for b in BLOCKS[:i] if b[0] == "ms"]
        assert spec_blocks, f"no ms block before the model output at line {line}"
        path = tmp_path / "spec.ms"
        path.write_text(spec_blocks[-1][1], encoding="utf-8")
        capsys.readouterr()
        assert main(["model", str(path)]) == 0
        out = capsys.readouterr().out
        assert out.rstrip("\n") == body.rstrip("\n"), (
            f"the model output at line {line} differs from what mscheck model prints:\n{out}")
