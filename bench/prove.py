"""Proofs beside explicit checks: what a proof for every size costs against one check per size.

Part 1 times each seed proof in this process (encoding and Z3 calls; the `seconds` of the
result): the circuit breaker with and without its helper by each method, two-phase commit's
Consistent, the saga's AllOrNothing for every STEPS, and the inventory's stock invariants for
every STOCK. The target is under 2 s each.

Part 2 runs the explicit engine on the same invariants at growing sizes, one whole
`mscheck check FILE --const NAME=N` process per size (start-up, parsing, search), and prints
the proof time beside it. The proof covers every size at once, so from the first size where
its time is below the check's (the crossover, marked `<-`) the proof is cheaper than even one
explicit check. Two crossovers are marked: against the whole check process (which pays
about half a second of start-up) and against the search time the check reports.

    python bench/prove.py                      # everything
    python bench/prove.py --quick              # smaller sizes
    python bench/prove.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import mscheck  # noqa: E402
from mscheck.smt import prove_property  # noqa: E402

CB = ROOT / "specs/seed/circuit_breaker.ms"
TP = ROOT / "specs/classic/two_phase.ms"
SAGA = ROOT / "specs/seed/saga_proof.ms"
INV = ROOT / "tests/smt/fixtures/inventory.ms"
MSCHECK = ROOT / ".venv/bin/mscheck"

# (label, file, property, helpers, method)
PROOFS = [
    ("circuit breaker FailuresBounded, helper", CB, "FailuresBounded",
     ("ClosedBelowThreshold",), "inductive"),
    ("circuit breaker FailuresBounded, alone", CB, "FailuresBounded", (), "inductive"),
    ("circuit breaker FailuresBounded", CB, "FailuresBounded", (), "kind"),
    ("circuit breaker FailuresBounded", CB, "FailuresBounded", (), "pdr"),
    ("circuit breaker FailuresBounded", CB, "FailuresBounded", (), "auto"),
    ("circuit breaker OpenOnlyAtThreshold, helper", CB, "OpenOnlyAtThreshold",
     ("ClosedBelowThreshold",), "inductive"),
    ("circuit breaker OpenOnlyAtThreshold, alone", CB, "OpenOnlyAtThreshold", (), "inductive"),
    ("circuit breaker OpenOnlyAtThreshold", CB, "OpenOnlyAtThreshold", (), "kind"),
    ("circuit breaker OpenOnlyAtThreshold", CB, "OpenOnlyAtThreshold", (), "pdr"),
    ("two-phase Consistent, TypeOK + TPInv", TP, "Consistent", ("TypeOK", "TPInv"),
     "inductive"),
    ("saga AllOrNothing, 9 helpers", SAGA, "AllOrNothing", None, "inductive"),
    ("inventory StockNeverNegative", INV, "StockNeverNegative", (), "auto"),
    ("inventory StockNeverNegative, helper", INV, "StockNeverNegative", ("NoOversell",),
     "inductive"),
    ("inventory NoOversell", INV, "NoOversell", (), "auto"),
]

# (label, file, constant, sizes, quick sizes, the proof rows (by label) it is set against)
SCALING = [
    ("two-phase commit", TP, "RM", [3, 4, 5, 6, 7], [3, 4, 5],
     ["two-phase Consistent, TypeOK + TPInv"]),
    ("circuit breaker", CB, "THRESHOLD", [3, 10, 30, 100, 300, 1000, 3000, 10000],
     [3, 10, 30, 100], ["circuit breaker FailuresBounded, helper"]),
    ("saga", SAGA, "STEPS", [3, 5, 10, 20, 40], [3, 5, 10], ["saga AllOrNothing, 9 helpers"]),
    ("inventory (ORDERS = STOCK + 1)", INV, "STOCK", [2, 10, 30, 100, 300], [2, 10, 30],
     ["inventory StockNeverNegative, helper"]),
]


def run_proofs(repeat: int) -> list[dict]:
    rows = []
    for label, path, prop, helpers, method in PROOFS:
        spec = mscheck.load(str(path))
        if helpers is None:
            helpers = next(p.using for p in spec.proves if p.name == prop)
        best = None
        for _ in range(repeat):
            r = prove_property(spec, prop, tuple(helpers), method=method, timeout=60)
            if best is None or r["seconds"] < best["seconds"]:
                best = r
        rows.append({"label": label, "property": prop, "method": method,
                     "status": best["status"], "how": best["method"], "k": best["k"],
                     "seconds": best["seconds"]})
    return rows


def explicit(path: Path, const: str, n: int, extra: list[str]) -> dict:
    cmd = [str(MSCHECK), "check", str(path), "--const", f"{const}={n}", *extra]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - t0
    out = p.stdout
    states = re.search(r"distinct states\s+([\d,]+)", out)
    search = re.search(r"^seconds\s+([\d.]+)", out, re.M)
    inv_violated = "invariant" in out and "is violated" in out
    return {"n": n, "wall": round(wall, 3),
            "search": float(search.group(1)) if search else None,
            "states": int(states.group(1).replace(",", "")) if states else None,
            "invariants_hold": not inv_violated, "exit": p.returncode}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    ap.add_argument("--repeat", type=int, default=3, help="proof runs, best kept (default 3)")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args(argv)

    proofs = run_proofs(args.repeat)
    print("Proofs (best of %d, in-process, seconds)" % args.repeat)
    print(f"{'proof':46} {'method':9} {'status':8} {'by':9} {'k':>3} {'s':>7}")
    for r in proofs:
        k = "" if r["k"] is None else str(r["k"])
        flag = "" if r["seconds"] < 2 else "  (over 2 s)"
        print(f"{r['label']:46} {r['method']:9} {r['status']:8} {r['how']:9} {k:>3} "
              f"{r['seconds']:7.3f}{flag}")
    print()

    by_label = {r["label"]: r for r in proofs}
    scaling = []
    for label, path, const, sizes, quick, against in SCALING:
        proof = sum(by_label[a]["seconds"] for a in against)
        print(f"{label}: one proof for every {const} ({', '.join(against)}) = {proof:.3f} s "
              "against `mscheck check --const` per size")
        print(f"  {const + ' =':>12} {'states':>10} {'check wall s':>13} {'search s':>9} "
              f"{'proof s':>8}  invariants")
        crossed = crossed_search = False
        for n in (quick if args.quick else sizes):
            extra = ["--const", f"ORDERS={n + 1}"] if const == "STOCK" else []
            e = explicit(path, const, n, extra)
            e["proof"] = proof
            mark = ""
            if not crossed and proof < e["wall"]:
                mark, crossed = "  <- proof cheaper than the check process", True
            if not crossed_search and e["search"] is not None and proof < e["search"]:
                mark += "  <- proof cheaper than the search alone"
                crossed_search = True
            search = "" if e["search"] is None else f"{e['search']:.2f}"
            print(f"  {n:>12} {e['states'] or '':>10} {e['wall']:13.3f} {search:>9} "
                  f"{proof:8.3f}  {'hold' if e['invariants_hold'] else 'VIOLATED'}{mark}")
            scaling.append({"model": label, "const": const, **e})
        print()
    if args.json:
        Path(args.json).write_text(json.dumps({"proofs": proofs, "scaling": scaling}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
