"""Proofs over symbolic sizes: the saga for every STEPS (replicas and channels indexed by a
symbolic range), the inventory for every STOCK, golden counterexamples to induction, and the
explicit engine finding no violation of a proved invariant in the instances it explores."""

from __future__ import annotations

from pathlib import Path

import pytest

import mscheck
from mscheck.engine.compile import CompiledModel
from mscheck.engine.search import Limits, search
from mscheck.report.prove import prove_exit_code, render_prove_text
from mscheck.smt import prove_property, prove_spec
from mscheck.smt.encode import Encoder

REPO = Path(__file__).resolve().parents[2]
SAGA = REPO / "specs/seed/saga_proof.ms"
INV = Path(__file__).resolve().parent / "fixtures/inventory.ms"

HELPERS = ("CurrentInRange", "OnlyCurrentCommanded", "IdleMeansQuiet", "FinishedMeansIdle",
           "DoneBelowCurrent", "PendingAboveCurrent", "NotDoneAboveCurrent", "RunningCurrent",
           "CompensatingCurrent")


@pytest.fixture(scope="module")
def saga():
    return mscheck.load(str(SAGA))


@pytest.fixture(scope="module")
def inv():
    return mscheck.load(str(INV))


# ---------------------------------------------------------------- saga, every STEPS
def test_saga_steps_is_symbolic(saga):
    enc = Encoder(saga)
    assert [n for n, _, _ in enc.const_syms] == ["STEPS"]
    assert set(enc.ranges) == {"Steps"} and not enc.pinned
    assert set(enc.sym_svcs) == {"Participant"} and set(enc.sym_chans) == {"cmd"}


def test_saga_all_or_nothing_proved(saga):
    doc = prove_spec(saga)
    r = doc["results"][0]
    assert (r["property"], tuple(r["using"]), r["status"], r["method"]) == \
        ("AllOrNothing", HELPERS, "proved", "inductive")
    assert r["seconds"] < 2 and prove_exit_code(doc) == 0


@pytest.mark.parametrize("drop", HELPERS)
def test_saga_every_helper_is_needed(saga, drop):
    r = prove_property(saga, "AllOrNothing", tuple(h for h in HELPERS if h != drop),
                       method="inductive", timeout=30)
    assert r["status"] == "unknown" and (r["counterexample"] or {}).get("kind") == "cti", r
    assert r["counterexample"]["broken"]  # the model names what the step breaks


def test_saga_cti_golden(saga):
    """Without DoneBelowCurrent: a state where an earlier step is not done lets the last Done
    complete the saga with steps that are not done."""
    using = tuple(h for h in HELPERS if h != "DoneBelowCurrent")
    r = prove_property(saga, "AllOrNothing", using, method="inductive", timeout=30)
    cex = r["counterexample"]
    assert cex["constants"] == {"STEPS": "3"}  # small constants are preferred
    assert cex["action"] == "OrderSaga.on_Done"
    assert "AllOrNothing" in cex["broken"]
    assert cex["pre"]["OrderSaga.phase"] == "running"
    assert cex["post"]["OrderSaga.phase"] == "completed"
    assert cex["pre"]["OrderSaga.current"] == "3" and cex["pre"]["reply"] == "[Done(3)]"
    assert cex["post"]["reply"] == "[]"
    assert [k for k in cex["pre"] if k.startswith(("Participant", "cmd"))] == [
        "Participant[1].state", "Participant[2].state", "Participant[3].state",
        "cmd[1]", "cmd[2]", "cmd[3]"]
    r["seconds"] = 0.01
    text = render_prove_text({"results": [r]})
    lines = text.splitlines()
    assert lines[0] == (f"AllOrNothing using {', '.join(using)}: unknown (inductive, 0.01 s): "
                        f"not inductive: OrderSaga.on_Done breaks {', '.join(cex['broken'])}")
    assert lines[1:4] == ["  with STEPS = 3",
                          "  counterexample to induction: step OrderSaga.on_Done receiving "
                          "Done(3)",
                          "  before (satisfies AllOrNothing, " + ", ".join(using) + "):"]
    assert "    OrderSaga.phase = running" in lines and "    OrderSaga.phase = completed" in lines


def test_saga_wrong_claim_not_proved(saga):
    text = SAGA.read_text().replace(
        "invariant CurrentInRange: 1 <= cur and cur <= STEPS",
        "invariant CurrentInRange: 1 <= cur and cur <= STEPS\n"
        "invariant Wrong: OrderSaga.phase == aborted => Participant[1].state == failed")
    spec = mscheck.loads(text, "saga_wrong.ms")
    r = prove_property(spec, "Wrong", HELPERS, method="inductive", timeout=30)
    assert r["status"] == "unknown"
    r = prove_property(spec, "Wrong", method="bmc", depth=12, timeout=30)
    assert r["status"] == "violated"


@pytest.mark.parametrize("steps", [1, 2, 3, 5])
def test_saga_proved_invariants_hold_explicitly(steps):
    spec = mscheck.load(str(SAGA), {"STEPS": str(steps)})
    res = search(CompiledModel(spec), limits=Limits())
    assert not [v for v in res.violations if v.kind == "invariant"]


# ---------------------------------------------------------------- inventory, every STOCK
def test_inventory_stock_never_negative(inv):
    assert [n for n, _, _ in Encoder(inv).const_syms] == ["STOCK", "ORDERS"]
    doc = prove_spec(inv)
    assert [(r["property"], r["status"], r["method"]) for r in doc["results"]] == [
        ("StockNeverNegative", "proved", "inductive"), ("NoOversell", "proved", "kind")]
    assert all(r["seconds"] < 2 for r in doc["results"])
    r = prove_property(inv, "StockNeverNegative", method="inductive")
    assert r["status"] == "proved"  # inductive on its own as well


def test_inventory_broken_guard_is_caught():
    text = INV.read_text().replace("if items > 0 {", "if items >= 0 {")
    spec = mscheck.loads(text, "inventory_bad.ms")
    r = prove_property(spec, "StockNeverNegative", method="inductive")
    assert r["status"] == "unknown" and r["counterexample"]["kind"] == "cti"
    assert r["counterexample"]["action"] == "Warehouse.on_Reserve"
    # k-induction finds the violation in 2 steps; with the constants' values the checker would
    # stop earlier, at items = -1 leaving 0..STOCK, so it is reported as unknown, not proved
    r = prove_property(spec, "StockNeverNegative", depth=12, timeout=30)
    assert r["status"] == "unknown" and "outside its declared range" in r["reason"]


@pytest.mark.parametrize("stock,orders", [(0, 2), (2, 3), (4, 6)])
def test_inventory_proved_invariants_hold_explicitly(stock, orders):
    spec = mscheck.load(str(INV), {"STOCK": str(stock), "ORDERS": str(orders)})
    res = search(CompiledModel(spec), limits=Limits())
    assert not [v for v in res.violations if v.kind == "invariant"]


@pytest.mark.parametrize("threshold", [1, 3, 10])
def test_circuit_breaker_proved_invariants_hold_explicitly(threshold):
    spec = mscheck.load(str(REPO / "specs/seed/circuit_breaker.ms"),
                        {"THRESHOLD": str(threshold)})
    res = search(CompiledModel(spec), limits=Limits())
    assert not [v for v in res.violations if v.kind == "invariant"]


@pytest.mark.parametrize("rms", [2, 3, 4])
def test_two_phase_proved_invariants_hold_explicitly(rms):
    spec = mscheck.load(str(REPO / "specs/classic/two_phase.ms"), {"RM": str(rms)})
    res = search(CompiledModel(spec), limits=Limits())
    assert not [v for v in res.violations if v.kind == "invariant"]
