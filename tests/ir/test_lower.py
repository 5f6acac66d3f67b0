"""Syntax tree to typed IR: resolved names, types, constant values, overrides, and the two
formal models read off a spec."""

from __future__ import annotations

import pytest

import mscheck
from mscheck.diagnostics import SpecError
from mscheck.ir import nodes as N
from mscheck.ir import types as T
from mscheck.ir.formal import communication, formal_model, relation_model

RM3 = T.AtomT(("r1", "r2", "r3"), "RM", True)
PHASE_VALUES = ("working", "prepared", "committed", "aborted")

TWO_PHASE = """system TwoPhase
const RM = {r1, r2, r3}
type Phase = {working, prepared, committed, aborted}
message Prepared(rm: RM)
message Commit
message Abort
channel msgs: log of Prepared | Commit | Abort

service TM {
  var state: {init, committed, aborted} = init
  var prepared: set of RM = {}
  on msgs?Prepared(r) when state == init { prepared := prepared union {r} }
  action commit when state == init and prepared == RM { state := committed; msgs!Commit }
  action abort  when state == init { state := aborted; msgs!Abort }
}

service ResourceManager[r in RM] {
  var state: Phase = working
  action prepare      when state == working { state := prepared; msgs!Prepared(r) }
  action choose_abort when state == working { state := aborted }
  on msgs?Commit { state := committed }
  on msgs?Abort  { state := aborted }
}

invariant Consistent:
  not exists a, b in RM: ResourceManager[a].state == aborted and ResourceManager[b].state == committed
"""


def load(text: str, consts: dict[str, str] | None = None) -> N.Spec:
    return mscheck.loads(text, "t.ms", consts)


def errors(text: str, consts: dict[str, str] | None = None):
    with pytest.raises(SpecError) as info:
        load(text, consts)
    return info.value.diagnostics


@pytest.fixture(scope="module")
def two_phase() -> N.Spec:
    return load(TWO_PHASE)


# ---------------------------------------------------------------- constants


def test_integer_constant():
    spec = load("const N = 3\nconst M = N * 2 + 1\nconst B = N > 2")
    n, m, b = (spec.constants[k] for k in "NMB")
    assert (n.value, m.value, b.value) == (3, 7, True)
    assert n.type == T.IntT(3, 3) and m.type == T.IntT(7, 7) and b.type == T.BOOL
    assert not n.symbolic and not n.overridden and n.where is None


def test_model_value_set(two_phase):
    rm = two_phase.constants["RM"]
    assert rm.type == T.SetT(RM3)
    assert rm.value == frozenset({"r1", "r2", "r3"})
    assert two_phase.types["RM"] == RM3
    assert {"r1", "r2", "r3"} <= two_phase.atoms


def test_set_and_sequence_constants():
    spec = load("const S = {1, 2, 3}\nconst E = {x in S : x > 1}\nconst Q = [3, 1]\n"
                "const C = card(S) + len(Q)\nconst Sq = {x * x : x in S}")
    c = spec.constants
    assert c["S"].value == frozenset({1, 2, 3})
    assert c["E"].value == frozenset({2, 3})
    assert c["Q"].value == (3, 1)
    assert c["C"].value == 5
    assert c["Sq"].value == frozenset({1, 4, 9})


def test_symbolic_constant_with_where():
    spec = load("const T: int where T >= 1\nconst K: 0..5 where K > 1 = 3")
    t, k = spec.constants["T"], spec.constants["K"]
    assert (t.value, t.symbolic, t.type) == (None, True, T.INT)
    assert (k.value, k.symbolic, k.type) == (3, True, T.IntT(0, 5))
    assert isinstance(k.where, N.Binary) and k.where.op == ">"


def test_const_override_of_an_integer():
    spec = load("const N = 3\nservice W[w in 1..N] { var up: bool = false }", {"N": "5"})
    assert spec.constants["N"].value == 5
    assert spec.constants["N"].overridden
    assert spec.services["W"].index_values == (1, 2, 3, 4, 5)


def test_const_override_of_a_model_value_set(two_phase):
    spec = load(TWO_PHASE, {"RM": "4"})
    assert spec.constants["RM"].value == frozenset({"rm1", "rm2", "rm3", "rm4"})
    assert spec.services["ResourceManager"].index_values == ("rm1", "rm2", "rm3", "rm4")
    assert two_phase.services["ResourceManager"].index_values == ("r1", "r2", "r3")


def test_const_override_with_explicit_model_values():
    spec = load(TWO_PHASE, {"RM": "{a, b}"})
    assert spec.services["ResourceManager"].index_values == ("a", "b")


def test_const_override_violating_where():
    (d,) = errors("const N: int where N >= 1 = 2", {"N": "0"})
    assert d.code == "MS217"
    assert d.message == "value 0 of N does not satisfy its 'where' condition"
    assert (d.span.line, d.span.column) == (1, 20)


def test_const_override_of_an_unknown_constant():
    (d,) = errors("const N = 2", {"Q": "1"})
    assert (d.code, d.message, d.span) == (
        "MS217", "--const Q: the spec declares no constant 'Q'", None)


def test_const_override_of_a_model_value_set_needs_a_positive_count():
    diags = errors("const RM = {r1, r2}", {"RM": "0"})
    assert {d.code for d in diags} == {"MS217"}
    assert diags[0].message == "--const RM=0: a model-value set needs 1 to 100000 values"


def test_where_violated_without_override():
    (d,) = errors("const N: int where N >= 1 = 0")
    assert (d.code, d.message) == ("MS217", "value 0 of N does not satisfy its 'where' condition")


def test_constant_division_by_zero():
    (d,) = errors("const N = 1 div 0")
    assert d.code == "MS212"
    assert d.message.startswith("cannot compute this value")


# ---------------------------------------------------------------- types, messages, channels


def test_type_declarations():
    spec = load("""
        const N = 2
        type Phase = {working, done}
        type Slot = 0..N
        type Neg = -2..2
        type Rec = {holder: Slot, clean: bool}
        type Table = [Slot -> Phase]
        type Log = seq of Slot max 3
        type Pair = (bool, str)
    """)
    t = spec.types
    assert t["Phase"].values == ("working", "done")
    assert t["Slot"] == T.IntT(0, 2)
    assert t["Neg"] == T.IntT(-2, 2)
    assert t["Rec"] == T.RecordT((("holder", T.IntT(0, 2)), ("clean", T.BOOL)))
    assert t["Table"] == T.MapT(T.IntT(0, 2), t["Phase"])
    assert t["Log"] == T.SeqT(T.IntT(0, 2), 3)
    assert t["Pair"] == T.TupleT((T.BOOL, T.STR))


def test_messages_and_channels(two_phase):
    assert two_phase.messages["Prepared"].fields == (("rm", RM3),)
    assert two_phase.messages["Commit"].fields == ()
    msgs = two_phase.channels["msgs"]
    assert (msgs.kind, msgs.capacity, msgs.flags, msgs.indices) == ("log", None, (), ())
    assert msgs.payload == T.MsgT(("Prepared", "Commit", "Abort"))


def test_indexed_channel():
    spec = load("const Proc = {p, q}\n"
                "channel net[a in Proc][b in 1..2]: fifo(1 + 2) of int lossy duplicating")
    net = spec.channels["net"]
    assert [name for name, _ in net.indices] == ["a", "b"]
    assert net.index_values == (("p", "q"), (1, 2))
    assert (net.kind, net.capacity, net.payload, net.flags) == (
        "fifo", 3, T.INT, ("lossy", "duplicating"))


# ---------------------------------------------------------------- services


def test_replicated_service(two_phase):
    rm = two_phase.services["ResourceManager"]
    assert rm.index[0] == "r"
    assert rm.index[1] == N.ConstRef(T.SetT(RM3), name="RM")
    assert rm.index_values == ("r1", "r2", "r3")
    (state,) = rm.vars
    assert (state.name, state.owner, state.init_kind, state.durable) == (
        "state", "ResourceManager", "value", False)
    assert state.type.values == PHASE_VALUES
    assert state.init == N.Lit(state.type, value="working")


def test_own_variable_inside_a_replica_is_indexed_by_the_replica(two_phase):
    rm = two_phase.services["ResourceManager"]
    prepare = rm.actions[0]
    phase = rm.vars[0].type
    here = N.Local(RM3, name="r")
    assert prepare.guard == N.Binary(T.BOOL, op="==",
                                     left=N.VarRef(phase, owner="ResourceManager", var="state",
                                                   index=here),
                                     right=N.Lit(phase, value="working"))
    assign, send = prepare.body
    assert assign.target == N.Target("ResourceManager", "state", here, (), phase)
    assert assign.value == N.Lit(phase, value="prepared")
    assert send.channel == N.ChanVal(T.ChanT(two_phase.channels["msgs"].payload), channel="msgs")
    assert send.payload == N.MsgLit(T.MsgT(("Prepared",)), name="Prepared", args=(here,))


def test_indexed_reference_from_a_property(two_phase):
    (prop,) = two_phase.properties
    assert (prop.kind, prop.name) == ("invariant", "Consistent")
    quant = prop.expr.operand
    assert quant.kind == "exists"
    assert [name for name, _ in quant.vars] == ["a", "b"]
    left = quant.body.operands[0].left
    assert left == N.VarRef(two_phase.services["ResourceManager"].vars[0].type,
                            owner="ResourceManager", var="state", index=N.Local(RM3, name="a"))


def test_handlers_and_patterns(two_phase):
    tm = two_phase.services["TM"]
    (h,) = tm.handlers
    assert (h.name, h.service) == ("on_Prepared", "TM")
    assert h.pattern == N.Pattern("Prepared", (("r", RM3),))
    assert h.guard.left == N.VarRef(tm.vars[0].type, owner="TM", var="state")
    assign = h.body[0]
    assert assign.target.var == "prepared" and assign.target.index is None
    assert assign.value.op == "union"
    assert [a.name for a in tm.actions] == ["commit", "abort"]
    rm = two_phase.services["ResourceManager"]
    assert [x.name for x in rm.handlers] == ["on_Commit", "on_Abort"]


def test_action_parameters_let_and_choose():
    spec = load("""
        const S = {1, 2, 3}
        service A {
          var x: 0..9 = 0
          action set(v in S) when v > x { let y = v + 1; x := y }
          action pick { choose c in S when c != x { x := c } }
        }""")
    set_, pick = spec.services["A"].actions
    ((name, dom),) = set_.params
    assert name == "v" and dom == N.ConstRef(T.SetT(T.INT), name="S")
    let, assign = set_.body
    assert let == N.LetS(name="y", value=N.Binary(T.INT, op="+",
                                                  left=N.Local(T.INT, name="v"),
                                                  right=N.Lit(T.INT, value=1)))
    assert assign.value == N.Local(T.INT, name="y")
    (choose,) = pick.body
    assert [n for n, _ in choose.vars] == ["c"]
    assert choose.cond.op == "!="


def test_shared_variables_of_a_datastore():
    spec = load("""
        service Owner
        datastore locks owned_by Owner { var held: [1..2 -> bool] = [i in 1..2 |-> false] }
        var global: 0..3 = 0
        service User { action take(i in 1..2) when not held[i] { held[i] := true } }""")
    held = spec.shared_vars["held"]
    assert (held.owner, held.store) == (None, "locks")
    assert held.type == T.MapT(T.IntT(1, 2), T.BOOL)
    assert spec.shared_vars["global"].store is None
    assert spec.datastores["locks"] == N.Datastore("locks", "Owner", None, ("held",))
    (take,) = spec.services["User"].actions
    (assign,) = take.body
    assert assign.target.owner is None and assign.target.var == "held"
    assert assign.target.path == (N.PathStep(index=N.Local(T.IntT(1, 2), name="i")),)
    assert assign.target.type == T.BOOL


def test_definitions_inline_as_let():
    spec = load("const N = 3\ndef right(p: 0..N): 0..N = if p == N then 1 else p + 1\n"
                "invariant I: right(N) == 1")
    call = spec.properties[0].expr.left
    assert isinstance(call, N.LetE)
    assert call.name == "p" and call.value == N.ConstRef(T.IntT(3, 3), name="N")
    assert isinstance(call.body, N.Ite)


def test_processes():
    spec = load("""
        channel inventory: sync of (chan of bool, int)
        process Order(orderId: 1..2) =
          new req. inventory!(req, orderId). req?(ok). if ok then 0 else 0
        process Inventory(items: 0..2) =
          inventory?(req, orderId). req!(items > 0). Inventory(items)
        init Order(1) | Inventory(1)
    """)
    order, inv = spec.processes["Order"], spec.processes["Inventory"]
    assert order.params == (("orderId", T.IntT(1, 2)),)
    assert inv.params == (("items", T.IntT(0, 2)),)
    assert isinstance(spec.init, N.PPar)
    calls = [p for p in _walk_proc(spec.init) if isinstance(p, N.PCall)]
    assert [(c.name, c.args) for c in calls] == [
        ("Order", (N.Lit(T.INT, value=1),)), ("Inventory", (N.Lit(T.INT, value=1),))]
    (new,) = [p for p in _walk_proc(order.body) if isinstance(p, N.PNew)]
    assert new.name == "req" and new.type == T.ChanT(T.BOOL)
    (recv,) = [p for p in _walk_proc(inv.body) if isinstance(p, N.PIn)]
    assert recv.pattern == N.Pattern(None, (("req", T.ChanT(T.BOOL)), ("orderId", T.INT)))


def _walk_proc(p):
    stack = [p]
    while stack:
        x = stack.pop(0)
        if x is None:
            continue
        yield x
        for attr in ("cont", "body", "then", "orelse"):
            sub = getattr(x, attr, None)
            if isinstance(sub, N.Proc):
                stack.append(sub)
        for attr in ("parts", "alternatives"):
            stack.extend(getattr(x, attr, ()))


def test_architecture_relations():
    spec = load("""
        context Sales { service Order { component Place; component History } }
        context Warehouse { service Inventory { component Reserve } }
        topic Created
        datastore db owned_by Order
        team Checkout owns Order, Inventory
        Order.Place calls Inventory.Reserve, Order.History weight 12
        Order publishes Created
        Inventory subscribes Created
        Inventory reads db
        Warehouse [OHS, PL] -> Sales [ACL] : customer_supplier weight 2
        Sales <-> Warehouse : partnership
    """)
    assert spec.contexts.keys() == {"Sales", "Warehouse"}
    assert spec.services["Order"].context == "Sales"
    assert spec.services["Order"].components == ("Place", "History")
    assert spec.teams["Checkout"] == N.Team("Checkout", ("Order", "Inventory"))
    assert spec.relations == (
        N.Relation("calls", "Order", "Place", "Inventory", "Reserve", 12),
        N.Relation("calls", "Order", "Place", "Order", "History", 12),
        N.Relation("publishes", "Order", None, "Created", None, None),
        N.Relation("subscribes", "Inventory", None, "Created", None, None),
        N.Relation("reads", "Inventory", None, "db", None, None),
    )
    assert spec.context_relations == (
        N.ContextRelation("Warehouse", "Sales", False, ("customer_supplier",), ("OHS", "PL"),
                          ("ACL",), 2),
        N.ContextRelation("Sales", "Warehouse", True, ("partnership",), (), (), None),
    )


def test_properties_fairness_progress_and_proofs():
    spec = load("""
        service S {
          var x: 0..3 = 0
          action inc when x < 3 { x := x + 1 }
          on tick: c?v { x := v }
        }
        channel c: fifo(1) of 0..3
        process P = c!(1). P
        invariant Small: S.x <= 3
        reachable Top: S.x == 3
        leadsto Up: S.x == 0 ~> S.x == 3
        eventually Done: S.x == 3
        always eventually Again: S.x == 0
        constraint S.x < 4
        fairness weak S.inc, strong S, weak S.tick
        progress S.inc, P
        prove Small using Small
        end P
    """)
    assert [(p.kind, p.name) for p in spec.properties] == [
        ("invariant", "Small"), ("reachable", "Top"), ("leadsto", "Up"), ("eventually", "Done"),
        ("always_eventually", "Again"), ("constraint", "constraint_6")]
    assert spec.properties[2].target is not None
    assert [(f.strength, f.step) for f in spec.fairness] == [
        ("weak", N.StepRef("action", "S", "inc")), ("strong", N.StepRef("service", "S", None)),
        ("weak", N.StepRef("handler", "S", "tick"))]
    assert spec.progress == (N.StepRef("action", "S", "inc"), N.StepRef("process", "P", None))
    assert spec.proves == (N.Prove("Small", ("Small",)),)
    assert spec.valid_end == ("P",)
    assert spec.deadlock_free is True


def test_system_name_defaults_to_the_file_name():
    assert mscheck.loads("const N = 1", "dir/my_spec.ms").name == "my_spec"
    assert load("system Named\nconst N = 1").name == "Named"


def test_every_error_is_reported_in_source_order():
    diags = errors("""const N = 3
const N = 4
service S {
  var x: 0..N = 0
  action a { x := y }
  action b when x { skip }
}
invariant I: S.z == 1
""")
    assert [(d.code, d.span.line) for d in diags] == [
        ("MS201", 2), ("MS200", 5), ("MS203", 6), ("MS200", 8)]
    assert diags[1].message == "undefined name 'y'"
    assert diags[3].message == "service S has no variable 'z'"
    assert diags[3].expected == ("x",)


def test_warnings_are_kept_on_a_valid_spec():
    spec = load("channel c: set of 0..3 reordering\nvar x: bool = false\n"
                "service S { var x: 0..1 = 0 }")
    assert [(w.code, w.severity, w.span.line) for w in spec.warnings] == [
        ("MS218", "warning", 1), ("MS201", "warning", 3)]


# ---------------------------------------------------------------- the formal models

SHOP = """system Shop
const Items = 2
message Order(qty: 1..Items)
message Ok
channel orders: fifo(2) of Order
channel replies: fifo(2) of Ok

context Sales {
  service Front {
    component Checkout
    var waiting: bool = false
    action buy(q in 1..Items) when not waiting { orders!Order(q); waiting := true }
    on replies?Ok { waiting := false }
  }
}
context Stock {
  service Store {
    var served: 0..9 = 0
    on take: orders?Order(q) when stock >= q {
      stock := stock - q; served := served + 1; replies!Ok
    }
  }
}
datastore stock_db owned_by Store { var stock: 0..Items = Items }
topic Sold
team Web owns Front, Store
team Ops owns Store

Front reads stock_db
Front publishes Sold
Store subscribes Sold
"""

SHOP_C = [
    {"from": "Front", "to": "Store", "via": "channel:orders"},
    {"from": "Front", "to": "Store", "via": "topic:Sold"},
    {"from": "Store", "to": "Front", "via": "channel:replies"},
]


def test_formal_model_of_a_small_spec():
    m = formal_model(load(SHOP))
    assert m["system"] == "Shop"
    assert m["S"] == [
        {"name": "Front", "kind": "service", "context": "Sales", "state": {"waiting": "bool"}},
        {"name": "Store", "kind": "service", "context": "Stock", "state": {"served": "0..9"}},
    ]
    assert m["I"] == [
        {"service": "Front", "input": "buy(q in 1..Items)", "kind": "action"},
        {"service": "Front", "input": "replies?Ok", "kind": "receive"},
        {"service": "Store", "input": "orders?Order", "kind": "receive"},
    ]
    assert m["O"] == [{"service": "Front", "output": "orders!Order"},
                      {"service": "Store", "output": "replies!Ok"}]
    assert m["C"] == SHOP_C
    assert m["TS"] == [
        {"service": "Front", "input": "buy(q in 1..Items)", "guard": "not Front.waiting",
         "outputs": ["orders!Order"], "writes": ["waiting"], "step": "buy"},
        {"service": "Front", "input": "replies?Ok", "guard": "true", "outputs": [],
         "writes": ["waiting"], "step": "on_Ok"},
        {"service": "Store", "input": "orders?Order", "guard": "stock >= q",
         "outputs": ["replies!Ok"], "writes": ["stock", "served"], "step": "take"},
    ]


def test_relation_model_of_a_small_spec():
    m = relation_model(load(SHOP))
    assert m == {
        "system": "Shop",
        "S": ["Front", "Store"],
        "D": [{"from": "Front", "to": "Store", "via": "stock_db"}],
        "C": SHOP_C,
        "O": [{"between": ["Front", "Store"], "team": "Web"}],
    }


def test_data_dependencies_come_from_reading_and_writing_another_store():
    m = relation_model(load("""
        service Store
        datastore db owned_by Store { var stock: 0..3 = 3 }
        service Reader { var seen: 0..3 = 0
          action look when stock > 0 { seen := stock } }
        service Writer { action w { stock := 0 } }
        service Owner2 { action own { skip } }
        Owner2 reads db
    """))
    assert m["D"] == [{"from": "Owner2", "to": "Store", "via": "db"},
                      {"from": "Reader", "to": "Store", "via": "db"},
                      {"from": "Writer", "to": "Store", "via": "db"}]


def test_a_store_used_by_its_owner_is_no_dependency():
    m = relation_model(load("service Store { action w { stock := 1 } }\n"
                            "datastore db owned_by Store { var stock: 0..3 = 3 }\n"
                            "Store writes db"))
    assert m["D"] == []


def test_organisation_pairs_every_two_services_of_a_team():
    m = relation_model(load("service A\nservice B\nservice C\nteam T owns C, A, B\nteam U owns A"))
    assert m["O"] == [{"between": ["A", "B"], "team": "T"}, {"between": ["A", "C"], "team": "T"},
                      {"between": ["B", "C"], "team": "T"}]


def test_communication_of_the_two_phase_commit(two_phase):
    assert communication(two_phase) == [("ResourceManager", "TM", "channel:msgs"),
                                        ("TM", "ResourceManager", "channel:msgs")]
    m = formal_model(two_phase)
    rm = [s for s in m["S"] if s["name"] == "ResourceManager"][0]
    assert rm["instances"] == ["ResourceManager[r1]", "ResourceManager[r2]",
                               "ResourceManager[r3]"]
    assert [(t["service"], t["step"]) for t in m["TS"]] == [
        ("TM", "commit"), ("TM", "abort"), ("TM", "on_Prepared"),
        ("ResourceManager", "prepare"), ("ResourceManager", "choose_abort"),
        ("ResourceManager", "on_Commit"), ("ResourceManager", "on_Abort")]


def test_processes_in_the_formal_model():
    m = formal_model(load("""
        channel payment: fifo(2) of int
        process Order = payment!(1). 0
        process Billing = payment?(id). Billing
        init Order | Billing
    """))
    assert [s["name"] for s in m["S"]] == ["Order", "Billing"]
    assert m["I"] == [{"service": "Billing", "input": "payment?(id)", "kind": "receive",
                       "process": "Billing"}]
    assert m["C"] == [{"from": "Order", "to": "Billing", "via": "channel:payment"}]
    assert m["TS"] == []


# ---------------------------------------------------------------- regressions


def test_definitions_in_constants_and_type_bounds():
    spec = load("def double(x: int): int = x + x\nconst N = double(2)\ntype T = 0..double(N)")
    assert spec.constants["N"].value == 4
    assert spec.types["T"] == T.IntT(0, 8)


def test_recursive_definitions_are_reported_even_when_unused():
    (d,) = errors("def fact(n: int): int = if n == 0 then 1 else n * fact(n - 1)")
    assert (d.code, d.span.line, d.span.column) == ("MS211", 1, 51)
    assert d.message == "definition fact calls itself (fact -> fact); definitions cannot recurse"
    mutual = errors("def even(n: int): bool = if n == 0 then true else odd(n - 1)\n"
                    "def odd(n: int): bool = if n == 0 then false else even(n - 1)")
    assert [(d.code, d.span.line) for d in mutual] == [("MS211", 1), ("MS211", 2)]


def test_initial_value_may_read_an_earlier_variable():
    spec = load("service S {\n var a: bool = true\n var b: 0..1 = if a then 1 else 0\n}")
    b = spec.services["S"].vars[1]
    assert b.init.cond == N.VarRef(T.BOOL, owner="S", var="a")


@pytest.mark.parametrize("consts, message", [
    ({"K": "@"}, "--const K=@: unexpected character '@'"),
    ({"K": "1 +"}, "--const K=1 +: unexpected end of file"),
    ({"RM": "0"}, "--const RM=0: a model-value set needs 1 to 100000 values"),
])
def test_a_bad_override_is_reported_once(consts, message):
    (d,) = errors("const K = 3\nconst RM = {r1, r2}", consts)
    assert (d.code, d.message) == ("MS217", message)


@pytest.mark.parametrize("text, column", [
    ("service W[w in Nope]", 16),
    ("service W[w in 1..Nope]", 19),
    ("invariant I: card({x in 1..Nope : true}) == 0", 28),
    ("invariant I: dom([x in Nope |-> 1]) == {}", 24),
])
def test_undefined_name_in_a_domain_is_ms200(text, column):
    (d,) = errors(text)
    assert (d.code, d.span.column, d.message) == ("MS200", column, "undefined name 'Nope'")


# ---------------------------------------------------------------- fault step names


@pytest.mark.parametrize("step", ["action crash { skip }", "action restart(n in 0..1) { skip }",
                                  "on crash: jobs?(j) { skip }", "on restart: jobs?(j) { skip }"])
def test_a_crashable_service_cannot_name_a_step_like_its_fault_steps(step):
    text = f"channel jobs: fifo(1) of 0..1\ncrashable service W[i in 1..2] {{\n  {step}\n}}\n"
    (d,) = errors(text)
    assert (d.code, d.severity, d.span.line) == ("MS221", "error", 3)
    assert "taken by the fault steps of a crashable service" in d.message
    # the names are free in a service that cannot crash
    assert load(text.replace("crashable ", "")).services["W"]


def test_other_steps_of_a_crashable_service_are_fine():
    spec = load("crashable service W { action crashed { skip }\n action on_restart { skip } }")
    assert [a.name for a in spec.services["W"].actions] == ["crashed", "on_restart"]
