"""A hypothesis strategy for small random, well-typed service-layer specs (as text).

Every spec has one enumeration type, a few messages, 0-2 shared variables, 0-2 channels of
any kind (sync, fifo(k), bag(k), set, log; with payloads of ranges, bool, the enumeration, a
tuple or messages; sometimes with initial contents; indexed by the replica set when there is
a replicated service), 1-3 services (one of them possibly replicated over 1..1 or 1..2) with
variables (bool, ranges, the enumeration, a record, a map, a set, a bounded sequence; with a
default, an initial value or a set of initial values), actions with parameters (over
constant sets or a set variable), guards and bodies (assignments of whole values and of
parts, if / else if / else, choose, let, sends, assert, skip), labelled handlers (with
parameters on indexed channels) with guards, and optional ``end when``, invariants,
``reachable`` and (rarely) a ``constraint``.

Values assigned or sent are in range by construction, except in specs drawn with
``risky=True`` (one in five), which may also step out of a range, take the tail of an empty
sequence or fail an assertion. A handler of a sync channel sends on buffered channels only,
so that a step is never an endless chain of rendezvous. Record fields are declared in
alphabetical order and maps are keyed by integers: the other orders meet a known defect
(test_known_engine_defects.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

ATOMS = ("red", "green", "blue")
MESSAGES = "message Ping(n: 0..1)\nmessage Ack\nmessage Pair(x: 0..2, y: bool)\n"
# payload type text -> kind used to build values and patterns
PAYLOADS = {"0..1": ("int", 0, 1), "0..2": ("int", 0, 2), "bool": ("bool",),
            "Color": ("enum",), "(0..1, bool)": ("tuple",), "Ping | Ack": ("pingack",),
            "Pair": ("pair",)}


@dataclass
class Chan:
    name: str
    kind: str  # sync fifo bag set log
    payload: str
    indexed: bool  # over the replica set 1..n


@dataclass
class Var:
    name: str
    type: tuple  # ("bool",) ("int", lo, hi) ("enum",) ("rec",) ("map",) ("set",) ("seq",)
    owner: str | None  # service name, None for shared


@dataclass
class Scope:
    """What an expression may mention: items (text, type) and channels."""

    items: list = field(default_factory=list)
    writable: list = field(default_factory=list)  # Var
    service: str | None = None
    replicated: bool = False  # inside the replicated service: 'i' is its index
    in_sync_handler: bool = False

    def with_local(self, name: str, t: tuple) -> "Scope":
        return Scope(self.items + [(name, t)], self.writable, self.service, self.replicated,
                     self.in_sync_handler)


# the fault flags that change something, by channel kind
FLAGS = {"sync": ("lossy",), "fifo": ("lossy", "duplicating", "reordering"),
         "bag": ("lossy", "duplicating"), "set": ("lossy",), "log": ("lossy",)}


class Gen:
    def __init__(self, draw, faults: bool = False):
        self.draw = draw
        self.n_local = 0
        self.faults = faults  # fault flags on channels, crashable services, durable variables

    def d(self, strategy):
        return self.draw(strategy)

    def choice(self, seq):
        return self.d(st.sampled_from(list(seq)))

    def coin(self, p: float = 0.5) -> bool:
        """True with probability about p; shrinks to False (the simpler spec)."""
        return self.d(st.integers(0, 99)) >= 100 - p * 100

    def fresh(self, prefix: str) -> str:
        self.n_local += 1
        return f"{prefix}{self.n_local}"

    # ------------------------------------------------------------ expressions
    @staticmethod
    def expand(items):
        """Scalar items, with the parts of composite variables as items of their own."""
        for text, t in items:
            if t[0] == "rec":
                yield f"{text}.a", ("bool",)
                yield f"{text}.b", ("int", 0, 2)
            elif t[0] == "map":
                yield f"{text}[0]", ("int", 0, 2)
                yield f"{text}[1]", ("int", 0, 2)
            elif t[0] == "set":
                yield f"card({text})", ("int", 0, 3)
            elif t[0] == "seq":
                yield f"len({text})", ("int", 0, 2)
            yield text, t

    def items_of(self, scope: Scope, kind: str, lo=None, hi=None) -> list[str]:
        out = []
        for text, t in self.expand(scope.items):
            if t[0] != kind:
                continue
            if kind == "int" and lo is not None:
                if t[1] is None or t[1] < lo or t[2] > hi:
                    continue
            out.append(text)
        return out

    def int_any(self, scope: Scope, depth: int) -> str:
        opts = ["lit", "lit"]
        if self.items_of(scope, "int"):
            opts += ["item"] * 3
        if self.buffered:
            opts.append("len")
        if depth > 0:
            opts += ["plus", "minus", "ite"]
        o = self.choice(opts)
        if o == "lit":
            return str(self.d(st.integers(0, 3)))
        if o == "item":
            return self.choice(self.items_of(scope, "int"))
        if o == "len":
            return f"len({self.chan_ref(self.choice(self.buffered), scope)})"
        if o == "ite":
            return (f"(if {self.bool_expr(scope, depth - 1)} then {self.int_any(scope, depth - 1)}"
                    f" else {self.int_any(scope, depth - 1)})")
        op = "+" if o == "plus" else "-"
        return f"({self.int_any(scope, depth - 1)} {op} {self.int_any(scope, depth - 1)})"

    def int_in(self, scope: Scope, lo: int, hi: int, depth: int) -> str:
        """An int expression whose value is in lo..hi."""
        opts = ["lit", "lit"]
        if self.items_of(scope, "int", lo, hi):
            opts += ["item"] * 3
        if depth > 0:
            opts += ["mod", "ite"]
            if self.items_of(scope, "int"):
                opts += ["next"] * 4
        o = self.choice(opts)
        if o == "lit":
            return str(self.d(st.integers(lo, hi)))
        if o == "next":  # x + k, wrapped into lo..hi
            item = self.choice(self.items_of(scope, "int"))
            base = f"({item} + {self.d(st.integers(1, 2))}) mod {hi - lo + 1}"
            return base if lo == 0 else f"({lo} + {base})"
        if o == "item":
            return self.choice(self.items_of(scope, "int", lo, hi))
        if o == "ite":
            return (f"(if {self.bool_expr(scope, depth - 1)} then "
                    f"{self.int_in(scope, lo, hi, depth - 1)} else "
                    f"{self.int_in(scope, lo, hi, depth - 1)})")
        base = f"({self.int_any(scope, depth - 1)}) mod {hi - lo + 1}"
        return base if lo == 0 else f"({lo} + {base})"

    def enum_expr(self, scope: Scope, depth: int) -> str:
        opts = ["lit", "lit"] + ["item"] * bool(self.items_of(scope, "enum"))
        if depth > 0:
            opts.append("ite")
        o = self.choice(opts)
        if o == "lit":
            return self.choice(ATOMS)
        if o == "item":
            return self.choice(self.items_of(scope, "enum"))
        return (f"(if {self.bool_expr(scope, depth - 1)} then {self.enum_expr(scope, depth - 1)}"
                f" else {self.enum_expr(scope, depth - 1)})")

    def bool_expr(self, scope: Scope, depth: int = 2) -> str:
        opts = ["lit", "cmp", "cmp"]
        if self.items_of(scope, "bool"):
            opts += ["item"] * 3 + ["notitem"]
        if self.items_of(scope, "int"):
            opts += ["cmpitem"] * 3
        if self.items_of(scope, "enum"):
            opts.append("enum")
        if self.buffered:
            opts.append("len")
        if any(PAYLOADS[c.payload][0] in ("pingack", "int") for c in self.buffered):
            opts.append("pending")
        if self.replica is not None and self.replica_vars and scope.service != "R":
            opts.append("forall")
        composites = [(x, t) for x, t in scope.items if t[0] in ("rec", "map", "set", "seq")]
        if composites:
            opts += ["composite"] * 2
        if depth > 0:
            opts += ["not", "and", "or", "implies", "exists"]
        o = self.choice(opts)
        if o == "lit":
            return self.choice(["true", "false"])
        if o == "composite":
            x, t = self.choice(composites)
            if t[0] == "set":
                return f"({self.int_in(scope, 0, 2, 0)} {self.choice(['in', 'notin'])} {x})"
            if t[0] == "seq":
                return self.choice([f"({x} == [])", f"({self.int_in(scope, 0, 1, 0)} in {x})",
                                    f"(len({x}) > 0 and head({x}) == 1)",
                                    f"({x} == [{self.int_in(scope, 0, 1, 0)}])"])
            return f"({x} {self.choice(['==', '!='])} {self.value_of(t, scope, 0)})"
        if o == "item":
            return self.choice(self.items_of(scope, "bool"))
        if o == "notitem":
            return f"(not {self.choice(self.items_of(scope, 'bool'))})"
        if o == "cmpitem":
            op = self.choice(["==", "!=", "<", "<=", ">", ">="])
            return f"({self.choice(self.items_of(scope, 'int'))} {op} {self.d(st.integers(0, 2))})"
        if o == "cmp":
            op = self.choice(["==", "!=", "<", "<=", ">", ">="])
            return f"({self.int_any(scope, depth)} {op} {self.int_any(scope, depth)})"
        if o == "enum":
            op = self.choice(["==", "!="])
            return f"({self.choice(self.items_of(scope, 'enum'))} {op} {self.enum_expr(scope, 0)})"
        if o == "len":
            c = self.choice(self.buffered)
            return f"(len({self.chan_ref(c, scope)}) {self.choice(['==', '<', '>'])} " \
                   f"{self.d(st.integers(0, 2))})"
        if o == "pending":
            c = self.choice([c for c in self.buffered
                             if PAYLOADS[c.payload][0] in ("pingack", "int")])
            value = self.payload_value(c, scope, 0)
            return f"({value} {self.choice(['in', 'notin'])} pending({self.chan_ref(c, scope)}))"
        if o == "forall":
            k = self.fresh("k")
            inner = Scope([(f"R[{k}].{n}", tt) for n, tt in self.replica_vars] + scope.items,
                          scope.writable, scope.service, scope.replicated,
                          scope.in_sync_handler)
            q = self.choice(["forall", "exists"])
            return f"({q} {k} in 1..{self.replica}: {self.bool_expr(inner, 0)})"
        if o == "not":
            return f"(not {self.bool_expr(scope, depth - 1)})"
        if o in ("and", "or", "implies"):
            op = {"and": "and", "or": "or", "implies": "=>"}[o]
            return f"({self.bool_expr(scope, depth - 1)} {op} {self.bool_expr(scope, depth - 1)})"
        k = self.fresh("q")
        body = self.bool_expr(scope.with_local(k, ("int", 0, 1)), depth - 1)
        return f"(exists {k} in 0..1: {body})"

    def value_of(self, t: tuple, scope: Scope, depth: int = 1) -> str:
        if t[0] == "rec":
            return f"{{a: {self.bool_expr(scope, 0)}, b: {self.int_in(scope, 0, 2, 0)}}}"
        if t[0] == "map":
            k = self.fresh("k")
            inner = scope.with_local(k, ("int", 0, 1))
            return f"[{k} in 0..1 |-> {self.int_in(inner, 0, 2, 1)}]"
        if t[0] == "set":
            elems = self.d(st.lists(st.integers(0, 2), max_size=2, unique=True))
            return "{" + ", ".join(map(str, elems)) + "}"
        if t[0] == "seq":
            elems = self.d(st.lists(st.integers(0, 1), max_size=2))
            return "[" + ", ".join(map(str, elems)) + "]"
        if t[0] == "bool":
            return self.bool_expr(scope, depth)
        if t[0] == "enum":
            return self.enum_expr(scope, depth)
        return self.int_in(scope, t[1], t[2], depth)

    # ------------------------------------------------------------ channels
    def chan_ref(self, c: Chan, scope: Scope) -> str:
        if not c.indexed:
            return c.name
        if scope.replicated and self.coin(0.7):
            return f"{c.name}[i]"
        return f"{c.name}[{self.d(st.integers(1, self.replica))}]"

    def payload_value(self, c: Chan, scope: Scope, depth: int = 1) -> str:
        k = PAYLOADS[c.payload]
        if k[0] == "int":
            return f"({self.int_in(scope, k[1], k[2], depth)})"
        if k[0] == "bool":
            return f"({self.bool_expr(scope, depth)})"
        if k[0] == "enum":
            return f"({self.enum_expr(scope, depth)})"
        if k[0] == "tuple":
            return f"({self.int_in(scope, 0, 1, depth)}, {self.bool_expr(scope, depth)})"
        if k[0] == "pingack":
            return self.choice([f"Ping({self.int_in(scope, 0, 1, depth)})", "Ack"])
        return f"Pair({self.int_in(scope, 0, 2, depth)}, {self.bool_expr(scope, depth)})"

    def const_payload(self, c: Chan) -> str:
        k = PAYLOADS[c.payload]
        b = self.choice(["false", "true"])
        return {"int": lambda: str(self.d(st.integers(k[1], k[2]))) if k[0] == "int" else "",
                "bool": lambda: b, "enum": lambda: self.choice(ATOMS),
                "tuple": lambda: f"({self.d(st.integers(0, 1))}, {b})",
                "pingack": lambda: self.choice(["Ack", f"Ping({self.d(st.integers(0, 1))})"]),
                "pair": lambda: f"Pair({self.d(st.integers(0, 2))}, {b})"}[k[0]]()

    def pattern(self, c: Chan) -> tuple[str, list]:
        """A receive pattern and the locals it binds."""
        k = PAYLOADS[c.payload]
        x, y = self.fresh("m"), self.fresh("m")
        if k[0] in ("int", "bool", "enum"):
            t = ("int", k[1], k[2]) if k[0] == "int" else (k[0],)
            return (f"({x})" if self.coin() else x), [(x, t)]
        if k[0] == "tuple":
            if self.coin(0.3):
                return f"(_, {y})", [(y, ("bool",))]
            return f"({x}, {y})", [(x, ("int", 0, 1)), (y, ("bool",))]
        if k[0] == "pingack":
            if self.coin():
                return "Ack", []
            return f"Ping({x})", [(x, ("int", 0, 1))]
        if self.coin(0.3):
            return f"Pair({x}, _)", [(x, ("int", 0, 2))]
        return f"Pair({x}, {y})", [(x, ("int", 0, 2)), (y, ("bool",))]

    # ------------------------------------------------------------ statements
    def assign(self, v: Var, scope: Scope) -> str:
        x, t = v.name, v.type
        if t[0] == "rec" and self.coin(0.6):
            if self.coin():
                return f"{x}.a := {self.bool_expr(scope, 1)}"
            return f"{x}.b := {self.int_in(scope, 0, 2, 1)}"
        if t[0] == "map" and self.coin(0.7):
            return f"{x}[{self.int_in(scope, 0, 1, 0)}] := {self.int_in(scope, 0, 2, 1)}"
        if t[0] == "set" and self.coin(0.7):
            op = self.choice(["union", "minus"])
            return f"{x} := {x} {op} {{{self.int_in(scope, 0, 2, 0)}}}"
        if t[0] == "seq" and self.coin(0.7):
            if self.coin():
                grow = f"{x} := append({x}, {self.int_in(scope, 0, 1, 0)})"
                return grow if self.risky and self.coin(0.3) else f"if len({x}) < 2 {{ {grow} }}"
            if self.risky and self.coin(0.3):
                return f"{x} := tail({x})"
            return f"if len({x}) > 0 {{ {x} := tail({x}) }}"
        return f"{x} := {self.value_of(t, scope)}"

    def sendable(self, scope: Scope) -> list:
        """A handler of a sync channel runs within the sender's step: it sends on buffered
        channels only, so that a step is never an endless chain of rendezvous."""
        return self.buffered if scope.in_sync_handler else self.channels

    def block(self, scope: Scope, depth: int, n_max: int = 3, n_min: int = 0) -> str:
        out = []
        for _ in range(self.d(st.integers(n_min, n_max))):
            s, scope = self.stmt(scope, depth)
            out.append(s)
        return "{ " + "; ".join(out) + " }" if out else "{ }"

    def stmt(self, scope: Scope, depth: int) -> tuple[str, Scope]:
        opts = ["skip"] if depth < 2 else []
        if scope.writable:
            opts += ["assign"] * 6
        sendable = self.sendable(scope)
        if sendable:
            opts += ["send"] * 3
        if depth > 0:
            opts += ["if", "choose"]
        opts.append("let")
        if self.risky:
            opts += ["assert", "overflow"] if scope.writable else ["assert"]
        o = self.choice(opts)
        if o == "skip":
            return "skip", scope
        if o == "assign":
            v = self.choice(scope.writable)
            return self.assign(v, scope), scope
        if o == "overflow":
            ints = [v for v in scope.writable if v.type[0] == "int"]
            if not ints:
                return f"assert {self.bool_expr(scope, 1)}", scope
            v = self.choice(ints)
            return f"{v.name} := {v.name} + {self.d(st.integers(1, 2))}", scope
        if o == "assert":
            return f"assert {self.bool_expr(scope, 1)}", scope
        if o == "send":
            c = self.choice(sendable)
            return f"{self.chan_ref(c, scope)}!{self.payload_value(c, scope)}", scope
        if o == "let":
            name = self.fresh("t")
            value = self.int_any(scope, 1)
            return f"let {name} = {value}", scope.with_local(name, ("int", None, None))
        if o == "if":
            text = f"if {self.bool_expr(scope, 1)} {self.block(scope, depth - 1)}"
            if self.coin(0.3):
                text += f" else if {self.bool_expr(scope, 1)} {self.block(scope, depth - 1)}"
            if self.coin():
                text += f" else {self.block(scope, depth - 1)}"
            return text, scope
        z = self.fresh("z")
        inner = scope.with_local(z, ("int", 0, 2))
        dom = self.choice(["0..1", "0..2", "{0, 2}"])
        cond = f" when {self.bool_expr(inner, 1)}" if self.coin(0.4) else ""
        return f"choose {z} in {dom}{cond} {self.block(inner, depth - 1)}", scope

    # ------------------------------------------------------------ declarations
    def var_type(self) -> tuple:
        return self.choice([("bool",), ("int", 0, 1), ("int", 0, 2), ("int", 1, 2), ("enum",),
                            ("bool",), ("int", 0, 2), ("rec",), ("map",), ("set",), ("seq",)])

    def type_text(self, t: tuple) -> str:
        return {"bool": "bool", "enum": "Color", "rec": "{a: bool, b: 0..2}",
                "map": "[0..1 -> 0..2]", "set": "set of 0..2",
                "seq": "seq of 0..1 max 2"}.get(t[0]) or f"{t[1]}..{t[2]}"

    def init_text(self, t: tuple) -> str:
        o = self.choice(["default", "value", "value", "choice"])
        if o == "default":
            return ""
        if t[0] == "rec":
            return f" = {{a: {self.choice(['false', 'true'])}, b: {self.d(st.integers(0, 2))}}}"
        if t[0] == "map":
            return f" = [k in 0..1 |-> {self.choice(['k', '2 - k', '1'])}]"
        if t[0] in ("set", "seq"):
            return f" = {self.value_of(t, Scope(), 0)}"
        values = ({"bool": ["false", "true"], "enum": list(ATOMS)}.get(t[0])
                  or [str(x) for x in range(t[1], t[2] + 1)])
        if o == "value":
            return f" = {self.choice(values)}"
        chosen = self.d(st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True))
        return " in {" + ", ".join(chosen) + "}"

    def spec(self) -> str:
        self.risky = self.coin(0.2)
        n_services = self.d(st.integers(1, 3))
        self.replica = self.d(st.integers(1, 2)) if self.coin(0.4) else None
        names = [f"S{k}" for k in range(n_services - (self.replica is not None))]
        if self.replica is not None:
            names.append("R")
        # channels
        self.channels = []
        for k in range(self.d(st.integers(0, 2))):
            kind = self.choice(["sync", "fifo", "fifo", "bag", "set", "log"])
            payload = self.choice(list(PAYLOADS))
            indexed = self.replica is not None and self.coin(0.3)
            self.channels.append(Chan(f"ch{k}", kind, payload, indexed))
        self.buffered = [c for c in self.channels if c.kind != "sync"]
        lines = [f"type Color = {{{', '.join(ATOMS)}}}", MESSAGES]
        if self.replica is not None:
            lines.append(f"const NR = {self.replica}")
        for c in self.channels:
            cap = f"({self.d(st.integers(1, 2))})" if c.kind in ("fifo", "bag") else ""
            idx = "[j in 1..NR]" if c.indexed else ""
            init = ""
            if c.kind != "sync" and self.coin(0.3):  # initial contents
                n = self.d(st.integers(1, int(cap[1:-1]) if cap else 2))
                values = [self.const_payload(c) for _ in range(n)]
                init = (" = [" + ", ".join(values) + "]" if c.kind in ("fifo", "bag")
                        else " = {" + ", ".join(values) + "}")
            flags = "".join(f" {f}" for f in FLAGS[c.kind] if self.faults and self.coin(0.4))
            lines.append(f"channel {c.name}{idx}: {c.kind}{cap} of {c.payload}{flags}{init}")
        # variables: shared, then per service
        n_var = 0
        shared = []
        for _ in range(self.d(st.integers(0, 2))):
            t = self.var_type()
            shared.append(Var(f"g{n_var}", t, None))
            lines.append(f"var g{n_var}: {self.type_text(t)}{self.init_text(t)}")
            n_var += 1
        svc_vars = {}
        budget = 5 - len(shared)
        for s in names:
            k = self.d(st.integers(1 if s in (names[0], "R") else 0, max(1, min(2, budget))))
            budget -= k
            svc_vars[s] = [Var(f"x{n_var + j}", self.var_type(), s) for j in range(k)]
            n_var += k
        self.replica_vars = [(v.name, v.type) for v in svc_vars.get("R", [])]

        def scope_for(s: str | None) -> Scope:
            items = [(v.name, v.type) for v in shared]
            for other, vs in svc_vars.items():
                for v in vs:
                    if other == s:
                        items.append((v.name, v.type))
                    elif other == "R":
                        for r in range(1, self.replica + 1):
                            items.append((f"R[{r}].{v.name}", v.type))
                    else:
                        items.append((f"{other}.{v.name}", v.type))
            writable = shared + svc_vars.get(s, []) if s else []
            if s == "R":
                items.append(("i", ("int", 1, self.replica)))
            return Scope(items, writable, s, s == "R")

        for s in names:
            sc = scope_for(s)
            head = "service R[i in 1..NR]" if s == "R" else f"service {s}"
            crashable = self.faults and self.coin(0.5)
            if crashable:
                head = "crashable " + head
            body = []
            for v in svc_vars[s]:
                durable = "durable " if crashable and self.coin(0.3) else ""
                body.append(f"  {durable}var {v.name}: {self.type_text(v.type)}"
                            f"{self.init_text(v.type)}")
            for a in range(self.d(st.integers(1 if svc_vars[s] else 0, 3))):
                asc = sc
                params = ""
                if self.coin(0.3):
                    p = self.fresh("p")
                    doms = ["0..1", "1..2", "{0, 2}"] + [
                        x for x, t in sc.items if t[0] == "set"]  # a domain from the state
                    params = f"({p} in {self.choice(doms)})"
                    asc = sc.with_local(p, ("int", 0, 2))
                guard = f" when {self.bool_expr(asc)}" if self.coin(0.7) else ""
                body.append(f"  action a{a}{params}{guard} {self.block(asc, 2, n_min=1)}")
            for h in range(self.d(st.integers(0, 2)) if self.channels else 0):
                c = self.choice(self.channels)
                hsc = Scope(sc.items, sc.writable, sc.service, sc.replicated, c.kind == "sync")
                label = f"h{h}"
                ref = c.name
                if c.indexed:
                    if c.kind != "sync" and self.coin(0.3):
                        j = self.fresh("j")
                        label += f"({j} in 1..NR)"
                        ref = f"{c.name}[{j}]"
                        hsc = sc.with_local(j, ("int", 1, self.replica))
                    else:
                        ref = self.chan_ref(c, sc)
                pat, bound = self.pattern(c)
                for name, t in bound:
                    hsc = hsc.with_local(name, t)
                guard = f" when {self.bool_expr(hsc)}" if self.coin(0.4) else ""
                body.append(f"  on {label}: {ref}?{pat}{guard} {self.block(hsc, 1, n_min=1)}")
            if self.coin(0.5):
                body.append(f"  end when {self.bool_expr(sc, 1)}")
            lines.append(head + " {\n" + "\n".join(body) + "\n}")
        top = scope_for(None)
        for k in range(self.d(st.integers(0, 2))):
            lines.append(f"invariant Inv{k}: {self.bool_expr(top)}")
        if self.coin(0.3):
            lines.append(f"reachable Reach: {self.bool_expr(top)}")
        ints = [v for v in shared if v.type[0] == "int"]
        if ints and self.coin(0.1):  # bound a shared counter, as classic models do
            v = self.choice(ints)
            lines.append(f"constraint {v.name} != {self.d(st.integers(v.type[1], v.type[2]))}")
        return "\n".join(lines) + "\n"


@st.composite
def specs(draw, faults: bool = False) -> str:
    """A spec; with ``faults``, its channels may be lossy, duplicating or reordering and its
    services crashable, with durable variables."""
    return Gen(draw, faults).spec()
