"""Architecture metrics as a document (JSON-ready dict), as text tables and as CSV.

``metrics_document`` is what ``mscheck metrics`` prints; the text and CSV renderers and the
exit code are functions of that document only.
"""

from __future__ import annotations

import csv
import io

from mscheck.arch.graph import build_graph
from mscheck.arch.metrics import (context_metrics, cycles, longest_chain, service_metrics,
                                  system_metrics)
from mscheck.arch.smells import SEVERITY_ORDER, detect_smells
from mscheck.arch.suggest import suggest_cut

__all__ = ["metrics_document", "render_metrics_text", "render_metrics_csv",
           "metrics_exit_code"]

_DIGITS = 4


def _round(x):
    if isinstance(x, float):
        return round(x, _DIGITS)
    if isinstance(x, dict):
        return {k: _round(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_round(v) for v in x]
    return x


def _diag(d) -> dict:
    s = d.span
    return {"code": d.code, "severity": d.severity, "message": d.message,
            "span": None if s is None else {"file": s.file, "line": s.line, "column": s.column}}


def metrics_document(spec, thresholds: dict | None = None, suggest: bool = False) -> dict:
    """Every architecture figure of ``spec``.

    Floats are rounded to 4 decimals. ``system`` holds the synchronous figures, with
    ``async`` and ``all`` sub-dicts for publish/subscribe alone and both together; each
    service and context likewise has ``async_AIS``/``async_ADS`` and ``all_AIS``/``all_ADS``.
    ``thresholds`` override :data:`mscheck.arch.smells.DEFAULT_THRESHOLDS`; ``suggest`` adds
    the service-cut advice under ``suggestion``.

    >>> import mscheck
    >>> doc = metrics_document(mscheck.loads('''system S
    ... service a
    ... service b
    ... a calls b''', "s.ms"))
    >>> doc["system"]["N"], doc["system"]["SCF"], doc["services"]["a"]["ADS"]
    (2, 0.5, 1)
    >>> [(s["code"], s["services"]) for s in doc["smells"]]
    [('MS316', ['a']), ('MS316', ['b'])]
    """
    g = build_graph(spec)
    system = system_metrics(g, "sync")
    system["cycle_members"] = cycles(g, "sync")
    system["chain"] = longest_chain(g, "sync")
    system["async"] = system_metrics(g, "async")
    system["all"] = system_metrics(g, "all")
    services = service_metrics(g, "sync")
    for mode in ("async", "all"):
        other = service_metrics(g, mode)
        for s, m in services.items():
            m[f"{mode}_AIS"] = other[s]["AIS"]
            m[f"{mode}_ADS"] = other[s]["ADS"]
    contexts = context_metrics(g, "sync")
    for mode in ("async", "all"):
        other = context_metrics(g, mode)
        for c, m in contexts.items():
            m[f"{mode}_AIS"] = other[c]["AIS"]
            m[f"{mode}_ADS"] = other[c]["ADS"]
    doc = {
        "version": 1,
        "system": {"name": spec.name, **system},
        "services": services,
        "contexts": contexts,
        "smells": [s.as_dict() for s in detect_smells(g, thresholds)],
        "warnings": [_diag(d) for d in g.graph["warnings"]],
    }
    if suggest:
        doc["suggestion"] = suggest_cut(g)
    return _round(doc)


def metrics_exit_code(doc: dict, fail_on: set[str]) -> int:
    """1 if the document has a smell of one of the severities in ``fail_on``, else 0.

    >>> metrics_exit_code({"smells": [{"severity": "low"}]}, {"high", "medium"})
    0
    >>> metrics_exit_code({"smells": [{"severity": "high"}]}, {"high"})
    1
    """
    return int(any(s["severity"] in fail_on for s in doc.get("smells", ())))


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.3f}"
    return str(x)


_SERVICE_COLUMNS = ("AIS", "ADS", "ACS", "instability", "cohesion", "coupling", "all_AIS",
                    "all_ADS")


def _worst_services(doc):
    sv = doc["services"]
    return sorted(sv, key=lambda s: (-(sv[s]["ADS"] + sv[s]["AIS"]), -sv[s]["ACS"], s))


def render_metrics_text(doc: dict) -> str:
    """The document as rich tables (plain text, no colour codes), worst first: services by
    AIS + ADS then ACS, smells by severity."""
    from rich.console import Console
    from rich.table import Table

    buf = io.StringIO()
    con = Console(file=buf, width=110, color_system=None, force_terminal=False)
    s = doc["system"]
    sysrows = [("services N", s["N"]), ("call edges E", s["E"]), ("SCF", s["SCF"]),
               ("SIY", s["SIY"]), ("ADCS", s["ADCS"]), ("Gini AIS", s["gini_AIS"]),
               ("Gini ADS", s["gini_ADS"]), ("cycles", s["cycles"]),
               ("longest chain", s["longest_chain"]), ("cohesion", s["cohesion"]),
               ("coupling", s["coupling"]), ("async edges", s["async"]["E"]),
               ("all edges", s["all"]["E"]), ("SCF (all)", s["all"]["SCF"])]
    t = Table(title=f"System {s['name']}")
    t.add_column("metric")
    t.add_column("value", justify="right")
    for k, v in sysrows:
        t.add_row(k, _fmt(v))
    con.print(t)
    t = Table(title="Services (worst first)")
    t.add_column("service")
    for c in _SERVICE_COLUMNS:
        t.add_column(c, justify="right")
    for name in _worst_services(doc):
        m = doc["services"][name]
        t.add_row(name, *(_fmt(m[c]) for c in _SERVICE_COLUMNS))
    con.print(t)
    if doc["contexts"]:
        t = Table(title="Bounded contexts")
        t.add_column("context")
        for c in ("AIS", "ADS", "instability", "cohesion", "coupling"):
            t.add_column(c, justify="right")
        for name in sorted(doc["contexts"], key=lambda c: (-(doc["contexts"][c]["AIS"]
                                                            + doc["contexts"][c]["ADS"]), c)):
            m = doc["contexts"][name]
            t.add_row(name, *(_fmt(m[c]) for c in ("AIS", "ADS", "instability", "cohesion",
                                                    "coupling")))
        con.print(t)
    if doc["smells"]:
        t = Table(title="Smells")
        for c in ("severity", "code", "kind", "services", "where"):
            t.add_column(c)
        for sm in sorted(doc["smells"], key=lambda x: SEVERITY_ORDER[x["severity"]]):
            sp = sm["span"]
            t.add_row(sm["severity"], sm["code"], sm["kind"], ", ".join(sm["services"]),
                      f"{sp['line']}:{sp['column']}" if sp else "-")
        con.print(t)
    else:
        con.print("No smells.")
    for w in doc["warnings"]:
        sp = w["span"]
        where = f"{sp['file']}:{sp['line']}:{sp['column']}: " if sp else ""
        con.print(f"{where}warning[{w['code']}]: {w['message']}", markup=False)
    sug = doc.get("suggestion")
    if sug:
        con.print(f"Suggested cut: {sug['suggested']['groups']} groups, cohesion "
                  f"{_fmt(sug['suggested']['cohesion'])}, coupling "
                  f"{_fmt(sug['suggested']['coupling'])} (current: "
                  f"{sug['current']['groups']} services, cohesion "
                  f"{_fmt(sug['current']['cohesion'])}, coupling "
                  f"{_fmt(sug['current']['coupling'])})", markup=False)
        into: dict[str, list[str]] = {}
        for m in sug.get("merges", []):
            into.setdefault(m["into"], []).append(m["service"])
        for target, svcs in sorted(into.items()):
            con.print(f"  merge {', '.join(svcs)} into {target}", markup=False)
        merged = {m["service"] for m in sug.get("merges", [])}
        for mv in sug["moves"]:
            if mv["from"] not in merged:
                con.print(f"  move {mv['component']}: {mv['from']} -> {mv['to']}",
                          markup=False)
    return buf.getvalue()


def render_metrics_csv(doc: dict) -> str:
    """One row per service (worst first), then one per context (``scope`` column).

    >>> import mscheck
    >>> print(render_metrics_csv(metrics_document(mscheck.loads('''system S
    ... service a
    ... service b
    ... a calls b''', "s.ms"))), end="")
    scope,name,context,AIS,ADS,ACS,instability,cohesion,coupling,cohesion_w,coupling_w,all_AIS,all_ADS
    service,a,,0,1,0,1.0,0.0,1.0,0.0,1.0,0,1
    service,b,,1,0,0,0.0,0.0,1.0,0.0,1.0,1,0
    """
    cols = ("AIS", "ADS", "ACS", "instability", "cohesion", "coupling", "cohesion_w",
            "coupling_w", "all_AIS", "all_ADS")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("scope", "name", "context", *cols))
    for name in _worst_services(doc):
        m = doc["services"][name]
        w.writerow(("service", name, m["context"] or "",
                    *("" if m[c] is None else m[c] for c in cols)))
    for name in sorted(doc["contexts"]):
        m = doc["contexts"][name]
        w.writerow(("context", name, name, *("" if m[c] is None else m[c] for c in cols)))
    return buf.getvalue()
