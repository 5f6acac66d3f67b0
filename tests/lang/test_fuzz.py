"""Property-based robustness of the front end.

Whatever text it is given, ``mscheck.loads`` either returns a Spec or raises SpecError whose
diagnostics use documented codes and say where or what: never any other exception.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import mscheck
import mscheck.lang.parser  # noqa: F401  (raises the recursion limit once, before hypothesis runs)
from mscheck.diagnostics import CODES, SpecError
from mscheck.ir.nodes import Spec

KEYWORDS = (
    "system const type def message channel context service datastore owned_by topic team owns "
    "calls publishes subscribes reads writes var durable crashable component action on when "
    "end in let if then else choose assert skip process init new tau deadlock_free invariant "
    "reachable leadsto eventually always fairness weak strong progress prove using constraint "
    "where bool int str set of seq max chan sync fifo bag log lossy duplicating reordering "
    "and or not forall exists div mod union inter minus subset notin with true false"
).split()
PUNCT = (
    ":= == != <= >= => <=> ~> |-> -> <-> .. ++ && || "
    "{ } [ ] ( ) , ; : . ! ? | + - * < > = _ # // \" @ $ \\"
).split()
NAMES = ["N", "RM", "r1", "r2", "x", "y", "S", "T", "Order", "msgs", "Ping", "P", "Q", "c", "M"]
NUMBERS = ["0", "1", "3", "42", "9" * 30]
TOKENS = KEYWORDS + PUNCT + NAMES + NUMBERS

SEEDS = [
    """system TwoPhase
const RM = {r1, r2, r3}
type Phase = {working, prepared, committed, aborted}
message Prepared(rm: RM)
message Commit
channel msgs: log of Prepared | Commit
service TM {
  var state: {init, done} = init
  var prepared: set of RM = {}
  on msgs?Prepared(r) when state == init { prepared := prepared union {r} }
  action commit when state == init and prepared == RM { state := done; msgs!Commit }
}
service ResourceManager[r in RM] {
  var state: Phase = working
  action prepare when state == working { state := prepared; msgs!Prepared(r) }
  on msgs?Commit { state := committed }
}
invariant Consistent:
  not exists a, b in RM: ResourceManager[a].state == aborted and ResourceManager[b].state == committed
""",
    """system OrderInventory
channel inventory: sync of (chan of bool, int)
channel payment: fifo(2) of int
process Order(orderId: 1..2) =
  new req. inventory!(req, orderId). req?(ok).
  if ok then payment!(orderId). 0 else 0
process Inventory(items: 0..2) =
  inventory?(req, orderId).
  if items > 0 then req!(true). Inventory(items - 1) else req!(false). Inventory(items)
process Billing = payment?(id). Billing
init Order(1) | Order(2) | Inventory(1) | Billing
""",
    """context Sales {
  service Order { component PlaceOrder; component OrderHistory }
  service Payment
}
context Warehouse { service Inventory { component Reserve } }
datastore orders_db owned_by Order
topic OrderCreated
Order.PlaceOrder calls Inventory.Reserve weight 12
Order publishes OrderCreated
Payment subscribes OrderCreated
Payment reads orders_db
team Checkout owns Order, Payment
Sales -> Warehouse : customer_supplier
Warehouse [OHS, PL] -> Sales [ACL]
Sales <-> Warehouse : partnership
""",
    """system Shared
const N: int where N >= 1 = 2
def inc(x: int): int = if x == N then 0 else x + 1
datastore locks owned_by A { var held: [1..2 -> bool] = [i in 1..2 |-> false] }
service A {
  var k: 0..2 = 0
  var seen: seq of 0..2 max 3 = []
  action take(i in 1..2) when not held[i] { held[i] := true; k := inc(k) }
  action rec { let s = {x in 1..2 : held[x]}; seen := append(seen, card(s)) }
  end when k == N
}
service B { action release { choose i in 1..2 when held[i] { held[i] := false } } }
reachable Both: forall i in 1..2: held[i]
leadsto Free: held[1] ~> not held[1]
fairness weak A.take, strong B
constraint len(A.seen) <= 3
invariant Ok: A.k <= N
prove Ok
""",
    """system Misc
const Node = {n1, n2}
type Rec = {holder: 0..2, clean: bool}
message Req(from: Node, amount: 0..3)
message Ack
channel net[p in Node][q in Node]: fifo(2) of Req | Ack lossy
channel inbox[n in Node]: set of 0..3
channel srv: bag(2) of (int, bool) duplicating
var table: [Node -> Rec] = [n in Node |-> {holder: 0, clean: true}]
crashable service Peer[me in Node] in Ctx {
  durable var log: seq of 0..3 max 2 = []
  var pair: (bool, 0..3) = (true, 1)
  action send(to in Node) when to != me { net[me][to]!Req(me, 1) }
  on got: net[me][n2]?Req(f, a) when a > 0 { log := append(log, a); table[f].holder := 1 }
  on net[n1][me]?Ack { pair := (not pair[1], pair[2]) }
  action upd { table := table with [me].clean = false; assert len(log) <= 2 else "too long" }
  action pick { choose v in {x in 0..3 : x mod 2 == 0} { inbox[me]!(v) } }
  action ifs { if card(pending(inbox[me])) > 1 { skip } else if true { skip } else { skip } }
}
context Ctx
process Srv = ![2] srv?(x, b). (tau. 0 + [b == true] srv!(x, false). 0)
process Cl(k: 0..2) = new r: chan of int. srv!(k, true). Cl(k)
init Srv | Cl(1)
end Srv
eventually E: exists p in Node: len(Peer[p].log) > 0
always eventually AE: table[n1].clean
invariant Sub: {t.holder : t in {table[n] : n in Node}} subset 0..2
progress Peer.send, Srv
""",
]

_TOKEN_RE = re.compile(r'"[^"\n]*"|[A-Za-z_][A-Za-z0-9_]*|[0-9]+|:=|==|!=|<=|>=|=>|<=>|~>|\|->|'
                       r'->|<->|\.\.|\+\+|&&|\|\||\S')


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


def _check(text: str) -> None:
    try:
        spec = mscheck.loads(text, "fuzz.ms")
    except SpecError as exc:
        assert exc.diagnostics, "SpecError without diagnostics"
        for d in exc.diagnostics:
            assert d.code in CODES, d
            assert d.severity in ("error", "warning", "note"), d
            assert d.span is not None or d.message, d
            assert isinstance(d.message, str) and d.message.strip(), d
            if d.span is not None:
                assert d.span.line >= 1 and d.span.column >= 1, d
        assert any(d.severity == "error" for d in exc.diagnostics)
        return
    assert isinstance(spec, Spec)
    for w in spec.warnings:
        assert w.code in CODES and w.severity != "error", w


def test_seeds_are_valid():
    """The mutation seeds are themselves accepted (otherwise the mutations test little)."""
    for seed in SEEDS:
        assert isinstance(mscheck.loads(seed, "seed.ms"), Spec)


_FUZZ = settings(max_examples=2000, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_FUZZ
@given(st.lists(st.sampled_from(TOKENS) | st.text(max_size=3), max_size=40),
       st.sampled_from([" ", "\n", "  ", "\t"]))
@example(["service", "S", "{", "action", "a", "{", "x", "=", "1", "}", "}"], " ")
@example(["const", "N", "=", "-", "(", "-", "1", ")"], " ")
def test_random_token_soup(parts, sep):
    _check(sep.join(parts))


@st.composite
def _mutated(draw):
    tokens = _tokens(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "insert", "swap", "replace", "duplicate"]))
        i = draw(st.integers(0, len(tokens) - 1))
        if op == "delete" and len(tokens) > 1:
            del tokens[i]
        elif op == "insert":
            tokens.insert(i, draw(st.sampled_from(TOKENS)))
        elif op == "swap":
            j = draw(st.integers(0, len(tokens) - 1))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif op == "replace":
            tokens[i] = draw(st.sampled_from(TOKENS + tokens))
        else:
            tokens.insert(i, tokens[i])
    return " ".join(tokens)


@_FUZZ
@given(_mutated())
def test_mutated_valid_specs(text):
    _check(text)
