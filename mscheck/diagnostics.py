"""Source spans, diagnostics with stable codes, and the exception that carries them.

Every stage reports problems as :class:`Diagnostic` values; only reporters print them.
"""

from __future__ import annotations

from dataclasses import field
from typing import Iterable

from mscheck._frozen import frozen

__all__ = ["Span", "Diagnostic", "SpecError", "CODES", "Severity"]

Severity = str  # "error" | "warning" | "note"

#: Every diagnostic code, with a one-line summary (used by docs and by SARIF rules).
CODES: dict[str, str] = {
    "MS001": "the file cannot be read (missing, a directory, not text, not UTF-8, or empty)",
    "MS002": "the file is too large",
    "MS100": "syntax error: unexpected token",
    "MS101": "syntax error: unexpected character",
    "MS102": "syntax error: unexpected end of file",
    "MS103": "nesting too deep",
    "MS104": "integer literal too large",
    "MS110": "'=' used where ':=' assigns",
    "MS111": "'==' used where '=' defines",
    "MS112": "'&&', '||' or '!' used for and / or / not",
    "MS113": "missing '}'",
    "MS114": "a statement used where a declaration is expected",
    "MS200": "undefined name",
    "MS201": "duplicate name",
    "MS202": "wrong number of arguments",
    "MS203": "type error",
    "MS204": "receive of a message the channel does not carry",
    "MS205": "empty range or domain",
    "MS206": "context-map relation of a context with itself",
    "MS207": "customer-supplier relation combined with conformist",
    "MS208": "replicated service indexed outside its domain",
    "MS209": "recursion not guarded by a prefix",
    "MS210": "context-map role on the wrong side or unknown relation kind",
    "MS211": "recursive definition, or definitions expanded too far",
    "MS212": "not a constant where a constant is needed",
    "MS213": "assignment to something that is not a variable",
    "MS214": "value outside its type",
    "MS215": "invalid architecture relation",
    "MS216": "invalid property reference",
    "MS217": "constant override is invalid",
    "MS218": "unsupported construct",
    "MS219": "symmetric context-map relation written with a direction",
    "MS220": "invalid configuration (mscheck.toml or [tool.mscheck])",
    "MS221": "a step of a crashable service named like its fault steps (crash, restart)",
    "MS301": "behaviour communicates over an edge the architecture does not declare",
    "MS302": "behaviour uses a data store without a declared reads/writes relation",
    "MS310": "smell: cyclic dependency of synchronous calls",
    "MS311": "smell: shared persistence",
    "MS312": "smell: inappropriate intimacy (a service uses another's data)",
    "MS313": "smell: hub-like service",
    "MS314": "smell: greedy service",
    "MS315": "smell: long synchronous call chain",
    "MS316": "smell: nano-service",
    "MS317": "smell: distributed monolith",
    "MS318": "smell: missing API gateway",
}


@frozen(order=True)
class Span:
    """A region of a source file; lines and columns start at 1; the end column is one past
    the last character."""

    file: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@frozen
class Diagnostic:
    """An immutable record of one problem found in a spec."""

    code: str
    message: str
    span: Span | None = None
    severity: Severity = "error"
    expected: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def header(self) -> str:
        where = f"{self.span}: " if self.span else ""
        return f"{where}{self.severity}[{self.code}]: {self.message}"


class SpecError(Exception):
    """Raised by a stage that cannot go on; carries one or more diagnostics."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(d.header() for d in self.diagnostics))
