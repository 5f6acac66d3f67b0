"""``check``: compile a spec, search its state space, and describe the result as data.

The result is a plain dict (the JSON document of ``mscheck check --format json``); reporters
render it. Traces show, per step, who moved, what was sent and received, and only the
variables that changed.
"""

from __future__ import annotations

import signal
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from mscheck.engine.compile import CompiledModel, Unsupported
from mscheck.engine.model import StepError
from mscheck.engine.search import Limits, LimitReached, SearchResult, _peak, guarded, search
from mscheck.ir import nodes as N
from mscheck.ir.evaluate import show_value

__all__ = ["check_spec", "result_document", "UsageError"]


class UsageError(Exception):
    """The options do not fit the spec (an unknown property name): exit code 2."""


def check_spec(spec: N.Spec, *, strategy="bfs", limits: Limits = Limits(),
               deadlock: bool = True, keep_going: bool = False,
               properties: list[str] | None = None,
               progress: Callable[[dict], None] | None = None, engine: str = "auto",
               faults: bool = True, max_faults: int | None = None,
               coverage: bool = False, fingerprints: bool = False, workers: int = 1,
               tune_memory: bool = False) -> dict:
    """Check ``spec``; returns the result document (see module docstring). With ``workers``
    = 2 the vector engine searches large levels on two processes (not with liveness). With
    ``tune_memory`` (a process that runs this search only, as the command line does), the
    allocator is set for the search (:func:`tune_allocator`), except when an ``auto``
    search without liveness ends in the packed loop's first levels (a small model: the
    setting would only cost its import).

    Raises :class:`Unsupported` when the spec uses a construct the engine cannot explore.
    """
    model = CompiledModel(spec, faults=faults, max_faults=max_faults)
    live = [p for p in spec.properties if p.kind in LIVENESS]
    if spec.progress and (not properties or "progress" in properties):
        live.append(None)  # the livelock check: a cycle without progress
    names = {p.name for p in model.properties()} | {p.name for p in live if p is not None}
    selected = None
    if properties:
        unknown = [p for p in properties if p not in names and p not in ("deadlock_free",
                                                                              "progress")]
        if unknown:
            raise UsageError(f"no property named {', '.join(unknown)}; the spec has "
                             f"{', '.join(sorted(names | {'deadlock_free'})) or 'none'}")
        deadlock = deadlock and "deadlock_free" in properties
        selected = [p for p in properties if p in names]
        live = [p for p in live if p is None or p.name in selected]

    def tune():
        if tune_memory:
            from mscheck.engine import search as search_module

            search_module.tune_allocator()

    previous = signal.getsignal(signal.SIGINT)
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread
        previous = None
    packed, why_scalar, used = None, None, "packed"
    t0 = time.monotonic()
    graph: dict | None = {} if live or coverage else None
    if coverage:
        why_scalar = "coverage needs the state graph"
    elif engine in ("auto", "packed", "vector") and strategy == "bfs":
        from mscheck.engine.packed import NotPackable, PackedModel

        try:
            packed = PackedModel(model)
            packed.record_steps = bool(live)  # the state graph's step ids, as tables fill
        except NotPackable as exc:
            why_scalar = str(exc)
            if engine in ("packed", "vector"):
                raise Unsupported(f"the {engine} engine cannot run this spec: {exc}") from None
        except StepError:
            packed = None  # reported below by the scalar engine
    elif engine in ("packed", "vector"):  # two options that do not go together
        raise UsageError(f"the {engine} engine searches breadth-first only: --strategy dfs "
                         f"needs --engine scalar (or auto)")
    try:
        try:
            initial_error = None
            result = None
            if packed is not None:
                from mscheck.engine.packed import (SMALL_LEVEL, NotPackable, interrupted_at,
                                                   packed_search, packed_start)

                vector = engine in ("auto", "vector")
                used = "vector" if vector else "packed"
                kept: dict | None = {} if live and vector else None
                try:
                    if not vector:
                        tune()
                        result = packed_search(packed, limits=limits, check_deadlock=deadlock,
                                               keep_going=keep_going, properties=selected,
                                               progress=progress)
                    else:
                        options = dict(limits=limits, check_deadlock=deadlock,
                                       keep_going=keep_going, properties=selected,
                                       progress=progress)
                        got = None
                        if engine == "auto" and kept is None:
                            # a small model ends in the packed loop: numpy is not imported
                            got = packed_start(packed, SMALL_LEVEL, **options)
                        if isinstance(got, SearchResult):
                            result = got
                        else:
                            states = None if got is None else len(got.visited)
                            try:
                                tune()
                                from mscheck.engine.vector import vector_search

                                result = vector_search(
                                    packed, keep=kept, workers=workers,
                                    small=SMALL_LEVEL if engine == "auto" else 0,
                                    handoff=got, **options)
                            except KeyboardInterrupt:
                                if got is None:
                                    raise
                                # as the vector engine set out (importing numpy, making its
                                # tables): what the packed loop found stands
                                result = interrupted_at(packed, got, states)
                    if live and result.complete:
                        with _liveness_limits(result, limits, t0, progress, len(live)):
                            why_scalar = _packed_liveness(spec, model, packed, result, live,
                                                          kept)
                        if why_scalar:  # the scalar engine records the graph instead
                            if engine in ("packed", "vector"):
                                raise Unsupported(f"liveness on the {engine} engine: "
                                                  f"{why_scalar}")
                            result, packed = None, None
                    elif live and result.verdict == "ok":
                        result.verdict = "inconclusive"
                        result.reason = result.reason or "liveness needs the whole state space"
                except NotPackable as exc:  # found while filling a table: start again
                    if engine in ("packed", "vector"):
                        raise Unsupported(f"the packed engine cannot run this spec: {exc}") \
                            from None
                    why_scalar, packed = str(exc), None
            if result is None:
                tune()
                result = search(model, strategy=strategy, limits=limits,
                                check_deadlock=deadlock, keep_going=keep_going,
                                properties=selected, progress=progress, graph=graph,
                                fingerprints=fingerprints and graph is None)
                if live and result.complete:
                    with _liveness_limits(result, limits, t0, progress, len(live)):
                        _check_liveness(spec, model, result, graph, live)
                elif live and result.verdict == "ok":
                    result.verdict = "inconclusive"
                    result.reason = result.reason or "liveness needs the whole state space"
        except StepError as err:  # an initial value outside its type
            initial_error = err
            result = None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if initial_error is not None:
        return {"version": 1, "command": "check", "system": spec.name, "file": spec.file,
                "verdict": "violation", "states": 0, "transitions": 0, "depth": 0,
                "seconds": 0.0, "engine": "scalar",
                "violations": [{"kind": initial_error.kind, "property": initial_error.kind,
                                "message": initial_error.message,
                                "location": _loc(initial_error.span), "trace": []}]}
    doc = result_document(spec, model, result)
    if coverage and graph:
        doc["coverage"], faults = _coverage(spec, model, graph)
        if faults:
            doc["fault_coverage"] = faults
        doc["coverage_complete"] = bool(result.complete)
    doc["engine"] = used if packed is not None else "scalar"
    doc["processes"] = result.workers
    if result.packed_levels and used == "vector":
        doc["packed_levels"] = result.packed_levels
    if packed is not None:
        doc["state_bits"] = packed.bits
    elif why_scalar:
        doc["engine_note"] = f"scalar engine: {why_scalar}"
    if fingerprints and "collision_probability" not in doc:
        doc["fingerprints_note"] = (
            "fingerprints not used: the packed states are exact" if packed is not None else
            "fingerprints not used: the state graph (liveness, coverage) needs the states")
    return doc


LIVENESS = ("leadsto", "eventually", "always_eventually")


def _obligations(spec: N.Spec, model: CompiledModel, steps: dict) -> list:
    """The fairness declarations as obligations over the recorded step ids (see
    mscheck.engine.liveness: one obligation per service instance)."""
    from mscheck.engine.liveness import Obligation

    by_actor: dict[str, list[tuple[int, str]]] = {}
    for sid, (actor, action, kind) in steps.items():
        if kind != "fault":  # crashes and restarts discharge no fairness obligation
            by_actor.setdefault(actor, []).append((sid, action))
    out = []
    for f in spec.fairness:
        ref = f.step
        if ref.kind == "process":
            ids = frozenset(sid for actor, pairs in by_actor.items()
                            if actor == ref.owner or actor.startswith(ref.owner + "(")
                            for sid, _ in pairs)
            out.append(Obligation(f.strength, ids, ref.owner))
            continue
        svc = spec.services[ref.owner]
        actor_of = model._actor(svc)
        for inst in model._instances(svc):
            actor = actor_of(inst)
            ids = frozenset(sid for sid, action in by_actor.get(actor, ())
                            if ref.step is None or action == ref.step)
            label = actor + (f".{ref.step}" if ref.step else "")
            out.append(Obligation(f.strength, ids, label))
    return out


@contextmanager
def _liveness_limits(result, limits: Limits, t0: float,
                     progress: Callable[[dict], None] | None, checks: int) -> Iterator[None]:
    """The liveness analysis (``checks`` properties and livelock checks) after a complete
    search, under the run's time and memory limits (counted from ``t0``) and Ctrl-C, with
    its progress reported: should a limit or Ctrl-C stop it, or memory run out, the run
    is inconclusive (a violation found stays one) and says why; the search's figures and
    verdicts stand."""
    why = None
    stage = (f"liveness: {checks} check{'s' if checks != 1 else ''} on {result.states:,} "
             f"states and {result.transitions:,} transitions")
    try:
        with guarded(limits, t0, progress, stage):
            yield
    except LimitReached as exc:
        why = str(exc)
    except KeyboardInterrupt:
        why = "interrupted"
    except MemoryError:
        why = "out of memory"
    finally:  # the peak of the whole run, the analysis included
        result.peak_memory = max(result.peak_memory, _peak())
    if why is not None:
        result.complete = False
        result.reason = f"liveness not decided: {why}"
        result.verdict = "violation" if result.violations else "inconclusive"


def _check_liveness(spec, model: CompiledModel, result, graph: dict, live) -> None:
    """Search each liveness property's lasso on the recorded graph; add violations."""
    from mscheck.engine.liveness import Graph, find_lasso, find_livelock

    states, steps = graph["states"], graph["steps"]
    g = Graph(graph["succ"], graph["initial"], graph["parent"])
    obligations = _obligations(spec, model, steps)
    initial = set(g.initial)

    def pred(expr):
        f = model._cx(expr)

        def holds(v: int) -> bool:
            try:
                return bool(f(states[v], {}))
            except StepError:
                return False
        return holds

    def lasso_of(prop):
        p, q = _goal(prop, pred, lambda v: v in initial, lambda v: True)
        return find_lasso(g, p, q, obligations)

    _add_lassos(spec, model, result, live, states, steps, lasso_of,
                lambda: find_livelock(g, _progress_ids(spec, steps), obligations))


def _goal(prop, pred, initial, everywhere):
    """(P, Q) of a liveness property: ``P ~> Q``; ``eventually Q`` is ``init ~> Q`` and
    ``always eventually Q`` is ``true ~> Q``."""
    if prop.kind == "leadsto":
        return pred(prop.expr), pred(prop.target)
    return (initial if prop.kind == "eventually" else everywhere), pred(prop.expr)


def _add_lassos(spec, model, result, live, states, steps: dict, lasso_of, livelock) -> None:
    """For each liveness property (None: the livelock check), the lasso found, as a
    violation with its trace."""
    for prop in live:
        lasso = livelock() if prop is None else lasso_of(prop)
        if lasso is None:
            continue
        result.violations.append(_livelock_violation(spec, lasso) if prop is None
                                 else _liveness_violation(prop, lasso))
        result.traces.append(_lasso_trace(model, states, lasso, steps))
    if result.violations:
        result.verdict = "violation"


def _packed_liveness(spec, model: CompiledModel, pm, result, live,
                     kept: dict | None = None) -> str | None:
    """Liveness and livelock on the state graph built with numpy from the packed model
    (:mod:`mscheck.engine.livegraph`); adds violations to ``result``. Returns why the graph
    could not be built (the caller then runs the scalar engine), or None."""
    import numpy as np

    from mscheck.engine.livearray import find_lasso_arrays, find_livelock_arrays
    from mscheck.engine.livegraph import (DecodedStates, GraphTooWide, NotPackable,
                                          build_graph, holds_mask)

    try:
        g, arr, ids = build_graph(pm, kept)
        if kept is not None:  # the search's levels: the graph holds its states now
            kept.clear()
        masks = {}
        for prop in live:
            if prop is not None:
                for e in (prop.expr, getattr(prop, "target", None)):
                    if e is not None and id(e) not in masks:
                        masks[id(e)] = holds_mask(pm, e, arr)
    except (GraphTooWide, NotPackable) as exc:
        return str(exc)
    if g.n != result.states:  # the same reachable states as the safety search
        return f"the graph has {g.n} states, the search {result.states}"
    steps = {sid: key for key, sid in ids.items()}
    states = DecodedStates(pm, arr)
    obligations = _obligations(spec, model, steps)
    initial = np.zeros(g.n, dtype=bool)
    initial[g.initial] = True

    def lasso_of(prop):
        p, q = _goal(prop, lambda e: masks[id(e)], initial, np.ones(g.n, dtype=bool))
        return find_lasso_arrays(g, p, q, obligations)

    _add_lassos(spec, model, result, live, states, steps, lasso_of,
                lambda: find_livelock_arrays(g, _progress_ids(spec, steps), obligations))
    return None


def _liveness_violation(prop, lasso):
    from mscheck.engine.model import Violation

    if prop.kind == "leadsto":
        message = (f"liveness {prop.name}: a fair behaviour reaches {_show(prop.expr)} and "
                   f"then never {_show(prop.target)}")
    elif prop.kind == "eventually":
        message = f"liveness {prop.name}: a fair behaviour where {_show(prop.expr)} never holds"
    else:
        message = (f"liveness {prop.name}: a fair behaviour where {_show(prop.expr)} holds "
                   "only finitely often")
    if not lasso.cycle:
        message += " (it ends in a state with no step)"
    return Violation("liveness", prop.name, message, None, span=prop.span,
                     extra={"loop_start": lasso.loop_start})


def _lasso_trace(model, states, lasso, step_keys: dict) -> list:
    """The lasso as trace steps; each step is the one the lasso took (its step id), not just
    any step between the same two states."""
    from mscheck.engine.search import TraceStep

    steps = lasso.prefix + lasso.cycle
    trace = [TraceStep(None, states[steps[0][0]])]
    for (a, _), (b, sid) in zip(steps, steps[1:]):
        want = step_keys.get(sid)
        moves = [st for st, t in model.successors(states[a]) if t == states[b]]
        step = next((st for st in moves if (st.actor, st.action, st.kind) == want),
                    moves[0] if moves else None)
        trace.append(TraceStep(step, states[b]))
    return trace


def _progress_ids(spec, steps: dict) -> frozenset:
    """The step ids that count as progress (``progress`` declarations). Fault steps
    (crashes, restarts, network losses, duplicates and reorders) never do: a service that
    crashes and restarts for ever makes no progress, and ``progress W.crash`` names the
    user's action ``crash``, never the fault."""
    wanted = []
    for ref in spec.progress:
        for sid, (actor, action, kind) in steps.items():
            if kind == "fault":
                continue
            base = actor.split("[", 1)[0].split("(", 1)[0]
            if base == ref.owner and (ref.step is None or action == ref.step):
                wanted.append(sid)
    return frozenset(wanted)


def _livelock_violation(spec, lasso):
    from mscheck.engine.model import Violation

    names = ", ".join(f"{r.owner}.{r.step}" if r.step else r.owner for r in spec.progress)
    return Violation("livelock", "progress", f"livelock: a fair cycle that never takes a "
                     f"progress step ({names})", None, span=spec.progress[0].span,
                     extra={"loop_start": lasso.loop_start})


def _coverage(spec, model: CompiledModel, graph) -> tuple[dict, dict]:
    """Per service step, in how many explored states it was enabled (had a transition) and
    how many transitions took it; ``never_taken`` flags the steps no transition took. A
    handler of a ``sync`` channel runs inside its sender's step: it counts for the
    transitions that ran it. Fault steps (``network.lose``, ``Svc.crash``, ...) are counted
    apart, in the second dict, so that they are never mixed with an action or handler of
    the same name."""
    enabled: dict[tuple[str, str, bool], set] = {}
    taken: dict[tuple[str, str, bool], int] = {}

    def count(v: int, key) -> None:
        enabled.setdefault(key, set()).add(v)
        taken[key] = taken.get(key, 0) + 1

    states, steps = graph["states"], graph["steps"]
    sync = bool(getattr(model, "_receivers", None))
    for v, edges in enumerate(graph["succ"]):
        inner = _sync_handlers(model, states[v]) if sync and edges else {}
        for w, sid in edges:
            actor, action, kind = steps[sid]
            count(v, (_service_of(actor), action, kind == "fault"))
            for handler in inner.get((actor, action, kind, states[w]), ()):
                count(v, handler)

    def entry(key) -> dict:
        n = taken.get(key, 0)
        return {"enabled_states": len(enabled.get(key, ())), "taken": n, "never_taken": n == 0}

    out = {}
    for svc in spec.services.values():
        for name in [a.name for a in svc.actions] + [h.name for h in svc.handlers]:
            out[f"{svc.name}.{name}"] = entry((svc.name, name, False))
    faults = {f"{owner}.{action}": entry((owner, action, True))
              for owner, action, fault in sorted(taken) if fault}
    return out, faults


def _service_of(actor: str) -> str:
    return actor.split("[", 1)[0].split("(", 1)[0]


def _sync_handlers(model: CompiledModel, state) -> dict:
    """The handlers each step from ``state`` runs on a ``sync`` channel (the step's
    ``recv`` messages name them ``Actor.handler``), by (actor, action, kind, target)."""
    out: dict[tuple, list] = {}
    try:
        succ = model.successors(state)
    except StepError:
        return out
    for st, target in succ:
        for direction, _channel, who in st.messages:
            actor, dot, name = who.rpartition(".")
            if direction != "recv" or not dot:
                continue
            svc = model.spec.services.get(_service_of(actor))
            if svc is not None and any(h.name == name for h in svc.handlers):
                out.setdefault((st.actor, st.action, st.kind, target), []).append(
                    (svc.name, name, False))
    return out


def _show(e) -> str:
    from mscheck.ir.printer import show_expr

    return show_expr(e)


def _loc(span) -> dict | None:
    if span is None:
        return None
    return {"file": span.file, "line": span.line, "column": span.column}


def result_document(spec: N.Spec, model: CompiledModel, r: SearchResult) -> dict:
    rate = r.states / r.seconds if r.seconds > 0 else None
    doc = {
        "version": 1,
        "command": "check",
        "system": spec.name,
        "file": spec.file,
        "verdict": r.verdict,
        "states": r.states,
        "transitions": r.transitions,
        "depth": r.depth,
        "seconds": round(r.seconds, 3),
        "states_per_second": round(rate) if rate else None,
        "peak_memory": r.peak_memory,
        "strategy": r.strategy,
        "engine": "scalar",
        "complete": r.complete,
        "reason": r.reason,
        "violations": [],
    }
    if r.collision_probability is not None:
        doc["collision_probability"] = r.collision_probability
    for v, trace in zip(r.violations, r.traces):
        doc["violations"].append({
            "kind": v.kind,
            "property": v.property,
            "message": v.message,
            "location": _loc(v.span),
            "failing_step": _step_doc(v.step) if v.step is not None else None,
            "trace": _trace_doc(model, trace),
        })
        if "loop_start" in v.extra:
            doc["violations"][-1]["loop_start"] = v.extra["loop_start"]
    return doc


def _step_doc(step) -> dict:
    return {"actor": step.actor, "action": step.action,
            "params": {n: show_value(x) for n, x in step.params},
            "messages": [{"direction": d, "channel": c, "message": m}
                         for d, c, m in step.messages]}


def _trace_doc(model: CompiledModel, trace) -> list[dict]:
    out = []
    prev = None
    for i, ts in enumerate(trace):
        state = model.describe(ts.state)
        if prev is None:
            changes = dict(state)
        else:
            changes = {k: v for k, v in state.items() if prev.get(k) != v}
        item = {"step": i, "actor": ts.step.actor if ts.step else None,
                "action": ts.step.action if ts.step else "initial state",
                "params": {n: show_value(x) for n, x in ts.step.params} if ts.step else {},
                "messages": [{"direction": d, "channel": c, "message": m}
                             for d, c, m in ts.step.messages] if ts.step else [],
                "changes": changes, "state": state}
        if ts.step is not None and ts.step.kind == "fault":
            item["fault"] = True  # a network fault, a crash or a restart
        out.append(item)
        prev = state
    return out
