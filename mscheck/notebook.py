"""Results that display themselves in Jupyter (``_repr_html_``, ``_repr_markdown_``,
``_repr_svg_``), behind ``mscheck.check``, ``mscheck.prove`` and ``mscheck.metrics``."""

from __future__ import annotations

__all__ = ["CheckResult", "ProofResult", "MetricsResult", "check", "prove", "metrics"]


class _Result:
    command = ""

    def __init__(self, spec, doc: dict):
        self.spec = spec
        self.doc = doc

    def __getitem__(self, key):
        return self.doc[key]

    def _repr_html_(self) -> str:
        from mscheck.report.html import to_html

        return to_html(self.spec, **{f"{self.command}_doc": self.doc}, graph=False)


class CheckResult(_Result):
    """The result of :func:`check`: ``verdict``, ``violations`` and the whole document."""

    command = "check"

    @property
    def verdict(self) -> str:
        return self.doc["verdict"]

    @property
    def violations(self) -> list[dict]:
        return self.doc["violations"]

    def _repr_markdown_(self) -> str:
        d = self.doc
        lines = [f"**{d['system']}: {d['verdict']}** — {d['states']:,} states, "
                 f"{d['transitions']:,} transitions, depth {d['depth']}, {d['seconds']:.2f} s"]
        for v in d["violations"]:
            lines.append(f"- `{v['kind']}` **{v['property']}**: {v['message']} "
                         f"({max(len(v['trace']) - 1, 0)} steps)")
        return "\n".join(lines)


class ProofResult(_Result):
    command = "prove"

    def _repr_markdown_(self) -> str:
        lines = []
        for r in self.doc["results"]:
            how = f"{r['method']}" + (f", k={r['k']}" if r.get("k") else "")
            lines.append(f"- **{r['property']}**: {r['status']} ({how}, {r['seconds']:.2f} s)")
        return "\n".join(lines) or "no property to prove"


class MetricsResult(_Result):
    command = "metrics"

    def _repr_markdown_(self) -> str:
        s = self.doc["system"]
        head = ", ".join(f"{k} {v}" for k, v in s.items() if isinstance(v, (int, float)))
        smells = [f"- {m['severity']} `{m['code']}` {m['message']}" for m in self.doc["smells"]]
        return "\n".join([f"**{self.spec.name}**: {head}"] + smells)

    def _repr_svg_(self) -> str | None:
        """The architecture graph (needs Graphviz's ``dot``)."""
        import shutil
        import subprocess

        from mscheck.render.graph import to_dot

        if not shutil.which("dot"):
            return None
        out = subprocess.run(["dot", "-Tsvg"], input=to_dot(self.spec), capture_output=True,
                             text=True, timeout=60)
        return out.stdout if out.returncode == 0 else None


def check(spec, **options) -> CheckResult:
    """Model-check a loaded spec; options as :func:`mscheck.engine.check.check_spec`.
    Without ``limits``, memory is capped as by ``mscheck check`` without ``--memory``
    (:func:`mscheck.engine.search.default_memory`): a state space too large for the machine
    ends as inconclusive rather than swapping or ending the kernel."""
    from mscheck.engine.check import check_spec
    from mscheck.engine.search import Limits

    if "limits" not in options:
        options["limits"] = Limits.capped()
    return CheckResult(spec, check_spec(spec, **options))


def prove(spec, **options) -> ProofResult:
    """Prove the spec's invariants; options as :func:`mscheck.smt.prove_spec`."""
    from mscheck.smt import prove_spec

    return ProofResult(spec, prove_spec(spec, **options))


def metrics(spec, **options) -> MetricsResult:
    """Architecture metrics and smells; options as ``metrics_document``."""
    from mscheck.report.metrics import metrics_document

    return MetricsResult(spec, metrics_document(spec, **options))
