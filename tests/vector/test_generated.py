"""On random generated specs (``tests/engine/gen.py``) the vectorised engine gives exactly
the results of ``packed_search``, with and without ``keep_going``. Some specs get constant
padding variables in front of their own, so that their slots sit across the 64-bit boundary
or in the second or third word of a state."""

from __future__ import annotations

import importlib.util
import os
import sys

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import mscheck
from mscheck.engine.compile import CompiledModel
from mscheck.engine.packed import NotPackable, PackedModel, packed_search
from mscheck.engine.search import Limits
from mscheck.engine.vector import CHECK_EVERY, vector_search

from .test_agreement import summary

_GEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "engine",
                    "gen.py")
_spec = importlib.util.spec_from_file_location("_vector_gen", _GEN)
gen = sys.modules.setdefault("_vector_gen", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(gen)

LIMITS = Limits(max_states=20000)  # generated specs are small; a runaway one stops here


def pad(text: str, bits: int) -> str:
    """``text`` with constant shared variables of ``bits`` bits in all before its own (shared
    variables come first in the layout, in the order they are declared)."""
    lines = text.split("\n")
    out = []
    while bits > 0:
        w = min(bits, 14)
        out.append(f"var pad{len(out)}: 0..{(1 << w) - 1} = 0")
        bits -= w
    return "\n".join(lines[:1] + out + lines[1:])


PAD = st.one_of(st.just(0), st.integers(40, 70), st.integers(100, 140))


def _models(text: str):
    spec = mscheck.loads(text, "gen.ms")
    try:
        PackedModel(CompiledModel(spec))
    except NotPackable:
        assume(False)
    return lambda: PackedModel(CompiledModel(spec))


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(gen.specs(), PAD)
def test_vector_agrees_with_packed_on_generated_specs(text, bits):
    text = pad(text, bits)
    make = _models(text)
    for keep_going in (False, True):
        out = []
        for run in (lambda: packed_search(make(), keep_going=keep_going, limits=LIMITS),
                    lambda: vector_search(make(), keep_going=keep_going, limits=LIMITS,
                                          chunk=CHECK_EVERY)):
            try:
                out.append(summary(run()))
            except NotPackable:
                assume(False)
            except Exception as exc:  # noqa: BLE001 - a packed defect: both must raise it
                out.append(("raised", type(exc).__name__))
        assert out[1] == out[0], text
