"""The result of ``mscheck prove`` as text, and its exit code."""

from __future__ import annotations

__all__ = ["render_prove_text", "prove_exit_code"]


def _state_lines(state: dict, indent: str) -> list[str]:
    return [f"{indent}{k} = {v}" for k, v in state.items()]


def _headline(r: dict) -> str:
    using = f" using {', '.join(r['using'])}" if r.get("using") else ""
    how = r.get("method") or "?"
    if r.get("k") is not None and how in ("kind", "bmc"):
        how += f", k = {r['k']}"
    head = f"{r['property']}{using}: {r['status']} ({how}, {r['seconds']:.2f} s)"
    if r.get("reason"):
        head += f": {r['reason']}"
    return head


def render_prove_text(doc: dict) -> str:
    """A line per result, then its counterexample to induction, trace or found invariant."""
    out: list[str] = []
    for r in doc.get("results", []):
        out.append(_headline(r))
        if r.get("invariant"):
            out.append("  inductive invariant found:")
            out += [f"    {line}" for line in r["invariant"].splitlines()]
        cex = r.get("counterexample")
        if not cex:
            continue
        consts = cex.get("constants") or {}
        if consts:
            out.append("  with " + ", ".join(f"{k} = {v}" for k, v in consts.items()))
        if cex.get("kind") == "cti":
            out.append(f"  counterexample to induction: step {cex['step']}")
            out.append("  before (satisfies " + ", ".join(
                [r["property"]] + list(r.get("using") or [])) + "):")
            out += _state_lines(cex["pre"], "    ")
            out.append(f"  after (violates {', '.join(cex.get('broken') or [r['property']])}):")
            out += _state_lines(cex["post"], "    ")
        else:
            out.append("  trace:")
            for i, st in enumerate(cex.get("states", [])):
                label = "initial state" if st.get("step") is None else st["step"]
                out.append(f"    {i}. {label}")
                state = st["state"]
                out += _state_lines({k: v if isinstance(v, str) else repr(v)
                                     for k, v in state.items()}, "       ")
    return "\n".join(out) + ("\n" if out else "")


def prove_exit_code(doc: dict) -> int:
    """0 when everything is proved, 1 when any property is violated, else 3."""
    statuses = [r["status"] for r in doc.get("results", [])]
    if any(s == "violated" for s in statuses):
        return 1
    if statuses and all(s == "proved" for s in statuses):
        return 0
    return 3
