"""The syntax tree of a .ms file: frozen dataclasses, each with a source span.

Spans never take part in equality, so two trees that differ only in layout are equal.
Names are plain strings here; :mod:`mscheck.ir.lower` resolves them.
``@frozen`` (:mod:`mscheck._frozen`) is ``@dataclass(frozen=True)``, made without compiling
code for each class.
"""

from __future__ import annotations

import sys
from dataclasses import field

from mscheck._frozen import frozen
from mscheck.diagnostics import Span

# trees nest up to the parser's MAX_DEPTH levels, and their making, pickling and lowering
# recurse through them
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))


@frozen
class Node:
    span: Span | None = field(default=None, kw_only=True, compare=False, repr=False)


# ---------------------------------------------------------------- types


@frozen
class NamedType(Node):
    name: str


@frozen
class BoolType(Node):
    pass


@frozen
class IntType(Node):
    pass


@frozen
class StrType(Node):
    pass


@frozen
class RangeType(Node):
    lo: "Expr"
    hi: "Expr"


@frozen
class EnumType(Node):
    values: tuple[str, ...]


@frozen
class FieldDecl(Node):
    name: str
    type: "TypeExpr"


@frozen
class RecordType(Node):
    fields: tuple[FieldDecl, ...]


@frozen
class SetType(Node):
    elem: "TypeExpr"


@frozen
class MapType(Node):
    key: "TypeExpr"
    value: "TypeExpr"


@frozen
class SeqType(Node):
    elem: "TypeExpr"
    max: "Expr"


@frozen
class ChanType(Node):
    payload: "TypeExpr"


@frozen
class TupleType(Node):
    elems: tuple["TypeExpr", ...]


@frozen
class UnionType(Node):
    alternatives: tuple["TypeExpr", ...]


TypeExpr = (
    NamedType | BoolType | IntType | StrType | RangeType | EnumType | RecordType | SetType
    | MapType | SeqType | ChanType | TupleType | UnionType
)

# ---------------------------------------------------------------- expressions


@frozen
class IntLit(Node):
    value: int


@frozen
class StrLit(Node):
    value: str


@frozen
class BoolLit(Node):
    value: bool


@frozen
class Name(Node):
    id: str


@frozen
class Call(Node):
    func: str
    args: tuple["Expr", ...]


@frozen
class Index(Node):
    base: "Expr"
    index: "Expr"


@frozen
class FieldAccess(Node):
    base: "Expr"
    name: str


@frozen
class UpdateStep(Node):
    """One step of an update path: ``[e]`` (index is an Expr) or ``.f`` (field is a str)."""

    index: "Expr | None" = None
    field_name: str | None = None


@frozen
class Update(Node):
    base: "Expr"
    path: tuple[UpdateStep, ...]
    value: "Expr"


@frozen
class Unary(Node):
    op: str  # "not" | "-"
    operand: "Expr"


@frozen
class Binary(Node):
    op: str
    left: "Expr"
    right: "Expr"


@frozen
class BoolOp(Node):
    """``a and b and c`` / ``a or b``: n-ary, so long conjunctions stay shallow."""

    op: str  # "and" | "or"
    operands: tuple["Expr", ...]


@frozen
class Binder(Node):
    names: tuple[str, ...]
    domain: "Expr"


@frozen
class Quant(Node):
    kind: str  # "forall" | "exists"
    binders: tuple[Binder, ...]
    body: "Expr"


@frozen
class Ite(Node):
    cond: "Expr"
    then: "Expr"
    orelse: "Expr"


@frozen
class SetLit(Node):
    elems: tuple["Expr", ...]


@frozen
class SetFilter(Node):
    var: str
    domain: "Expr"
    pred: "Expr"


@frozen
class SetMap(Node):
    expr: "Expr"
    binders: tuple[Binder, ...]


@frozen
class RecordLit(Node):
    fields: tuple[tuple[str, "Expr"], ...]


@frozen
class TupleLit(Node):
    elems: tuple["Expr", ...]


@frozen
class SeqLit(Node):
    elems: tuple["Expr", ...]


@frozen
class MapLit(Node):
    var: str
    domain: "Expr"
    body: "Expr"


Expr = (
    IntLit | StrLit | BoolLit | Name | Call | Index | FieldAccess | Update | Unary | Binary
    | BoolOp | Quant | Ite | SetLit | SetFilter | SetMap | RecordLit | TupleLit | SeqLit | MapLit
)

# ---------------------------------------------------------------- statements


@frozen
class LValue(Node):
    """``x``, ``x[e]``, ``x.f`` and combinations; path steps as in :class:`Update`."""

    name: str
    path: tuple[UpdateStep, ...] = ()


@frozen
class ChanRef(Node):
    name: str
    indices: tuple["Expr", ...] = ()


@frozen
class Payload(Node):
    """What a send carries: a message ``M(args)``, a tuple ``(args)``, or a bare name."""

    kind: str  # "msg" | "tuple" | "name"
    name: str | None
    args: tuple["Expr", ...]


@frozen
class Pattern(Node):
    """What a receive binds: ``M(x, y)``, ``(x, y)`` or a bare name; ``_`` ignores a value."""

    kind: str  # "msg" | "tuple" | "name"
    name: str | None
    vars: tuple[str, ...]


@frozen
class Assign(Node):
    target: LValue
    value: "Expr"


@frozen
class Send(Node):
    channel: ChanRef
    payload: Payload


@frozen
class Let(Node):
    name: str
    value: "Expr"


@frozen
class If(Node):
    branches: tuple[tuple["Expr", tuple["Stmt", ...]], ...]
    orelse: tuple["Stmt", ...] | None


@frozen
class Choose(Node):
    binders: tuple[Binder, ...]
    cond: "Expr | None"
    body: tuple["Stmt", ...]


@frozen
class Assert(Node):
    cond: "Expr"
    message: str | None


@frozen
class Skip(Node):
    pass


Stmt = Assign | Send | Let | If | Choose | Assert | Skip

# ---------------------------------------------------------------- processes


@frozen
class PNil(Node):
    pass


@frozen
class PTau(Node):
    pass


@frozen
class POut(Node):
    channel: ChanRef
    payload: Payload


@frozen
class PIn(Node):
    channel: ChanRef
    pattern: Pattern


Prefix = PTau | POut | PIn


@frozen
class PPrefix(Node):
    prefix: Prefix
    cont: "Proc"


@frozen
class PNew(Node):
    name: str
    type: TypeExpr | None
    body: "Proc"


@frozen
class PIf(Node):
    cond: "Expr"
    then: "Proc"
    orelse: "Proc"


@frozen
class PMatch(Node):
    cond: "Expr"
    body: "Proc"


@frozen
class PRepl(Node):
    bound: "Expr"
    prefix: PIn
    body: "Proc"


@frozen
class PCall(Node):
    name: str
    args: tuple["Expr", ...]


@frozen
class PChoice(Node):
    alternatives: tuple["Proc", ...]


@frozen
class PPar(Node):
    parts: tuple["Proc", ...]


Proc = PNil | PPrefix | PNew | PIf | PMatch | PRepl | PCall | PChoice | PPar

# ---------------------------------------------------------------- declarations


@frozen
class SystemDecl(Node):
    name: str


@frozen
class ConstDecl(Node):
    name: str
    type: TypeExpr | None
    where: "Expr | None"
    value: "Expr | None"


@frozen
class TypeDecl(Node):
    name: str
    type: TypeExpr


@frozen
class DefParam(Node):
    name: str
    type: TypeExpr | None


@frozen
class DefDecl(Node):
    name: str
    params: tuple[DefParam, ...]
    result: TypeExpr | None
    body: "Expr"


@frozen
class MessageDecl(Node):
    name: str
    fields: tuple[FieldDecl, ...]


@frozen
class IndexDecl(Node):
    name: str
    domain: "Expr"


@frozen
class ChannelDecl(Node):
    name: str
    indices: tuple[IndexDecl, ...]
    kind: str  # sync | fifo | bag | set | log
    capacity: "Expr | None"
    payload: TypeExpr
    flags: tuple[str, ...]
    init: "Expr | None" = None  # initial contents


@frozen
class VarDecl(Node):
    name: str
    type: TypeExpr | None  # None: the type of the initial value
    init: "Expr | None"
    init_kind: str  # "value" | "choice" | "default"
    durable: bool = False


@frozen
class ActionDecl(Node):
    name: str
    params: tuple[Binder, ...]
    guard: "Expr | None"
    body: tuple[Stmt, ...]


@frozen
class HandlerDecl(Node):
    label: str | None
    params: tuple[Binder, ...]
    channel: ChanRef
    pattern: Pattern
    guard: "Expr | None"
    body: tuple[Stmt, ...]


@frozen
class ComponentDecl(Node):
    name: str


@frozen
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


@frozen
class DatastoreDecl(Node):
    name: str
    owner: str | None
    owner_span: Span | None = field(compare=False)
    context: str | None
    vars: tuple[VarDecl, ...]


@frozen
class TopicDecl(Node):
    name: str
    context: str | None


@frozen
class ContextDecl(Node):
    name: str


@frozen
class TeamDecl(Node):
    name: str
    owns: tuple[tuple[str, Span | None], ...]


@frozen
class QName(Node):
    service: str
    component: str | None


@frozen
class RelationDecl(Node):
    kind: str  # calls | publishes | subscribes | reads | writes
    source: QName
    targets: tuple[QName, ...]
    weight: int | None


@frozen
class ContextSide(Node):
    name: str
    roles: tuple[str, ...]


@frozen
class ContextRelDecl(Node):
    left: ContextSide
    arrow: str  # "->" (left is upstream) | "<->"
    right: ContextSide
    kinds: tuple[str, ...]
    weight: int | None


@frozen
class ProcessDecl(Node):
    name: str
    params: tuple[FieldDecl, ...]
    service: str | None
    body: Proc


@frozen
class InitDecl(Node):
    proc: Proc


@frozen
class StepRef(Node):
    owner: str
    step: str | None


@frozen
class PropertyDecl(Node):
    """invariant / reachable / eventually / always_eventually / leadsto / constraint."""

    kind: str
    name: str | None
    expr: "Expr"
    target: "Expr | None" = None  # the right side of leadsto


@frozen
class DeadlockDecl(Node):
    pass


@frozen
class FairnessDecl(Node):
    items: tuple[tuple[str, StepRef], ...]


@frozen
class ProgressDecl(Node):
    steps: tuple[StepRef, ...]


@frozen
class ProveDecl(Node):
    name: str
    using: tuple[str, ...]


@frozen
class EndDecl(Node):
    names: tuple[str, ...]


Decl = (
    SystemDecl | ConstDecl | TypeDecl | DefDecl | MessageDecl | ChannelDecl | VarDecl
    | ServiceDecl | DatastoreDecl | TopicDecl | ContextDecl | TeamDecl | RelationDecl
    | ContextRelDecl | ProcessDecl | InitDecl | PropertyDecl | DeadlockDecl | FairnessDecl
    | ProgressDecl | ProveDecl | EndDecl
)


@frozen
class Module(Node):
    """One parsed file: its declarations in source order."""

    file: str
    decls: tuple[Decl, ...]
