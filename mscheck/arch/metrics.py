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

Every function takes time linear in the size of the graph (the Gini coefficient sorts), so
the whole set runs in well under a second on thousands of services and tens of thousands
of edges (``bench/metrics.py``). The per-service functions :func:`ais`, :func:`ads`,
:func:`acs`, :func:`cohesion` and :func:`coupling` each build the dependency graph once;
for every service at once use :func:`service_metrics`.

The examples use the small system of :func:`_example` (``g = _example()``): services ``a``
(components ``X`` and ``Y``) and ``b`` in context ``A``, ``c`` in context ``B``; ``a.X calls
a.Y``, ``a calls b weight 3``, ``a calls c``, ``b calls c``; ``c`` publishes topic ``t``,
which ``a`` subscribes to.
"""

from __future__ import annotations

from collections import defaultdict

import networkx as nx

from mscheck.arch.graph import service_nodes

__all__ = [
    "MODES", "dependency_graph", "ais", "ads", "acs", "instability", "cohesion", "coupling",
    "service_metrics", "context_metrics", "system_metrics", "gini", "cycles",
    "longest_chain",
]

#: The dependency modes every metric accepts.
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


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")


def dependency_graph(g: nx.MultiDiGraph, mode: str = "sync") -> nx.DiGraph:
    """Services and their dependencies as a simple digraph.

    Parameters
    ----------
    g : networkx.MultiDiGraph
        The architecture graph (:func:`mscheck.arch.graph.build_graph`).
    mode : {"sync", "async", "all"}
        ``"sync"``: an edge per caller -> callee pair of service-level ``calls``;
        ``"async"``: an edge per publisher -> subscriber pair of a topic; ``"all"``: both.

    Returns
    -------
    networkx.DiGraph
        Every service as a node (isolated ones too); an edge ``u -> v`` when ``u`` depends
        on ``v``, with ``weight`` the sum of the weights of the relations behind it (for a
        topic, the weight of the ``publishes`` relation). Self-dependencies are left out.

    Raises
    ------
    ValueError
        For an unknown ``mode``.

    Examples
    --------
    >>> g = _example()
    >>> sorted(dependency_graph(g).edges(data="weight"))
    [('a', 'b', 3), ('a', 'c', 1), ('b', 'c', 1)]
    >>> sorted(dependency_graph(g, "async").edges())
    [('c', 'a')]
    >>> sorted(dependency_graph(g, "all").edges())
    [('a', 'b'), ('a', 'c'), ('b', 'c'), ('c', 'a')]
    """
    return _Scan(g).graph(mode)


class _Scan:
    """What every metric needs of the architecture graph, read in one pass over its edges:
    service-level calls, component calls inside one service, publishers and subscribers."""

    def __init__(self, g: nx.MultiDiGraph):
        self.services = service_nodes(g)
        self.calls: list[tuple[str, str, int]] = []     # service level, one per relation
        self.internal: list[tuple[str, str, int]] = []  # component calls inside a service
        pubs: dict[str, list] = defaultdict(list)
        subs: dict[str, list] = defaultdict(list)
        nodes = g.nodes
        for u, v, d in g.edges(data=True):
            kind = d["kind"]
            if kind == "calls":
                w = d.get("weight", 1)
                if not d.get("component"):
                    self.calls.append((u, v, w))
                else:
                    su = nodes[u]["service"]
                    if su == nodes[v]["service"]:
                        self.internal.append((su, su, w))
            elif kind == "publishes":
                pubs[v].append((u, d.get("weight", 1)))
            elif kind == "subscribes":
                subs[u].append(v)
        self.messages: dict[tuple[str, str], int] = {}  # publisher -> subscriber, summed
        for t in sorted(pubs):
            for p, w in pubs[t]:
                for q in subs.get(t, ()):
                    if p != q:
                        self.messages[p, q] = self.messages.get((p, q), 0) + w

    def weights(self, mode: str) -> dict[tuple[str, str], int]:
        _check_mode(mode)
        out: dict[tuple[str, str], int] = {}
        if mode in ("sync", "all"):
            for u, v, w in self.calls:
                if u != v:
                    out[u, v] = out.get((u, v), 0) + w
        if mode in ("async", "all"):
            for k, w in self.messages.items():
                out[k] = out.get(k, 0) + w
        return out

    def graph(self, mode: str) -> nx.DiGraph:
        d = nx.DiGraph()
        d.add_nodes_from(self.services)
        d.add_weighted_edges_from((u, v, w) for (u, v), w in self.weights(mode).items())
        return d

    def relations(self, mode: str) -> list[tuple[str, str, int]]:
        """(source service, target service, weight) of every relation counted for
        cohesion: service-level calls and component calls inside one service;
        publisher -> subscriber pairs (summed per pair) for async."""
        _check_mode(mode)
        out = []
        if mode in ("sync", "all"):
            out.extend(self.calls)
            out.extend(self.internal)
        if mode in ("async", "all"):
            out.extend((u, v, w) for (u, v), w in self.messages.items())
        return out


def ais(g: nx.MultiDiGraph, service: str, mode: str = "sync") -> int:
    """Absolute importance of a service: the distinct services that depend on it.

    Parameters
    ----------
    g : networkx.MultiDiGraph
        The architecture graph.
    service : str
        A service name.
    mode : {"sync", "async", "all"}
        Which dependencies count (see :func:`dependency_graph`).

    Returns
    -------
    int
        AIS(service), Martin's afferent coupling Ca.

    Examples
    --------
    >>> g = _example()
    >>> ais(g, "c"), ais(g, "a"), ais(g, "a", "all")
    (2, 0, 1)
    """
    return dependency_graph(g, mode).in_degree(service)


def ads(g: nx.MultiDiGraph, service: str, mode: str = "sync") -> int:
    """Absolute dependence of a service: the distinct services it depends on.

    Parameters
    ----------
    g : networkx.MultiDiGraph
        The architecture graph.
    service : str
        A service name.
    mode : {"sync", "async", "all"}
        Which dependencies count (see :func:`dependency_graph`).

    Returns
    -------
    int
        ADS(service), Martin's efferent coupling Ce.

    Examples
    --------
    >>> g = _example()
    >>> ads(g, "a"), ads(g, "c"), ads(g, "c", "async")
    (2, 0, 1)
    """
    return dependency_graph(g, mode).out_degree(service)


def acs(g: nx.MultiDiGraph, service: str, mode: str = "sync") -> int:
    """Absolute criticality of a service: AIS * ADS.

    Parameters
    ----------
    g : networkx.MultiDiGraph
        The architecture graph.
    service : str
        A service name.
    mode : {"sync", "async", "all"}
        Which dependencies count (see :func:`dependency_graph`).

    Returns
    -------
    int
        ACS(service).

    Examples
    --------
    >>> g = _example()
    >>> acs(g, "b"), acs(g, "a")
    (1, 0)
    """
    dg = dependency_graph(g, mode)
    return dg.in_degree(service) * dg.out_degree(service)


def instability(ca: int, ce: int) -> float | None:
    """Martin's instability Ce / (Ca + Ce).

    Parameters
    ----------
    ca : int
        Afferent coupling (incoming dependencies).
    ce : int
        Efferent coupling (outgoing dependencies).

    Returns
    -------
    float or None
        0 for a maximally stable element, 1 for a maximally unstable one; ``None`` for an
        isolated element (``ca + ce == 0``).

    Examples
    --------
    >>> instability(1, 3), instability(0, 0), instability(2, 0)
    (0.75, None, 0.0)
    """
    return None if ca + ce == 0 else ce / (ca + ce)


def _tally(rels, unit_of) -> tuple[dict, dict]:
    """Per unit: [inside, total] unweighted and weighted, in one pass over ``rels``; a
    relation is inside a unit when both ends belong to it."""
    plain: dict = defaultdict(lambda: [0, 0])
    heavy: dict = defaultdict(lambda: [0, 0])
    for u, v, w in rels:
        a, b = unit_of(u), unit_of(v)
        if a is not None and a == b:
            plain[a][0] += 1
            plain[a][1] += 1
            heavy[a][0] += w
            heavy[a][1] += w
            continue
        for x in (a, b):
            if x is not None:
                plain[x][1] += 1
                heavy[x][1] += w
    return plain, heavy


def _ratio(pair, inside: bool):
    i, t = pair
    if t == 0:
        return None
    return i / t if inside else (t - i) / t


def _unit_ratio(g, service, mode, weighted, inside):
    _check_mode(mode)
    if service not in g.nodes or g.nodes[service].get("kind") != "service":
        return None
    rels = [r for r in _Scan(g).relations(mode) if r[0] == service or r[1] == service]
    plain, heavy = _tally(rels, lambda s: s if s == service else None)
    return _ratio((heavy if weighted else plain)[service], inside)


def cohesion(g: nx.MultiDiGraph, service: str, mode: str = "sync",
             weighted: bool = False) -> float | None:
    """Relations among the service's own components / all relations it takes part in.

    Parameters
    ----------
    g : networkx.MultiDiGraph
        The architecture graph.
    service : str
        A service name.
    mode : {"sync", "async", "all"}
        Which relations count: ``calls`` (service level, and component calls inside one
        service), publisher -> subscriber pairs, or both.
    weighted : bool
        Count each relation by its ``weight`` instead of once.

    Returns
    -------
    float or None
        A value in [0, 1]; ``None`` when the service takes part in no relation (or is not
        a service of ``g``).

    Examples
    --------
    >>> g = _example()
    >>> cohesion(g, "a"), cohesion(g, "a", weighted=True), cohesion(g, "c", "async")
    (0.3333333333333333, 0.2, 0.0)
    """
    return _unit_ratio(g, service, mode, weighted, True)


def coupling(g: nx.MultiDiGraph, service: str, mode: str = "sync",
             weighted: bool = False) -> float | None:
    """Cross-service relations / all relations the service takes part in.

    The complement of :func:`cohesion` (``coupling = 1 - cohesion`` when both are defined).

    Parameters
    ----------
    g : networkx.MultiDiGraph
        The architecture graph.
    service : str
        A service name.
    mode : {"sync", "async", "all"}
        Which relations count (as for :func:`cohesion`).
    weighted : bool
        Count each relation by its ``weight`` instead of once.

    Returns
    -------
    float or None
        A value in [0, 1]; ``None`` when the service takes part in no relation.

    Examples
    --------
    >>> g = _example()
    >>> coupling(g, "a"), coupling(g, "b", weighted=True), coupling(g, "c", "async")
    (0.6666666666666666, 1.0, 1.0)
    """
    return _unit_ratio(g, service, mode, weighted, False)


def service_metrics(g: nx.MultiDiGraph, mode: str = "sync") -> dict[str, dict]:
    """Every per-service metric, for all services at once (one pass over the graph).

    Parameters
    ----------
    g : networkx.MultiDiGraph
        The architecture graph.
    mode : {"sync", "async", "all"}
        Which dependencies and relations count.

    Returns
    -------
    dict
        Service name (sorted) -> ``{"context", "team", "AIS", "ADS", "ACS", "Ca", "Ce",
        "instability", "RIS", "RCS", "cohesion", "coupling", "cohesion_w",
        "coupling_w"}``. RIS = AIS / (N - 1) and RCS = ADS / (N - 1) are the relative
        figures (``None`` when N < 2); ``_w`` marks the weighted variants.

    Examples
    --------
    >>> g = _example()
    >>> m = service_metrics(g)
    >>> m["a"]["ADS"], m["c"]["AIS"], m["b"]["instability"], m["c"]["RIS"]
    (2, 2, 0.5, 1.0)
    >>> m["a"]["cohesion"], m["a"]["coupling_w"], m["a"]["context"]
    (0.3333333333333333, 0.8, 'A')
    >>> service_metrics(g, "async")["a"]["AIS"]
    1
    """
    scan = _Scan(g)
    dg = scan.graph(mode)
    n = dg.number_of_nodes()
    plain, heavy = _tally(scan.relations(mode), lambda s: s)
    out = {}
    for s in sorted(dg.nodes):
        a, d = dg.in_degree(s), dg.out_degree(s)
        node = g.nodes[s]
        p, h = plain.get(s, (0, 0)), heavy.get(s, (0, 0))
        out[s] = {
            "context": node.get("context"),
            "team": node.get("team"),
            "AIS": a, "ADS": d, "ACS": a * d, "Ca": a, "Ce": d,
            "instability": instability(a, d),
            "RIS": a / (n - 1) if n > 1 else None,
            "RCS": d / (n - 1) if n > 1 else None,
            "cohesion": _ratio(p, True), "coupling": _ratio(p, False),
            "cohesion_w": _ratio(h, True), "coupling_w": _ratio(h, False),
        }
    return out


def _contexts(g: nx.MultiDiGraph) -> dict[str, set[str]]:
    members: dict[str, set[str]] = defaultdict(set)
    for n, d in g.nodes(data=True):
        kind = d.get("kind")
        if kind == "context":
            members[d["name"]]
        elif kind == "service" and d.get("context"):
            members[d["context"]].add(n)
    return members


def context_metrics(g: nx.MultiDiGraph, mode: str = "sync") -> dict[str, dict]:
    """The service metrics lifted to bounded contexts.

    A context depends on another when one of its services depends on one of the other's;
    AIS and ADS count distinct contexts (services outside every context count together as
    one). Cohesion and coupling count the relations of the context's services: a relation
    between two services of the context is inside it.

    Parameters
    ----------
    g : networkx.MultiDiGraph
        The architecture graph.
    mode : {"sync", "async", "all"}
        Which dependencies and relations count.

    Returns
    -------
    dict
        Context name (sorted) -> ``{"services" (sorted names), "AIS", "ADS", "ACS", "Ca",
        "Ce", "instability", "cohesion", "coupling", "cohesion_w", "coupling_w"}``.

    Examples
    --------
    >>> g = _example()
    >>> m = context_metrics(g)
    >>> m["A"]["ADS"], m["B"]["AIS"], m["A"]["cohesion"], m["A"]["services"]
    (1, 1, 0.5, ['a', 'b'])
    >>> m["B"]["instability"], context_metrics(g, "all")["B"]["ADS"]
    (0.0, 1)
    """
    scan = _Scan(g)
    dg = scan.graph(mode)
    members = _contexts(g)
    ctx = {s: g.nodes[s].get("context") for s in dg.nodes}
    cin: dict[str, set] = defaultdict(set)
    cout: dict[str, set] = defaultdict(set)
    for u, v in dg.edges:
        cu, cv = ctx[u], ctx[v]
        if cu == cv:
            continue
        if cv is not None:
            cin[cv].add(cu)
        if cu is not None:
            cout[cu].add(cv)
    plain, heavy = _tally(scan.relations(mode), ctx.get)
    out = {}
    for c in sorted(members):
        a, d = len(cin.get(c, ())), len(cout.get(c, ()))
        p, h = plain.get(c, (0, 0)), heavy.get(c, (0, 0))
        out[c] = {
            "services": sorted(members[c]), "AIS": a, "ADS": d, "ACS": a * d, "Ca": a,
            "Ce": d, "instability": instability(a, d),
            "cohesion": _ratio(p, True), "coupling": _ratio(p, False),
            "cohesion_w": _ratio(h, True), "coupling_w": _ratio(h, False),
        }
    return out


def gini(values) -> float | None:
    """Gini coefficient of non-negative values.

    Computed from the sorted values in O(n log n): sum |x_i - x_j| over all ordered pairs
    is 2 * sum_i (2i - n + 1) x_(i) for the ascending x_(0) <= ... <= x_(n-1).

    Parameters
    ----------
    values : iterable of int or float
        Non-negative values (e.g. AIS of every service).

    Returns
    -------
    float or None
        sum |x_i - x_j| / (2 n sum x): 0 when all values are equal, approaching 1 when one
        value holds everything; ``None`` when there are no values or all are 0.

    Examples
    --------
    >>> gini([1, 1, 1]), gini([0, 0, 3]), gini([0, 0]), gini([])
    (0.0, 0.6666666666666666, None, None)
    >>> gini([3, 1, 2])
    0.2222222222222222
    """
    xs = sorted(values)
    n = len(xs)
    total = sum(xs)
    if n == 0 or total == 0:
        return None
    diff = 2 * sum((2 * i - n + 1) * x for i, x in enumerate(xs))
    return diff / (2 * n * total)


def cycles(g: nx.MultiDiGraph, mode: str = "sync") -> list[list[str]]:
    """Groups of services that depend on each other in a cycle.

    Parameters
    ----------
    g : networkx.MultiDiGraph
        The architecture graph.
    mode : {"sync", "async", "all"}
        Which dependencies count.

    Returns
    -------
    list of list of str
        The strongly connected components of more than one service, each sorted, in
        sorted order.

    Examples
    --------
    >>> g = _example()
    >>> cycles(g), cycles(g, "all")
    ([], [['a', 'b', 'c']])
    """
    return _cycles(dependency_graph(g, mode))


def _cycles(dg: nx.DiGraph) -> list[list[str]]:
    return sorted(sorted(c) for c in nx.strongly_connected_components(dg) if len(c) > 1)


def longest_chain(g: nx.MultiDiGraph, mode: str = "sync") -> list[str]:
    """The longest chain of dependencies, as the services in order.

    Every cycle is collapsed into one step (the condensation of the dependency graph) and
    appears in the chain as its alphabetically first service. The chain is a longest path
    of that acyclic graph, found by dynamic programming in reverse topological order in
    time linear in its size (no path is enumerated).

    Parameters
    ----------
    g : networkx.MultiDiGraph
        The architecture graph.
    mode : {"sync", "async", "all"}
        Which dependencies count.

    Returns
    -------
    list of str
        The services of the chain in order (``len - 1`` calls long); among chains of the
        greatest length the one whose sequence of names is smallest. ``[]`` when there is
        no service.

    Examples
    --------
    >>> g = _example()
    >>> longest_chain(g), longest_chain(g, "async"), longest_chain(g, "all")
    (['a', 'b', 'c'], ['c', 'a'], ['a'])
    """
    return _longest_chain(dependency_graph(g, mode))


def _longest_chain(dg: nx.DiGraph) -> list[str]:
    if dg.number_of_nodes() == 0:
        return []
    # The condensation, by hand: each strongly connected component becomes one node named
    # by its smallest member (names are distinct, so the members identify the component).
    rep: dict[str, str] = {}
    for comp in nx.strongly_connected_components(dg):
        r = min(comp)
        for s in comp:
            rep[s] = r
    succ: dict[str, set[str]] = {r: set() for r in rep.values()}
    indeg: dict[str, int] = dict.fromkeys(succ, 0)
    for u, v in dg.edges:
        a, b = rep[u], rep[v]
        if a != b and b not in succ[a]:
            succ[a].add(b)
            indeg[b] += 1
    order = [r for r, k in indeg.items() if k == 0]
    for r in order:  # Kahn's algorithm: ``order`` grows while it is walked
        for m in succ[r]:
            indeg[m] -= 1
            if indeg[m] == 0:
                order.append(m)
    # Representatives are distinct, so two chains of one length compare on their first
    # service alone: the smallest longest chain from r continues with the successor of
    # greatest length whose name is smallest.
    length: dict[str, int] = {}
    nxt: dict[str, str | None] = {}
    for r in reversed(order):
        best, best_len = None, 0
        for m in succ[r]:
            if length[m] > best_len or (length[m] == best_len and m < best):
                best, best_len = m, length[m]
        nxt[r] = best
        length[r] = best_len + 1
    start: str | None = min(length, key=lambda r: (-length[r], r))
    chain = []
    while start is not None:
        chain.append(start)
        start = nxt[start]
    return chain


def system_metrics(g: nx.MultiDiGraph, mode: str = "sync") -> dict:
    """System-wide figures.

    Parameters
    ----------
    g : networkx.MultiDiGraph
        The architecture graph.
    mode : {"sync", "async", "all"}
        Which dependencies and relations count.

    Returns
    -------
    dict
        ``N`` services; ``E`` distinct dependency pairs; ``SCF`` = E / (N (N - 1)) (service
        coupling factor, ``None`` when N < 2); ``SIY`` pairs that depend on each other;
        ``ADCS`` mean ADS; ``AIS_max``, ``ADS_max``; ``gini_AIS``, ``gini_ADS``
        (:func:`gini`); ``cycles`` (how many :func:`cycles`); ``longest_chain`` (calls in
        :func:`longest_chain`); ``cohesion`` / ``coupling`` over all relations (inside one
        service / across services) and their weighted ``_w`` variants.

    Examples
    --------
    >>> g = _example()
    >>> m = system_metrics(g)
    >>> m["N"], m["E"], m["SCF"], m["SIY"], m["ADCS"], m["cycles"], m["longest_chain"]
    (3, 3, 0.5, 0, 1.0, 0, 2)
    >>> m["cohesion"], m["coupling"], m["gini_AIS"], m["AIS_max"]
    (0.25, 0.75, 0.4444444444444444, 2)
    >>> a = system_metrics(g, "all")
    >>> a["E"], a["cycles"], a["longest_chain"]
    (4, 1, 0)
    """
    scan = _Scan(g)
    dg = scan.graph(mode)
    n, e = dg.number_of_nodes(), dg.number_of_edges()
    siy = sum(1 for u, v in dg.edges if u < v and dg.has_edge(v, u))
    ais_v = [d for _, d in dg.in_degree()]
    ads_v = [d for _, d in dg.out_degree()]
    rels = scan.relations(mode)
    total_u = len(rels)
    inside_u = sum(1 for u, v, _ in rels if u == v)
    total_w = sum(w for _, _, w in rels)
    inside_w = sum(w for u, v, w in rels if u == v)
    chain = _longest_chain(dg)
    return {
        "N": n, "E": e,
        "SCF": e / (n * (n - 1)) if n > 1 else None,
        "SIY": siy,
        "ADCS": sum(ads_v) / n if n else None,
        "AIS_max": max(ais_v, default=0), "ADS_max": max(ads_v, default=0),
        "gini_AIS": gini(ais_v), "gini_ADS": gini(ads_v),
        "cycles": len(_cycles(dg)),
        "longest_chain": max(len(chain) - 1, 0),
        "cohesion": inside_u / total_u if total_u else None,
        "coupling": (total_u - inside_u) / total_u if total_u else None,
        "cohesion_w": inside_w / total_w if total_w else None,
        "coupling_w": (total_w - inside_w) / total_w if total_w else None,
    }
