"""Shared helpers: checking specs given as text, and replaying a trace document on the model."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import mscheck
from mscheck.engine.check import check_spec
from mscheck.engine.compile import CompiledModel

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "specs"


def check_text(text: str, **kw) -> dict:
    return check_spec(mscheck.loads(text), **kw)


def kinds(doc: dict) -> Counter:
    return Counter((v["kind"], v["property"]) for v in doc["violations"])


def steps_of(trace: list[dict]) -> list[tuple]:
    return [(t["actor"], t["action"]) for t in trace[1:]]


def raw_path(model: CompiledModel, trace: list[dict]) -> list:
    """The model states along a trace document, found by replaying it step by step: each
    step must be an enabled step of the model (same actor, action, parameters) leading to
    the state the document shows. Fails (AssertionError) on a trace that is not a path."""
    first = trace[0]["state"]
    starts = [s for s in model.initial_states() if model.describe(s) == first]
    assert starts, "the trace's first state is not an initial state"
    path = [starts[0]]
    for item in trace[1:]:
        cands = [t for st, t in model.successors(path[-1])
                 if st.actor == item["actor"] and st.action == item["action"]
                 and model.describe(t) == item["state"]]
        assert cands, f"step {item['step']} ({item['actor']}.{item['action']}) is not a step"
        path.append(cands[0])
    return path
