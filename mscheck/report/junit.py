"""Results as JUnit XML, the test-report format CI servers show.

One ``testsuite`` per :class:`~mscheck.report.results.RunResult` (named ``command: system``),
one ``testcase`` per thing checked: each property of ``check`` (and ``deadlock_free`` and the
step errors: assertions, ranges, domains), each proof, each smell rule, each linted file. A
failed case carries the finding's message and, as text, its counterexample trace; a case the
search did not finish is ``skipped``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from mscheck.report.results import Finding, RunResult, step_text

__all__ = ["to_junit"]

# characters XML 1.0 cannot hold, even escaped
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _BAD_XML.sub("?", text)


def _where(f: Finding) -> str:
    return f"{f.span.file}:{f.span.line}:{f.span.column}: " if f.span else ""


def _finding_text(f: Finding) -> str:
    lines = [f"{_where(f)}{f.level}[{f.rule}]: {f.message}"]
    if f.trace:
        kind = "lasso" if f.loop_start is not None else "trace"
        lines.append(f"{kind} ({len(f.trace) - 1} steps):")
        for item in f.trace:
            lines.append("  " + step_text(item))
            if f.loop_start is not None and item.get("step") == f.loop_start:
                lines.append("  -- the steps below repeat for ever --"
                             if item.get("step") < len(f.trace) - 1
                             else "  -- and it stays here for ever --")
    fs = f.extra.get("failing_step")
    if fs:
        lines.append(f"then {fs['actor']}.{fs['action']} fails")
    cex = (f.extra.get("result") or {}).get("counterexample")
    if cex and cex.get("kind") == "cti":
        lines.append(f"counterexample to induction: step {cex.get('step')}")
        lines.append("  before: " + ", ".join(f"{k} = {v}" for k, v in cex["pre"].items()))
        lines.append("  after:  " + ", ".join(f"{k} = {v}" for k, v in cex["post"].items()))
    return "\n".join(lines)


def to_junit(results: list[RunResult]) -> str:
    """A JUnit XML document (text, with an XML declaration) for ``results``."""
    root = ET.Element("testsuites", name="mscheck")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for r in results:
        suite = ET.SubElement(root, "testsuite",
                              name=f"{r.command}: {r.system or r.file or '?'}")
        props = ET.SubElement(suite, "properties")  # first, as the schema wants
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        classname = f"mscheck.{r.command}.{r.system or 'spec'}"
        for c in r.checks:
            attrs = {"name": c.name if not c.rule or c.rule == c.name else f"{c.name} [{c.rule}]",
                     "classname": classname}
            if r.file:
                attrs["file"] = r.file
            findings = [r.findings[i] for i in c.findings]
            if findings and findings[0].span:
                attrs["line"] = str(findings[0].span.line)
            if c.seconds is not None:
                attrs["time"] = f"{c.seconds:.3f}"
            case = ET.SubElement(suite, "testcase", attrs)
            counts["tests"] += 1
            if c.status == "failed":
                counts["failures"] += 1
                fail = ET.SubElement(case, "failure", message=_clean(c.message or "failed"),
                                     type=c.rule or "failure")
                fail.text = _clean("\n\n".join(_finding_text(f) for f in findings))
            elif c.status == "skipped":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=_clean(c.message or "not checked"))
        # findings no check stands for (warnings, notes): report them on the suite
        listed = {i for c in r.checks for i in c.findings}
        rest = [f for i, f in enumerate(r.findings) if i not in listed]
        if rest:
            out = ET.SubElement(suite, "system-out")
            out.text = _clean("\n".join(_finding_text(f) for f in rest))
        secs = r.stats.get("seconds")
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
        if isinstance(secs, (int, float)):
            suite.set("time", f"{secs:.3f}")
        for k, v in [("verdict", r.verdict)] + sorted(r.stats.items()):
            if v is not None:
                ET.SubElement(props, "property", name=str(k), value=_clean(str(v)))
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") \
        + "\n"
