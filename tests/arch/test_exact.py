"""Exact figures for Sock Shop and TeaStore, worked out by hand from the definitions
(Bogner et al. 2017; Martin), and every spec of the repository through the metrics document."""

from __future__ import annotations

from pathlib import Path

import pytest

import mscheck
from mscheck.arch import metrics as M
from mscheck.arch.graph import build_graph
from mscheck.report.metrics import metrics_document, render_metrics_csv, render_metrics_text

SPECS = Path(__file__).resolve().parents[2] / "specs"
ARCH = SPECS / "architectures"

#: The seed specs that describe both an architecture and its behaviour.
SEED = ("circuit_breaker", "load_balancer", "order_events", "order_inventory", "saga",
        "service_registry")


@pytest.fixture(scope="module")
def sock_shop():
    return metrics_document(mscheck.load(str(ARCH / "sock_shop.ms")))


@pytest.fixture(scope="module")
def teastore():
    return metrics_document(mscheck.load(str(ARCH / "teastore.ms")))


def test_sock_shop_system(sock_shop):
    s = sock_shop["system"]
    # AIS: carts 2, user 2, catalogue/orders/payment/shipping 1, front_end/queue_master 0;
    # ADS: front_end 4, orders 4, the rest 0. Gini from the sorted values:
    # AIS: 2 * (5 + 7) * 2 / (2 * 8 * 8) = 0.375; ADS: 2 * (5 + 7) * 4 / 128 = 0.75.
    assert {k: v for k, v in s.items() if k not in ("async", "all")} == {
        "name": "SockShop", "N": 8, "E": 8, "SCF": round(8 / 56, 4), "SIY": 0, "ADCS": 1.0,
        "AIS_max": 2, "ADS_max": 4, "gini_AIS": 0.375, "gini_ADS": 0.75, "cycles": 0,
        "longest_chain": 2, "cohesion": 0.0, "coupling": 1.0, "cohesion_w": 0.0,
        "coupling_w": 1.0, "cycle_members": [], "chain": ["front_end", "orders", "carts"]}
    # one message edge: shipping -> queue_master through shipping_task
    a = s["async"]
    assert (a["E"], a["SCF"], a["ADCS"], a["longest_chain"], a["gini_AIS"]) == (
        1, round(1 / 56, 4), 0.125, 1, 0.875)
    al = s["all"]
    assert (al["E"], al["SCF"], al["longest_chain"], al["ADS_max"]) == (9, round(9 / 56, 4), 3, 4)


def test_sock_shop_services_and_contexts(sock_shop):
    sv = sock_shop["services"]
    assert sv["orders"] == {
        "context": "Ordering", "team": "OrderTeam", "AIS": 1, "ADS": 4, "ACS": 4, "Ca": 1,
        "Ce": 4, "instability": 0.8, "RIS": round(1 / 7, 4), "RCS": round(4 / 7, 4),
        "cohesion": 0.0, "coupling": 1.0, "cohesion_w": 0.0, "coupling_w": 1.0,
        "async_AIS": 0, "async_ADS": 0, "all_AIS": 1, "all_ADS": 4}
    assert {s: (m["AIS"], m["ADS"]) for s, m in sv.items()} == {
        "carts": (2, 0), "catalogue": (1, 0), "front_end": (0, 4), "orders": (1, 4),
        "payment": (1, 0), "queue_master": (0, 0), "shipping": (1, 0), "user": (2, 0)}
    qm = sv["queue_master"]  # reached only by a message
    assert (qm["instability"], qm["cohesion"], qm["async_AIS"], qm["all_AIS"]) == (
        None, None, 1, 1)
    assert (sv["shipping"]["async_ADS"], sv["shipping"]["all_ADS"]) == (1, 1)
    cx = sock_shop["contexts"]
    # Ordering: called from Web; calls Accounts, Payment, Shipping; of its 6 relations
    # (front_end -> carts, orders; orders -> user, carts, payment, shipping) one is inside.
    o = cx["Ordering"]
    assert (o["services"], o["AIS"], o["ADS"], o["instability"], o["cohesion"],
            o["coupling"]) == (["carts", "orders"], 1, 3, 0.75, round(1 / 6, 4),
                               round(5 / 6, 4))
    assert {c: (m["AIS"], m["ADS"]) for c, m in cx.items()} == {
        "Accounts": (2, 0), "Catalogue": (1, 0), "Ordering": (1, 3), "Payment": (1, 0),
        "Shipping": (1, 0), "Web": (0, 3)}
    # the message stays inside Shipping, so it adds no context dependency
    assert (cx["Shipping"]["async_AIS"], cx["Shipping"]["async_ADS"]) == (0, 0)


def test_sock_shop_smells(sock_shop):
    assert [(x["code"], x["severity"], x["services"], x["span"]["line"])
            for x in sock_shop["smells"]] == [
        ("MS316", "low", ["payment"], 43), ("MS316", "low", ["queue_master"], 48)]
    assert sock_shop["warnings"] == []


def test_teastore_system(teastore):
    s = teastore["system"]
    # AIS sorted [0, 1, 1, 1, 4, 5]: 2 * 34 / (2 * 6 * 12) = 0.4722;
    # ADS sorted [0, 1, 2, 2, 2, 5]: 2 * 28 / 144 = 0.3889.
    assert {k: v for k, v in s.items() if k not in ("async", "all")} == {
        "name": "TeaStore", "N": 6, "E": 12, "SCF": 0.4, "SIY": 0, "ADCS": 2.0,
        "AIS_max": 5, "ADS_max": 5, "gini_AIS": round(68 / 144, 4),
        "gini_ADS": round(56 / 144, 4), "cycles": 0, "longest_chain": 3, "cohesion": 0.0,
        "coupling": 1.0, "cohesion_w": 0.0, "coupling_w": 1.0, "cycle_members": [],
        "chain": ["webui", "auth", "persistence", "registry"]}
    a = s["async"]
    assert (a["E"], a["SCF"], a["gini_AIS"], a["cohesion"]) == (0, 0.0, None, None)
    assert {k: v for k, v in s["all"].items()} == {
        k: v for k, v in s.items() if k not in ("async", "all", "name", "cycle_members",
                                               "chain")}


def test_teastore_services_and_contexts(teastore):
    sv = teastore["services"]
    assert {s: (m["AIS"], m["ADS"], m["ACS"], m["instability"]) for s, m in sv.items()} == {
        "auth": (1, 2, 2, 0.6667), "image": (1, 2, 2, 0.6667),
        "persistence": (4, 1, 4, 0.2), "recommender": (1, 2, 2, 0.6667),
        "registry": (5, 0, 0, 0.0), "webui": (0, 5, 0, 1.0)}
    assert (sv["registry"]["RIS"], sv["webui"]["RCS"], sv["persistence"]["RIS"]) == (
        1.0, 1.0, 0.8)
    cx = teastore["contexts"]
    # Store: 11 relations touch it, 3 of them (webui -> image, auth, recommender) inside
    st = cx["Store"]
    assert (st["AIS"], st["ADS"], st["instability"], st["cohesion"], st["coupling"]) == (
        0, 2, 1.0, round(3 / 11, 4), round(8 / 11, 4))
    assert {c: (m["AIS"], m["ADS"], m["instability"]) for c, m in cx.items()} == {
        "Data": (1, 1, 0.5), "Platform": (2, 0, 0.0), "Store": (0, 2, 1.0)}
    assert teastore["smells"] == [] and teastore["warnings"] == []


def test_teastore_smells_under_tighter_thresholds():
    doc = metrics_document(mscheck.load(str(ARCH / "teastore.ms")),
                           thresholds={"max_chain": 2, "greedy_out": 5, "hub_in": 2,
                                       "hub_out": 1})
    assert [(x["code"], x["services"]) for x in doc["smells"]] == [
        ("MS313", ["persistence"]),
        ("MS315", ["webui", "auth", "persistence", "registry"]),
        ("MS314", ["webui"])]


def test_functions_agree_with_the_document(teastore, sock_shop):
    for doc, name in ((teastore, "teastore"), (sock_shop, "sock_shop")):
        g = build_graph(mscheck.load(str(ARCH / f"{name}.ms")))
        for s, m in doc["services"].items():
            assert (M.ais(g, s), M.ads(g, s), M.acs(g, s)) == (m["AIS"], m["ADS"], m["ACS"])
            assert M.ais(g, s, "all") == m["all_AIS"] and M.ads(g, s, "async") == m["async_ADS"]
            for key, fn, w in (("cohesion", M.cohesion, False), ("coupling", M.coupling, False),
                               ("cohesion_w", M.cohesion, True),
                               ("coupling_w", M.coupling, True)):
                x = fn(g, s, weighted=w)
                assert (None if x is None else round(x, 4)) == m[key], (name, s, key)


ALL_SPECS = sorted(SPECS.glob("*/*.ms"))


@pytest.mark.parametrize("path", ALL_SPECS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_spec_gives_a_metrics_document(path):
    spec = mscheck.load(str(path))
    doc = metrics_document(spec, suggest=True)
    assert doc["system"]["N"] == len(spec.services) == len(doc["services"])
    assert set(doc["contexts"]) == set(spec.contexts)
    assert render_metrics_text(doc) and render_metrics_csv(doc).startswith("scope,")


@pytest.mark.parametrize("name", SEED)
def test_seed_specs_have_no_disagreement_warnings(name):
    doc = metrics_document(mscheck.load(str(SPECS / "seed" / f"{name}.ms")))
    assert [w for w in doc["warnings"] if w["code"] in ("MS301", "MS302")] == []
