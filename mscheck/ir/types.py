"""Finite types of the IR.

Atoms (enumeration literals and model values) are global symbols, as strings are in TLA+:
``committed`` is the same value whichever enumeration lists it. An enumeration type is a
finite set of atoms.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Type", "BoolT", "IntT", "StrT", "AtomT", "SetT", "MapT", "RecordT", "TupleT", "SeqT",
    "ChanT", "MsgT", "AnyT", "BOOL", "INT", "STR", "ANY", "assignable", "join", "show",
    "is_finite",
]


class Type:
    """Base class of IR types; every type is a frozen dataclass."""


@dataclass(frozen=True)
class BoolT(Type):
    pass


@dataclass(frozen=True)
class IntT(Type):
    lo: int | None = None
    hi: int | None = None


@dataclass(frozen=True)
class StrT(Type):
    pass


@dataclass(frozen=True)
class AtomT(Type):
    """A finite set of atoms; ``name`` is the declared type's name (or the model-value set)."""

    values: tuple[str, ...] | None = None  # None: any atom (the type of a bare literal)
    name: str | None = None
    model_values: bool = False


@dataclass(frozen=True)
class SetT(Type):
    elem: Type


@dataclass(frozen=True)
class MapT(Type):
    key: Type
    value: Type


@dataclass(frozen=True)
class RecordT(Type):
    fields: tuple[tuple[str, Type], ...]

    def field(self, name: str) -> Type | None:
        for n, t in self.fields:
            if n == name:
                return t
        return None


@dataclass(frozen=True)
class TupleT(Type):
    elems: tuple[Type, ...]


@dataclass(frozen=True)
class SeqT(Type):
    elem: Type
    max: int | None = None


@dataclass(frozen=True)
class ChanT(Type):
    payload: Type


@dataclass(frozen=True)
class MsgT(Type):
    """A union of declared messages, by name."""

    variants: tuple[str, ...]


@dataclass(frozen=True)
class AnyT(Type):
    """The type of an expression that already had an error: it matches everything."""


BOOL, INT, STR, ANY = BoolT(), IntT(), StrT(), AnyT()


def _same_kind(a: Type, b: Type) -> bool:
    return type(a) is type(b)


def assignable(target: Type, value: Type) -> bool:
    """Can a value of type ``value`` be stored where ``target`` is expected?

    Ranges and atom sets are checked when the value is known (by the checker, with a trace);
    statically only the shape must agree.
    """
    if isinstance(target, AnyT) or isinstance(value, AnyT):
        return True
    if not _same_kind(target, value):
        return False
    if isinstance(target, (SetT,)):
        return assignable(target.elem, value.elem)
    if isinstance(target, SeqT):
        return assignable(target.elem, value.elem)
    if isinstance(target, MapT):
        return assignable(target.key, value.key) and assignable(target.value, value.value)
    if isinstance(target, RecordT):
        return len(target.fields) == len(value.fields) and all(
            n1 == n2 and assignable(t1, t2)
            for (n1, t1), (n2, t2) in zip(sorted(target.fields), sorted(value.fields)))
    if isinstance(target, TupleT):
        return len(target.elems) == len(value.elems) and all(
            assignable(a, b) for a, b in zip(target.elems, value.elems))
    if isinstance(target, ChanT):
        return assignable(target.payload, value.payload)
    if isinstance(target, MsgT):
        return set(value.variants) <= set(target.variants)
    if isinstance(target, AtomT):
        if target.values is None or value.values is None:
            return True
        return bool(set(value.values) & set(target.values))
    return True


def comparable(a: Type, b: Type) -> bool:
    """Can values of the two types be compared, or meet in one set or one 'if'?"""
    if isinstance(a, AnyT) or isinstance(b, AnyT):
        return True
    if isinstance(a, MsgT) and isinstance(b, MsgT):
        return True  # different messages are different values of one union
    if type(a) is not type(b):
        return False
    if isinstance(a, (SetT, SeqT)):
        return comparable(a.elem, b.elem)
    if isinstance(a, MapT):
        return comparable(a.key, b.key) and comparable(a.value, b.value)
    if isinstance(a, TupleT):
        return len(a.elems) == len(b.elems) and all(
            comparable(x, y) for x, y in zip(a.elems, b.elems))
    if isinstance(a, ChanT):
        return comparable(a.payload, b.payload)
    return assignable(a, b) or assignable(b, a)


def join(a: Type, b: Type) -> Type:
    """The type of ``if c then x else y`` and of set literal elements."""
    if isinstance(a, AnyT):
        return b
    if isinstance(b, AnyT):
        return a
    if isinstance(a, IntT) and isinstance(b, IntT):
        if None in (a.lo, a.hi, b.lo, b.hi):
            return INT
        return IntT(min(a.lo, b.lo), max(a.hi, b.hi))
    if isinstance(a, AtomT) and isinstance(b, AtomT):
        if a == b:
            return a
        if a.values is None or b.values is None:
            return AtomT(None)
        return AtomT(tuple(dict.fromkeys(a.values + b.values)))
    if isinstance(a, SetT) and isinstance(b, SetT):
        return SetT(join(a.elem, b.elem))
    if isinstance(a, SeqT) and isinstance(b, SeqT):
        return SeqT(join(a.elem, b.elem), None)
    if isinstance(a, MsgT) and isinstance(b, MsgT):
        return MsgT(tuple(dict.fromkeys(a.variants + b.variants)))
    if isinstance(a, TupleT) and isinstance(b, TupleT) and len(a.elems) == len(b.elems):
        return TupleT(tuple(join(x, y) for x, y in zip(a.elems, b.elems)))
    return a


def is_finite(t: Type) -> bool:
    if isinstance(t, IntT):
        return t.lo is not None and t.hi is not None
    if isinstance(t, (StrT, AnyT)):
        return False
    if isinstance(t, AtomT):
        return t.values is not None
    if isinstance(t, SetT):
        return is_finite(t.elem)
    if isinstance(t, MapT):
        return is_finite(t.key) and is_finite(t.value)
    if isinstance(t, RecordT):
        return all(is_finite(f) for _, f in t.fields)
    if isinstance(t, TupleT):
        return all(is_finite(e) for e in t.elems)
    if isinstance(t, SeqT):
        return t.max is not None and is_finite(t.elem)
    return True


def show(t: Type) -> str:
    """Render a type in the spec's own syntax."""
    if isinstance(t, BoolT):
        return "bool"
    if isinstance(t, IntT):
        if t.lo is None or t.hi is None:
            return "int"
        return f"{t.lo}..{t.hi}"
    if isinstance(t, StrT):
        return "str"
    if isinstance(t, AtomT):
        if t.name:
            return t.name
        if t.values is None:
            return "atom"
        return "{" + ", ".join(t.values) + "}"
    if isinstance(t, SetT):
        return f"set of {show(t.elem)}"
    if isinstance(t, MapT):
        return f"[{show(t.key)} -> {show(t.value)}]"
    if isinstance(t, RecordT):
        return "{" + ", ".join(f"{n}: {show(f)}" for n, f in t.fields) + "}"
    if isinstance(t, TupleT):
        return "(" + ", ".join(show(e) for e in t.elems) + ")"
    if isinstance(t, SeqT):
        return f"seq of {show(t.elem)}" + (f" max {t.max}" if t.max is not None else "")
    if isinstance(t, ChanT):
        return f"chan of {show(t.payload)}"
    if isinstance(t, MsgT):
        return " | ".join(t.variants)
    if isinstance(t, AnyT):
        return "any"
    return "?"
