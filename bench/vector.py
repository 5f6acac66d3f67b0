"""The vectorised engine (mscheck/engine/vector.py) against packed_search, on the models of
bench/run.py: philosophers (N = 10, 12, 13) and two-phase commit (5..7 resource managers).

Every measurement runs in a fresh interpreter, so its peak resident memory is its own:

* search: PackedModel built, then the search alone (the tables are filled during it);
* check: the whole ``check_spec`` call (compile, pack, search, result document), with the
  engine chosen by replacing ``packed_search`` in mscheck.engine.packed;

and prints seconds, states/s and bytes per state (peak RSS / states, and the growth of RSS
during the run / states). ``--crossover`` measures the time per level of both engines on the
first levels of a model (tables already filled) and prints the level size above which the
vectorised expansion is faster.

    python bench/vector.py                   # everything
    python bench/vector.py --models philosophers --sizes 10,12
    python bench/vector.py --crossover
    python bench/vector.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)


def load(model: str, size: int):
    import mscheck

    if model == "philosophers":
        return mscheck.load(os.path.join(ROOT, "specs", "classic", "philosophers.ms"),
                            {"N": str(size)})
    rms = ", ".join(f"r{i}" for i in range(1, size + 1))
    return mscheck.load(os.path.join(ROOT, "specs", "classic", "two_phase.ms"),
                        {"RM": f"{{{rms}}}"})


def one(kind: str, engine: str, model: str, size: int) -> dict:
    """One measurement in this process (called in a child); returns figures as a dict."""
    from mscheck.engine import packed as P
    from mscheck.engine.compile import CompiledModel
    from mscheck.engine.search import _peak, _rss
    from mscheck.engine.vector import NotVectorisable, vector_search

    spec = load(model, size)
    base = _rss()
    if kind == "search":
        pm = P.PackedModel(CompiledModel(spec))
        run = P.packed_search if engine == "packed" else vector_search
        t0 = time.perf_counter()
        r = run(pm, keep_going=True)
        seconds = time.perf_counter() - t0
        figures = {"states": r.states, "transitions": r.transitions, "depth": r.depth,
                   "verdict": r.verdict, "bits": pm.bits}
    else:
        from mscheck.engine.check import check_spec

        if engine == "vector":
            def patched(pm, **kw):
                try:
                    return vector_search(pm, **kw)
                except NotVectorisable:
                    return original(pm, **kw)
            original = P.packed_search
            P.packed_search = patched
        t0 = time.perf_counter()
        doc = check_spec(spec, keep_going=True)
        seconds = time.perf_counter() - t0
        figures = {"states": doc["states"], "transitions": doc["transitions"],
                   "depth": doc["depth"], "verdict": doc["verdict"],
                   "bits": doc.get("state_bits")}
    peak = _peak()
    figures.update(seconds=seconds, peak=peak, growth=max(peak - base, 0),
                   states_per_s=figures["states"] / seconds,
                   bytes_per_state=peak / figures["states"],
                   growth_per_state=max(peak - base, 0) / figures["states"])
    return figures


def child(kind: str, engine: str, model: str, size: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", kind, engine, model, str(size)],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def crossover(model: str, size: int, max_depth: int) -> list[dict]:
    """Time per level of both engines on levels 1..max_depth (tables filled beforehand)."""
    from mscheck.engine.compile import CompiledModel
    from mscheck.engine.packed import PackedModel, packed_search
    from mscheck.engine.search import Limits
    from mscheck.engine.vector import vector_search

    pm = PackedModel(CompiledModel(load(model, size)))
    vector_search(pm, check_deadlock=False, limits=Limits(max_depth=max_depth + 1))

    def timed(run, d):
        best = None
        for _ in range(5):
            t0 = time.perf_counter()
            r = run(pm, check_deadlock=False, limits=Limits(max_depth=d))
            t = time.perf_counter() - t0
            best = t if best is None or t < best else best
        return best, r.states

    rows = []
    prev = {"packed": 0.0, "vector": 0.0}
    prev_states = None
    for d in range(0, max_depth + 1):
        row = {"depth": d}
        for name, run in (("packed", packed_search), ("vector", vector_search)):
            t, states = timed(run, d)
            row[name] = t - prev[name]
            prev[name] = t
        # the search to depth d expands the level at depth d - 1 ... the last one expanded
        # is level d - 1; its size is states(d - 1) - states(d - 2)
        row["states"] = states
        row["level"] = states - (prev_states or 0)
        prev_states = states
        rows.append(row)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="philosophers,two_phase")
    ap.add_argument("--sizes", default=None)
    ap.add_argument("--kinds", default="search,check")
    ap.add_argument("--crossover", action="store_true")
    ap.add_argument("--json", default=None)
    ap.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        kind, engine, model, size = args.one
        print(json.dumps(one(kind, engine, model, int(size))))
        return
    if args.crossover:
        for model, size, depth in (("philosophers", 10, 14), ("two_phase", 7, 12)):
            print(f"{model} {size}: seconds to expand each level (best of 5)")
            print(f"{'depth':>5} {'level':>8} {'packed':>10} {'vector':>10}")
            rows = crossover(model, size, depth)
            for r in rows[1:]:
                # row d: the search went one level deeper, expanding the level that row d-1
                # added (its size is rows[d-1]["level"])
                n = rows[r["depth"] - 1]["level"]
                print(f"{r['depth'] - 1:>5} {n:>8} {r['packed'] * 1e3:>9.2f}ms "
                      f"{r['vector'] * 1e3:>9.2f}ms")
        return
    defaults = {"philosophers": [10, 12, 13], "two_phase": [5, 6, 7]}
    results = []
    for model in args.models.split(","):
        sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else defaults[model]
        for size in sizes:
            for kind in args.kinds.split(","):
                row = {"model": model, "size": size, "kind": kind}
                for engine in ("packed", "vector"):
                    row[engine] = child(kind, engine, model, size)
                results.append(row)
                p, v = row["packed"], row["vector"]
                line = f"{model:>12} {size:>3} {kind:>6}:"
                for name, r in (("packed", p), ("vector", v)):
                    if "seconds" in r:
                        line += (f"  {name} {r['seconds']:7.2f}s {r['states_per_s']:>10,.0f} st/s "
                                 f"{r['bytes_per_state']:6.0f} B/st (growth "
                                 f"{r['growth_per_state']:4.0f})")
                    else:
                        line += f"  {name} {r.get('skipped') or r.get('error')}"
                if "seconds" in p and "seconds" in v:
                    assert (p["states"], p["transitions"]) == (v["states"], v["transitions"])
                    line += f"  speed-up {p['seconds'] / v['seconds']:.1f}x"
                    line += f"  [{p['states']:,} states]"
                print(line, flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
