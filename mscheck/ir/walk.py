"""Generic traversal of IR nodes (iterative, so deep expressions are safe)."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Callable, Iterator

from mscheck.ir import nodes as N

__all__ = ["walk", "node_fields", "var_refs", "statements", "process_parts"]

_FIELDS: dict[type, tuple[str, ...] | None] = {}


def node_fields(x) -> tuple[str, ...] | None:
    """The names of the fields of ``x`` that may hold IR nodes (all but ``span`` and
    ``type``), or None when ``x`` is not a node (not a dataclass instance); kept per class."""
    cls = type(x)
    try:
        return _FIELDS[cls]
    except KeyError:
        names = (tuple(f.name for f in fields(cls) if f.name not in ("span", "type"))
                 if is_dataclass(cls) else None)
        _FIELDS[cls] = names
        return names


def walk(node, into: Callable[[object], bool] | None = None) -> Iterator[object]:
    """Every IR node reachable from ``node`` (expressions, statements, patterns, targets).
    With ``into``, the walk goes below a node only when ``into(node)`` holds, asked once the
    loop that takes the node has moved on to the next."""
    stack = [node]
    while stack:
        x = stack.pop()
        if isinstance(x, (tuple, list)):
            stack.extend(x)
            continue
        names = node_fields(x)
        if names is None:
            continue
        yield x
        if into is None or into(x):
            stack.extend(getattr(x, name) for name in names)


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
