"""Service-cut advice: cluster components by their relations and compare with the current cut.

The component graph is undirected and weighted:

* a call between two components adds its weight;
* a call given at service level spreads its weight evenly over every pair of components of
  the two services;
* two services that use one data store (read or write it) are linked with weight
  ``data_weight``, spread evenly over every pair of their components: a shared schema ties
  them as a call does;
* components of one service are linked with weight ``affinity`` (they share code and data
  today), so that a move is only suggested when relations pull harder than that.

Louvain community detection (NetworkX, fixed ``seed``) gives the suggested cut. Each cluster
is named after the service whose components carry the most relation weight inside it (then
the one with most components, then by name); a component
whose cluster is named after another service would move there; a service all of whose
components move to one cluster is reported as a merge.
"""

from __future__ import annotations

from collections import Counter

import networkx as nx

__all__ = ["component_graph", "suggest_cut", "cut_quality"]


def component_graph(g: nx.MultiDiGraph, affinity: float = 1.0,
                    data_weight: float = 1.0) -> nx.Graph:
    """The weighted, undirected component graph of an architecture.

    Parameters
    ----------
    g : networkx.MultiDiGraph
        The architecture graph (:func:`mscheck.arch.graph.build_graph`).
    affinity : float
        The weight linking every two components of one service.
    data_weight : float
        The weight linking two services that use one data store.

    Returns
    -------
    networkx.Graph
        A node per component (``service`` attribute), edges with ``weight``: component
        calls add their weight; a service-level call spreads its weight evenly over every
        pair of components of the two services; so does ``data_weight`` for two services
        sharing a data store; components of one service add ``affinity``. Services without
        components take no part.

    Examples
    --------
    >>> import mscheck
    >>> from mscheck.arch.graph import build_graph
    >>> g = build_graph(mscheck.loads('''system S
    ... service a { component X, Y }
    ... service b { component Z }
    ... a calls b weight 4''', "s.ms"))
    >>> sorted(component_graph(g).edges(data="weight"))
    [('a.X', 'a.Y', 1.0), ('a.X', 'b.Z', 2.0), ('a.Y', 'b.Z', 2.0)]
    """
    cg = nx.Graph()
    comps: dict[str, list[str]] = {}
    for n, d in g.nodes(data=True):
        if d.get("kind") == "component":
            cg.add_node(n, service=d["service"])
            comps.setdefault(d["service"], []).append(n)
    for s in comps:
        comps[s].sort()

    def add(a, b, w):
        if a == b:
            return
        if cg.has_edge(a, b):
            cg[a][b]["weight"] += w
        else:
            cg.add_edge(a, b, weight=w)

    for s, cs in comps.items():
        for i, a in enumerate(cs):
            for b in cs[i + 1:]:
                add(a, b, affinity)
    def spread(src, dst, w):
        pairs = [(a, b) for a in src for b in dst]
        for a, b in pairs:
            add(a, b, w / len(pairs))

    users: dict[str, set] = {}
    for u, v, d in g.edges(data=True):
        if d.get("kind") == "reads":
            users.setdefault(u, set()).add(v)
        elif d.get("kind") == "writes":
            users.setdefault(v, set()).add(u)
    for store in sorted(users):
        us = sorted(x for x in users[store] if comps.get(x))
        for i, a in enumerate(us):
            for b in us[i + 1:]:
                spread(comps[a], comps[b], data_weight)
    for u, v, d in g.edges(data=True):
        if d.get("kind") != "calls":
            continue
        w = d.get("weight", 1)
        if d.get("component"):
            add(u, v, w)
        elif d.get("source_component") is None or d.get("target_component") is None:
            src = ([f"{u}.{d['source_component']}"] if d.get("source_component")
                   else comps.get(u, []))
            dst = ([f"{v}.{d['target_component']}"] if d.get("target_component")
                   else comps.get(v, []))
            spread(src, dst, w)
    return cg


def cut_quality(cg: nx.Graph, assignment: dict[str, str]) -> dict:
    """Cohesion and coupling of a cut of the component graph.

    Parameters
    ----------
    cg : networkx.Graph
        A weighted component graph (:func:`component_graph`).
    assignment : dict
        Component -> group (a service, or a suggested cluster).

    Returns
    -------
    dict
        ``groups`` (how many), ``cohesion`` (weight inside groups / all weight) and
        ``coupling`` (the rest); both ``None`` when there is no weight.

    Examples
    --------
    >>> cg = nx.Graph([("a", "b", {"weight": 3}), ("b", "c", {"weight": 1})])
    >>> cut_quality(cg, {"a": "S", "b": "S", "c": "T"})
    {'groups': 2, 'cohesion': 0.75, 'coupling': 0.25}
    """
    total = inside = 0.0
    for a, b, w in cg.edges(data="weight"):
        total += w
        if assignment[a] == assignment[b]:
            inside += w
    return {"groups": len(set(assignment.values())),
            "cohesion": inside / total if total else None,
            "coupling": (total - inside) / total if total else None}


def suggest_cut(g: nx.MultiDiGraph, seed: int = 0, affinity: float = 1.0,
                resolution: float = 1.0, data_weight: float = 1.0) -> dict:
    """The suggested service cut beside the current one.

    Parameters
    ----------
    g : networkx.MultiDiGraph
        The architecture graph.
    seed : int
        Seed of the Louvain community detection (the result is deterministic for a seed).
    affinity : float
        Weight linking components of one service (see :func:`component_graph`).
    resolution : float
        Louvain resolution: above 1 favours more, smaller clusters.
    data_weight : float
        Weight linking services that share a data store (see :func:`component_graph`).

    Returns
    -------
    dict
        ``{"current": {...}, "suggested": {...}, "clusters": {name: [components]},
        "moves": [{"component", "from", "to"}], "merges": [{"service", "into"}]}``; the
        quality dicts as :func:`cut_quality`. A cluster is named after the service whose
        components carry most weight inside it (``name_2`` ... when two clusters would
        share a name).
        ``merges`` lists the services all of whose components move to one other cluster
        (their components are also in ``moves``).

    Examples
    --------
    >>> import mscheck
    >>> from mscheck.arch.graph import build_graph
    >>> g = build_graph(mscheck.loads('''system S
    ... service a { component X, Y }
    ... service b { component Z }
    ... a.Y calls b.Z weight 5
    ... a.X calls a.Y''', "s.ms"))
    >>> r = suggest_cut(g)
    >>> r["moves"], r["current"]["coupling"], r["suggested"]["coupling"]
    ([{'component': 'b.Z', 'from': 'b', 'to': 'a'}], 0.7142857142857143, 0.0)
    >>> r["merges"]
    [{'service': 'b', 'into': 'a'}]
    """
    cg = component_graph(g, affinity, data_weight)
    current = {n: d["service"] for n, d in cg.nodes(data=True)}
    if cg.number_of_nodes() == 0:
        empty = {"groups": 0, "cohesion": None, "coupling": None}
        return {"current": empty, "suggested": empty, "clusters": {}, "moves": [],
                "merges": []}
    communities = nx.community.louvain_communities(cg, weight="weight", seed=seed,
                                                   resolution=resolution)
    communities = sorted((sorted(c) for c in communities), key=lambda c: c[0])
    suggested: dict[str, str] = {}
    clusters: dict[str, list[str]] = {}
    for members in communities:
        inside = set(members)
        counts = Counter(current[m] for m in members)
        pull: Counter = Counter()
        for m in members:
            for nb, w in cg[m].items():
                if nb in inside:
                    pull[current[m]] += w["weight"]
        best = min(counts, key=lambda s: (-pull[s], -counts[s], s))
        name = best
        k = 2
        while name in clusters:
            name = f"{best}_{k}"
            k += 1
        clusters[name] = members
        for m in members:
            suggested[m] = name
    moves = [{"component": c, "from": current[c], "to": suggested[c]}
             for c in sorted(current) if suggested[c] != current[c]]
    targets: dict[str, set] = {}
    for c, svc in current.items():
        targets.setdefault(svc, set()).add(suggested[c])
    merges = [{"service": svc, "into": next(iter(t))} for svc, t in sorted(targets.items())
              if len(t) == 1 and next(iter(t)) != svc]
    return {"current": cut_quality(cg, current), "suggested": cut_quality(cg, suggested),
            "clusters": clusters, "moves": moves, "merges": merges}
