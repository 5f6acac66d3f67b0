"""Generic traversal of IR nodes (iterative, so deep expressions are safe)."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Iterator

from mscheck.ir import nodes as N

__all__ = ["walk", "var_refs", "statements", "process_parts"]


def walk(node) -> Iterator[object]:
    """Every IR node reachable from ``node`` (expressions, statements, patterns, targets)."""
    stack = [node]
    while stack:
        x = stack.pop()
        if x is None:
            continue
        if isinstance(x, (tuple, list)):
            stack.extend(x)
            continue
        if not is_dataclass(x) or isinstance(x, type):
            continue
        yield x
        for f in fields(x):
            if f.name in ("span", "type"):
                continue
            v = getattr(x, f.name)
            if is_dataclass(v) or isinstance(v, (tuple, list)):
                stack.append(v)


def var_refs(node) -> Iterator[N.VarRef]:
    """Every variable read under ``node``."""
    for x in walk(node):
        if isinstance(x, N.VarRef):
            yield x


def statements(stmts) -> Iterator[N.Stmt]:
    """Every statement of a body, nested ones (in ``if`` and ``choose``) included, in order."""
    stack = list(reversed(stmts))
    while stack:
        s = stack.pop()
        yield s
        if isinstance(s, N.IfS):
            for _, body in reversed(s.branches):
                stack.extend(reversed(body))
            stack.extend(reversed(s.orelse))
        elif isinstance(s, N.ChooseS):
            stack.extend(reversed(s.body))


def process_parts(p: N.Proc) -> Iterator[N.Proc]:
    """Every process term under ``p`` (prefixes, branches, choices, parallel parts)."""
    stack = [p]
    while stack:
        x = stack.pop()
        if x is None:
            continue
        yield x
        for attr in ("cont", "body", "then", "orelse"):
            sub = getattr(x, attr, None)
            if isinstance(sub, N.Proc):
                stack.append(sub)
        for attr in ("alternatives", "parts"):
            stack.extend(getattr(x, attr, ()))
