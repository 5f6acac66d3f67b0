"""Proofs of invariants: induction with helpers, BMC, k-induction and PDR (Z3 Spacer).

``prove_spec`` returns a plain document (see its docstring). Every Z3 call has a time limit;
a Z3 ``unknown``, a timeout or a construct the encoder does not handle gives status
``unknown`` with a reason, never ``proved``.
"""

from __future__ import annotations

import time
from itertools import product
from math import prod
from typing import Any

import z3

from mscheck.ir import nodes as N
from mscheck.ir import types as T
from mscheck.ir.evaluate import FMap, MsgVal, Record, _sort_key, show_value, type_values
from mscheck.ir.walk import var_refs
from mscheck.smt.encode import Encoder, StepDef, Unsupported

#: A counterexample lists a set's or map's entries over every value of its element type
#: when it has at most this many (else the ones the model names).
MAX_UNIVERSE = 4096

__all__ = ["prove_spec", "prove_property", "METHODS"]

METHODS = ("auto", "inductive", "bmc", "kind", "pdr")


# ---------------------------------------------------------------- models to values
class _Decoder:
    def __init__(self, enc: Encoder, model: z3.ModelRef):
        self.enc, self.m = enc, model
        self.unames: dict[str, str] = {}
        for name, sort in enc.usorts.items():
            declared = list(enc.spec.types[name].values)
            try:
                universe = model.get_universe(sort) or []
            except z3.Z3Exception:
                universe = []
            for i, e in enumerate(universe):
                self.unames[str(e)] = declared[i] if i < len(declared) else f"{name}_{i + 1}"

    def ev(self, term):
        return self.m.eval(term, model_completion=True)

    def value(self, term, t: T.Type):
        v = self.ev(term)
        if isinstance(t, T.BoolT):
            return z3.is_true(v)
        if isinstance(t, T.IntT):
            return v.as_long()
        if isinstance(t, T.AtomT):
            if self.enc.is_usort_type(t):
                return self.unames.get(str(v), str(v))
            code = v.as_long()
            return self.enc.code_atom.get(code, f"<atom {code}>")
        if isinstance(t, T.SetT):
            return frozenset(k for k, x in self.points(term, t.elem, T.BOOL) if x)
        if isinstance(t, T.MapT):
            keys = type_values(t.key, self.enc.spec.messages)
            return FMap(tuple((k, self.value(z3.Select(term, self.enc.pyz(k, t.key)), t.value))
                              for k in keys))
        if isinstance(t, (T.RecordT, T.TupleT)):
            s, names, types = self.enc._tuple_parts(t)
            vals = [self.value(s.accessor(0, i)(v), ft) for i, ft in enumerate(types)]
            if isinstance(t, T.RecordT):
                return Record(tuple(sorted(zip(names, vals))))
            return tuple(vals)
        if isinstance(t, T.SeqT):
            n = self.ev(z3.Length(term)).as_long()
            return tuple(self.value(term[i], t.elem) for i in range(n))
        if isinstance(t, T.StrT):
            return v.as_string()
        if isinstance(t, T.MsgT):
            name = v.decl().name()
            msg = self.enc.spec.messages[name]
            return MsgVal(name, tuple(self.value(a, ft) for a, (_, ft) in
                                      zip(v.children(), msg.fields)))
        return str(v)

    def universe(self, t: T.Type):
        """Every value of ``t`` as (python value, z3 term), or None when infinite."""
        if self.enc.is_usort_type(t):
            try:
                elems = self.m.get_universe(self.enc.usorts[t.name]) or []
            except z3.Z3Exception:
                elems = []
            return [(self.unames.get(str(e), str(e)), e) for e in elems]
        if isinstance(t, T.MsgT):
            out = []
            for name in t.variants:
                msg = self.enc.spec.messages[name]
                fields = [self.universe(ft) for _, ft in msg.fields]
                if any(f is None for f in fields):
                    return None
                if len(out) + prod(len(f) for f in fields) > MAX_UNIVERSE:  # (counted first)
                    return None
                for args in product(*fields):
                    out.append((MsgVal(name, tuple(a for a, _ in args)),
                                self.enc.msg_ctor[name](*[z for _, z in args])))
            return out
        try:
            vals = type_values(t, self.enc.spec.messages, MAX_UNIVERSE)
        except Exception:  # noqa: BLE001
            return None
        if len(vals) > MAX_UNIVERSE:
            return None
        return [(v, self.enc.pyz(v, t)) for v in vals]

    def points(self, arr, key_t: T.Type, val_t: T.Type):
        """(key, value) pairs of an array that differ from nothing: all keys of a finite
        type, else the keys the model lists explicitly."""
        uni = self.universe(key_t)
        if uni is not None:
            return [(k, self.value(z3.Select(arr, kz), val_t)) for k, kz in uni]
        v = self.ev(arr)
        seen, out = set(), []
        while z3.is_store(v):
            a, k, x = v.children()
            if str(k) not in seen:
                seen.add(str(k))
                out.append((self.value(k, key_t), self.value(x, val_t)))
            v = a
        if z3.is_as_array(v):
            fi = self.m[z3.get_as_array_func(v)]
            for entry in fi.as_list()[:-1]:
                k, x = entry
                if str(k) not in seen:
                    seen.add(str(k))
                    out.append((self.value(k, key_t), self.value(x, val_t)))
        return out

    def state(self, st: dict, only: set[str] | None = None) -> dict[str, Any]:
        """Slot name (as the checker names it) -> Python value."""
        enc = self.enc
        out: dict[str, Any] = {}
        for v in enc.vars:
            if v.kind in ("set", "bagcnt", "fifolen") and v.extra.name in enc.sym_chans:
                self._sym_chan(st, v, out)
            elif v.kind == "var":
                out[v.label] = self.value(st[v.key], v.type)
            elif v.kind == "rvar":
                svc = v.extra
                et = svc.index[1].type.elem
                if enc.is_usort_type(et):
                    insts = self.universe(et)
                elif svc.name in enc.sym_svcs:
                    insts = [(i, z3.IntVal(i)) for i in
                             enc.sym_index_values(enc.sym_svcs[svc.name], self.ev)]
                else:
                    insts = [(i, enc.pyz(i, et)) for i in svc.index_values]
                for i, iz in insts:
                    out[f"{svc.name}[{show_value(i)}].{v.key[2]}"] = \
                        self.value(z3.Select(st[v.key], iz), v.type)
            elif v.kind == "set":
                out[v.label] = frozenset(k for k, x in self.points(st[v.key], v.type, T.BOOL)
                                         if x)
            elif v.kind == "bagcnt":
                items = []
                for k, n in self.points(st[v.key], v.type, T.INT):
                    items += [k] * max(n, 0)
                out[v.label.rsplit("#", 1)[0]] = tuple(sorted(items, key=_key))
            elif v.kind == "fifolen":
                ch, idx = v.extra, v.key[2]
                n = self.value(st[v.key], T.INT)
                base = ("c", ch.name, idx)
                out[v.label.rsplit("#", 1)[0]] = tuple(
                    self.value(st[base + (i,)], ch.payload) for i in range(max(0, n)))
        if only is not None:
            out = {k: x for k, x in out.items() if _base_label(k) in only}
        return out

    def _sym_chan(self, st: dict, v, out: dict) -> None:
        """The instances of a channel over a symbolic range, as the checker names them."""
        enc, ch = self.enc, v.extra
        doms = []
        for (_, d), r, vals in zip(ch.indices, enc.sym_chans[ch.name], ch.index_values):
            if r is None:
                doms.append([(x, enc.pyz(x, d.type.elem)) for x in vals])
            else:
                doms.append([(i, z3.IntVal(i)) for i in enc.sym_index_values(r, self.ev)])
        for combo in product(*doms):
            idx = tuple(z for _, z in combo)
            label = ch.name + "".join(f"[{show_value(x)}]" for x, _ in combo)

            def get(part=(), idx=idx):
                return enc.cget(st, ch, idx, part)
            if v.kind == "set":
                out[label] = frozenset(k for k, x in self.points(get(), v.type, T.BOOL) if x)
            elif v.kind == "bagcnt":
                items = []
                for k, n in self.points(get(("cnt",)), v.type, T.INT):
                    items += [k] * max(n, 0)
                out[label] = tuple(sorted(items, key=_key))
            else:
                n = self.value(get(("len",)), T.INT)
                out[label] = tuple(self.value(get((i,)), ch.payload) for i in range(max(0, n)))

    def consts(self) -> dict[str, Any]:
        return {n: self.value(s, t) for n, s, t in self.enc.const_syms}


def _key(v):
    return _sort_key(v) if not isinstance(v, int) else ("", v)


def _base_label(label: str) -> str:
    """``Svc[r1].x`` -> ``Svc.x``; channels and plain variables unchanged."""
    if "[" in label and "]." in label:
        head, rest = label.split("[", 1)
        return head + "." + rest.split("].", 1)[1]
    return label.split("[", 1)[0] if "[" in label and "." not in label else label


def _shown(state: dict) -> dict[str, str]:
    return {k: show_value(v) for k, v in state.items()}


# ---------------------------------------------------------------- helpers
class _Timeout(Exception):
    pass


class _Clock:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left_ms(self) -> int:
        left = self.end - time.monotonic()
        if left <= 0.01:
            raise _Timeout()
        return max(1, int(left * 1000))


def _solver(clock: _Clock) -> z3.Solver:
    s = z3.Solver()
    s.set("timeout", clock.left_ms())
    return s


def _check(s: z3.Solver, clock: _Clock):
    s.set("timeout", clock.left_ms())
    r = s.check()
    if r == z3.unknown:
        raise _Unknown(s.reason_unknown() or "z3 returned unknown")
    return r


class _Unknown(Exception):
    pass


def _range_ok(enc: Encoder, st: dict):
    """Declared integer ranges, for bounded model checking with fixed constants: the checker
    stops with an error when a value leaves its range, so a trace never passes one."""
    out = []
    for v in enc.vars:
        t = v.type
        if v.kind == "var" and isinstance(t, T.SeqT) and t.max is not None:
            out.append(z3.Length(st[v.key]) <= t.max)
            continue
        if v.kind not in ("var", "rvar") or not isinstance(t, T.IntT) or t.lo is None:
            continue
        if v.kind == "var":
            out.append(z3.And(st[v.key] >= t.lo, st[v.key] <= t.hi))
        else:
            svc = v.extra
            et = svc.index[1].type.elem
            if enc.is_usort_type(et) or svc.name in enc.sym_svcs:
                continue
            for i in svc.index_values:
                x = z3.Select(st[v.key], enc.pyz(i, et))
                out.append(z3.And(x >= t.lo, x <= t.hi))
    return z3.And(out) if out else z3.BoolVal(True)


def _relevant(props: list[N.Property]) -> set[str]:
    out = set()
    for p in props:
        for r in var_refs(p.expr):
            out.add(r.var if r.owner is None else f"{r.owner}.{r.var}")
        for node in _walk_chans(p.expr):
            out.add(node)
    return out


def _walk_chans(e):
    from mscheck.ir.walk import walk

    for x in walk(e):
        if isinstance(x, N.ChanVal):
            yield x.channel


def _params_shown(dec: _Decoder, params: dict) -> dict[str, str]:
    out = {}
    for name, (term, t) in params.items():
        if name.startswith("msg:"):
            out["message"] = show_value(dec.value(term, t))
        else:
            out[name] = show_value(dec.value(term, t))
    return out


def _step_call(sd: StepDef, params: dict[str, str], svc_index: str | None) -> str:
    actor = sd.service
    ps = dict(params)
    if svc_index is not None and svc_index in ps:
        actor = f"{sd.service}[{ps.pop(svc_index)}]"
    msg = ps.pop("message", None)
    args = ", ".join(f"{k} = {v}" for k, v in ps.items())
    text = f"{actor}.{sd.name}" + (f"({args})" if args else "")
    if msg is not None:
        text += f" receiving {msg}"
    return text


def _svc_index(enc: Encoder, sd: StepDef) -> str | None:
    svc = enc.spec.services.get(sd.service)
    if svc is None:  # a network fault
        return None
    return svc.index[0] if svc.index is not None else None


def _conj(enc, props, st):
    return z3.And([enc.holds(p, st) for p in props])


# ---------------------------------------------------------------- methods
def _inductive(enc: Encoder, target: N.Property, helpers: list[N.Property], clock: _Clock):
    props = [target] + helpers
    s = _solver(clock)
    s0 = enc.copy("0")
    s.add(enc.axioms)
    s.push()
    s.add(enc.init(s0), z3.Not(_conj(enc, props, s0)))
    if _check(s, clock) == z3.sat:
        dec = _Decoder(enc, s.model())
        return "violated", {"kind": "trace", "constants": _shown(dec.consts()),
                            "states": [{"step": None, "state": dec.state(s0)}]}, \
            "an initial state violates it"
    s.pop()
    s1 = enc.copy("1")
    relevant = _relevant(props)
    for sd in enc.steps:
        s.push()
        tr, params = enc.transition(sd, s0, s1, "t")
        # one flag per property after the step, so the model says which ones it breaks
        # (evaluating a quantified property in a model need not reduce to true or false)
        flags = [z3.Bool(f"holds!{i}!{p.name}") for i, p in enumerate(props)]
        s.add(enc.type_ok(s0), enc.type_ok(s1), _conj(enc, props, s0), tr,
              *[f == enc.holds(p, s1) for f, p in zip(flags, props)], z3.Not(z3.And(flags)))
        r = _check(s, clock)
        if r == z3.sat:
            m = _small_model(enc, s, clock)
            dec = _Decoder(enc, m)
            pre, post = dec.state(s0), dec.state(s1)
            changed = {_base_label(k) for k in pre if pre[k] != post.get(k)}
            keep = relevant | changed
            pre = {k: v for k, v in pre.items() if _base_label(k) in keep}
            post = {k: v for k, v in post.items() if _base_label(k) in keep}
            broken = [p.name for f, p in zip(flags, props)
                      if z3.is_false(m.eval(f, model_completion=True))]
            ps = _params_shown(dec, params)
            cex = {"kind": "cti", "action": sd.label,
                   "step": _step_call(sd, ps, _svc_index(enc, sd)),
                   "params": ps, "constants": _shown(dec.consts()),
                   "pre": _shown(pre), "post": _shown(post), "broken": broken}
            return "violated-cti", cex, f"not inductive: {sd.label} breaks {', '.join(broken)}"
        s.pop()
    return "proved", None, None


def _small_model(enc: Encoder, s: z3.Solver, clock: _Clock):
    """The model of a satisfiable check, preferring symbolic integer constants at their
    declared values, else no larger than them (a counterexample to induction with STEPS = 3
    reads better than one with STEPS = 56247); any model is a genuine counterexample either
    way."""
    m = s.model()
    exact, bounds = [], []
    for name, sym, t in enc.const_syms:
        c = enc.spec.constants[name]
        if isinstance(t, T.IntT) and isinstance(c.value, int):
            exact.append(sym == c.value)
            bounds.append(sym <= max(c.value, 1))
            bounds.append(sym >= min(c.value, 0))
    # the declared values first (the same counterexample on every run), then any values
    # no larger than them
    for wanted in (exact, bounds):
        if not wanted:
            return m
        s.push()
        s.add(*wanted)
        try:
            found = _check(s, clock) == z3.sat
            if found:
                m = s.model()
        except _Unknown:
            found = False
        s.pop()
        if found:
            return m
    return m


def _unroll_step(enc: Encoder, pre: dict, post: dict, tag: str):
    """One step of any kind; returns the formula and a selector to read which step it was."""
    sel = z3.Int(f"sel@{tag}")
    disj, params = [], []
    for i, sd in enumerate(enc.steps):
        tr, ps = enc.transition(sd, pre, post, f"{tag}.{i}")
        disj.append(z3.And(sel == i, tr))
        params.append(ps)
    return z3.Or(disj) if disj else z3.BoolVal(False), sel, params


def _bmc(enc: Encoder, prop: N.Property, depth: int, clock: _Clock, ranges: bool):
    """('violated', trace, k) or ('none', None, depth)."""
    s = _solver(clock)
    states = [enc.copy("0")]
    sels = []
    s.add(*enc.axioms, enc.init(states[0]))
    if ranges:
        s.add(_range_ok(enc, states[0]))
    for j in range(depth + 1):
        st = states[j]
        s.push()
        s.add(z3.Not(enc.holds(prop, st)))
        if _check(s, clock) == z3.sat:
            return "violated", _trace(enc, s.model(), states, sels), j
        s.pop()
        if j == depth:
            break
        s.add(enc.holds(prop, st))
        nxt = enc.copy(str(j + 1))
        tr, sel, params = _unroll_step(enc, st, nxt, str(j))
        s.add(tr, enc.type_ok(nxt))
        if ranges:
            s.add(_range_ok(enc, nxt))
        states.append(nxt)
        sels.append((sel, params))
    return "none", None, depth


def _trace(enc: Encoder, m, states, sels) -> dict:
    dec = _Decoder(enc, m)
    out = [{"step": None, "state": dec.state(states[0])}]
    for j, (sel, params) in enumerate(sels[:len(states) - 1]):
        i = m.eval(sel, model_completion=True).as_long()
        sd = enc.steps[i]
        ps = _params_shown(dec, params[i])
        out.append({"step": _step_call(sd, ps, _svc_index(enc, sd)), "action": sd.label,
                    "params": ps, "state": dec.state(states[j + 1])})
    return {"kind": "trace", "constants": _shown(dec.consts()), "states": out}


def _distinct(enc: Encoder, a: dict, b: dict):
    return z3.Or([a[k] != b[k] for k in a]) if a else z3.BoolVal(False)


def _kind(enc: Encoder, prop: N.Property, depth: int, clock: _Clock):
    """k-induction: ('proved', k) | ('base', j) | ('none', depth)."""
    base = _solver(clock)
    bstates = [enc.copy("b0")]
    base.add(*enc.axioms, enc.init(bstates[0]))
    step = _solver(clock)
    sstates = [enc.copy("s0")]
    step.add(*enc.axioms, enc.type_ok(sstates[0]))
    for k in range(1, depth + 1):
        # base: no violation within k - 1 steps
        j = k - 1
        base.push()
        base.add(z3.Not(enc.holds(prop, bstates[j])))
        if _check(base, clock) == z3.sat:
            return "base", j
        base.pop()
        base.add(enc.holds(prop, bstates[j]))
        nb = enc.copy(f"b{k}")
        base.add(_unroll_step(enc, bstates[j], nb, f"b{j}")[0], enc.type_ok(nb))
        bstates.append(nb)
        # step: k states satisfying the property, then one that does not
        step.add(enc.holds(prop, sstates[j]))
        ns = enc.copy(f"s{k}")
        step.add(_unroll_step(enc, sstates[j], ns, f"s{j}")[0], enc.type_ok(ns))
        for prev in sstates:
            step.add(_distinct(enc, prev, ns))
        sstates.append(ns)
        step.push()
        step.add(z3.Not(enc.holds(prop, ns)))
        if _check(step, clock) == z3.unsat:
            return "proved", k
        step.pop()
    return "none", depth


def _free_consts(f) -> list:
    out, seen, stack = [], set(), [f]
    visited = set()
    while stack:
        x = stack.pop()
        h = x.get_id()
        if h in visited:
            continue
        visited.add(h)
        if z3.is_const(x) and x.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            if h not in seen:
                seen.add(h)
                out.append(x)
            continue
        if z3.is_quantifier(x):
            stack.append(x.body())
            continue
        stack.extend(x.children())
    return out


def _pdr(enc: Encoder, prop: N.Property, clock: _Clock):
    """('proved', invariant text) | ('violated', None) | ('unknown', reason)."""
    fp = z3.Fixedpoint()
    fp.set(engine="spacer")
    try:
        fp.set("timeout", clock.left_ms())
    except z3.Z3Exception:
        pass
    cols = [sym for _, sym, _ in enc.const_syms]
    s0, s1 = enc.copy("p0"), enc.copy("p1")
    keys = [v.key for v in enc.vars]
    sorts = [c.sort() for c in cols] + [v.sort for v in enc.vars]
    inv = z3.Function("Inv", *sorts, z3.BoolSort())
    err = z3.Function("Err", z3.BoolSort())
    fp.register_relation(inv, err)

    def head(st):
        return inv(*(cols + [st[k] for k in keys]))

    def rule(body, hd):
        vs = _free_consts(z3.And(body, hd) if not z3.is_false(body) else hd)
        vs = [v for v in vs if not _is_fn(v, inv, err)]
        fp.add_rule(z3.ForAll(vs, z3.Implies(body, hd)) if vs else z3.Implies(body, hd))

    rule(z3.And(enc.axioms + [enc.init(s0)]), head(s0))
    for i, sd in enumerate(enc.steps):
        tr, _ = enc.transition(sd, s0, s1, f"p.{i}")
        rule(z3.And(head(s0), enc.type_ok(s1, quantified=False), tr), head(s1))
    rule(z3.And(head(s0), z3.Not(enc.holds(prop, s0))), err())
    try:
        r = fp.query(err())
    except z3.Z3Exception as exc:
        msg = exc.value.decode() if isinstance(exc.value, bytes) else str(exc.value)
        if msg == "canceled":
            raise _Timeout() from None
        return "unknown", msg
    if r == z3.unsat:
        try:
            cover = fp.get_cover_delta(-1, inv)
        except z3.Z3Exception:
            cover = None
        text = None
        if cover is not None:
            names = [n for n, _, _ in enc.const_syms] + [v.label for v in enc.vars]
            types = [t for _, _, t in enc.const_syms] + [v.type for v in enc.vars]
            text = _InvPrinter(enc, names, types).show(cover)
        return "proved", text
    if r == z3.sat:
        return "violated", None
    return "unknown", fp.reason_unknown() or "spacer returned unknown"


def _is_fn(v, *fns):
    return any(v.decl().eq(f) for f in fns)


# ---------------------------------------------------------------- Z3 terms in spec syntax
class _InvPrinter:
    _PREC = {"=>": 1, "or": 2, "and": 3, "not": 4, "cmp": 5, "+": 7, "*": 8}

    def __init__(self, enc: Encoder, names: list[str], types: list):
        self.enc, self.names, self.types = enc, names, types

    def show(self, f) -> str:
        f = z3.simplify(f)
        parts = f.children() if z3.is_and(f) else [f]
        out = []
        for c in parts:
            text = self._p(c, 0)
            if text != "true" and text not in out:
                out.append(text)
        return "\n".join(out) if out else "true"

    def _var_type(self, x):
        if z3.is_var(x):
            i = z3.get_var_index(x)
            return self.types[i] if i < len(self.types) else None
        return None

    def _atomish(self, x, other):
        t = self._var_type(other)
        if isinstance(t, T.AtomT) and z3.is_int_value(x) and not self.enc.is_usort_type(t):
            return self.enc.code_atom.get(x.as_long(), str(x))
        return None

    def _p(self, f, prec: int) -> str:
        s, p = self._s(f)
        return f"({s})" if p < prec else s

    def _s(self, f):
        P = self._PREC
        if z3.is_var(f):
            i = z3.get_var_index(f)
            return (self.names[i] if i < len(self.names) else f"v{i}"), 10
        if z3.is_true(f):
            return "true", 10
        if z3.is_false(f):
            return "false", 10
        if z3.is_int_value(f):
            v = f.as_long()
            return (str(v), 10) if v >= 0 else (f"-{-v}", 9)
        if z3.is_and(f):
            return " and ".join(self._p(c, P["and"] + 1) for c in f.children()), P["and"]
        if z3.is_or(f):
            return " or ".join(self._p(c, P["or"] + 1) for c in f.children()), P["or"]
        if z3.is_not(f):
            c = f.arg(0)
            for test, op in ((z3.is_eq, "!="), (z3.is_le, ">"), (z3.is_lt, ">="),
                             (z3.is_ge, "<"), (z3.is_gt, "<=")):
                if test(c) and not (op == "!=" and c.arg(0).sort() == z3.BoolSort()):
                    return self._cmp(c.arg(0), c.arg(1), op)
            return "not " + self._p(c, P["not"]), P["not"]
        if z3.is_implies(f):
            return f"{self._p(f.arg(0), 2)} => {self._p(f.arg(1), 1)}", P["=>"]
        for test, op in ((z3.is_eq, "=="), (z3.is_le, "<="), (z3.is_lt, "<"),
                         (z3.is_ge, ">="), (z3.is_gt, ">")):
            if test(f):
                return self._cmp(f.arg(0), f.arg(1), op)
        if z3.is_add(f):
            parts = [self._p(c, P["+"] + 1) for c in f.children()]
            out = parts[0]
            for c, txt in zip(f.children()[1:], parts[1:]):
                out += f" - {txt[1:]}" if txt.startswith("-") and txt[1:].isdigit() \
                    else f" + {txt}"
            return out, P["+"]
        if z3.is_mul(f):
            a, b = f.arg(0), f.arg(1) if f.num_args() == 2 else None
            if b is not None and z3.is_int_value(a) and a.as_long() == -1:
                return f"-{self._p(b, 9)}", 9
            return " * ".join(self._p(c, P["*"] + 1) for c in f.children()), P["*"]
        if z3.is_app_of(f, z3.Z3_OP_ITE):
            return (f"if {self._p(f.arg(0), 0)} then {self._p(f.arg(1), 0)} else "
                    f"{self._p(f.arg(2), 0)}"), 0
        return str(f).replace("\n", " "), 10

    def _lin(self, f, scale, acc):
        """Add ``scale * f`` to ``acc`` (var index or None -> coefficient); False if not
        linear over variables."""
        if z3.is_int_value(f):
            acc[None] = acc.get(None, 0) + scale * f.as_long()
            return True
        if z3.is_var(f):
            i = z3.get_var_index(f)
            acc[i] = acc.get(i, 0) + scale
            return True
        if z3.is_add(f):
            return all(self._lin(c, scale, acc) for c in f.children())
        if z3.is_sub(f):
            return self._lin(f.arg(0), scale, acc) and all(
                self._lin(c, -scale, acc) for c in f.children()[1:])
        if z3.is_mul(f) and f.num_args() == 2 and z3.is_int_value(f.arg(0)):
            return self._lin(f.arg(1), scale * f.arg(0).as_long(), acc)
        return False

    def _side(self, terms, const):
        parts = []
        for i, c in terms:
            name = self.names[i] if i < len(self.names) else f"v{i}"
            parts.append(name if c == 1 else f"{c} * {name}")
        if const or not parts:
            parts.append(str(const))
        return " + ".join(parts)

    def _cmp(self, a, b, op):
        if a.sort() == z3.BoolSort() and op in ("==", "!="):
            if z3.is_true(b) or z3.is_false(b):
                positive = z3.is_true(b) == (op == "==")
                return (self._p(a, 5), 10) if positive else (f"not {self._p(a, 4)}", 4)
            return f"{self._p(a, 6)} {'<=>' if op == '==' else '!='} {self._p(b, 6)}", 1
        acc: dict = {}
        if a.sort() == z3.IntSort() and self._lin(a, 1, acc) and self._lin(b, -1, acc):
            const = acc.pop(None, 0)
            acc = {i: c for i, c in acc.items() if c}
            atom_vars = [i for i in acc if isinstance(self._type_of(i), T.AtomT)]
            if len(acc) == 1 and atom_vars and abs(acc[atom_vars[0]]) == 1:
                return self._atom_cmp(atom_vars[0], acc[atom_vars[0]], const, op)
            pos = sorted((i, c) for i, c in acc.items() if c > 0)
            neg = sorted((i, -c) for i, c in acc.items() if c < 0)
            if not pos and neg:  # keep variables on the left
                pos, neg, const = neg, pos, -const
                op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
            if op == "<":
                op, const = "<=", const + 1
            elif op == ">":
                op, const = ">=", const - 1
            # sum(pos) - sum(neg) + const  op  0   ->   sum(pos)  op  sum(neg) - const
            if -const < 0 and neg:
                return f"{self._side(pos, const)} {op} {self._side(neg, 0)}", 5
            return f"{self._side(pos, 0)} {op} {self._side(neg, -const)}", 5
        return f"{self._p(a, 6)} {op} {self._p(b, 6)}", 5

    def _type_of(self, i):
        return self.types[i] if i < len(self.types) else None

    def _atom_cmp(self, i, coef, const, op):
        """``coef * x + const op 0`` for an atom-coded variable: the atoms it allows."""
        import operator as o

        t = self._type_of(i)
        f = {"==": o.eq, "!=": o.ne, "<": o.lt, "<=": o.le, ">": o.gt, ">=": o.ge}[op]
        values = list(t.values) if t.values else sorted(self.enc.atom_code)
        ok = [a for a in values if f(coef * self.enc.atom_code[a] + const, 0)]
        name = self.names[i]
        if not ok:
            return "false", 10
        if len(ok) == len(values):
            return "true", 10
        if len(ok) == 1:
            return f"{name} == {ok[0]}", 5
        bad = [a for a in values if a not in ok]
        if len(bad) == 1:
            return f"{name} != {bad[0]}", 5
        return f"{name} in {{{', '.join(ok)}}}", 5


# ---------------------------------------------------------------- the driver
def _result(prop: str, using: tuple, method: str) -> dict:
    return {"property": prop, "using": list(using), "status": "unknown", "method": method,
            "k": None, "invariant": None, "counterexample": None, "seconds": 0.0,
            "reason": None}


def _confirm(spec, prop_name, depth, clock):
    """A counterexample from the initial states with the constants' own values, if any."""
    enc = Encoder(spec, concrete_consts=True)
    status, trace, k = _bmc(enc, enc.property(prop_name), depth, clock, ranges=True)
    return (trace, k) if status == "violated" else (None, None)


def prove_property(spec: N.Spec, prop: str, using: tuple = (), method: str = "auto",
                   depth: int = 10, timeout: float = 30.0, raw: bool = False) -> dict:
    """Prove one invariant; the result entry of :func:`prove_spec`. With ``raw``, trace
    states keep Python values (as the checker's states hold them) instead of text."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    t0 = time.monotonic()
    res = _result(prop, tuple(using), method)
    clock = _Clock(timeout)
    try:
        res.update(_prove(spec, prop, tuple(using), method, depth, clock))
    except Unsupported as exc:
        res.update(status="unknown", reason=f"unsupported: {exc.where()}")
    except _Timeout:
        res.update(status="unknown", reason=f"timeout after {timeout:g} s")
    except _Unknown as exc:
        res.update(status="unknown", reason=f"z3: {exc}")
    except KeyError as exc:
        res.update(status="unknown", reason=f"no invariant named {exc.args[0]}")
    res["seconds"] = round(time.monotonic() - t0, 3)
    cex = res.get("counterexample")
    if not raw and cex and cex.get("kind") == "trace":
        for st in cex["states"]:
            st["state"] = _shown(st["state"])
    return res


def _prove(spec, prop, using, method, depth, clock) -> dict:
    enc = Encoder(spec)
    target = enc.property(prop)
    helpers = [enc.property(h) for h in using if h != prop]
    if method == "auto":
        method = "inductive" if helpers else "auto"
    if method == "inductive":
        status, cex, reason = _inductive(enc, target, helpers, clock)
        if status == "proved":
            return {"status": "proved", "method": "inductive", "k": 1}
        if status == "violated":
            return {"status": "violated", "method": "inductive", "counterexample": cex,
                    "reason": reason}
        # a CTI does not show the property false: it is not inductive (unknown)
        return {"status": "unknown", "method": "inductive", "counterexample": cex,
                "reason": reason}
    if method in ("bmc", "auto"):
        cenc = Encoder(spec, concrete_consts=True)
        status, trace, k = _bmc(cenc, cenc.property(prop), depth, clock, ranges=True)
        if status == "violated":
            return {"status": "violated", "method": "bmc", "k": k, "counterexample": trace,
                    "reason": f"violated after {k} step{'s' if k != 1 else ''}"}
        if method == "bmc":
            return {"status": "unknown", "method": "bmc", "k": depth,
                    "reason": f"no violation within {depth} steps (a bounded search proves "
                              "nothing beyond them)"}
    kind_reason = None
    if method in ("kind", "auto"):
        status, k = _kind(enc, target, depth, clock)
        if status == "proved":
            return {"status": "proved", "method": "kind", "k": k}
        if status == "base":
            trace, kk = _confirm(spec, prop, k, clock)
            if trace is not None:
                return {"status": "violated", "method": "kind", "k": kk,
                        "counterexample": trace, "reason": f"violated after {kk} steps"}
            return {"status": "unknown", "method": "kind", "k": k,
                    "reason": f"violated after {k} steps for some constant values or through "
                              "a value outside its declared range"}
        kind_reason = f"not {depth}-inductive"
        if method == "kind":
            return {"status": "unknown", "method": "kind", "k": depth, "reason": kind_reason}
    status, info = _pdr(enc, target, clock)
    if status == "proved":
        return {"status": "proved", "method": "pdr", "invariant": info}
    if status == "violated":
        trace, kk = _confirm(spec, prop, depth, clock)
        if trace is not None:
            return {"status": "violated", "method": "pdr", "k": kk, "counterexample": trace,
                    "reason": f"violated after {kk} steps"}
        return {"status": "unknown", "method": "pdr",
                "reason": "reachable for some constant values or through a value outside its "
                          "declared range"}
    return {"status": "unknown", "method": "pdr",
            "reason": "; ".join(x for x in (kind_reason, f"pdr: {info}") if x)}


def prove_spec(spec: N.Spec, property: str | None = None, method: str = "auto",
               depth: int = 10, timeout: float = 30.0, using: tuple = ()) -> dict:
    """Prove the spec's ``prove`` declarations (or one invariant, ``property``).

    Without ``prove`` declarations and without ``property``, every invariant is tried.
    ``timeout`` bounds each property. Returns ``{"version": 1, "results": [...]}``; each
    result has ``property``, ``using``, ``status`` (proved | violated | unknown), ``method``,
    ``k``, ``invariant`` (found by PDR, in spec syntax), ``counterexample`` (``kind`` cti:
    ``action``, ``step``, ``params``, ``pre``, ``post``, ``broken``; ``kind`` trace:
    ``states``, each with ``step``, ``action``, ``params``, ``state``), ``seconds`` and
    ``reason``.
    """
    if property is not None:
        jobs = [(property, tuple(using))]
    elif spec.proves:
        jobs = [(p.name, tuple(p.using)) for p in spec.proves]
    else:
        jobs = [(p.name, ()) for p in spec.properties_of("invariant")]
    results = [prove_property(spec, name, helpers, method, depth, timeout)
               for name, helpers in jobs]
    return {"version": 1, "results": results}
