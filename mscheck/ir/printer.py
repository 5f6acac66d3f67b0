"""IR expressions back to the spec's own syntax (for traces, models and found invariants)."""

from __future__ import annotations

from mscheck.ir import nodes as N
from mscheck.ir.evaluate import show_value

__all__ = ["show_expr", "show_target"]

_PREC = {"=>": 1, "<=>": 1, "or": 2, "and": 3, "not": 4, "==": 5, "!=": 5, "<": 5, "<=": 5,
         ">": 5, ">=": 5, "in": 5, "notin": 5, "subset": 5, "..": 6, "+": 7, "-": 7, "union": 7,
         "minus": 7, "++": 7, "*": 8, "div": 8, "mod": 8, "inter": 8}


def _binders(vars_) -> str:
    return ", ".join(f"{n} in {show_expr(d)}" for n, d in vars_)


def _wrap(e: N.Expr, prec: int) -> str:
    s = show_expr(e)
    p = _prec_of(e)
    return f"({s})" if p < prec else s


def _prec_of(e: N.Expr) -> int:
    if isinstance(e, N.Binary):
        return _PREC[e.op]
    if isinstance(e, N.BoolOp):
        return _PREC[e.op]
    if isinstance(e, N.Unary):
        return 4 if e.op == "not" else 9
    if isinstance(e, (N.Quant, N.Ite, N.LetE)):
        return 0
    return 10


def show_expr(e: N.Expr) -> str:
    """Render ``e`` in spec syntax; the parser reads it back to the same meaning, except for
    inlined definitions, which show their argument with ``where``."""
    if isinstance(e, N.Lit):
        return f'"{e.value}"' if isinstance(e.value, str) and e.type.__class__.__name__ == \
            "StrT" else show_value(e.value)
    if isinstance(e, N.ConstRef):
        return e.name
    if isinstance(e, N.Local):
        return e.name
    if isinstance(e, N.VarRef):
        if e.owner is None:
            return e.var
        idx = f"[{show_expr(e.index)}]" if e.index is not None else ""
        return f"{e.owner}{idx}.{e.var}"
    if isinstance(e, N.ProcVar):
        return f"{e.process}.{e.param}"
    if isinstance(e, N.ChanVal):
        return e.channel + "".join(f"[{show_expr(i)}]" for i in e.indices)
    if isinstance(e, N.TypeSet):
        from mscheck.ir.types import show

        return show(e.of)
    if isinstance(e, N.Unary):
        if e.op == "not":
            return f"not {_wrap(e.operand, 4)}"
        return f"-{_wrap(e.operand, 9)}"
    if isinstance(e, N.BoolOp):
        p = _PREC[e.op]
        return f" {e.op} ".join(_wrap(o, p + 1) for o in e.operands)
    if isinstance(e, N.Binary):
        p = _PREC[e.op]
        right_assoc = e.op == "=>"
        left = _wrap(e.left, p + 1 if right_assoc or p == 5 else p)
        right = _wrap(e.right, p if right_assoc else p + 1)
        sep = "" if e.op == ".." else " "
        return f"{left}{sep}{e.op}{sep}{right}"
    if isinstance(e, N.Ite):
        return f"if {show_expr(e.cond)} then {show_expr(e.then)} else {show_expr(e.orelse)}"
    if isinstance(e, N.Quant):
        return f"{e.kind} {_binders(e.vars)}: {show_expr(e.body)}"
    if isinstance(e, N.SetLit):
        return "{" + ", ".join(show_expr(x) for x in e.elems) + "}"
    if isinstance(e, N.SetFilter):
        return "{" + f"{e.var} in {show_expr(e.domain)} : {show_expr(e.pred)}" + "}"
    if isinstance(e, N.SetMap):
        return "{" + f"{show_expr(e.expr)} : {_binders(e.vars)}" + "}"
    if isinstance(e, N.RecordLit):
        return "{" + ", ".join(f"{n}: {show_expr(x)}" for n, x in e.fields) + "}"
    if isinstance(e, N.TupleLit):
        return "(" + ", ".join(show_expr(x) for x in e.elems) + ")"
    if isinstance(e, N.SeqLit):
        return "[" + ", ".join(show_expr(x) for x in e.elems) + "]"
    if isinstance(e, N.MapLit):
        return f"[{e.var} in {show_expr(e.domain)} |-> {show_expr(e.body)}]"
    if isinstance(e, N.Index):
        return f"{_wrap(e.base, 10)}[{show_expr(e.index)}]"
    if isinstance(e, N.SubSeq):
        return f"{_wrap(e.base, 10)}[{show_expr(e.lo)}..{show_expr(e.hi)}]"
    if isinstance(e, N.Field):
        return f"{_wrap(e.base, 10)}.{e.name}"
    if isinstance(e, N.Update):
        path = "".join(f".{s.field}" if s.field is not None else f"[{show_expr(s.index)}]"
                       for s in e.path)
        return f"{_wrap(e.base, 10)} with {path} = {_wrap(e.value, 7)}"
    if isinstance(e, N.Call):
        return f"{e.func}(" + ", ".join(show_expr(a) for a in e.args) + ")"
    if isinstance(e, N.MsgLit):
        return e.name + ("(" + ", ".join(show_expr(a) for a in e.args) + ")" if e.args else "")
    if isinstance(e, N.LetE):
        # A definition call, inlined: show the body with the argument substituted in words.
        return f"({show_expr(e.body)} where {e.name} = {show_expr(e.value)})"
    return f"<{type(e).__name__}>"


def show_target(t: N.Target) -> str:
    head = t.var if t.owner is None else t.var
    return head + "".join(f".{s.field}" if s.field is not None else f"[{show_expr(s.index)}]"
                          for s in t.path)
