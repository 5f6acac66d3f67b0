"""One result model for every command, and converters from each command's document.

``check``, ``prove``, ``metrics`` and ``lint`` each produce their own JSON document; the
machine formats (SARIF, JUnit, GitHub annotations) and the HTML report read a
:class:`RunResult` instead, so that every finding has a stable rule code, a level, a message,
a source span and, for counterexamples, a trace.

Rule codes (see docs/json-schema.md): diagnostics keep their ``MSxxx`` code; checker
violations are ``MS400``-``MS407`` by kind; proofs are ``MS410`` (violated) and ``MS411``
(unknown); smells keep their ``MS31x`` code.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Iterable

from mscheck.diagnostics import CODES, Diagnostic, Span

__all__ = ["Finding", "Check", "RunResult", "REPORT_CODES", "VIOLATION_CODES", "rule_summary",
           "from_check", "from_prove", "from_metrics", "from_diagnostics", "step_span",
           "step_text", "message_text", "span_of"]

#: Checker violation kinds and their rule codes.
VIOLATION_CODES: dict[str, str] = {
    "deadlock": "MS400",
    "invariant": "MS401",
    "assertion": "MS402",
    "range": "MS403",
    "domain": "MS404",
    "unreachable": "MS405",
    "liveness": "MS406",
    "livelock": "MS407",
}

#: The codes of findings that are not diagnostics, with a one-line summary each.
REPORT_CODES: dict[str, str] = {
    "MS400": "deadlock: a reachable state where no step is enabled and that is no valid end",
    "MS401": "invariant violated in a reachable state",
    "MS402": "assertion failed in a step",
    "MS403": "value outside its declared range (or a send to a full or wrong channel)",
    "MS404": "operation outside its domain (map key, index, division, instance)",
    "MS405": "reachable property has no witness: no reachable state satisfies it",
    "MS406": "liveness property violated by a fair behaviour (lasso)",
    "MS407": "livelock: a fair cycle that never takes a progress step (lasso)",
    "MS410": "proof: the invariant is violated (counterexample trace)",
    "MS411": "proof: the invariant could not be proved (counterexample to induction, "
             "bound or timeout)",
}

_SMELL_LEVEL = {"high": "error", "medium": "warning", "low": "note"}
_LEVELS = ("error", "warning", "note")


def rule_summary(code: str) -> str:
    """The one-line summary of any rule code (diagnostic, violation, proof or smell)."""
    return REPORT_CODES.get(code) or CODES.get(code) or code


@dataclass
class Finding:
    """One problem reported by a command, in a form every output format can show.

    ``rule`` is a stable code, ``level`` error | warning | note, ``kind`` diagnostic |
    violation | proof | smell; ``name`` is the property (or smell kind) it is about; ``trace``
    the check document's trace items (with ``loop_start`` for a lasso); ``extra`` holds what
    only some formats show (the proof counterexample, the failing step, the services).
    """

    rule: str
    level: str
    message: str
    span: Span | None
    kind: str
    name: str | None = None
    trace: list[dict] | None = None
    loop_start: int | None = None
    extra: dict = field(default_factory=dict)
    step_spans: list | None = None  # per trace step: the action or handler it ran, if known

    def fingerprint(self, file: str | None = None) -> str:
        """A hash that stays the same across runs and edits that move lines: rule, file name
        (not its directory), the property or smell, the services concerned, and for a
        diagnostic its message (never line numbers)."""
        where = (self.span.file if self.span else file) or ""
        parts = [self.rule, where.replace("\\", "/").rsplit("/", 1)[-1], self.name or "",
                 ",".join(self.extra.get("services", ())),
                 self.message if self.kind == "diagnostic" else ""]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


@dataclass
class Check:
    """One thing a command checked (a property, a proof, a smell rule), for JUnit:
    ``status`` passed | failed | skipped; ``findings`` index into the run's findings."""

    name: str
    kind: str
    rule: str | None
    status: str
    message: str = ""
    findings: list[int] = field(default_factory=list)
    seconds: float | None = None


@dataclass
class RunResult:
    """The outcome of one command on one file.

    ``verdict`` is ok | violation | inconclusive | error; ``stats`` the figures worth a
    summary line; ``documents`` the command's own JSON document(s) by command name.
    """

    command: str
    system: str | None
    file: str | None
    verdict: str
    findings: list[Finding]
    stats: dict = field(default_factory=dict)
    documents: dict = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)


# ---------------------------------------------------------------- spans and steps


def span_of(loc: dict | None) -> Span | None:
    """A :class:`Span` from a document location ``{file, line, column[, end_...]}``."""
    if not loc or loc.get("line") is None:
        return None
    return Span(loc.get("file") or "", int(loc["line"]), int(loc.get("column") or 1),
                loc.get("end_line"), loc.get("end_column"))


def _decl_span(spec, pattern: str) -> Span | None:
    """The span of the first source line matching ``pattern`` (for declarations the IR
    keeps no span of, such as ``deadlock_free``)."""
    source = getattr(spec, "source", "") or ""
    rx = re.compile(pattern)
    for n, line in enumerate(source.splitlines(), 1):
        m = rx.search(line)
        if m:
            return Span(spec.file, n, m.start(1 if rx.groups else 0) + 1)
    return None


def _property_span(spec, name: str) -> Span | None:
    if spec is None:
        return None
    for p in spec.properties:
        if p.name == name:
            return p.span
    for p in getattr(spec, "proves", ()):
        if p.name == name:
            return p.span
    if name == "deadlock_free":
        return (_decl_span(spec, r"^\s*(deadlock_free)\b")
                or _decl_span(spec, r"^\s*(system)\b"))
    return None


def step_span(spec, actor: str | None, action: str | None) -> Span | None:
    """The source span of the action or handler a trace step ran, when it can be found:
    ``Philosopher[1]`` / ``take_left`` gives the ``on take_left`` line; a process instance
    ``Order(1)`` gives its process definition."""
    if spec is None or not actor:
        return None
    base = re.split(r"[\[(#]", actor, maxsplit=1)[0]
    svc = spec.services.get(base)
    if svc is not None:
        for step in tuple(svc.actions) + tuple(svc.handlers):
            if step.name == action:
                return step.span
        return svc.span
    proc = spec.processes.get(base)
    return proc.span if proc is not None else None


def message_text(m: dict) -> str:
    """``ch!msg`` for a send, ``ch?msg`` for a receive, ``ch: lose msg`` for a fault."""
    if m["direction"] == "send":
        return f"{m['channel']}!{m['message']}"
    if m["direction"] == "recv":
        return f"{m['channel']}?{m['message']}"
    return f"{m['channel']}: {m['direction']} {m['message']}"


def step_text(item: dict) -> str:
    """One trace step as one line: who did what, the messages, the changed variables."""
    if item.get("actor") is None:
        head = "initial state"
        changes = ", ".join(f"{k} = {v}" for k, v in item.get("changes", {}).items())
    else:
        params = ", ".join(f"{k}={v}" for k, v in item.get("params", {}).items())
        head = f"{item['actor']}.{item['action']}" + (f"({params})" if params else "")
        changes = ", ".join(f"{k} := {v}" for k, v in item.get("changes", {}).items())
    rest = [x for x in ("; ".join(message_text(m) for m in item.get("messages", ())), changes)
            if x]
    return f"{item.get('step', 0)}. {head}" + (" | " + " | ".join(rest) if rest else "")


# ---------------------------------------------------------------- converters


def from_check(doc: dict, spec=None, *, deadlock: bool = True,
               properties: Iterable[str] | None = None) -> RunResult:
    """The result of ``mscheck check``: one finding per violation, one check per property.

    ``spec`` (the IR) supplies spans the document lacks (deadlock, trace steps) and the list
    of properties that held; ``deadlock`` and ``properties`` say what was asked for (as the
    ``--no-deadlock`` and ``--property`` options do).
    """
    findings: list[Finding] = []
    by_prop: dict[str, list[int]] = {}
    for v in doc.get("violations", ()):
        kind = v.get("kind", "invariant")
        rule = VIOLATION_CODES.get(kind, "MS401")
        span = span_of(v.get("location")) or _property_span(spec, v.get("property") or "")
        extra = {}
        if v.get("failing_step"):
            extra["failing_step"] = v["failing_step"]
        f = Finding(rule, "error", v.get("message", kind), span, "violation",
                    name=v.get("property"), trace=list(v.get("trace") or []),
                    loop_start=v.get("loop_start"), extra=extra)
        f.step_spans = [step_span(spec, it.get("actor"), it.get("action")) for it in f.trace]
        by_prop.setdefault(_check_name(v), []).append(len(findings))
        findings.append(f)
    checks: list[Check] = []
    wanted = set(properties) if properties else None
    complete = bool(doc.get("complete", doc.get("verdict") == "ok"))
    why = doc.get("reason") or ("the search stopped at the first violation"
                                if doc.get("verdict") == "violation" else "the search ended early")
    names: list[tuple[str, str]] = []
    if spec is not None:
        if deadlock and (wanted is None or "deadlock_free" in wanted):
            names.append(("deadlock_free", "deadlock"))
        for p in spec.properties:
            if p.kind == "constraint" or (wanted is not None and p.name not in wanted):
                continue
            names.append((p.name, p.kind))
        if getattr(spec, "progress", None) and (wanted is None or "progress" in wanted):
            names.append(("progress", "livelock"))
        names.append(("step errors", "step"))  # assertions, ranges, domains
    for name, kind in names:
        idx = by_prop.pop(name, [])
        rule = (VIOLATION_CODES["deadlock"] if kind == "deadlock"
                else VIOLATION_CODES["unreachable"] if kind == "reachable"
                else VIOLATION_CODES["liveness"] if kind in ("leadsto", "eventually",
                                                              "always_eventually")
                else VIOLATION_CODES["livelock"] if kind == "livelock"
                else VIOLATION_CODES["invariant"] if kind == "invariant" else None)
        if idx:
            checks.append(Check(name, kind, findings[idx[0]].rule, "failed",
                                findings[idx[0]].message, idx))
        elif complete:
            checks.append(Check(name, kind, rule, "passed"))
        else:
            checks.append(Check(name, kind, rule, "skipped", why))
    for name, idx in by_prop.items():  # violations of things the spec did not list
        checks.append(Check(name, findings[idx[0]].extra.get("kind", "violation"),
                            findings[idx[0]].rule, "failed", findings[idx[0]].message, idx))
    stats = {k: doc.get(k) for k in ("states", "transitions", "depth", "seconds", "engine",
                                      "complete", "reason") if k in doc}
    return RunResult("check", doc.get("system") or getattr(spec, "name", None),
                     doc.get("file") or getattr(spec, "file", None), doc.get("verdict", "ok"),
                     findings, stats, {"check": doc}, checks)


def _check_name(v: dict) -> str:
    if v.get("kind") in ("assertion", "range", "domain"):
        return "step errors"
    if v.get("kind") == "deadlock":
        return "deadlock_free"
    return v.get("property") or v.get("kind", "?")


def from_prove(doc: dict, spec=None) -> RunResult:
    """The result of ``mscheck prove``: a finding per property not proved (MS410 violated,
    MS411 unknown), a check per property."""
    findings: list[Finding] = []
    checks: list[Check] = []
    for r in doc.get("results", ()):
        name = r["property"]
        status = r.get("status", "unknown")
        if status == "proved":
            how = r.get("method") or "?"
            checks.append(Check(name, "proof", None, "passed", f"proved ({how})",
                                seconds=r.get("seconds")))
            continue
        rule = "MS410" if status == "violated" else "MS411"
        level = "error" if status == "violated" else "warning"
        msg = f"invariant {name} is {'violated' if status == 'violated' else 'not proved'}"
        if r.get("reason"):
            msg += f": {r['reason']}"
        trace = _prove_trace(r.get("counterexample"))
        findings.append(Finding(rule, level, msg, _property_span(spec, name), "proof", name,
                                trace=trace, extra={"result": r}))
        if trace:
            findings[-1].step_spans = [step_span(spec, it["actor"], it["action"])
                                       for it in trace]
        checks.append(Check(name, "proof", rule, "failed", msg, [len(findings) - 1],
                            seconds=r.get("seconds")))
    verdict = ("violation" if any(f.rule == "MS410" for f in findings)
               else "inconclusive" if findings or not checks else "ok")
    stats = {s: sum(1 for r in doc.get("results", ()) if r.get("status") == s)
             for s in ("proved", "violated", "unknown")}
    stats["seconds"] = round(sum(r.get("seconds") or 0 for r in doc.get("results", ())), 3)
    return RunResult("prove", getattr(spec, "name", None), getattr(spec, "file", None),
                     verdict, findings, stats, {"prove": doc}, checks)


def _prove_trace(cex: dict | None) -> list[dict] | None:
    """A proof's counterexample trace in the check document's trace shape (changes only)."""
    if not cex or cex.get("kind") != "trace":
        return None
    out, prev = [], None
    for i, st in enumerate(cex.get("states", ())):
        state = {k: v if isinstance(v, str) else repr(v) for k, v in st["state"].items()}
        changes = dict(state) if prev is None else \
            {k: v for k, v in state.items() if prev.get(k) != v}
        label = st.get("step")
        actor, action = None, "initial state"
        if label is not None:
            head = str(label).split("(", 1)[0]
            actor, _, action = head.rpartition(".")
            actor = actor or head
        out.append({"step": i, "actor": actor, "action": action,
                    "params": dict(st.get("params") or {}), "messages": [],
                    "changes": changes, "state": state})
        prev = state
    return out


def from_metrics(doc: dict, spec=None) -> RunResult:
    """The result of ``mscheck metrics``: a finding per smell (high error, medium warning,
    low note) and per architecture warning; a check per smell rule."""
    file = getattr(spec, "file", None)
    findings: list[Finding] = []
    for sm in doc.get("smells", ()):
        findings.append(Finding(sm["code"], _SMELL_LEVEL.get(sm.get("severity"), "warning"),
                                sm["message"], span_of(sm.get("span")), "smell", sm["kind"],
                                extra={"services": list(sm.get("services", ())),
                                       "severity": sm.get("severity")}))
    for w in doc.get("warnings", ()):
        findings.append(Finding(w["code"], w.get("severity", "warning"), w["message"],
                                span_of(w.get("span")), "diagnostic", None))
    checks = []
    smell_codes = sorted(c for c in CODES if c.startswith("MS31"))
    for code in smell_codes:
        idx = [i for i, f in enumerate(findings) if f.rule == code and f.kind == "smell"]
        if idx:
            checks.append(Check(code, "smell", code, "failed",
                                "; ".join(findings[i].message for i in idx), idx))
        else:
            checks.append(Check(code, "smell", code, "passed", CODES[code]))
    s = doc.get("system", {})
    stats = {k: s.get(k) for k in ("N", "E", "SCF", "ADCS", "cycles", "longest_chain",
                                    "cohesion", "coupling") if k in s}
    stats["smells"] = len(doc.get("smells", ()))
    verdict = "violation" if any(f.level == "error" for f in findings) else "ok"
    return RunResult("metrics", s.get("name") or getattr(spec, "name", None), file, verdict,
                     findings, stats, {"metrics": doc}, checks)


def from_diagnostics(diags: Iterable[Diagnostic], file: str | None) -> RunResult:
    """The result of ``mscheck lint`` on one file (or of a spec that did not load)."""
    findings = [Finding(d.code, d.severity if d.severity in _LEVELS else "error",
                        d.message, d.span, "diagnostic", None,
                        extra={"expected": list(d.expected), "notes": list(d.notes)})
                for d in diags]
    errors = sum(1 for f in findings if f.level == "error")
    checks = [Check(file or "spec", "lint", findings[i].rule, "failed", findings[i].message,
                    [i]) for i, f in enumerate(findings) if f.level == "error"] or \
        [Check(file or "spec", "lint", None, "passed")]
    return RunResult("lint", None, file, "error" if errors else "ok", findings,
                     {"errors": errors, "warnings": len(findings) - errors}, {}, checks)
