"""The typed IR: every name resolved, every expression typed. All later stages read this.

Expressions carry their :class:`~mscheck.ir.types.Type`; every node carries a source span
that takes no part in equality. ``@frozen`` (:mod:`mscheck._frozen`) is
``@dataclass(frozen=True)``, made without compiling code for each class.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from mscheck._frozen import frozen
from mscheck.diagnostics import Diagnostic, Span
from mscheck.ir.types import Type


def _span():
    return field(default=None, kw_only=True, compare=False, repr=False)


# ---------------------------------------------------------------- expressions


@frozen
class Expr:
    type: Type
    span: Span | None = _span()


@frozen
class Lit(Expr):
    """A literal: int, bool, str, or an atom (a Python str of an AtomT)."""

    value: Any = None


@frozen
class ConstRef(Expr):
    name: str = ""


@frozen
class VarRef(Expr):
    """A state variable: ``owner`` is the service (None for a shared datastore or top-level
    variable); ``index`` selects the instance of a replicated service."""

    owner: str | None = None
    var: str = ""
    index: "Expr | None" = None


@frozen
class ProcVar(Expr):
    """``Inventory.items`` in a property: the parameter of the one live instance of a process
    (reading it when there is not exactly one instance is a domain error)."""

    process: str = ""
    param: str = ""


@frozen
class Local(Expr):
    """A bound name: action or handler parameter, let, quantifier, process parameter."""

    name: str = ""


@frozen
class ChanVal(Expr):
    """A declared channel as a value (``net[p][q]``)."""

    channel: str = ""
    indices: tuple[Expr, ...] = ()


@frozen
class TypeSet(Expr):
    """All values of a finite type, as a set (a type name used as an expression)."""

    of: Type | None = None


@frozen
class Unary(Expr):
    op: str = ""
    operand: Expr | None = None


@frozen
class Binary(Expr):
    op: str = ""
    left: Expr | None = None
    right: Expr | None = None


@frozen
class BoolOp(Expr):
    op: str = ""
    operands: tuple[Expr, ...] = ()


@frozen
class Ite(Expr):
    cond: Expr | None = None
    then: Expr | None = None
    orelse: Expr | None = None


@frozen
class Quant(Expr):
    kind: str = ""
    vars: tuple[tuple[str, Expr], ...] = ()
    body: Expr | None = None


@frozen
class SetLit(Expr):
    elems: tuple[Expr, ...] = ()


@frozen
class SetFilter(Expr):
    var: str = ""
    domain: Expr | None = None
    pred: Expr | None = None


@frozen
class SetMap(Expr):
    expr: Expr | None = None
    vars: tuple[tuple[str, Expr], ...] = ()


@frozen
class RecordLit(Expr):
    fields: tuple[tuple[str, Expr], ...] = ()


@frozen
class TupleLit(Expr):
    elems: tuple[Expr, ...] = ()


@frozen
class SeqLit(Expr):
    elems: tuple[Expr, ...] = ()


@frozen
class MapLit(Expr):
    var: str = ""
    domain: Expr | None = None
    body: Expr | None = None


@frozen
class Index(Expr):
    """Map lookup, sequence element (from 1) or tuple component (from 1)."""

    base: Expr | None = None
    index: Expr | None = None


@frozen
class SubSeq(Expr):
    base: Expr | None = None
    lo: Expr | None = None
    hi: Expr | None = None


@frozen
class Field(Expr):
    base: Expr | None = None
    name: str = ""


@frozen
class PathStep:
    """One step into a value: ``index`` (map key / sequence position) or ``field``."""

    index: Expr | None = None
    field: str | None = None


@frozen
class Update(Expr):
    base: Expr | None = None
    path: tuple[PathStep, ...] = ()
    value: Expr | None = None


@frozen
class Call(Expr):
    """A builtin: card, len, head, tail, append, min, max, abs, pending, dom."""

    func: str = ""
    args: tuple[Expr, ...] = ()


@frozen
class MsgLit(Expr):
    name: str = ""
    args: tuple[Expr, ...] = ()


@frozen
class LetE(Expr):
    """``name = value`` bound in ``body``: what a call of a ``def`` becomes."""

    name: str = ""
    value: Expr | None = None
    body: Expr | None = None


# ---------------------------------------------------------------- statements


@frozen
class Target:
    """Where an assignment writes: a variable and a path into it."""

    owner: str | None
    var: str
    index: Expr | None
    path: tuple[PathStep, ...]
    type: Type
    span: Span | None = _span()


@frozen
class Stmt:
    span: Span | None = _span()


@frozen
class Assign(Stmt):
    target: Target | None = None
    value: Expr | None = None


@frozen
class Send(Stmt):
    channel: Expr | None = None  # a ChanVal or a Local of a ChanT
    payload: Expr | None = None


@frozen
class LetS(Stmt):
    name: str = ""
    value: Expr | None = None


@frozen
class IfS(Stmt):
    branches: tuple[tuple[Expr, tuple[Stmt, ...]], ...] = ()
    orelse: tuple[Stmt, ...] = ()


@frozen
class ChooseS(Stmt):
    vars: tuple[tuple[str, Expr], ...] = ()
    cond: Expr | None = None
    body: tuple[Stmt, ...] = ()


@frozen
class AssertS(Stmt):
    cond: Expr | None = None
    message: str | None = None


@frozen
class SkipS(Stmt):
    pass


# ---------------------------------------------------------------- receive patterns


@frozen
class Pattern:
    """What a receive accepts and binds. ``message`` is set for a message pattern;
    ``vars`` pairs each bound name (``_`` ignores) with its type."""

    message: str | None
    vars: tuple[tuple[str, Type], ...]
    whole: bool = False  # a single name bound to the whole payload


# ---------------------------------------------------------------- processes


@frozen
class Proc:
    span: Span | None = _span()


@frozen
class PNil(Proc):
    pass


@frozen
class PTau(Proc):
    cont: Proc | None = None


@frozen
class POut(Proc):
    channel: Expr | None = None
    payload: Expr | None = None
    cont: Proc | None = None


@frozen
class PIn(Proc):
    channel: Expr | None = None
    pattern: Pattern | None = None
    cont: Proc | None = None


@frozen
class PNew(Proc):
    name: str = ""
    type: Type | None = None
    body: Proc | None = None


@frozen
class PIf(Proc):
    cond: Expr | None = None
    then: Proc | None = None
    orelse: Proc | None = None


@frozen
class PRepl(Proc):
    """``![bound] c?(x). P``: a server that keeps at most ``bound`` copies of P alive."""

    bound: int = 1
    channel: Expr | None = None
    pattern: Pattern | None = None
    body: Proc | None = None


@frozen
class PCall(Proc):
    name: str = ""
    args: tuple[Expr, ...] = ()


@frozen
class PChoice(Proc):
    alternatives: tuple[Proc, ...] = ()


@frozen
class PPar(Proc):
    parts: tuple[Proc, ...] = ()


@frozen
class ProcessDef:
    name: str
    params: tuple[tuple[str, Type], ...]
    service: str | None
    body: Proc
    span: Span | None = _span()


# ---------------------------------------------------------------- declarations


@frozen
class Constant:
    name: str
    type: Type
    value: Any  # None when the constant is symbolic and no value was given
    where: Expr | None = None
    symbolic: bool = False  # declared with a type: a proof may keep it open
    overridden: bool = False
    span: Span | None = _span()


@frozen
class Message:
    name: str
    fields: tuple[tuple[str, Type], ...]
    span: Span | None = _span()


@frozen
class Channel:
    name: str
    indices: tuple[tuple[str, Expr], ...]
    index_values: tuple[tuple[Any, ...], ...]  # the values of each index domain
    kind: str  # sync | fifo | bag | set | log
    capacity: int | None
    payload: Type
    flags: tuple[str, ...]
    init: Expr | None = None  # initial contents; the index names are bound in it
    span: Span | None = _span()


@frozen
class Var:
    name: str
    type: Type
    init: Expr | None  # None: the type's default (false, lower bound, first value, empty)
    init_kind: str  # value | choice | default
    durable: bool
    owner: str | None  # service, or None for a shared variable
    store: str | None = None  # the datastore that declares a shared variable
    span: Span | None = _span()


@frozen
class Action:
    name: str
    service: str
    params: tuple[tuple[str, Expr], ...]
    guard: Expr | None
    body: tuple[Stmt, ...]
    span: Span | None = _span()


@frozen
class Handler:
    name: str
    service: str
    params: tuple[tuple[str, Expr], ...]
    channel: Expr
    pattern: Pattern
    guard: Expr | None
    body: tuple[Stmt, ...]
    span: Span | None = _span()


@frozen
class Service:
    name: str
    index: tuple[str, Expr] | None  # (variable, domain) of a replicated service
    index_values: tuple[Any, ...] | None
    context: str | None
    crashable: bool
    components: tuple[str, ...]
    vars: tuple[Var, ...]
    actions: tuple[Action, ...]
    handlers: tuple[Handler, ...]
    end_when: Expr | None
    span: Span | None = _span()

    @property
    def has_behaviour(self) -> bool:
        return bool(self.vars or self.actions or self.handlers)


@frozen
class Datastore:
    name: str
    owner: str | None
    context: str | None
    vars: tuple[str, ...]
    span: Span | None = _span()


@frozen
class Topic:
    name: str
    context: str | None
    span: Span | None = _span()


@frozen
class Team:
    name: str
    owns: tuple[str, ...]
    span: Span | None = _span()


@frozen
class Relation:
    """An architecture relation. ``kind`` is calls, publishes, subscribes, reads or writes."""

    kind: str
    source: str
    source_component: str | None
    target: str
    target_component: str | None
    weight: int | None
    span: Span | None = _span()


@frozen
class ContextRelation:
    upstream: str  # for "<->" relations: the left context
    downstream: str
    symmetric: bool
    kinds: tuple[str, ...]
    upstream_roles: tuple[str, ...]
    downstream_roles: tuple[str, ...]
    weight: int | None
    span: Span | None = _span()


@frozen
class StepRef:
    """A step named by fairness or progress: kind is action, handler, service or process."""

    kind: str
    owner: str
    step: str | None
    span: Span | None = _span()


@frozen
class Property:
    """invariant, reachable, eventually, always_eventually, leadsto or constraint."""

    kind: str
    name: str
    expr: Expr
    target: Expr | None = None
    span: Span | None = _span()


@frozen
class Fairness:
    strength: str  # weak | strong
    step: StepRef
    span: Span | None = _span()


@frozen
class Prove:
    name: str
    using: tuple[str, ...]
    span: Span | None = _span()


@frozen
class Spec:
    """A whole checked spec."""

    name: str
    file: str
    constants: dict[str, Constant]
    types: dict[str, Type]
    atoms: frozenset[str]
    messages: dict[str, Message]
    channels: dict[str, Channel]
    services: dict[str, Service]
    shared_vars: dict[str, Var]
    datastores: dict[str, Datastore]
    contexts: dict[str, Span | None]
    topics: dict[str, Topic]
    teams: dict[str, Team]
    relations: tuple[Relation, ...]
    context_relations: tuple[ContextRelation, ...]
    processes: dict[str, ProcessDef]
    init: Proc | None
    properties: tuple[Property, ...]
    deadlock_free: bool
    fairness: tuple[Fairness, ...]
    progress: tuple[StepRef, ...]
    proves: tuple[Prove, ...]
    valid_end: tuple[str, ...]
    warnings: tuple[Diagnostic, ...] = ()
    source: str = field(default="", repr=False, compare=False)

    def properties_of(self, kind: str) -> tuple[Property, ...]:
        return tuple(p for p in self.properties if p.kind == kind)

    def _repr_markdown_(self) -> str:
        """A summary for notebooks."""
        parts = [f"**system {self.name}** ({self.file})",
                 f"- services: {', '.join(self.services) or 'none'}",
                 f"- contexts: {', '.join(self.contexts) or 'none'}",
                 f"- channels: {', '.join(self.channels) or 'none'}"]
        if self.processes:
            parts.append(f"- processes: {', '.join(self.processes)}")
        props = [f"{p.kind} {p.name}" for p in self.properties]
        parts.append(f"- properties: {', '.join(props) or 'none'}")
        return "\n".join(parts)
