"""What engines are compared on: everything a search result says but its timings and memory."""

from __future__ import annotations


def summary(r) -> dict:
    """Everything a search result says, but the timings and the memory."""
    return {
        "verdict": r.verdict, "states": r.states, "transitions": r.transitions,
        "depth": r.depth, "reason": r.reason, "complete": r.complete,
        "violations": [(v.kind, v.property, v.message, getattr(v, "step", None))
                       for v in r.violations],
        "traces": [[(s.step, s.state) for s in t] for t in r.traces],
    }
