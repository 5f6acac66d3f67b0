"""specs/classic/alternating_bit.ms: safety under loss, and how fairness decides liveness."""

from __future__ import annotations

import mscheck
import pytest
from mscheck.engine.check import check_spec
from mscheck.engine.compile import CompiledModel

from .helpers import SPECS, kinds, raw_path

PATH = SPECS / "classic/alternating_bit.ms"
TEXT = PATH.read_text()
FAIR = "fairness weak Sender.retransmit, strong Receiver.on_Data, strong Sender.on_Ack"
WEAK = "fairness weak Sender.retransmit, weak Receiver.on_Data, weak Sender.on_Ack"


def _spec(fairness: str = FAIR):
    assert FAIR in TEXT
    return mscheck.loads(TEXT.replace(FAIR, fairness), str(PATH))


def test_as_written_everything_holds():
    doc = check_spec(mscheck.load(str(PATH)))
    assert (doc["verdict"], doc["states"], doc["transitions"]) == ("ok", 84, 323)


@pytest.mark.parametrize("kw, states", [({"faults": False}, 69), ({"max_faults": 2}, 237)])
def test_state_counts_with_fewer_faults(kw, states):
    doc = check_spec(mscheck.load(str(PATH)), **kw)
    assert (doc["verdict"], doc["states"]) == ("ok", states)


@pytest.mark.parametrize("fairness", ["", WEAK])
def test_without_strong_fairness_a_lossy_network_starves_the_receiver(fairness):
    spec = _spec(fairness)
    doc = check_spec(spec)
    assert kinds(doc) == {("liveness", "AllDelivered"): 1}
    (v,) = doc["violations"]
    trace, k = v["trace"], v["loop_start"]
    cycle = [(t["actor"], t["action"]) for t in trace[k + 1:]]
    assert ("network", "lose") in cycle and ("Sender", "retransmit") in cycle
    assert ("Receiver", "on_Data") not in cycle
    path = raw_path(CompiledModel(spec), trace)
    assert path[-1] == path[k]


@pytest.mark.parametrize("fairness", ["", WEAK, FAIR])
@pytest.mark.parametrize("kw", [{"max_faults": 2}, {"faults": False}])
def test_bounded_faults_need_no_fairness(fairness, kw):
    assert check_spec(_spec(fairness), **kw)["verdict"] == "ok"


def test_safety_catches_a_receiver_that_ignores_the_bit():
    broken = TEXT.replace("if b == expected {", "if true {")
    doc = check_spec(mscheck.loads(broken), keep_going=False)
    assert doc["verdict"] == "violation"
    assert doc["violations"][0]["kind"] in ("invariant", "assertion", "range")
