"""Project configuration: ``mscheck.toml``, or ``[tool.mscheck]`` in ``pyproject.toml``.

The nearest file in the working directory or a parent wins; command-line flags override it.

.. code-block:: toml

    [tool.mscheck]
    fail-on = ["high", "medium"]          # smell severities that make `metrics` exit 1
    properties = ["Consistent"]           # what `check` checks (default: everything)

    [tool.mscheck.limits]                 # `check` limits (each ends a run as inconclusive)
    max-states = 10_000_000
    timeout = 600                         # seconds
    memory = "8G"

    [tool.mscheck.thresholds]             # smell thresholds (see mscheck.arch.smells)
    greedy_out = 8

    [tool.mscheck.prove]
    timeout = 30
    depth = 10
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from mscheck.diagnostics import Diagnostic, Span, SpecError

__all__ = ["Config", "load_config", "find_config"]

KNOWN = {"fail-on", "properties", "limits", "thresholds", "prove", "engine", "no-deadlock",
         "faults", "max-faults"}
KNOWN_LIMITS = {"max-states", "max-depth", "timeout", "memory"}
KNOWN_PROVE = {"timeout", "depth", "method"}


@dataclass(frozen=True)
class Config:
    path: str | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, *keys: str, default=None):
        cur: Any = self.values
        for k in keys:
            if not isinstance(cur, dict) or k not in cur:
                return default
            cur = cur[k]
        return cur


def _toml(data: bytes) -> dict:
    import tomllib

    return tomllib.loads(data.decode("utf-8"))


def find_config(start: str | None = None) -> tuple[str, bool] | None:
    """The nearest ``mscheck.toml`` or ``pyproject.toml`` with ``[tool.mscheck]``; the bool
    says whether it is a pyproject file."""
    cur = os.path.abspath(start or os.getcwd())
    while True:
        own = os.path.join(cur, "mscheck.toml")
        if os.path.isfile(own):
            return own, False
        py = os.path.join(cur, "pyproject.toml")
        if os.path.isfile(py):
            try:
                with open(py, "rb") as fh:
                    data = fh.read()
            except OSError:
                data = b""
            # (no TOML parser loaded for a file that never names mscheck)
            if b"mscheck" in data:
                try:
                    if "mscheck" in _toml(data).get("tool", {}):
                        return py, True
                except ValueError:  # not UTF-8 or not TOML: load_config says why (MS220)
                    return py, True
        parent = os.path.dirname(cur)
        if parent == cur:
            return None
        cur = parent


def load_config(start: str | None = None) -> Config:
    """Read the configuration; a malformed file or an unknown key is a usage error (MS220)."""
    found = find_config(start)
    if found is None:
        return Config()
    path, is_pyproject = found
    try:
        with open(path, "rb") as fh:
            data = _toml(fh.read())
    except (OSError, ValueError) as exc:  # TOMLDecodeError is a ValueError
        raise SpecError([Diagnostic("MS220", f"cannot read the configuration: {exc}",
                                    Span(path, 1, 1))]) from None
    values = data.get("tool", {}).get("mscheck", {}) if is_pyproject else data
    problems = [k for k in values if k not in KNOWN]
    problems += [f"limits.{k}" for k in values.get("limits", {}) if k not in KNOWN_LIMITS]
    problems += [f"prove.{k}" for k in values.get("prove", {}) if k not in KNOWN_PROVE]
    if problems:
        raise SpecError([Diagnostic(
            "MS220", f"unknown configuration key(s): {', '.join(problems)}", Span(path, 1, 1),
            expected=tuple(sorted(KNOWN)))])
    if "thresholds" in values:
        from mscheck.arch.smells import validate_thresholds

        try:
            validate_thresholds(values["thresholds"])
        except ValueError as exc:
            raise SpecError([Diagnostic("MS220", f"[thresholds]: {exc}", Span(path, 1, 1))]) \
                from None
    return Config(path, values)
