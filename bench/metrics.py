"""How long the architecture metrics take on a large generated system.

Generates a system of ``--services`` services (default 2,000) in ``--contexts`` bounded
contexts (default 50) with about ``--edges`` synchronous call edges (default 20,000), some
components, data stores (a few shared), topics with publishers and subscribers, teams, call
weights and a few call cycles, as ``.ms`` text; then times, in this process:

* (a) parse + lint: ``mscheck.loads`` (parsing and every semantic check);
* (b) building the architecture graph (``build_graph``, including MS301/MS302);
* (c) every metric: ``system_metrics``, ``service_metrics`` and ``context_metrics`` in the
  three modes, ``cycles`` and ``longest_chain``;
* (d) every smell: ``detect_smells``;
* (e) ``metrics_document`` end to end (graph, metrics and smells again, rounding);

and prints the seconds per stage, wall-clock and CPU time of this process (they differ
when the machine is busy). The generator is deterministic (``--seed``).

    python bench/metrics.py
    python bench/metrics.py --services 500 --edges 5000 --profile smells
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import mscheck  # noqa: E402
from mscheck.arch import metrics as M  # noqa: E402
from mscheck.arch.graph import build_graph  # noqa: E402
from mscheck.arch.smells import detect_smells  # noqa: E402
from mscheck.report.metrics import metrics_document  # noqa: E402


def generate(services: int = 2000, edges: int = 20000, contexts: int = 50, cycles: int = 5,
             seed: int = 1) -> str:
    """A large system as ``.ms`` text.

    Services ``s0 .. s{n-1}`` are layered: calls go from a lower to a higher index (mostly
    into the next few hundred services), so the synchronous call graph is acyclic except for
    ``cycles`` added back edges; about a third of the services have components and some
    calls name them; every tenth service owns a data store, some stores are shared.
    """
    rnd = random.Random(seed)
    names = [f"s{i}" for i in range(services)]
    ctx_of = [i * contexts // services for i in range(services)]
    comps = {i: [f"C{k}" for k in range(rnd.randint(1, 4))]
             for i in range(services) if rnd.random() < 0.35}
    stores = {i: f"db{i}" for i in range(0, services, 10)}
    topics = [f"t{k}" for k in range(max(1, services // 20))]
    lines = [f"# generated: {services} services, {edges} call edges, seed {seed}",
             "system Big", ""]
    for c in range(contexts):
        lines.append(f"context K{c} {{")
        for i in range(services):
            if ctx_of[i] != c:
                continue
            if i in comps:
                lines.append(f"  service {names[i]} {{ component {', '.join(comps[i])} }}")
            else:
                lines.append(f"  service {names[i]}")
            if i in stores:
                lines.append(f"  datastore {stores[i]} owned_by {names[i]}")
        for k, t in enumerate(topics):
            if k % contexts == c:
                lines.append(f"  topic {t}")
        lines.append("}")
    lines.append("")
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < edges:
        u = rnd.randrange(services - 1)
        v = min(services - 1, u + 1 + int(rnd.expovariate(1 / 150)))
        pairs.add((u, v))
    back = set()
    while len(back) < cycles:
        v = rnd.randrange(services - 10)
        u = v + rnd.randint(2, 8)
        if (u, v) not in pairs:
            back.add((u, v))
            pairs.update((k, k + 1) for k in range(v, u))  # the path the back edge closes
    for u, v in sorted(pairs | back):
        src, dst = names[u], names[v]
        if u in comps and v in comps and rnd.random() < 0.3:
            src += "." + rnd.choice(comps[u])
            dst += "." + rnd.choice(comps[v])
        w = rnd.choice((None, None, None, 2, 3, 5))
        lines.append(f"{src} calls {dst}" + (f" weight {w}" if w else ""))
    for i, c in comps.items():
        if len(c) > 1:
            lines.append(f"{names[i]}.{c[0]} calls {names[i]}.{c[1]}")
    for k, t in enumerate(topics):
        pubs = rnd.sample(range(services), 2)
        subs = rnd.sample(range(services), 4)
        lines.append(f"{', '.join(names[p] for p in pubs[:1])} publishes {t}")
        lines.append(f"{names[pubs[1]]} publishes {t}")
        lines.append(f"{names[subs[0]]} subscribes {t}")
        for s in subs[1:]:
            lines.append(f"{names[s]} subscribes {t}")
    for i, db in stores.items():
        lines.append(f"{names[i]} reads {db}")
        lines.append(f"{names[i]} writes {db}")
        if rnd.random() < 0.1:
            other = rnd.randrange(services)
            if other != i:
                lines.append(f"{names[other]} {rnd.choice(('reads', 'writes'))} {db}")
    teams = max(1, contexts * 4 // 5)
    for k in range(teams):
        owned = [names[i] for i in range(k, services, teams)]
        lines.append(f"team T{k} owns {', '.join(owned)}")
    for c in range(contexts - 1):
        lines.append(f"K{c} [OHS] -> K{c + 1} [CF]")
    return "\n".join(lines) + "\n"


def _all_metrics(g):
    out = {}
    for mode in M.MODES:
        out[mode] = (M.system_metrics(g, mode), M.service_metrics(g, mode),
                     M.context_metrics(g, mode), M.cycles(g, mode), M.longest_chain(g, mode))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=2000)
    ap.add_argument("--edges", type=int, default=20000)
    ap.add_argument("--contexts", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--write", metavar="FILE", help="also write the generated spec here")
    ap.add_argument("--profile", choices=["graph", "metrics", "smells", "document"],
                    help="print a cProfile of one stage")
    args = ap.parse_args(argv)

    text = generate(args.services, args.edges, args.contexts, seed=args.seed)
    if args.write:
        with open(args.write, "w", encoding="utf-8") as f:
            f.write(text)
    times: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def stage(name, fn):
        if args.profile == name:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
        t0, c0 = time.perf_counter(), time.process_time()
        r = fn()
        times[name] = time.perf_counter() - t0
        cpu[name] = time.process_time() - c0
        if args.profile == name:
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
        return r

    spec = stage("parse+lint", lambda: mscheck.loads(text, "big.ms"))
    g = stage("graph", lambda: build_graph(spec))
    ms = stage("metrics", lambda: _all_metrics(g))
    smells = stage("smells", lambda: detect_smells(g))
    doc = stage("document", lambda: metrics_document(spec))

    sysm = ms["sync"][0]
    print(f"system: {sysm['N']} services, {sysm['E']} call edges, "
          f"{len(text.splitlines())} lines, {g.number_of_nodes()} nodes, "
          f"{g.number_of_edges()} graph edges")
    print(f"        {sysm['cycles']} cycles, longest chain {sysm['longest_chain']} calls, "
          f"{len(smells)} smells, {len(doc['warnings'])} warnings")
    print(f"{'stage':>14}  {'wall s':>8}  {'cpu s':>8}")
    for name in ("parse+lint", "graph", "metrics", "smells", "document"):
        print(f"{name:>14}  {times[name]:8.3f}  {cpu[name]:8.3f}")
    print(f"{'metrics+smells':>14}  {times['metrics'] + times['smells']:8.3f}  "
          f"{cpu['metrics'] + cpu['smells']:8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
