"""Defects of mscheck found by this suite and not yet fixed, one minimal reproducer each.

Every test states the behaviour we expect and is marked ``xfail(strict=True)``: it passes
while the defect is there, and fails (XPASS) the day it is fixed, so the marker gets removed
and the test joins the ordinary suite.
"""

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


@pytest.mark.xfail(strict=True, raises=RecursionError,
                   reason="lowering recurses once per operand of a left-nested '+' chain")
def test_long_sum_is_not_a_crash():
    # 10,000 terms: the parse tree is flat (depth 1), so the depth guard lets it through.
    _accepted_or_rejected_cleanly("const N = " + "1 + " * 10_000 + "1")


@pytest.mark.xfail(strict=True, raises=ValueError,
                   reason="show_value(str(int)) hits Python's 4300-digit conversion limit")
def test_huge_computed_integer_is_reported_not_a_crash():
    # Each literal is legal (1000 digits); the product has 5000 and does not fit 0..3.
    (d,) = _diags("const N: 0..3 = " + " * ".join(["9" * 1000] * 5))
    assert d.code == "MS214"


# ---------------------------------------------------------------- wrong or missing codes


@pytest.mark.xfail(strict=True, reason="'!' lexes as the send operator; the parser's "
                   "expected set from the lexer lacks keywords, so 'not' is never in it")
def test_bang_for_not_is_ms112():
    with pytest.raises(SpecError) as info:
        parse("invariant I: !ready", "t.ms")
    (d,) = info.value.diagnostics
    assert (d.code, d.span.column) == ("MS112", 14)


@pytest.mark.xfail(strict=True, reason="UnexpectedToken.expected from the contextual lexer "
                   "omits keyword terminals; interactive_parser.accepts() has them")
def test_expected_list_names_keywords():
    with pytest.raises(SpecError) as info:
        parse("invariant I: !ready", "t.ms")
    (d,) = info.value.diagnostics
    assert {"'not'", "'forall'", "'exists'", "'if'", "'true'", "'false'"} <= set(d.expected)


@pytest.mark.xfail(strict=True, reason="x[1] reads as a context side with roles, and the "
                   "slip detection only looks at ':=' and '!'")
def test_indexed_assignment_at_top_level_is_ms114():
    with pytest.raises(SpecError) as info:
        parse("system S\nx[1] := 2", "t.ms")
    (d,) = info.value.diagnostics
    assert d.code == "MS114"


@pytest.mark.xfail(strict=True, reason="constants are lowered before variables are declared, "
                   "so the variable is reported as an undefined name")
def test_constant_read_from_a_variable_is_ms212():
    (d,) = _diags("var counter: 0..5 = 0\nconst Limit = counter + 1")
    assert d.code == "MS212"
    assert d.message == "'counter' is a variable; a constant value is needed here"


@pytest.mark.xfail(strict=True, reason="an override of the wrong type is reported as MS203 "
                   "with no location instead of as an invalid override")
def test_const_override_of_the_wrong_type_is_ms217():
    (d,) = _diags("const N: int where N >= 1 = 2", {"N": "true"})
    assert d.code == "MS217"
    assert "--const N=true" in d.message


# ---------------------------------------------------------------- diagnostics without a place


@pytest.mark.xfail(strict=True, reason="'true', 'false', '{}' and '[]' hold no kept token, so "
                   "the tree conversion gives them no span")
@pytest.mark.parametrize("literal", ["true", "false", "{}", "[]"])
def test_literal_has_a_span(literal):
    (d,) = _diags(f"system S\nvar x: 0..3 = {literal}")
    assert d.code == "MS203"
    assert d.span is not None and (d.span.line, d.span.column) == (2, 15)


@pytest.mark.xfail(strict=True, reason="a binary expression takes its span from both operands, "
                   "so a span-less literal operand leaves the whole expression without one")
def test_operator_with_a_literal_operand_has_a_span():
    diags = _diags("system S\ninvariant I: 1 + true")
    assert all(d.span is not None for d in diags)


# ---------------------------------------------------------------- embedding the command


@pytest.mark.xfail(strict=True, reason="cli._print_diags binds stream=sys.stderr when the module "
                   "is imported, so redirected or captured stderr never sees the diagnostics")
def test_lint_diagnostics_can_be_captured(tmp_path, capsys):
    spec = tmp_path / "bad.ms"
    spec.write_text("system S\ncontext A\nA -> A : partnership\n")
    assert main(["lint", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "error[MS206]: context A is related to itself" in err
