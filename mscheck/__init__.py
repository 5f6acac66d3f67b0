"""mscheck: check, prove, measure and draw microservice architectures written in .ms files."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["load", "loads", "check", "prove", "metrics", "__version__"]


def load(path: str, consts: dict[str, str] | None = None):
    """Read, parse and check a spec file; returns its typed IR (:class:`mscheck.ir.nodes.Spec`).

    Raises :class:`mscheck.diagnostics.SpecError` with every diagnostic when the spec is wrong.
    """
    from mscheck.lang.source import read_source

    return loads(read_source(path), path, consts)


def loads(text: str, filename: str = "<string>", consts: dict[str, str] | None = None):
    """Parse and check spec text (see :func:`load`)."""
    from mscheck.ir.lower import lower
    from mscheck.lang.cache import parse

    return lower(parse(text, filename), consts, text)


def check(spec, **options):
    """Model-check a loaded spec; the result displays itself in Jupyter."""
    from mscheck.notebook import check as run

    return run(spec, **options)


def prove(spec, **options):
    """Prove a loaded spec's invariants with Z3; the result displays itself in Jupyter."""
    from mscheck.notebook import prove as run

    return run(spec, **options)


def metrics(spec, **options):
    """Architecture metrics and smells of a loaded spec (shows its graph in Jupyter)."""
    from mscheck.notebook import metrics as run

    return run(spec, **options)
