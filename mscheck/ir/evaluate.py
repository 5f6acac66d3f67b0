"""Values and a plain evaluator of IR expressions.

Used to fix constants, domains and capacities while lowering, and as the reference meaning of
expressions that compiled engines must agree with. Values: bool, int, str (strings and atoms),
frozenset (sets), tuple (tuples and sequences), :class:`Record`, :class:`FMap`, :class:`MsgVal`,
:class:`ChanId`.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any, Callable, Mapping

from mscheck.ir import nodes as N
from mscheck.ir import types as T

__all__ = ["Record", "FMap", "MsgVal", "ChanId", "EvalError", "evaluate", "type_values",
           "show_value"]


class EvalError(Exception):
    """An expression has no value (division by zero, lookup outside a domain, ...)."""


@dataclass(frozen=True)
class Record:
    fields: tuple[tuple[str, Any], ...]

    def get(self, name):
        for n, v in self.fields:
            if n == name:
                return v
        raise EvalError(f"record has no field '{name}'")

    def set(self, name, value) -> "Record":
        return Record(tuple((n, value if n == name else v) for n, v in self.fields))


@dataclass(frozen=True)
class FMap:
    """A total function over a finite domain, as sorted (key, value) pairs."""

    items: tuple[tuple[Any, Any], ...]

    def get(self, key):
        for k, v in self.items:
            if k == key:
                return v
        raise EvalError(f"{show_value(key)} is not in the map's domain")

    def set(self, key, value) -> "FMap":
        if not any(k == key for k, _ in self.items):
            raise EvalError(f"{show_value(key)} is not in the map's domain")
        return FMap(tuple((k, value if k == key else v) for k, v in self.items))


@dataclass(frozen=True)
class MsgVal:
    name: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class ChanId:
    """A channel as a value: a declared channel with its indices, or a fresh name (``new``)."""

    name: str
    indices: tuple[Any, ...] = ()


_KEYS: dict[int, tuple] = {}  # id -> (value, its key): repr of a structured value is slow
_KEYED = 1 << 16  # values whose keys are remembered at most (then forgotten at once)


def _sort_key(v):
    t = type(v)
    if t is str or t is bool or t is int:
        return (t.__name__, repr(v))
    got = _KEYS.get(id(v))
    if got is not None and got[0] is v:  # (the value is held here: its id is not reused)
        return got[1]
    key = (t.__name__, repr(v))
    if len(_KEYS) >= _KEYED:
        _KEYS.clear()
    _KEYS[id(v)] = (v, key)
    return key


def _sort_key_any(v):
    """The order maps list their keys in (and so every engine): numbers by value."""
    return ("", v) if isinstance(v, int) and not isinstance(v, bool) else _sort_key(v)


def show_value(v) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int) and v.bit_length() > 3000:
        return f"<an integer of {v.bit_length()} bits>"
    if isinstance(v, frozenset):
        return "{" + ", ".join(show_value(x) for x in sorted(v, key=_sort_key)) + "}"
    if isinstance(v, tuple):
        return "[" + ", ".join(show_value(x) for x in v) + "]"
    if isinstance(v, Record):
        return "{" + ", ".join(f"{n}: {show_value(x)}" for n, x in v.fields) + "}"
    if isinstance(v, FMap):
        return "[" + ", ".join(f"{show_value(k)} |-> {show_value(x)}" for k, x in v.items) + "]"
    if isinstance(v, MsgVal):
        return v.name + ("(" + ", ".join(show_value(a) for a in v.args) + ")" if v.args else "")
    if isinstance(v, ChanId):
        return v.name + "".join(f"[{show_value(i)}]" for i in v.indices)
    return str(v)


def type_values(t: T.Type, messages: Mapping[str, N.Message] | None = None, limit=1_000_000):
    """All values of a finite type, in a fixed order; raises EvalError for infinite types."""
    if isinstance(t, T.BoolT):
        return [False, True]
    if isinstance(t, T.IntT):
        if t.lo is None or t.hi is None:
            raise EvalError("int is not a finite type")
        if t.hi - t.lo >= limit:
            raise EvalError(f"{T.show(t)} has too many values to list")
        return list(range(t.lo, t.hi + 1))
    if isinstance(t, T.AtomT):
        if t.values is None:
            raise EvalError("the type is not finite")
        return list(t.values)
    if isinstance(t, T.SetT):
        elems = type_values(t.elem, messages, limit)
        if len(elems) > 20 or 1 << len(elems) > limit:
            raise EvalError("the set type has too many values to list")
        out = []
        for mask in range(1 << len(elems)):
            out.append(frozenset(e for i, e in enumerate(elems) if mask >> i & 1))
        return out
    if isinstance(t, T.TupleT):
        parts = _listed_parts(t, [type_values(e, messages, limit) for e in t.elems], limit)
        return [tuple(p) for p in product(*parts)]
    if isinstance(t, T.RecordT):
        fields = sorted(t.fields)  # records always list their fields by name
        names = [n for n, _ in fields]
        parts = _listed_parts(t, [type_values(f, messages, limit) for _, f in fields], limit)
        return [Record(tuple(zip(names, p))) for p in product(*parts)]
    if isinstance(t, T.MapT):
        keys = sorted(type_values(t.key, messages, limit), key=_sort_key_any)
        vals = type_values(t.value, messages, limit)
        if len(vals) ** len(keys) > limit:
            raise EvalError("the map type has too many values to list")
        return [FMap(tuple(zip(keys, p))) for p in product(vals, repeat=len(keys))]
    raise EvalError(f"cannot list the values of {T.show(t)}")


def _listed_parts(t: T.Type, parts: list[list], limit: int) -> list[list]:
    """``parts``, the values of each component of ``t``, unless their combinations are
    more than ``limit``."""
    n = 1
    for p in parts:
        n *= len(p)
        if n > limit:
            raise EvalError(f"{T.show(t)} has too many values to list")
    return parts


def default_value(t: T.Type, messages=None):
    """The value a variable declared without an initialiser starts with."""
    if isinstance(t, T.BoolT):
        return False
    if isinstance(t, T.IntT):
        return t.lo if t.lo is not None else 0
    if isinstance(t, T.StrT):
        return ""
    if isinstance(t, T.AtomT):
        if not t.values:
            raise EvalError("the type has no values")
        return t.values[0]
    if isinstance(t, T.SetT):
        return frozenset()
    if isinstance(t, T.SeqT):
        return ()
    if isinstance(t, T.TupleT):
        return tuple(default_value(e, messages) for e in t.elems)
    if isinstance(t, T.RecordT):
        return Record(tuple((n, default_value(f, messages)) for n, f in sorted(t.fields)))
    if isinstance(t, T.MapT):
        return FMap(tuple((k, default_value(t.value, messages))
                          for k in sorted(type_values(t.key, messages), key=_sort_key_any)))
    raise EvalError(f"a variable of type {T.show(t)} needs an initial value")


#: A range ``lo..hi`` made into a set holds at most this many values.
MAX_RANGE_SET = 1 << 22
#: Products of more bits are not computed (a chain of constants each the square of the last
#: would otherwise run for hours): the literals' bound is 1,000 digits, some 3,300 bits.
MAX_PRODUCT_BITS = 1 << 16


def range_set(low: int, high: int) -> frozenset:
    """The set ``low..high``; EvalError (saying how many values it has) past
    ``MAX_RANGE_SET`` values, which would otherwise take the memory there is, slowly."""
    if high - low >= MAX_RANGE_SET:
        raise EvalError(f"has {high - low + 1:,} values: too many to make a set of (at most "
                        f"{MAX_RANGE_SET:,})")
    return frozenset(range(low, high + 1))


def _times(a, b):
    if (isinstance(a, int) and isinstance(b, int)
            and a.bit_length() + b.bit_length() - 1 > MAX_PRODUCT_BITS):  # (its least size)
        raise EvalError(f"the product has more than {MAX_PRODUCT_BITS:,} bits")
    return a * b


_BIN: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": _times,
    "union": lambda a, b: a | b,
    "inter": lambda a, b: a & b,
    "minus": lambda a, b: a - b,
    "++": lambda a, b: a + b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "in": lambda a, b: a in b,
    "notin": lambda a, b: a not in b,
    "subset": lambda a, b: a <= b,
}


def evaluate(e: N.Expr, env: Mapping[str, Any], consts: Mapping[str, Any],
             state: Callable[[N.VarRef, Any], Any] | None = None,
             messages: Mapping[str, N.Message] | None = None) -> Any:
    """Evaluate ``e``; ``env`` holds locals, ``consts`` constant values, ``state`` reads
    variables (given the VarRef and the evaluated instance index)."""

    def ev(x, env):
        return evaluate(x, env, consts, state, messages)

    if isinstance(e, N.Lit):
        return e.value
    if isinstance(e, N.ConstRef):
        if consts.get(e.name) is None:
            raise EvalError(f"constant {e.name} has no value; give one with --const {e.name}=...")
        return consts[e.name]
    if isinstance(e, N.Local):
        return env[e.name]
    if isinstance(e, N.VarRef):
        if state is None:
            raise EvalError("a variable cannot be read here")
        idx = ev(e.index, env) if e.index is not None else None
        return state(e, idx)
    if isinstance(e, N.TypeSet):
        return frozenset(type_values(e.of, messages))
    if isinstance(e, N.ChanVal):
        return ChanId(e.channel, tuple(ev(i, env) for i in e.indices))
    if isinstance(e, N.Unary):
        v = ev(e.operand, env)
        return (not v) if e.op == "not" else -v
    if isinstance(e, N.BoolOp):
        if e.op == "and":
            return all(ev(o, env) for o in e.operands)
        return any(ev(o, env) for o in e.operands)
    if isinstance(e, N.Binary):
        op = e.op
        if op == "=>":
            return (not ev(e.left, env)) or bool(ev(e.right, env))
        a = ev(e.left, env)
        if op == "<=>":
            return bool(a) == bool(ev(e.right, env))
        if op in ("in", "notin") and isinstance(e.right, N.Binary) and e.right.op == "..":
            # membership of a range: its bounds compared, the set never made
            low, high = ev(e.right.left, env), ev(e.right.right, env)
            return (low <= a <= high) == (op == "in")
        b = ev(e.right, env)
        if op == "..":
            try:
                return range_set(a, b)
            except EvalError as exc:
                raise EvalError(f"{a}..{b} {exc}") from None
        if op in ("div", "mod"):
            if b == 0:
                raise EvalError("division by zero")
            return a // b if op == "div" else a % b
        return _BIN[op](a, b)
    if isinstance(e, N.Ite):
        return ev(e.then, env) if ev(e.cond, env) else ev(e.orelse, env)
    if isinstance(e, N.Quant):
        results = (ev(e.body, b) for b in _bindings(e.vars, env, ev))
        return any(results) if e.kind == "exists" else all(results)
    if isinstance(e, N.SetLit):
        return frozenset(ev(x, env) for x in e.elems)
    if isinstance(e, N.SetFilter):
        return frozenset(x for x in ev(e.domain, env) if ev(e.pred, {**env, e.var: x}))
    if isinstance(e, N.SetMap):
        return frozenset(ev(e.expr, b) for b in _bindings(e.vars, env, ev))
    if isinstance(e, N.RecordLit):
        return Record(tuple(sorted((n, ev(x, env)) for n, x in e.fields)))
    if isinstance(e, (N.TupleLit, N.SeqLit)):
        return tuple(ev(x, env) for x in e.elems)
    if isinstance(e, N.MapLit):
        keys = sorted(ev(e.domain, env), key=_sort_key_any)
        return FMap(tuple((k, ev(e.body, {**env, e.var: k})) for k in keys))
    if isinstance(e, N.MsgLit):
        return MsgVal(e.name, tuple(ev(a, env) for a in e.args))
    if isinstance(e, N.LetE):
        return ev(e.body, {**env, e.name: ev(e.value, env)})
    if isinstance(e, N.Index):
        base = ev(e.base, env)
        idx = ev(e.index, env)
        return _index(base, idx)
    if isinstance(e, N.SubSeq):
        base = ev(e.base, env)
        lo, hi = ev(e.lo, env), ev(e.hi, env)
        if lo < 1 or hi > len(base) or lo > hi + 1:
            raise EvalError(f"sub-sequence {lo}..{hi} is outside a sequence of length {len(base)}")
        return base[lo - 1:hi]
    if isinstance(e, N.Field):
        base = ev(e.base, env)
        if isinstance(base, MsgVal):
            fields = messages[base.name].fields if messages else ()
            for (n, _), v in zip(fields, base.args):
                if n == e.name:
                    return v
            raise EvalError(f"message {base.name} has no field {e.name}")
        return base.get(e.name)
    if isinstance(e, N.Update):
        return _update(ev(e.base, env), [(s, ev(s.index, env) if s.index is not None else None)
                                         for s in e.path], ev(e.value, env))
    if isinstance(e, N.Call):
        args = [ev(a, env) for a in e.args]
        return _builtin(e.func, args)
    raise EvalError(f"cannot evaluate {type(e).__name__} here")


def _bindings(vars_, env, ev):
    envs = [dict(env)]
    for name, dom in vars_:
        nxt = []
        for b in envs:
            for v in sorted(ev(dom, b), key=_sort_key):
                nb = dict(b)
                nb[name] = v
                nxt.append(nb)
        envs = nxt
    return envs


def _index(base, idx):
    if isinstance(base, FMap):
        return base.get(idx)
    if isinstance(base, tuple):
        if not isinstance(idx, int) or idx < 1 or idx > len(base):
            raise EvalError(f"index {show_value(idx)} is outside 1..{len(base)}")
        return base[idx - 1]
    raise EvalError("value cannot be indexed")


def _update(base, path, value):
    if not path:
        return value
    (step, idx), rest = path[0], path[1:]
    if step.field is not None:
        return base.set(step.field, _update(base.get(step.field), rest, value))
    if isinstance(base, FMap):
        return base.set(idx, _update(base.get(idx), rest, value))
    if isinstance(base, tuple):
        inner = _update(_index(base, idx), rest, value)
        return base[: idx - 1] + (inner,) + base[idx:]
    raise EvalError("value cannot be updated")


def _builtin(func, args):
    if func == "card":
        return len(args[0])
    if func == "len":
        return len(args[0])
    if func == "head":
        if not args[0]:
            raise EvalError("head of an empty sequence")
        return args[0][0]
    if func == "tail":
        if not args[0]:
            raise EvalError("tail of an empty sequence")
        return args[0][1:]
    if func == "append":
        return args[0] + (args[1],)
    if func in ("min", "max"):
        if not args[0]:
            raise EvalError(f"{func} of an empty set")
        return min(args[0]) if func == "min" else max(args[0])
    if func == "abs":
        return abs(args[0])
    if func == "dom":
        return frozenset(k for k, _ in args[0].items)
    raise EvalError(f"{func} cannot be evaluated here")
