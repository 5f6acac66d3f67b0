"""Diagnostics for people (file:line:col, the source line, a caret) and for machines (JSON)."""

from __future__ import annotations

from typing import Iterable, Mapping

from mscheck.diagnostics import Diagnostic

__all__ = ["render_text", "to_json"]

_MAX_EXPECTED = 12


def _source_lines(diag: Diagnostic, sources: Mapping[str, str]) -> list[str]:
    span = diag.span
    if span is None or span.file not in sources:
        return []
    lines = sources[span.file].splitlines()
    if not 1 <= span.line <= len(lines):
        return []
    text = lines[span.line - 1].expandtabs(1)
    number = str(span.line)
    pad = " " * len(number)
    start = max(span.column, 1)
    if span.end_line == span.line and span.end_column and span.end_column > start:
        width = span.end_column - start
    else:
        width = 1
    width = max(1, min(width, len(text) - start + 2))
    if len(text) > 200:  # keep very long lines readable: show a window around the caret
        lo = max(0, start - 80)
        text = ("..." if lo else "") + text[lo:lo + 160] + "..."
        start = start - lo + (3 if lo else 0)
        width = min(width, 160)
    return [
        f" {number} | {text}",
        f" {pad} | {' ' * (start - 1)}^{'~' * (width - 1)}",
    ]


def render_text(diags: Iterable[Diagnostic], sources: Mapping[str, str]) -> str:
    """Render diagnostics the way compilers do, one block per diagnostic."""
    out = []
    for d in diags:
        out.append(d.header())
        out.extend(_source_lines(d, sources))
        if d.expected:
            shown = list(d.expected[:_MAX_EXPECTED])
            more = len(d.expected) - len(shown)
            label = "expected" if d.code.startswith("MS1") else "did you mean" if d.code == \
                "MS200" else "expected"
            out.append(f"  {label}: {', '.join(shown)}" + (f" (and {more} more)" if more else ""))
        for note in d.notes:
            out.append(f"  note: {note}")
    return "\n".join(out)


def to_json(diags: Iterable[Diagnostic]) -> list[dict]:
    out = []
    for d in diags:
        item = {"code": d.code, "severity": d.severity, "message": d.message,
                "expected": list(d.expected)}
        if d.span is not None:
            item.update(file=d.span.file, line=d.span.line, column=d.span.column,
                        end_line=d.span.end_line, end_column=d.span.end_column)
        out.append(item)
    return out
