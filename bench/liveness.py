"""What liveness costs beside safety, on dining philosophers with fairness.

For each N it times, in one process each (`mscheck check ... --format json`):

* safety on the default engine (vector or packed for this spec),
* safety on the scalar engine,
* safety plus `leadsto Eats` under weak fairness of every philosopher (scalar engine, which
  records the state graph and searches fair lassos),

and prints the ratios liveness/safety. The spec is specs/classic/philosophers.ms with the
property appended; its deadlock is not a liveness violation here (`--no-deadlock`).

    python bench/liveness.py --sizes 5,6,7
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
    ap.add_argument("--sizes", default="5,6,7")
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
            packed = _check(plain, n)
            scalar = _check(plain, n, "--engine", "scalar")
            liveness = _check(live, n)
            print(f"\nphilosophers {n}: {liveness['states']:,} states")
            for name, r in (("safety, auto", packed), ("safety, scalar", scalar),
                            ("safety + liveness", liveness)):
                print(f"  {name:18} {r['seconds']:7.2f} s {r['memory'] / 2**20:8.0f} MiB  "
                      f"{r['verdict']} {r['violations']}")
            print(f"  liveness / scalar safety: {liveness['seconds'] / scalar['seconds']:.2f}x; "
                  f"liveness / auto-engine safety: {liveness['seconds'] / packed['seconds']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
