"""Random simulation: many random runs through a model, checking safety on every state.

A run starts in an initial state picked at random and takes at most ``depth`` steps, each one
picked among the transitions enabled in the current state: uniformly, or in proportion to a
weight given per step name. Every state reached is checked against the invariants; a step
that fails (a false ``assert``, a value outside its range, a lookup outside a domain) and a
state with no step that is not a valid end (a deadlock) are violations too. Successors that
break a ``constraint`` are discarded, as the exhaustive search discards them.

Simulation proves nothing: a batch of runs that finds no violation is ``inconclusive``,
never ``ok``. It finds bugs deep in state spaces too large to search exhaustively.

Runs are reproducible. Run ``i`` of seed ``s`` draws from its own generator, seeded from
``(s, i)`` alone, so :func:`replay` gives the same run again without running the ones before
it, and a batch gives the same traces on every machine and Python run (the successor lists
of :class:`~mscheck.engine.compile.CompiledModel` come in a fixed order).

Weights (``weights``) map step names to non-negative numbers; a step without a weight weighs
1, and a step of weight 0 is never picked. A step is looked up, most specific first, as
``Actor.action`` (``Participant[2].on_Execute``, ``network.lose``), as ``Service.action``
(``Participant.on_Execute``, ``Worker.crash``; the index or process arguments dropped), and
as ``Service`` (every step of the service). A run stops early when every enabled step weighs
0, or in a valid end state.

The result is a plain dict shaped like the document of ``check``::

    {"version": 1, "command": "simulate", "system", "file", "verdict", "runs", "steps",
     "seed", "depth", "seconds", "reason", "witnessed", "violations": [
        {"kind", "property", "message", "location", "failing_step", "run", "trace"}]}

``runs`` counts the runs made (the last one is the run that found the violation),
``steps`` the steps taken over all of them, ``witnessed`` the ``reachable`` properties some
run met. A violation names its ``run``: ``replay(model, seed, run)`` (with the same depth and
weights) gives it again.
"""

from __future__ import annotations

import random
import time
from mscheck.engine.compile import CompiledModel, Unsupported
from mscheck.engine.model import Step, StepError
from mscheck.engine.search import TraceStep

__all__ = ["simulate", "replay", "run_once", "RunResult"]


class RunResult:
    """One run: its trace (initial state first), and the violation that ended it, if any."""

    __slots__ = ("trace", "violation", "ended")

    def __init__(self, trace: list[TraceStep], violation: dict | None, ended: str):
        self.trace = trace
        self.violation = violation  # {"kind", "property", "message", "span", "step"}
        self.ended = ended  # "violation" | "depth" | "end" | "blocked" | "constraint"


def _rng(seed: int, run_index: int) -> random.Random:
    """The generator of one run: a function of the seed and the run's index only."""
    return random.Random(f"mscheck-simulate:{seed}:{run_index}")


def _base(actor: str) -> str:
    for sep in ("[", "("):
        cut = actor.find(sep)
        if cut >= 0:
            actor = actor[:cut]
    return actor


def _weigher(weights: dict | None):
    if not weights:
        return None
    table: dict[str, float] = {}
    for name, w in weights.items():
        try:
            value = float(w)
        except (TypeError, ValueError):
            raise ValueError(f"the weight of {name} is not a number: {w!r}") from None
        if value < 0 or value != value:
            raise ValueError(f"the weight of {name} must be a number >= 0, not {w!r}")
        table[str(name)] = value

    def weight(step: Step) -> float:
        exact = f"{step.actor}.{step.action}"
        if exact in table:
            return table[exact]
        base = _base(step.actor)
        key = f"{base}.{step.action}"
        if key in table:
            return table[key]
        return table.get(base, 1.0)
    return weight


def step_names(model: CompiledModel) -> set[str]:
    """The ``Service.action`` names a weight may use (besides ``Actor.action`` and bare
    service names): every action and handler, the network's faults, crash and restart."""
    names = {f"{st['service']}.{st['name']}" for st in model.steps}
    for hs in getattr(model, "_receivers", {}).values():
        names |= {f"{h['service']}.{h['name']}" for h in hs}
    if model.has_faults:
        names |= {"network.lose", "network.duplicate", "network.reorder"}
        for service, _ in model.up_slot:
            names |= {f"{service}.crash", f"{service}.restart"}
    return names


def _check_weights(model: CompiledModel, weights: dict | None) -> None:
    """Reject a weight that names no step of the model (a typo would silently weigh 1)."""
    if not weights:
        return
    known = step_names(model)
    services = {n.split(".")[0] for n in known} | set(model.spec.services)
    processes = set(getattr(model.spec, "processes", {}) or {})
    for name in weights:
        name = str(name)
        head, _, action = name.partition(".")
        base = _base(head)
        if base in processes:
            continue
        if not action and base in services | {"network"}:
            continue
        if f"{base}.{action}" in known:
            continue
        raise ValueError(f"weight for {name}: no step of the model has that name; the steps "
                         f"are {', '.join(sorted(known)) or 'none'}")


def _pick(rng: random.Random, succ: list, weight) -> int | None:
    """The index of the transition to take, or None when every weight is 0."""
    if weight is None:
        return rng.randrange(len(succ))
    ws = [weight(step) for step, _ in succ]
    total = sum(ws)
    if total <= 0:
        return None
    r = rng.random() * total
    acc = 0.0
    last = None
    for i, w in enumerate(ws):
        if w <= 0:
            continue
        acc += w
        last = i
        if r < acc:
            return i
    return last  # rounding at the top end


def run_once(model: CompiledModel, seed: int, run_index: int, depth: int, *,
             weights: dict | None = None, properties: list[str] | None = None,
             deadlock: bool = True, _prepared=None) -> RunResult:
    """Run number ``run_index`` of ``seed``: at most ``depth`` steps (see the module
    docstring). Raises StepError only for an initial state outside its types."""
    if _prepared is None:
        _prepared = _prepare(model, weights, properties)
    invariants, reachables, weight, initial, witnessed = _prepared
    rng = _rng(seed, run_index)
    state = initial[rng.randrange(len(initial))]
    trace = [TraceStep(None, state)]

    def check_state(s) -> dict | None:
        for p in invariants:
            try:
                ok = p.check(s)
            except StepError as err:
                return {"kind": err.kind, "property": p.name,
                        "message": f"invariant {p.name} cannot be evaluated: {err.message}",
                        "span": err.span or p.span, "step": None}
            if not ok:
                return {"kind": "invariant", "property": p.name,
                        "message": f"invariant {p.name} is violated", "span": p.span,
                        "step": None}
        if witnessed is not None:
            for p in reachables:
                if p.name not in witnessed:
                    try:
                        if p.check(s):
                            witnessed.add(p.name)
                    except StepError:
                        pass
        return None

    bad = check_state(state)
    if bad:
        return RunResult(trace, bad, "violation")
    for _ in range(depth):
        try:
            succ = model.successors(state)
        except StepError as err:
            return RunResult(trace, {"kind": err.kind, "property": err.kind,
                                     "message": err.message, "span": err.span,
                                     "step": getattr(err, "step", None)}, "violation")
        if not succ:
            if deadlock and not model.is_valid_end(state):
                return RunResult(trace, {"kind": "deadlock", "property": "deadlock_free",
                                         "message": "no step is enabled (deadlock)",
                                         "span": None, "step": None}, "violation")
            return RunResult(trace, None, "end")
        succ = [(st, t) for st, t in succ if model.satisfies_constraints(t)]
        if not succ:
            return RunResult(trace, None, "constraint")
        i = _pick(rng, succ, weight)
        if i is None:
            return RunResult(trace, None, "blocked")
        step, state = succ[i]
        trace.append(TraceStep(step, state))
        bad = check_state(state)
        if bad:
            return RunResult(trace, bad, "violation")
    return RunResult(trace, None, "depth")


def _prepare(model: CompiledModel, weights, properties, witnessed: set | None = None):
    props = model.properties()
    if properties is not None:
        names = {p.name for p in props}
        unknown = [p for p in properties if p not in names and p != "deadlock_free"]
        if unknown:
            raise Unsupported(f"no invariant or reachable property named {', '.join(unknown)}; "
                              f"the spec has {', '.join(sorted(names)) or 'none'}")
        props = [p for p in props if p.name in properties]
    _check_weights(model, weights)
    invariants = [p for p in props if p.kind == "invariant"]
    reachables = [p for p in props if p.kind == "reachable"]
    initial = list(model.initial_states())
    return invariants, reachables, _weigher(weights), initial, witnessed


def _violation_doc(model: CompiledModel, v: dict, trace: list[TraceStep], run: int) -> dict:
    from mscheck.engine.check import _loc, _step_doc, _trace_doc

    return {"kind": v["kind"], "property": v["property"], "message": v["message"],
            "location": _loc(v["span"]),
            "failing_step": _step_doc(v["step"]) if v["step"] is not None else None,
            "run": run, "trace": _trace_doc(model, trace)}


def _initial_error(model: CompiledModel, err: StepError, command: str, seed: int) -> dict:
    from mscheck.engine.check import _loc

    return {"version": 1, "command": command, "system": model.spec.name,
            "file": model.spec.file, "verdict": "violation", "runs": 0, "steps": 0,
            "seed": seed, "violations": [{"kind": err.kind, "property": err.kind,
                                          "message": err.message, "location": _loc(err.span),
                                          "failing_step": None, "run": None, "trace": []}]}


def simulate(model: CompiledModel, runs: int, depth: int, seed: int,
             weights: dict | None = None, properties: list[str] | None = None, *,
             deadlock: bool = True, timeout: float | None = None) -> dict:
    """``runs`` random runs of at most ``depth`` steps from ``seed``; stops at the first
    violation. Returns the simulate document (module docstring).

    ``properties`` limits the invariants checked (and the reachables watched); with it,
    deadlocks are reported only when ``deadlock_free`` is named, as ``check`` does.
    ``timeout`` (seconds) ends the batch early (the document says so in ``reason``).
    Raises ValueError for a negative count or a bad weight, and
    :class:`~mscheck.engine.compile.Unsupported` for an unknown property name.
    """
    if runs < 0 or depth < 0:
        raise ValueError("runs and depth must be >= 0")
    t0 = time.monotonic()
    if properties is not None:
        deadlock = deadlock and "deadlock_free" in properties
    witnessed: set[str] = set()
    try:
        prepared = _prepare(model, weights, properties, witnessed)
    except StepError as err:  # an initial value outside its type
        return _initial_error(model, err, "simulate", seed)
    total_steps = 0
    done = 0
    violations: list[dict] = []
    reason = None
    ends = {"depth": 0, "end": 0, "blocked": 0, "constraint": 0}
    for k in range(runs):
        if timeout is not None and time.monotonic() - t0 > timeout:
            reason = f"time limit of {timeout:g} s reached after {done} runs"
            break
        r = run_once(model, seed, k, depth, weights=weights, deadlock=deadlock,
                     _prepared=prepared)
        done += 1
        total_steps += len(r.trace) - 1
        if r.violation is not None:
            violations.append(_violation_doc(model, r.violation, r.trace, k))
            break
        ends[r.ended] += 1
    if violations:
        verdict = "violation"
    else:
        verdict = "inconclusive"
        if reason is None:
            reason = (f"{done} random runs of at most {depth} steps found no violation; "
                      "a simulation proves nothing")
    return {"version": 1, "command": "simulate", "system": model.spec.name,
            "file": model.spec.file, "verdict": verdict, "runs": done,
            "steps": total_steps, "seed": seed, "depth": depth,
            "seconds": round(time.monotonic() - t0, 3), "reason": reason,
            "run_ends": ends, "witnessed": sorted(witnessed), "violations": violations}


def replay(model: CompiledModel, seed: int, run_index: int, depth: int = 100, *,
           weights: dict | None = None, properties: list[str] | None = None,
           deadlock: bool = True) -> dict:
    """Run number ``run_index`` of ``seed`` again (with the depth and weights of the batch)
    and return it as a document: ``{"version", "command": "replay", "system", "file",
    "verdict", "seed", "run", "depth", "steps", "ended", "trace", "violations"}``, where
    ``trace`` is the whole run (as in ``check``) whether or not it found a violation."""
    from mscheck.engine.check import _trace_doc

    if properties is not None:
        deadlock = deadlock and "deadlock_free" in properties
    try:
        prepared = _prepare(model, weights, properties, None)
    except StepError as err:
        return _initial_error(model, err, "replay", seed)
    r = run_once(model, seed, run_index, depth, weights=weights, deadlock=deadlock,
                 _prepared=prepared)
    violations = ([_violation_doc(model, r.violation, r.trace, run_index)]
                  if r.violation is not None else [])
    return {"version": 1, "command": "replay", "system": model.spec.name,
            "file": model.spec.file, "verdict": "violation" if violations else "inconclusive",
            "seed": seed, "run": run_index, "depth": depth, "steps": len(r.trace) - 1,
            "ended": r.ended, "trace": _trace_doc(model, r.trace), "violations": violations}
