"""IR to a :class:`~mscheck.engine.model.Model`: expressions and statements become closures.

A state is a tuple of slots: one per variable of each service instance, one per shared
variable, one per channel instance (its contents; a ``sync`` channel holds nothing), and one
for the pi-calculus processes. Closures read slots by index, so no name is looked up while
exploring. Statements are compiled in continuation-passing style: a statement that branches
(``choose``, a rendezvous with several receivers) calls its continuation once per branch,
and one that blocks (a send to a full channel) does not call it at all.
"""

from __future__ import annotations

import operator
from itertools import product
from typing import Any, Callable

from mscheck.engine.model import ModelProperty, Step, StepError
from mscheck.ir import nodes as N
from mscheck.ir import types as T
from mscheck.ir.evaluate import (ChanId, EvalError, FMap, MsgVal, Record, _builtin,
                                 _sort_key_any, _update, default_value, range_set, show_value,
                                 type_values)
from mscheck.ir.printer import show_expr

__all__ = ["compile_spec", "CompiledModel", "Unsupported"]


class Unsupported(Exception):
    """The spec uses a construct this engine does not explore yet; never a silent 'ok'."""

    def __init__(self, message: str, span=None):
        super().__init__(message)
        self.span = span


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "union": operator.or_,
    "inter": operator.and_, "minus": operator.sub, "++": operator.add, "==": operator.eq,
    "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "subset": operator.le,
}


_key = _sort_key_any  # one order for map keys, bags and choices, everywhere
SET_ORDERS = 1 << 14  # the ordered contents of set and log channels remembered at most


def _nobody(env) -> str:
    """The actor of a step when steps are not labelled."""
    return ""


class CompiledModel:
    """A spec compiled for explicit-state search (see the module docstring)."""

    def __init__(self, spec: N.Spec, faults: bool = True, max_faults: int | None = None):
        """``faults``: explore the fault flags of channels and crashable services (False:
        check as if none were set). ``max_faults``: at most this many faults per run."""
        self.spec = spec
        self._rendezvous_depth = 0
        self._set_order: dict[tuple, tuple] = {}  # a set or log channel's messages, ordered
        # whether steps say who moved and which messages went where (the packed engine's
        # tables need only the successor states, and switch this off while they fill)
        self.labels = True
        self.faults = faults
        self.max_faults = max_faults
        self.consts = {n: c.value for n, c in spec.constants.items()}
        for n, c in spec.constants.items():
            if c.value is None:
                raise Unsupported(f"constant {n} has no value; give one with --const {n}=...",
                                  c.span)
        self.slot_names: list[str] = []
        self.slot_types: list[T.Type | None] = []
        self.var_slot: dict[tuple[str | None, str], Any] = {}
        self.chan_slot: dict[str, dict[tuple, int]] = {}
        self.chan_kind: dict[str, N.Channel] = dict(spec.channels)
        self._layout()
        self._unsupported()
        self._compile_steps()
        self.members = self._members()
        self.fault_steps = self._fault_members()
        self._props = self._compile_properties()
        self.constraints = [self._cx(p.expr) for p in spec.properties_of("constraint")]
        self._end_checks = self._compile_end()

    # ------------------------------------------------------------ layout
    def _add_slot(self, name: str, t: T.Type | None) -> int:
        self.slot_names.append(name)
        self.slot_types.append(t)
        return len(self.slot_names) - 1

    def _layout(self) -> None:
        for v in self.spec.shared_vars.values():
            self.var_slot[(None, v.name)] = self._add_slot(v.name, v.type)
        for svc in self.spec.services.values():
            for v in svc.vars:
                if svc.index_values is None:
                    self.var_slot[(svc.name, v.name)] = self._add_slot(f"{svc.name}.{v.name}",
                                                                       v.type)
                else:
                    self.var_slot[(svc.name, v.name)] = {
                        i: self._add_slot(f"{svc.name}[{show_value(i)}].{v.name}", v.type)
                        for i in svc.index_values}
        for ch in self.spec.channels.values():
            if ch.kind == "sync":
                continue
            slots = {}
            for idx in product(*ch.index_values):
                label = ch.name + "".join(f"[{show_value(i)}]" for i in idx)
                slots[idx] = self._add_slot(label, None)
            self.chan_slot[ch.name] = slots
        self.up_slot: dict[tuple[str, Any], int] = {}
        self.fault_slot: int | None = None
        if self.faults:
            for svc in self.spec.services.values():
                if svc.crashable:
                    for idx in (svc.index_values if svc.index_values is not None else (None,)):
                        label = svc.name + (f"[{show_value(idx)}]" if idx is not None else "")
                        self.up_slot[(svc.name, idx)] = self._add_slot(f"{label}.up", T.BOOL)
            has_faults = self.up_slot or any(ch.flags for ch in self.spec.channels.values())
            if has_faults and self.max_faults is not None:
                self.fault_slot = self._add_slot("faults", T.IntT(0, self.max_faults))
        self.procs = None
        if self.spec.init is not None:
            from mscheck.engine.procs import Processes

            self.procs = Processes(self, self.spec, self._add_slot("processes", None))

    @property
    def has_faults(self) -> bool:
        return self.faults and (bool(self.up_slot) or any(
            ch.flags for ch in self.spec.channels.values()))

    def _unsupported(self) -> None:
        for svc in self.spec.services.values():
            for v in svc.vars:
                if not T.is_finite(v.type) and not isinstance(v.type, (T.IntT, T.SeqT, T.SetT,
                                                                        T.MapT, T.StrT)):
                    raise Unsupported(f"variable {svc.name}.{v.name} has a type the checker "
                                      "cannot store yet", v.span)

    # ------------------------------------------------------------ expressions
    def _cx(self, e: N.Expr) -> Callable:
        """Compile an expression to ``f(state, env) -> value``."""
        m = getattr(self, "_x_" + type(e).__name__)
        return m(e)

    def _x_Lit(self, e):
        v = e.value
        return lambda s, env: v

    def _x_ConstRef(self, e):
        v = self.consts[e.name]
        return lambda s, env: v

    def _x_ProcVar(self, e):
        if self.procs is None:
            span = e.span
            process = e.process

            def none(s, env):
                raise StepError("domain", f"no instance of process {process} runs (the spec "
                                "has no 'init')", span)
            return none
        procs, process, param, span = self.procs, e.process, e.param, e.span
        return lambda s, env: procs.param(s, process, param, span)

    def _x_Local(self, e):
        n = e.name
        return lambda s, env: env[n]

    def _x_TypeSet(self, e):
        try:
            v = frozenset(type_values(e.of, self.spec.messages))
        except EvalError as exc:  # (a range of millions, a channel type, ...)
            raise Unsupported(f"the type {T.show(e.of)} as a set of values: {exc}",
                              e.span) from None
        return lambda s, env: v

    def _x_ChanVal(self, e):
        name = e.channel
        if not e.indices:
            cid = ChanId(name, ())
            return lambda s, env: cid
        fs = [self._cx(i) for i in e.indices]
        return lambda s, env: ChanId(name, tuple(f(s, env) for f in fs))

    def _x_VarRef(self, e):
        slot = self.var_slot[(e.owner, e.var)]
        if isinstance(slot, int):
            return lambda s, env: s[slot]
        fi = self._cx(e.index)
        owner = e.owner

        def read(s, env):
            i = fi(s, env)
            try:
                return s[slot[i]]
            except KeyError:
                raise StepError("domain", f"{owner}[{show_value(i)}] does not exist",
                                e.span) from None
        return read

    def _x_Unary(self, e):
        f = self._cx(e.operand)
        if e.op == "not":
            return lambda s, env: not f(s, env)
        return lambda s, env: -f(s, env)

    def _x_BoolOp(self, e):
        fs = [self._cx(o) for o in e.operands]
        if e.op == "and":
            if len(fs) == 2:
                a, b = fs
                return lambda s, env: bool(a(s, env)) and bool(b(s, env))
            return lambda s, env: all(f(s, env) for f in fs)
        return lambda s, env: any(f(s, env) for f in fs)

    def _x_Binary(self, e):
        a, b = self._cx(e.left), self._cx(e.right)
        op = e.op
        if op == "=>":
            return lambda s, env: (not a(s, env)) or bool(b(s, env))
        if op == "<=>":
            return lambda s, env: bool(a(s, env)) == bool(b(s, env))
        if op == "..":
            if isinstance(e.left, N.Lit) and isinstance(e.right, N.Lit) and \
                    e.right.value - e.left.value < 1 << 16:  # made once
                v = frozenset(range(e.left.value, e.right.value + 1))
                return lambda s, env: v
            span = e.span

            def interval(s, env):
                low, high = a(s, env), b(s, env)
                try:
                    return range_set(low, high)
                except EvalError as exc:
                    # not the spec's fault: the run cannot go on, and is inconclusive
                    raise Unsupported(f"{show_expr(e)} {exc}", span) from None
            return interval
        if op in ("in", "notin") and isinstance(e.right, N.Binary) and e.right.op == "..":
            # membership of a range: its bounds compared, the set never made (``x in
            # 0..MAX`` made a set of MAX values at each state)
            lo, hi = self._cx(e.right.left), self._cx(e.right.right)

            def within(s, env):
                x, low, high = a(s, env), lo(s, env), hi(s, env)
                return low <= x <= high
            if op == "in":
                return within
            return lambda s, env: not within(s, env)
        if op == "in":
            return lambda s, env: a(s, env) in b(s, env)
        if op == "notin":
            return lambda s, env: a(s, env) not in b(s, env)
        if op in ("div", "mod"):
            span = e.span

            def divmod_(s, env):
                x, y = a(s, env), b(s, env)
                if y == 0:
                    raise StepError("domain", f"division by zero in {show_expr(e)}", span)
                return x // y if op == "div" else x % y
            return divmod_
        f = _BINOPS[op]
        return lambda s, env: f(a(s, env), b(s, env))

    def _x_Ite(self, e):
        c, t, o = self._cx(e.cond), self._cx(e.then), self._cx(e.orelse)
        return lambda s, env: t(s, env) if c(s, env) else o(s, env)

    def _bindings(self, vars_):
        """Compile binders to ``g(state, env)`` yielding extended environments."""
        compiled = [(n, self._cx(d)) for n, d in vars_]

        def gen(s, env):
            envs = [env]
            for name, dom in compiled:
                nxt = []
                for b in envs:
                    for v in sorted(dom(s, b), key=_key):
                        nb = dict(b)
                        nb[name] = v
                        nxt.append(nb)
                envs = nxt
            return envs
        return gen

    def _x_Quant(self, e):
        g = self._bindings(e.vars)
        body = self._cx(e.body)
        if e.kind == "forall":
            return lambda s, env: all(body(s, b) for b in g(s, env))
        return lambda s, env: any(body(s, b) for b in g(s, env))

    def _x_SetLit(self, e):
        fs = [self._cx(x) for x in e.elems]
        return lambda s, env: frozenset(f(s, env) for f in fs)

    def _x_SetFilter(self, e):
        dom, pred, var = self._cx(e.domain), self._cx(e.pred), e.var
        return lambda s, env: frozenset(x for x in dom(s, env) if pred(s, {**env, var: x}))

    def _x_SetMap(self, e):
        g, f = self._bindings(e.vars), self._cx(e.expr)
        return lambda s, env: frozenset(f(s, b) for b in g(s, env))

    def _x_RecordLit(self, e):
        names = [n for n, _ in e.fields]
        fs = [self._cx(x) for _, x in e.fields]
        order = sorted(range(len(names)), key=lambda i: names[i])
        return lambda s, env: Record(tuple((names[i], fs[i](s, env)) for i in order))

    def _x_TupleLit(self, e):
        fs = [self._cx(x) for x in e.elems]
        return lambda s, env: tuple(f(s, env) for f in fs)

    _x_SeqLit = _x_TupleLit

    def _x_MapLit(self, e):
        dom, body, var = self._cx(e.domain), self._cx(e.body), e.var
        return lambda s, env: FMap(tuple((k, body(s, {**env, var: k}))
                                         for k in sorted(dom(s, env), key=_key)))

    def _guarded(self, f, span):
        def run(s, env):
            try:
                return f(s, env)
            except EvalError as exc:
                raise StepError("domain", str(exc), span) from None
        return run

    def _x_Index(self, e):
        base, idx = self._cx(e.base), self._cx(e.index)
        if isinstance(e.base.type, T.MapT):
            return self._guarded(lambda s, env: base(s, env).get(idx(s, env)), e.span)
        span = e.span

        def seq_index(s, env):
            b, i = base(s, env), idx(s, env)
            if not 1 <= i <= len(b):
                raise StepError("domain", f"index {i} is outside 1..{len(b)} in "
                                f"{show_expr(e)}", span)
            return b[i - 1]
        return seq_index

    def _x_SubSeq(self, e):
        base, lo, hi = self._cx(e.base), self._cx(e.lo), self._cx(e.hi)
        span = e.span

        def sub(s, env):
            b, i, j = base(s, env), lo(s, env), hi(s, env)
            if i < 1 or j > len(b) or i > j + 1:
                raise StepError("domain", f"{i}..{j} is outside a sequence of length {len(b)}",
                                span)
            return b[i - 1:j]
        return sub

    def _x_Field(self, e):
        base, name = self._cx(e.base), e.name
        if isinstance(e.base.type, T.MsgT):
            msg = self.spec.messages[e.base.type.variants[0]]
            pos = [n for n, _ in msg.fields].index(name)
            return lambda s, env: base(s, env).args[pos]
        return self._guarded(lambda s, env: base(s, env).get(name), e.span)

    def _x_Update(self, e):
        base, value = self._cx(e.base), self._cx(e.value)
        steps = [(st, self._cx(st.index) if st.index is not None else None) for st in e.path]
        return self._guarded(lambda s, env: _update(
            base(s, env), [(st, f(s, env) if f else None) for st, f in steps], value(s, env)),
            e.span)

    def _x_MsgLit(self, e):
        name = e.name
        fs = [self._cx(a) for a in e.args]
        fields = self.spec.messages[name].fields
        span = e.span

        def make(s, env):
            args = tuple(f(s, env) for f in fs)
            for (fname, ftype), v in zip(fields, args):
                bad = self._fits(ftype, v)
                if bad:
                    raise StepError("range", f"{name}({fname} = {show_value(v)}): {bad}", span)
            return MsgVal(name, args)
        return make

    def _x_LetE(self, e):
        value, body, name = self._cx(e.value), self._cx(e.body), e.name
        return lambda s, env: body(s, {**env, name: value(s, env)})

    def _x_Call(self, e):
        fs = [self._cx(a) for a in e.args]
        func = e.func
        if func in ("pending", "len") and isinstance(e.args[0].type, T.ChanT):
            chan = fs[0]

            def contents(s, env):
                cid = chan(s, env)
                slot = self.chan_slot.get(cid.name, {}).get(cid.indices)
                items = s[slot] if slot is not None else ()
                return len(items) if func == "len" else frozenset(items)
            return contents
        span = e.span

        def call(s, env):
            try:
                return _builtin(func, [f(s, env) for f in fs])
            except EvalError as exc:
                raise StepError("domain", str(exc), span) from None
        return call

    # ------------------------------------------------------------ value checks
    def _fits(self, t: T.Type, v) -> str | None:
        """None when ``v`` is a value of ``t``, else what is wrong."""
        if isinstance(t, T.IntT):
            if (t.lo is not None and v < t.lo) or (t.hi is not None and v > t.hi):
                return f"{v} is outside {T.show(t)}"
        elif isinstance(t, T.AtomT):
            if t.values is not None and v not in t.values:
                return f"{v} is not a value of {T.show(t)}"
        elif isinstance(t, T.SetT):
            if self._ints_fit(t.elem, v):
                return None
            for x in v:
                bad = self._fits(t.elem, x)
                if bad:
                    return bad
        elif isinstance(t, T.SeqT):
            if t.max is not None and len(v) > t.max:
                return f"the sequence has {len(v)} elements; at most {t.max} are allowed"
            if self._ints_fit(t.elem, v):
                return None
            for x in v:
                bad = self._fits(t.elem, x)
                if bad:
                    return bad
        elif isinstance(t, T.MapT):
            for _, x in v.items:
                bad = self._fits(t.value, x)
                if bad:
                    return bad
        elif isinstance(t, T.RecordT):
            for (n, ft), (_, x) in zip(sorted(t.fields), v.fields):
                bad = self._fits(ft, x)
                if bad:
                    return bad
        elif isinstance(t, T.TupleT):
            for et, x in zip(t.elems, v):
                bad = self._fits(et, x)
                if bad:
                    return bad
        return None

    def _fitter(self, t: T.Type) -> Callable[[Any], str | None] | None:
        """:meth:`_fits` for values of ``t`` as one function, quick for the values that fit
        (numbers in range, atoms, sets of atoms); None when every value fits."""
        if isinstance(t, T.IntT):
            lo, hi = t.lo, t.hi
            if lo is None and hi is None:
                return None
            return lambda v: (self._fits(t, v) if (lo is not None and v < lo)
                              or (hi is not None and v > hi) else None)
        atoms = t.elem if isinstance(t, T.SetT) else t
        if isinstance(atoms, T.AtomT):
            if atoms.values is None:
                return None
            ok = frozenset(atoms.values)
            if atoms is t:
                return lambda v: None if v in ok else self._fits(t, v)
            return lambda v: (None if type(v) is frozenset and v <= ok  # noqa: E721
                              else self._fits(t, v))
        return lambda v: self._fits(t, v)

    @staticmethod
    def _ints_fit(t: T.Type, v) -> bool:
        """Whether every element of the collection ``v`` fits the integer type ``t``, by its
        least and greatest elements (False when that does not decide it: then the elements
        are checked one by one, which names the first that does not fit)."""
        if not isinstance(t, T.IntT) or not v:
            return not v
        return (t.lo is None or min(v) >= t.lo) and (t.hi is None or max(v) <= t.hi)

    # ------------------------------------------------------------ statements (CPS)
    def _block(self, stmts) -> Callable:
        """``f(w, env, msgs, k)`` runs the statements on the working list ``w``."""
        compiled = [self._stmt(s) for s in stmts]
        if not compiled:
            return lambda w, env, msgs, k: k(w, env, msgs)

        def chain(i):
            if i == len(compiled):
                return lambda w, env, msgs, k: k(w, env, msgs)
            head, rest = compiled[i], chain(i + 1)
            return lambda w, env, msgs, k: head(
                w, env, msgs, lambda w2, env2, msgs2: rest(w2, env2, msgs2, k))
        return chain(0)

    def _stmt(self, s: N.Stmt) -> Callable:
        m = getattr(self, "_s_" + type(s).__name__)
        return m(s)

    def _s_SkipS(self, s):
        return lambda w, env, msgs, k: k(w, env, msgs)

    def _s_LetS(self, s):
        f, name = self._cx(s.value), s.name
        return lambda w, env, msgs, k: k(w, {**env, name: f(w, env)}, msgs)

    def _s_AssertS(self, s):
        f = self._cx(s.cond)
        text = s.message or f"assertion {show_expr(s.cond)} failed"

        def run(w, env, msgs, k):
            if not f(w, env):
                raise StepError("assertion", text, s.span)
            return k(w, env, msgs)
        return run

    def _s_IfS(self, s):
        branches = [(self._cx(c), self._block(b)) for c, b in s.branches]
        orelse = self._block(s.orelse)

        def run(w, env, msgs, k):
            for c, b in branches:
                if c(w, env):
                    return b(w, env, msgs, k)
            return orelse(w, env, msgs, k)
        return run

    def _s_ChooseS(self, s):
        g = self._bindings(s.vars)
        cond = self._cx(s.cond) if s.cond is not None else None
        body = self._block(s.body)

        def run(w, env, msgs, k):
            for b in g(w, env):
                if cond is None or cond(w, b):
                    # the chosen names are visible only inside the block
                    body(list(w), b, msgs, lambda w2, env2, msgs2: k(w2, env, msgs2))
        return run

    def _s_Assign(self, s):
        t = s.target
        value = self._cx(s.value)
        var_t = self._var_type(t.owner, t.var)
        fits = self._fitter(var_t)
        slot = self.var_slot[(t.owner, t.var)]
        index = self._cx(t.index) if t.index is not None else None
        steps = [(st, self._cx(st.index) if st.index is not None else None) for st in t.path]
        label = t.var if t.owner is None else f"{t.owner}.{t.var}"
        span = s.span

        def run(w, env, msgs, k):
            i = slot if index is None else slot[index(w, env)]
            v = value(w, env)
            if steps:
                try:
                    v = _update(w[i], [(st, f(w, env) if f else None) for st, f in steps], v)
                except EvalError as exc:
                    raise StepError("domain", str(exc), span) from None
            bad = fits(v) if fits is not None else None
            if bad:
                raise StepError("range", f"{label} := {show_value(v)}: {bad}", span)
            w[i] = v
            return k(w, env, msgs)
        return run

    def _var_type(self, owner, var) -> T.Type:
        if owner is None:
            return self.spec.shared_vars[var].type
        for v in self.spec.services[owner].vars:
            if v.name == var:
                return v.type
        raise KeyError(var)

    def _s_Send(self, s):
        chan, payload = self._cx(s.channel), self._cx(s.payload)
        span = s.span

        def run(w, env, msgs, k):
            cid = chan(w, env)
            msg = payload(w, env)
            ch = self.chan_kind.get(cid.name)
            label = (("send", show_value(cid), show_value(msg)),) if self.labels else ()
            if ch is None:
                # a fresh name made by 'new': synchronous, its receivers are processes
                return self._rendezvous(w, env, msgs + label, k, cid, msg)
            bad = self._fits(ch.payload, msg) if not isinstance(msg, MsgVal) else None
            if bad:
                raise StepError("range", f"sending {show_value(msg)} on {cid.name}: {bad}", span)
            if ch.kind == "sync":
                # Rendezvous: the receiving handler runs as part of this same step.
                if self.faults and "lossy" in ch.flags and self._fault_allowed(w):
                    lost = list(w)
                    self._count_fault(lost)
                    k(lost, env, msgs + (("lost", show_value(cid), show_value(msg)),))
                return self._rendezvous(w, env, msgs + label, k, cid, msg)
            if not self._deliver(w, cid, msg, span):
                return None  # full: the sender blocks (backpressure)
            return k(w, env, msgs + label)
        return run

    def _deliver(self, w: list, cid: ChanId, msg, span) -> bool:
        """Put ``msg`` into a buffered channel; False when it is full (the sender blocks)."""
        ch = self.chan_kind[cid.name]
        slot = self.chan_slot[cid.name].get(cid.indices)
        if slot is None:
            raise StepError("domain", f"channel {show_value(cid)} does not exist", span)
        bad = self._fits(ch.payload, msg) if not isinstance(msg, MsgVal) else None
        if bad:
            raise StepError("range", f"sending {show_value(msg)} on {show_value(cid)}: {bad}",
                            span)
        contents = w[slot]
        if ch.kind == "fifo":
            if len(contents) >= ch.capacity:
                return False
            w[slot] = contents + (msg,)
        elif ch.kind == "bag":
            if len(contents) >= ch.capacity:
                return False
            w[slot] = tuple(sorted(contents + (msg,), key=_key))
        else:  # set, log
            w[slot] = contents | {msg}
        return True

    def _take(self, state, cid: ChanId) -> list[tuple[list, Any]]:
        """Each message a receiver may take from a buffered channel, with the state after."""
        slot, offers = self._offers(state, cid)
        out = []
        for m, after in offers:
            w = list(state)
            w[slot] = after
            out.append((w, m))
        return out

    def _offers(self, state, cid: ChanId) -> tuple[int | None, list[tuple[Any, Any]]]:
        """The slot of a buffered channel and each message a receiver may take from it,
        with the channel's contents after (no state is copied: most offers do not match)."""
        slot = self.chan_slot.get(cid.name, {}).get(cid.indices)
        if slot is None:
            return None, []
        contents = state[slot]
        kind = self.chan_kind[cid.name].kind
        if kind == "fifo":
            return slot, [(contents[0], contents[1:])] if contents else []
        if kind == "bag":
            return slot, [(m, contents[:i] + contents[i + 1:]) for i, m in enumerate(contents)
                          if i == 0 or contents[i - 1] != m]
        # by slot too: equal sets of different channels may hold values of different types
        # ({1} == {True})
        order = self._set_order.get((slot, contents))
        if order is None:
            if len(self._set_order) >= SET_ORDERS:
                self._set_order.clear()
            order = self._set_order[(slot, contents)] = tuple(sorted(contents, key=_key))
        if kind == "set":
            return slot, [(m, contents - {m}) for m in order]
        return slot, [(m, contents) for m in order]

    def _rendezvous(self, w, env, msgs, k, cid, msg, processes=True):
        self._rendezvous_depth += 1
        try:
            if self._rendezvous_depth > 100:
                raise StepError("domain", f"a chain of rendezvous on {show_value(cid)} does not "
                                "end: a receiving handler keeps sending synchronously")
            self._rendezvous_inner(w, env, msgs, k, cid, msg, processes)
        finally:
            self._rendezvous_depth -= 1

    def _rendezvous_inner(self, w, env, msgs, k, cid, msg, processes):
        if processes and self.procs is not None:
            self.procs.receivers_for(w, cid, msg, k, env, msgs)
        for h in self._receivers.get(cid.name, ()):
            for henv in h["instances"]:
                if self.up_slot and not self._is_up(w, h["service"], henv):
                    continue
                if h["chan"](w, henv) != cid:
                    continue
                bound = self._match(h["pattern"], msg, henv)
                if bound is None or (h["guard"] is not None and not h["guard"](w, bound)):
                    continue
                recv = ((("recv", show_value(cid), f"{h['actor'](henv)}.{h['name']}"),)
                        if self.labels else ())
                h["body"](list(w), bound, msgs + recv,
                          lambda w2, _env2, msgs2: k(w2, env, msgs2))

    @staticmethod
    def _match(pattern: N.Pattern, msg, env) -> dict | None:
        if pattern.message is not None:
            if not isinstance(msg, MsgVal) or msg.name != pattern.message:
                return None
            b = dict(env)
            for (n, _), v in zip(pattern.vars, msg.args):
                if n != "_":
                    b[n] = v
            return b
        if pattern.whole:
            b = dict(env)
            n = pattern.vars[0][0]
            if n != "_":
                b[n] = msg
            return b
        if not isinstance(msg, tuple) or len(msg) != len(pattern.vars):
            return None
        b = dict(env)
        for (n, _), v in zip(pattern.vars, msg):
            if n != "_":
                b[n] = v
        return b

    # ------------------------------------------------------------ steps
    def _instances(self, svc: N.Service) -> list[dict]:
        if svc.index_values is None:
            return [{}]
        return [{svc.index[0]: v} for v in svc.index_values]

    def _actor(self, svc: N.Service):
        if svc.index_values is None:
            return lambda env: svc.name
        var = svc.index[0]
        return lambda env: f"{svc.name}[{show_value(env[var])}]"

    def _compile_steps(self) -> None:
        self._receivers: dict[str, list[dict]] = {}
        self.steps = []  # dicts describing independent steps
        for svc in self.spec.services.values():
            instances = self._instances(svc)
            actor = self._actor(svc)
            for a in svc.actions:
                self.steps.append({
                    "kind": "action", "service": svc.name, "name": a.name, "actor": actor,
                    "instances": instances, "params": self._bindings(a.params),
                    "param_names": [n for n, _ in a.params],
                    "guard": self._cx(a.guard) if a.guard is not None else None,
                    "body": self._block(a.body), "span": a.span, "node": a})
            for h in svc.handlers:
                entry = {
                    "kind": "handler", "service": svc.name, "name": h.name, "actor": actor,
                    "instances": instances, "params": self._bindings(h.params),
                    "param_names": [n for n, _ in h.params],
                    "chan": self._cx(h.channel), "pattern": h.pattern,
                    "guard": self._cx(h.guard) if h.guard is not None else None,
                    "body": self._block(h.body), "span": h.span, "node": h}
                chan_name = h.channel.channel if isinstance(h.channel, N.ChanVal) else None
                if chan_name and self.spec.channels[chan_name].kind == "sync":
                    if h.params:
                        raise Unsupported("a handler with parameters on a sync channel is not "
                                          "explored yet", h.span)
                    self._receivers.setdefault(chan_name, []).append(entry)
                else:
                    self.steps.append(entry)

    def initial_states(self):
        states = [[None] * len(self.slot_names)]
        for v in self.spec.shared_vars.values():
            states = self._init_var(states, v, self.var_slot[(None, v.name)], {})
        for svc in self.spec.services.values():
            for env in self._instances(svc):
                for v in svc.vars:
                    slot = self.var_slot[(svc.name, v.name)]
                    if not isinstance(slot, int):
                        slot = slot[env[svc.index[0]]]
                    states = self._init_var(states, v, slot, env)
        for ch in self.spec.channels.values():
            if ch.kind == "sync":
                continue
            empty = frozenset() if ch.kind in ("set", "log") else ()
            init = self._cx(ch.init) if ch.init is not None else None
            names = [n for n, _ in ch.indices]
            for idx, slot in self.chan_slot[ch.name].items():
                contents = empty
                if init is not None:
                    value = init(None, dict(zip(names, idx)))
                    if ch.kind in ("set", "log"):
                        contents = frozenset(value)
                    elif ch.kind == "bag":
                        contents = tuple(sorted(value, key=_key))
                    else:
                        contents = tuple(value)
                    if ch.capacity is not None and len(contents) > ch.capacity:
                        raise StepError("range", f"channel {self.slot_names[slot]} starts with "
                                        f"{len(contents)} messages; it holds {ch.capacity}",
                                        ch.span)
                for st in states:
                    st[slot] = contents
        for slot in self.up_slot.values():
            for st in states:
                st[slot] = True
        if self.fault_slot is not None:
            for st in states:
                st[self.fault_slot] = 0
        if self.procs is not None:
            for st in states:
                st[self.procs.slot] = self.procs.initial(st)
        out = []
        seen = set()
        for st in states:
            t = tuple(st) if self.procs is None else self.procs.renumber(tuple(st))
            if t not in seen and all(c(t, {}) for c in self.constraints):
                seen.add(t)
                out.append(t)
        return out

    def _init_var(self, states, v: N.Var, slot: int, env) -> list:
        out = []
        label = v.name if v.owner is None else f"{v.owner}.{v.name}"
        for st in states:
            if v.init is None:
                try:
                    values = [default_value(v.type, self.spec.messages)]
                except EvalError as exc:
                    raise Unsupported(f"{label}: {exc}", v.span) from None
            elif v.init_kind == "choice":
                values = sorted(self._cx(v.init)(st, env), key=_key)
            else:
                values = [self._cx(v.init)(st, env)]
            for val in values:
                bad = self._fits(v.type, val)
                if bad:
                    raise StepError("range", f"initial value of {label}: {bad}", v.span)
                nst = list(st)
                nst[slot] = val
                out.append(nst)
        return out

    def _members(self) -> list[tuple[dict, dict]]:
        """Every step of every service instance, ``(step, instance)``, in the order their
        successors are listed: instance by instance (in the order the instances first appear
        among the steps), each instance's steps in the order they are declared; the packed
        engines' tables list them so, and the same order makes the same breadth-first
        numbering of the states, hence the same traces and lassos, in every engine."""
        by_actor: dict[str, list] = {}
        for st in self.steps:
            for inst in st["instances"]:
                by_actor.setdefault(st["actor"](inst), []).append((st, inst))
        return [m for members in by_actor.values() for m in members]

    def successors(self, state):
        """Every enabled step with its successor, constraint-filtered ones included, each
        paired with whether it satisfies the constraints."""
        out = []
        for st, inst in self.members:
            self._step_into(out, state, st, inst)
        if self.has_faults:
            self._fault_steps(state, out)
        if self.procs is not None:
            if len(out):
                out[:] = [(step, self.procs.renumber(t)) for step, t in out]
            self.procs.successors(state, out)
        return out

    # ------------------------------------------------------------ faults
    def _fault_allowed(self, state) -> bool:
        return self.fault_slot is None or state[self.fault_slot] < self.max_faults

    def _count_fault(self, w: list) -> None:
        if self.fault_slot is not None:
            w[self.fault_slot] += 1

    def _fault_members(self) -> list[dict]:
        """The fault steps, in the order they are explored: for each buffered channel slot
        whose flags make a fault, the network's faults on it (lose, duplicate, reorder a
        message); then for each instance of a crashable service, its crash or restart.
        Each is a step of its own (``kind`` "fault"), as :meth:`step_successors` takes it."""
        out: list[dict] = []
        if not self.has_faults:
            return out
        for name, slots in self.chan_slot.items():
            ch = self.chan_kind[name]
            if not self._effective_flags(ch):
                continue  # no fault of this channel changes anything
            for idx, slot in slots.items():
                label = name + "".join(f"[{show_value(i)}]" for i in idx)
                out.append({"kind": "fault", "fault": "channel", "name": "network",
                            "channel": ch, "slot": slot, "label": label})
        for (service, idx), slot in self.up_slot.items():
            svc = self.spec.services[service]
            env = {svc.index[0]: idx} if svc.index else {}
            out.append({"kind": "fault", "fault": "crash", "name": "crash", "service": service,
                        "idx": idx, "env": env, "slot": slot,
                        "actor": self._actor(svc)(env)})
        return out

    def _fault_steps(self, state, out: list) -> None:
        """The successors by every fault step (:meth:`_fault_members`), in their order."""
        for fst in self.fault_steps:
            self._fault_into(out, state, fst)

    def _fault_into(self, out: list, state, fst: dict) -> None:
        """The successors by one fault step: a channel slot's network faults, or a crash
        (while up, within the fault budget) or restart (while down) of an instance."""
        slot = fst["slot"]
        if fst["fault"] == "channel":
            if not self._fault_allowed(state):
                return
            contents = state[slot]
            label = fst["label"]
            for action, new, msg in self._channel_faults(fst["channel"], contents):
                w = list(state)
                w[slot] = new
                self._count_fault(w)
                out.append((Step("network", action, (("channel", label),),
                                 ((action, label, show_value(msg)),), "fault"), tuple(w)))
            return
        service, idx, env, actor = fst["service"], fst["idx"], fst["env"], fst["actor"]
        svc = self.spec.services[service]
        if state[slot]:
            if not self._fault_allowed(state):
                return
            w = list(state)
            w[slot] = False
            for v in svc.vars:  # volatile state is lost: a canonical placeholder
                if not v.durable:
                    w[self._var_slot_of(service, v.name, idx)] = self._reset_values(
                        state, v, env, actor, "crash")[0]
            self._count_fault(w)
            out.append((Step(actor, "crash", kind="fault"), tuple(w)))
        else:
            restarts = [list(state)]
            for v in svc.vars:
                if v.durable:
                    continue
                i = self._var_slot_of(service, v.name, idx)
                nxt = []
                for w in restarts:
                    for value in self._reset_values(w, v, env, actor, "restart"):
                        w2 = list(w)
                        w2[i] = value
                        nxt.append(w2)
                restarts = nxt
            for w in restarts:
                w[slot] = True
                out.append((Step(actor, "restart", kind="fault"), tuple(w)))

    def _reset_values(self, state, v: N.Var, env, actor: str, action: str) -> list:
        """The initial values a volatile variable takes again in a crash or a restart, or
        StepError: none (an empty set of initial values), or one outside its type (an
        initial value read from a durable variable), as for the initial states."""
        values = self._initial_values(state, v, env)
        err = None
        if not values:
            err = StepError("domain", f"{actor}.{v.name} has no initial value to take in a "
                            f"{action} (its set of initial values is empty)", v.span)
        else:
            bad = next((b for b in (self._fits(v.type, x) for x in values) if b), None)
            if bad:
                err = StepError("range", f"{actor}.{v.name} in a {action}: {bad}", v.span)
        if err is not None:
            err.step = Step(actor, action, kind="fault")
            raise err
        return values

    def _var_slot_of(self, service, var, idx) -> int:
        slot = self.var_slot[(service, var)]
        return slot if isinstance(slot, int) else slot[idx]

    def _initial_values(self, state, v: N.Var, env) -> list:
        if v.init is None:
            return [default_value(v.type, self.spec.messages)]
        f = self._cx(v.init)
        if v.init_kind == "choice":
            return sorted(f(state, env), key=_key)
        return [f(state, env)]

    @staticmethod
    def _effective_flags(ch: N.Channel) -> set[str]:
        """The channel's fault flags that make a fault of its kind: lossy on any, duplicating
        on fifo and bag, reordering on fifo."""
        return {f for f in ch.flags if f == "lossy" or f == "duplicating" and ch.kind in (
            "fifo", "bag") or f == "reordering" and ch.kind == "fifo"}

    @classmethod
    def _channel_faults(cls, ch: N.Channel, contents):
        """(action, new contents, message) for each fault the channel's flags allow."""
        seen = set()
        flags = cls._effective_flags(ch)
        if "lossy" in flags:
            items = list(enumerate(contents)) if isinstance(contents, tuple) else [
                (None, m) for m in sorted(contents, key=_key)]
            for i, m in items:
                if ("lose", m) in seen and ch.kind != "fifo":
                    continue
                seen.add(("lose", m))
                new = contents[:i] + contents[i + 1:] if i is not None else contents - {m}
                yield "lose", new, m
        if "duplicating" in flags and (ch.capacity is None or len(contents) < ch.capacity):
            for i, m in enumerate(contents):
                if ch.kind == "bag" and i and contents[i - 1] == m:
                    continue
                new = contents[:i + 1] + (m,) + contents[i + 1:]
                yield "duplicate", new, m
        if "reordering" in flags:
            for i in range(len(contents) - 1):
                if contents[i] != contents[i + 1]:
                    new = contents[:i] + (contents[i + 1], contents[i]) + contents[i + 2:]
                    yield "reorder", new, contents[i]

    def step_successors(self, state, st: dict, inst: dict) -> list:
        """The successors by one step: an action or handler of one service instance, or a
        fault step (:meth:`_fault_members`; ``inst`` unused)."""
        out: list = []
        if st["kind"] == "fault":
            self._fault_into(out, state, st)
        else:
            self._step_into(out, state, st, inst)
        return out

    def up_slot_of(self, service: str, inst: dict) -> int | None:
        """The ``up`` slot of a service instance (``inst``: its index binding), or None when
        it cannot crash (or faults are off)."""
        if not self.up_slot:
            return None
        svc = self.spec.services[service]
        return self.up_slot.get((service, inst[svc.index[0]] if svc.index else None))

    def _is_up(self, state, service: str, inst: dict) -> bool:
        slot = self.up_slot_of(service, inst)
        return slot is None or state[slot]

    def _step_into(self, out, state, st, inst) -> None:
        if self.up_slot and not self._is_up(state, st["service"], inst):
            return  # a crashed instance takes no step until it restarts
        guard, body = st["guard"], st["body"]
        actor = st["actor"] if self.labels else _nobody
        pnames = st["param_names"]
        try:
            envs = st["params"](state, inst)
        except StepError as err:
            err.step = Step(actor(inst), st["name"], (), (), "step")
            raise
        for env in envs:
            if st["kind"] == "action":
                try:
                    enabled = guard is None or guard(state, env)
                except StepError as err:
                    err.step = Step(actor(inst), st["name"],
                                    tuple((n, env[n]) for n in pnames), (), "step")
                    raise
                if not enabled:
                    continue
                params = tuple((n, env[n]) for n in pnames)
                self._run(out, state, env, body, actor(inst), st["name"], params, (), "step")
            else:
                self._handler_steps(out, state, env, st, actor(inst))

    def _run(self, out, state, env, body, actor, name, params, msgs, kind):
        def done(w, env2, msgs2):
            out.append((Step(actor, name, params, msgs2, kind), tuple(w)))
        try:
            body(list(state), env, msgs, done)
        except StepError as err:
            err.step = Step(actor, name, params, msgs, kind)
            raise

    def _handler_steps(self, out, state, env, st, actor):
        cid = st["chan"](state, env)
        pnames = st["param_names"]
        slot, offers = self._offers(state, cid)
        for msg, after in offers:
            bound = self._match(st["pattern"], msg, env)
            if bound is None:
                continue
            w = list(state)
            w[slot] = after
            params = tuple((n, env[n]) for n in pnames)
            recv = (("recv", show_value(cid), show_value(msg)),) if self.labels else ()
            try:
                if st["guard"] is not None and not st["guard"](state, bound):
                    continue
            except StepError as err:
                err.step = Step(actor, st["name"], params, recv, "handler")
                raise

            def done(w2, env2, msgs2):
                out.append((Step(actor, st["name"], params, msgs2, "handler"), tuple(w2)))
            try:
                st["body"](w, bound, recv, done)
            except StepError as err:
                err.step = Step(actor, st["name"], params, recv, "handler")
                raise

    def satisfies_constraints(self, state) -> bool:
        return all(c(state, {}) for c in self.constraints)

    # ------------------------------------------------------------ properties and ends
    def _compile_properties(self) -> list[ModelProperty]:
        out = []
        for p in self.spec.properties:
            if p.kind in ("invariant", "reachable"):
                f = self._cx(p.expr)
                out.append(ModelProperty(p.kind, p.name, (lambda f: lambda s: bool(f(s, {})))(f),
                                         p.span, show_expr(p.expr)))
        return out

    def properties(self) -> list[ModelProperty]:
        return self._props

    def _compile_end(self):
        checks = []
        for svc in self.spec.services.values():
            if not svc.has_behaviour:
                continue
            if svc.end_when is None:
                checks.append(None)
                continue
            f = self._cx(svc.end_when)
            for env in self._instances(svc):
                checks.append((f, env))
        return checks

    def is_valid_end(self, state) -> bool:
        """A state with no step is a valid end when every service that has behaviour declares
        ``end when`` and it holds (for each instance)."""
        if self.procs is not None and not self.procs.all_ended(state):
            return False
        for c in self._end_checks:
            if c is None:
                return False
            f, env = c
            if not f(state, env):
                return False
        return True

    # ------------------------------------------------------------ showing states
    def describe(self, state) -> dict[str, str]:
        out = {}
        for name, v in zip(self.slot_names, state):
            if self.procs is not None and name == "processes":
                for inst in v:
                    actor = self.procs.actor(inst)
                    where = self.procs.describe_term(inst)
                    out[actor] = where if actor not in out else out[actor] + " | " + where
            else:
                out[name] = show_value(v)
        return out


def compile_spec(spec: N.Spec) -> CompiledModel:
    return CompiledModel(spec)
