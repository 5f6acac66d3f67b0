"""Text to syntax tree: exact trees (spans take no part in equality), precedence, and the
position and code of syntax errors."""

from __future__ import annotations

import dataclasses

import pytest

from mscheck.diagnostics import SpecError, Span
from mscheck.lang import ast as A
from mscheck.lang.parser import parse

N = A.Name
I = A.IntLit  # noqa: E741


def expr(text: str) -> A.Expr:
    (decl,) = parse(f"invariant P: {text}").decls
    return decl.expr


def decls(text: str) -> tuple:
    return parse(text, "t.ms").decls


def one(text: str):
    (d,) = decls(text)
    return d


def syntax_error(text: str):
    with pytest.raises(SpecError) as info:
        parse(text, "t.ms")
    (d,) = info.value.diagnostics
    return d


def test_spans_do_not_take_part_in_equality():
    a = N("x", span=Span("a.ms", 1, 1))
    b = N("x", span=Span("b.ms", 9, 9))
    assert a == b
    assert decls("const N = 1 + 2") == decls("const N =\n   1+2   # same tree")


# ---------------------------------------------------------------- precedence


def _and(*xs):
    return A.BoolOp("and", xs)


def _or(*xs):
    return A.BoolOp("or", xs)


def _bin(op, left, right):
    return A.Binary(op, left, right)


@pytest.mark.parametrize("text, tree", [
    ("a or b and c", _or(N("a"), _and(N("b"), N("c")))),
    ("a and b or c", _or(_and(N("a"), N("b")), N("c"))),
    ("a or b or c", _or(N("a"), N("b"), N("c"))),
    ("not a == b", A.Unary("not", _bin("==", N("a"), N("b")))),
    ("not a and b", _and(A.Unary("not", N("a")), N("b"))),
    ("a => b => c", _bin("=>", N("a"), _bin("=>", N("b"), N("c")))),
    ("a <=> b <=> c", _bin("<=>", _bin("<=>", N("a"), N("b")), N("c"))),
    ("a and b => c or d", _bin("=>", _and(N("a"), N("b")), _or(N("c"), N("d")))),
    ("1 + 2 * 3", _bin("+", I(1), _bin("*", I(2), I(3)))),
    ("1 - 2 - 3", _bin("-", _bin("-", I(1), I(2)), I(3))),
    ("a div b mod c", _bin("mod", _bin("div", N("a"), N("b")), N("c"))),
    ("S union T inter U", _bin("union", N("S"), _bin("inter", N("T"), N("U")))),
    ("s ++ t ++ u", _bin("++", _bin("++", N("s"), N("t")), N("u"))),
    ("-x.f[1]", A.Unary("-", A.Index(A.FieldAccess(N("x"), "f"), I(1)))),
    ("- - 1", A.Unary("-", A.Unary("-", I(1)))),
    ("x + 1 < y * 2", _bin("<", _bin("+", N("x"), I(1)), _bin("*", N("y"), I(2)))),
    ("0..N + 1", _bin("..", I(0), _bin("+", N("N"), I(1)))),
    ("x in 1..3", _bin("in", N("x"), _bin("..", I(1), I(3)))),
    ("x notin S", _bin("notin", N("x"), N("S"))),
    ("S subset T union U", _bin("subset", N("S"), _bin("union", N("T"), N("U")))),
    ("(a or b) and c", _and(_or(N("a"), N("b")), N("c"))),
    ("if a then 1 else 2 + 3", A.Ite(N("a"), I(1), _bin("+", I(2), I(3)))),
    ("if a then b else c and d", A.Ite(N("a"), N("b"), _and(N("c"), N("d")))),
])
def test_precedence(text, tree):
    assert expr(text) == tree


def test_quantifier_body_extends_to_the_right():
    forall = A.Quant("forall", (A.Binder(("x",), N("S")),), _and(N("p"), N("q")))
    assert expr("forall x in S: p and q") == forall
    assert expr("a and forall x in S: p and q") == _and(N("a"), forall)
    assert expr("exists x, y in S, z in T: x == z") == A.Quant(
        "exists", (A.Binder(("x", "y"), N("S")), A.Binder(("z",), N("T"))),
        _bin("==", N("x"), N("z")))
    assert expr("not exists r in RM: p") == A.Unary(
        "not", A.Quant("exists", (A.Binder(("r",), N("RM")),), N("p")))


def test_comparisons_do_not_chain():
    d = syntax_error("invariant P: a == b == c")
    assert (d.span.line, d.span.column) == (1, 21)
    assert d.code == "MS100"
    assert d.message == "unexpected '=='"


# ---------------------------------------------------------------- brace and bracket forms


@pytest.mark.parametrize("text, tree", [
    ("x in S", _bin("in", N("x"), N("S"))),
    ("{x in S}", A.SetLit((_bin("in", N("x"), N("S")),))),
    ("{}", A.SetLit(())),
    ("{1, 2, 3}", A.SetLit((I(1), I(2), I(3)))),
    ("{x in S : x > 1}", A.SetFilter("x", N("S"), _bin(">", N("x"), I(1)))),
    ("{f(x) : x in S}", A.SetMap(A.Call("f", (N("x"),)), (A.Binder(("x",), N("S")),))),
    ("{x : x in S}", A.SetMap(N("x"), (A.Binder(("x",), N("S")),))),
    ("{x + y : x in S, y in T}", A.SetMap(_bin("+", N("x"), N("y")),
                                          (A.Binder(("x",), N("S")), A.Binder(("y",), N("T"))))),
    ("{holder: 1, clean: false}", A.RecordLit((("holder", I(1)), ("clean", A.BoolLit(False))))),
    ("{holder: 1}", A.RecordLit((("holder", I(1)),))),
    ("[x in S |-> x + 1]", A.MapLit("x", N("S"), _bin("+", N("x"), I(1)))),
    ("[]", A.SeqLit(())),
    ("[1, 2]", A.SeqLit((I(1), I(2)))),
    ("(1, true)", A.TupleLit((I(1), A.BoolLit(True)))),
    ("(1)", I(1)),
    ('"hi"', A.StrLit("hi")),
    ("s[1..2]", A.Index(N("s"), _bin("..", I(1), I(2)))),
    ("m with [k] = 1", A.Update(N("m"), (A.UpdateStep(index=N("k")),), I(1))),
    ("m with [k].f = 1 + 2", A.Update(N("m"), (A.UpdateStep(index=N("k")),
                                               A.UpdateStep(field_name="f")),
                                      _bin("+", I(1), I(2)))),
    ("card(S) + len(s)", _bin("+", A.Call("card", (N("S"),)), A.Call("len", (N("s"),)))),
    ("Worker[w].done", A.FieldAccess(A.Index(N("Worker"), N("w")), "done")),
])
def test_literal_forms(text, tree):
    assert expr(text) == tree


@pytest.mark.parametrize("text, message", [
    ("{1 : 2}", "cannot read this brace expression: write a set {a, b}, a filter {x in S : p}, "
                "a map {f(x) : x in S} or a record {field: value}"),
    ("[1 |-> 2]", "a map literal is written [x in S |-> e]"),
])
def test_malformed_brace_forms(text, message):
    d = syntax_error(f"invariant P: {text} == {text}")
    assert (d.code, d.message, d.span.line) == ("MS100", message, 1)


# ---------------------------------------------------------------- types


@pytest.mark.parametrize("text, tree", [
    ("bool", A.BoolType()),
    ("0..N", A.RangeType(I(0), N("N"))),
    ("-2..2", A.RangeType(I(-2), I(2))),
    ("{a, b}", A.EnumType(("a", "b"))),
    ("{x: bool, y: int}", A.RecordType((A.FieldDecl("x", A.BoolType()),
                                        A.FieldDecl("y", A.IntType())))),
    ("set of RM", A.SetType(A.NamedType("RM"))),
    ("[0..N -> set of {a, b}]", A.MapType(A.RangeType(I(0), N("N")),
                                          A.SetType(A.EnumType(("a", "b"))))),
    ("seq of int max 3", A.SeqType(A.IntType(), I(3))),
    ("chan of (bool, str)", A.ChanType(A.TupleType((A.BoolType(), A.StrType())))),
    ("Prepared | Commit | Abort", A.UnionType((A.NamedType("Prepared"), A.NamedType("Commit"),
                                               A.NamedType("Abort")))),
])
def test_types(text, tree):
    assert one(f"type T = {text}") == A.TypeDecl("T", tree)


# ---------------------------------------------------------------- declarations


def test_constants_and_definitions():
    assert decls("""
        system TwoPhase
        const N = 3
        const RM = {r1, r2}
        const K: int where K >= 1 = 2
        const L: 0..3
        def right(p: 0..N): 0..N = if p == N then 1 else p + 1
        def two = 2
        message Prepared(rm: RM, n: 0..N)
        message Commit
    """) == (
        A.SystemDecl("TwoPhase"),
        A.ConstDecl("N", None, None, I(3)),
        A.ConstDecl("RM", None, None, A.SetLit((N("r1"), N("r2")))),
        A.ConstDecl("K", A.IntType(), _bin(">=", N("K"), I(1)), I(2)),
        A.ConstDecl("L", A.RangeType(I(0), I(3)), None, None),
        A.DefDecl("right", (A.DefParam("p", A.RangeType(I(0), N("N"))),),
                  A.RangeType(I(0), N("N")),
                  A.Ite(_bin("==", N("p"), N("N")), I(1), _bin("+", N("p"), I(1)))),
        A.DefDecl("two", (), None, I(2)),
        A.MessageDecl("Prepared", (A.FieldDecl("rm", A.NamedType("RM")),
                                   A.FieldDecl("n", A.RangeType(I(0), N("N"))))),
        A.MessageDecl("Commit", ()),
    )


def test_channels():
    assert decls("""
        channel msgs: log of Prepared | Commit
        channel net[p in Proc][q in Proc]: fifo(3) of Msg lossy reordering
        channel pool: bag(N + 1) of int duplicating
        channel once: set of 0..3
        channel rpc: sync of (chan of bool, int)
    """) == (
        A.ChannelDecl("msgs", (), "log", None,
                      A.UnionType((A.NamedType("Prepared"), A.NamedType("Commit"))), ()),
        A.ChannelDecl("net", (A.IndexDecl("p", N("Proc")), A.IndexDecl("q", N("Proc"))), "fifo",
                      I(3), A.NamedType("Msg"), ("lossy", "reordering")),
        A.ChannelDecl("pool", (), "bag", _bin("+", N("N"), I(1)), A.IntType(), ("duplicating",)),
        A.ChannelDecl("once", (), "set", None, A.RangeType(I(0), I(3)), ()),
        A.ChannelDecl("rpc", (), "sync", None,
                      A.TupleType((A.ChanType(A.BoolType()), A.IntType())), ()),
    )


def test_service_with_behaviour():
    svc = one("""
        crashable service ResourceManager[r in RM] in Sales {
          component Prepare, Decide
          durable var state: Phase = working
          var peer: RM in RM
          var seen: set of RM
          action prepare(x in RM, y in 1..2) when state == working {
            state := prepared; msgs!Prepared(r)
          }
          on msgs?Commit { state := committed }
          on got: net[r][1]?(a, _) when a > 0 { skip }
          on decide(k in 1..2): inbox?v { seen := seen union {v} }
          end when state == committed
        }""")
    guard = _bin("==", N("state"), N("working"))
    assert svc == A.ServiceDecl(
        "ResourceManager", A.IndexDecl("r", N("RM")), "Sales", True,
        (A.ComponentDecl("Prepare"), A.ComponentDecl("Decide")),
        (A.VarDecl("state", A.NamedType("Phase"), N("working"), "value", True),
         A.VarDecl("peer", A.NamedType("RM"), N("RM"), "choice", False),
         A.VarDecl("seen", A.SetType(A.NamedType("RM")), None, "default", False)),
        (A.ActionDecl("prepare", (A.Binder(("x",), N("RM")), A.Binder(("y",), _bin("..", I(1),
                                                                                   I(2)))),
                      guard,
                      (A.Assign(A.LValue("state"), N("prepared")),
                       A.Send(A.ChanRef("msgs"), A.Payload("msg", "Prepared", (N("r"),))))),),
        (A.HandlerDecl(None, (), A.ChanRef("msgs"), A.Pattern("name", "Commit", ()), None,
                       (A.Assign(A.LValue("state"), N("committed")),)),
         A.HandlerDecl("got", (), A.ChanRef("net", (N("r"), I(1))),
                       A.Pattern("tuple", None, ("a", "_")), _bin(">", N("a"), I(0)),
                       (A.Skip(),)),
         A.HandlerDecl("decide", (A.Binder(("k",), _bin("..", I(1), I(2))),), A.ChanRef("inbox"),
                       A.Pattern("name", "v", ()), None,
                       (A.Assign(A.LValue("seen"),
                                 _bin("union", N("seen"), A.SetLit((N("v"),)))),))),
        _bin("==", N("state"), N("committed")),
    )


def test_statements():
    (action,) = one("""service S { action a {
        m[k].f := 1
        ch[1]!M(2, x)
        out!(1, 2)
        let y = x + 1
        if y > 1 { skip } else if y < 0 { x := 0 } else { x := 1 }
        choose i in S, j in T when i != j { x := i }
        assert x >= 0 else "x went negative"
        assert true
    } }""").actions
    assert action.body == (
        A.Assign(A.LValue("m", (A.UpdateStep(index=N("k")), A.UpdateStep(field_name="f"))), I(1)),
        A.Send(A.ChanRef("ch", (I(1),)), A.Payload("msg", "M", (I(2), N("x")))),
        A.Send(A.ChanRef("out"), A.Payload("tuple", None, (I(1), I(2)))),
        A.Let("y", _bin("+", N("x"), I(1))),
        A.If(((_bin(">", N("y"), I(1)), (A.Skip(),)),
              (_bin("<", N("y"), I(0)), (A.Assign(A.LValue("x"), I(0)),))),
             (A.Assign(A.LValue("x"), I(1)),)),
        A.Choose((A.Binder(("i",), N("S")), A.Binder(("j",), N("T"))),
                 _bin("!=", N("i"), N("j")), (A.Assign(A.LValue("x"), N("i")),)),
        A.Assert(_bin(">=", N("x"), I(0)), "x went negative"),
        A.Assert(A.BoolLit(True), None),
    )


def test_a_channel_is_not_named_with_a_field():
    d = syntax_error("service S { action a { ch.f!M } }")
    assert d.code == "MS100"
    assert d.message == "a channel is named as 'ch' or 'ch[i]', not with a field"


def _without_owner_spans(d):
    """DatastoreDecl.owner_span and TeamDecl.owns carry spans that do take part in equality."""
    if isinstance(d, A.DatastoreDecl):
        return dataclasses.replace(d, owner_span=None)
    if isinstance(d, A.TeamDecl):
        return dataclasses.replace(d, owns=tuple((n, None) for n, _ in d.owns))
    return d


def test_architecture():
    assert tuple(map(_without_owner_spans, decls("""
        context Sales {
          service Order { component PlaceOrder; component History }
          datastore orders_db owned_by Order
          topic Created, Cancelled
        }
        datastore locks { var held: bool = false }
        team Checkout owns Order, Payment
        Order.PlaceOrder calls Inventory.Reserve, Order.History weight 12
        Order publishes Created
        Payment reads orders_db
        Sales -> Warehouse : customer_supplier weight 3
        Warehouse [OHS, PL] -> Sales [ACL]
        Sales <-> Billing : partnership
    """))) == (
        A.ContextDecl("Sales"),
        A.ServiceDecl("Order", None, "Sales", False,
                      (A.ComponentDecl("PlaceOrder"), A.ComponentDecl("History")),
                      (), (), (), None),
        A.DatastoreDecl("orders_db", "Order", None, "Sales", ()),
        A.TopicDecl("Created", "Sales"),
        A.TopicDecl("Cancelled", "Sales"),
        A.DatastoreDecl("locks", None, None, None,
                        (A.VarDecl("held", A.BoolType(), A.BoolLit(False), "value"),)),
        A.TeamDecl("Checkout", (("Order", None), ("Payment", None))),
        A.RelationDecl("calls", A.QName("Order", "PlaceOrder"),
                       (A.QName("Inventory", "Reserve"), A.QName("Order", "History")), 12),
        A.RelationDecl("publishes", A.QName("Order", None), (A.QName("Created", None),), None),
        A.RelationDecl("reads", A.QName("Payment", None), (A.QName("orders_db", None),), None),
        A.ContextRelDecl(A.ContextSide("Sales", ()), "->", A.ContextSide("Warehouse", ()),
                         ("customer_supplier",), 3),
        A.ContextRelDecl(A.ContextSide("Warehouse", ("OHS", "PL")), "->",
                         A.ContextSide("Sales", ("ACL",)), (), None),
        A.ContextRelDecl(A.ContextSide("Sales", ()), "<->", A.ContextSide("Billing", ()),
                         ("partnership",), None),
    )


def test_properties():
    assert decls("""
        deadlock_free
        invariant Safe: x >= 0
        reachable Done: x == 3
        leadsto Decided: x == 0 ~> x != 0
        eventually Ends: x == 3
        always eventually Again: x == 0
        constraint x <= 5
        constraint Bound: len(q) <= 2
        fairness weak TM.commit, strong ResourceManager
        progress Inventory.restock, Billing
        prove Safe using TypeOK, Inv
        end Billing, Client
    """) == (
        A.DeadlockDecl(),
        A.PropertyDecl("invariant", "Safe", _bin(">=", N("x"), I(0))),
        A.PropertyDecl("reachable", "Done", _bin("==", N("x"), I(3))),
        A.PropertyDecl("leadsto", "Decided", _bin("==", N("x"), I(0)), _bin("!=", N("x"), I(0))),
        A.PropertyDecl("eventually", "Ends", _bin("==", N("x"), I(3))),
        A.PropertyDecl("always_eventually", "Again", _bin("==", N("x"), I(0))),
        A.PropertyDecl("constraint", None, _bin("<=", N("x"), I(5))),
        A.PropertyDecl("constraint", "Bound", _bin("<=", A.Call("len", (N("q"),)), I(2))),
        A.FairnessDecl((("weak", A.StepRef("TM", "commit")),
                        ("strong", A.StepRef("ResourceManager", None)))),
        A.ProgressDecl((A.StepRef("Inventory", "restock"), A.StepRef("Billing", None))),
        A.ProveDecl("Safe", ("TypeOK", "Inv")),
        A.EndDecl(("Billing", "Client")),
    )


# ---------------------------------------------------------------- processes


def _proc(text: str) -> A.Proc:
    return one(f"process P = {text}").body


def test_process_decl_header():
    d = one("process Order(orderId: 1..2, flag: bool) in Shop = 0")
    assert (d.name, d.service) == ("Order", "Shop")
    assert d.params == (A.FieldDecl("orderId", A.RangeType(I(1), I(2))),
                        A.FieldDecl("flag", A.BoolType()))


def test_process_operators():
    tau = A.PPrefix(A.PTau(), A.PNil())
    out = A.PPrefix(A.POut(A.ChanRef("c"), A.Payload("tuple", None, (I(1),))), A.PNil())
    assert _proc("tau.0 + c!(1).0 | Q") == A.PPar((A.PChoice((tau, out)), A.PCall("Q", ())))
    assert _proc("tau.0 | (tau.0 + tau.0)") == A.PPar((tau, A.PChoice((tau, tau))))
    assert _proc("((0))") == A.PNil()
    assert _proc("new r: chan of int. c!(r, n). r?(x). [x == n] P(n)") == A.PNew(
        "r", A.ChanType(A.IntType()),
        A.PPrefix(A.POut(A.ChanRef("c"), A.Payload("tuple", None, (N("r"), N("n")))),
                  A.PPrefix(A.PIn(A.ChanRef("r"), A.Pattern("tuple", None, ("x",))),
                            A.PMatch(_bin("==", N("x"), N("n")), A.PCall("P", (N("n"),))))))
    assert _proc("new r. 0") == A.PNew("r", None, A.PNil())
    assert _proc("![2] c?(x). 0") == A.PRepl(
        I(2), A.PIn(A.ChanRef("c"), A.Pattern("tuple", None, ("x",))), A.PNil())
    assert _proc("if ok then 0 else Q") == A.PIf(N("ok"), A.PNil(), A.PCall("Q", ()))
    assert _proc("c[1][2]?M(x, _). 0") == A.PPrefix(
        A.PIn(A.ChanRef("c", (I(1), I(2))), A.Pattern("msg", "M", ("x", "_"))), A.PNil())
    assert _proc("c!M.0") == A.PPrefix(A.POut(A.ChanRef("c"), A.Payload("name", "M", ())),
                                       A.PNil())


def test_init():
    (d,) = decls("init Order(1) | Order(2) | Billing")
    assert d.proc == A.PPar((A.PCall("Order", (I(1),)), A.PCall("Order", (I(2),)),
                                     A.PCall("Billing", ())))


def test_replication_must_start_with_an_input():
    d = syntax_error("process P = ![2] c!(1). 0")
    assert (d.code, d.message) == ("MS218", "replication '![k]' must start with an input 'c?(x)'")
    assert (d.span.line, d.span.column) == (1, 18)


def test_only_zero_is_the_inactive_process():
    d = syntax_error("process P = tau. 1")
    assert (d.code, d.message) == ("MS100", "'1' is not a process; the inactive process is '0'")
    assert d.expected == ("'0'", "a process name", "a prefix")


# ---------------------------------------------------------------- lexical matters


def test_comments_and_semicolons():
    assert decls("const A = 1; const B = 2 # trailing\n// line\nconst C = 3;;") == (
        A.ConstDecl("A", None, None, I(1)), A.ConstDecl("B", None, None, I(2)),
        A.ConstDecl("C", None, None, I(3)))


@pytest.mark.parametrize("text", [
    "var set: bool = false", "const log = 1", "const action = 1", "service weight",
    "var on: bool = false", "const system = 2", "const tau = 1", "type of = bool",
])
def test_keywords_are_reserved_only_where_expected(text):
    (d,) = decls(text)
    assert d.name == text.split()[1].rstrip(":")


# ---------------------------------------------------------------- syntax errors


@pytest.mark.parametrize("text, code, line, column, message", [
    ("const N = 3\ninvariant I: N >", "MS102", 2, 16, "unexpected end of file"),
    ("service S {\n  var x: bool\n", "MS113", 2, 13,
     "unexpected end of file: a '{' is never closed (missing '}')"),
    ("const N = 3 @ 4", "MS101", 1, 13, "unexpected character '@'"),
    ("invariant I: a && b", "MS112", 1, 16, "'&&' is not an operator here; write 'and'"),
    ("const N = (1 + 2", "MS102", 1, 16, "unexpected end of file"),
    ("service S { action a { x := x + } }", "MS100", 1, 33, "unexpected '}'"),
    ("const N = 3 4", "MS100", 1, 13, "unexpected integer 4"),
    ("const 3 = N", "MS100", 1, 7, "unexpected integer 3"),
    ("service S { var x: bool = true action }", "MS100", 1, 39, "unexpected '}'"),
    ("context A { service }", "MS100", 1, 21, "unexpected '}'"),
])
def test_syntax_error_positions(text, code, line, column, message):
    d = syntax_error(text)
    assert (d.code, d.span.file, d.span.line, d.span.column, d.message) == (
        code, "t.ms", line, column, message)


def test_unexpected_token_lists_what_was_expected():
    d = syntax_error("const N = 3\ninvariant I: N >")
    assert d.expected == ("'('", "'-'", "'['", "'false'", "'true'", "'{'", "a name", "a string",
                          "an integer")


@pytest.mark.parametrize("text, code, column", [
    ("service S { action a { x = 1 } }", "MS110", 26),
    ("service S { on c?M { x = 1 } }", "MS110", 24),
    ("service S { action a { x[1] = 1 } }", "MS110", 29),
    ("const N == 3", "MS111", 9),
    ("type T == 0..1", "MS111", 8),
    ("x := 1", "MS114", 3),
    ("ch!M", "MS114", 3),
])
def test_named_mistakes_at_the_start_of_a_file(text, code, column):
    d = syntax_error(text)
    assert (d.code, d.span.line, d.span.column) == (code, 1, column)


def test_long_token_is_shortened_in_the_message():
    d = syntax_error("const N = 1 " + "9" * 40)
    assert d.message == "unexpected integer 99999999999999999..."


@pytest.mark.parametrize("text, code, line, column", [
    ("system X\nservice S { var x: 0..3 = 0\n action a { skip; x = 1 } }", "MS110", 3, 21),
    ("system X\nservice S { action b { skip } on c?M { if true { x[1] = 2 } } }", "MS110", 2, 55),
    ("system X\nconst M = 1\nconst N == 3", "MS111", 3, 9),
    ("system X\ntype T == 0..1", "MS111", 2, 8),
    ("system X\nconst N = 1\nx := 1", "MS114", 3, 3),
    ("system X\nch!M", "MS114", 2, 3),
    ("invariant I: a || b", "MS112", 1, 16),
])
def test_named_mistakes_anywhere_in_a_file(text, code, line, column):
    d = syntax_error(text)
    assert (d.code, d.span.line, d.span.column) == (code, line, column)


def test_parentheses_make_a_one_field_record():
    assert expr("{ok: (x in S)}") == A.RecordLit((("ok", _bin("in", N("x"), N("S"))),))
    assert expr("{ok: x in S}") == A.SetMap(N("ok"), (A.Binder(("x",), N("S")),))


def test_name_spans_are_one_based_with_exclusive_ends():
    """Span ends follow Lark: end_column is one past the last character."""
    name = expr("alpha and beta").operands[1]
    assert name.span == Span("<string>", 1, 24, 1, 28)
