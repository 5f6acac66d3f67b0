"""What liveness costs beside safety, on dining philosophers with fairness.

For each N it times, in one process each (`mscheck check ... --format json`):

* safety on the default engine (the vector engine for this spec),
* safety plus `leadsto Eats` under weak fairness of every philosopher, on the default engine
  (safety search, then the state graph built with numpy and the fair-lasso search on it),
* for N up to ``--scalar-max``, both again on the scalar engine (which records the graph as
  it explores),

and prints the ratios liveness/safety. The spec is specs/classic/philosophers.ms with the
property appended; its deadlock is not a liveness violation here (`--no-deadlock`). With
``--repeat K`` each run is made K times (the runs of one size taken in turn) and the best
time of each is shown, with the ratios of the best times.

    python bench/liveness.py --sizes 6,8,10
    python bench/liveness.py --sizes 8,10,12 --scalar-max 0 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import ROOT, run_measured  # noqa: E402

PROPERTY = """
fairness weak Philosopher
leadsto Eats: Philosopher[1].phase == holding_left ~> Philosopher[1].phase == eating
"""


def _check(spec: str, n: int, *extra: str) -> dict:
    cmd = [sys.executable, "-m", "mscheck", "check", spec, "--const", f"N={n}",
           "--no-deadlock", "--continue", "--format", "json", *extra]
    r = run_measured(cmd, cwd=ROOT)
    doc = json.loads(r["output"][r["output"].index("{"):])
    return {"seconds": r["seconds"], "memory": r["memory"], "states": doc["states"],
            "verdict": doc["verdict"], "engine": doc["engine"],
            "violations": [v["property"] for v in doc["violations"]]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="6,8,10")
    ap.add_argument("--scalar-max", type=int, default=8,
                    help="largest N also checked (safety and liveness) on the scalar engine")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each check; the best time is shown")
    args = ap.parse_args(argv)
    base = open(os.path.join(ROOT, "specs", "classic", "philosophers.ms")).read()
    with tempfile.TemporaryDirectory() as work:
        plain = os.path.join(work, "philosophers.ms")
        live = os.path.join(work, "philosophers_live.ms")
        with open(plain, "w") as fh:
            fh.write(base)
        with open(live, "w") as fh:
            fh.write(base + PROPERTY)
        for n in (int(x) for x in args.sizes.split(",")):
            runs = [(plain, ()), (live, ())]
            if n <= args.scalar_max:  # the scalar engine takes minutes from N = 11
                runs += [(plain, ("--engine", "scalar")), (live, ("--engine", "scalar"))]
            best: list = [None] * len(runs)
            for _ in range(max(1, args.repeat)):
                for i, (spec, extra) in enumerate(runs):
                    r = _check(spec, n, *extra)
                    if best[i] is None or r["seconds"] < best[i]["seconds"]:
                        best[i] = r
            packed, liveness, scalar, live_scalar = best + [None] * (4 - len(best))
            print(f"\nphilosophers {n}: {liveness['states']:,} states")
            rows = [("safety, auto", packed), ("safety + liveness", liveness),
                    ("safety, scalar", scalar), ("the same, scalar", live_scalar)]
            for name, r in rows:
                if r is not None:
                    print(f"  {name:18} {r['seconds']:7.2f} s {r['memory'] / 2**20:8.0f} MiB  "
                          f"{r['engine']:7} {r['verdict']} {r['violations']}")
            line = f"  liveness / auto-engine safety: {liveness['seconds'] / packed['seconds']:.2f}x"
            if scalar is not None:
                line += f"; liveness / scalar safety: {liveness['seconds'] / scalar['seconds']:.2f}x"
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
