"""Regression tests: one minimal reproducer for each defect found and fixed."""

from __future__ import annotations

import pytest

import mscheck
from mscheck.cli import main
from mscheck.diagnostics import CODES, SpecError
from mscheck.lang.parser import parse


def _diags(text: str, consts=None):
    with pytest.raises(SpecError) as info:
        mscheck.loads(text, "t.ms", consts)
    return info.value.diagnostics


def _accepted_or_rejected_cleanly(text: str):
    try:
        mscheck.loads(text, "t.ms")
    except SpecError as exc:
        assert all(d.code in CODES for d in exc.diagnostics)


# ---------------------------------------------------------------- crashes


def test_long_sum_is_not_a_crash():
    # 10,000 terms: the parse tree is flat (depth 1), so the depth guard lets it through.
    _accepted_or_rejected_cleanly("const N = " + "1 + " * 10_000 + "1")


def test_huge_computed_integer_is_reported_not_a_crash():
    # Each literal is legal (1000 digits); the product has 5000 and does not fit 0..3.
    (d,) = _diags("const N: 0..3 = " + " * ".join(["9" * 1000] * 5))
    assert d.code == "MS214"


# ---------------------------------------------------------------- wrong or missing codes


def test_bang_for_not_is_ms112():
    with pytest.raises(SpecError) as info:
        parse("invariant I: !ready", "t.ms")
    (d,) = info.value.diagnostics
    assert (d.code, d.span.column) == ("MS112", 14)


def test_expected_list_names_keywords():
    with pytest.raises(SpecError) as info:
        parse("invariant I: !ready", "t.ms")
    (d,) = info.value.diagnostics
    assert {"'not'", "'forall'", "'exists'", "'if'", "'true'", "'false'"} <= set(d.expected)


def test_indexed_assignment_at_top_level_is_ms114():
    with pytest.raises(SpecError) as info:
        parse("system S\nx[1] := 2", "t.ms")
    (d,) = info.value.diagnostics
    assert d.code == "MS114"


def test_constant_read_from_a_variable_is_ms212():
    (d,) = _diags("var counter: 0..5 = 0\nconst Limit = counter + 1")
    assert d.code == "MS212"
    assert d.message == "'counter' is a variable; a constant value is needed here"


def test_const_override_of_the_wrong_type_is_ms217():
    (d,) = _diags("const N: int where N >= 1 = 2", {"N": "true"})
    assert d.code == "MS217"
    assert "--const N=true" in d.message


# ---------------------------------------------------------------- diagnostics without a place


@pytest.mark.parametrize("literal", ["true", "false", "{}", "[]"])
def test_literal_has_a_span(literal):
    (d,) = _diags(f"system S\nvar x: 0..3 = {literal}")
    assert d.code == "MS203"
    assert d.span is not None and (d.span.line, d.span.column) == (2, 15)


def test_operator_with_a_literal_operand_has_a_span():
    diags = _diags("system S\ninvariant I: 1 + true")
    assert all(d.span is not None for d in diags)


# ---------------------------------------------------------------- embedding the command


def test_lint_diagnostics_can_be_captured(tmp_path, capsys):
    spec = tmp_path / "bad.ms"
    spec.write_text("system S\ncontext A\nA -> A : partnership\n")
    assert main(["lint", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "error[MS206]: context A is related to itself" in err
