"""The syntax tree of a .ms file: frozen dataclasses, each with a source span.

Spans never take part in equality, so two trees that differ only in layout are equal.
Names are plain strings here; :mod:`mscheck.ir.lower` resolves them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mscheck.diagnostics import Span


@dataclass(frozen=True)
class Node:
    span: Span | None = field(default=None, kw_only=True, compare=False, repr=False)


# ---------------------------------------------------------------- types


@dataclass(frozen=True)
class NamedType(Node):
    name: str


@dataclass(frozen=True)
class BoolType(Node):
    pass


@dataclass(frozen=True)
class IntType(Node):
    pass


@dataclass(frozen=True)
class StrType(Node):
    pass


@dataclass(frozen=True)
class RangeType(Node):
    lo: "Expr"
    hi: "Expr"


@dataclass(frozen=True)
class EnumType(Node):
    values: tuple[str, ...]


@dataclass(frozen=True)
class FieldDecl(Node):
    name: str
    type: "TypeExpr"


@dataclass(frozen=True)
class RecordType(Node):
    fields: tuple[FieldDecl, ...]


@dataclass(frozen=True)
class SetType(Node):
    elem: "TypeExpr"


@dataclass(frozen=True)
class MapType(Node):
    key: "TypeExpr"
    value: "TypeExpr"


@dataclass(frozen=True)
class SeqType(Node):
    elem: "TypeExpr"
    max: "Expr"


@dataclass(frozen=True)
class ChanType(Node):
    payload: "TypeExpr"


@dataclass(frozen=True)
class TupleType(Node):
    elems: tuple["TypeExpr", ...]


@dataclass(frozen=True)
class UnionType(Node):
    alternatives: tuple["TypeExpr", ...]


TypeExpr = (
    NamedType | BoolType | IntType | StrType | RangeType | EnumType | RecordType | SetType
    | MapType | SeqType | ChanType | TupleType | UnionType
)

# ---------------------------------------------------------------- expressions


@dataclass(frozen=True)
class IntLit(Node):
    value: int


@dataclass(frozen=True)
class StrLit(Node):
    value: str


@dataclass(frozen=True)
class BoolLit(Node):
    value: bool


@dataclass(frozen=True)
class Name(Node):
    id: str


@dataclass(frozen=True)
class Call(Node):
    func: str
    args: tuple["Expr", ...]


@dataclass(frozen=True)
class Index(Node):
    base: "Expr"
    index: "Expr"


@dataclass(frozen=True)
class FieldAccess(Node):
    base: "Expr"
    name: str


@dataclass(frozen=True)
class UpdateStep(Node):
    """One step of an update path: ``[e]`` (index is an Expr) or ``.f`` (field is a str)."""

    index: "Expr | None" = None
    field_name: str | None = None


@dataclass(frozen=True)
class Update(Node):
    base: "Expr"
    path: tuple[UpdateStep, ...]
    value: "Expr"


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "not" | "-"
    operand: "Expr"


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class BoolOp(Node):
    """``a and b and c`` / ``a or b``: n-ary, so long conjunctions stay shallow."""

    op: str  # "and" | "or"
    operands: tuple["Expr", ...]


@dataclass(frozen=True)
class Binder(Node):
    names: tuple[str, ...]
    domain: "Expr"


@dataclass(frozen=True)
class Quant(Node):
    kind: str  # "forall" | "exists"
    binders: tuple[Binder, ...]
    body: "Expr"


@dataclass(frozen=True)
class Ite(Node):
    cond: "Expr"
    then: "Expr"
    orelse: "Expr"


@dataclass(frozen=True)
class SetLit(Node):
    elems: tuple["Expr", ...]


@dataclass(frozen=True)
class SetFilter(Node):
    var: str
    domain: "Expr"
    pred: "Expr"


@dataclass(frozen=True)
class SetMap(Node):
    expr: "Expr"
    binders: tuple[Binder, ...]


@dataclass(frozen=True)
class RecordLit(Node):
    fields: tuple[tuple[str, "Expr"], ...]


@dataclass(frozen=True)
class TupleLit(Node):
    elems: tuple["Expr", ...]


@dataclass(frozen=True)
class SeqLit(Node):
    elems: tuple["Expr", ...]


@dataclass(frozen=True)
class MapLit(Node):
    var: str
    domain: "Expr"
    body: "Expr"


Expr = (
    IntLit | StrLit | BoolLit | Name | Call | Index | FieldAccess | Update | Unary | Binary
    | BoolOp | Quant | Ite | SetLit | SetFilter | SetMap | RecordLit | TupleLit | SeqLit | MapLit
)

# ---------------------------------------------------------------- statements


@dataclass(frozen=True)
class LValue(Node):
    """``x``, ``x[e]``, ``x.f`` and combinations; path steps as in :class:`Update`."""

    name: str
    path: tuple[UpdateStep, ...] = ()


@dataclass(frozen=True)
class ChanRef(Node):
    name: str
    indices: tuple["Expr", ...] = ()


@dataclass(frozen=True)
class Payload(Node):
    """What a send carries: a message ``M(args)``, a tuple ``(args)``, or a bare name."""

    kind: str  # "msg" | "tuple" | "name"
    name: str | None
    args: tuple["Expr", ...]


@dataclass(frozen=True)
class Pattern(Node):
    """What a receive binds: ``M(x, y)``, ``(x, y)`` or a bare name; ``_`` ignores a value."""

    kind: str  # "msg" | "tuple" | "name"
    name: str | None
    vars: tuple[str, ...]


@dataclass(frozen=True)
class Assign(Node):
    target: LValue
    value: "Expr"


@dataclass(frozen=True)
class Send(Node):
    channel: ChanRef
    payload: Payload


@dataclass(frozen=True)
class Let(Node):
    name: str
    value: "Expr"


@dataclass(frozen=True)
class If(Node):
    branches: tuple[tuple["Expr", tuple["Stmt", ...]], ...]
    orelse: tuple["Stmt", ...] | None


@dataclass(frozen=True)
class Choose(Node):
    binders: tuple[Binder, ...]
    cond: "Expr | None"
    body: tuple["Stmt", ...]


@dataclass(frozen=True)
class Assert(Node):
    cond: "Expr"
    message: str | None


@dataclass(frozen=True)
class Skip(Node):
    pass


Stmt = Assign | Send | Let | If | Choose | Assert | Skip

# ---------------------------------------------------------------- processes


@dataclass(frozen=True)
class PNil(Node):
    pass


@dataclass(frozen=True)
class PTau(Node):
    pass


@dataclass(frozen=True)
class POut(Node):
    channel: ChanRef
    payload: Payload


@dataclass(frozen=True)
class PIn(Node):
    channel: ChanRef
    pattern: Pattern


Prefix = PTau | POut | PIn


@dataclass(frozen=True)
class PPrefix(Node):
    prefix: Prefix
    cont: "Proc"


@dataclass(frozen=True)
class PNew(Node):
    name: str
    type: TypeExpr | None
    body: "Proc"


@dataclass(frozen=True)
class PIf(Node):
    cond: "Expr"
    then: "Proc"
    orelse: "Proc"


@dataclass(frozen=True)
class PMatch(Node):
    cond: "Expr"
    body: "Proc"


@dataclass(frozen=True)
class PRepl(Node):
    bound: "Expr"
    prefix: PIn
    body: "Proc"


@dataclass(frozen=True)
class PCall(Node):
    name: str
    args: tuple["Expr", ...]


@dataclass(frozen=True)
class PChoice(Node):
    alternatives: tuple["Proc", ...]


@dataclass(frozen=True)
class PPar(Node):
    parts: tuple["Proc", ...]


Proc = PNil | PPrefix | PNew | PIf | PMatch | PRepl | PCall | PChoice | PPar

# ---------------------------------------------------------------- declarations


@dataclass(frozen=True)
class SystemDecl(Node):
    name: str


@dataclass(frozen=True)
class ConstDecl(Node):
    name: str
    type: TypeExpr | None
    where: "Expr | None"
    value: "Expr | None"


@dataclass(frozen=True)
class TypeDecl(Node):
    name: str
    type: TypeExpr


@dataclass(frozen=True)
class DefParam(Node):
    name: str
    type: TypeExpr | None


@dataclass(frozen=True)
class DefDecl(Node):
    name: str
    params: tuple[DefParam, ...]
    result: TypeExpr | None
    body: "Expr"


@dataclass(frozen=True)
class MessageDecl(Node):
    name: str
    fields: tuple[FieldDecl, ...]


@dataclass(frozen=True)
class IndexDecl(Node):
    name: str
    domain: "Expr"


@dataclass(frozen=True)
class ChannelDecl(Node):
    name: str
    indices: tuple[IndexDecl, ...]
    kind: str  # sync | fifo | bag | set | log
    capacity: "Expr | None"
    payload: TypeExpr
    flags: tuple[str, ...]
    init: "Expr | None" = None  # initial contents


@dataclass(frozen=True)
class VarDecl(Node):
    name: str
    type: TypeExpr | None  # None: the type of the initial value
    init: "Expr | None"
    init_kind: str  # "value" | "choice" | "default"
    durable: bool = False


@dataclass(frozen=True)
class ActionDecl(Node):
    name: str
    params: tuple[Binder, ...]
    guard: "Expr | None"
    body: tuple[Stmt, ...]


@dataclass(frozen=True)
class HandlerDecl(Node):
    label: str | None
    params: tuple[Binder, ...]
    channel: ChanRef
    pattern: Pattern
    guard: "Expr | None"
    body: tuple[Stmt, ...]


@dataclass(frozen=True)
class ComponentDecl(Node):
    name: str


@dataclass(frozen=True)
class ServiceDecl(Node):
    name: str
    replica: IndexDecl | None
    context: str | None
    crashable: bool
    components: tuple[ComponentDecl, ...]
    vars: tuple[VarDecl, ...]
    actions: tuple[ActionDecl, ...]
    handlers: tuple[HandlerDecl, ...]
    end_when: "Expr | None"


@dataclass(frozen=True)
class DatastoreDecl(Node):
    name: str
    owner: str | None
    owner_span: Span | None = field(compare=False)
    context: str | None
    vars: tuple[VarDecl, ...]


@dataclass(frozen=True)
class TopicDecl(Node):
    name: str
    context: str | None


@dataclass(frozen=True)
class ContextDecl(Node):
    name: str


@dataclass(frozen=True)
class TeamDecl(Node):
    name: str
    owns: tuple[tuple[str, Span | None], ...]


@dataclass(frozen=True)
class QName(Node):
    service: str
    component: str | None


@dataclass(frozen=True)
class RelationDecl(Node):
    kind: str  # calls | publishes | subscribes | reads | writes
    source: QName
    targets: tuple[QName, ...]
    weight: int | None


@dataclass(frozen=True)
class ContextSide(Node):
    name: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class ContextRelDecl(Node):
    left: ContextSide
    arrow: str  # "->" (left is upstream) | "<->"
    right: ContextSide
    kinds: tuple[str, ...]
    weight: int | None


@dataclass(frozen=True)
class ProcessDecl(Node):
    name: str
    params: tuple[FieldDecl, ...]
    service: str | None
    body: Proc


@dataclass(frozen=True)
class InitDecl(Node):
    proc: Proc


@dataclass(frozen=True)
class StepRef(Node):
    owner: str
    step: str | None


@dataclass(frozen=True)
class PropertyDecl(Node):
    """invariant / reachable / eventually / always_eventually / leadsto / constraint."""

    kind: str
    name: str | None
    expr: "Expr"
    target: "Expr | None" = None  # the right side of leadsto


@dataclass(frozen=True)
class DeadlockDecl(Node):
    pass


@dataclass(frozen=True)
class FairnessDecl(Node):
    items: tuple[tuple[str, StepRef], ...]


@dataclass(frozen=True)
class ProgressDecl(Node):
    steps: tuple[StepRef, ...]


@dataclass(frozen=True)
class ProveDecl(Node):
    name: str
    using: tuple[str, ...]


@dataclass(frozen=True)
class EndDecl(Node):
    names: tuple[str, ...]


Decl = (
    SystemDecl | ConstDecl | TypeDecl | DefDecl | MessageDecl | ChannelDecl | VarDecl
    | ServiceDecl | DatastoreDecl | TopicDecl | ContextDecl | TeamDecl | RelationDecl
    | ContextRelDecl | ProcessDecl | InitDecl | PropertyDecl | DeadlockDecl | FairnessDecl
    | ProgressDecl | ProveDecl | EndDecl
)


@dataclass(frozen=True)
class Module(Node):
    """One parsed file: its declarations in source order."""

    file: str
    decls: tuple[Decl, ...]
