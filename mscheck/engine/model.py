"""What a search engine needs of a model, and nothing of the language.

A model has initial states, the steps enabled in a state with their successors, and properties
(plain data). States are hashable values; steps are described by :class:`Step` labels that a
trace can show. The search engines in this package only use this interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol

__all__ = ["Step", "Violation", "StepError", "ModelProperty", "Model"]


@dataclass(frozen=True)
class Step:
    """One transition: who moved, what it did, and the messages it exchanged."""

    actor: str  # "TM", "ResourceManager[r1]", "Order#2"
    action: str  # "commit", "on_Prepared", "recv"
    params: tuple[tuple[str, Any], ...] = ()
    messages: tuple[tuple[str, str, str], ...] = ()  # (direction "send"/"recv", channel, message)
    kind: str = "step"  # step | handler | comm | tau

    def label(self) -> str:
        ps = ", ".join(f"{n}={_show(v)}" for n, v in self.params)
        return f"{self.actor}.{self.action}" + (f"({ps})" if ps else "")


def _show(v) -> str:
    from mscheck.ir.evaluate import show_value

    return show_value(v)


class StepError(Exception):
    """A step went wrong in a way the spec forbids: a failed assertion, an integer out of its
    range, a lookup outside a map's domain. The search reports it with a trace."""

    def __init__(self, kind: str, message: str, span=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.span = span


@dataclass(frozen=True)
class ModelProperty:
    """A property as data: ``kind`` is invariant, reachable or constraint; ``check(state)``."""

    kind: str
    name: str
    check: Callable[[Any], bool]
    span: Any = None
    text: str = ""


@dataclass
class Violation:
    kind: str  # deadlock | invariant | assertion | range | domain | unreachable
    property: str
    message: str
    trace_index: int | None = None  # the state where it shows (a search-engine index)
    step: Step | None = None  # the step that failed, for step errors
    span: Any = None
    extra: dict = field(default_factory=dict)


class Model(Protocol):
    def initial_states(self) -> Iterable[Any]: ...

    def successors(self, state) -> Iterable[tuple[Step, Any]]:
        """Every enabled step with its successor; raises StepError for a faulty step."""

    def properties(self) -> list[ModelProperty]: ...

    def is_valid_end(self, state) -> bool: ...
