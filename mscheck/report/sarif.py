"""Results as SARIF 2.1.0, the format code-scanning services read.

One SARIF run holds the findings of every :class:`~mscheck.report.results.RunResult` given
(GitHub accepts one run per tool and category). Rules carry the one-line summary of their
code; locations are relative to a root directory (the working directory by default) through
the ``%SRCROOT%`` base; a counterexample trace becomes a ``codeFlow`` with one thread-flow
location per step; ``partialFingerprints`` do not depend on line numbers.
"""

from __future__ import annotations

import os
from pathlib import Path

from mscheck import __version__
from mscheck.diagnostics import Span
from mscheck.report.results import Finding, RunResult, rule_summary, step_text

__all__ = ["to_sarif", "SARIF_SCHEMA"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_FINGERPRINT = "mscheckFinding/v1"
_ROOT = "%SRCROOT%"


def _uri(file: str, root: Path) -> tuple[str, str | None]:
    """(uri, uriBaseId): relative to ``root`` when the file lies below it, else absolute."""
    p = Path(file)
    absolute = p if p.is_absolute() else (Path.cwd() / p)
    try:
        rel = Path(os.path.normpath(absolute)).relative_to(root)
        return rel.as_posix(), _ROOT
    except ValueError:
        return Path(os.path.normpath(absolute)).as_uri(), None


def _physical(span: Span, root: Path) -> dict:
    uri, base = _uri(span.file, root)
    art = {"uri": uri}
    if base:
        art["uriBaseId"] = base
    region = {"startLine": max(1, span.line), "startColumn": max(1, span.column)}
    if span.end_line and span.end_line >= span.line:
        region["endLine"] = span.end_line
        if span.end_column and (span.end_line > span.line or span.end_column > span.column):
            region["endColumn"] = span.end_column
    return {"artifactLocation": art, "region": region}


def _file_location(file: str, root: Path) -> dict:
    uri, base = _uri(file, root)
    art = {"uri": uri}
    if base:
        art["uriBaseId"] = base
    return {"artifactLocation": art}


def _code_flow(f: Finding, root: Path, fallback: dict | None) -> dict | None:
    if not f.trace:
        return None
    spans = f.step_spans or [None] * len(f.trace)
    locs = []
    last = len(f.trace) - 1
    for i, item in enumerate(f.trace):
        text = step_text(item)
        if f.loop_start is not None and item.get("step") == f.loop_start:
            text += (" (the steps after this one repeat for ever)" if i < last
                     else " (and it stays here for ever)")
        span = spans[i] if i < len(spans) else None
        location: dict = {"message": {"text": text}}
        if span is not None:
            location["physicalLocation"] = _physical(span, root)
        elif fallback is not None:
            location["physicalLocation"] = fallback
        tfl = {"location": location, "executionOrder": i,
               "state": {k: {"text": str(v)} for k, v in item.get("changes", {}).items()}}
        if i == 0:
            tfl["importance"] = "unimportant"
        locs.append(tfl)
    flow = {"locations": locs}
    if f.loop_start is not None:
        flow["properties"] = {"loopStart": f.loop_start}
    kind = "lasso" if f.loop_start is not None else "trace"
    return {"message": {"text": f"counterexample {kind} of {f.name or f.rule} "
                                f"({last} step{'s' if last != 1 else ''})"},
            "threadFlows": [flow]}


def to_sarif(results: list[RunResult], root: str | os.PathLike | None = None) -> dict:
    """A SARIF 2.1.0 log (as a JSON-ready dict) of every finding in ``results``.

    ``root`` is the directory locations are relative to (default: the working directory).
    """
    base = Path(os.path.normpath(Path(root).resolve() if root else Path.cwd().resolve()))
    rule_ids: list[str] = []
    levels: dict[str, str] = {}
    for r in results:
        for f in r.findings:
            if f.rule not in levels:
                rule_ids.append(f.rule)
                levels[f.rule] = f.level
    rule_ids.sort()
    index = {rid: i for i, rid in enumerate(rule_ids)}
    rules = [{"id": rid, "name": rid,
              "shortDescription": {"text": rule_summary(rid)},
              "defaultConfiguration": {"level": levels[rid]}} for rid in rule_ids]
    out_results = []
    artifacts: dict[str, dict] = {}
    for r in results:
        for f in r.findings:
            res: dict = {"ruleId": f.rule, "ruleIndex": index[f.rule], "level": f.level,
                         "message": {"text": f.message}}
            loc = None
            if f.span is not None:
                loc = _physical(f.span, base)
            elif r.file:
                loc = _file_location(r.file, base)
            if loc is not None:
                res["locations"] = [{"physicalLocation": loc}]
                art = loc["artifactLocation"]
                artifacts.setdefault(art["uri"], dict(art))
            res["partialFingerprints"] = {_FINGERPRINT: f.fingerprint(r.file)}
            flow = _code_flow(f, base, loc if f.span is not None else None)
            if flow:
                res["codeFlows"] = [flow]
            props = {"command": r.command, "kind": f.kind}
            if f.name:
                props["property"] = f.name
            if r.system:
                props["system"] = r.system
            if f.extra.get("services"):
                props["services"] = list(f.extra["services"])
            res["properties"] = props
            out_results.append(res)
    run: dict = {
        "tool": {"driver": {"name": "mscheck", "version": __version__,
                            "rules": rules}},
        "originalUriBaseIds": {_ROOT: {"uri": base.as_uri() + "/"}},
        "invocations": [{"executionSuccessful": True,
                         "properties": {"commands": [r.command for r in results],
                                        "verdicts": [r.verdict for r in results]}}],
        "columnKind": "unicodeCodePoints",
        "results": out_results,
    }
    if artifacts:
        run["artifacts"] = [{"location": a} for a in artifacts.values()]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
