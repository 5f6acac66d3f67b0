"""Liveness under fairness, on the explicit state graph: a search for an accepting lasso.

A property ``P ~> Q`` (``leadsto``) fails when some reachable state satisfies ``P and not Q``
and from there a *fair* infinite behaviour never reaches ``Q``. ``eventually Q`` is
``init ~> Q`` and ``always eventually Q`` is ``true ~> Q``. A state with no step stutters
for ever (it is a trivially fair cycle: nothing is enabled there).

The algorithm works on strongly connected components (Tarjan, iterative) of the graph
restricted to ``not Q`` states and reachable, inside that restriction, from a ``P and not Q``
state. An SCC with a cycle is *fair* when

* for every weak-fairness obligation: the obligation's steps are taken on an edge inside the
  SCC, or some state of the SCC has none of them enabled (so they are not enabled
  continuously), and
* for every strong-fairness obligation: its steps are taken inside the SCC, or none is
  enabled in any state of the SCC. When a strong obligation fails, the states where it is
  enabled are removed and the rest is split into SCCs again (the Streett emptiness check).

A fair SCC gives the counterexample: a shortest path from an initial state to a ``P and not
Q`` state, then inside the restriction to the SCC, then a cycle through the SCC that takes
every obligation the SCC needs (so the lasso shown is itself fair).

Fairness obligations are per instance: ``weak TM.commit`` is one obligation per instance of
TM; ``weak Service`` makes all steps of each instance one obligation; ``weak Process`` makes
the steps of all instances of that process one obligation.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable, Sequence

from mscheck.engine.search import poll

__all__ = ["Graph", "Obligation", "find_lasso", "find_livelock", "Lasso"]


@dataclass
class Graph:
    """States 0..n-1 (initial ones listed), successor lists of (target, step id)."""

    succ: list[list[tuple[int, int]]]
    initial: list[int]
    parent: list[int]  # breadth-first parent, -1 for initial states


@dataclass(frozen=True)
class Obligation:
    strength: str  # "weak" | "strong"
    steps: frozenset[int]  # step ids that discharge it
    label: str


@dataclass
class Lasso:
    prefix: list[tuple[int, int | None]]  # (state, step id that led to it)
    loop_start: int  # index in prefix where the cycle starts
    cycle: list[tuple[int, int | None]]  # the states after loop_start, back to it


def _sccs(nodes: set[int], succ) -> list[list[int]]:
    """Strongly connected components of the subgraph on ``nodes`` (iterative Tarjan)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, i = work[-1]
            edges = succ[v]
            while i < len(edges) and edges[i][0] not in nodes:
                i += 1
            if i < len(edges):
                w = edges[i][0]
                work[-1] = (v, i + 1)
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    if not counter & 0xFFFF:
                        poll()
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    return out


def _is_cycle(comp: list[int], succ, full, stutter: bool) -> bool:
    v = comp[0]
    if len(comp) > 1 or any(w == v for w, _ in succ[v]):
        return True
    return stutter and not full[v]  # a state with no step at all stutters for ever


def _fair_core(comp: set[int], succ, obligations: Sequence[Obligation], full=None,
               stutter: bool = True) -> set[int] | None:
    """The states of a fair cycle inside ``comp``, or None (Streett-style refinement).

    ``succ`` gives the cycles; ``full`` (default ``succ``) the steps enabled in a state. As
    :func:`mscheck.engine.livearray.fair_core` picks it: with ``stutter``, the lowest state
    with no step at all (it stutters for ever); else, of the fair SCCs the refinement finds,
    the one holding the lowest state (the nearest to the initial states in breadth-first
    order); an SCC whose states are all above the best one found is not refined further."""
    full = succ if full is None else full
    if stutter:
        low = min((v for v in comp if not full[v]), default=None)
        if low is not None:
            return {low}
    best: set[int] | None = None
    low = len(succ)  # the lowest state of ``best``
    pending = [comp]
    while pending:
        poll()
        nodes = pending.pop()
        for scc in _sccs(nodes, succ):
            if min(scc) >= low:
                continue
            sset = set(scc)
            if not _is_cycle(scc, succ, full, stutter):
                continue
            taken = {sid for v in scc for w, sid in succ[v] if w in sset}
            bad_strong = None
            fair = True
            for ob in obligations:
                if ob.steps & taken:
                    continue
                enabled = [v for v in scc if any(sid in ob.steps for _, sid in full[v])]
                if ob.strength == "weak":
                    if len(enabled) == len(scc):
                        fair = False  # enabled in every state, never taken
                        break
                elif enabled:
                    bad_strong = set(enabled)
                    fair = False
                    break
            if fair:
                best, low = sset, min(scc)
                continue
            if bad_strong is not None:
                rest = sset - bad_strong
                if rest:
                    pending.append(rest)
    return best


def find_lasso(graph: Graph, p: Callable[[int], bool], q: Callable[[int], bool],
               obligations: Sequence[Obligation]) -> Lasso | None:
    """A fair behaviour that reaches a P-and-not-Q state and never reaches Q afterwards."""
    succ = graph.succ
    n = len(succ)
    not_q = [not q(v) for v in range(n)]
    starts = [v for v in range(n) if not_q[v] and p(v)]
    if not starts:
        return None
    # the not-Q states reachable from a start without passing a Q state
    region: set[int] = set(starts)
    queue = deque(starts)
    while queue:
        v = queue.popleft()
        for w, _ in succ[v]:
            if not_q[w] and w not in region:
                region.add(w)
                queue.append(w)
                if not len(region) & 0xFFFF:
                    poll()
    core = _fair_core(region, succ, obligations)
    if core is None:
        return None
    # shortest path from the initial states to a start state from which the core can be
    # reached without passing Q, then to the core
    start = _nearest(graph, set(starts) & _reaching(succ, core, region), region)
    prefix = _path_from_initial(graph, start)
    to_core = _bfs_path(succ, start, core, region)
    prefix += to_core[1:]
    entry = prefix[-1][0]
    cycle = _fair_cycle(succ, entry, core, obligations)
    return Lasso(prefix, len(prefix) - 1, cycle)


def find_livelock(graph: Graph, progress: frozenset[int],
                  obligations: Sequence[Obligation]) -> Lasso | None:
    """A fair reachable cycle that takes no progress step (SPIN's non-progress cycle)."""
    quiet = [[(w, sid) for w, sid in edges if sid not in progress] for edges in graph.succ]
    reachable = set(range(len(graph.succ)))
    core = _fair_core(reachable, quiet, obligations, full=graph.succ, stutter=False)
    if core is None:
        return None
    entry = _nearest(graph, core, core)
    prefix = _path_from_initial(graph, entry)
    cycle = _fair_cycle(quiet, entry, core, obligations, graph.succ)
    return Lasso(prefix, len(prefix) - 1, cycle)


def _reaching(succ, targets: set[int], within: set[int]) -> set[int]:
    """The states of ``within`` from which a state of ``targets`` is reachable through
    states of ``within``."""
    pred: dict[int, list[int]] = {}
    for v in within:
        for w, _ in succ[v]:
            if w in within:
                pred.setdefault(w, []).append(v)
    seen = set(targets) & within
    queue = deque(seen)
    while queue:
        w = queue.popleft()
        for v in pred.get(w, ()):
            if v not in seen:
                seen.add(v)
                queue.append(v)
                if not len(seen) & 0xFFFF:
                    poll()
    return seen


def _nearest(graph: Graph, starts: set[int], region: set[int]) -> int:
    """The start state closest to an initial state (by breadth-first depth)."""
    def depth(v):
        d = 0
        while graph.parent[v] >= 0:
            v = graph.parent[v]
            d += 1
        return d
    return min(starts, key=lambda v: (depth(v), v))


def _path_from_initial(graph: Graph, v: int) -> list[tuple[int, int | None]]:
    path = []
    while v >= 0:
        par = graph.parent[v]
        sid = None
        if par >= 0:
            sid = next(s for w, s in graph.succ[par] if w == v)
        path.append((v, sid))
        v = par
    return list(reversed(path))


def _bfs_path(succ, src: int, targets: set[int], within: set[int]):
    if src in targets:
        return [(src, None)]
    prev: dict[int, tuple[int, int]] = {src: (-1, -1)}
    queue = deque([src])
    while queue:
        v = queue.popleft()
        for w, sid in succ[v]:
            if w in within and w not in prev:
                prev[w] = (v, sid)
                if w in targets:
                    out = []
                    x = w
                    while x != src:
                        pv, ps = prev[x]
                        out.append((x, ps))
                        x = pv
                    out.append((src, None))
                    return list(reversed(out))
                queue.append(w)
    raise AssertionError("target not reachable inside the region")


def _fair_cycle(succ, entry: int, core: set[int], obligations,
                full=None) -> list[tuple[int, int | None]]:
    """A cycle from ``entry`` through ``core`` back to ``entry`` that is itself fair: it
    takes one edge of each obligation the core can take, and passes a state where each
    weak obligation it cannot take is not enabled (``full``, default ``succ``, says what is
    enabled); empty when ``entry`` has no step (it stutters)."""
    if not succ[entry]:
        return []
    full = succ if full is None else full
    needed, visit = [], []
    for ob in obligations:
        for v in sorted(core):
            hit = next(((w, sid) for w, sid in succ[v] if sid in ob.steps and w in core), None)
            if hit is not None:
                needed.append((v, hit[0], hit[1]))
                break
        else:
            if ob.strength == "weak":  # the core is fair: some state has it disabled
                visit.append(next(v for v in sorted(core)
                                  if not any(sid in ob.steps for _, sid in full[v])))
    return _cycle_through(succ, entry, needed, visit, core)


def _cycle_through(succ, entry: int, needed: list[tuple[int, int, int]], visit: list[int],
                   core, path=None) -> list[tuple[int, int | None]]:
    """A cycle from ``entry`` back to it inside ``core`` that takes each edge
    ``(v, w, sid)`` of ``needed`` and passes each state of ``visit`` (any edge from
    ``entry`` when there is nothing to take). ``path(a, b)`` finds the way from ``a`` to
    ``b`` inside the core (by default :func:`_bfs_path` on ``succ``)."""
    if path is None:
        def path(a: int, b: int):
            return _bfs_path(succ, a, {b}, core)
    if not needed and all(v == entry for v in visit):
        w, sid = next((w, sid) for w, sid in succ[entry] if w in core)
        needed = [(entry, w, sid)]
    cycle: list[tuple[int, int | None]] = []
    cur = entry
    for v, w, sid in needed:
        if cur != v:
            cycle += path(cur, v)[1:]
        cycle.append((w, sid))
        cur = w
    for v in visit:
        if cur != v:
            cycle += path(cur, v)[1:]
            cur = v
    if cur != entry:
        cycle += path(cur, entry)[1:]
    return cycle
