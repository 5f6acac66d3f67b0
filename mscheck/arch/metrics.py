"""Service and system metrics, pure functions of the architecture graph.

Definitions (Bogner et al. 2017; Martin; section 3.4 of the source document):

* AIS(s): distinct services that call s; ADS(s): distinct services s calls;
  ACS(s) = AIS(s) * ADS(s); Martin: Ca = AIS, Ce = ADS, instability I = Ce / (Ca + Ce).
* cohesion(s) = relations among s's own components / all relations s (or its components)
  takes part in; coupling(s) = cross-service relations / all relations of s. Weighted
  variants count each relation by its ``weight``.
* System: N services, E distinct caller -> callee pairs, SCF = E / (N (N - 1)), SIY =
  unordered pairs that call each other, ADCS = mean ADS, Gini of AIS and ADS.

``mode`` selects the dependencies: ``"sync"`` (``calls``), ``"async"`` (publisher ->
subscriber through a topic) or ``"all"`` (both). A value that is not defined (0 / 0) is
``None``.

The examples use the small system of :func:`_example` (``g = _example()``).
"""

from __future__ import annotations

from collections import defaultdict

import networkx as nx

from mscheck.arch.graph import service_nodes

__all__ = [
    "dependency_graph", "ais", "ads", "acs", "instability", "cohesion", "coupling",
    "service_metrics", "context_metrics", "system_metrics", "gini", "cycles",
    "longest_chain",
]

MODES = ("sync", "async", "all")

def _example():
    """The example system of the doctests."""
    import mscheck
    from mscheck.arch.graph import build_graph

    return build_graph(mscheck.loads('''system S
context A { service a { component X, Y }
            service b }
context B { service c }
topic t
a.X calls a.Y
a calls b weight 3
a calls c
b calls c
c publishes t
a subscribes t''', "s.ms"))



def _w(d, weighted):
    return d.get("weight", 1) if weighted else 1


def dependency_graph(g: nx.MultiDiGraph, mode: str = "sync") -> nx.DiGraph:
    """Services and their dependencies as a simple digraph (edge ``weight`` summed).

    >>> g = _example()
    >>> sorted(dependency_graph(g).edges(data="weight"))
    [('a', 'b', 3), ('a', 'c', 1), ('b', 'c', 1)]
    >>> sorted(dependency_graph(g, "async").edges())
    [('c', 'a')]
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    d = nx.DiGraph()
    d.add_nodes_from(service_nodes(g))
    def add(u, v, w):
        if u == v:
            return
        if d.has_edge(u, v):
            d[u][v]["weight"] += w
        else:
            d.add_edge(u, v, weight=w)
    if mode in ("sync", "all"):
        for u, v, data in g.edges(data=True):
            if data["kind"] == "calls" and not data.get("component"):
                add(u, v, data.get("weight", 1))
    if mode in ("async", "all"):
        for t, td in g.nodes(data=True):
            if td.get("kind") != "topic":
                continue
            pubs = [(u, dd.get("weight", 1)) for u, _, dd in g.in_edges(t, data=True)
                    if dd["kind"] == "publishes"]
            subs = [(v, dd.get("weight", 1)) for _, v, dd in g.out_edges(t, data=True)
                    if dd["kind"] == "subscribes"]
            for p, w in pubs:
                for s, _ in subs:
                    add(p, s, w)
    return d


def ais(g, service: str, mode: str = "sync") -> int:
    """Distinct services that call ``service``.

    >>> g = _example()
    >>> ais(g, "c"), ais(g, "a"), ais(g, "a", "all")
    (2, 0, 1)
    """
    return dependency_graph(g, mode).in_degree(service)


def ads(g, service: str, mode: str = "sync") -> int:
    """Distinct services ``service`` calls.

    >>> g = _example()
    >>> ads(g, "a"), ads(g, "c"), ads(g, "c", "async")
    (2, 0, 1)
    """
    return dependency_graph(g, mode).out_degree(service)


def acs(g, service: str, mode: str = "sync") -> int:
    """AIS * ADS.

    >>> g = _example()
    >>> acs(g, "b")
    1
    """
    return ais(g, service, mode) * ads(g, service, mode)


def instability(ca: int, ce: int) -> float | None:
    """Martin's instability Ce / (Ca + Ce); ``None`` for an isolated element.

    >>> instability(1, 3), instability(0, 0)
    (0.75, None)
    """
    return None if ca + ce == 0 else ce / (ca + ce)


def _relations(g, mode: str):
    """(source service, target service, weight) of every relation counted for cohesion:
    service-level and internal component calls; publisher -> subscriber pairs for async."""
    out = []
    if mode in ("sync", "all"):
        for u, v, d in g.edges(data=True):
            if d["kind"] != "calls":
                continue
            if d.get("component"):
                su, sv = g.nodes[u]["service"], g.nodes[v]["service"]
                if su == sv:
                    out.append((su, sv, d.get("weight", 1)))
            else:
                out.append((u, v, d.get("weight", 1)))
    if mode in ("async", "all"):
        dg = dependency_graph(g, "async")
        out.extend((u, v, w) for u, v, w in dg.edges(data="weight"))
    return out


def _unit_cohesion(g, members: set[str], mode: str, weighted: bool):
    inside = total = 0
    for u, v, w in _relations(g, mode):
        if u in members or v in members:
            x = w if weighted else 1
            total += x
            if u in members and v in members:
                inside += x
    return inside, total


def cohesion(g, service: str, mode: str = "sync", weighted: bool = False) -> float | None:
    """Relations among the service's own components / all relations it takes part in.

    >>> g = _example()
    >>> cohesion(g, "a"), cohesion(g, "a", weighted=True), cohesion(g, "c", "async")
    (0.3333333333333333, 0.2, 0.0)
    """
    inside, total = _unit_cohesion(g, {service}, mode, weighted)
    return None if total == 0 else inside / total


def coupling(g, service: str, mode: str = "sync", weighted: bool = False) -> float | None:
    """Cross-service relations / all relations the service takes part in.

    >>> g = _example()
    >>> coupling(g, "a"), coupling(g, "b", weighted=True)
    (0.6666666666666666, 1.0)
    """
    inside, total = _unit_cohesion(g, {service}, mode, weighted)
    return None if total == 0 else (total - inside) / total


def _fan(dg, members):
    ins = {u for m in members for u in dg.predecessors(m)} - members
    outs = {v for m in members for v in dg.successors(m)} - members
    return ins, outs


def service_metrics(g, mode: str = "sync") -> dict[str, dict]:
    """Per service: AIS, ADS, ACS, Ca, Ce, instability, RIS, RCS, cohesion and coupling
    (unweighted and ``_w`` weighted). RIS = AIS / (N - 1), RCS = ADS / (N - 1).

    >>> g = _example()
    >>> m = service_metrics(g)
    >>> m["a"]["ADS"], m["c"]["AIS"], m["b"]["instability"], m["c"]["RIS"]
    (2, 2, 0.5, 1.0)
    """
    dg = dependency_graph(g, mode)
    n = dg.number_of_nodes()
    out = {}
    for s in sorted(dg.nodes):
        a, d = dg.in_degree(s), dg.out_degree(s)
        out[s] = {
            "context": g.nodes[s].get("context"),
            "team": g.nodes[s].get("team"),
            "AIS": a, "ADS": d, "ACS": a * d, "Ca": a, "Ce": d,
            "instability": instability(a, d),
            "RIS": a / (n - 1) if n > 1 else None,
            "RCS": d / (n - 1) if n > 1 else None,
            "cohesion": cohesion(g, s, mode), "coupling": coupling(g, s, mode),
            "cohesion_w": cohesion(g, s, mode, True), "coupling_w": coupling(g, s, mode, True),
        }
    return out


def _contexts(g):
    members = defaultdict(set)
    for s in service_nodes(g):
        c = g.nodes[s].get("context")
        if c:
            members[c].add(s)
    for n, d in g.nodes(data=True):
        if d.get("kind") == "context":
            members.setdefault(d["name"], set())
    return members


def context_metrics(g, mode: str = "sync") -> dict[str, dict]:
    """The same per bounded context: a context depends on another when one of its services
    depends on one of the other's.

    >>> g = _example()
    >>> m = context_metrics(g)
    >>> m["A"]["ADS"], m["B"]["AIS"], m["A"]["cohesion"], m["A"]["services"]
    (1, 1, 0.5, ['a', 'b'])
    """
    dg = dependency_graph(g, mode)
    members = _contexts(g)
    out = {}
    for c in sorted(members):
        m = members[c]
        ins, outs = _fan(dg, m)
        cin = {g.nodes[u].get("context") for u in ins}
        cout = {g.nodes[v].get("context") for v in outs}
        a, d = len(cin), len(cout)
        i_u, t_u = _unit_cohesion(g, m, mode, False)
        i_w, t_w = _unit_cohesion(g, m, mode, True)
        out[c] = {
            "services": sorted(m), "AIS": a, "ADS": d, "ACS": a * d, "Ca": a, "Ce": d,
            "instability": instability(a, d),
            "cohesion": i_u / t_u if t_u else None,
            "coupling": (t_u - i_u) / t_u if t_u else None,
            "cohesion_w": i_w / t_w if t_w else None,
            "coupling_w": (t_w - i_w) / t_w if t_w else None,
        }
    return out


def gini(values) -> float | None:
    """Gini coefficient of non-negative values (0: all equal); ``None`` when all are 0.

    >>> gini([1, 1, 1]), gini([0, 0, 3]), gini([0, 0])
    (0.0, 0.6666666666666666, None)
    """
    xs = list(values)
    n = len(xs)
    total = sum(xs)
    if n == 0 or total == 0:
        return None
    diff = sum(abs(x - y) for x in xs for y in xs)
    return diff / (2 * n * total)


def cycles(g, mode: str = "sync") -> list[list[str]]:
    """Strongly connected groups of more than one service, each sorted, sorted.

    >>> g = _example()
    >>> cycles(g), cycles(g, "all")
    ([], [['a', 'b', 'c']])
    """
    dg = dependency_graph(g, mode)
    return sorted(sorted(c) for c in nx.strongly_connected_components(dg) if len(c) > 1)


def longest_chain(g, mode: str = "sync") -> list[str]:
    """The longest chain of calls (services in order), over the graph with each cycle
    collapsed (a cycle counts once); ties broken by name.

    >>> g = _example()
    >>> longest_chain(g)
    ['a', 'b', 'c']
    """
    dg = dependency_graph(g, mode)
    if dg.number_of_nodes() == 0:
        return []
    cond = nx.condensation(dg)
    best: dict[int, list] = {}
    for n in reversed(list(nx.lexicographical_topological_sort(
            cond, key=lambda x: min(cond.nodes[x]["members"])))):
        rep = min(cond.nodes[n]["members"])
        tails = [best[m] for m in cond.successors(n)]
        tail = max(tails, key=lambda t: (len(t), [-ord(ch) for ch in "".join(t)]), default=[])
        best[n] = [rep, *tail]
    return max(best.values(), key=lambda t: (len(t), [-ord(ch) for ch in "".join(t)]))


def system_metrics(g, mode: str = "sync") -> dict:
    """System-wide figures.

    >>> g = _example()
    >>> m = system_metrics(g)
    >>> m["N"], m["E"], m["SCF"], m["SIY"], m["ADCS"], m["cycles"], m["longest_chain"]
    (3, 3, 0.5, 0, 1.0, 0, 2)
    >>> m["cohesion"], m["coupling"]
    (0.25, 0.75)
    """
    dg = dependency_graph(g, mode)
    n, e = dg.number_of_nodes(), dg.number_of_edges()
    siy = sum(1 for u, v in dg.edges if u < v and dg.has_edge(v, u))
    ais_v = [dg.in_degree(s) for s in dg.nodes]
    ads_v = [dg.out_degree(s) for s in dg.nodes]
    rels = _relations(g, mode)
    total_u = len(rels)
    inside_u = sum(1 for u, v, _ in rels if u == v)
    total_w = sum(w for _, _, w in rels)
    inside_w = sum(w for u, v, w in rels if u == v)
    chain = longest_chain(g, mode)
    return {
        "N": n, "E": e,
        "SCF": e / (n * (n - 1)) if n > 1 else None,
        "SIY": siy,
        "ADCS": sum(ads_v) / n if n else None,
        "AIS_max": max(ais_v, default=0), "ADS_max": max(ads_v, default=0),
        "gini_AIS": gini(ais_v), "gini_ADS": gini(ads_v),
        "cycles": len(cycles(g, mode)),
        "longest_chain": max(len(chain) - 1, 0),
        "cohesion": inside_u / total_u if total_u else None,
        "coupling": (total_u - inside_u) / total_u if total_u else None,
        "cohesion_w": inside_w / total_w if total_w else None,
        "coupling_w": (total_w - inside_w) / total_w if total_w else None,
    }
