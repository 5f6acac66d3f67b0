"""The vectorised engine (mscheck/engine/vector.py) against packed_search, on the models of
bench/run.py: philosophers (N = 10, 12, 13), philosophers with six phases a meal
(``--models philosophers6``) and two-phase commit (5..7 resource managers).

Every measurement runs in a fresh interpreter, so its peak resident memory is its own:

* search: PackedModel built, then the search alone (the tables are filled during it);
* check: the whole ``check_spec`` call (compile, pack, search, result document), with the
  engine chosen by replacing ``packed_search`` in mscheck.engine.packed;

and prints seconds, states/s and bytes per state (peak RSS / states, and the growth of RSS
during the run / states). The engines: ``packed`` (the Python loop), ``vector`` (one process)
and ``vector2`` (two processes from the first level of ``PARALLEL_LEVEL`` states; its memory
is both processes' peaks added).

``--crossover`` times whole searches of the vector engine with the levels below a threshold
left to the packed loop (``small``), for thresholds from 0 (every level vectorised) up, on
models with narrow and wide levels (tables filled beforehand, best of 5): the threshold with
the least time is the level size from which vectorising pays.

    python bench/vector.py                   # everything
    python bench/vector.py --models philosophers --sizes 10,12
    python bench/vector.py --crossover
    python bench/vector.py --engines vector,vector2 --kinds search   # the two-process speed-up
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

    if model in ("philosophers", "philosophers6"):
        return mscheck.load(os.path.join(ROOT, "specs", "classic", f"{model}.ms"),
                            {"N": str(size)})
    rms = ", ".join(f"r{i}" for i in range(1, size + 1))
    return mscheck.load(os.path.join(ROOT, "specs", "classic", "two_phase.ms"),
                        {"RM": f"{{{rms}}}"})


def one(kind: str, engine: str, model: str, size: int) -> dict:
    """One measurement in this process (called in a child); returns figures as a dict."""
    from mscheck.engine import packed as P
    from mscheck.engine.compile import CompiledModel
    from mscheck.engine.search import _peak, _rss
    from mscheck.engine.vector import vector_search

    spec = load(model, size)
    base = _rss()
    if kind == "search":
        pm = P.PackedModel(CompiledModel(spec))
        t0 = time.perf_counter()
        if engine == "packed":
            r = P.packed_search(pm, keep_going=True)
        else:
            r = vector_search(pm, keep_going=True, workers=2 if engine == "vector2" else 1)
        seconds = time.perf_counter() - t0
        figures = {"states": r.states, "transitions": r.transitions, "depth": r.depth,
                   "verdict": r.verdict, "bits": pm.bits, "processes": r.workers}
        peak = r.peak_memory  # both processes' peaks with two
    else:
        from mscheck.engine.check import check_spec

        t0 = time.perf_counter()
        doc = check_spec(spec, keep_going=True,
                         engine="packed" if engine == "packed" else "auto",
                         workers=2 if engine == "vector2" else 1)
        seconds = time.perf_counter() - t0
        figures = {"states": doc["states"], "transitions": doc["transitions"],
                   "depth": doc["depth"], "verdict": doc["verdict"],
                   "bits": doc.get("state_bits"), "processes": doc.get("processes")}
        peak = max(_peak(), doc["peak_memory"])
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


THRESHOLDS = [0, 16, 32, 64, 128, 256, 512, 1024, 4096, 1 << 16]


def crossover(spec) -> tuple[list[int], dict[int, float]]:
    """The level sizes of ``spec``, and the best of 5 seconds of the vector search with each
    threshold of THRESHOLDS (levels below it in the packed loop; tables filled
    beforehand)."""
    from mscheck.engine.compile import CompiledModel
    from mscheck.engine.packed import PackedModel
    from mscheck.engine.vector import vector_search

    pm = PackedModel(CompiledModel(spec))
    kept: dict = {}
    vector_search(pm, check_deadlock=False, keep=kept)
    sizes = [len(lv[0]) for lv in kept["levels"]]
    times = {}
    for small in THRESHOLDS:
        best = None
        for _ in range(5):
            t0 = time.perf_counter()
            vector_search(pm, check_deadlock=False, small=small)
            t = time.perf_counter() - t0
            best = t if best is None or t < best else best
        times[small] = best
    return sizes, times


def crossover_specs():
    import mscheck

    yield "philosophers N=10", load("philosophers", 10)
    yield "two-phase 7 RMs", load("two_phase", 7)
    yield "circuit breaker THRESHOLD=3000", mscheck.load(
        os.path.join(ROOT, "specs", "seed", "circuit_breaker.ms"), {"THRESHOLD": "3000"})
    yield "saga", mscheck.load(os.path.join(ROOT, "specs", "seed", "saga.ms"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="philosophers,two_phase")
    ap.add_argument("--sizes", default=None)
    ap.add_argument("--kinds", default="search,check")
    ap.add_argument("--crossover", action="store_true")
    ap.add_argument("--engines", default="packed,vector,vector2")
    ap.add_argument("--json", default=None)
    ap.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        kind, engine, model, size = args.one
        print(json.dumps(one(kind, engine, model, int(size))))
        return
    if args.crossover:
        print("seconds of the whole vector search, levels below the threshold in the packed "
              "loop (best of 5)")
        print(f"{'model':>32} {'levels':>7} {'widest':>7}  " +
              " ".join(f"{t:>7}" for t in THRESHOLDS) + "   best")
        for name, spec in crossover_specs():
            sizes, times = crossover(spec)
            best = min(times, key=times.get)
            print(f"{name:>32} {len(sizes):>7} {max(sizes):>7}  " +
                  " ".join(f"{times[t]:7.3f}" for t in THRESHOLDS) + f"   {best}", flush=True)
        return
    defaults = {"philosophers": [10, 12, 13], "philosophers6": [10, 12], "two_phase": [5, 6, 7]}
    results = []
    for model in args.models.split(","):
        sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else defaults[model]
        for size in sizes:
            for kind in args.kinds.split(","):
                row = {"model": model, "size": size, "kind": kind}
                engines = args.engines.split(",")
                for engine in engines:
                    row[engine] = child(kind, engine, model, size)
                results.append(row)
                line = f"{model:>12} {size:>3} {kind:>6}:"
                for name in engines:
                    r = row[name]
                    if "seconds" in r:
                        line += (f"  {name} {r['seconds']:7.2f}s {r['states_per_s']:>10,.0f} st/s "
                                 f"{r['bytes_per_state']:6.0f} B/st (growth "
                                 f"{r['growth_per_state']:4.0f})")
                    else:
                        line += f"  {name} {r.get('skipped') or r.get('error')}"
                done = [row[e] for e in engines if "seconds" in row[e]]
                if len(done) > 1:
                    assert len({(r["states"], r["transitions"]) for r in done}) == 1
                    first = done[0]
                    line += "  speed-up " + " ".join(
                        f"{first['seconds'] / r['seconds']:.2f}x" for r in done[1:])
                    line += f"  [{first['states']:,} states]"
                print(line, flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
