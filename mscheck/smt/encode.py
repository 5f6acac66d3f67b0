"""The service layer of the IR as a symbolic transition system over Z3 terms.

A *state copy* maps every state component to one Z3 constant: a variable of a service (an
array indexed by the replica domain for a replicated service), a shared variable, and the
contents of each buffered channel instance (``set``/``log``: a set of messages; ``bag(k)``: a
count per message and a size; ``fifo(k)``: a length and ``k`` slots). Steps are encoded as
in :mod:`mscheck.engine.compile`: a step is one action (with its parameters) or one handler
(with the message it takes) of one service instance; the body runs atomically; a send to a
full ``fifo``/``bag`` blocks the whole step; a send on a ``sync`` channel runs a receiving
handler (of any instance whose pattern and guard take the message) inside the same step, and
blocks when there is none; ``choose`` and parameters are existentials. Sequences and strings
are Z3 sequences and strings.

Encoding choices that keep every answer sound:

- integers are Z3 integers; the declared range of a variable is *not* assumed (a value
  leaving its range is an error in the checker, so assuming it could hide a violation);
- atoms are integer codes; an atom-typed variable is assumed to hold a value of its type in
  every state (an assignment outside it is an error in the checker, so no state escapes);
- a set of model values that the spec never names one by one becomes an uninterpreted sort,
  so a proof covers every number of elements;
- a failing ``assert`` blocks the step (the checker stops there with an error); an
  expression with no value in a step (a division by zero, ``head`` of an empty sequence)
  may take any value there, for the same reason;
- a property holds only where the checker can evaluate it: :meth:`Encoder.holds` conjoins
  its *definedness* (positions inside the sequence, non-zero divisors, non-empty sets for
  ``min``/``max``, integer map keys inside the key range), taking ``and``, ``or``, ``=>``
  and ``if`` in the checker's left-to-right order, so that an invariant the checker cannot
  evaluate in a reachable state is violated in a proof too;
- anything else not handled raises :class:`Unsupported`.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any, Callable

import z3

from mscheck.ir import nodes as N
from mscheck.ir import types as T
from mscheck.ir.evaluate import EvalError, default_value, show_value, type_values
from mscheck.ir.walk import walk

__all__ = ["Unsupported", "Encoder", "StepDef", "StateVar"]


#: A type's values are listed in an encoding (``card``, a quantifier over the type) when
#: they are at most this many; a term of more grows past what a proof can take.
MAX_LISTED = 1 << 14


class Unsupported(Exception):
    """A construct the prover does not encode yet: the answer is 'unknown', never 'proved'."""

    def __init__(self, message: str, span=None):
        super().__init__(message)
        self.message = message
        self.span = span

    def where(self) -> str:
        s = self.span
        if s is None:
            return self.message
        line = getattr(s, "line", None)
        return f"{self.message} (line {line})" if line else self.message


@dataclass
class StateVar:
    key: tuple
    label: str  # as the checker names the slot
    sort: Any
    type: T.Type | None  # IR type of the value (per instance for replicated variables)
    kind: str  # var | rvar | set | bagcnt | bagsize | fifolen | fifoslot
    owner: str | None = None
    extra: Any = None  # replica domain values / channel index / slot number


@dataclass
class StepDef:
    label: str  # "Service.name"
    service: str
    name: str
    kind: str  # action | handler
    param_names: list[str]
    build: Callable  # (pre, tag) -> (paths, params)  paths: list[(pc list, post dict)]
    node: Any = None


@dataclass
class _Path:
    pc: list
    st: dict
    env: dict


class Encoder:
    """Encodes one spec; see the module docstring."""

    def __init__(self, spec: N.Spec, concrete_consts: bool = False):
        self._wd: list | None = None  # definedness conditions, collected by holds()
        self._guard: list = []
        self.spec = spec
        self.concrete = concrete_consts
        self._fresh_n = 0
        self.fresh_vars: list = []  # every existential made (for CHC rules)
        self._sorts: dict = {}
        self._tuples: dict = {}
        if spec.init is not None or spec.processes:
            raise Unsupported("processes (pi-calculus terms) are not encoded for proofs yet",
                              None)
        self._choose_usorts()
        atoms = sorted(a for a in spec.atoms if a not in self._uvalues)
        self.atom_code = {a: i for i, a in enumerate(atoms)}
        self.code_atom = {i: a for a, i in self.atom_code.items()}
        self._make_msgs()
        self.consts: dict[str, Any] = {}
        self.const_syms: list = []
        self.axioms: list = []
        self._make_consts()
        self.vars: list[StateVar] = []
        self._layout()
        self.steps: list[StepDef] = []
        self._make_steps()

    # ------------------------------------------------------------ sorts
    def _choose_usorts(self) -> None:
        self.usorts: dict[str, Any] = {}
        self._uvalues: set[str] = set()
        mv_types = {n: t for n, t in self.spec.types.items()
                    if isinstance(t, T.AtomT) and t.model_values and t.values}
        named: set[str] = set()
        roots: list = []
        for svc in self.spec.services.values():
            roots += [svc.actions, svc.handlers, svc.end_when]
            roots += [v.init for v in svc.vars]
            for v in svc.vars:
                if v.init is None:
                    for n, t in mv_types.items():
                        if _mentions(v.type, n):
                            named.add(n)
        roots += [v.init for v in self.spec.shared_vars.values()]
        for v in self.spec.shared_vars.values():
            if v.init is None:
                for n, t in mv_types.items():
                    if _mentions(v.type, n):
                        named.add(n)
        roots += [p.expr for p in self.spec.properties]
        roots += [p.target for p in self.spec.properties if p.target is not None]
        roots += [c.init for c in self.spec.channels.values()]
        roots += [c.where for c in self.spec.constants.values() if c.where is not None]
        for node in walk(roots):
            if isinstance(node, N.Lit) and isinstance(node.value, str):
                for n, t in mv_types.items():
                    if node.value in t.values:
                        named.add(n)
            if isinstance(node, N.Call) and node.func in ("card", "min", "max"):
                for n in mv_types:
                    if _mentions(node.args[0].type, n):
                        named.add(n)
        for ch in self.spec.channels.values():
            for _, d in ch.indices:
                for n in mv_types:
                    if _mentions(d.type, n):
                        named.add(n)
        for n, t in mv_types.items():
            if n not in named:
                self.usorts[n] = z3.DeclareSort(n)
                self._uvalues.update(t.values)

    def is_usort_type(self, t) -> bool:
        return isinstance(t, T.AtomT) and t.model_values and t.name in self.usorts

    def sort(self, t: T.Type):
        key = t
        if key in self._sorts:
            return self._sorts[key]
        s = self._sort(t)
        self._sorts[key] = s
        return s

    def _sort(self, t: T.Type):
        if isinstance(t, T.BoolT):
            return z3.BoolSort()
        if isinstance(t, T.IntT):
            return z3.IntSort()
        if isinstance(t, T.AtomT):
            if self.is_usort_type(t):
                return self.usorts[t.name]
            if t.values and any(v in self._uvalues for v in t.values):
                raise Unsupported(f"atom type {T.show(t)} mixes model values with other atoms")
            return z3.IntSort()
        if isinstance(t, T.SetT):
            return z3.ArraySort(self.sort(t.elem), z3.BoolSort())
        if isinstance(t, T.MapT):
            return z3.ArraySort(self.sort(t.key), self.sort(t.value))
        if isinstance(t, T.MsgT):
            if self.Msg is None:
                raise Unsupported("a message type without declared messages")
            return self.Msg
        if isinstance(t, (T.RecordT, T.TupleT)):
            return self._tuple_sort(t)
        if isinstance(t, T.SeqT) and not isinstance(t.elem, T.AnyT):
            return z3.SeqSort(self.sort(t.elem))
        if isinstance(t, T.StrT):
            return z3.StringSort()
        raise Unsupported(f"values of type {T.show(t)} are not encoded for proofs yet")

    def _tuple_sort(self, t):
        names = [n for n, _ in t.fields] if isinstance(t, T.RecordT) else \
            [f"_{i + 1}" for i in range(len(t.elems))]
        types = [f for _, f in t.fields] if isinstance(t, T.RecordT) else list(t.elems)
        dt = z3.Datatype(f"Tup{len(self._tuples)}")
        dt.declare("mk", *[(f"t{len(self._tuples)}{n}", self.sort(ft))
                           for n, ft in zip(names, types)])
        s = dt.create()
        self._tuples[t] = (s, names, types)
        return s

    def _tuple_parts(self, t):
        self.sort(t)
        return self._tuples[t]

    def _make_msgs(self) -> None:
        self.Msg = None
        if not self.spec.messages:
            return
        dt = z3.Datatype("Msg")
        for m in self.spec.messages.values():
            for _, ft in m.fields:
                if isinstance(ft, T.MsgT):
                    raise Unsupported(f"message {m.name} carries a message", m.span)
            dt.declare(m.name, *[(f"{m.name}_{n}", self.sort(ft)) for n, ft in m.fields])
        self.Msg = dt.create()
        self.msg_ctor = {}
        for m, msg in self.spec.messages.items():
            c = getattr(self.Msg, m)
            self.msg_ctor[m] = c if msg.fields else (lambda c: lambda: c)(c)
        self.msg_is = {m: getattr(self.Msg, "is_" + m) for m in self.spec.messages}
        self.msg_acc = {m.name: [self.Msg.accessor(i, j) for j in range(len(m.fields))]
                        for i, m in enumerate(self.spec.messages.values())}
        # constructor order in the datatype follows declaration order
        for i, m in enumerate(self.spec.messages.values()):
            assert self.Msg.constructor(i).name() == m.name

    # ------------------------------------------------------------ values
    def atom(self, a: str, t=None):
        if t is not None and self.is_usort_type(t):
            raise Unsupported(f"model value {a} is named individually")
        if a not in self.atom_code:
            raise Unsupported(f"atom {a} is not known")
        return z3.IntVal(self.atom_code[a])

    def pyz(self, v, t: T.Type):
        """A Python value of type ``t`` as a Z3 term."""
        if isinstance(t, T.BoolT):
            return z3.BoolVal(bool(v))
        if isinstance(t, T.IntT):
            return z3.IntVal(int(v))
        if isinstance(t, T.AtomT):
            return self.atom(v, t)
        if isinstance(t, T.SetT):
            if self.is_usort_type(t.elem):
                if frozenset(v) == frozenset(t.elem.values):
                    return z3.K(self.sort(t.elem), z3.BoolVal(True))
                if not v:
                    return z3.K(self.sort(t.elem), z3.BoolVal(False))
                raise Unsupported("a set naming model values one by one")
            arr = z3.K(self.sort(t.elem), z3.BoolVal(False))
            for x in sorted(v, key=repr):
                arr = z3.Store(arr, self.pyz(x, t.elem), z3.BoolVal(True))
            return arr
        if isinstance(t, T.MapT):
            items = v.items
            if not items:
                raise Unsupported("an empty map")
            arr = z3.K(self.sort(t.key), self.pyz(items[0][1], t.value))
            for k, x in items:
                arr = z3.Store(arr, self.pyz(k, t.key), self.pyz(x, t.value))
            return arr
        if isinstance(t, T.RecordT):
            s, names, types = self._tuple_parts(t)
            d = dict(v.fields)
            return s.mk(*[self.pyz(d[n], ft) for n, ft in zip(names, types)])
        if isinstance(t, T.TupleT):
            s, names, types = self._tuple_parts(t)
            return s.mk(*[self.pyz(x, ft) for x, ft in zip(v, types)])
        if isinstance(t, T.MsgT):
            m = self.spec.messages[v.name]
            return self.msg_ctor[v.name](*[self.pyz(a, ft) for a, (_, ft) in
                                           zip(v.args, m.fields)])
        if isinstance(t, T.SeqT):
            return self.seq_of([self.pyz(x, t.elem) for x in v], t)
        if isinstance(t, T.StrT):
            return z3.StringVal(v)
        raise Unsupported(f"values of type {T.show(t)} are not encoded for proofs yet")

    def seq_of(self, elems: list, t: T.Type):
        """The sequence of the terms ``elems``, of sequence type ``t``."""
        if not elems:
            return z3.Empty(self.sort(t))
        units = [z3.Unit(x) for x in elems]
        return units[0] if len(units) == 1 else z3.Concat(*units)

    def _make_consts(self) -> None:
        for name, c in self.spec.constants.items():
            symbolic = c.symbolic and (not self.concrete or c.value is None)
            if symbolic:
                sym = z3.Const(name, self.sort(c.type))
                self.consts[name] = sym
                self.const_syms.append((name, sym, c.type))
            else:
                if c.value is None:
                    raise Unsupported(f"constant {name} has no value", c.span)
                self.consts[name] = self.pyz(c.value, c.type)
        for name, c in self.spec.constants.items():
            if c.where is not None and name in dict((n, s) for n, s, _ in self.const_syms):
                self.axioms.append(self.expr(c.where, {}, {}))
        self._derive_consts()

    def _derive_consts(self) -> None:
        """Constants computed from symbolic ones (``const Steps = 1..STEPS``) follow them: an
        integer becomes a term, a range a symbolic range. The IR keeps only their values, so
        their definitions are read again from the source. A definition that cannot be
        followed pins the symbolic constants it depends on to their values (sound: the proof
        then covers those values only; ``pinned`` names them)."""
        self.ranges: dict[str, tuple] = {}  # derived range constant -> (lo, hi) terms
        self.pinned: list[str] = []
        syms = {n: s for n, s, _ in self.const_syms}
        if not syms or not self.spec.source:
            return
        from mscheck.lang import ast as A
        from mscheck.lang.cache import parse

        try:
            decls = [d for d in parse(self.spec.source, self.spec.file).decls
                     if isinstance(d, A.ConstDecl)]
        except Exception:  # noqa: BLE001 - the spec was loaded, so this is not expected
            decls = []
        deps: dict[str, set] = {}

        def names(e):
            out = set()
            stack = [e]
            while stack:
                x = stack.pop()
                if isinstance(x, A.Name):
                    out.add(x.id)
                for v in getattr(x, "__dict__", {}).values():
                    if isinstance(v, A.Node):
                        stack.append(v)
                    elif isinstance(v, tuple):
                        stack.extend(y for y in v if isinstance(y, A.Node))
            return out

        def term(e):
            if isinstance(e, A.IntLit):
                return z3.IntVal(e.value)
            if isinstance(e, A.Name) and e.id in self.consts and e.id not in self.ranges:
                t = self.consts[e.id]
                if t.sort() == z3.IntSort():
                    return t
            if isinstance(e, A.Unary) and e.op == "-":
                x = term(e.operand)
                return None if x is None else -x
            if isinstance(e, A.Binary) and e.op in ("+", "-", "*"):
                a, b = term(e.left), term(e.right)
                if a is None or b is None:
                    return None
                return {"+": a + b, "-": a - b, "*": a * b}[e.op]
            return None

        for d in decls:
            c = self.spec.constants.get(d.name)
            if c is None or d.value is None or c.overridden or d.name in syms:
                continue
            used = names(d.value)
            dep = set()
            for n in used:
                dep |= {n} if n in syms else deps.get(n, set())
            if not dep:
                continue
            deps[d.name] = dep
            e = d.value
            if isinstance(e, A.Binary) and e.op == "..":
                lo, hi = term(e.left), term(e.right)
                if lo is not None and hi is not None and isinstance(c.type, T.SetT):
                    self.ranges[d.name] = (lo, hi)
                    x = z3.Int(f"x!{d.name}")
                    self.consts[d.name] = z3.Lambda([x], z3.And(lo <= x, x <= hi))
                    continue
            elif isinstance(c.type, T.IntT):
                t = term(e)
                if t is not None:
                    self.consts[d.name] = t
                    continue
            for n in sorted(dep):
                if n not in self.pinned:
                    self.pinned.append(n)
                    sc = self.spec.constants[n]
                    if sc.value is None:
                        raise Unsupported(f"constant {d.name} depends on {n}, which has no "
                                          "value", d.span)
                    self.axioms.append(syms[n] == self.pyz(sc.value, sc.type))

    # ------------------------------------------------------------ layout
    def sym_range(self, d: N.Expr):
        """(lo, hi) terms when the domain ``d`` is an integer range with a symbolic bound."""
        if isinstance(d, N.ConstRef) and d.name in self.ranges:
            return self.ranges[d.name]
        if isinstance(d, N.Binary) and d.op == "..":
            lo = z3.simplify(self.expr(d.left, {}, {}))
            hi = z3.simplify(self.expr(d.right, {}, {}))
            if not (z3.is_int_value(lo) and z3.is_int_value(hi)):
                return lo, hi
        return None

    def sym_index_values(self, ranges, ev) -> list:
        """The index values of a symbolic domain in a model (``ev`` evaluates a term)."""
        lo, hi = (ev(x).as_long() for x in ranges)
        return list(range(lo, min(hi, lo + 63) + 1))

    def _layout(self) -> None:
        # replicated services and channel instances over a symbolic integer range: one array
        # per variable / channel component, indexed by the replica / channel index
        self.sym_svcs: dict[str, tuple] = {}
        self.sym_chans: dict[str, list] = {}  # name -> per index: (lo, hi) or None (finite)
        for svc in self.spec.services.values():
            if svc.index is not None and isinstance(svc.index[1].type.elem, T.IntT):
                r = self.sym_range(svc.index[1])
                if r is not None:
                    self.sym_svcs[svc.name] = r
        for ch in self.spec.channels.values():
            rs = [self.sym_range(d) if isinstance(d.type.elem, T.IntT) else None
                  for _, d in ch.indices]
            if any(r is not None for r in rs):
                self.sym_chans[ch.name] = rs
        for v in self.spec.shared_vars.values():
            self.vars.append(StateVar(("v", None, v.name), v.name, self.sort(v.type), v.type,
                                      "var"))
        for svc in self.spec.services.values():
            if svc.crashable:
                for v in svc.vars:
                    if v.name == "up":
                        raise Unsupported(f"crashable service {svc.name} has a variable "
                                          "named 'up'", v.span)
                    if not v.durable and v.init_kind == "choice":
                        raise Unsupported(f"{svc.name}.{v.name} is lost in a crash and starts "
                                          "with a choice of values", v.span)
                # running or crashed, named as the checker names it (Svc.up, Svc[i].up)
                if svc.index is None:
                    self.vars.append(StateVar(("v", svc.name, "up"), f"{svc.name}.up",
                                              z3.BoolSort(), T.BOOL, "var", svc.name))
                else:
                    isort = self.sort(svc.index[1].type.elem)
                    self.vars.append(StateVar(("v", svc.name, "up"), f"{svc.name}.up",
                                              z3.ArraySort(isort, z3.BoolSort()), T.BOOL,
                                              "rvar", svc.name, svc))
            for v in svc.vars:
                if svc.index is None:
                    self.vars.append(StateVar(("v", svc.name, v.name), f"{svc.name}.{v.name}",
                                              self.sort(v.type), v.type, "var", svc.name))
                else:
                    isort = self.sort(svc.index[1].type.elem)
                    self.vars.append(StateVar(("v", svc.name, v.name), f"{svc.name}.{v.name}",
                                              z3.ArraySort(isort, self.sort(v.type)), v.type,
                                              "rvar", svc.name, svc))
        for ch in self.spec.channels.values():
            if ch.kind == "sync":
                continue  # holds nothing: a send meets a receiving handler in one step
            esort = self.sort(ch.payload)
            if ch.name in self.sym_chans:
                isorts = [self.sort(d.type.elem) for _, d in ch.indices]
                base = ("c", ch.name, "*")

                def arr(x, isorts=isorts):
                    return z3.ArraySort(*isorts, x)
                if ch.kind in ("set", "log"):
                    self.vars.append(StateVar(base, ch.name, arr(z3.ArraySort(esort,
                                                                            z3.BoolSort())),
                                              ch.payload, "set", None, ch))
                elif ch.kind == "bag":
                    self.vars.append(StateVar(base + ("cnt",), ch.name + "#count",
                                              arr(z3.ArraySort(esort, z3.IntSort())),
                                              ch.payload, "bagcnt", None, ch))
                    self.vars.append(StateVar(base + ("size",), ch.name + "#size",
                                              arr(z3.IntSort()), None, "bagsize", None, ch))
                else:
                    self.vars.append(StateVar(base + ("len",), ch.name + "#len",
                                              arr(z3.IntSort()), None, "fifolen", None, ch))
                    for i in range(ch.capacity):
                        self.vars.append(StateVar(base + (i,), f"{ch.name}#{i}", arr(esort),
                                                  ch.payload, "fifoslot", None, ch))
                continue
            for idx in product(*ch.index_values):
                label = ch.name + "".join(f"[{show_value(i)}]" for i in idx)
                base = ("c", ch.name, idx)
                if ch.kind in ("set", "log"):
                    self.vars.append(StateVar(base, label, z3.ArraySort(esort, z3.BoolSort()),
                                              ch.payload, "set", None, ch))
                elif ch.kind == "bag":
                    self.vars.append(StateVar(base + ("cnt",), label + "#count",
                                              z3.ArraySort(esort, z3.IntSort()), ch.payload,
                                              "bagcnt", None, ch))
                    self.vars.append(StateVar(base + ("size",), label + "#size", z3.IntSort(),
                                              None, "bagsize", None, ch))
                else:
                    self.vars.append(StateVar(base + ("len",), label + "#len", z3.IntSort(),
                                              None, "fifolen", None, ch))
                    for i in range(ch.capacity):
                        self.vars.append(StateVar(base + (i,), f"{label}#{i}", esort,
                                                  ch.payload, "fifoslot", None, ch))
        self.var_by_key = {v.key: v for v in self.vars}

    def copy(self, tag: str) -> dict:
        """A fresh copy of the state: one Z3 constant per component."""
        return {v.key: z3.Const(f"{v.label}@{tag}", v.sort) for v in self.vars}

    def cget(self, st: dict, ch, idx, part: tuple = ()):
        """One component of one channel instance (``idx``: index values, or index terms for a
        channel over a symbolic range)."""
        if ch.name in self.sym_chans:
            return z3.Select(st[("c", ch.name, "*") + part], *idx)
        return st[("c", ch.name, idx) + part]

    def cput(self, st: dict, ch, idx, part: tuple, value) -> None:
        if ch.name in self.sym_chans:
            key = ("c", ch.name, "*") + part
            st[key] = z3.Store(st[key], *idx, value)
        else:
            st[("c", ch.name, idx) + part] = value

    def _chan_binders(self, ch, tag: str):
        """Index constants of a symbolic channel and their membership condition."""
        xs, conds = [], []
        for j, ((n, d), r) in enumerate(zip(ch.indices, self.sym_chans[ch.name])):
            x = z3.Const(f"{n}!{tag}{j}", self.sort(d.type.elem))
            xs.append(x)
            if r is not None:
                conds.append(z3.And(r[0] <= x, x <= r[1]))
            else:
                conds.append(z3.Or([x == self.pyz(v, d.type.elem) for v in
                                    ch.index_values[j]]))
        return xs, z3.And(conds)

    def fresh(self, name: str, sort):
        self._fresh_n += 1
        c = z3.Const(f"{name}!{self._fresh_n}", sort)
        self.fresh_vars.append(c)
        return c

    # ------------------------------------------------------------ state facts
    def type_ok(self, st: dict, quantified: bool = True):
        """Atom-typed variables hold values of their types (see the module docstring); with
        ``quantified``, also those of replicas over an uninterpreted sort."""
        out = []
        for v in self.vars:
            if v.kind not in ("var", "rvar") or not isinstance(v.type, T.AtomT):
                continue
            if self.is_usort_type(v.type) or not v.type.values:
                continue
            codes = [self.atom(a) for a in v.type.values]
            if v.kind == "var":
                out.append(z3.Or([st[v.key] == c for c in codes]))
            else:
                svc = v.extra
                dom = svc.index_values
                if svc.name in self.sym_svcs:
                    if quantified:
                        lo, hi = self.sym_svcs[svc.name]
                        i = z3.Int(f"i!ok{len(out)}")
                        x = z3.Select(st[v.key], i)
                        out.append(z3.ForAll([i], z3.Implies(z3.And(lo <= i, i <= hi),
                                                             z3.Or([x == c for c in codes]))))
                elif dom is not None and not self.is_usort_type(svc.index[1].type.elem):
                    et = svc.index[1].type.elem
                    for i in dom:
                        x = z3.Select(st[v.key], self.pyz(i, et))
                        out.append(z3.Or([x == c for c in codes]))
                elif quantified:
                    i = z3.Const(f"i!ok{len(out)}", self.sort(svc.index[1].type.elem))
                    x = z3.Select(st[v.key], i)
                    out.append(z3.ForAll([i], z3.Or([x == c for c in codes])))
        for v in self.vars:
            # a message in a fifo slot is one the channel carries (every send is type-checked)
            ch = v.extra
            if v.kind != "fifoslot" or not isinstance(ch.payload, T.MsgT) or \
                    set(ch.payload.variants) == set(self.spec.messages):
                continue
            n = int(v.key[3])
            if ch.name in self.sym_chans:
                if quantified:
                    xs, mem = self._chan_binders(ch, f"okm{len(out)}")
                    slot = z3.Select(st[v.key], *xs)
                    ok = z3.Or([self.msg_is[m](slot) for m in ch.payload.variants])
                    out.append(z3.ForAll(xs, z3.Implies(
                        z3.And(mem, z3.Select(st[("c", ch.name, "*", "len")], *xs) > n), ok)))
            else:
                slot = st[v.key]
                ok = z3.Or([self.msg_is[m](slot) for m in ch.payload.variants])
                out.append(z3.Implies(st[v.key[:3] + ("len",)] > n, ok))
        for v in self.vars:
            if v.kind not in ("fifolen", "bagsize"):
                continue
            if v.extra.name in self.sym_chans:
                if quantified:
                    xs, mem = self._chan_binders(v.extra, f"ok{len(out)}")
                    n = z3.Select(st[v.key], *xs)
                    out.append(z3.ForAll(xs, z3.Implies(mem, z3.And(n >= 0,
                                                                    n <= v.extra.capacity))))
            else:
                out.append(z3.And(st[v.key] >= 0, st[v.key] <= v.extra.capacity))
        return z3.And(out) if out else z3.BoolVal(True)

    def init(self, st: dict):
        """The initial-state predicate over a state copy."""
        out = []
        for v in self.spec.shared_vars.values():
            out.append(self._init_var(v, st[("v", None, v.name)], st, {}))
        for svc in self.spec.services.values():
            if svc.crashable:
                up = st[("v", svc.name, "up")]
                out.append(up if svc.index is None else
                           up == z3.K(up.sort().domain(), z3.BoolVal(True)))
            for v in svc.vars:
                cur = st[("v", svc.name, v.name)]
                if svc.index is None:
                    out.append(self._init_var(v, cur, st, {}))
                else:
                    iname, dom = svc.index
                    et = dom.type.elem
                    x = z3.Const(f"{iname}!init", self.sort(et))
                    body = self._init_var(v, z3.Select(cur, x), st, {iname: x})
                    if self.is_usort_type(et):
                        out.append(z3.ForAll([x], body))
                    elif svc.name in self.sym_svcs:
                        lo, hi = self.sym_svcs[svc.name]
                        out.append(z3.ForAll([x], z3.Implies(z3.And(lo <= x, x <= hi), body)))
                    else:
                        for i in svc.index_values:
                            out.append(z3.substitute(body, (x, self.pyz(i, et))))
        for v in self.vars:
            if v.extra is not None and v.kind != "rvar" and v.extra.name in self.sym_chans:
                ch = v.extra
                xs, _ = self._chan_binders(ch, "init")
                if v.kind == "set":
                    if ch.init is not None:
                        env = {n: x for (n, _), x in zip(ch.indices, xs)}
                        val = self.expr(ch.init, st, env)
                    else:
                        val = z3.K(self.sort(ch.payload), z3.BoolVal(False))
                elif v.kind in ("bagsize", "fifolen"):
                    if ch.init is not None:
                        raise Unsupported(f"initial contents of {ch.kind} channel {ch.name}",
                                          ch.span)
                    val = z3.IntVal(0)
                elif v.kind == "bagcnt":
                    val = z3.K(self.sort(ch.payload), z3.IntVal(0))
                else:
                    continue
                out.append(st[v.key] == z3.Lambda(xs, val))
                continue
            if v.kind == "set":
                ch = v.extra
                if ch.init is not None:
                    env = {n: self.pyz(i, d.type.elem) for (n, d), i in
                           zip(ch.indices, v.key[2])}
                    out.append(st[v.key] == self.expr(ch.init, st, env))
                else:
                    out.append(st[v.key] == z3.K(v.sort.domain(), z3.BoolVal(False)))
            elif v.kind == "fifolen" and v.extra.init is not None:
                ch = v.extra
                idx = v.key[2]
                env = {n: self.pyz(i, d.type.elem) for (n, d), i in zip(ch.indices, idx)}
                seq = self.expr_as(ch.init, T.SeqT(ch.payload, ch.capacity), st, env)
                n = z3.Length(seq)
                out.append(st[v.key] == n)
                for i in range(ch.capacity):
                    out.append(z3.Implies(i < n, self.cget(st, ch, idx, (i,)) == seq[i]))
            elif v.kind in ("bagsize", "fifolen"):
                if v.extra.init is not None:
                    raise Unsupported(f"initial contents of {v.extra.kind} channel "
                                      f"{v.extra.name}", v.extra.span)
                out.append(st[v.key] == 0)
            elif v.kind == "bagcnt":
                out.append(st[v.key] == z3.K(v.sort.domain(), z3.IntVal(0)))
        for c in self.spec.properties_of("constraint"):
            raise Unsupported("'constraint' bounds exploration; a proof ignores no state",
                              c.span)
        return z3.And(out + [self.type_ok(st)])

    def _init_var(self, v: N.Var, cur, st, env):
        if v.init is None:
            try:
                val = default_value(v.type, self.spec.messages)
            except Exception as exc:  # noqa: BLE001 - reported as unsupported
                raise Unsupported(f"{v.name}: {exc}", v.span) from None
            return cur == self.pyz(val, v.type)
        if v.init_kind == "choice":
            return self.member(cur, v.init, st, env)
        return cur == self.expr_as(v.init, v.type, st, env)

    # ------------------------------------------------------------ expressions
    def expr(self, e: N.Expr, st: dict, env: dict):
        m = getattr(self, "_x_" + type(e).__name__, None)
        if m is None:
            raise Unsupported(f"expression {type(e).__name__} is not encoded for proofs yet",
                              e.span)
        return m(e, st, env)

    def expr_as(self, e: N.Expr, t: T.Type, st: dict, env: dict):
        """``e`` where a value of type ``t`` is expected (gives ``{}`` its element sort)."""
        if isinstance(e, N.SetLit) and not e.elems and isinstance(t, T.SetT):
            return z3.K(self.sort(t.elem), z3.BoolVal(False))
        if isinstance(e, N.SeqLit) and not e.elems and isinstance(t, T.SeqT):
            return z3.Empty(self.sort(t))
        return self.expr(e, st, env)

    def _x_Lit(self, e, st, env):
        v = e.value
        if isinstance(v, bool):
            return z3.BoolVal(v)
        if isinstance(v, int):
            return z3.IntVal(v)
        if isinstance(v, str) and isinstance(e.type, T.AtomT):
            return self.atom(v, e.type)
        if isinstance(v, str) and isinstance(e.type, T.StrT):
            return z3.StringVal(v)
        raise Unsupported(f"literal {v!r} is not encoded for proofs yet", e.span)

    def _x_ConstRef(self, e, st, env):
        return self.consts[e.name]

    def _x_Local(self, e, st, env):
        if e.name not in env:
            raise Unsupported(f"name {e.name} is not bound here", e.span)
        return env[e.name]

    def _x_VarRef(self, e, st, env):
        cur = st[("v", e.owner, e.var)]
        if e.index is not None:
            return z3.Select(cur, self.expr(e.index, st, env))
        return cur

    def _x_TypeSet(self, e, st, env):
        t = e.of
        if self.is_usort_type(t) or isinstance(t, (T.BoolT, T.MsgT)) or \
                (isinstance(t, T.IntT) and t.lo is None):
            return z3.K(self.sort(t), z3.BoolVal(True))
        try:
            values = frozenset(type_values(t, self.spec.messages, MAX_LISTED))
        except EvalError as exc:  # (a range of millions, a channel type, ...)
            raise Unsupported(f"the type {T.show(t)} as a set of values: {exc} (at most "
                              f"{MAX_LISTED:,} are listed)", e.span) from None
        return self.pyz(values, T.SetT(t))

    def _x_Unary(self, e, st, env):
        x = self.expr(e.operand, st, env)
        return z3.Not(x) if e.op == "not" else -x

    def _x_BoolOp(self, e, st, env):
        xs: list = []
        for o in e.operands:
            # the checker evaluates left to right and stops at the first deciding operand
            before = [z3.And(xs) if e.op == "and" else z3.Not(z3.Or(xs))] if xs else []
            xs.append(self.guarded(before[0], o, st, env) if before else
                      self.expr(o, st, env))
        return z3.And(xs) if e.op == "and" else z3.Or(xs)

    def _x_Binary(self, e, st, env):
        op = e.op
        if op in ("in", "notin"):
            r = self.member(self.expr(e.left, st, env), e.right, st, env)
            return r if op == "in" else z3.Not(r)
        if op == "++":
            return z3.Concat(self.expr_as(e.left, e.type, st, env),
                             self.expr_as(e.right, e.type, st, env))
        if op == "..":
            lo, hi = self.expr(e.left, st, env), self.expr(e.right, st, env)
            x = z3.Int(f"x!{id(e)}")
            return z3.Lambda([x], z3.And(lo <= x, x <= hi))
        a = self.expr_as(e.left, e.right.type, st, env)
        if op == "=>":
            self._guard.append(a)
            try:
                b = self.expr_as(e.right, e.left.type, st, env)
            finally:
                self._guard.pop()
            return z3.Implies(a, b)
        b = self.expr_as(e.right, e.left.type, st, env)
        if op == "<=>":
            return a == b
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        if op in ("<", "<=", ">", ">="):
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        if op in ("+", "-", "*"):
            return {"+": a + b, "-": a - b, "*": a * b}[op]
        if op in ("div", "mod"):
            # Z3's div/mod round towards minus infinity for positive divisors, as Python does;
            # a zero divisor is an error in the checker: any value over-approximates it.
            self.need(b != 0)
            return a / b if op == "div" else a % b
        if op == "union":
            return z3.SetUnion(a, b)
        if op == "inter":
            return z3.SetIntersect(a, b)
        if op == "minus":
            return z3.SetDifference(a, b)
        if op == "subset":
            return z3.IsSubset(a, b)
        raise Unsupported(f"operator {op} is not encoded for proofs yet", e.span)

    def _x_Ite(self, e, st, env):
        c = self.expr(e.cond, st, env)
        return z3.If(c, self.guarded(c, e.then, st, env),
                     self.guarded(z3.Not(c), e.orelse, st, env))

    def domain(self, d: N.Expr, st, env):
        """A binder's domain: ('finite', [terms]) or ('sym', sort, membership function)."""
        if isinstance(d, N.SetLit):
            return "finite", [self.expr(x, st, env) for x in d.elems]
        if isinstance(d.type, T.SeqT):
            s = self.expr(d, st, env)
            return "sym", self.sort(d.type.elem), lambda x: z3.Contains(s, z3.Unit(x))
        t = d.type.elem if isinstance(d.type, T.SetT) else None
        if isinstance(d, N.TypeSet) and not self.is_usort_type(d.of):
            try:
                return "finite", [self.pyz(v, d.of) for v in
                                  type_values(d.of, self.spec.messages, MAX_LISTED)]
            except Exception:  # noqa: BLE001 - infinite or too many: symbolic below
                pass
        if isinstance(d, N.Binary) and d.op == "..":
            lo = z3.simplify(self.expr(d.left, st, env))
            hi = z3.simplify(self.expr(d.right, st, env))
            if z3.is_int_value(lo) and z3.is_int_value(hi) and \
                    hi.as_long() - lo.as_long() <= 64:
                return "finite", [z3.IntVal(i) for i in range(lo.as_long(), hi.as_long() + 1)]
            return "sym", z3.IntSort(), lambda x: z3.And(lo <= x, x <= hi)
        if isinstance(d, N.ConstRef) and d.name in self.ranges:
            lo, hi = self.ranges[d.name]
            return "sym", z3.IntSort(), lambda x: z3.And(lo <= x, x <= hi)
        if isinstance(d, N.ConstRef) and t is not None and not self.is_usort_type(t):
            c = self.spec.constants[d.name]
            if c.value is not None and not (c.symbolic and d.name in
                                            {n for n, _, _ in self.const_syms}):
                return "finite", [self.pyz(v, t) for v in sorted(c.value, key=repr)]
        if t is None:
            raise Unsupported(f"cannot range over {T.show(d.type)}", d.span)
        s = self.expr(d, st, env)
        return "sym", self.sort(t), lambda x: z3.Select(s, x)

    def member(self, x, d: N.Expr, st, env):
        dom = self.domain(d, st, env)
        if dom[0] == "finite":
            return z3.Or([x == v for v in dom[1]]) if dom[1] else z3.BoolVal(False)
        return dom[2](x)

    def _x_Quant(self, e, st, env):
        return self._quant(e.kind, list(e.vars), e.body, st, env)

    def _quant(self, kind, vars_, body, st, env):
        if not vars_:
            return self.expr(body, st, env)
        (name, d), rest = vars_[0], vars_[1:]
        dom = self.domain(d, st, env)
        if dom[0] == "finite":
            parts = [self._quant(kind, rest, body, st, {**env, name: v}) for v in dom[1]]
            if kind == "forall":
                return z3.And(parts) if parts else z3.BoolVal(True)
            return z3.Or(parts) if parts else z3.BoolVal(False)
        _, sort, mem = dom
        self._fresh_n += 1
        x = z3.Const(f"{name}!q{self._fresh_n}", sort)
        # definedness inside is required for every element (exact for forall, stronger than
        # the checker's short-circuit for exists: never a wrong "proved")
        outer, outer_guard = self._wd, self._guard
        if outer is not None:
            self._wd, self._guard = [], []
        try:
            inner = self._quant(kind, rest, body, st, {**env, name: x})
        finally:
            if outer is not None:
                inner_wd = self._wd
                self._wd, self._guard = outer, outer_guard
        if outer is not None and inner_wd:
            self.need(z3.ForAll([x], z3.Implies(mem(x), z3.And(inner_wd))))
        if kind == "forall":
            return z3.ForAll([x], z3.Implies(mem(x), inner))
        return z3.Exists([x], z3.And(mem(x), inner))

    def _x_SetLit(self, e, st, env):
        et = e.type.elem
        arr = z3.K(self.sort(et), z3.BoolVal(False))
        for x in e.elems:
            arr = z3.Store(arr, self.expr(x, st, env), z3.BoolVal(True))
        return arr

    def _x_SetFilter(self, e, st, env):
        et = e.type.elem
        self._fresh_n += 1
        x = z3.Const(f"{e.var}!f{self._fresh_n}", self.sort(et))
        return z3.Lambda([x], z3.And(self.member(x, e.domain, st, env),
                                     self.expr(e.pred, st, {**env, e.var: x})))

    def _x_SetMap(self, e, st, env):
        self._fresh_n += 1
        y = z3.Const(f"y!m{self._fresh_n}", self.sort(e.type.elem))
        body = N.Binary(T.BOOL, op="==", left=N.Local(e.expr.type, name="__y"), right=e.expr)
        return z3.Lambda([y], self._quant("exists", list(e.vars), body, st, {**env, "__y": y}))

    def _x_SeqLit(self, e, st, env):
        if not e.elems:
            raise Unsupported("an empty sequence whose element type is not known here", e.span)
        return self.seq_of([self.expr(x, st, env) for x in e.elems], e.type)

    def _x_SubSeq(self, e, st, env):
        base = self.expr(e.base, st, env)
        lo, hi = self.expr(e.lo, st, env), self.expr(e.hi, st, env)
        self.need(z3.And(lo >= 1, hi <= z3.Length(base), lo <= hi + 1))
        n = hi - lo + 1
        return z3.SubSeq(base, lo - 1, z3.If(n >= 0, n, 0))

    def _x_RecordLit(self, e, st, env):
        s, names, types = self._tuple_parts(e.type)
        d = {n: x for n, x in e.fields}
        return s.mk(*[self.expr(d[n], st, env) for n in names])

    def _x_TupleLit(self, e, st, env):
        s, _, _ = self._tuple_parts(e.type)
        return s.mk(*[self.expr(x, st, env) for x in e.elems])

    def _x_MapLit(self, e, st, env):
        self._fresh_n += 1
        k = z3.Const(f"{e.var}!k{self._fresh_n}", self.sort(e.type.key))
        return z3.Lambda([k], self.expr(e.body, st, {**env, e.var: k}))

    def _x_Index(self, e, st, env):
        bt = e.base.type
        base = self.expr(e.base, st, env)
        if isinstance(bt, T.MapT):
            k = self.expr(e.index, st, env)
            if isinstance(bt.key, T.IntT) and bt.key.lo is not None:
                self.need(z3.And(bt.key.lo <= k, k <= bt.key.hi))
            return z3.Select(base, k)
        if isinstance(bt, T.SeqT):
            i = self.expr(e.index, st, env)
            self.need(z3.And(1 <= i, i <= z3.Length(base)))
            return base[i - 1]
        if isinstance(bt, T.TupleT) and isinstance(e.index, N.Lit):
            s, _, _ = self._tuple_parts(bt)
            return s.accessor(0, e.index.value - 1)(base)
        raise Unsupported(f"indexing a {T.show(bt)} is not encoded for proofs yet", e.span)

    def _x_Field(self, e, st, env):
        bt = e.base.type
        base = self.expr(e.base, st, env)
        if isinstance(bt, T.MsgT):
            name = bt.variants[0]
            pos = [n for n, _ in self.spec.messages[name].fields].index(e.name)
            return self.msg_acc[name][pos](base)
        if isinstance(bt, T.RecordT):
            s, names, _ = self._tuple_parts(bt)
            return s.accessor(0, names.index(e.name))(base)
        raise Unsupported(f"field of a {T.show(bt)}", e.span)

    def _x_Update(self, e, st, env):
        base = self.expr(e.base, st, env)
        return self._update(base, e.base.type, list(e.path), self.expr(e.value, st, env),
                            st, env)

    def _update(self, cur, t, path, value, st, env):
        if not path:
            return value
        step, rest = path[0], path[1:]
        if step.field is not None and isinstance(t, T.RecordT):
            s, names, types = self._tuple_parts(t)
            args = [s.accessor(0, i)(cur) for i in range(len(names))]
            i = names.index(step.field)
            args[i] = self._update(args[i], types[i], rest, value, st, env)
            return s.mk(*args)
        if step.index is not None and isinstance(t, T.MapT):
            k = self.expr(step.index, st, env)
            return z3.Store(cur, k, self._update(z3.Select(cur, k), t.value, rest, value,
                                                 st, env))
        if step.index is not None and isinstance(t, T.SeqT):
            k = self.expr(step.index, st, env)
            new = self._update(cur[k - 1], t.elem, rest, value, st, env)
            n = z3.Length(cur)
            self.need(z3.And(1 <= k, k <= n))
            return z3.If(z3.And(1 <= k, k <= n),
                         z3.Concat(z3.SubSeq(cur, 0, k - 1), z3.Unit(new),
                                   z3.SubSeq(cur, k, n - k)), cur)
        raise Unsupported(f"updating a {T.show(t)} is not encoded for proofs yet")

    def _x_MsgLit(self, e, st, env):
        return self.msg_ctor[e.name](*[self.expr(a, st, env) for a in e.args])

    def _x_LetE(self, e, st, env):
        return self.expr(e.body, st, {**env, e.name: self.expr(e.value, st, env)})

    def _x_Call(self, e, st, env):
        f = e.func
        if f in ("pending", "len") and isinstance(e.args[0].type, T.ChanT):
            return self._chan_call(f, e.args[0], st, env)
        if f == "append":
            s = self.expr_as(e.args[0], e.type, st, env)
            return z3.Concat(s, z3.Unit(self.expr(e.args[1], st, env)))
        args = [self.expr(a, st, env) for a in e.args]
        if f == "len":
            return z3.Length(args[0])
        if f == "head":
            self.need(z3.Length(args[0]) > 0)
            return args[0][0]
        if f == "tail":
            n = z3.Length(args[0])
            self.need(n > 0)
            return z3.SubSeq(args[0], 1, z3.If(n >= 1, n - 1, 0))
        if f in ("min", "max"):
            return self._extreme(f, args[0], e.args[0].type, e.span)
        if f == "abs":
            return z3.If(args[0] >= 0, args[0], -args[0])
        if f == "card":
            at = e.args[0].type
            try:
                vals = type_values(at.elem, self.spec.messages, MAX_LISTED)
            except EvalError as exc:  # infinite, or too many to sum over
                raise Unsupported(f"card of a set over {T.show(at.elem)} ({exc}; it is "
                                  f"encoded over at most {MAX_LISTED:,} values)",
                                  e.span) from None
            return z3.Sum([z3.If(z3.Select(args[0], self.pyz(v, at.elem)), 1, 0)
                           for v in vals]) if vals else z3.IntVal(0)
        raise Unsupported(f"{f}(...) is not encoded for proofs yet", e.span)

    def _extreme(self, f, s, t: T.Type, span):
        """``min``/``max`` of a set over a finite range, as a chain of ``If``s (defined for
        a non-empty set)."""
        et = t.elem if isinstance(t, T.SetT) else None
        if not (isinstance(et, T.IntT) and et.lo is not None and et.hi - et.lo <= 4096):
            raise Unsupported(f"{f} of a set over {T.show(et) if et else T.show(t)}: only "
                              "sets over a finite range are encoded", span)
        vals = list(range(et.lo, et.hi + 1))
        self.need(z3.Or([z3.Select(s, z3.IntVal(v)) for v in vals]))
        if f == "max":
            vals.reverse()
        out = z3.IntVal(vals[-1])
        for v in reversed(vals[:-1]):
            out = z3.If(z3.Select(s, z3.IntVal(v)), z3.IntVal(v), out)
        return out

    # ------------------------------------------------------------ channels
    def chan_instances(self, ce: N.Expr, st, env):
        """[(condition, channel, index tuple)] for a channel expression."""
        if not isinstance(ce, N.ChanVal):
            raise Unsupported("channels as values are not encoded for proofs yet", ce.span)
        ch = self.spec.channels[ce.channel]
        if not ce.indices:
            return [(z3.BoolVal(True), ch, ())]
        xs = [self.expr(i, st, env) for i in ce.indices]
        if ch.name in self.sym_chans:
            # one symbolic instance; an index outside the domain is an error in the checker,
            # which stops there: the step is blocked, as a failing assert is
            conds = []
            for x, (_, d), r, vals in zip(xs, ch.indices, self.sym_chans[ch.name],
                                          ch.index_values):
                if r is not None:
                    conds.append(z3.And(r[0] <= x, x <= r[1]))
                else:
                    conds.append(z3.Or([x == self.pyz(v, d.type.elem) for v in vals]))
            return [(z3.And(conds), ch, tuple(xs))]
        out = []
        for idx in product(*ch.index_values):
            cond = z3.simplify(z3.And([x == self.pyz(v, d.type.elem) for x, v, (_, d) in
                                       zip(xs, idx, ch.indices)]))
            if not z3.is_false(cond):
                out.append((cond, ch, idx))
        return out

    def _chan_call(self, f, ce, st, env):
        insts = self.chan_instances(ce, st, env)
        vals = []
        for cond, ch, idx in insts:
            esort = self.sort(ch.payload)
            if ch.kind == "sync":
                v = z3.IntVal(0) if f == "len" else z3.K(esort, z3.BoolVal(False))
            elif ch.kind in ("set", "log"):
                if f == "len":
                    raise Unsupported("len of a set or log channel is not encoded yet", ce.span)
                v = self.cget(st, ch, idx)
            elif ch.kind == "bag":
                if f == "len":
                    v = self.cget(st, ch, idx, ("size",))
                else:
                    m = z3.Const(f"m!p{id(ch)}", esort)
                    v = z3.Lambda([m], self.cget(st, ch, idx, ("cnt",))[m] > 0)
            else:
                n = self.cget(st, ch, idx, ("len",))
                if f == "len":
                    v = n
                else:
                    m = z3.Const(f"m!p{id(ch)}", esort)
                    v = z3.Lambda([m], z3.Or([z3.And(n > i, self.cget(st, ch, idx, (i,)) == m)
                                              for i in range(ch.capacity)]))
            vals.append((cond, v))
        out = vals[-1][1]
        for cond, v in reversed(vals[:-1]):
            out = z3.If(cond, v, out)
        return out

    def _send(self, path: _Path, ce, payload) -> list[_Path]:
        out = []
        msg = self.expr(payload, path.st, path.env)
        for cond, ch, idx in self.chan_instances(ce, path.st, path.env):
            st = dict(path.st)
            pc = path.pc + [cond]
            get, put = self.cget, self.cput
            if ch.kind == "sync":
                out += self._rendezvous(_Path(pc, st, path.env), ch, idx, msg)
                if "lossy" in ch.flags:  # the send may be lost: the sender goes on alone
                    out.append(_Path(pc, st, path.env))
                continue
            if ch.kind in ("set", "log"):
                put(st, ch, idx, (), z3.Store(get(st, ch, idx), msg, z3.BoolVal(True)))
            elif ch.kind == "bag":
                size, cnt = get(st, ch, idx, ("size",)), get(st, ch, idx, ("cnt",))
                pc.append(size < ch.capacity)
                put(st, ch, idx, ("cnt",), z3.Store(cnt, msg, cnt[msg] + 1))
                put(st, ch, idx, ("size",), size + 1)
            else:
                n = get(st, ch, idx, ("len",))
                pc.append(n < ch.capacity)
                for i in range(ch.capacity):
                    put(st, ch, idx, (i,), z3.If(n == i, msg, get(st, ch, idx, (i,))))
                put(st, ch, idx, ("len",), n + 1)
            out.append(_Path(pc, st, path.env))
        return out

    def _rendezvous(self, path: _Path, ch, idx, msg) -> list[_Path]:
        """A send of ``msg`` on instance ``idx`` of the sync channel ``ch``: one path per
        receiving handler (and instance) that takes it, its body run inside the step, then
        the sender goes on; no receiver, no path (the send blocks)."""
        self._sync_depth += 1
        try:
            if self._sync_depth > 16:
                raise Unsupported(f"a chain of rendezvous on {ch.name} deeper than 16", ch.span)
            out = []
            for svc, h in self.sync_receivers.get(ch.name, ()):
                pc, env = list(path.pc), {}
                self.bind_instance(svc, self._tag, pc, env)
                if svc.crashable:
                    pc.append(self.is_up(svc, path.st, env))
                for cond, hch, hidx in self.chan_instances(h.channel, path.st, env):
                    same = [self._same(a, b, d.type.elem)
                            for a, b, (_, d) in zip(idx, hidx, ch.indices)]
                    matched = self._match(h.pattern, ch.payload, msg, env)
                    if matched is None:
                        continue
                    conds, henv = matched
                    hpc = pc + [cond] + same + conds
                    if h.guard is not None:
                        hpc.append(self.expr(h.guard, path.st, henv))
                    for r in self.block(h.body, [_Path(hpc, path.st, henv)]):
                        out.append(_Path(r.pc, r.st, path.env))
            return out
        finally:
            self._sync_depth -= 1

    def _same(self, a, b, t: T.Type):
        """Equality of two channel index components (Python values or terms)."""
        if not isinstance(a, z3.ExprRef) and not isinstance(b, z3.ExprRef):
            return z3.BoolVal(a == b)
        za = a if isinstance(a, z3.ExprRef) else self.pyz(a, t)
        zb = b if isinstance(b, z3.ExprRef) else self.pyz(b, t)
        return za == zb

    def _receive(self, st, ch, idx, tag):
        """(condition, message, state after taking it) for one channel instance."""
        esort = self.sort(ch.payload)
        st = dict(st)
        get, put = self.cget, self.cput
        if ch.kind == "fifo":
            n = get(st, ch, idx, ("len",))
            m = get(st, ch, idx, (0,))
            for i in range(ch.capacity - 1):
                put(st, ch, idx, (i,), get(st, ch, idx, (i + 1,)))
            # the vacated last slot keeps its old value (it is beyond the length)
            put(st, ch, idx, ("len",), n - 1)
            return n > 0, m, st
        m = self.fresh(f"msg_{ch.name}@{tag}", esort)
        if ch.kind == "bag":
            cnt = get(st, ch, idx, ("cnt",))
            put(st, ch, idx, ("cnt",), z3.Store(cnt, m, cnt[m] - 1))
            put(st, ch, idx, ("size",), get(st, ch, idx, ("size",)) - 1)
            return cnt[m] > 0, m, st
        cond = z3.Select(get(st, ch, idx), m)
        if ch.kind == "set":
            put(st, ch, idx, (), z3.Store(get(st, ch, idx), m, z3.BoolVal(False)))
        return cond, m, st

    def _match(self, pattern: N.Pattern, payload_t, m, env):
        env = dict(env)
        conds = []
        if pattern.message is not None:
            if not isinstance(payload_t, T.MsgT):
                return None
            conds.append(self.msg_is[pattern.message](m))
            for j, (n, _) in enumerate(pattern.vars):
                if n != "_":
                    env[n] = self.msg_acc[pattern.message][j](m)
        elif pattern.whole:
            n = pattern.vars[0][0]
            if n != "_":
                env[n] = m
        else:
            if not isinstance(payload_t, T.TupleT):
                raise Unsupported("a tuple pattern on a non-tuple channel")
            s, _, _ = self._tuple_parts(payload_t)
            for j, (n, _) in enumerate(pattern.vars):
                if n != "_":
                    env[n] = s.accessor(0, j)(m)
        return conds, env

    # ------------------------------------------------------------ statements
    def block(self, stmts, paths: list[_Path]) -> list[_Path]:
        for s in stmts:
            nxt = []
            for p in paths:
                nxt.extend(self.stmt(s, p))
            paths = nxt
        return paths

    def stmt(self, s: N.Stmt, p: _Path) -> list[_Path]:
        if isinstance(s, N.SkipS):
            return [p]
        if isinstance(s, N.LetS):
            return [_Path(p.pc, p.st, {**p.env, s.name: self.expr(s.value, p.st, p.env)})]
        if isinstance(s, N.AssertS):
            return [_Path(p.pc + [self.expr(s.cond, p.st, p.env)], p.st, p.env)]
        if isinstance(s, N.Assign):
            t = s.target
            key = ("v", t.owner, t.var)
            st = dict(p.st)
            vt = self._var_type(t.owner, t.var)
            value = self.expr_as(s.value, t.type, p.st, p.env)
            if t.index is not None:
                i = self.expr(t.index, p.st, p.env)
                new = self._update(z3.Select(st[key], i), vt, list(t.path), value, p.st, p.env)
                st[key] = z3.Store(st[key], i, new)
            else:
                st[key] = self._update(st[key], vt, list(t.path), value, p.st, p.env)
            return [_Path(p.pc, st, p.env)]
        if isinstance(s, N.Send):
            return self._send(p, s.channel, s.payload)
        if isinstance(s, N.IfS):
            out = []
            negs: list = []
            for c, body in s.branches:
                cz = self.expr(c, p.st, p.env)
                out += self.block(body, [_Path(p.pc + negs + [cz], p.st, p.env)])
                negs = negs + [z3.Not(cz)]
            out += self.block(s.orelse, [_Path(p.pc + negs, p.st, p.env)])
            return out
        if isinstance(s, N.ChooseS):
            env = dict(p.env)
            pc = list(p.pc)
            for name, d in s.vars:
                x = self.fresh(f"{name}@{self._tag}", self.sort(d.type.elem))
                pc.append(self.member(x, d, p.st, env))
                env[name] = x
            if s.cond is not None:
                pc.append(self.expr(s.cond, p.st, env))
            res = self.block(s.body, [_Path(pc, p.st, env)])
            return [_Path(r.pc, r.st, p.env) for r in res]
        raise Unsupported(f"statement {type(s).__name__} is not encoded for proofs yet", s.span)

    def _var_type(self, owner, var) -> T.Type:
        if owner is None:
            return self.spec.shared_vars[var].type
        for v in self.spec.services[owner].vars:
            if v.name == var:
                return v.type
        raise KeyError(var)

    # ------------------------------------------------------------ steps
    def _make_steps(self) -> None:
        self.sync_receivers: dict[str, list] = {}
        self._sync_depth = 0
        for svc in self.spec.services.values():
            for h in svc.handlers:
                name = h.channel.channel if isinstance(h.channel, N.ChanVal) else None
                if name and self.spec.channels[name].kind == "sync":
                    if h.params:
                        raise Unsupported("a handler with parameters on a sync channel", h.span)
                    self.sync_receivers.setdefault(name, []).append((svc, h))
        for svc in self.spec.services.values():
            for a in svc.actions:
                self.steps.append(StepDef(f"{svc.name}.{a.name}", svc.name, a.name, "action",
                                          self._pnames(svc, a.params),
                                          self._builder(svc, a, None), a))
            for h in svc.handlers:
                if any(h is r for _, r in self.sync_receivers.get(
                        getattr(h.channel, "channel", None), ())):
                    continue  # runs inside the sender's step
                self.steps.append(StepDef(f"{svc.name}.{h.name}", svc.name, h.name, "handler",
                                          self._pnames(svc, h.params),
                                          self._builder(svc, a=None, h=h), h))
        for ch in self.spec.channels.values():
            for flag, fault in (("lossy", "lose"), ("duplicating", "duplicate"),
                                ("reordering", "reorder")):
                if flag in ch.flags and ch.kind != "sync" and not (
                        fault == "duplicate" and ch.kind not in ("fifo", "bag")) and not (
                        fault == "reorder" and ch.kind != "fifo"):
                    self.steps.append(StepDef(f"network.{fault}", "network", fault, "fault",
                                              ["channel"], self._fault_builder(ch, fault),
                                              ch))
        for svc in self.spec.services.values():
            if svc.crashable:
                for restart in (False, True):
                    name = "restart" if restart else "crash"
                    self.steps.append(StepDef(f"{svc.name}.{name}", svc.name, name, "fault",
                                              self._pnames(svc, ()),
                                              self._crash_builder(svc, restart), svc))
        # check every step encodes (raises Unsupported early)
        pre = self.copy("check")
        for sd in self.steps:
            sd.build(pre, "check")

    @staticmethod
    def _pnames(svc, params):
        names = [n for n, _ in params]
        return ([svc.index[0]] if svc.index is not None else []) + names

    def _builder(self, svc: N.Service, a: N.Action | None, h: N.Handler | None):
        node = a if a is not None else h

        def build(pre: dict, tag: str):
            self._tag = tag
            env: dict = {}
            pc: list = []
            params: dict = {}
            self.bind_instance(svc, tag, pc, env, params)
            if svc.crashable:  # a crashed instance takes no step until it restarts
                pc.append(self.is_up(svc, pre, env))
            for name, d in node.params:
                x = self.fresh(f"{name}@{tag}", self.sort(d.type.elem))
                pc.append(self.member(x, d, pre, env))
                env[name] = x
                params[name] = (x, d.type.elem)
            if a is not None:
                if a.guard is not None:
                    pc.append(self.expr(a.guard, pre, env))
                paths = self.block(a.body, [_Path(pc, pre, env)])
            else:
                paths = []
                for cond, ch, idx in self.chan_instances(h.channel, pre, env):
                    if ch.kind == "sync":
                        raise Unsupported("sync channels", ch.span)
                    rc, m, st = self._receive(pre, ch, idx, tag)
                    matched = self._match(h.pattern, ch.payload, m, env)
                    if matched is None:
                        continue
                    conds, henv = matched
                    hpc = pc + [cond, rc] + conds
                    if h.guard is not None:
                        hpc.append(self.expr(h.guard, pre, henv))
                    params[f"msg:{ch.name}"] = (m, ch.payload)
                    paths += self.block(h.body, [_Path(hpc, st, henv)])
            return [(p.pc, p.st) for p in paths], params
        return build

    def bind_instance(self, svc: N.Service, tag: str, pc: list, env: dict,
                      params: dict | None = None) -> None:
        """For a replicated service, a fresh constant for the instance index: bound in
        ``env`` (and ``params``), its domain added to ``pc``."""
        if svc.index is None:
            return
        iname, dom = svc.index
        et = dom.type.elem
        x = self.fresh(f"{iname}@{tag}", self.sort(et))
        if svc.name in self.sym_svcs:
            lo, hi = self.sym_svcs[svc.name]
            pc.append(z3.And(lo <= x, x <= hi))
        elif not self.is_usort_type(et):
            pc.append(z3.Or([x == self.pyz(v, et) for v in svc.index_values]))
        env[iname] = x
        if params is not None:
            params[iname] = (x, et)

    def is_up(self, svc: N.Service, st: dict, env: dict):
        up = st[("v", svc.name, "up")]
        return up if svc.index is None else z3.Select(up, env[svc.index[0]])

    def _crash_builder(self, svc: N.Service, restart: bool):
        """``Svc.crash``: a running instance stops and its non-durable variables take their
        first initial value (the checker's placeholder); ``Svc.restart``: a crashed one
        starts again, those variables re-initialised."""

        def build(pre: dict, tag: str):
            self._tag = tag
            env, params, pc = {}, {}, []
            self.bind_instance(svc, tag, pc, env, params)
            up = self.is_up(svc, pre, env)
            pc.append(z3.Not(up) if restart else up)
            st = dict(pre)

            def put(key, value):
                if svc.index is None:
                    st[key] = value
                else:
                    st[key] = z3.Store(st[key], env[svc.index[0]], value)
            put(("v", svc.name, "up"), z3.BoolVal(restart))
            for v in svc.vars:
                if v.durable:
                    continue
                if v.init is None:
                    val = self.pyz(default_value(v.type, self.spec.messages), v.type)
                else:
                    val = self.expr_as(v.init, v.type, pre, env)
                put(("v", svc.name, v.name), val)
            return [(pc, st)], params
        return build

    def _fault_builder(self, ch: N.Channel, fault: str):
        """A network fault on the channel ``ch``, as the checker explores it: ``lose`` any
        message, ``duplicate`` one (fifo and bag, while there is room), ``reorder`` two
        neighbouring messages of a fifo."""

        def build(pre: dict, tag: str):
            self._tag = tag
            params = {"channel": (z3.StringVal(ch.name), T.StrT())}
            if ch.name in self.sym_chans:
                xs, member = self._chan_binders(ch, f"f{self._fresh_n}")
                self._fresh_n += 1
                insts = [([member], tuple(xs))]
                for (n, d), x in zip(ch.indices, xs):
                    params[n] = (x, d.type.elem)
            else:
                insts = [([], idx) for idx in product(*ch.index_values)] \
                    if ch.indices else [([], ())]
            paths = []
            get, put = self.cget, self.cput
            for pc, idx in insts:
                if ch.kind == "fifo":
                    n = get(pre, ch, idx, ("len",))
                    slots = [get(pre, ch, idx, (i,)) for i in range(ch.capacity)]
                    for j in range(ch.capacity):
                        st = dict(pre)
                        if fault == "lose":
                            cond = [j < n]
                            new = slots[:j] + slots[j + 1:] + [slots[-1]]
                            put(st, ch, idx, ("len",), n - 1)
                        elif fault == "duplicate":
                            if j + 1 >= ch.capacity:
                                continue
                            cond = [j < n, n < ch.capacity]
                            new = slots[:j + 1] + [slots[j]] + slots[j + 1:-1]
                            put(st, ch, idx, ("len",), n + 1)
                        else:
                            if j + 1 >= ch.capacity:
                                continue
                            cond = [j + 1 < n, slots[j] != slots[j + 1]]
                            new = slots[:j] + [slots[j + 1], slots[j]] + slots[j + 2:]
                        for i, x in enumerate(new):
                            put(st, ch, idx, (i,), x)
                        paths.append((pc + cond, st))
                    continue
                m = self.fresh(f"msg_{ch.name}@{tag}", self.sort(ch.payload))
                st = dict(pre)
                if ch.kind == "bag":
                    cnt = get(pre, ch, idx, ("cnt",))
                    size = get(pre, ch, idx, ("size",))
                    d = -1 if fault == "lose" else 1
                    cond = [cnt[m] > 0] + ([size < ch.capacity] if d > 0 else [])
                    put(st, ch, idx, ("cnt",), z3.Store(cnt, m, cnt[m] + d))
                    put(st, ch, idx, ("size",), size + d)
                else:  # set or log: lose only
                    cur = get(pre, ch, idx)
                    cond = [z3.Select(cur, m)]
                    put(st, ch, idx, (), z3.Store(cur, m, z3.BoolVal(False)))
                params["message"] = (m, ch.payload)
                paths.append((pc + cond, st))
            return paths, params
        return build

    def transition(self, sd: StepDef, pre: dict, post: dict, tag: str):
        """The formula of one step from ``pre`` to ``post``, and its parameter terms."""
        paths, params = sd.build(pre, tag)
        disj = []
        for pc, st in paths:
            disj.append(z3.And(pc + [post[k] == st[k] for k in post]))
        return (z3.Or(disj) if disj else z3.BoolVal(False)), params

    def property(self, name: str):
        for p in self.spec.properties:
            if p.name == name and p.kind == "invariant":
                return p
        raise KeyError(name)

    def holds(self, prop: N.Property, st: dict):
        """The property in state ``st``: it is defined there (see the module docstring) and
        true."""
        saved, self._wd, self._guard = self._wd, [], []
        try:
            value = self.expr(prop.expr, st, {})
            return z3.And(self._wd + [value]) if self._wd else value
        finally:
            self._wd, self._guard = saved, []

    def need(self, cond) -> None:
        """Record that the expression being encoded has a value only where ``cond`` holds
        (under the conditions that lead to its evaluation)."""
        if self._wd is None:
            return
        self._wd.append(z3.Implies(z3.And(self._guard), cond) if self._guard else cond)

    def guarded(self, cond, e: N.Expr, st, env):
        """``e`` encoded as evaluated only where ``cond`` holds."""
        if self._wd is None:
            return self.expr(e, st, env)
        self._guard.append(cond)
        try:
            return self.expr(e, st, env)
        finally:
            self._guard.pop()


def _mentions(t: T.Type, name: str) -> bool:
    if isinstance(t, T.AtomT):
        return t.name == name and t.model_values
    for sub in getattr(t, "__dict__", {}).values():
        if isinstance(sub, T.Type) and _mentions(sub, name):
            return True
        if isinstance(sub, tuple):
            for x in sub:
                if isinstance(x, T.Type) and _mentions(x, name):
                    return True
                if isinstance(x, tuple) and any(isinstance(y, T.Type) and _mentions(y, name)
                                                for y in x):
                    return True
    return False
