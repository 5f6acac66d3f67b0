"""The architecture of a spec as a typed NetworkX multigraph.

Node ids: a service is its name; the others carry a prefix so names never clash:
``Service.Component`` (component), ``ds:NAME`` (data store), ``topic:NAME``, ``team:NAME``,
``ctx:NAME`` (bounded context). Every node has ``kind`` (service, component, datastore,
topic, team, context) and ``name``; ``context`` and ``span`` where known.

Edge ``kind``:

* ``calls``: service -> service (one edge per declared relation, ``source_component`` and
  ``target_component`` kept as attributes), and component -> component when both endpoints
  name a component (``component=True``; internal calls of a service appear only here);
* ``publishes`` (service -> topic), ``subscribes`` (topic -> service: the direction data
  flows), ``reads`` (datastore -> service), ``writes`` (service -> datastore);
* ``owns``: team -> service, and owning service -> datastore;
* ``contains``: context -> service / datastore / topic, service -> component;
* ``context_map``: upstream context -> downstream context, with ``kinds``, ``upstream_roles``,
  ``downstream_roles`` and ``symmetric``;
* ``channel``: ``derived=True`` edges read off the behaviour: a service (or a process attached
  to it) sends on a channel another service (or its process) receives from.

Every relation edge has a ``weight`` (the declared weight, 1 when none is given) and
``span``.

Diagnostics (warnings, codes to be listed in :data:`mscheck.diagnostics.CODES`):

* ``MS301``: the behaviour sends from one service to another over a channel, but the
  architecture declares no relation between them (no ``calls`` either way, no topic one
  publishes and the other subscribes to): architecture and behaviour disagree.
* ``MS302``: the behaviour reads or writes a shared variable of a data store that the
  architecture does not let that service ``reads`` / ``writes``.
"""

from __future__ import annotations

import networkx as nx

from mscheck.diagnostics import Diagnostic
from mscheck.ir import nodes as N
from mscheck.ir.walk import process_parts, statements, var_refs

__all__ = ["build_graph", "graph_warnings", "service_nodes", "node_id", "ARCH_CODES"]

#: The diagnostic codes this module emits, with a one-line summary.
ARCH_CODES = {
    "MS301": "behaviour communicates between services over an edge the architecture does not declare",
    "MS302": "behaviour uses a data store the architecture does not let the service read or write",
}


def node_id(kind: str, name: str, service: str | None = None) -> str:
    """The node id of an architecture element.

    Parameters
    ----------
    kind : {"service", "component", "datastore", "topic", "team", "context"}
        What the element is.
    name : str
        Its name in the spec.
    service : str, optional
        The service of a component.

    Returns
    -------
    str
        The name of a service; ``Service.Component`` for a component; ``ds:``, ``topic:``,
        ``team:`` or ``ctx:`` and the name for the others.

    Raises
    ------
    KeyError
        For an unknown ``kind``.

    Examples
    --------
    >>> node_id("service", "cart"), node_id("datastore", "db"), node_id("component", "Get", "cart")
    ('cart', 'ds:db', 'cart.Get')
    >>> node_id("topic", "orders"), node_id("team", "T"), node_id("context", "Shop")
    ('topic:orders', 'team:T', 'ctx:Shop')
    """
    if kind == "service":
        return name
    if kind == "component":
        return f"{service}.{name}"
    prefix = {"datastore": "ds", "topic": "topic", "team": "team", "context": "ctx"}[kind]
    return f"{prefix}:{name}"


def service_nodes(g: nx.MultiDiGraph) -> list[str]:
    """The service nodes of an architecture graph.

    Parameters
    ----------
    g : networkx.MultiDiGraph
        An architecture graph (:func:`build_graph`).

    Returns
    -------
    list of str
        The ids (names) of the nodes of kind ``service``, sorted.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("b", kind="service"); g.add_node("ds:x", kind="datastore")
    >>> g.add_node("a", kind="service")
    >>> service_nodes(g)
    ['a', 'b']
    """
    return sorted(n for n, d in g.nodes(data=True) if d.get("kind") == "service")


def _channel_use(spec: N.Spec):
    """Per service: {channel: first span} sent on and received from (attached processes
    count for their service; free processes are not services and are left out)."""
    sends: dict[str, dict[str, object]] = {}
    recvs: dict[str, dict[str, object]] = {}
    for svc in spec.services.values():
        for step in (*svc.actions, *svc.handlers):
            if isinstance(step, N.Handler) and isinstance(step.channel, N.ChanVal):
                recvs.setdefault(svc.name, {}).setdefault(step.channel.channel, step.span)
            for s in statements(step.body):
                if isinstance(s, N.Send) and isinstance(s.channel, N.ChanVal):
                    sends.setdefault(svc.name, {}).setdefault(s.channel.channel, s.span)
    for proc in spec.processes.values():
        if proc.service is None:
            continue
        for part in process_parts(proc.body):
            if isinstance(part, N.POut) and isinstance(part.channel, N.ChanVal):
                sends.setdefault(proc.service, {}).setdefault(part.channel.channel, part.span)
            elif isinstance(part, (N.PIn, N.PRepl)) and isinstance(part.channel, N.ChanVal):
                recvs.setdefault(proc.service, {}).setdefault(part.channel.channel, part.span)
    return sends, recvs


def build_graph(spec: N.Spec) -> nx.MultiDiGraph:
    """The architecture graph of a spec.

    Parameters
    ----------
    spec : mscheck.ir.nodes.Spec
        A loaded spec (:func:`mscheck.load`).

    Returns
    -------
    networkx.MultiDiGraph
        Nodes and edges as the module docstring describes; ``g.graph`` holds ``name`` (the
        system) and ``warnings`` (a list of :class:`~mscheck.diagnostics.Diagnostic`, see
        :func:`graph_warnings`). Time and size are linear in the spec.

    Examples
    --------
    >>> import mscheck
    >>> spec = mscheck.loads('''system S
    ... context A { service a { component X, Y } }
    ... context B { service b }
    ... topic t
    ... datastore db owned_by b
    ... a.X calls a.Y
    ... a calls b weight 3
    ... a publishes t
    ... b subscribes t
    ... b writes db
    ... team T owns a, b
    ... A [OHS] -> B [CF]''', "s.ms")
    >>> g = build_graph(spec)
    >>> sorted((u, v, d["kind"]) for u, v, d in g.edges(data=True) if d["kind"] != "contains")
    ... # doctest: +NORMALIZE_WHITESPACE
    [('a', 'b', 'calls'), ('a', 'topic:t', 'publishes'), ('a.X', 'a.Y', 'calls'),
     ('b', 'ds:db', 'owns'), ('b', 'ds:db', 'writes'), ('ctx:A', 'ctx:B', 'context_map'),
     ('team:T', 'a', 'owns'), ('team:T', 'b', 'owns'), ('topic:t', 'b', 'subscribes')]
    >>> g.nodes["a"]["context"], g.nodes["ds:db"]["kind"], g.edges["a", "b", 0]["weight"]
    ('A', 'datastore', 3)
    """
    g = nx.MultiDiGraph(name=spec.name)
    for ctx, span in spec.contexts.items():
        g.add_node(node_id("context", ctx), kind="context", name=ctx, span=span)
    for svc in spec.services.values():
        g.add_node(svc.name, kind="service", name=svc.name, context=svc.context, span=svc.span,
                   components=tuple(svc.components), replicated=svc.index is not None,
                   behaviour=svc.has_behaviour)
        if svc.context:
            g.add_edge(node_id("context", svc.context), svc.name, kind="contains", weight=1)
        for c in svc.components:
            cid = node_id("component", c, svc.name)
            g.add_node(cid, kind="component", name=c, service=svc.name, context=svc.context,
                       span=svc.span)
            g.add_edge(svc.name, cid, kind="contains", weight=1)
    for ds in spec.datastores.values():
        did = node_id("datastore", ds.name)
        g.add_node(did, kind="datastore", name=ds.name, owner=ds.owner, context=ds.context,
                   span=ds.span)
        if ds.context:
            g.add_edge(node_id("context", ds.context), did, kind="contains", weight=1)
        if ds.owner:
            g.add_edge(ds.owner, did, kind="owns", weight=1, span=ds.span)
    for t in spec.topics.values():
        tid = node_id("topic", t.name)
        g.add_node(tid, kind="topic", name=t.name, context=t.context, span=t.span)
        if t.context:
            g.add_edge(node_id("context", t.context), tid, kind="contains", weight=1)
    for team in spec.teams.values():
        tid = node_id("team", team.name)
        g.add_node(tid, kind="team", name=team.name, span=team.span)
        for s in team.owns:
            g.add_edge(tid, s, kind="owns", weight=1, span=team.span)
            if s in g.nodes:
                g.nodes[s]["team"] = team.name
    for r in spec.relations:
        w = 1 if r.weight is None else r.weight
        attrs = dict(kind=r.kind, weight=w, span=r.span, source_component=r.source_component,
                     target_component=r.target_component, derived=False)
        if r.kind == "calls":
            if r.source != r.target:
                g.add_edge(r.source, r.target, **attrs)
            if r.source_component and r.target_component:
                g.add_edge(node_id("component", r.source_component, r.source),
                           node_id("component", r.target_component, r.target),
                           component=True, **attrs)
        elif r.kind == "publishes":
            g.add_edge(r.source, node_id("topic", r.target), **attrs)
        elif r.kind == "subscribes":
            g.add_edge(node_id("topic", r.target), r.source, **attrs)
        elif r.kind == "reads":
            g.add_edge(node_id("datastore", r.target), r.source, **attrs)
        elif r.kind == "writes":
            g.add_edge(r.source, node_id("datastore", r.target), **attrs)
    for cr in spec.context_relations:
        g.add_edge(node_id("context", cr.upstream), node_id("context", cr.downstream),
                   kind="context_map", kinds=cr.kinds, upstream_roles=cr.upstream_roles,
                   downstream_roles=cr.downstream_roles, symmetric=cr.symmetric,
                   weight=1 if cr.weight is None else cr.weight, span=cr.span)
    sends, recvs = _channel_use(spec)
    receivers: dict[str, list[str]] = {}
    for b, chans in recvs.items():
        for ch in chans:
            receivers.setdefault(ch, []).append(b)
    derived = sorted((a, b, ch) for a, chans in sends.items() for ch in chans
                     for b in receivers.get(ch, ()) if a != b)
    for a, b, ch in derived:
        g.add_edge(a, b, kind="channel", channel=ch, derived=True, weight=1,
                   span=sends[a][ch])
    g.graph["warnings"] = graph_warnings(spec, g)
    return g


def _declared_pairs(g: nx.MultiDiGraph) -> set[tuple[str, str]]:
    pairs = set()
    pubs: dict[str, set[str]] = {}
    subs: dict[str, set[str]] = {}
    for u, v, d in g.edges(data=True):
        if d["kind"] == "calls" and not d.get("component"):
            pairs.add((u, v))
            pairs.add((v, u))  # replies travel back along a call
        elif d["kind"] == "publishes":
            pubs.setdefault(v, set()).add(u)
        elif d["kind"] == "subscribes":
            subs.setdefault(u, set()).add(v)
    for t, ps in pubs.items():
        for p in ps:
            for s in subs.get(t, ()):
                pairs.add((p, s))
    return pairs


def graph_warnings(spec: N.Spec, g: nx.MultiDiGraph) -> list[Diagnostic]:
    """Where behaviour and architecture disagree (MS301, MS302), in source order.

    MS301 is only looked for when the spec declares some ``calls``, ``publishes`` or
    ``subscribes`` relation, and MS302 only when it declares some ``reads`` or ``writes``,
    so a purely behavioural spec gives no warnings. Each service pair (MS301) and each
    service and store (MS302) is reported once.

    Parameters
    ----------
    spec : mscheck.ir.nodes.Spec
        The loaded spec.
    g : networkx.MultiDiGraph
        Its architecture graph, with the derived ``channel`` edges.

    Returns
    -------
    list of mscheck.diagnostics.Diagnostic
        Warnings, sorted by source position.

    Examples
    --------
    >>> import mscheck
    >>> spec = mscheck.loads('''system W
    ... message M
    ... channel ch: fifo(1) of M
    ... service a { action go { ch!M } }
    ... service b { on ch?M { skip } }
    ... service c
    ... a calls c''', "w.ms")
    >>> [(d.code, d.span.line) for d in graph_warnings(spec, build_graph(spec))]
    [('MS301', 4)]
    """
    out: list[Diagnostic] = []
    if any(r.kind in ("calls", "publishes", "subscribes") for r in spec.relations):
        declared = _declared_pairs(g)
        seen = set()
        for u, v, d in g.edges(data=True):
            if d.get("kind") == "channel" and (u, v) not in declared and (u, v) not in seen:
                seen.add((u, v))
                out.append(Diagnostic(
                    "MS301",
                    f"service '{u}' sends to '{v}' over channel '{d['channel']}' but the "
                    f"architecture declares no relation between them",
                    d.get("span"), "warning"))
    access = {(r.source, r.target) for r in spec.relations if r.kind in ("reads", "writes")}
    if access:
        store_of = {v.name: v.store for v in spec.shared_vars.values() if v.store}
        for svc in spec.services.values():
            for step in (*svc.actions, *svc.handlers):
                used = {r.var for r in var_refs(step) if r.owner is None}
                used |= {s.target.var for s in statements(step.body)
                         if isinstance(s, N.Assign) and s.target.owner is None}
                for var in sorted(used):
                    store = store_of.get(var)
                    if store and (svc.name, store) not in access:
                        out.append(Diagnostic(
                            "MS302",
                            f"service '{svc.name}' uses '{var}' of data store '{store}' but "
                            f"the architecture has no '{svc.name} reads/writes {store}'",
                            step.span, "warning"))
                        access.add((svc.name, store))
    out.sort(key=lambda d: (d.span is None, d.span or 0, d.code))
    return out
