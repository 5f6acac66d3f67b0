"""A deliberately simple reference explorer for the service layer of ``.ms`` specs.

It reads the typed IR (:func:`mscheck.loads`) and interprets it by walking the tree; it
shares no code with ``mscheck.engine`` (nor with ``mscheck.ir.evaluate``): its own values,
its own expression evaluator, its own statements, its own search. Slow and short on purpose,
so that it is easy to check by reading.

Semantics (docs/language.md, sections 7 and 10):

* A state maps every variable of every service instance, every shared variable and every
  buffered channel instance to a value. Values are plain Python: bool, int, str (strings and
  atoms), frozenset (sets), tuple (tuples, sequences, fifo contents), and the small frozen
  classes below for maps, records, messages, channel names and bags. Maps, records and bags
  are order-free by construction, so equal values are equal states.
* One step is one action (per parameter binding with a true guard) or one handler taking one
  available message (fifo: the head only; bag: each distinct message, one copy removed; set:
  each element, removed; log: each element, kept). A handler's guard sees the state before
  the step, with the message's values bound. Statements run in order on a private copy;
  ``choose`` forks; a send to a full fifo/bag blocks the step; a send on a sync channel runs
  each matching receiving handler (a separate outcome each) within the same step; with none,
  the send blocks.
* An assignment or send of a value outside its declared type, a false ``assert``, and an
  evaluation error (lookup outside a domain, division by zero, ...) make the step an error:
  :class:`RefError` with kind ``range``, ``assertion`` or ``domain``. Every error of every
  step and branch is collected: an engine stops at the first it meets, in its own order.
* Search is breadth-first over distinct states. Counts as TLC: ``transitions`` is the number
  of initial states plus every successor computed from every distinct state (duplicates,
  self-loops, and successors discarded by a ``constraint`` included). A state where some
  step fails is an error violation and is not expanded. A state without successors is
  a deadlock unless every service with behaviour has ``end when`` and it holds (for every
  instance). Exploration continues past every violation (``--continue``).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from mscheck.ir import nodes as N
from mscheck.ir import types as T

__all__ = ["RefError", "Reference", "RefResult", "explore"]


class RefError(Exception):
    """A faulty step: kind is 'range', 'assertion' or 'domain'."""

    def __init__(self, kind: str, message: str = ""):
        super().__init__(f"{kind}: {message}")
        self.kind = kind


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class Map:
    items: frozenset  # of (key, value)

    def get(self, k):
        for kk, v in self.items:
            if kk == k:
                return v
        raise RefError("domain", f"{k!r} is not in the map's domain")

    def put(self, k, v):
        self.get(k)
        return Map(frozenset((kk, v if kk == k else vv) for kk, vv in self.items))


@dataclass(frozen=True)
class Rec:
    fields: frozenset  # of (name, value)

    def get(self, name):
        return dict(self.fields)[name]

    def put(self, name, v):
        return Rec(frozenset((n, v if n == name else x) for n, x in self.fields))


@dataclass(frozen=True)
class Msg:
    name: str
    args: tuple = ()


@dataclass(frozen=True)
class Chan:
    name: str
    idx: tuple = ()


@dataclass(frozen=True)
class Bag:
    counts: frozenset  # of (message, count)

    def items(self):
        return [m for m, n in self.counts for _ in range(n)]


def make_bag(msgs) -> Bag:
    return Bag(frozenset(Counter(msgs).items()))


def all_values(t: T.Type, spec: N.Spec) -> list:
    """Every value of a finite type."""
    if isinstance(t, T.BoolT):
        return [False, True]
    if isinstance(t, T.IntT):
        return list(range(t.lo, t.hi + 1))
    if isinstance(t, T.AtomT):
        return list(t.values)
    if isinstance(t, T.SetT):
        elems = all_values(t.elem, spec)
        return [frozenset(e for i, e in enumerate(elems) if m >> i & 1)
                for m in range(1 << len(elems))]
    if isinstance(t, T.TupleT):
        return [tuple(p) for p in product(*(all_values(e, spec) for e in t.elems))]
    if isinstance(t, T.RecordT):
        return [Rec(frozenset(zip([n for n, _ in t.fields], p)))
                for p in product(*(all_values(f, spec) for _, f in t.fields))]
    if isinstance(t, T.MapT):
        keys = all_values(t.key, spec)
        return [Map(frozenset(zip(keys, p)))
                for p in product(all_values(t.value, spec), repeat=len(keys))]
    if isinstance(t, T.MsgT):
        return [Msg(m, tuple(args)) for m in t.variants
                for args in product(*(all_values(ft, spec)
                                      for _, ft in spec.messages[m].fields))]
    raise NotImplementedError(f"values of {t}")


def default(t: T.Type, spec: N.Spec):
    if isinstance(t, T.BoolT):
        return False
    if isinstance(t, T.IntT):
        return t.lo if t.lo is not None else 0
    if isinstance(t, T.StrT):
        return ""
    if isinstance(t, T.AtomT):
        return t.values[0]
    if isinstance(t, T.SetT):
        return frozenset()
    if isinstance(t, T.SeqT):
        return ()
    if isinstance(t, T.TupleT):
        return tuple(default(e, spec) for e in t.elems)
    if isinstance(t, T.RecordT):
        return Rec(frozenset((n, default(f, spec)) for n, f in t.fields))
    if isinstance(t, T.MapT):
        return Map(frozenset((k, default(t.value, spec)) for k in all_values(t.key, spec)))
    raise NotImplementedError(f"default of {t}")


def fits(t: T.Type, v, spec: N.Spec) -> bool:
    """Is ``v`` a value of ``t``? (Message fields are checked too.)"""
    if isinstance(t, T.IntT):
        return (t.lo is None or v >= t.lo) and (t.hi is None or v <= t.hi)
    if isinstance(t, T.AtomT):
        return t.values is None or v in t.values
    if isinstance(t, T.SetT):
        return all(fits(t.elem, x, spec) for x in v)
    if isinstance(t, T.SeqT):
        return (t.max is None or len(v) <= t.max) and all(fits(t.elem, x, spec) for x in v)
    if isinstance(t, T.TupleT):
        return all(fits(e, x, spec) for e, x in zip(t.elems, v))
    if isinstance(t, T.RecordT):
        return all(fits(ft, v.get(n), spec) for n, ft in t.fields)
    if isinstance(t, T.MapT):
        return all(fits(t.value, x, spec) for _, x in v.items)
    if isinstance(t, T.MsgT):
        return v.name in t.variants and all(
            fits(ft, x, spec) for (_, ft), x in zip(spec.messages[v.name].fields, v.args))
    return True


# ---------------------------------------------------------------- the interpreter


@dataclass
class RefResult:
    states: int
    transitions: int
    invariants: set = field(default_factory=set)  # names of violated invariants
    errors: set = field(default_factory=set)  # kinds of step errors: range/assertion/domain
    deadlock: bool = False
    unreachable: set = field(default_factory=set)  # reachable properties with no witness
    min_violation_depth: int | None = None
    # (kind, property) -> shortest depth; every step error is ("error", "error"), since
    # which of several errors of one state an engine meets first is a matter of order
    first_depth: dict = field(default_factory=dict)
    error_kinds_at: dict = field(default_factory=dict)  # depth -> kinds of errors there
    max_depth: int = 0
    complete: bool = True

    @property
    def kinds(self) -> set:
        """Every violation as (kind, property), as the engines report them."""
        out = {("invariant", n) for n in self.invariants}
        out |= {(k, k) for k in self.errors}
        out |= {("unreachable", n) for n in self.unreachable}
        if self.deadlock:
            out.add(("deadlock", "deadlock_free"))
        return out


class Reference:
    def __init__(self, spec: N.Spec):
        if spec.init is not None:
            raise NotImplementedError("the reference covers the service layer only")
        if any(c.flags for c in spec.channels.values()) or any(
                s.crashable for s in spec.services.values()):
            raise NotImplementedError("the reference explores no faults")
        self.spec = spec
        self.consts = {n: c.value for n, c in spec.constants.items()}
        self.keys: list = [("var", None, None, v) for v in spec.shared_vars]
        for svc in spec.services.values():
            for i in self.instances(svc):
                self.keys += [("var", svc.name, i, v.name) for v in svc.vars]
        for ch in spec.channels.values():
            if ch.kind != "sync":
                self.keys += [("chan", ch.name, idx) for idx in product(*ch.index_values)]

    # ------------------------------------------------------------ helpers
    @staticmethod
    def instances(svc: N.Service) -> list:
        return [None] if svc.index_values is None else list(svc.index_values)

    @staticmethod
    def inst_env(svc: N.Service, i) -> dict:
        return {} if svc.index is None else {svc.index[0]: i}

    def var_key(self, owner, var, index_expr, env, w):
        svc = self.spec.services.get(owner) if owner else None
        idx = None
        if svc is not None and svc.index is not None:
            idx = self.ev(index_expr, env, w)
        key = ("var", owner, idx, var)
        if key not in w:
            raise RefError("domain", f"{owner}[{idx}] does not exist")
        return key

    def var_type(self, owner, var) -> T.Type:
        if owner is None:
            return self.spec.shared_vars[var].type
        return next(v.type for v in self.spec.services[owner].vars if v.name == var)

    def contents(self, w, cid: Chan):
        key = ("chan", cid.name, cid.idx)
        if key not in w:
            return ()
        c = w[key]
        return c.items() if isinstance(c, Bag) else list(c)

    def bindings(self, binders, env, w) -> list[dict]:
        envs = [dict(env)]
        for name, dom in binders:
            envs = [{**b, name: v} for b in envs for v in self.ev(dom, b, w)]
        return envs

    # ------------------------------------------------------------ expressions
    def ev(self, e: N.Expr, env: dict, w: dict | None):
        ev = self.ev
        if isinstance(e, N.Lit):
            return e.value
        if isinstance(e, N.ConstRef):
            return self.to_ref(self.consts[e.name])
        if isinstance(e, N.Local):
            return env[e.name]
        if isinstance(e, N.VarRef):
            return w[self.var_key(e.owner, e.var, e.index, env, w)]
        if isinstance(e, N.TypeSet):
            return frozenset(all_values(e.of, self.spec))
        if isinstance(e, N.ChanVal):
            return Chan(e.channel, tuple(ev(i, env, w) for i in e.indices))
        if isinstance(e, N.Unary):
            v = ev(e.operand, env, w)
            return (not v) if e.op == "not" else -v
        if isinstance(e, N.BoolOp):
            if e.op == "and":
                return all(ev(o, env, w) for o in e.operands)
            return any(ev(o, env, w) for o in e.operands)
        if isinstance(e, N.Binary):
            return self.binary(e, env, w)
        if isinstance(e, N.Ite):
            return ev(e.then, env, w) if ev(e.cond, env, w) else ev(e.orelse, env, w)
        if isinstance(e, N.Quant):
            results = [ev(e.body, b, w) for b in self.bindings(e.vars, env, w)]
            return any(results) if e.kind == "exists" else all(results)
        if isinstance(e, N.SetLit):
            return frozenset(ev(x, env, w) for x in e.elems)
        if isinstance(e, N.SetFilter):
            return frozenset(x for x in ev(e.domain, env, w)
                             if ev(e.pred, {**env, e.var: x}, w))
        if isinstance(e, N.SetMap):
            return frozenset(ev(e.expr, b, w) for b in self.bindings(e.vars, env, w))
        if isinstance(e, N.RecordLit):
            return Rec(frozenset((n, ev(x, env, w)) for n, x in e.fields))
        if isinstance(e, (N.TupleLit, N.SeqLit)):
            return tuple(ev(x, env, w) for x in e.elems)
        if isinstance(e, N.MapLit):
            return Map(frozenset((k, ev(e.body, {**env, e.var: k}, w))
                                 for k in ev(e.domain, env, w)))
        if isinstance(e, N.MsgLit):
            return Msg(e.name, tuple(ev(a, env, w) for a in e.args))
        if isinstance(e, N.LetE):
            return ev(e.body, {**env, e.name: ev(e.value, env, w)}, w)
        if isinstance(e, N.Index):
            return self.index(ev(e.base, env, w), ev(e.index, env, w))
        if isinstance(e, N.SubSeq):
            s, i, j = ev(e.base, env, w), ev(e.lo, env, w), ev(e.hi, env, w)
            if i < 1 or j > len(s) or i > j + 1:
                raise RefError("domain", "sub-sequence out of bounds")
            return s[i - 1:j]
        if isinstance(e, N.Field):
            base = ev(e.base, env, w)
            if isinstance(base, Msg):
                names = [n for n, _ in self.spec.messages[base.name].fields]
                return base.args[names.index(e.name)]
            return base.get(e.name)
        if isinstance(e, N.Update):
            path = [(st.field, None if st.index is None else ev(st.index, env, w))
                    for st in e.path]
            return self.update(ev(e.base, env, w), path, ev(e.value, env, w))
        if isinstance(e, N.Call):
            return self.call(e, env, w)
        raise NotImplementedError(type(e).__name__)

    def binary(self, e: N.Binary, env, w):
        op = e.op
        a = self.ev(e.left, env, w)
        if op == "=>":
            return (not a) or bool(self.ev(e.right, env, w))
        b = self.ev(e.right, env, w)
        if op == "<=>":
            return bool(a) == bool(b)
        if op in ("div", "mod"):
            if b == 0:
                raise RefError("domain", "division by zero")
            return a // b if op == "div" else a % b
        table = {
            "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
            "union": lambda: a | b, "inter": lambda: a & b, "minus": lambda: a - b,
            "++": lambda: a + b, "==": lambda: a == b, "!=": lambda: a != b,
            "<": lambda: a < b, "<=": lambda: a <= b, ">": lambda: a > b,
            ">=": lambda: a >= b, "in": lambda: a in b, "notin": lambda: a not in b,
            "subset": lambda: a <= b, "..": lambda: frozenset(range(a, b + 1)),
        }
        return table[op]()

    @staticmethod
    def index(base, i):
        if isinstance(base, Map):
            return base.get(i)
        if not 1 <= i <= len(base):
            raise RefError("domain", f"index {i} outside 1..{len(base)}")
        return base[i - 1]

    def update(self, base, path, value):
        if not path:
            return value
        (fname, idx), rest = path[0], path[1:]
        if fname is not None:
            return base.put(fname, self.update(base.get(fname), rest, value))
        if isinstance(base, Map):
            return base.put(idx, self.update(base.get(idx), rest, value))
        inner = self.update(self.index(base, idx), rest, value)
        return base[:idx - 1] + (inner,) + base[idx:]

    def call(self, e: N.Call, env, w):
        f = e.func
        if f in ("len", "pending") and isinstance(e.args[0].type, T.ChanT):
            items = self.contents(w, self.ev(e.args[0], env, w))
            return len(items) if f == "len" else frozenset(items)
        args = [self.ev(a, env, w) for a in e.args]
        x = args[0]
        if f in ("card", "len"):
            return len(x)
        if f in ("head", "tail", "min", "max") and not x:
            raise RefError("domain", f"{f} of an empty value")
        return {"head": lambda: x[0], "tail": lambda: x[1:], "min": lambda: min(x),
                "max": lambda: max(x), "abs": lambda: abs(x),
                "append": lambda: x + (args[1] if len(args) > 1 else None,),
                "dom": lambda: frozenset(k for k, _ in x.items)}[f]()

    def to_ref(self, v):
        """A constant's value (computed by the front end) in the reference's own values."""
        if isinstance(v, frozenset):
            return frozenset(self.to_ref(x) for x in v)
        if isinstance(v, tuple):
            return tuple(self.to_ref(x) for x in v)
        if isinstance(v, (bool, int, str)):
            return v
        cls = type(v).__name__
        if cls == "Record":
            return Rec(frozenset((n, self.to_ref(x)) for n, x in v.fields))
        if cls == "FMap":
            return Map(frozenset((self.to_ref(k), self.to_ref(x)) for k, x in v.items))
        if cls == "MsgVal":
            return Msg(v.name, tuple(self.to_ref(x) for x in v.args))
        if cls == "ChanId":
            return Chan(v.name, tuple(v.indices))
        raise NotImplementedError(cls)

    # ------------------------------------------------------------ statements
    def block(self, stmts, w: dict, env: dict) -> list:
        """Every outcome of running ``stmts``: ``(state, env)``, or a :class:`RefError` for a
        branch that fails; none when blocked. A failing branch does not stop the others, so
        that every error a step can raise is known."""
        outcomes: list = [(w, env)]
        for s in stmts:
            nxt: list = []
            for o in outcomes:
                if isinstance(o, RefError):
                    nxt.append(o)
                    continue
                try:
                    nxt += self.stmt(s, *o)
                except RefError as err:
                    nxt.append(err)
            outcomes = nxt
        return outcomes

    @staticmethod
    def scoped(outcomes: list, env: dict) -> list:
        """Outcomes of an inner block, with the names it bound forgotten."""
        return [o if isinstance(o, RefError) else (o[0], env) for o in outcomes]

    def stmt(self, s: N.Stmt, w: dict, env: dict) -> list:
        if isinstance(s, N.SkipS):
            return [(w, env)]
        if isinstance(s, N.LetS):
            return [(w, {**env, s.name: self.ev(s.value, env, w)})]
        if isinstance(s, N.AssertS):
            if not self.ev(s.cond, env, w):
                raise RefError("assertion", s.message or "assertion failed")
            return [(w, env)]
        if isinstance(s, N.IfS):
            for cond, body in s.branches:
                if self.ev(cond, env, w):
                    return self.scoped(self.block(body, w, env), env)
            return self.scoped(self.block(s.orelse, w, env), env)
        if isinstance(s, N.ChooseS):
            out = []
            for b in self.bindings(s.vars, env, w):
                if s.cond is None or self.ev(s.cond, b, w):
                    out += self.scoped(self.block(s.body, w, b), env)
            return out
        if isinstance(s, N.Assign):
            t = s.target
            key = self.var_key(t.owner, t.var, t.index, env, w)
            value = self.ev(s.value, env, w)
            path = [(st.field, None if st.index is None else self.ev(st.index, env, w))
                    for st in t.path]
            value = self.update(w[key], path, value)
            if not fits(self.var_type(t.owner, t.var), value, self.spec):
                raise RefError("range", f"{t.var} := {value!r}")
            return [({**w, key: value}, env)]
        if isinstance(s, N.Send):
            return self.scoped(self.send(s, w, env), env)
        raise NotImplementedError(type(s).__name__)

    def send(self, s: N.Send, w: dict, env: dict) -> list:
        cid = self.ev(s.channel, env, w)
        msg = self.ev(s.payload, env, w)
        ch = self.spec.channels[cid.name]
        if not fits(ch.payload, msg, self.spec):
            raise RefError("range", f"sending {msg!r} on {cid.name}")
        if ch.kind == "sync":
            out = []
            for svc, h, henv in self.handlers_on(cid.name, w):
                if self.ev(h.channel, henv, w) != cid:
                    continue
                bound = self.match(h.pattern, msg, henv)
                if bound is None or (h.guard is not None and not self.ev(h.guard, bound, w)):
                    continue
                out += self.block(h.body, w, bound)
            return out
        key = ("chan", cid.name, cid.idx)
        if key not in w:
            raise RefError("domain", f"no channel {cid}")
        c = w[key]
        if ch.kind == "fifo":
            if len(c) >= ch.capacity:
                return []
            return [({**w, key: c + (msg,)}, env)]
        if ch.kind == "bag":
            if len(c.items()) >= ch.capacity:
                return []
            return [({**w, key: make_bag(c.items() + [msg])}, env)]
        return [({**w, key: c | {msg}}, env)]

    def handlers_on(self, chan_name: str, w):
        """(service, handler, env) for every handler instance on a channel, with params."""
        for svc in self.spec.services.values():
            for h in svc.handlers:
                if isinstance(h.channel, N.ChanVal) and h.channel.channel != chan_name:
                    continue
                for i in self.instances(svc):
                    for henv in self.bindings(h.params, self.inst_env(svc, i), w):
                        yield svc, h, henv

    @staticmethod
    def match(p: N.Pattern, msg, env: dict) -> dict | None:
        if p.message is not None:
            if not isinstance(msg, Msg) or msg.name != p.message:
                return None
            values = msg.args
        elif p.whole:
            values = (msg,)
        else:
            if not isinstance(msg, tuple) or len(msg) != len(p.vars):
                return None
            values = msg
        out = dict(env)
        for (n, _), v in zip(p.vars, values):
            if n != "_":
                out[n] = v
        return out

    # ------------------------------------------------------------ steps
    def expand(self, state: tuple) -> tuple[list[tuple[str, tuple]], set]:
        """Every step from ``state`` with its successor, and the kinds of the errors that
        some step (or some branch of a step) raises there."""
        w = dict(zip(self.keys, state))
        out, errors = [], set()

        def collect(label, outcomes):
            for o in outcomes:
                if isinstance(o, RefError):
                    errors.add(o.kind)
                else:
                    out.append((label, o[0]))

        for svc in self.spec.services.values():
            for i in self.instances(svc):
                ienv = self.inst_env(svc, i)
                who = svc.name if i is None else f"{svc.name}[{i}]"
                for a in svc.actions:
                    try:
                        for env in self.bindings(a.params, ienv, w):
                            try:
                                if a.guard is None or self.ev(a.guard, env, w):
                                    collect(f"{who}.{a.name}", self.block(a.body, w, env))
                            except RefError as err:
                                errors.add(err.kind)
                    except RefError as err:
                        errors.add(err.kind)
                for h in svc.handlers:
                    if self.spec.channels[h.channel.channel].kind == "sync":
                        continue  # runs only within a send
                    try:
                        for env in self.bindings(h.params, ienv, w):
                            for ww, msg in self.receive(w, self.ev(h.channel, env, w)):
                                bound = self.match(h.pattern, msg, env)
                                if bound is None:
                                    continue
                                try:
                                    if h.guard is None or self.ev(h.guard, bound, w):
                                        collect(f"{who}.{h.name}", self.block(h.body, ww, bound))
                                except RefError as err:
                                    errors.add(err.kind)
                    except RefError as err:
                        errors.add(err.kind)
        return [(label, tuple(ww[k] for k in self.keys)) for label, ww in out], errors

    def receive(self, w: dict, cid: Chan) -> list[tuple[dict, Any]]:
        """Each (state after taking, message) a receiver on ``cid`` may take."""
        key = ("chan", cid.name, cid.idx)
        if key not in w:
            return []
        c, kind = w[key], self.spec.channels[cid.name].kind
        if kind == "fifo":
            return [({**w, key: c[1:]}, c[0])] if c else []
        if kind == "bag":
            out = []
            for m in set(c.items()):
                rest = c.items()
                rest.remove(m)
                out.append(({**w, key: make_bag(rest)}, m))
            return out
        if kind == "set":
            return [({**w, key: c - {m}}, m) for m in c]
        return [(w, m) for m in c]  # log: receiving does not consume

    # ------------------------------------------------------------ initial states, ends
    def initial_states(self) -> list[tuple]:
        partial = [{}]
        owners = [(None, None, v) for v in self.spec.shared_vars.values()]
        for svc in self.spec.services.values():
            owners += [(svc, i, v) for i in self.instances(svc) for v in svc.vars]
        for svc, i, v in owners:
            env = {} if svc is None else self.inst_env(svc, i)
            key = ("var", None if svc is None else svc.name, i, v.name)
            nxt = []
            for w in partial:
                if v.init is None:
                    values = [default(v.type, self.spec)]
                elif v.init_kind == "choice":
                    values = list(self.ev(v.init, env, w))
                else:
                    values = [self.ev(v.init, env, w)]
                for x in values:
                    if not fits(v.type, x, self.spec):
                        raise RefError("range", f"initial value of {v.name}")
                    nxt.append({**w, key: x})
            partial = nxt
        for ch in self.spec.channels.values():
            if ch.kind == "sync":
                continue
            names = [n for n, _ in ch.indices]
            for idx in product(*ch.index_values):
                init = [] if ch.init is None else list(self.ev(ch.init, dict(zip(names, idx)),
                                                                None))
                if ch.capacity is not None and len(init) > ch.capacity:
                    raise RefError("range", f"channel {ch.name} starts too full")
                value = {"fifo": tuple, "bag": make_bag}.get(ch.kind, frozenset)(init)
                for w in partial:
                    w[("chan", ch.name, idx)] = value
        out = []
        for w in partial:
            s = tuple(w[k] for k in self.keys)
            if s not in out and self.satisfies_constraints(s):
                out.append(s)
        return out

    def satisfies_constraints(self, state) -> bool:
        w = dict(zip(self.keys, state))
        return all(self.ev(p.expr, {}, w) for p in self.spec.properties_of("constraint"))

    def valid_end(self, state) -> bool:
        w = dict(zip(self.keys, state))
        for svc in self.spec.services.values():
            if not (svc.vars or svc.actions or svc.handlers):
                continue
            if svc.end_when is None:
                return False
            for i in self.instances(svc):
                if not self.ev(svc.end_when, self.inst_env(svc, i), w):
                    return False
        return True

    def holds(self, p: N.Property, state) -> bool | None:
        """The property's value in a state; None when evaluating it is an error."""
        try:
            return bool(self.ev(p.expr, {}, dict(zip(self.keys, state))))
        except RefError:
            return None


def explore(spec: N.Spec, check_deadlock: bool = True, max_states: int | None = None,
            properties: list[str] | None = None) -> RefResult:
    """Breadth-first search of every reachable state, past every violation."""
    ref = Reference(spec)
    invariants = [p for p in spec.properties_of("invariant")
                  if properties is None or p.name in properties]
    reachables = [p for p in spec.properties_of("reachable")
                  if properties is None or p.name in properties]
    witnessed: set[str] = set()
    depth: dict[tuple, int] = {}
    queue: deque = deque()
    r = RefResult(0, 0)

    def violation(key: tuple, d: int) -> None:
        if r.min_violation_depth is None or d < r.min_violation_depth:
            r.min_violation_depth = d
        r.first_depth.setdefault(key, d)  # breadth-first: the first is the shortest

    def visit(s, d: int) -> None:
        depth[s] = d
        queue.append(s)
        for p in invariants:
            if ref.holds(p, s) is not True:
                r.invariants.add(p.name)
                violation(("invariant", p.name), d)
        for p in reachables:
            if ref.holds(p, s):
                witnessed.add(p.name)

    for s in ref.initial_states():
        r.transitions += 1
        visit(s, 0)
    while queue:
        if max_states is not None and len(depth) > max_states:
            r.complete = False
            break
        s = queue.popleft()
        d = depth[s]
        succ, errors = ref.expand(s)
        if errors:  # the state is reported, and not expanded
            r.errors |= errors
            r.error_kinds_at.setdefault(d, set()).update(errors)
            violation(("error", "error"), d)
            continue
        if not succ and check_deadlock and not ref.valid_end(s):
            r.deadlock = True
            violation(("deadlock", "deadlock_free"), d)
        for _label, t in succ:
            r.transitions += 1
            if ref.satisfies_constraints(t) and t not in depth:
                visit(t, d + 1)
    r.states = len(depth)
    r.max_depth = max(depth.values(), default=0)
    if r.complete:
        r.unreachable = {p.name for p in reachables} - witnessed
        r.first_depth.update({("unreachable", n): None for n in r.unreachable})
    return r
