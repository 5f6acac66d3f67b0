"""Fault models on the vector engine against the scalar engine: the seed specs with faults
(lossy channels, crashable services with durable variables), scaled up.

Each run is a whole ``mscheck check --continue`` process (every property of the spec,
liveness included), once with ``--engine scalar`` and once with the default engine; the
table gives states, transitions, wall seconds, the search's seconds and peak memory, and
the speed-up of the whole process.

    python bench/faults.py
    python bench/faults.py --models saga --sizes 3,4
    python bench/faults.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from run import _installed_env, run_measured  # noqa: E402

# model -> (spec, sizes, the arguments of a size)
MODELS = {
    # saga_faults: STEPS participants, at most 2 faults a run
    "saga": ("specs/seed/saga_faults.ms", [3, 4, 5],
             lambda n: ["--const", f"STEPS={n}", "--max-faults", "2"]),
    # circuit_breaker_faults: THRESHOLD failures open the breaker, IDS call ids
    "breaker": ("specs/seed/circuit_breaker_faults.ms", [2, 3, 4],
                lambda n: ["--const", f"THRESHOLD={n}", "--const", f"IDS={n + 1}"]),
}


def run(spec: str, args: list[str], engine: str) -> dict:
    cmd = [sys.executable, "-m", "mscheck", "check", os.path.join(ROOT, spec), "--continue",
           "--format", "json", "--engine", engine] + args
    r = run_measured(cmd, cwd=ROOT, env=_installed_env(), timeout=1800)
    try:
        doc = json.loads(r["output"][r["output"].index("{"):])
    except ValueError:
        return {"error": r["output"][-400:]}
    return {"engine": doc["engine"], "verdict": doc["verdict"], "states": doc["states"],
            "transitions": doc["transitions"], "seconds": r["seconds"],
            "search_seconds": doc["seconds"], "memory": r["memory"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--sizes", default=None, help="comma-separated sizes (default per model)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    rows = []
    for name in args.models.split(","):
        spec, sizes, make = MODELS[name]
        if args.sizes:
            sizes = [int(x) for x in args.sizes.split(",")]
        for n in sizes:
            row = {"model": name, "size": n}
            for engine in ("scalar", "auto"):
                row[engine] = run(spec, make(n), engine)
            rows.append(row)
            print(f"\n{name} {n}")
            for engine in ("scalar", "auto"):
                r = row[engine]
                if "error" in r:
                    print(f"  {engine:7} failed: {r['error'].strip().splitlines()[-1]}")
                    continue
                print(f"  {r['engine']:7} {r['verdict']:10} {r['states']:>11,} states "
                      f"{r['transitions']:>12,} transitions {r['seconds']:8.2f} s "
                      f"(search {r['search_seconds']:.2f} s) {r['memory'] / 2**20:8.0f} MiB")
            a, b = row["scalar"], row["auto"]
            if "error" not in a and "error" not in b:
                same = (a["states"], a["transitions"], a["verdict"]) == (
                    b["states"], b["transitions"], b["verdict"])
                print(f"  whole process {a['seconds'] / b['seconds']:.1f}x faster; "
                      f"states, transitions and verdict {'agree' if same else 'DIFFER'}")
            sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
