"""Syntax tree to typed IR: name resolution, type checking and the semantic checks.

All problems are collected (not just the first); :func:`lower` raises :class:`SpecError` with
every error found, and returns warnings in ``Spec.warnings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable

from mscheck.diagnostics import Diagnostic, Span, SpecError
from mscheck.ir import nodes as N
from mscheck.ir import types as T
from mscheck.ir.evaluate import EvalError, default_value, evaluate, show_value
from mscheck.ir.walk import walk
from mscheck.lang import ast as A

__all__ = ["lower", "BUILTINS", "CONTEXT_RELATIONS", "UPSTREAM_ROLES", "DOWNSTREAM_ROLES"]

BUILTINS = {"card": 1, "len": 1, "head": 1, "tail": 1, "append": 2, "min": 1, "max": 1,
            "abs": 1, "pending": 1, "dom": 1}
CONTEXT_RELATIONS = {
    "shared_kernel": "symmetric", "partnership": "symmetric", "separate_ways": "symmetric",
    "big_ball_of_mud": "either", "customer_supplier": "directed", "conformist": "directed",
    "anticorruption_layer": "directed", "open_host_service": "directed",
    "published_language": "directed",
}
UPSTREAM_ROLES = {"OHS": "open host service", "PL": "published language", "U": "upstream",
                  "S": "supplier"}
DOWNSTREAM_ROLES = {"ACL": "anticorruption layer", "CF": "conformist", "D": "downstream",
                    "C": "customer"}
MAX_DOMAIN = 1_000_000
# The names of the fault steps of a crashable service (Svc.crash, Svc.restart), which its own
# steps may not take (MS221).
FAULT_STEP_NAMES = ("crash", "restart")


class _Abort(Exception):
    """An expression could not be lowered; the error is already recorded."""


@dataclass
class _ServiceInfo:
    name: str
    decl: A.ServiceDecl
    index_var: str | None = None
    index_type: T.Type | None = None
    index_values: tuple | None = None
    index_expr: N.Expr | None = None
    vars: dict[str, N.Var] = field(default_factory=dict)


@dataclass
class _Scope:
    """What names mean at one place in the spec."""

    locals: dict[str, T.Type] = field(default_factory=dict)
    service: _ServiceInfo | None = None
    mode: str = "const"  # const | service | property | process | arch
    defs: tuple[str, ...] = ()

    def bind(self, names: dict[str, T.Type]) -> "_Scope":
        return replace(self, locals={**self.locals, **names})


class _Lowerer:
    def __init__(self, module: A.Module, overrides: dict[str, str] | None, source: str):
        self.m = module
        self.file = module.file
        self.source = source
        self.overrides = dict(overrides or {})
        self.diags: list[Diagnostic] = []
        self.names: dict[str, tuple[str, Span | None]] = {}  # value namespace
        self.arch_names: dict[str, tuple[str, Span | None]] = {}
        self.consts: dict[str, N.Constant] = {}
        self.failed_consts: set[str] = set()
        self.const_values: dict[str, Any] = {}
        self.types: dict[str, T.Type] = {}
        self.type_decls: dict[str, A.TypeDecl] = {}
        self._resolving: list[str] = []
        self.message_names: set[str] = set()
        self.var_names: set[str] = set()
        self.atoms: dict[str, T.AtomT] = {}  # atom -> the first type that lists it
        self.defs: dict[str, A.DefDecl] = {}
        self.def_uses = 0  # the uses of definitions expanded so far (MAX_DEF_USES at most)
        self.refused: set[str] = set()  # the constants whose --const value was refused
        self.messages: dict[str, N.Message] = {}
        self.channels: dict[str, N.Channel] = {}
        self.services: dict[str, _ServiceInfo] = {}
        self.shared: dict[str, N.Var] = {}
        self.processes: dict[str, A.ProcessDecl] = {}
        self.process_params: dict[str, tuple[tuple[str, T.Type], ...]] = {}

    # ------------------------------------------------------------ diagnostics
    def error(self, code: str, msg: str, span: Span | None, expected: Iterable[str] = (),
              severity: str = "error") -> None:
        self.diags.append(Diagnostic(code, msg, span, severity, tuple(expected)))

    def warn(self, code: str, msg: str, span: Span | None) -> None:
        self.error(code, msg, span, severity="warning")

    def declare(self, table: dict, name: str, what: str, span: Span | None) -> bool:
        if name in table:
            prev_what, prev_span = table[name]
            where = f" (line {prev_span.line})" if prev_span else ""
            self.error("MS201", f"'{name}' is already declared as a {prev_what}{where}", span)
            return False
        table[name] = (what, span)
        return True

    # ------------------------------------------------------------ driver
    def run(self) -> N.Spec:
        decls = self.m.decls
        by = lambda cls: [d for d in decls if isinstance(d, cls)]  # noqa: E731
        system = by(A.SystemDecl)
        name = system[0].name if system else self.file.rsplit("/", 1)[-1].removesuffix(".ms")
        for extra in system[1:]:
            self.error("MS201", "a spec has one 'system' declaration", extra.span)

        self._collect_atoms(decls)
        for d in by(A.DefDecl):
            if self.declare(self.names, d.name, "definition", d.span):
                self.defs[d.name] = d
        self.message_names = {d.name for d in by(A.MessageDecl)}
        self.var_names = {v.name for d in by(A.DatastoreDecl) for v in d.vars} | {
            d.name for d in by(A.VarDecl)} | {
            v.name for d in by(A.ServiceDecl) for v in d.vars}
        for d in by(A.TypeDecl):
            if d.name in self.types:  # a model-value set of the same name
                self.error("MS201", f"'{d.name}' is already declared as a constant", d.span)
            elif self.declare(self.names, d.name, "type", d.span):
                self.type_decls[d.name] = d
        declared_consts = {d.name for d in by(A.ConstDecl)}
        for d in by(A.ConstDecl):
            self._const(d)
        for k in self.overrides:
            if k not in declared_consts:
                self.error("MS217", f"--const {k}: the spec declares no constant '{k}'", None)
        if self.refused:  # read without those constants, the rest would only repeat it
            raise _Abort
        for type_name in self.type_decls:
            self._named_type(type_name, None)
        for d in by(A.MessageDecl):
            if self.declare(self.names, d.name, "message", d.span):
                self.messages[d.name] = N.Message(
                    d.name, tuple(self._fields(d.fields, "message field")), span=d.span)
        for d in by(A.ChannelDecl):
            self._channel(d)

        # architecture names
        contexts = {}
        for d in by(A.ContextDecl):
            if self.declare(self.arch_names, d.name, "context", d.span):
                contexts[d.name] = d.span
        for d in by(A.ServiceDecl):
            if self.declare(self.arch_names, d.name, "service", d.span):
                self.declare(self.names, d.name, "service", d.span)
                self.services[d.name] = _ServiceInfo(d.name, d)
        datastores = {}
        for d in by(A.DatastoreDecl):
            if self.declare(self.arch_names, d.name, "datastore", d.span):
                datastores[d.name] = d
        topics = {}
        for d in by(A.TopicDecl):
            if self.declare(self.arch_names, d.name, "topic", d.span):
                topics[d.name] = N.Topic(d.name, d.context, span=d.span)
        teams = {}
        for d in by(A.TeamDecl):
            if self.declare(self.arch_names, d.name, "team", d.span):
                teams[d.name] = d

        # state: shared variables first, then each service's variables
        for d in by(A.DatastoreDecl):
            for v in d.vars:
                self._shared_var(v, d.name)
        for d in by(A.VarDecl):
            self._shared_var(d, None)
        for info in self.services.values():
            self._service_shell(info)
        for info in self.services.values():
            for v in info.decl.vars:
                self._service_var(info, v)

        services = {}
        for info in self.services.values():
            services[info.name] = self._service(info, contexts)

        # processes
        for d in by(A.ProcessDecl):
            if d.name in self.processes:
                self.error("MS201", f"process '{d.name}' is already declared", d.span)
                continue
            self.processes[d.name] = d
            self.process_params[d.name] = tuple(self._fields(d.params, "process parameter"))
        processes = {}
        for proc_name, d in self.processes.items():
            processes[proc_name] = self._process(d)
        self._check_guarded()
        inits = by(A.InitDecl)
        init = None
        if len(inits) > 1:
            for extra in inits[1:]:
                self.error("MS201", "a spec has one 'init'; compose processes with '|'", extra.span)
        if inits:
            init = self._proc(inits[0].proc, _Scope(mode="process"))

        # architecture relations
        stores = {n: N.Datastore(n, d.owner, d.context, tuple(v.name for v in d.vars), span=d.span)
                  for n, d in datastores.items()}
        for n, d in datastores.items():
            if d.owner is not None and d.owner not in self.services:
                self.error("MS200", f"datastore '{n}' is owned by '{d.owner}', which is not a "
                           "service", d.owner_span or d.span)
        team_objs = {}
        for n, d in teams.items():
            owns = []
            for svc, sp in d.owns:
                if svc not in self.services:
                    self.error("MS200", f"team '{n}' owns '{svc}', which is not a service", sp)
                else:
                    owns.append(svc)
            team_objs[n] = N.Team(n, tuple(owns), span=d.span)
        relations = tuple(r for d in by(A.RelationDecl) for r in self._relation(d, topics, stores))
        ctx_rels = tuple(r for d in by(A.ContextRelDecl) for r in self._context_rel(d, contexts))

        # properties
        props = []
        prop_names: dict[str, tuple[str, Span | None]] = {}
        for d in by(A.PropertyDecl):
            p = self._property(d, prop_names, len(props))
            if p is not None:
                props.append(p)
        fairness = tuple(N.Fairness(kind, s, span=d.span) for d in by(A.FairnessDecl)
                         for kind, ref in d.items for s in [self._step_ref(ref)] if s)
        progress = tuple(s for d in by(A.ProgressDecl) for ref in d.steps
                         for s in [self._step_ref(ref)] if s)
        invariants = {p.name for p in props if p.kind == "invariant"}
        proves = []
        for d in by(A.ProveDecl):
            for n in (d.name, *d.using):
                if n not in invariants:
                    self.error("MS216", f"'prove' names '{n}', which is not an invariant",
                               d.span, expected=sorted(invariants))
            proves.append(N.Prove(d.name, d.using, span=d.span))
        valid_end = []
        for d in by(A.EndDecl):
            for n in d.names:
                if n not in self.processes:
                    self.error("MS216", f"'end' names '{n}', which is not a process "
                               "(services declare 'end when ...' in their body)", d.span,
                               expected=sorted(self.processes))
                valid_end.append(n)

        self._check_defs()
        self.diags = self._tidy(self.diags)
        errors = [d for d in self.diags if d.severity == "error"]
        if errors:
            raise SpecError(sorted(self.diags, key=_diag_key))
        return N.Spec(
            name=name, file=self.file, constants=self.consts, types=self.types,
            atoms=frozenset(self.atoms), messages=self.messages, channels=self.channels,
            services=services, shared_vars=self.shared, datastores=stores, contexts=contexts,
            topics=topics, teams=team_objs, relations=relations, context_relations=ctx_rels,
            processes=processes, init=init, properties=tuple(props),
            deadlock_free=True, fairness=fairness, progress=progress, proves=tuple(proves),
            valid_end=tuple(valid_end), warnings=tuple(sorted(self.diags, key=_diag_key)),
            source=self.source,
        )

    def _tidy(self, diags: list[Diagnostic]) -> list[Diagnostic]:
        """Drop repeats (a definition is checked where declared and where used) and word
        problems inside a --const value as problems of that option."""
        out, seen = [], set()
        for d in diags:
            if d.span is not None and d.span.file.startswith("--const "):
                name = d.span.file[len("--const "):]
                d = Diagnostic("MS217", f"--const {name}={self.overrides.get(name, '')}: "
                               f"{d.message}", None, d.severity, d.expected)
            key = (d.code, d.message, d.span)
            if key not in seen:
                seen.add(key)
                out.append(d)
        return out

    def _check_defs(self) -> None:
        """Check every definition once where it is declared, even if nothing uses it."""
        for d in self.defs.values():
            params = {}
            for p in d.params:
                params[p.name] = self._type(p.type, _Scope()) if p.type is not None else T.ANY
            scope = _Scope(locals=params, mode="property", defs=(d.name,))
            try:
                body = self.expr(d.body, scope)
                if d.result is not None:
                    self._expect(body, self._type(d.result, scope), f"the result of {d.name}")
            except _Abort:
                pass

    # ------------------------------------------------------------ atoms and constants
    def _collect_atoms(self, decls) -> None:
        """Enumeration literals are global symbols: find them all before resolving names."""
        for d in decls:
            for node in _walk(d):
                if isinstance(node, A.EnumType):
                    named = isinstance(d, A.TypeDecl) and d.type is node
                    t = T.AtomT(node.values, d.name if named else None)
                    seen = set()
                    for v in node.values:
                        if v in seen:
                            self.error("MS201", f"'{v}' is listed twice in this enumeration",
                                       node.span)
                        seen.add(v)
                        self.atoms.setdefault(v, t)
        # A constant whose value is a set of undeclared names declares model values.
        declared = {d.name for d in decls if isinstance(d, (A.ConstDecl, A.TypeDecl, A.DefDecl,
                                                               A.MessageDecl, A.ChannelDecl))}
        for d in decls:
            if not (isinstance(d, A.ConstDecl) and d.type is None):
                continue
            value = d.value
            if d.name in self.overrides:
                value = self._parse_override(d.name, self.overrides[d.name], d)
                if value is None:
                    continue
            if isinstance(value, A.SetLit) and value.elems and all(
                    isinstance(e, A.Name) and e.id not in declared and e.id not in self.atoms
                    for e in value.elems):
                names = tuple(e.id for e in value.elems)
                t = T.AtomT(names, d.name, True)
                for v in names:
                    self.atoms[v] = t
                self.types[d.name] = t
                self._model_sets = getattr(self, "_model_sets", {})
                self._model_sets[d.name] = (t, value)

    def _parse_override(self, name: str, text: str, d: A.ConstDecl):
        from mscheck.lang.cache import parse

        if text.strip().isdigit() and isinstance(d.value, A.SetLit) and d.value.elems and all(
                isinstance(e, A.Name) for e in d.value.elems):
            count = int(text)
            if count < 1 or count > 100_000:
                self.error("MS217", f"--const {name}={text}: a model-value set needs 1 to 100000 "
                           "values", d.span)
                self.refused.add(name)
                return None
            return A.SetLit(tuple(A.Name(f"{name.lower()}{i}") for i in range(1, count + 1)),
                            span=d.span)
        try:
            mod = parse(f"const {name} = {text}", f"--const {name}")
            return mod.decls[0].value
        except SpecError as exc:
            self.error("MS217", f"--const {name}={text}: {exc.diagnostics[0].message}", None)
            self.refused.add(name)
            return None

    def _const(self, d: A.ConstDecl) -> None:
        if not self.declare(self.names, d.name, "constant", d.span):
            return
        overridden = d.name in self.overrides
        model = getattr(self, "_model_sets", {}).get(d.name)
        if model is not None:
            t, value = model
            c = N.Constant(d.name, T.SetT(t), frozenset(t.values), None, False, overridden,
                           span=d.span)
            self.consts[d.name] = c
            self.const_values[d.name] = c.value
            return
        scope = _Scope(mode="const")
        declared_t = self._type(d.type, scope) if d.type is not None else None
        value_ast = d.value
        if overridden:
            value_ast = self._parse_override(d.name, self.overrides[d.name], d)
        value = None
        t = declared_t
        if value_ast is not None:
            try:
                e = self.expr(value_ast, scope)
                value = self._const_eval(e)
                if t is None:
                    t = self._value_type(e.type, value)
                elif not T.assignable(t, e.type):
                    if overridden:
                        self.error("MS217", f"--const {d.name}={self.overrides[d.name]}: "
                                   f"{d.name} is declared {T.show(t)}, not {T.show(e.type)}",
                                   None)
                        self.refused.add(d.name)
                    else:
                        self.error("MS203", f"constant {d.name} is declared {T.show(t)} but its "
                                   f"value has type {T.show(e.type)}", value_ast.span)
                elif not self._fits(t, value):
                    self.error("MS214", f"value {show_value(value)} of {d.name} is outside "
                               f"{T.show(t)}", value_ast.span)
            except _Abort:
                # Keep the name, so uses of it do not report the same problem again.
                self.failed_consts.add(d.name)
                self.consts[d.name] = N.Constant(d.name, t or T.ANY, None, span=d.span)
                self.const_values[d.name] = None
                return
        where = None
        if d.where is not None:
            self.const_values[d.name] = value
            self.consts[d.name] = N.Constant(d.name, t or T.INT, value, None, True, overridden,
                                             span=d.span)
            try:
                where = self.expr(d.where, _Scope(mode="const"))
                self._expect(where, T.BOOL, "a 'where' condition")
                if value is not None and not self._const_eval(where):
                    self.error("MS217", f"value {show_value(value)} of {d.name} does not satisfy "
                               "its 'where' condition", d.where.span)
            except _Abort:
                pass
        self.consts[d.name] = N.Constant(d.name, t or T.INT, value, where, d.type is not None,
                                         overridden, span=d.span)
        self.const_values[d.name] = value

    def _value_type(self, t: T.Type, value) -> T.Type:
        if isinstance(t, T.IntT) and isinstance(value, int):
            return T.IntT(value, value)
        return t

    def _const_eval(self, e: N.Expr):
        if any(isinstance(x, N.ConstRef) and x.name in self.failed_consts for x in walk(e)):
            raise _Abort  # already reported where the constant is declared
        try:
            return evaluate(e, {}, self.const_values, None, self.messages)
        except EvalError as exc:
            self.error("MS212", f"cannot compute this value: {exc}", e.span)
            raise _Abort from None
        except (TypeError, KeyError, ValueError, OverflowError, MemoryError):
            self.error("MS212", "cannot compute this value from the constants", e.span)
            raise _Abort from None

    def _fits(self, t: T.Type, value) -> bool:
        if isinstance(t, T.IntT) and isinstance(value, int):
            return (t.lo is None or value >= t.lo) and (t.hi is None or value <= t.hi)
        if isinstance(t, T.AtomT) and t.values is not None and isinstance(value, str):
            return value in t.values
        return True

    # ------------------------------------------------------------ types
    def _fields(self, fields, what) -> list[tuple[str, T.Type]]:
        out, seen = [], set()
        for f in fields:
            if f.name in seen:
                self.error("MS201", f"{what} '{f.name}' is declared twice", f.span)
                continue
            seen.add(f.name)
            out.append((f.name, self._type(f.type, _Scope())))
        return out

    def _const_int(self, e: A.Expr, what: str) -> int | None:
        try:
            x = self.expr(e, _Scope(mode="const"))
            if not isinstance(x.type, (T.IntT, T.AnyT)):
                self.error("MS203", f"{what} must be an integer, not {T.show(x.type)}", e.span)
                return None
            v = self._const_eval(x)
            return v if isinstance(v, int) else None
        except _Abort:
            return None

    def _named_type(self, name: str, span) -> T.Type | None:
        """A declared type, resolved on first use (so declarations may come in any order)."""
        if name in self.types:
            return self.types[name]
        d = self.type_decls.get(name)
        if d is None:
            return None
        if name in self._resolving:
            chain = " -> ".join(self._resolving[self._resolving.index(name):] + [name])
            self.error("MS211", f"type {name} is defined in terms of itself ({chain})", span)
            return T.ANY
        self._resolving.append(name)
        try:
            t = self._type(d.type, _Scope())
        finally:
            self._resolving.pop()
        if isinstance(t, T.AtomT) and t.name is None:
            t = T.AtomT(t.values, name)  # messages then say 'Phase', not '{a, b, ...}'
        self.types[name] = t
        return t

    def _type(self, t: A.TypeExpr, scope: _Scope) -> T.Type:
        if isinstance(t, A.BoolType):
            return T.BOOL
        if isinstance(t, A.IntType):
            return T.INT
        if isinstance(t, A.StrType):
            return T.STR
        if isinstance(t, A.NamedType):
            found = self._named_type(t.name, t.span)
            if found is not None:
                return found
            if t.name in self.message_names:
                return T.MsgT((t.name,))
            if t.name in self.consts and isinstance(self.consts[t.name].type, T.SetT):
                return self.consts[t.name].type.elem
            self.error("MS200", f"unknown type '{t.name}'", t.span,
                       expected=sorted(set(self.types) | {"bool", "int", "str"}))
            return T.ANY
        if isinstance(t, A.RangeType):
            lo = self._const_int(t.lo, "a range bound")
            hi = self._const_int(t.hi, "a range bound")
            if lo is None or hi is None:
                return T.INT
            if lo > hi:
                self.error("MS205", f"range {lo}..{hi} is empty", t.span)
            return T.IntT(lo, hi)
        if isinstance(t, A.EnumType):
            return T.AtomT(t.values)
        if isinstance(t, A.RecordType):
            return T.RecordT(tuple(self._fields(t.fields, "record field")))
        if isinstance(t, A.SetType):
            return T.SetT(self._type(t.elem, scope))
        if isinstance(t, A.MapType):
            key = self._type(t.key, scope)
            if not T.is_finite(key) and not isinstance(key, T.AnyT):
                self.error("MS203", f"a map's domain must be a finite type, not {T.show(key)}",
                           t.key.span)
            return T.MapT(key, self._type(t.value, scope))
        if isinstance(t, A.SeqType):
            mx = self._const_int(t.max, "a sequence bound")
            if mx is not None and mx < 0:
                self.error("MS205", f"sequence bound {mx} is negative", t.max.span)
            return T.SeqT(self._type(t.elem, scope), mx)
        if isinstance(t, A.ChanType):
            return T.ChanT(self._type(t.payload, scope))
        if isinstance(t, A.TupleType):
            return T.TupleT(tuple(self._type(e, scope) for e in t.elems))
        if isinstance(t, A.UnionType):
            variants = []
            for alt in t.alternatives:
                at = self._type(alt, scope)
                if isinstance(at, T.MsgT):
                    variants.extend(at.variants)
                elif not isinstance(at, T.AnyT):
                    self.error("MS203", f"only messages can be joined with '|'; {T.show(at)} is "
                               "not a message", alt.span)
            return T.MsgT(tuple(dict.fromkeys(variants)))
        raise AssertionError(t)

    # ------------------------------------------------------------ channels
    def _domain(self, e: A.Expr, scope: _Scope, what: str) -> tuple[N.Expr, tuple] | None:
        """A domain that must be a non-empty constant set; returns it and its values."""
        try:
            x = self.expr(e, scope)
        except _Abort:
            return None
        if not isinstance(x.type, (T.SetT, T.AnyT)):
            self.error("MS203", f"{what} must be a set, not {T.show(x.type)}", e.span)
            return None
        try:
            values = self._const_eval(x)
        except _Abort:
            return None
        if not values:
            self.error("MS205", f"{what} is empty", e.span)
        return x, tuple(sorted(values, key=lambda v: (type(v).__name__, repr(v)) if not
                               isinstance(v, int) else ("", v)))

    def _channel(self, d: A.ChannelDecl) -> None:
        if not self.declare(self.names, d.name, "channel", d.span):
            return
        indices, values = [], []
        for ix in d.indices:
            dom = self._domain(ix.domain, _Scope(mode="const"), f"the index domain of {d.name}")
            if dom:
                indices.append((ix.name, dom[0]))
                values.append(dom[1])
        cap = None
        if d.capacity is not None:
            cap = self._const_int(d.capacity, "a channel capacity")
            if cap is not None and cap < 1:
                self.error("MS205", f"channel capacity must be at least 1, not {cap}",
                           d.capacity.span)
        payload = self._type(d.payload, _Scope())
        for flag in d.flags:
            if d.flags.count(flag) > 1:
                self.error("MS201", f"flag '{flag}' is given twice", d.span)
                break
        if d.kind == "sync" and set(d.flags) & {"duplicating", "reordering"}:
            self.error("MS218", "a sync channel holds no messages, so it cannot duplicate or "
                       "reorder them", d.span)
        if d.kind in ("set", "bag", "log") and "reordering" in d.flags:
            self.warn("MS218", f"a {d.kind} channel is unordered already; 'reordering' changes "
                      "nothing", d.span)
        if d.kind == "log" and "duplicating" in d.flags:
            self.warn("MS218", "a log channel delivers every message again already; "
                      "'duplicating' changes nothing", d.span)
        init = None
        if d.init is not None:
            scope = _Scope(mode="const").bind({
                n: (dom.type.elem if isinstance(dom.type, T.SetT) else T.ANY)
                for n, dom in indices})
            try:
                init = self.expr(d.init, scope)
            except _Abort:
                init = None
            if init is not None:
                if d.kind == "sync":
                    self.error("MS218", "a sync channel holds no messages, so it has no initial "
                               "contents", d.init.span)
                want = T.SetT(payload) if d.kind in ("set", "log") else T.SeqT(payload, cap)
                self._expect(init, want, f"the initial contents of {d.name}")
                if cap is not None and isinstance(init, N.SeqLit) and len(init.elems) > cap:
                    self.error("MS214", f"channel {d.name} holds {cap} message(s); its initial "
                               f"contents have {len(init.elems)}", d.init.span)
        self.channels[d.name] = N.Channel(d.name, tuple(indices), tuple(values), d.kind, cap,
                                          payload, d.flags, init, span=d.span)

    # ------------------------------------------------------------ variables and services
    def _var(self, v: A.VarDecl, owner: str | None, store: str | None, scope: _Scope) -> N.Var:
        if v.type is None:
            return self._untyped_var(v, owner, store, scope)
        t = self._type(v.type, scope)
        init = None
        if v.init is not None:
            try:
                init = self.expr(v.init, scope)
                if v.init_kind == "choice":
                    if not isinstance(init.type, (T.SetT, T.AnyT)) or not T.assignable(
                            t, init.type.elem if isinstance(init.type, T.SetT) else init.type):
                        self.error("MS203", f"'var {v.name}: {T.show(t)} in ...' needs a set of "
                                   f"{T.show(t)}, not {T.show(init.type)}", v.init.span)
                else:
                    self._expect(init, t, f"the initial value of {v.name}")
            except _Abort:
                pass
        else:
            try:
                default_value(t, self.messages)
            except EvalError:
                self.error("MS203", f"variable {v.name} of type {T.show(t)} has no default "
                           "value; give it one with '= ...'", v.span)
        return N.Var(v.name, t, init, v.init_kind, v.durable, owner, store, span=v.span)

    def _untyped_var(self, v: A.VarDecl, owner, store, scope: _Scope) -> N.Var:
        """``var x = e`` / ``var x in S``: the variable takes the type of its initial value."""
        if v.init is None:
            self.error("MS203", f"variable {v.name} needs a type or an initial value: "
                       f"'var {v.name}: T' or 'var {v.name} = ...'", v.span)
            return N.Var(v.name, T.ANY, None, "default", v.durable, owner, store, span=v.span)
        try:
            init = self.expr(v.init, scope)
        except _Abort:
            return N.Var(v.name, T.ANY, None, "default", v.durable, owner, store, span=v.span)
        t = init.type
        if v.init_kind == "choice":
            if not isinstance(t, (T.SetT, T.AnyT)):
                self.error("MS203", f"'var {v.name} in ...' needs a set, not {T.show(t)}",
                           v.init.span)
                t = T.ANY
            else:
                t = t.elem if isinstance(t, T.SetT) else T.ANY
        return N.Var(v.name, t, init, v.init_kind, v.durable, owner, store, span=v.span)

    def _shared_var(self, v: A.VarDecl, store: str | None) -> None:
        if self.declare(self.names, v.name, "shared variable", v.span):
            self.shared[v.name] = self._var(v, None, store, _Scope(mode="init"))

    def _service_shell(self, info: _ServiceInfo) -> None:
        d = info.decl
        if d.replica is not None:
            dom = self._domain(d.replica.domain, _Scope(mode="const"),
                               f"the replica domain of {d.name}")
            info.index_var = d.replica.name
            if dom:
                info.index_expr = dom[0]
                info.index_type = dom[0].type.elem if isinstance(dom[0].type, T.SetT) else T.ANY
                info.index_values = dom[1]
            else:
                info.index_type = T.ANY
                info.index_values = ()

    def _service_scope(self, info: _ServiceInfo, mode="service") -> _Scope:
        scope = _Scope(service=info, mode=mode)
        if info.index_var:
            scope = scope.bind({info.index_var: info.index_type or T.ANY})
        return scope

    def _service_var(self, info: _ServiceInfo, v: A.VarDecl) -> None:
        if v.name in info.vars:
            self.error("MS201", f"variable '{v.name}' is declared twice in {info.name}", v.span)
            return
        if v.name in self.shared:
            self.warn("MS201", f"variable '{v.name}' of {info.name} hides the shared variable of "
                      "the same name", v.span)
        info.vars[v.name] = self._var(v, info.name, None, self._service_scope(info, "init"))

    def _service(self, info: _ServiceInfo, contexts) -> N.Service:
        d = info.decl
        if d.context is not None and d.context not in contexts:
            self.error("MS200", f"service {d.name} is placed in '{d.context}', which is not a "
                       "context", d.span, expected=sorted(contexts))
        comps = []
        for c in d.components:
            if c.name in comps:
                self.error("MS201", f"component '{c.name}' is declared twice in {d.name}", c.span)
            comps.append(c.name)
        steps: dict[str, Span | None] = {}
        actions = []
        for a in d.actions:
            if a.name in steps:
                self.error("MS201", f"step '{a.name}' is declared twice in {d.name}", a.span)
            steps[a.name] = a.span
            actions.append(self._action(info, a))
        handlers = []
        for h in d.handlers:
            hn = h.label or _default_handler_name(h)
            if hn in steps:
                self.error("MS201", f"step '{hn}' is declared twice in {d.name}"
                           + ("" if h.label else "; give one handler a label: 'on name: ch?M'"),
                           h.span)
            steps[hn] = h.span
            handler = self._handler(info, h, hn)
            if handler is not None:
                handlers.append(handler)
        if d.crashable:
            # a crashable service's fault steps are Svc.crash and Svc.restart: a step of the
            # same name could not be told apart from them in traces, coverage and fairness
            for name in FAULT_STEP_NAMES:
                if name in steps:
                    self.error("MS221", f"step '{name}' of crashable service {d.name}: the "
                               f"names {' and '.join(repr(n) for n in FAULT_STEP_NAMES)} are "
                               "taken by the fault steps of a crashable service; rename it",
                               steps[name])
        end_when = None
        if d.end_when is not None:
            try:
                end_when = self.expr(d.end_when, self._service_scope(info))
                self._expect(end_when, T.BOOL, "'end when'")
            except _Abort:
                pass
        idx = (info.index_var, info.index_expr) if info.index_expr is not None else None
        return N.Service(d.name, idx, info.index_values, d.context, d.crashable, tuple(comps),
                         tuple(info.vars.values()), tuple(actions), tuple(handlers), end_when,
                         span=d.span)

    def _params(self, binders, scope: _Scope, what: str):
        out = []
        for b in binders:
            for name in b.names:
                try:
                    dom = self.expr(b.domain, scope)
                except _Abort:
                    # The error is recorded; keep a placeholder so later names still resolve.
                    dom = N.Lit(T.SetT(T.ANY), value=frozenset(), span=b.domain.span)
                if not isinstance(dom.type, (T.SetT, T.AnyT)):
                    self.error("MS203", f"{what} '{name}' ranges over a set, not over "
                               f"{T.show(dom.type)}", b.domain.span)
                    elem = T.ANY
                else:
                    elem = dom.type.elem if isinstance(dom.type, T.SetT) else T.ANY
                if name in scope.locals and scope.service and name == scope.service.index_var:
                    self.error("MS201", f"'{name}' is already the replica index of "
                               f"{scope.service.name}", b.span)
                out.append((name, dom))
                scope = scope.bind({name: elem})
        return tuple(out), scope

    def _action(self, info: _ServiceInfo, a: A.ActionDecl) -> N.Action:
        scope = self._service_scope(info)
        params, scope = self._params(a.params, scope, "parameter")
        guard = self._guard(a.guard, scope)
        body = self._block(a.body, scope)
        return N.Action(a.name, info.name, params, guard, body, span=a.span)

    def _guard(self, g: A.Expr | None, scope: _Scope) -> N.Expr | None:
        if g is None:
            return None
        try:
            x = self.expr(g, scope)
            self._expect(x, T.BOOL, "a 'when' condition")
            return x
        except _Abort:
            return None

    def _handler(self, info: _ServiceInfo, h: A.HandlerDecl, name: str) -> N.Handler | None:
        scope = self._service_scope(info)
        params, scope = self._params(h.params, scope, "parameter")
        chan = self._chan_ref(h.channel, scope)
        if chan is None:
            return None
        pattern = self._pattern(h.pattern, chan.type.payload, h.channel.name)
        if pattern is None:
            return None
        scope = scope.bind({n: t for n, t in pattern.vars if n != "_"})
        guard = self._guard(h.guard, scope)
        body = self._block(h.body, scope)
        return N.Handler(name, info.name, params, chan, pattern, guard, body, span=h.span)

    def _chan_ref(self, ref: A.ChanRef, scope: _Scope) -> N.Expr | None:
        if ref.name not in scope.locals and ref.name not in self.channels and (
                (scope.service and ref.name in scope.service.vars) or ref.name in self.shared):
            # a variable that holds a channel (pi-calculus mobility in the service style)
            if ref.indices:
                self.error("MS203", f"'{ref.name}' holds a channel value and takes no index",
                           ref.span)
                return None
            try:
                x = self.expr(A.Name(ref.name, span=ref.span), scope)
            except _Abort:
                return None
            if not isinstance(x.type, (T.ChanT, T.AnyT)):
                self.error("MS203", f"'{ref.name}' is a {T.show(x.type)}, not a channel",
                           ref.span)
                return None
            return x if isinstance(x.type, T.ChanT) else replace(x, type=T.ChanT(T.ANY))
        if ref.name in scope.locals:
            t = scope.locals[ref.name]
            if ref.indices:
                self.error("MS203", f"'{ref.name}' is a channel value and takes no index",
                           ref.span)
                return None
            if isinstance(t, T.AnyT):
                return N.Local(T.ChanT(T.ANY), name=ref.name, span=ref.span)
            if not isinstance(t, T.ChanT):
                self.error("MS203", f"'{ref.name}' is a {T.show(t)}, not a channel", ref.span)
                return None
            return N.Local(t, name=ref.name, span=ref.span)
        ch = self.channels.get(ref.name)
        if ch is None:
            self.error("MS200", f"unknown channel '{ref.name}'", ref.span,
                       expected=sorted(self.channels))
            return None
        if len(ref.indices) != len(ch.indices):
            self.error("MS202", f"channel {ch.name} takes {len(ch.indices)} index(es), "
                       f"{len(ref.indices)} given", ref.span)
            return None
        idx = []
        for i, (e, (iname, dom)) in enumerate(zip(ref.indices, ch.indices)):
            try:
                x = self.expr(e, scope)
            except _Abort:
                return None
            self._expect(x, dom.type.elem if isinstance(dom.type, T.SetT) else T.ANY,
                         f"index {iname} of {ch.name}")
            idx.append(x)
        return N.ChanVal(T.ChanT(ch.payload), channel=ch.name, indices=tuple(idx), span=ref.span)

    def _pattern(self, p: A.Pattern, payload: T.Type, chan: str) -> N.Pattern | None:
        def dup_check(names):
            seen = set()
            for n in names:
                if n != "_" and n in seen:
                    self.error("MS201", f"'{n}' is bound twice in this pattern", p.span)
                seen.add(n)

        if p.kind == "name" and p.name in self.messages:
            p = A.Pattern("msg", p.name, (), span=p.span)
        if p.kind == "msg":
            if p.name not in self.messages:
                self.error("MS200", f"unknown message '{p.name}'", p.span,
                           expected=sorted(self.messages))
                return None
            if isinstance(payload, T.MsgT) and p.name not in payload.variants:
                self.error("MS204", f"channel {chan} carries {T.show(payload)}, never "
                           f"{p.name}", p.span, expected=list(payload.variants))
                return None
            if not isinstance(payload, (T.MsgT, T.AnyT)):
                self.error("MS204", f"channel {chan} carries {T.show(payload)}, not messages; "
                           f"receive with '{chan}?(x)'", p.span)
                return None
            fields = self.messages[p.name].fields
            if len(p.vars) != len(fields):
                self.error("MS202", f"message {p.name} has {len(fields)} field(s); the pattern "
                           f"binds {len(p.vars)}", p.span)
                return None
            dup_check(p.vars)
            return N.Pattern(p.name, tuple((v, t) for v, (_, t) in zip(p.vars, fields)))
        if p.kind == "name":
            return N.Pattern(None, ((p.name, payload),), whole=True)
        # tuple pattern
        dup_check(p.vars)
        if isinstance(payload, T.AnyT):
            return N.Pattern(None, tuple((v, T.ANY) for v in p.vars))
        if isinstance(payload, T.TupleT):
            if len(payload.elems) != len(p.vars):
                self.error("MS202", f"channel {chan} carries {len(payload.elems)} values; the "
                           f"pattern binds {len(p.vars)}", p.span)
                return None
            return N.Pattern(None, tuple(zip(p.vars, payload.elems)))
        if isinstance(payload, T.MsgT):
            self.error("MS204", f"channel {chan} carries messages ({T.show(payload)}); receive "
                       f"with '{chan}?Message(x)'", p.span, expected=list(payload.variants))
            return None
        if len(p.vars) != 1:
            self.error("MS202", f"channel {chan} carries one value; the pattern binds "
                       f"{len(p.vars)}", p.span)
            return None
        return N.Pattern(None, ((p.vars[0], payload),), whole=True)

    # ------------------------------------------------------------ statements
    def _block(self, stmts, scope: _Scope) -> tuple[N.Stmt, ...]:
        out = []
        for s in stmts:
            try:
                lowered, scope = self._stmt(s, scope)
                out.append(lowered)
            except _Abort:
                if isinstance(s, A.Let):
                    scope = scope.bind({s.name: T.ANY})
        return tuple(out)

    def _stmt(self, s, scope: _Scope):
        if isinstance(s, A.Assign):
            target = self._target(s.target, scope)
            value = self.expr(s.value, scope)
            self._expect(value, target.type, f"the value assigned to {s.target.name}")
            return N.Assign(target=target, value=value, span=s.span), scope
        if isinstance(s, A.Send):
            chan = self._chan_ref(s.channel, scope)
            if chan is None:
                raise _Abort
            payload = self._payload(s.payload, chan.type.payload, s.channel.name, scope)
            return N.Send(channel=chan, payload=payload, span=s.span), scope
        if isinstance(s, A.Let):
            value = self.expr(s.value, scope)
            return N.LetS(name=s.name, value=value, span=s.span), scope.bind({s.name: value.type})
        if isinstance(s, A.If):
            branches = []
            for cond, body in s.branches:
                c = self.expr(cond, scope)
                self._expect(c, T.BOOL, "an 'if' condition")
                branches.append((c, self._block(body, scope)))
            orelse = self._block(s.orelse, scope) if s.orelse is not None else ()
            return N.IfS(branches=tuple(branches), orelse=orelse, span=s.span), scope
        if isinstance(s, A.Choose):
            vars_, inner = self._params(s.binders, scope, "choice")
            cond = self._guard(s.cond, inner)
            return N.ChooseS(vars=vars_, cond=cond, body=self._block(s.body, inner),
                             span=s.span), scope
        if isinstance(s, A.Assert):
            c = self.expr(s.cond, scope)
            self._expect(c, T.BOOL, "an assertion")
            return N.AssertS(cond=c, message=s.message, span=s.span), scope
        if isinstance(s, A.Skip):
            return N.SkipS(span=s.span), scope
        raise AssertionError(s)

    def _target(self, lv: A.LValue, scope: _Scope) -> N.Target:
        name = lv.name
        owner, index, var = None, None, None
        if name in scope.locals:
            self.error("MS213", f"'{name}' is a bound name, not a variable; only variables can "
                       "be assigned", lv.span)
            raise _Abort
        if scope.service and name in scope.service.vars:
            var = scope.service.vars[name]
            owner = scope.service.name
            if scope.service.index_var:
                index = N.Local(scope.service.index_type or T.ANY, name=scope.service.index_var)
        elif name in self.shared:
            var = self.shared[name]
        else:
            what = self.names.get(name, (None,))[0]
            if what:
                self.error("MS213", f"'{name}' is a {what}, not a variable", lv.span)
            else:
                self.error("MS200", f"unknown variable '{name}'", lv.span,
                           expected=sorted((scope.service.vars if scope.service else {}).keys()
                                           | self.shared.keys()))
            raise _Abort
        t = var.type
        path = []
        for step in lv.path:
            t, st = self._path_step(t, step, scope)
            path.append(st)
        return N.Target(owner, var.name, index, tuple(path), t, span=lv.span)

    def _path_step(self, t: T.Type, step: A.UpdateStep, scope: _Scope):
        if step.field_name is not None:
            if isinstance(t, T.RecordT) and t.field(step.field_name) is not None:
                return t.field(step.field_name), N.PathStep(field=step.field_name)
            if isinstance(t, T.AnyT):
                return T.ANY, N.PathStep(field=step.field_name)
            self.error("MS203", f"{T.show(t)} has no field '{step.field_name}'", step.span)
            raise _Abort
        idx = self.expr(step.index, scope)
        if isinstance(t, T.MapT):
            self._expect(idx, t.key, "a map key")
            return t.value, N.PathStep(index=idx)
        if isinstance(t, T.SeqT):
            self._expect(idx, T.INT, "a sequence position")
            return t.elem, N.PathStep(index=idx)
        if isinstance(t, T.AnyT):
            return T.ANY, N.PathStep(index=idx)
        self.error("MS203", f"a {T.show(t)} cannot be indexed", step.span)
        raise _Abort

    def _payload(self, p: A.Payload, payload_t: T.Type, chan: str, scope: _Scope) -> N.Expr:
        if p.kind == "name" and p.name in self.messages:
            p = A.Payload("msg", p.name, (), span=p.span)
        if p.kind == "msg":
            if p.name not in self.messages:
                self.error("MS200", f"unknown message '{p.name}'", p.span,
                           expected=sorted(self.messages))
                raise _Abort
            msg = self._msg_lit(p.name, p.args, scope, p.span)
            if isinstance(payload_t, T.MsgT) and p.name not in payload_t.variants:
                self.error("MS204", f"channel {chan} carries {T.show(payload_t)}, never {p.name}",
                           p.span, expected=list(payload_t.variants))
            elif not isinstance(payload_t, (T.MsgT, T.AnyT)):
                self.error("MS204", f"channel {chan} carries {T.show(payload_t)}, not messages",
                           p.span)
            return msg
        if p.kind == "name":
            value = self.expr(A.Name(p.name, span=p.span), scope)
        elif len(p.args) == 1:
            value = self.expr(p.args[0], scope)
        else:
            elems = tuple(self.expr(a, scope) for a in p.args)
            value = N.TupleLit(T.TupleT(tuple(e.type for e in elems)), elems=elems, span=p.span)
        if isinstance(payload_t, T.MsgT) and not isinstance(value.type, T.MsgT):
            self.error("MS204", f"channel {chan} carries messages ({T.show(payload_t)}); send "
                       f"one as '{chan}!{payload_t.variants[0]}(...)'", p.span,
                       expected=list(payload_t.variants))
            raise _Abort
        self._expect(value, payload_t, f"what is sent on {chan}")
        return value

    # ------------------------------------------------------------ processes
    def _process(self, d: A.ProcessDecl) -> N.ProcessDef:
        if d.service is not None and d.service not in self.services:
            self.error("MS200", f"process {d.name} is attached to '{d.service}', which is not a "
                       "service", d.span, expected=sorted(self.services))
        params = self.process_params[d.name]
        scope = _Scope(mode="process").bind(dict(params))
        body = self._proc(d.body, scope)
        return N.ProcessDef(d.name, params, d.service, body, span=d.span)

    def _proc(self, p: A.Proc, scope: _Scope) -> N.Proc:
        try:
            return self._proc_inner(p, scope)
        except _Abort:
            return N.PNil(span=p.span)

    def _proc_inner(self, p: A.Proc, scope: _Scope) -> N.Proc:
        if isinstance(p, A.PNil):
            return N.PNil(span=p.span)
        if isinstance(p, A.PPrefix):
            pre = p.prefix
            if isinstance(pre, A.PTau):
                return N.PTau(cont=self._proc(p.cont, scope), span=p.span)
            chan = self._chan_ref(pre.channel, scope)
            if chan is None:
                raise _Abort
            if isinstance(pre, A.POut):
                payload = self._payload(pre.payload, chan.type.payload, pre.channel.name, scope)
                return N.POut(channel=chan, payload=payload, cont=self._proc(p.cont, scope),
                              span=p.span)
            pattern = self._pattern(pre.pattern, chan.type.payload, pre.channel.name)
            if pattern is None:
                raise _Abort
            inner = scope.bind({n: t for n, t in pattern.vars if n != "_"})
            return N.PIn(channel=chan, pattern=pattern, cont=self._proc(p.cont, inner),
                         span=p.span)
        if isinstance(p, A.PNew):
            t = self._type(p.type, scope) if p.type is not None else self._infer_new(p, scope)
            if not isinstance(t, (T.ChanT, T.AnyT)):
                self.error("MS203", f"'new {p.name}' creates a channel; its type is written "
                           f"'chan of T', not {T.show(t)}", p.span)
                t = T.ChanT(T.ANY)
            return N.PNew(name=p.name, type=t, body=self._proc(p.body, scope.bind({p.name: t})),
                          span=p.span)
        if isinstance(p, A.PIf):
            c = self.expr(p.cond, scope)
            self._expect(c, T.BOOL, "an 'if' condition")
            return N.PIf(cond=c, then=self._proc(p.then, scope), orelse=self._proc(p.orelse, scope),
                         span=p.span)
        if isinstance(p, A.PMatch):
            c = self.expr(p.cond, scope)
            self._expect(c, T.BOOL, "a match '[...]'")
            return N.PIf(cond=c, then=self._proc(p.body, scope), orelse=N.PNil(span=p.span),
                         span=p.span)
        if isinstance(p, A.PRepl):
            bound = self._const_int(p.bound, "a replication bound")
            if bound is not None and bound < 1:
                self.error("MS205", f"replication bound must be at least 1, not {bound}",
                           p.bound.span)
            chan = self._chan_ref(p.prefix.channel, scope)
            if chan is None:
                raise _Abort
            pattern = self._pattern(p.prefix.pattern, chan.type.payload, p.prefix.channel.name)
            if pattern is None:
                raise _Abort
            inner = scope.bind({n: t for n, t in pattern.vars if n != "_"})
            return N.PRepl(bound=bound or 1, channel=chan, pattern=pattern,
                           body=self._proc(p.body, inner), span=p.span)
        if isinstance(p, A.PCall):
            if p.name not in self.processes:
                self.error("MS200", f"unknown process '{p.name}'", p.span,
                           expected=sorted(self.processes))
                raise _Abort
            params = self.process_params[p.name]
            if len(p.args) != len(params):
                self.error("MS202", f"process {p.name} takes {len(params)} argument(s), "
                           f"{len(p.args)} given", p.span)
                raise _Abort
            args = []
            for a, (pn, pt) in zip(p.args, params):
                x = self.expr(a, scope)
                self._expect(x, pt, f"argument {pn} of {p.name}")
                args.append(x)
            return N.PCall(name=p.name, args=tuple(args), span=p.span)
        if isinstance(p, A.PChoice):
            return N.PChoice(alternatives=tuple(self._proc(a, scope) for a in p.alternatives),
                             span=p.span)
        if isinstance(p, A.PPar):
            return N.PPar(parts=tuple(self._proc(a, scope) for a in p.parts), span=p.span)
        raise AssertionError(p)

    def _infer_new(self, p: A.PNew, scope: _Scope) -> T.Type:
        """Type a fresh name from the first output that sends it on a typed channel."""
        for node in _walk(p.body):
            if isinstance(node, A.POut) and node.payload.kind == "tuple":
                for i, a in enumerate(node.payload.args):
                    if isinstance(a, A.Name) and a.id == p.name:
                        ch = self.channels.get(node.channel.name)
                        if ch is None:
                            continue
                        pt = ch.payload
                        if isinstance(pt, T.TupleT) and i < len(pt.elems):
                            return pt.elems[i]
                        if len(node.payload.args) == 1:
                            return pt
        return T.ChanT(T.ANY)

    def _check_guarded(self) -> None:
        """A process may not reach a call of itself without passing a prefix (MS209)."""
        unguarded: dict[str, list[tuple[str, Span | None]]] = {}
        for name, d in self.processes.items():
            calls = []
            stack = [d.body]
            while stack:
                p = stack.pop()
                if isinstance(p, A.PCall):
                    calls.append((p.name, p.span))
                elif isinstance(p, (A.PChoice,)):
                    stack.extend(p.alternatives)
                elif isinstance(p, A.PPar):
                    stack.extend(p.parts)
                elif isinstance(p, A.PNew):
                    stack.append(p.body)
                elif isinstance(p, A.PIf):
                    stack.extend([p.then, p.orelse])
                elif isinstance(p, A.PMatch):
                    stack.append(p.body)
            unguarded[name] = calls
        reported = set()
        for start in self.processes:
            # depth-first search for a cycle of unguarded calls through `start`
            stack = [(start, [start])]
            seen = set()
            while stack:
                cur, path = stack.pop()
                for callee, span in unguarded.get(cur, []):
                    if callee == start and start not in reported:
                        cycle = " -> ".join(path + [start])
                        self.error("MS209", f"recursion without a prefix: {cycle}; put an "
                                   "action (c!(...), c?(...) or tau) before the call", span)
                        reported.update(path)
                    elif callee not in seen and callee in unguarded:
                        seen.add(callee)
                        stack.append((callee, path + [callee]))

    # ------------------------------------------------------------ architecture relations
    def _relation(self, d: A.RelationDecl, topics, stores) -> list[N.Relation]:
        out = []
        src = d.source
        if src.service not in self.services:
            self.error("MS200", f"'{src.service}' is not a service", src.span,
                       expected=sorted(self.services))
            return out
        self._check_component(src)
        for tgt in d.targets:
            if d.kind == "calls":
                if tgt.service not in self.services:
                    self.error("MS200", f"'{tgt.service}' is not a service", tgt.span,
                               expected=sorted(self.services))
                    continue
                if not self._check_component(tgt):
                    continue
                if tgt.service == src.service and tgt.component is None and src.component is None:
                    self.error("MS215", f"service {src.service} calls itself; name the "
                               "components (A.x calls A.y) for an internal relation", d.span)
                    continue
            else:
                table, what = (topics, "topic") if d.kind in ("publishes", "subscribes") else (
                    stores, "datastore")
                if tgt.component is not None or tgt.service not in table:
                    self.error("MS215", f"'{d.kind}' takes a {what}; '{_qn(tgt)}' is not one",
                               tgt.span, expected=sorted(table))
                    continue
            if d.weight is not None and d.weight < 0:
                self.error("MS215", "a weight is not negative", d.span)
            out.append(N.Relation(d.kind, src.service, src.component, tgt.service, tgt.component,
                                  d.weight, span=d.span))
        return out

    def _check_component(self, q: A.QName) -> bool:
        if q.component is None:
            return True
        info = self.services[q.service]
        comps = [c.name for c in info.decl.components]
        if q.component not in comps:
            self.error("MS200", f"service {q.service} has no component '{q.component}'", q.span,
                       expected=comps)
            return False
        return True

    def _context_rel(self, d: A.ContextRelDecl, contexts) -> list[N.ContextRelation]:
        ok = True
        for side in (d.left, d.right):
            if side.name not in contexts:
                self.error("MS200", f"'{side.name}' is not a context", side.span,
                           expected=sorted(contexts))
                ok = False
        if d.left.name == d.right.name:
            self.error("MS206", f"context {d.left.name} is related to itself", d.span)
            ok = False
        symmetric = d.arrow == "<->"
        kinds = d.kinds
        if not ok and d.left.name == d.right.name:
            return []
        for k in kinds:
            shape = CONTEXT_RELATIONS.get(k)
            if shape is None:
                self.error("MS210", f"unknown context-map relation '{k}'", d.span,
                           expected=sorted(CONTEXT_RELATIONS))
                ok = False
            elif shape == "symmetric" and not symmetric:
                self.error("MS219", f"{k} is symmetric; write {d.left.name} <-> {d.right.name}",
                           d.span)
                ok = False
            elif shape == "directed" and symmetric:
                self.error("MS219", f"{k} has an upstream and a downstream; write "
                           f"Upstream -> Downstream", d.span)
                ok = False
        roles_l, roles_r = d.left.roles, d.right.roles
        if symmetric and (roles_l or roles_r):
            self.error("MS210", "roles (OHS, PL, ACL, CF) belong to an upstream -> downstream "
                       "relation, not to '<->'", d.span)
            ok = False
        else:
            for r in roles_l:
                if r not in UPSTREAM_ROLES:
                    hint = " (it is a downstream role)" if r in DOWNSTREAM_ROLES else ""
                    self.error("MS210", f"role '{r}' cannot be on the upstream side{hint}",
                               d.left.span, expected=sorted(UPSTREAM_ROLES))
                    ok = False
            for r in roles_r:
                if r not in DOWNSTREAM_ROLES:
                    hint = " (it is an upstream role)" if r in UPSTREAM_ROLES else ""
                    self.error("MS210", f"role '{r}' cannot be on the downstream side{hint}",
                               d.right.span, expected=sorted(DOWNSTREAM_ROLES))
                    ok = False
        if "customer_supplier" in kinds and ("conformist" in kinds or "CF" in roles_r):
            self.error("MS207", "a customer-supplier relation negotiates the model, so the "
                       "downstream cannot also be a conformist", d.span)
            ok = False
        if "separate_ways" in kinds and (len(kinds) > 1 or roles_l or roles_r):
            self.error("MS210", "separate_ways means no integration; it takes no other relation "
                       "or role", d.span)
            ok = False
        if not kinds and not roles_l and not roles_r:
            self.error("MS210", "say what the relation is: 'A -> B : customer_supplier' or "
                       "roles 'A [OHS] -> B [ACL]'", d.span, expected=sorted(CONTEXT_RELATIONS))
            ok = False
        if not ok:
            return []
        return [N.ContextRelation(d.left.name, d.right.name, symmetric, kinds, roles_l, roles_r,
                                  d.weight, span=d.span)]

    # ------------------------------------------------------------ properties
    def _property(self, d: A.PropertyDecl, names, count) -> N.Property | None:
        name = d.name or f"{d.kind}_{count + 1}"
        if d.name is not None:
            self.declare(names, d.name, "property", d.span)
        scope = _Scope(mode="property")
        try:
            e = self.expr(d.expr, scope)
            self._expect(e, T.BOOL, f"{d.kind} {name}")
            target = None
            if d.target is not None:
                target = self.expr(d.target, scope)
                self._expect(target, T.BOOL, f"the right side of {name}")
        except _Abort:
            return None
        return N.Property(d.kind, name, e, target, span=d.span)

    def _step_ref(self, ref: A.StepRef) -> N.StepRef | None:
        if ref.owner in self.services:
            info = self.services[ref.owner]
            if ref.step is None:
                return N.StepRef("service", ref.owner, None, span=ref.span)
            actions = [a.name for a in info.decl.actions]
            handlers = [h.label or _default_handler_name(h) for h in info.decl.handlers]
            if ref.step in actions:
                return N.StepRef("action", ref.owner, ref.step, span=ref.span)
            if ref.step in handlers:
                return N.StepRef("handler", ref.owner, ref.step, span=ref.span)
            self.error("MS216", f"service {ref.owner} has no action or handler '{ref.step}'",
                       ref.span, expected=actions + handlers)
            return None
        if ref.owner in self.processes and ref.step is None:
            return N.StepRef("process", ref.owner, None, span=ref.span)
        self.error("MS216", f"'{_qn2(ref)}' is not a service, a service's step, or a process",
                   ref.span, expected=sorted(self.services) + sorted(self.processes))
        return None

    # ------------------------------------------------------------ expressions
    def _expect(self, e: N.Expr, t: T.Type, what: str) -> None:
        if not T.assignable(t, e.type):
            self.error("MS203", f"{what} should be {T.show(t)}, but this is {T.show(e.type)}",
                       e.span)
        elif isinstance(t, T.AtomT) and t.values is not None and isinstance(e, N.Lit) and \
                isinstance(e.value, str) and e.value not in t.values:
            self.error("MS214", f"{e.value} is not a value of {T.show(t)}", e.span,
                       expected=list(t.values))
        elif isinstance(t, T.IntT) and isinstance(e, N.Lit) and isinstance(e.value, int) and \
                not isinstance(e.value, bool) and not self._fits(t, e.value):
            self.error("MS214", f"{e.value} is outside {T.show(t)}", e.span)

    def expr(self, e: A.Expr, scope: _Scope) -> N.Expr:
        method = getattr(self, "_e_" + type(e).__name__)
        return method(e, scope)

    def _e_IntLit(self, e, scope):
        return N.Lit(T.INT, value=e.value, span=e.span)

    def _e_StrLit(self, e, scope):
        return N.Lit(T.STR, value=e.value, span=e.span)

    def _e_BoolLit(self, e, scope):
        return N.Lit(T.BOOL, value=e.value, span=e.span)

    def _e_Name(self, e, scope):
        n = e.id
        if n in scope.locals:
            return N.Local(scope.locals[n], name=n, span=e.span)
        if scope.service and n in scope.service.vars and scope.mode in ("service", "property",
                                                                        "init"):
            v = scope.service.vars[n]
            idx = None
            if scope.service.index_var:
                idx = N.Local(scope.service.index_type or T.ANY, name=scope.service.index_var)
            return N.VarRef(v.type, owner=scope.service.name, var=n, index=idx, span=e.span)
        if n in self.shared:
            if scope.mode == "const":
                self.error("MS212", f"'{n}' is a variable; a constant value is needed here",
                           e.span)
                raise _Abort
            return N.VarRef(self.shared[n].type, owner=None, var=n, span=e.span)
        if n in self.consts:
            c = self.consts[n]
            return N.ConstRef(c.type, name=n, span=e.span)
        if n in self.atoms:
            return N.Lit(self.atoms[n], value=n, span=e.span)
        if n in self.types or n in self.type_decls:
            t = self._named_type(n, e.span)
            if not T.is_finite(t):
                self.error("MS203", f"type {n} is not finite, so it is not a set", e.span)
                raise _Abort
            return N.TypeSet(T.SetT(t), of=t, span=e.span)
        if n in self.messages:
            return self._msg_lit(n, (), scope, e.span)
        if n in self.channels:
            ch = self.channels[n]
            if ch.indices:
                self.error("MS202", f"channel {n} is indexed; write {n}[...]", e.span)
                raise _Abort
            return N.ChanVal(T.ChanT(ch.payload), channel=n, span=e.span)
        if n in self.defs:
            return self._call_def(A.Call(n, (), span=e.span), scope)
        if n in self.services:
            if scope.mode == "property" or scope.mode == "service":
                hint = f"; write {n}[i].var" if self.services[n].index_var else f"; write {n}.var"
                self.error("MS203", f"'{n}' is a service, not a value{hint}", e.span)
            else:
                self.error("MS212", f"'{n}' is a service; a value is needed here", e.span)
            raise _Abort
        if n in self.consts_pending():
            self.error("MS212", f"constant '{n}' is used before it is defined", e.span)
            raise _Abort
        if scope.mode == "const" and n in self.var_names:
            self.error("MS212", f"'{n}' is a variable; a constant value is needed here", e.span)
            raise _Abort
        self.error("MS200", f"undefined name '{n}'", e.span, expected=self._suggest(n, scope))
        raise _Abort

    def consts_pending(self):
        return {d.name for d in self.m.decls if isinstance(d, A.ConstDecl)}

    def _suggest(self, n: str, scope: _Scope) -> list[str]:
        import difflib

        pool = set(scope.locals) | set(self.consts) | set(self.atoms) | set(self.shared) | set(
            self.defs) | set(self.messages) | set(self.types) | set(self.type_decls)
        if scope.service:
            pool |= set(scope.service.vars)
        return difflib.get_close_matches(n, sorted(pool), n=3)

    def _service_instance(self, base: A.Expr, scope: _Scope):
        """``S`` or ``S[i]`` where S is a service: (info, index expr) or None."""
        if isinstance(base, A.Name) and base.id in self.services and base.id not in scope.locals:
            return self.services[base.id], None, base
        if isinstance(base, A.Index) and isinstance(base.base, A.Name) and \
                base.base.id in self.services and base.base.id not in scope.locals:
            info = self.services[base.base.id]
            return info, base.index, base
        return None

    def _e_FieldAccess(self, e, scope):
        if isinstance(e.base, A.Name) and e.base.id in self.processes and \
                e.base.id not in scope.locals and e.base.id not in self.services:
            if scope.mode != "property":
                self.error("MS212", "process parameters can be read in properties only, not "
                           "here", e.span)
                raise _Abort
            params = dict(self.process_params.get(e.base.id, ()))
            if e.name not in params:
                self.error("MS200", f"process {e.base.id} has no parameter '{e.name}'", e.span,
                           expected=sorted(params))
                raise _Abort
            return N.ProcVar(params[e.name], process=e.base.id, param=e.name, span=e.span)
        inst = self._service_instance(e.base, scope)
        if inst is not None:
            info, idx_ast, base = inst
            if scope.mode in ("const", "init"):
                self.error("MS212", "a variable cannot be read where a constant is needed", e.span)
                raise _Abort
            if e.name not in info.vars:
                self.error("MS200", f"service {info.name} has no variable '{e.name}'", e.span,
                           expected=sorted(info.vars))
                raise _Abort
            v = info.vars[e.name]
            idx = None
            if info.index_var:
                if idx_ast is None:
                    if scope.service is info:
                        idx = N.Local(info.index_type or T.ANY, name=info.index_var)
                    else:
                        self.error("MS203", f"{info.name} is replicated; say which instance: "
                                   f"{info.name}[i].{e.name}", e.span)
                        raise _Abort
                else:
                    idx = self.expr(idx_ast, scope)
                    self._check_replica_index(info, idx)
            elif idx_ast is not None:
                self.error("MS203", f"service {info.name} is not replicated; write "
                           f"{info.name}.{e.name}", base.span)
                raise _Abort
            return N.VarRef(v.type, owner=info.name, var=e.name, index=idx, span=e.span)
        base = self.expr(e.base, scope)
        t = base.type
        if isinstance(t, T.RecordT):
            ft = t.field(e.name)
            if ft is None:
                self.error("MS203", f"{T.show(t)} has no field '{e.name}'", e.span,
                           expected=[n for n, _ in t.fields])
                raise _Abort
            return N.Field(ft, base=base, name=e.name, span=e.span)
        if isinstance(t, T.MsgT) and len(t.variants) == 1:
            msg = self.messages[t.variants[0]]
            for fn, ft in msg.fields:
                if fn == e.name:
                    return N.Field(ft, base=base, name=e.name, span=e.span)
            self.error("MS203", f"message {msg.name} has no field '{e.name}'", e.span,
                       expected=[n for n, _ in msg.fields])
            raise _Abort
        if isinstance(t, T.AnyT):
            return N.Field(T.ANY, base=base, name=e.name, span=e.span)
        self.error("MS203", f"a {T.show(t)} has no fields", e.span)
        raise _Abort

    def _check_replica_index(self, info: _ServiceInfo, idx: N.Expr) -> None:
        self._expect(idx, info.index_type or T.ANY, f"the index of {info.name}")
        if info.index_values is not None and _is_const(idx):
            try:
                v = evaluate(idx, {}, self.const_values, None, self.messages)
            except Exception:  # noqa: BLE001 - reported by evaluation elsewhere
                return
            if v not in info.index_values:
                self.error("MS208", f"{info.name}[{show_value(v)}] does not exist: the replicas "
                           f"are {', '.join(show_value(x) for x in info.index_values)}", idx.span)

    def _e_Index(self, e, scope):
        inst = self._service_instance(e, scope)
        if inst is not None:
            self.error("MS203", f"{inst[0].name}[...] is a service instance; read a variable "
                       f"with {inst[0].name}[...].var", e.span)
            raise _Abort
        ref = _chan_ref_of(e)
        if ref is not None and ref.name in self.channels and ref.name not in scope.locals:
            ch = self._chan_ref(ref, scope)
            if ch is None:
                raise _Abort
            return ch
        base = self.expr(e.base, scope)
        t = base.type
        if isinstance(e.index, A.Binary) and e.index.op == ".." and isinstance(t, T.SeqT):
            lo = self.expr(e.index.left, scope)
            hi = self.expr(e.index.right, scope)
            self._expect(lo, T.INT, "a sub-sequence bound")
            self._expect(hi, T.INT, "a sub-sequence bound")
            return N.SubSeq(t, base=base, lo=lo, hi=hi, span=e.span)
        idx = self.expr(e.index, scope)
        if isinstance(t, T.MapT):
            self._expect(idx, t.key, "a map key")
            return N.Index(t.value, base=base, index=idx, span=e.span)
        if isinstance(t, T.SeqT):
            self._expect(idx, T.INT, "a sequence position")
            return N.Index(t.elem, base=base, index=idx, span=e.span)
        if isinstance(t, T.TupleT):
            if not (isinstance(idx, N.Lit) and isinstance(idx.value, int)
                    and 1 <= idx.value <= len(t.elems)):
                self.error("MS203", f"a tuple of {len(t.elems)} is indexed by a literal 1.."
                           f"{len(t.elems)}", e.index.span)
                raise _Abort
            return N.Index(t.elems[idx.value - 1], base=base, index=idx, span=e.span)
        if isinstance(t, T.AnyT):
            return N.Index(T.ANY, base=base, index=idx, span=e.span)
        self.error("MS203", f"a {T.show(t)} cannot be indexed", e.span)
        raise _Abort

    def _e_Update(self, e, scope):
        base = self.expr(e.base, scope)
        t = base.type
        path = []
        for step in e.path:
            t, st = self._path_step(t, step, scope)
            path.append(st)
        value = self.expr(e.value, scope)
        self._expect(value, t, "the new value")
        return N.Update(base.type, base=base, path=tuple(path), value=value, span=e.span)

    def _e_Unary(self, e, scope):
        x = self.expr(e.operand, scope)
        if e.op == "not":
            self._expect(x, T.BOOL, "the operand of 'not'")
            return N.Unary(T.BOOL, op="not", operand=x, span=e.span)
        self._expect(x, T.INT, "the operand of '-'")
        if isinstance(x, N.Lit) and isinstance(x.value, int):
            return N.Lit(T.INT, value=-x.value, span=e.span)
        return N.Unary(T.INT, op="-", operand=x, span=e.span)

    def _e_BoolOp(self, e, scope):
        ops = []
        for o in e.operands:
            x = self.expr(o, scope)
            self._expect(x, T.BOOL, f"an operand of '{e.op}'")
            ops.append(x)
        return N.BoolOp(T.BOOL, op=e.op, operands=tuple(ops), span=e.span)

    def _e_Binary(self, e, scope):
        op = e.op
        left = self.expr(e.left, scope)
        right = self.expr(e.right, scope)
        lt, rt = left.type, right.type

        def need(x, t, side):
            self._expect(x, t, f"the {side} operand of '{op}'")

        if op in ("=>", "<=>"):
            need(left, T.BOOL, "left")
            need(right, T.BOOL, "right")
            t = T.BOOL
        elif op in ("+", "-", "*", "div", "mod"):
            need(left, T.INT, "left")
            need(right, T.INT, "right")
            t = T.INT
        elif op in ("union", "inter", "minus"):
            if not isinstance(lt, (T.SetT, T.AnyT)):
                self.error("MS203", f"'{op}' works on sets, not on {T.show(lt)}", left.span)
            if not isinstance(rt, (T.SetT, T.AnyT)):
                self.error("MS203", f"'{op}' works on sets, not on {T.show(rt)}", right.span)
            elif not T.comparable(lt, rt):
                self.error("MS203", f"'{op}' of {T.show(lt)} and {T.show(rt)}", e.span)
            t = T.join(lt, rt)
        elif op == "++":
            for x in (left, right):
                if not isinstance(x.type, (T.SeqT, T.AnyT)):
                    self.error("MS203", f"'++' joins sequences, not {T.show(x.type)}", x.span)
            t = T.join(lt, rt)
        elif op == "..":
            need(left, T.INT, "left")
            need(right, T.INT, "right")
            t = T.SetT(T.INT)
            if isinstance(left, N.Lit) and isinstance(right, N.Lit):
                t = T.SetT(T.IntT(left.value, right.value)) if left.value <= right.value else t
        elif op in ("==", "!="):
            if not T.comparable(lt, rt):
                self.error("MS203", f"cannot compare {T.show(lt)} with {T.show(rt)}", e.span)
            t = T.BOOL
        elif op in ("<", "<=", ">", ">="):
            need(left, T.INT, "left")
            need(right, T.INT, "right")
            t = T.BOOL
        elif op in ("in", "notin"):
            if isinstance(rt, T.SetT):
                if not T.comparable(rt.elem, lt):
                    self.error("MS203", f"a {T.show(lt)} is never in a {T.show(rt)}", e.span)
            elif isinstance(rt, T.SeqT):
                if not T.comparable(rt.elem, lt):
                    self.error("MS203", f"a {T.show(lt)} is never in a {T.show(rt)}", e.span)
            elif not isinstance(rt, T.AnyT):
                self.error("MS203", f"'{op}' needs a set on the right, not {T.show(rt)}",
                           right.span)
            t = T.BOOL
        elif op == "subset":
            for x in (left, right):
                if not isinstance(x.type, (T.SetT, T.AnyT)):
                    self.error("MS203", f"'subset' compares sets, not {T.show(x.type)}", x.span)
            t = T.BOOL
        else:
            raise AssertionError(op)
        return N.Binary(t, op=op, left=left, right=right, span=e.span)

    def _binders(self, binders, scope: _Scope):
        return self._params(binders, scope, "bound name")

    def _e_Quant(self, e, scope):
        vars_, inner = self._binders(e.binders, scope)
        body = self.expr(e.body, inner)
        self._expect(body, T.BOOL, f"the body of '{e.kind}'")
        return N.Quant(T.BOOL, kind=e.kind, vars=vars_, body=body, span=e.span)

    def _e_Ite(self, e, scope):
        c = self.expr(e.cond, scope)
        self._expect(c, T.BOOL, "an 'if' condition")
        a = self.expr(e.then, scope)
        b = self.expr(e.orelse, scope)
        if not T.comparable(a.type, b.type):
            self.error("MS203", f"'then' gives {T.show(a.type)} but 'else' gives "
                       f"{T.show(b.type)}", e.span)
        return N.Ite(T.join(a.type, b.type), cond=c, then=a, orelse=b, span=e.span)

    def _e_SetLit(self, e, scope):
        elems = tuple(self.expr(x, scope) for x in e.elems)
        t: T.Type = T.ANY
        for x in elems:
            if not T.comparable(t, x.type):
                self.error("MS203", f"a set holds values of one type; {T.show(x.type)} does not "
                           f"go with {T.show(t)}", x.span)
            t = T.join(t, x.type)
        return N.SetLit(T.SetT(t), elems=elems, span=e.span)

    def _e_SetFilter(self, e, scope):
        (var_dom,), inner = self._binders((A.Binder((e.var,), e.domain, span=e.span),), scope)
        pred = self.expr(e.pred, inner)
        self._expect(pred, T.BOOL, "a filter condition")
        return N.SetFilter(var_dom[1].type, var=e.var, domain=var_dom[1], pred=pred, span=e.span)

    def _e_SetMap(self, e, scope):
        vars_, inner = self._binders(e.binders, scope)
        x = self.expr(e.expr, inner)
        return N.SetMap(T.SetT(x.type), expr=x, vars=vars_, span=e.span)

    def _e_RecordLit(self, e, scope):
        seen, fields = set(), []
        for n, x in e.fields:
            if n in seen:
                self.error("MS201", f"field '{n}' is given twice", e.span)
            seen.add(n)
            fields.append((n, self.expr(x, scope)))
        return N.RecordLit(T.RecordT(tuple((n, x.type) for n, x in fields)), fields=tuple(fields),
                           span=e.span)

    def _e_TupleLit(self, e, scope):
        elems = tuple(self.expr(x, scope) for x in e.elems)
        return N.TupleLit(T.TupleT(tuple(x.type for x in elems)), elems=elems, span=e.span)

    def _e_SeqLit(self, e, scope):
        elems = tuple(self.expr(x, scope) for x in e.elems)
        t: T.Type = T.ANY
        for x in elems:
            if not T.comparable(t, x.type):
                self.error("MS203", f"a sequence holds values of one type; {T.show(x.type)} "
                           f"does not go with {T.show(t)}", x.span)
            t = T.join(t, x.type)
        return N.SeqLit(T.SeqT(t, None), elems=elems, span=e.span)

    def _e_MapLit(self, e, scope):
        (var_dom,), inner = self._binders((A.Binder((e.var,), e.domain, span=e.span),), scope)
        body = self.expr(e.body, inner)
        key = var_dom[1].type.elem if isinstance(var_dom[1].type, T.SetT) else T.ANY
        return N.MapLit(T.MapT(key, body.type), var=e.var, domain=var_dom[1], body=body,
                        span=e.span)

    def _msg_lit(self, name, args, scope, span):
        msg = self.messages[name]
        if len(args) != len(msg.fields):
            self.error("MS202", f"message {name} has {len(msg.fields)} field(s), {len(args)} "
                       "given", span)
            raise _Abort
        out = []
        for a, (fn, ft) in zip(args, msg.fields):
            x = self.expr(a, scope)
            self._expect(x, ft, f"field {fn} of {name}")
            out.append(x)
        return N.MsgLit(T.MsgT((name,)), name=name, args=tuple(out), span=span)

    def _e_Call(self, e, scope):
        f = e.func
        if f in self.messages:
            return self._msg_lit(f, e.args, scope, e.span)
        if f in self.defs:
            return self._call_def(e, scope)
        if f not in BUILTINS:
            import difflib

            self.error("MS200", f"undefined function '{f}'", e.span,
                       expected=difflib.get_close_matches(
                           f, sorted(set(BUILTINS) | set(self.defs) | set(self.messages)), n=3))
            raise _Abort
        if len(e.args) != BUILTINS[f]:
            self.error("MS202", f"{f} takes {BUILTINS[f]} argument(s), {len(e.args)} given",
                       e.span)
            raise _Abort
        args = tuple(self.expr(a, scope) for a in e.args)
        a0 = args[0].type

        def bad(what):
            self.error("MS203", f"{f} needs {what}, not {T.show(a0)}", args[0].span)
            raise _Abort

        if f == "card":
            if not isinstance(a0, (T.SetT, T.AnyT)):
                bad("a set")
            t = T.INT
        elif f == "len":
            if not isinstance(a0, (T.SeqT, T.ChanT, T.AnyT)):
                bad("a sequence or a channel")
            t = T.INT
        elif f == "head":
            if not isinstance(a0, (T.SeqT, T.AnyT)):
                bad("a sequence")
            t = a0.elem if isinstance(a0, T.SeqT) else T.ANY
        elif f in ("tail",):
            if not isinstance(a0, (T.SeqT, T.AnyT)):
                bad("a sequence")
            t = a0
        elif f == "append":
            if not isinstance(a0, (T.SeqT, T.AnyT)):
                bad("a sequence")
            if isinstance(a0, T.SeqT):
                self._expect(args[1], a0.elem, "the appended value")
            t = a0
        elif f in ("min", "max"):
            if not isinstance(a0, (T.SetT, T.AnyT)) or (
                    isinstance(a0, T.SetT) and not isinstance(a0.elem, (T.IntT, T.AnyT))):
                bad("a set of integers")
            t = a0.elem if isinstance(a0, T.SetT) else T.INT
        elif f == "abs":
            self._expect(args[0], T.INT, "the argument of abs")
            t = T.INT
        elif f == "pending":
            if not isinstance(a0, (T.ChanT, T.AnyT)):
                bad("a channel")
            t = T.SetT(a0.payload if isinstance(a0, T.ChanT) else T.ANY)
        elif f == "dom":
            if not isinstance(a0, (T.MapT, T.AnyT)):
                bad("a map")
            t = T.SetT(a0.key if isinstance(a0, T.MapT) else T.ANY)
        else:  # pragma: no cover - BUILTINS and this chain agree
            raise AssertionError(f)
        if scope.mode == "const" and f == "pending":
            self.error("MS212", "pending() reads the state; a constant is needed here", e.span)
            raise _Abort
        return N.Call(t, func=f, args=args, span=e.span)

    def _call_def(self, e: A.Call, scope: _Scope) -> N.Expr:
        d = self.defs[e.func]
        if e.func in scope.defs:
            cycle = scope.defs[scope.defs.index(e.func):] + (e.func,)
            chain = " -> ".join(cycle)
            what = (f"definition {e.func} calls itself" if len(cycle) == 2 else
                    "definitions call each other")
            self.error("MS211", f"{what} ({chain}); definitions cannot recurse", e.span)
            raise _Abort
        if len(e.args) != len(d.params):
            self.error("MS202", f"{d.name} takes {len(d.params)} argument(s), {len(e.args)} "
                       "given", e.span)
            raise _Abort
        self.def_uses += 1
        if self.def_uses > MAX_DEF_USES:
            if self.def_uses == MAX_DEF_USES + 1:  # said once
                self.error("MS211", f"definitions expand too far: each use of one is expanded "
                           f"in place, and the spec has more than {MAX_DEF_USES:,} uses (a "
                           f"definition that uses another twice, nested, doubles them)",
                           e.span)
            raise _Abort
        args = [self.expr(a, scope) for a in e.args]
        bindings = {}
        for p, a in zip(d.params, args):
            pt = a.type
            if p.type is not None:
                pt = self._type(p.type, scope)
                self._expect(a, pt, f"argument {p.name} of {d.name}")
            bindings[p.name] = pt
        # The body sees only its parameters, constants and global names, never the caller's
        # locals: a definition means the same wherever it is used.
        inner = _Scope(locals=bindings, service=None,
                       mode="const" if scope.mode == "const" else "property",
                       defs=scope.defs + (e.func,))
        body = self.expr(d.body, inner)
        if d.result is not None:
            self._expect(body, self._type(d.result, scope), f"the result of {d.name}")
        out = body
        for p, a in reversed(list(zip(d.params, args))):
            out = N.LetE(out.type, name=p.name, value=a, body=out, span=e.span)
        return replace(out, span=e.span) if not d.params else out


#: Uses of definitions expanded in one spec at most (each is expanded in place).
MAX_DEF_USES = 100_000


def _default_handler_name(h: A.HandlerDecl) -> str:
    if h.pattern.kind == "msg" or (h.pattern.kind == "name" and h.pattern.name[:1].isupper()):
        return f"on_{h.pattern.name}"
    return f"on_{h.channel.name}"


def _qn(q: A.QName) -> str:
    return q.service + (f".{q.component}" if q.component else "")


def _qn2(r: A.StepRef) -> str:
    return r.owner + (f".{r.step}" if r.step else "")


def _chan_ref_of(e: A.Expr) -> A.ChanRef | None:
    indices = []
    while isinstance(e, A.Index):
        indices.append(e.index)
        e = e.base
    if isinstance(e, A.Name):
        return A.ChanRef(e.id, tuple(reversed(indices)), span=e.span)
    return None


def _is_const(e: N.Expr) -> bool:
    return not any(isinstance(x, (N.VarRef, N.Local, N.Call)) for x in walk(e))


def _walk(node):
    """Every AST node under ``node`` (iteratively)."""
    stack = [node]
    while stack:
        x = stack.pop()
        yield x
        if not hasattr(x, "__dataclass_fields__"):
            continue
        for name in x.__dataclass_fields__:
            if name == "span":
                continue
            v = getattr(x, name)
            if isinstance(v, A.Node):
                stack.append(v)
            elif isinstance(v, tuple):
                for item in v:
                    if isinstance(item, A.Node):
                        stack.append(item)
                    elif isinstance(item, tuple):
                        stack.extend(i for i in item if isinstance(i, A.Node))


def _diag_key(d: Diagnostic):
    s = d.span
    return (s.file if s else "", s.line if s else 0, s.column if s else 0, d.code)


def lower(module: A.Module, overrides: dict[str, str] | None = None, source: str = "") -> N.Spec:
    """Resolve and type-check a parsed module; raises SpecError listing every error."""
    lowerer = _Lowerer(module, overrides, source)
    try:
        return lowerer.run()
    except _Abort:
        # An error cut a declaration short; everything found so far is reported.
        diags = lowerer._tidy(lowerer.diags)
        if not any(d.severity == "error" for d in diags):
            raise AssertionError("lowering stopped without a diagnostic") from None
        raise SpecError(sorted(diags, key=_diag_key)) from None
