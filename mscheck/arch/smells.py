"""Architecture smells as rules over the architecture graph.

Each rule has a code, a default threshold (in :data:`DEFAULT_THRESHOLDS`; pass a dict to
override any of them), a severity (high, medium, low), the services involved, a message and
a source span.

======  ======================  ========  ===================================================
code    kind                    severity  fires when
======  ======================  ========  ===================================================
MS310   cyclic_dependency       high      services call each other in a cycle (an SCC of
                                          synchronous calls with more than one service)
MS311   shared_persistence      high      ``shared_persistence_min`` or more services read
                                          or write one data store (medium if one writes)
MS312   inappropriate_intimacy  medium    a service reads or writes a store another owns
MS313   hub_like                medium    AIS >= ``hub_in`` and ADS >= ``hub_out``
MS314   greedy_service          low       ADS >= ``greedy_out`` (sync calls)
MS315   long_sync_chain         medium    a chain of synchronous calls longer than
                                          ``max_chain`` calls
MS316   nano_service            low       at most ``nano_components`` components and at most
                                          ``nano_relations`` relations of any kind
MS317   distributed_monolith    high      a cycle of synchronous calls spans two or more
                                          bounded contexts
MS318   missing_api_gateway     medium    ``gateway_entries`` or more entry services: services
                                          nothing calls or publishes to (they take external
                                          input) and that are not named as a gateway
======  ======================  ========  ===================================================

Context-map validation is done when the spec is lowered (MS206, MS207, MS210, MS219) and is
not repeated here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from mscheck.arch.graph import service_nodes
from mscheck.arch.metrics import cycles, dependency_graph, longest_chain
from mscheck.diagnostics import Span

__all__ = ["Smell", "DEFAULT_THRESHOLDS", "SMELL_CODES", "detect_smells"]

DEFAULT_THRESHOLDS: dict[str, int] = {
    "shared_persistence_min": 2,
    "hub_in": 3,
    "hub_out": 3,
    "greedy_out": 6,
    "max_chain": 3,
    "nano_components": 1,
    "nano_relations": 1,
    "gateway_entries": 3,
}

SMELL_CODES: dict[str, tuple[str, str]] = {
    "MS310": ("cyclic_dependency", "services call each other in a cycle"),
    "MS311": ("shared_persistence", "several services use one data store"),
    "MS312": ("inappropriate_intimacy", "a service uses a data store another service owns"),
    "MS313": ("hub_like", "a service with both many callers and many callees"),
    "MS314": ("greedy_service", "a service that calls many other services"),
    "MS315": ("long_sync_chain", "a long chain of synchronous calls"),
    "MS316": ("nano_service", "a service too small to stand alone"),
    "MS317": ("distributed_monolith", "a cycle of synchronous calls across bounded contexts"),
    "MS318": ("missing_api_gateway", "many services take external input with no gateway"),
}

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}

_GATEWAY_WORDS = ("gateway", "gw", "edge", "proxy", "bff", "ingress")


@dataclass(frozen=True)
class Smell:
    code: str
    kind: str
    severity: str
    services: tuple[str, ...]
    message: str
    span: Span | None = field(default=None, compare=False)

    def as_dict(self) -> dict:
        s = self.span
        return {"kind": self.kind, "code": self.code, "severity": self.severity,
                "services": list(self.services), "message": self.message,
                "span": None if s is None else {"file": s.file, "line": s.line,
                                                "column": s.column}}


def _smell(code, severity, services, message, span):
    return Smell(code, SMELL_CODES[code][0], severity, tuple(services), message, span)


def _call_span(g, u, v):
    data = g.get_edge_data(u, v) or {}
    for d in data.values():
        if d["kind"] == "calls":
            return d.get("span")
    return g.nodes[u].get("span")


def detect_smells(g: nx.MultiDiGraph, thresholds: dict | None = None) -> list[Smell]:
    """Every smell of the graph, worst first (severity, then code, then services).

    >>> import mscheck
    >>> from mscheck.arch.graph import build_graph
    >>> g = build_graph(mscheck.loads('''system S
    ... context A { service a { component X, Y } }
    ... context B { service b { component X, Y } }
    ... datastore db owned_by a
    ... a calls b
    ... b calls a
    ... b writes db
    ... a writes db''', "s.ms"))
    >>> [(s.code, s.kind, s.severity, s.services) for s in detect_smells(g)]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('MS310', 'cyclic_dependency', 'high', ('a', 'b')),
     ('MS311', 'shared_persistence', 'high', ('a', 'b')),
     ('MS317', 'distributed_monolith', 'high', ('a', 'b')),
     ('MS312', 'inappropriate_intimacy', 'medium', ('b', 'a'))]
    """
    t = dict(DEFAULT_THRESHOLDS)
    if thresholds:
        unknown = set(thresholds) - set(DEFAULT_THRESHOLDS)
        if unknown:
            raise ValueError(f"unknown smell thresholds: {', '.join(sorted(unknown))}")
        t.update(thresholds)
    out: list[Smell] = []
    dg = dependency_graph(g, "sync")
    services = service_nodes(g)

    for cyc in cycles(g, "sync"):
        sub = dg.subgraph(cyc)
        u, v = min(sub.edges)
        path = nx.find_cycle(sub, source=cyc[0])
        text = " -> ".join([a for a, _ in path] + [path[0][0]])
        out.append(_smell("MS310", "high", cyc, f"cyclic dependency: {text}",
                          _call_span(g, u, v)))
        ctxs = sorted({g.nodes[s].get("context") or "-" for s in cyc})
        if len(ctxs) > 1:
            out.append(_smell("MS317", "high", cyc,
                              f"distributed monolith: the call cycle {text} spans contexts "
                              f"{', '.join(ctxs)}", _call_span(g, u, v)))

    for n, d in sorted(g.nodes(data=True)):
        if d.get("kind") != "datastore":
            continue
        readers, writers = set(), set()
        span = d.get("span")
        for _, s, e in g.out_edges(n, data=True):
            if e["kind"] == "reads":
                readers.add(s)
        for s, _, e in g.in_edges(n, data=True):
            if e["kind"] == "writes":
                writers.add(s)
        users = readers | writers
        if len(users) >= t["shared_persistence_min"]:
            sev = "high" if len(writers) >= 2 else "medium"
            out.append(_smell("MS311", sev, sorted(users),
                              f"shared persistence: data store '{d['name']}' is used by "
                              f"{', '.join(sorted(users))} ({len(writers)} writing)", span))
        owner = d.get("owner")
        if owner:
            for s in sorted(users - {owner}):
                how = "writes" if s in writers else "reads"
                out.append(_smell("MS312", "medium", (s, owner),
                                  f"inappropriate intimacy: '{s}' {how} '{d['name']}', the "
                                  f"data store of '{owner}'", span))

    for s in services:
        a, o = dg.in_degree(s), dg.out_degree(s)
        span = g.nodes[s].get("span")
        if a >= t["hub_in"] and o >= t["hub_out"]:
            out.append(_smell("MS313", "medium", (s,),
                              f"hub-like service: '{s}' has {a} callers and calls {o} services",
                              span))
        if o >= t["greedy_out"]:
            out.append(_smell("MS314", "low", (s,),
                              f"greedy service: '{s}' calls {o} services", span))

    chain = longest_chain(g, "sync")
    if len(chain) - 1 > t["max_chain"]:
        out.append(_smell("MS315", "medium", chain,
                          f"long synchronous call chain ({len(chain) - 1} calls): "
                          + " -> ".join(chain), _call_span(g, chain[0], chain[1])))

    relations = {s: 0 for s in services}
    for u, v, e in g.edges(data=True):
        if e["kind"] in ("calls", "publishes", "subscribes", "reads", "writes") \
                and not e.get("component"):
            for x in (u, v):
                if x in relations:
                    relations[x] += 1
    for s in services:
        comps = len(g.nodes[s].get("components", ()))
        if comps <= t["nano_components"] and relations[s] <= t["nano_relations"]:
            out.append(_smell("MS316", "low", (s,),
                              f"nano-service: '{s}' has {comps} component(s) and "
                              f"{relations[s]} relation(s)", g.nodes[s].get("span")))

    everything = dependency_graph(g, "all")
    entries = [s for s in services if everything.in_degree(s) == 0]
    gateways = [s for s in entries if any(w in s.lower() for w in _GATEWAY_WORDS)]
    if len(entries) >= t["gateway_entries"] and not gateways:
        out.append(_smell("MS318", "medium", entries,
                          f"missing API gateway: {len(entries)} services take external input "
                          f"({', '.join(entries)}) and none is a gateway",
                          g.nodes[entries[0]].get("span")))

    out.sort(key=lambda s: (SEVERITY_ORDER[s.severity], s.code, s.services))
    return out
