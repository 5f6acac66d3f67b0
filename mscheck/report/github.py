"""Results as GitHub Actions workflow commands: one annotation line per finding.

``::error file=F,line=L,col=C,title=CODE::message`` (``warning`` and ``notice`` for the other
levels). Data is escaped as the workflow-command rules say: ``%``, CR and LF in the message;
also ``:`` and ``,`` in properties. A counterexample trace follows the message on lines of
its own (escaped newlines), so the annotation shows it.
"""

from __future__ import annotations

import os
from pathlib import Path

from mscheck.report.results import Finding, RunResult, step_text

__all__ = ["to_github", "escape_data", "escape_property"]

_COMMAND = {"error": "error", "warning": "warning", "note": "notice"}
_MAX_STEPS = 30


def escape_data(text: str) -> str:
    """Escape a workflow command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _path(file: str, root: Path) -> str:
    p = Path(file)
    try:
        return Path(os.path.normpath(p if p.is_absolute() else Path.cwd() / p)) \
            .relative_to(root).as_posix()
    except ValueError:
        return p.as_posix()


def _message(f: Finding) -> str:
    lines = [f.message]
    if f.trace:
        shown = f.trace[:_MAX_STEPS]
        kind = "lasso" if f.loop_start is not None else "trace"
        lines.append(f"{kind} ({len(f.trace) - 1} steps):")
        for item in shown:
            mark = " (loop starts here)" if f.loop_start is not None and \
                item.get("step") == f.loop_start else ""
            lines.append("  " + step_text(item) + mark)
        if len(f.trace) > len(shown):
            lines.append(f"  ... {len(f.trace) - len(shown)} more steps")
    return "\n".join(lines)


def to_github(results: list[RunResult], root: str | os.PathLike | None = None) -> str:
    """Annotation lines for every finding; file paths relative to ``root`` (default: the
    working directory, which is the repository root in a workflow)."""
    base = Path(os.path.normpath(Path(root).resolve() if root else Path.cwd().resolve()))
    out = []
    for r in results:
        for f in r.findings:
            props = []
            file = f.span.file if f.span else r.file
            if file:
                props.append(f"file={escape_property(_path(file, base))}")
            if f.span:
                props.append(f"line={f.span.line}")
                if f.span.end_line and f.span.end_line != f.span.line:
                    props.append(f"endLine={f.span.end_line}")
                props.append(f"col={f.span.column}")
                if f.span.end_line == f.span.line and f.span.end_column:
                    props.append(f"endColumn={f.span.end_column}")
            title = f.rule + (f" {f.name}" if f.name else "")
            props.append(f"title={escape_property(title)}")
            out.append(f"::{_COMMAND.get(f.level, 'error')} {','.join(props)}::"
                       f"{escape_data(_message(f))}")
    return "\n".join(out) + ("\n" if out else "")
