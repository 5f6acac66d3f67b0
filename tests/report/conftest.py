"""Documents of real runs, shared by the report-format tests (computed once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

import mscheck
from mscheck.engine.check import check_spec

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PHILOSOPHERS = REPO / "specs" / "classic" / "philosophers.ms"
BOUTIQUE = REPO / "specs" / "architectures" / "online_boutique.ms"
BREAKER = REPO / "specs" / "seed" / "circuit_breaker.ms"


@pytest.fixture(scope="session")
def philosophers():
    spec = mscheck.load(str(PHILOSOPHERS))
    return spec, check_spec(spec)


@pytest.fixture(scope="session")
def shop():
    """A synchronous call, then asynchronous acknowledgements; an invariant fails."""
    spec = mscheck.load(str(HERE / "shop.ms"))
    return spec, check_spec(spec, engine="scalar")


@pytest.fixture(scope="session")
def live():
    """An `eventually` property broken by a lasso."""
    spec = mscheck.load(str(HERE / "live.ms"))
    return spec, check_spec(spec, deadlock=False)


@pytest.fixture(scope="session")
def asserting():
    """A failed assertion (a step error with a failing step)."""
    spec = mscheck.load(str(HERE / "assert.ms"))
    return spec, check_spec(spec)


@pytest.fixture(scope="session")
def breaker_cti():
    """An invariant that is not inductive alone: a counterexample to induction."""
    from mscheck.smt import prove_spec

    spec = mscheck.load(str(BREAKER))
    return spec, prove_spec(spec, property="FailuresBounded", method="inductive")


@pytest.fixture(scope="session")
def counter_bmc():
    """A violated invariant found by BMC: a counterexample trace."""
    from mscheck.smt import prove_spec

    spec = mscheck.load(str(HERE / "counter.ms"))
    return spec, prove_spec(spec, method="bmc", depth=6)


@pytest.fixture(scope="session")
def boutique():
    from mscheck.report.metrics import metrics_document

    spec = mscheck.load(str(BOUTIQUE))
    return spec, metrics_document(spec)
