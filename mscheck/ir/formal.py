"""The formal models of the source document, read off a spec.

* ``MS = (S, I, O, C, TS)`` (section 6.1): services, inputs, outputs, the communication
  relation and the transition function ``TS: S x I -> S x O``, one entry per action or handler.
* ``(S, D, C, O)`` (section 9.2): services with their data, communication and organisation
  relations.

Both are plain data (dicts and lists) so they print as text or JSON unchanged.
"""

from __future__ import annotations

from mscheck.ir import nodes as N
from mscheck.ir.printer import show_expr
from mscheck.ir.walk import process_parts, statements, var_refs

__all__ = ["formal_model", "relation_model", "communication", "step_sends", "step_writes"]


def _chan_name(e: N.Expr) -> str:
    return e.channel if isinstance(e, N.ChanVal) else e.name


def _payload_name(p: N.Expr) -> str:
    if isinstance(p, N.MsgLit):
        return p.name
    return show_expr(p)


def step_sends(body) -> list[str]:
    return [f"{_chan_name(s.channel)}!{_payload_name(s.payload)}" for s in statements(body)
            if isinstance(s, N.Send)]


def step_writes(body) -> list[str]:
    out = []
    for s in statements(body):
        if isinstance(s, N.Assign) and s.target.var not in out:
            out.append(s.target.var)
    return out


def _actor_channels(spec: N.Spec):
    """Per actor (service, or process not attached to one): channels sent on / received from."""
    sends: dict[str, set[str]] = {}
    recvs: dict[str, set[str]] = {}
    for svc in spec.services.values():
        for a in svc.actions:
            for s in statements(a.body):
                if isinstance(s, N.Send) and isinstance(s.channel, N.ChanVal):
                    sends.setdefault(svc.name, set()).add(s.channel.channel)
        for h in svc.handlers:
            if isinstance(h.channel, N.ChanVal):
                recvs.setdefault(svc.name, set()).add(h.channel.channel)
            for s in statements(h.body):
                if isinstance(s, N.Send) and isinstance(s.channel, N.ChanVal):
                    sends.setdefault(svc.name, set()).add(s.channel.channel)
    for proc in spec.processes.values():
        actor = proc.service or proc.name
        for part in process_parts(proc.body):
            if isinstance(part, N.POut) and isinstance(part.channel, N.ChanVal):
                sends.setdefault(actor, set()).add(part.channel.channel)
            elif isinstance(part, (N.PIn, N.PRepl)) and isinstance(part.channel, N.ChanVal):
                recvs.setdefault(actor, set()).add(part.channel.channel)
    return sends, recvs


def communication(spec: N.Spec) -> list[tuple[str, str, str]]:
    """The communication relation C as (from, to, how) triples, sorted.

    ``how`` is ``calls``, ``topic:NAME`` (publish/subscribe) or ``channel:NAME`` (behaviour).
    """
    out = set()
    for r in spec.relations:
        if r.kind == "calls" and r.source != r.target:
            out.add((r.source, r.target, "calls"))
    pubs = [(r.source, r.target) for r in spec.relations if r.kind == "publishes"]
    subs = [(r.source, r.target) for r in spec.relations if r.kind == "subscribes"]
    for p, topic in pubs:
        for s, t2 in subs:
            if topic == t2 and p != s:
                out.add((p, s, f"topic:{topic}"))
    sends, recvs = _actor_channels(spec)
    for a, chans in sends.items():
        for b, rchans in recvs.items():
            for ch in sorted(chans & rchans):
                if a != b:
                    out.add((a, b, f"channel:{ch}"))
    return sorted(out)


def formal_model(spec: N.Spec) -> dict:
    """``MS = (S, I, O, C, TS)`` as plain data."""
    S, I, O, TS = [], [], [], []
    for svc in spec.services.values():
        entry = {"name": svc.name, "kind": "service", "context": svc.context}
        if svc.index_values is not None:
            from mscheck.ir.evaluate import show_value

            entry["instances"] = [f"{svc.name}[{show_value(v)}]" for v in svc.index_values]
        entry["state"] = {v.name: _type_str(v.type) for v in svc.vars}
        S.append(entry)
        for a in svc.actions:
            params = ", ".join(f"{n} in {show_expr(d)}" for n, d in a.params)
            inp = f"{a.name}({params})" if params else a.name
            I.append({"service": svc.name, "input": inp, "kind": "action"})
            outs = step_sends(a.body)
            O.extend({"service": svc.name, "output": o} for o in outs)
            TS.append({"service": svc.name, "input": inp, "guard": _guard(a.guard),
                       "outputs": outs, "writes": step_writes(a.body), "step": a.name})
        for h in svc.handlers:
            inp = f"{_chan_name(h.channel)}?{h.pattern.message or '(' + ', '.join(n for n, _ in h.pattern.vars) + ')'}"
            I.append({"service": svc.name, "input": inp, "kind": "receive"})
            outs = step_sends(h.body)
            O.extend({"service": svc.name, "output": o} for o in outs)
            TS.append({"service": svc.name, "input": inp, "guard": _guard(h.guard),
                       "outputs": outs, "writes": step_writes(h.body), "step": h.name})
    for proc in spec.processes.values():
        actor = proc.service or proc.name
        if proc.service is None:
            S.append({"name": proc.name, "kind": "process", "context": None,
                      "state": {n: _type_str(t) for n, t in proc.params}})
        for part in process_parts(proc.body):
            if isinstance(part, (N.PIn, N.PRepl)):
                pat = part.pattern
                what = pat.message or "(" + ", ".join(n for n, _ in pat.vars) + ")"
                I.append({"service": actor, "input": f"{_chan_name(part.channel)}?{what}",
                          "kind": "receive", "process": proc.name})
            elif isinstance(part, N.POut):
                O.append({"service": actor, "process": proc.name,
                          "output": f"{_chan_name(part.channel)}!{_payload_name(part.payload)}"})
    O = [dict(t) for t in dict.fromkeys(tuple(sorted(o.items())) for o in O)]
    C = [{"from": a, "to": b, "via": how} for a, b, how in communication(spec)]
    return {"system": spec.name, "S": S, "I": I, "O": O, "C": C, "TS": TS}


def relation_model(spec: N.Spec) -> dict:
    """``(S, D, C, O)``: services, data dependencies, communication, organisation."""
    services = sorted(spec.services)
    D = set()
    owner = {n: d.owner for n, d in spec.datastores.items()}
    for r in spec.relations:
        if r.kind in ("reads", "writes") and owner.get(r.target) and owner[r.target] != r.source:
            D.add((r.source, owner[r.target], r.target))
    # Shared variables declared in a datastore block make behaviour-level data dependencies.
    store_of = {v.name: v.store for v in spec.shared_vars.values() if v.store}
    for svc in spec.services.values():
        used = set()
        for step in (*svc.actions, *svc.handlers):
            for s in statements(step.body):
                if isinstance(s, N.Assign) and s.target.owner is None:
                    used.add(s.target.var)
            used.update(r.var for r in var_refs(step) if r.owner is None)
        for var in used:
            store = store_of.get(var)
            if store and owner.get(store) and owner[store] != svc.name:
                D.add((svc.name, owner[store], store))
    O = set()
    for team in spec.teams.values():
        members = sorted(team.owns)
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                O.add((a, b, team.name))
    return {
        "system": spec.name,
        "S": services,
        "D": [{"from": a, "to": b, "via": s} for a, b, s in sorted(D)],
        "C": [{"from": a, "to": b, "via": how} for a, b, how in communication(spec)],
        "O": [{"between": [a, b], "team": t} for a, b, t in sorted(O)],
    }


def _guard(g) -> str:
    return show_expr(g) if g is not None else "true"


def _type_str(t) -> str:
    from mscheck.ir.types import show

    return show(t)

