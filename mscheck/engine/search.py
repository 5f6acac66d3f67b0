"""Exhaustive search of a model's state graph: breadth-first (shortest counterexamples) or
depth-first, with limits that end the run as inconclusive, never as 'ok'.

Counts follow TLC: ``states`` are distinct reachable states; ``transitions`` are the initial
states plus every successor computed from every distinct state, duplicates and self-loops
included.

Breadth-first, without ``keep_going``, the search stops as the packed and vector engines do,
level by level, so that all engines stop at the same violation with the same counts, and it
is one of the shortest of all: at a deadlock or a failing step at once; at a broken invariant
only once the level before it is expanded (a deadlock or a failing step met meanwhile, one
step shorter, is reported instead), reporting the first invariant in declaration order that
some state of the level breaks, at the first such state.

With ``fingerprints``, the visited set holds a 64-bit fingerprint of each state instead of
the state, and only the states still to expand are kept; a trace is rebuilt by replaying, from
its initial state, the recorded position of each step among its state's successors. Two
states with one fingerprint would count as one, so the result carries TLC's optimistic
estimate of the probability that this happened: ``states * (transitions - states) / 2**64``.
"""

from __future__ import annotations

import contextvars
import os
import resource
import sys
import time
from array import array
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from mscheck.engine.model import Step, StepError, Violation

__all__ = ["Limits", "SearchResult", "search", "TraceStep", "LimitReached", "default_memory",
           "guarded", "poll"]


@dataclass(frozen=True)
class Limits:
    max_states: int | None = None
    max_depth: int | None = None
    timeout: float | None = None  # seconds
    memory: int | None = None  # bytes of resident memory
    memory_default: bool = False  # ``memory`` is :func:`default_memory`, not asked for

    def time_and_memory(self) -> "Limits":
        """These limits without the bounds on states and depth (checked apart)."""
        return Limits(timeout=self.timeout, memory=self.memory,
                      memory_default=self.memory_default)

    @classmethod
    def capped(cls, memory: int | None = None, **bounds) -> "Limits":
        """Limits with the memory cap ``memory``, or without one the default cap
        (:func:`default_memory`, where the machine tells what is free)."""
        if memory is None:
            memory = default_memory()
            return cls(memory=memory, memory_default=memory is not None, **bounds)
        return cls(memory=memory, **bounds)


@dataclass(frozen=True)
class TraceStep:
    step: Step | None  # None for the initial state
    state: Any


@dataclass
class SearchResult:
    verdict: str  # ok | violation | inconclusive
    states: int
    transitions: int
    depth: int
    seconds: float
    peak_memory: int
    violations: list[Violation] = field(default_factory=list)
    traces: list[list[TraceStep]] = field(default_factory=list)
    reason: str | None = None  # why a run is inconclusive
    strategy: str = "bfs"
    complete: bool = True
    collision_probability: float | None = None  # with fingerprints
    workers: int = 1  # the processes that searched
    packed_levels: int = 0  # levels the vector engine left to the packed loop


#: breadth-first, every engine checks its limits after every this many states of a level
#: (and between levels)
CHECK_EVERY = 1 << 14


def limit_reached(limits: Limits, t0: float, states: int) -> str | None:
    """Why a run must stop now (time, memory or state limit), or None."""
    why = _time_or_memory(limits, t0, time.monotonic())
    if why is None and limits.max_states is not None and states >= limits.max_states:
        why = f"state limit of {limits.max_states} reached"
    return why


def _time_or_memory(limits: Limits, t0: float, now: float, rss: int | None = None,
                    need: int = 0) -> str | None:
    """Why the time limit (counted from ``t0``) or the memory limit stops a run now, or
    None; ``rss`` the resident memory when already read, ``need`` bytes about to be
    taken."""
    if limits.timeout is not None and now - t0 > limits.timeout:
        return f"time limit of {limits.timeout:g} s reached"
    if limits.memory is not None and (_rss() if rss is None else rss) + need > limits.memory:
        return memory_reason(limits, need)
    return None


def memory_reason(limits: Limits, need: int = 0) -> str:
    """Why the memory limit stops a run (``need``: the bytes a step was about to take)."""
    text = f"memory limit of {limits.memory // 2**20} MiB reached"
    if need:
        text = (f"memory limit of {limits.memory // 2**20} MiB: the next step needs about "
                f"{need // 2**20:,} MiB, more than is left")
    if limits.memory_default:
        text += (f" (the default, {DEFAULT_MEMORY_SHARE:.0%} of the memory free at the start;"
                 " --memory sets another)")
    return text


#: without ``--memory``, a run may take this share of the memory free when it starts (the
#: machine would otherwise swap, or with no swap end the process)
DEFAULT_MEMORY_SHARE = 0.9


def default_memory() -> int | None:
    """:data:`DEFAULT_MEMORY_SHARE` of the memory this process could use at the start (what
    it holds and what is free: the system's ``MemAvailable``, or less when a control group
    caps the memory of the processes it runs in), or None where unknown."""
    free = [f for f in (_meminfo_available(), _cgroup_headroom()) if f is not None]
    return int(DEFAULT_MEMORY_SHARE * (min(free) + _rss())) if free else None


def _read_numbers(path: str) -> dict[str, int]:
    """``name value`` lines of a file (``/proc/meminfo``, a control group's
    ``memory.stat``) as a dict; empty where it cannot be read."""
    out = {}
    try:
        with open(path) as fh:
            for line in fh:
                parts = line.replace(":", " ").split()
                if len(parts) >= 2 and parts[1].isdigit():
                    out[parts[0]] = int(parts[1])
    except OSError:
        pass
    return out


def _meminfo_available() -> int | None:
    kib = _read_numbers("/proc/meminfo").get("MemAvailable")
    return None if kib is None else kib * 1024


def _read_int(path: str) -> int | None:
    try:
        with open(path) as fh:
            text = fh.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max": no limit


CGROUP = "/sys/fs/cgroup"  # where the control groups' files are (version 2, or 1 below)


def _cgroup_headroom() -> int | None:
    """What the memory control group of this process leaves: its limit less its usage, the
    inactive file pages (reclaimed first) counted as free; None without a limit."""
    for limit_file, usage_file, stat_file, inactive in (
            ("memory.max", "memory.current", "memory.stat", "inactive_file"),
            ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes",
             "memory/memory.stat", "total_inactive_file")):
        limit = _read_int(f"{CGROUP}/{limit_file}")
        usage = _read_int(f"{CGROUP}/{usage_file}")
        if limit is None or usage is None or limit >= 1 << 60:  # version 1's "no limit"
            continue
        reclaimable = _read_numbers(f"{CGROUP}/{stat_file}").get(inactive, 0)
        return max(0, limit - usage + reclaimable)
    return None


class LimitReached(Exception):
    """The time or memory limit stops an analysis that runs after the search (liveness);
    its text says which."""


_GUARD: contextvars.ContextVar = contextvars.ContextVar("mscheck_limits", default=None)


@contextmanager
def guarded(limits: Limits, t0: float, progress: Callable[[dict], None] | None = None,
            stage: str = "") -> Iterator[None]:
    """Within this block :func:`poll` checks ``limits`` (time counted from ``t0``) and,
    once a second at most, calls ``progress`` with ``stage`` (what is being done), the
    seconds since ``t0`` and the resident memory."""
    token = _GUARD.set([limits, t0, progress, stage, time.monotonic()])
    try:
        yield
    finally:
        _GUARD.reset(token)


def poll(need: int = 0) -> None:
    """Raise :class:`LimitReached` when the time limit is past, or the memory limit would be
    with ``need`` bytes more (an estimate of what the next step allocates), inside
    :func:`guarded`; outside, nothing. Analyses after the search call it between steps."""
    got = _GUARD.get()
    if got is None:
        return
    limits, t0, progress, stage, last = got
    now = time.monotonic()
    rss = _rss() if limits.memory is not None or progress is not None else 0
    why = _time_or_memory(limits, t0, now, rss, need)
    if why is not None:
        raise LimitReached(why)
    if progress is not None and now - last >= 1.0:
        got[4] = now
        progress({"stage": stage, "seconds": now - t0, "memory": rss})


def unreachable(name: str, span) -> Violation:
    return Violation("unreachable", name, f"reachable {name} has no witness: no reachable "
                     "state satisfies it", None, span=span)


def _rss() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# glibc's mallopt parameters
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: arrays below this size come from the heap...
HEAP_ARRAYS = 4 << 20
#: ...and this much freed memory stays with the process
KEEP_FREED = 64 << 20


def tune_allocator() -> bool:
    """Keep the memory of a search's temporaries between batches (glibc on Linux only;
    whether the settings were taken).

    The vector engine allocates and frees arrays of the same sizes at every batch of
    states. By default glibc maps arrays of over 128 KiB apart (raising that bound as they
    are freed) and gives freed memory at the top of its heap back to the system: each new
    batch then faults the same pages in again: six-phase philosophers with N = 10 faulted
    140 MiB in for a peak of 54 MiB. With arrays under ``HEAP_ARRAYS`` taken from the heap
    and up to ``KEEP_FREED`` of freed memory kept, it faults 42 MiB in, and its whole run
    takes some 6 % less. The peaks of the benchmark models stay within 1 %; a spec whose
    states have a hundred successors each (arrays of successors over ``HEAP_ARRAYS``)
    peaked 6 % higher. A bound of 16 MiB or 32 MiB instead raised the peak of other
    models by 7 % to 13 %. Meant for a process that runs one search (the command line); it
    changes the allocator for the whole process."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, ImportError, TypeError):  # no libc with mallopt here
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, HEAP_ARRAYS)
                and mallopt(_M_TRIM_THRESHOLD, KEEP_FREED))


def search(model, *, strategy: str = "bfs", limits: Limits = Limits(),
           check_deadlock: bool = True, keep_going: bool = False,
           properties: list[str] | None = None,
           progress: Callable[[dict], None] | None = None,
           graph: dict | None = None, fingerprints: bool = False) -> SearchResult:
    """Explore every reachable state of ``model``; see the module docstring.

    With ``graph`` (a dict), the state graph is recorded for liveness: ``graph["succ"]``
    (per state, (target, step id) pairs), ``graph["steps"]`` (step id -> (actor, action,
    kind)),
    ``graph["states"]``, ``graph["parent"]`` and ``graph["initial"]``."""
    if fingerprints and graph is not None:
        raise ValueError("the state graph needs the states, not their fingerprints")
    t0 = time.monotonic()
    props = [p for p in model.properties() if properties is None or p.name in properties]
    invariants = [p for p in props if p.kind == "invariant"]
    reachables = {p.name: p for p in props if p.kind == "reachable"}
    witnessed: set[str] = set()

    states: list[Any] = []  # all states; with fingerprints, only the initial ones
    index: dict[Any, int] = {}
    seen: set[int] = set()  # fingerprints
    waiting: dict[int, Any] = {}  # with fingerprints: the states still to expand
    parent = array("q")
    depth_of = array("i")
    steps: list[Step | None] = []  # with fingerprints: unused
    step_no = array("I")  # with fingerprints: position of the step among the successors
    violations: list[Violation] = []
    reported: set[tuple[str, int]] = set()  # (invariant, depth) of the violations recorded
    # breadth-first without keep_going: the depth of the broken invariants found, which stop
    # the search once their level is complete, and where they start in ``violations``
    by_level = strategy == "bfs" and not keep_going
    pending: int | None = None
    pending_from = 0
    transitions = 0
    reason = None
    max_depth_seen = 0
    last_report = t0
    frontier_pos = 0  # BFS: next state to expand; DFS uses a stack
    level_depth = level_start = 0  # BFS: the level being expanded and its first state
    stack: list[int] = []

    def add(state, par: int, step: Step | None, depth: int, k: int = 0) -> int | None:
        nonlocal max_depth_seen
        if fingerprints:
            h = hash(state)
            if h in seen:
                return None
            seen.add(h)
            i = len(parent)
            waiting[i] = state
            step_no.append(k)
            if par < 0:
                states.append(state)
        else:
            if state in index:
                return None
            i = len(states)
            index[state] = i
            states.append(state)
            steps.append(step)
        parent.append(par)
        depth_of.append(depth)
        if depth > max_depth_seen:
            max_depth_seen = depth
        return i

    def count() -> int:
        return len(parent)

    def check_state(i: int) -> bool:
        """Check invariants and reachables at a new state; False to stop the search."""
        nonlocal pending, pending_from
        s = waiting[i] if fingerprints else states[i]
        for p in invariants:
            try:
                holds, why = p.check(s), ""
            except StepError as err:  # the invariant has no value here: it does not hold
                holds, why = False, f" (evaluating it failed: {err.message})"
            if not holds:
                if (p.name, depth_of[i]) in reported:
                    continue  # its first violating state at this depth is reported
                reported.add((p.name, depth_of[i]))
                if by_level and pending is None:
                    pending, pending_from = depth_of[i], len(violations)
                violations.append(Violation("invariant", p.name, f"invariant {p.name} is "
                                            f"violated{why}", i, span=p.span))
                if not keep_going and not by_level:
                    return False
        for name, p in reachables.items():
            if name not in witnessed:
                try:
                    if p.check(s):
                        witnessed.add(name)
                except StepError:
                    pass
        return True

    graph_succ: dict[int, list] = {}
    step_ids: dict[tuple[str, str, str], int] = {}
    stop = False
    expanded = 0
    try:
        for s in model.initial_states():
            transitions += 1
            i = add(s, -1, None, 0)
            if i is not None:
                stack.append(i)
                if not check_state(i):
                    stop = True
                    break
        while not stop:
            if strategy == "bfs":
                if frontier_pos >= count():
                    break
                i = frontier_pos
                frontier_pos += 1
            else:
                if not stack:
                    break
                i = stack.pop()
            d = depth_of[i]
            if pending is not None and d >= pending:
                stop = True  # the level before the broken invariants is expanded
                break
            if strategy == "bfs" and d != level_depth:  # a level is expanded
                level_depth, level_start = d, i
                if limits.max_states is not None and count() >= limits.max_states:
                    reason = f"state limit of {limits.max_states} reached"
                    break
            s = waiting.pop(i) if fingerprints else states[i]
            if limits.max_depth is not None and d >= limits.max_depth:
                reason = f"depth bound {limits.max_depth} reached"
                continue
            try:
                succ = model.successors(s)
            except StepError as err:
                if pending is not None:  # one step shorter than the broken invariants
                    del violations[pending_from:]
                violations.append(Violation(err.kind, err.kind, err.message, i,
                                            step=getattr(err, "step", None), span=err.span))
                if not keep_going:
                    stop = True
                    pending = None
                    break
                continue
            if not succ and check_deadlock and not model.is_valid_end(s):
                if pending is not None:
                    del violations[pending_from:]
                violations.append(Violation("deadlock", "deadlock_free",
                                            "no step is enabled (deadlock)", i))
                if not keep_going:
                    stop = True
                    pending = None
                    break
            edges = None
            if graph is not None and succ:
                edges = graph_succ[i] = []
            for k, (step, t) in enumerate(succ):
                transitions += 1
                if not model.satisfies_constraints(t):
                    continue
                j = add(t, i, step, d + 1, k)
                if edges is not None:
                    key = (step.actor, step.action, step.kind)
                    sid = step_ids.get(key)
                    if sid is None:
                        sid = step_ids[key] = len(step_ids)
                    edges.append((index[t], sid))
                if j is None:
                    continue
                if strategy != "bfs":
                    stack.append(j)
                if not check_state(j):
                    stop = True
                    break
            n = count()
            expanded += 1
            if expanded & 255 == 0 or stop:
                now = time.monotonic()
                reason = limit_reached(limits.time_and_memory(),
                                       t0, n)
                if reason:
                    break
                if progress is not None and now - last_report >= 1.0:
                    last_report = now
                    queue = n - frontier_pos if strategy == "bfs" else len(stack)
                    progress({"states": n, "transitions": transitions, "queue": queue,
                              "depth": max_depth_seen, "seconds": now - t0,
                              "memory": _rss()})
            if strategy == "bfs":
                # every CHECK_EVERY states of a level, and between levels (above), as the
                # packed and vector engines check: the same stop, the same counts
                if (i - level_start) % CHECK_EVERY == CHECK_EVERY - 1:
                    reason = limit_reached(limits, t0, n)
                    if reason:
                        break
            elif limits.max_states is not None and n >= limits.max_states and stack:
                reason = f"state limit of {limits.max_states} reached"
                break
    except KeyboardInterrupt:
        reason = "interrupted"

    rank = {p.name: n for n, p in enumerate(invariants)}  # the declaration order
    if pending is not None:  # one violation: the first broken invariant in declaration order
        stop = True
        first = min(violations[pending_from:], key=lambda v: rank[v.property])
        violations[pending_from:] = [first]
    if strategy == "bfs" and keep_going:
        # in the packed and vector engines' order: level by level, the invariants broken in
        # the level (as declared), then the deadlocks and failing steps of its states (in order)
        violations.sort(key=lambda v: (depth_of[v.trace_index], v.kind != "invariant",
                                       rank[v.property] if v.kind == "invariant"
                                       else v.trace_index))
    complete = reason is None and not stop
    if complete:
        for name, p in reachables.items():
            if name not in witnessed:
                violations.append(unreachable(name, p.span))

    def trace(i: int | None) -> list[TraceStep]:
        path = []
        while i is not None and i >= 0:
            path.append(i)
            i = parent[i]
        path.reverse()
        if not fingerprints:
            return [TraceStep(steps[j], states[j]) for j in path]
        # replay: the initial states come first, in order, and are kept; then each step is
        # taken again by its position among its state's successors
        state = states[path[0]]
        out = [TraceStep(None, state)]
        for j in path[1:]:
            step, state = model.successors(state)[step_no[j]]
            out.append(TraceStep(step, state))
        return out

    traces = [trace(v.trace_index) if v.trace_index is not None else [] for v in violations]
    if graph is not None:
        graph.update(succ=[graph_succ.get(i, []) for i in range(len(states))],
                     steps={sid: key for key, sid in step_ids.items()}, states=states,
                     parent=list(parent), initial=[i for i in range(len(states))
                                                    if parent[i] < 0])
    if violations:
        verdict = "violation"
    elif reason is not None:
        verdict = "inconclusive"
    else:
        verdict = "ok"
    n = count()
    collision = n * max(transitions - n, 0) / 2 ** 64 if fingerprints else None
    return SearchResult(verdict, n, transitions, max_depth_seen,
                        time.monotonic() - t0, _peak(), violations, traces, reason, strategy,
                        complete, collision)
