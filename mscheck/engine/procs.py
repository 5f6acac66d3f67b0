"""Pi-calculus processes in the explicit-state engine.

The processes of a state are one slot: a sorted tuple of *instances*. An instance is
``(def, args, term, env, tag)``: the definition it runs (for traces and ``P.x`` in
properties), the definition's arguments, the id of the term it is at, the values of the
names that term uses, and a replication tag. Terms are kept in *stable* form: a prefix, a
choice of prefixed terms, or a bounded replication; ``0`` disappears, ``|`` splits into
instances, and ``if``, calls and ``new`` are resolved when a term is reached (calls are
guarded, so this ends).

Fresh names made by ``new`` are channel ids ``#1``, ``#2``, ... numbered again after every
step in order of first appearance, so recursion that keeps creating names still has a finite
state space. Fresh channels are synchronous.
"""

from __future__ import annotations

from typing import Any

from mscheck.engine.model import Step, StepError
from mscheck.ir import nodes as N
from mscheck.ir.evaluate import ChanId, FMap, MsgVal, Record, _sort_key, show_value

__all__ = ["Processes", "FRESH"]

FRESH = "#"


def _key(v):
    return _sort_key(v) if not isinstance(v, int) else ("", v)


def _inst_key(inst):
    d, args, term, env, tag = inst
    return (d, repr(args), term, repr(env), repr(tag))


def _locals_in(node) -> set[str]:
    from mscheck.ir.walk import walk

    names = set()
    for x in walk(node):
        if isinstance(x, N.Local):
            names.add(x.name)
        elif isinstance(x, N.Pattern):
            names.update(n for n, _ in x.vars)
    return names


class Processes:
    """Compiled process definitions; works on a :class:`CompiledModel`'s state layout."""

    def __init__(self, model, spec: N.Spec, slot: int):
        self.model = model
        self.spec = spec
        self.slot = slot
        self.terms: list[N.Proc] = []
        self.term_ids: dict[int, int] = {}  # id(node) -> term id
        self.term_names: list[tuple[str, ...]] = []  # the names each term's env holds
        self.start_terms: dict[str, set[int]] = {}
        self.valid_end = set(spec.valid_end)
        self.cx = model._cx
        self._compiled: dict[int, Any] = {}

    # ------------------------------------------------------------ terms
    def term_id(self, node: N.Proc) -> int:
        tid = self.term_ids.get(id(node))
        if tid is None:
            tid = len(self.terms)
            self.terms.append(node)
            self.term_ids[id(node)] = tid
            self.term_names.append(tuple(sorted(_locals_in(node))))
        return tid

    def _expr(self, e: N.Expr):
        f = self._compiled.get(id(e))
        if f is None:
            f = self.cx(e)
            self._compiled[id(e)] = (f, e)
            return f
        return f[0]

    def unfold(self, node: N.Proc, env: dict, d: str, args: tuple, tag, s, fresh: list,
               out: list, depth: int = 0) -> None:
        """Append the stable instances of ``node`` under ``env`` to ``out``."""
        if depth > 10_000:
            raise StepError("domain", "process unfolding does not end (unguarded recursion)",
                            node.span)
        if isinstance(node, N.PNil):
            return
        if isinstance(node, N.PPar):
            for part in node.parts:
                self.unfold(part, env, d, args, tag, s, fresh, out, depth + 1)
            return
        if isinstance(node, N.PIf):
            branch = node.then if self._expr(node.cond)(s, env) else node.orelse
            self.unfold(branch, env, d, args, tag, s, fresh, out, depth + 1)
            return
        if isinstance(node, N.PCall):
            pdef = self.spec.processes[node.name]
            values = tuple(self._expr(a)(s, env) for a in node.args)
            for (pname, ptype), v in zip(pdef.params, values):
                bad = self.model._fits(ptype, v)
                if bad:
                    raise StepError("range", f"{node.name}({', '.join(show_value(x) for x in values)}"
                                    f"): parameter {pname}: {bad}", node.span)
            inner = dict(zip((p for p, _ in pdef.params), values))
            self.unfold(pdef.body, inner, node.name, values, tag, s, fresh, out, depth + 1)
            return
        if isinstance(node, N.PNew):
            n = fresh[0] + 1
            fresh[0] = n
            self.unfold(node.body, {**env, node.name: ChanId(f"{FRESH}{n}")}, d, args, tag, s,
                        fresh, out, depth + 1)
            return
        # stable: prefix, choice, replication
        tid = self.term_id(node)
        names = self.term_names[tid]
        out.append((d, args, tid, tuple(env.get(n) for n in names), tag))

    def env_of(self, inst) -> dict:
        _, _, tid, values, _ = inst
        return dict(zip(self.term_names[tid], values))

    def initial(self, s) -> tuple:
        if self.spec.init is None:
            return ()
        out: list = []
        fresh = [0]
        self.unfold(self.spec.init, {}, "init", (), None, s, fresh, out)
        return self.canonical_instances(out)

    def canonical_instances(self, insts) -> tuple:
        return tuple(sorted(insts, key=_inst_key))

    # ------------------------------------------------------------ fresh names
    def renumber(self, state: tuple) -> tuple:
        """Number fresh names again in order of first appearance (see module docstring)."""
        seen: dict[str, str] = {}
        found = [False]

        def visit(v):
            if isinstance(v, ChanId):
                if v.name.startswith(FRESH):
                    found[0] = True
                    if v.name not in seen:
                        seen[v.name] = f"{FRESH}{len(seen) + 1}"
                return
            if isinstance(v, (tuple, frozenset)):
                for x in (sorted(v, key=_key) if isinstance(v, frozenset) else v):
                    visit(x)
            elif isinstance(v, (Record, FMap)):
                for _, x in (v.fields if isinstance(v, Record) else v.items):
                    visit(x)
            elif isinstance(v, MsgVal):
                for x in v.args:
                    visit(x)

        for v in state:
            visit(v)
        if not found[0] or all(k == v for k, v in seen.items()):
            return state

        def rename(v):
            if isinstance(v, ChanId):
                return ChanId(seen[v.name], v.indices) if v.name in seen else v
            if isinstance(v, tuple):
                return tuple(rename(x) for x in v)
            if isinstance(v, frozenset):
                return frozenset(rename(x) for x in v)
            if isinstance(v, Record):
                return Record(tuple((n, rename(x)) for n, x in v.fields))
            if isinstance(v, FMap):
                return FMap(tuple((rename(k), rename(x)) for k, x in v.items))
            if isinstance(v, MsgVal):
                return MsgVal(v.name, tuple(rename(x) for x in v.args))
            return v

        out = [rename(v) for v in state]
        out[self.slot] = self.canonical_instances(out[self.slot])
        return tuple(out)

    @staticmethod
    def max_fresh(state) -> int:
        best = 0
        stack = list(state)
        while stack:
            v = stack.pop()
            if isinstance(v, ChanId):
                if v.name.startswith(FRESH):
                    best = max(best, int(v.name[len(FRESH):]))
            elif isinstance(v, (tuple, frozenset)):
                stack.extend(v)
            elif isinstance(v, Record):
                stack.extend(x for _, x in v.fields)
            elif isinstance(v, FMap):
                stack.extend(x for _, x in v.items)
                stack.extend(k for k, _ in v.items)
            elif isinstance(v, MsgVal):
                stack.extend(v.args)
        return best

    # ------------------------------------------------------------ steps
    def actor(self, inst) -> str:
        d, args, *_ = inst
        return d + ("(" + ", ".join(show_value(a) for a in args) + ")" if args else "")

    def _alternatives(self, inst):
        """(prefix node, the instance's env) for each way the instance can move."""
        node = self.terms[inst[2]]
        env = self.env_of(inst)
        if isinstance(node, N.PChoice):
            return [(alt, env) for alt in node.alternatives]
        return [(node, env)]

    def _is_sync(self, cid: ChanId) -> bool:
        if cid.name.startswith(FRESH):
            return True
        ch = self.spec.channels.get(cid.name)
        return ch is not None and ch.kind == "sync"

    def successors(self, state, out: list) -> None:
        insts = state[self.slot]
        fresh_base = self.max_fresh(state)
        for i, inst in enumerate(insts):
            if i and insts[i - 1] == inst:
                continue  # identical instances make identical steps
            for alt, env in self._alternatives(inst):
                self._local_step(state, insts, i, inst, alt, env, fresh_base, out)
        # rendezvous between two instances on a synchronous channel
        senders, receivers = [], []
        for i, inst in enumerate(insts):
            for alt, env in self._alternatives(inst):
                if isinstance(alt, N.POut):
                    cid = self._expr(alt.channel)(state, env)
                    if self._is_sync(cid):
                        senders.append((i, inst, alt, env, cid))
                elif isinstance(alt, (N.PIn, N.PRepl)):
                    cid = self._expr(alt.channel)(state, env)
                    if self._is_sync(cid):
                        receivers.append((i, inst, alt, env, cid))
        seen = set()
        for si, sinst, salt, senv, cid in senders:
            for ri, rinst, ralt, renv, rcid in receivers:
                if ri == si or rcid != cid:
                    continue
                key = (sinst, id(salt), rinst, id(ralt))
                if key in seen:
                    continue
                seen.add(key)
                self._rendezvous(state, insts, si, sinst, salt, senv, ri, rinst, ralt, renv,
                                 cid, fresh_base, out)
            # a service handler may take the message
            self._to_handlers(state, insts, si, sinst, salt, senv, cid, fresh_base, out)

    def _rest(self, insts, *drop) -> list:
        return [x for j, x in enumerate(insts) if j not in drop]

    def _finish(self, state, new_insts, out, step, w=None):
        w = list(state) if w is None else w
        w[self.slot] = self.canonical_instances(new_insts)
        out.append((step, self.renumber(tuple(w))))

    def _local_step(self, state, insts, i, inst, alt, env, fresh_base, out):
        d, args, _, _, tag = inst
        if isinstance(alt, N.PTau):
            new = self._rest(insts, i)
            self.unfold(alt.cont, env, d, args, tag, state, [fresh_base], new)
            self._finish(state, new, out, Step(self.actor(inst), "tau", kind="tau"))
            return
        if isinstance(alt, N.POut):
            cid = self._expr(alt.channel)(state, env)
            if self._is_sync(cid):
                return
            msg = self._expr(alt.payload)(state, env)
            w = list(state)
            if not self.model._deliver(w, cid, msg, alt.span):
                return  # full: blocked
            new = self._rest(insts, i)
            self.unfold(alt.cont, env, d, args, tag, state, [fresh_base], new)
            step = Step(self.actor(inst), "send", messages=(("send", show_value(cid),
                                                              show_value(msg)),), kind="comm")
            self._finish(state, new, out, step, w)
            return
        if isinstance(alt, (N.PIn, N.PRepl)):
            cid = self._expr(alt.channel)(state, env)
            if self._is_sync(cid):
                return
            for w, msg in self.model._take(state, cid):
                bound = self.model._match(alt.pattern, msg, env)
                if bound is None:
                    continue
                new = self._rest(insts, i)
                if not self._receive(alt, inst, bound, state, fresh_base, new):
                    continue
                step = Step(self.actor(inst), "receive", messages=(("recv", show_value(cid),
                                                                     show_value(msg)),),
                            kind="comm")
                self._finish(state, new, out, step, w)

    def _receive(self, alt, inst, bound, state, fresh_base, new) -> bool:
        """Continue an instance after it received; False if a replication is at its bound."""
        d, args, _, _, tag = inst
        if isinstance(alt, N.PIn):
            self.unfold(alt.cont, bound, d, args, tag, state, [fresh_base], new)
            return True
        # replication: the server stays, and a new copy of the body starts with its own tag
        server = (inst[2], inst[3])
        used = {t[2] for *_, t in new if isinstance(t, tuple) and t[:2] == server}
        free = [n for n in range(alt.bound) if n not in used]
        if not free:
            return False
        new.append(inst)
        self.unfold(alt.body, bound, d, args, (server[0], server[1], free[0]), state,
                    [fresh_base], new)
        return True

    def _rendezvous(self, state, insts, si, sinst, salt, senv, ri, rinst, ralt, renv, cid,
                    fresh_base, out):
        msg = self._expr(salt.payload)(state, senv)
        bound = self.model._match(ralt.pattern, msg, renv)
        if bound is None:
            return
        new = self._rest(insts, si, ri)
        fresh = [fresh_base]
        sd, sargs, _, _, stag = sinst
        self.unfold(salt.cont, senv, sd, sargs, stag, state, fresh, new)
        if not self._receive(ralt, rinst, bound, state, fresh[0], new):
            return
        step = Step(self.actor(sinst), "send", messages=(
            ("send", show_value(cid), show_value(msg)),
            ("recv", show_value(cid), self.actor(rinst))), kind="comm")
        self._finish(state, new, out, step)

    def _to_handlers(self, state, insts, si, sinst, salt, senv, cid, fresh_base, out):
        msg = self._expr(salt.payload)(state, senv)
        sd, sargs, _, _, stag = sinst
        new = self._rest(insts, si)
        self.unfold(salt.cont, senv, sd, sargs, stag, state, [fresh_base], new)
        w = list(state)
        w[self.slot] = self.canonical_instances(new)
        label = (("send", show_value(cid), show_value(msg)),)

        def done(w2, _env, msgs2):
            out.append((Step(self.actor(sinst), "send", messages=msgs2, kind="comm"),
                        self.renumber(tuple(w2))))
        self.model._rendezvous(w, {}, label, done, cid, msg, processes=False)

    def receivers_for(self, w, cid: ChanId, msg, k, env, msgs) -> None:
        """Let a process waiting on ``cid`` take ``msg`` from a service's send (one step)."""
        insts = w[self.slot]
        fresh_base = self.max_fresh(w)
        for i, inst in enumerate(insts):
            if i and insts[i - 1] == inst:
                continue
            for alt, ienv in self._alternatives(inst):
                if not isinstance(alt, (N.PIn, N.PRepl)):
                    continue
                if self._expr(alt.channel)(w, ienv) != cid:
                    continue
                bound = self.model._match(alt.pattern, msg, ienv)
                if bound is None:
                    continue
                new = self._rest(insts, i)
                if not self._receive(alt, inst, bound, w, fresh_base, new):
                    continue
                w2 = list(w)
                w2[self.slot] = self.canonical_instances(new)
                k(w2, env, msgs + (("recv", show_value(cid), self.actor(inst)),))

    # ------------------------------------------------------------ ends and properties
    def all_ended(self, state) -> bool:
        for inst in state[self.slot]:
            if not self._at_end(inst):
                return False
        return True

    def _at_end(self, inst) -> bool:
        d, args, tid, values, tag = inst
        if d not in self.valid_end:
            return False
        pdef = self.spec.processes[d]
        starts = self.start_terms.get(d)
        if starts is None:
            starts = self.start_terms[d] = self._starts(pdef)
        return tid in starts

    def _starts(self, pdef: N.ProcessDef) -> set[int]:
        out, stack = set(), [pdef.body]
        while stack:
            node = stack.pop()
            if isinstance(node, N.PPar):
                stack.extend(node.parts)
            elif isinstance(node, N.PIf):
                stack.extend([node.then, node.orelse])
            elif isinstance(node, N.PNew):
                stack.append(node.body)
            elif not isinstance(node, (N.PNil, N.PCall)):
                out.add(self.term_id(node))
        return out

    def describe_term(self, inst) -> str:
        """Where an instance is: its next action, line, and the values it uses there."""
        node = self.terms[inst[2]]
        heads = node.alternatives if isinstance(node, N.PChoice) else (node,)
        used = set()
        for h in heads:
            used |= _locals_in((getattr(h, "channel", None), getattr(h, "payload", None)))
        env = ", ".join(f"{n}={show_value(v)}" for n, v in zip(self.term_names[inst[2]], inst[3])
                        if n in used)
        line = f" (line {node.span.line})" if node.span else ""
        return f"at {_head(node)}{line}" + (f" with {env}" if env else "")

    def param(self, state, process: str, param: str, span):
        live = {i[1] for i in state[self.slot] if i[0] == process}
        if len(live) != 1:
            raise StepError("domain", f"{process}.{param} needs exactly one live instance of "
                            f"{process}; there are {len(live)}", span)
        names = [p for p, _ in self.spec.processes[process].params]
        return next(iter(live))[names.index(param)]


def _head(node: N.Proc) -> str:
    from mscheck.ir.printer import show_expr

    if isinstance(node, N.PTau):
        return "tau"
    if isinstance(node, N.POut):
        return f"{show_expr(node.channel)}!{show_expr(node.payload)}"
    if isinstance(node, (N.PIn, N.PRepl)):
        pat = node.pattern
        what = pat.message or ""
        names = ", ".join(n for n, _ in pat.vars)
        bound = f"![{node.bound}] " if isinstance(node, N.PRepl) else ""
        if pat.whole and not pat.message:
            return f"{bound}{show_expr(node.channel)}?{names}"
        return f"{bound}{show_expr(node.channel)}?{what}({names})"
    if isinstance(node, N.PChoice):
        return " + ".join(_head(a) for a in node.alternatives)
    return type(node).__name__
