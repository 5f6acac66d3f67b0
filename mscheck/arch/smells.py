"""Architecture smells as rules over the architecture graph.

Each rule has a code, thresholds (in :data:`DEFAULT_THRESHOLDS`; pass a dict to
:func:`detect_smells` to override any of them), a severity (high, medium, low), the
services involved, a message and a source span.

======  ======================  ========  ===================================================
code    kind                    severity  fires when
======  ======================  ========  ===================================================
MS310   cyclic_dependency       high      services call each other in a cycle: an SCC of
                                          synchronous calls with ``cycle_min`` or more
                                          services
MS311   shared_persistence      high      ``shared_persistence_min`` or more services read
                                          or write one data store (high when
                                          ``shared_writers_high`` or more write it, else
                                          medium)
MS312   inappropriate_intimacy  medium    a service reads or writes a store another owns,
                                          once ``intimacy_min`` or more services other than
                                          the owner use that store
MS313   hub_like                medium    AIS >= ``hub_in`` and ADS >= ``hub_out``
MS314   greedy_service          low       ADS >= ``greedy_out`` (sync calls)
MS315   long_sync_chain         medium    a chain of synchronous calls longer than
                                          ``max_chain`` calls
MS316   nano_service            low       at most ``nano_components`` components and at most
                                          ``nano_relations`` relations of any kind
MS317   distributed_monolith    high      a cycle of synchronous calls (an SCC of two or more
                                          services) spans ``monolith_contexts`` or more
                                          bounded contexts; medium when services that must
                                          change together span that many contexts without
                                          such a cycle (see below)
MS318   missing_api_gateway     medium    ``gateway_entries`` or more entry services: services
                                          nothing calls or publishes to (they take external
                                          input) and that are not named as a gateway
======  ======================  ========  ===================================================

The thresholds, all non-negative integers (:data:`DEFAULT_THRESHOLDS`):

==========================  =======  ======================================================
key                         default  meaning
==========================  =======  ======================================================
``cycle_min``               2        fewest services in a call cycle for MS310
``shared_persistence_min``  2        fewest services using one data store for MS311
``shared_writers_high``     2        fewest writers that make MS311 high (else medium)
``intimacy_min``            1        fewest non-owner users of a store for MS312
``hub_in``                  3        fewest callers (AIS) of a hub, MS313
``hub_out``                 3        fewest callees (ADS) of a hub, MS313
``greedy_out``              6        fewest callees (ADS) of a greedy service, MS314
``max_chain``               3        longest chain of calls allowed before MS315
``nano_components``         1        most components of a nano-service, MS316
``nano_relations``          1        most relations of a nano-service, MS316
``monolith_contexts``       2        fewest contexts a call cycle spans for MS317
``gateway_entries``         3        fewest entry services without a gateway for MS318
==========================  =======  ======================================================

Services *change together* (the second form of MS317) when a change to one forces a
release of the other: they use one data store that at least one of them writes (a change to
its schema reaches every user), or one team owns both and one calls the other
synchronously (the team ships both sides of a blocking interface at once). A connected
group of such services whose members sit in ``monolith_contexts`` or more bounded contexts is
one deployable unit cut across contexts. A group with exactly the services of a call cycle
already reported as MS317 is not reported again.

A key may be written with hyphens (``max-chain``) as in a TOML configuration file.
Context-map validation is done when the spec is lowered (MS206, MS207, MS210, MS219) and is
not repeated here.

Every rule is one pass over the graph (cycles and the longest chain on the condensation of
the call graph), so :func:`detect_smells` takes time linear in the size of the architecture.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from mscheck.arch.graph import service_nodes
from mscheck.arch.metrics import _cycles, _longest_chain, _Scan
from mscheck.diagnostics import Span

__all__ = ["Smell", "DEFAULT_THRESHOLDS", "SMELL_CODES", "SEVERITY_ORDER",
           "validate_thresholds", "detect_smells"]

#: The default threshold of every rule (see the module docstring for their meaning).
DEFAULT_THRESHOLDS: dict[str, int] = {
    "cycle_min": 2,
    "shared_persistence_min": 2,
    "shared_writers_high": 2,
    "intimacy_min": 1,
    "hub_in": 3,
    "hub_out": 3,
    "greedy_out": 6,
    "max_chain": 3,
    "nano_components": 1,
    "nano_relations": 1,
    "monolith_contexts": 2,
    "gateway_entries": 3,
}

#: Code -> (kind, one-line summary) of every smell rule.
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

#: Sort order of severities, worst first.
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}

_GATEWAY_WORDS = ("gateway", "gw", "edge", "proxy", "bff", "ingress")


@dataclass(frozen=True)
class Smell:
    """One smell found in an architecture.

    Attributes
    ----------
    code : str
        The rule code, ``MS310`` to ``MS318``.
    kind : str
        The rule name (see :data:`SMELL_CODES`).
    severity : {"high", "medium", "low"}
        How bad it is.
    services : tuple of str
        The services involved (for a chain, in call order).
    message : str
        One sentence for a person.
    span : Span or None
        Where in the source; takes no part in equality.

    Examples
    --------
    >>> s = Smell("MS314", "greedy_service", "low", ("a",), "greedy service")
    >>> s.as_dict()["services"], s.as_dict()["span"]
    (['a'], None)
    """

    code: str
    kind: str
    severity: str
    services: tuple[str, ...]
    message: str
    span: Span | None = field(default=None, compare=False)

    def as_dict(self) -> dict:
        """The smell as a JSON-ready dict.

        Returns
        -------
        dict
            ``kind``, ``code``, ``severity``, ``services`` (a list), ``message`` and
            ``span`` (``{"file", "line", "column"}`` or ``None``).

        Examples
        --------
        >>> Smell("MS316", "nano_service", "low", ("a",), "small",
        ...       Span("s.ms", 2, 1)).as_dict()["span"]
        {'file': 's.ms', 'line': 2, 'column': 1}
        """
        s = self.span
        return {"kind": self.kind, "code": self.code, "severity": self.severity,
                "services": list(self.services), "message": self.message,
                "span": None if s is None else {"file": s.file, "line": s.line,
                                                "column": s.column}}


def validate_thresholds(thresholds: dict | None) -> dict[str, int]:
    """The full set of thresholds: the defaults with ``thresholds`` laid over them.

    Parameters
    ----------
    thresholds : dict or None
        Overrides, by key of :data:`DEFAULT_THRESHOLDS` (hyphens may stand for
        underscores).

    Returns
    -------
    dict
        Every key of :data:`DEFAULT_THRESHOLDS` with its value.

    Raises
    ------
    ValueError
        For an unknown key, or a value that is not a non-negative integer.

    Examples
    --------
    >>> validate_thresholds({"max-chain": 5})["max_chain"]
    5
    >>> validate_thresholds(None) == DEFAULT_THRESHOLDS
    True
    >>> validate_thresholds({"greedy": 2})
    Traceback (most recent call last):
    ...
    ValueError: unknown smell threshold(s): greedy; known: cycle_min, gateway_entries, greedy_out, hub_in, hub_out, intimacy_min, max_chain, monolith_contexts, nano_components, nano_relations, shared_persistence_min, shared_writers_high
    """
    t = dict(DEFAULT_THRESHOLDS)
    if not thresholds:
        return t
    given = {str(k).replace("-", "_"): v for k, v in thresholds.items()}
    unknown = sorted(set(given) - set(DEFAULT_THRESHOLDS))
    if unknown:
        raise ValueError(f"unknown smell threshold(s): {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(DEFAULT_THRESHOLDS))}")
    for k, v in given.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"smell threshold {k} must be a non-negative integer, not {v!r}")
    t.update(given)
    return t


def _smell(code, severity, services, message, span):
    return Smell(code, SMELL_CODES[code][0], severity, tuple(services), message, span)


def _call_span(g, u, v):
    data = g.get_edge_data(u, v) or {}
    for d in data.values():
        if d["kind"] == "calls":
            return d.get("span")
    return g.nodes[u].get("span")


def _change_together(g, dg, readers, writers, min_contexts: int, reported: set):
    """MS317 (medium) for each group of services that change together across
    ``min_contexts`` or more contexts (see the module docstring)."""
    nodes = g.nodes
    link = nx.Graph()
    why: dict[frozenset, list[str]] = {}
    spans: dict[frozenset, object] = {}
    for n in sorted(writers):
        users = sorted(readers.get(n, set()) | writers[n])
        for a, b in zip(users, users[1:]):
            link.add_edge(a, b)
        if len(users) > 1:
            key = frozenset(users)
            why.setdefault(key, []).append(f"share data store '{nodes[n]['name']}'")
            spans.setdefault(key, nodes[n].get("span"))
    team_of = {v: u for u, v, e in g.edges(data=True) if e["kind"] == "owns"
               and nodes[u].get("kind") == "team"}
    for u, v in sorted(dg.edges()):
        if u != v and u in team_of and team_of.get(v) == team_of[u]:
            link.add_edge(u, v)
            key = frozenset((u, v))
            why.setdefault(key, []).append(
                f"{nodes[team_of[u]]['name']} owns {u} and {v}, and {u} calls {v}")
            spans.setdefault(key, _call_span(g, u, v))
    out = []
    for group in nx.connected_components(link):
        members = tuple(sorted(group))
        ctxs = sorted({nodes[s].get("context") or "-" for s in members})
        if len(ctxs) < min_contexts or members in reported:
            continue
        reasons = [(sorted(k), r) for k, rs in why.items() if k <= group for r in rs]
        reasons.sort()
        span = spans[frozenset(reasons[0][0])]
        out.append(_smell("MS317", "medium", members,
                          f"distributed monolith: {', '.join(members)} change together "
                          f"across contexts {', '.join(ctxs)} ("
                          + "; ".join(r for _, r in reasons) + ")", span))
    return out


def detect_smells(g: nx.MultiDiGraph, thresholds: dict | None = None) -> list[Smell]:
    """Every smell of the architecture, worst first.

    Parameters
    ----------
    g : networkx.MultiDiGraph
        The architecture graph (:func:`mscheck.arch.graph.build_graph`).
    thresholds : dict, optional
        Overrides of :data:`DEFAULT_THRESHOLDS`; every key is honoured (see
        :func:`validate_thresholds`).

    Returns
    -------
    list of Smell
        Sorted by severity, then code, then services.

    Raises
    ------
    ValueError
        For an unknown threshold key or a bad value.

    Examples
    --------
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
    >>> [s.code for s in detect_smells(g, {"cycle_min": 3, "monolith_contexts": 3,
    ...                                    "shared_writers_high": 3, "intimacy_min": 2})]
    ['MS311']
    >>> detect_smells(g, {"shared_persistence_min": 3})[1].message
    'distributed monolith: the call cycle a -> b -> a spans contexts A, B'
    """
    t = validate_thresholds(thresholds)
    out: list[Smell] = []
    scan = _Scan(g)
    dg = scan.graph("sync")
    services = service_nodes(g)
    nodes = g.nodes

    for cyc in _cycles(dg):
        ctxs = sorted({nodes[s].get("context") or "-" for s in cyc})
        big = len(cyc) >= t["cycle_min"]
        spread = len(ctxs) >= t["monolith_contexts"]
        if not (big or spread):
            continue
        sub = dg.subgraph(cyc)
        u, v = min(sub.edges)
        path = nx.find_cycle(sub, source=cyc[0])
        text = " -> ".join([a for a, _ in path] + [path[0][0]])
        if big:
            out.append(_smell("MS310", "high", cyc, f"cyclic dependency: {text}",
                              _call_span(g, u, v)))
        if spread:
            out.append(_smell("MS317", "high", cyc,
                              f"distributed monolith: the call cycle {text} spans contexts "
                              f"{', '.join(ctxs)}", _call_span(g, u, v)))

    readers: dict[str, set] = {}
    writers: dict[str, set] = {}
    relations = dict.fromkeys(services, 0)
    for u, v, e in g.edges(data=True):
        kind = e["kind"]
        if kind == "reads":
            readers.setdefault(u, set()).add(v)
        elif kind == "writes":
            writers.setdefault(v, set()).add(u)
        if kind in ("calls", "publishes", "subscribes", "reads", "writes") \
                and not e.get("component"):
            if u in relations:
                relations[u] += 1
            if v in relations:
                relations[v] += 1

    for n, d in sorted(g.nodes(data=True)):
        if d.get("kind") != "datastore":
            continue
        span = d.get("span")
        w = writers.get(n, set())
        users = readers.get(n, set()) | w
        if len(users) >= t["shared_persistence_min"]:
            sev = "high" if len(w) >= t["shared_writers_high"] else "medium"
            out.append(_smell("MS311", sev, sorted(users),
                              f"shared persistence: data store '{d['name']}' is used by "
                              f"{', '.join(sorted(users))} ({len(w)} writing)", span))
        owner = d.get("owner")
        foreign = sorted(users - {owner}) if owner else []
        if foreign and len(foreign) >= t["intimacy_min"]:
            for s in foreign:
                how = "writes" if s in w else "reads"
                out.append(_smell("MS312", "medium", (s, owner),
                                  f"inappropriate intimacy: '{s}' {how} '{d['name']}', the "
                                  f"data store of '{owner}'", span))

    monoliths = {s.services for s in out if s.code == "MS317"}
    out.extend(_change_together(g, dg, readers, writers, t["monolith_contexts"], monoliths))

    for s in services:
        a, o = dg.in_degree(s), dg.out_degree(s)
        span = nodes[s].get("span")
        if a >= t["hub_in"] and o >= t["hub_out"]:
            out.append(_smell("MS313", "medium", (s,),
                              f"hub-like service: '{s}' has {a} callers and calls {o} services",
                              span))
        if o >= t["greedy_out"]:
            out.append(_smell("MS314", "low", (s,),
                              f"greedy service: '{s}' calls {o} services", span))
        comps = len(nodes[s].get("components", ()))
        if comps <= t["nano_components"] and relations[s] <= t["nano_relations"]:
            out.append(_smell("MS316", "low", (s,),
                              f"nano-service: '{s}' has {comps} component(s) and "
                              f"{relations[s]} relation(s)", span))

    chain = _longest_chain(dg)
    if len(chain) - 1 > t["max_chain"]:
        out.append(_smell("MS315", "medium", chain,
                          f"long synchronous call chain ({len(chain) - 1} calls): "
                          + " -> ".join(chain), _call_span(g, chain[0], chain[1])))

    depended_on = {v for _, v in scan.weights("all")}
    entries = [s for s in services if s not in depended_on]
    gateways = [s for s in entries if any(w in s.lower() for w in _GATEWAY_WORDS)]
    if entries and len(entries) >= t["gateway_entries"] and not gateways:
        out.append(_smell("MS318", "medium", entries,
                          f"missing API gateway: {len(entries)} services take external input "
                          f"({', '.join(entries)}) and none is a gateway",
                          nodes[entries[0]].get("span")))

    out.sort(key=lambda s: (SEVERITY_ORDER[s.severity], s.code, s.services))
    return out
