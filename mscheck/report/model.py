"""Text rendering of the formal models (``mscheck model``)."""

from __future__ import annotations

__all__ = ["render_formal", "render_relations"]


def render_formal(m: dict) -> str:
    out = [f"MS = (S, I, O, C, TS) of system {m['system']}", ""]
    out.append(f"S  services ({len(m['S'])}):")
    for s in m["S"]:
        ctx = f" in context {s['context']}" if s.get("context") else ""
        inst = f" = {{{', '.join(s['instances'])}}}" if s.get("instances") else ""
        out.append(f"   {s['name']} ({s['kind']}){ctx}{inst}")
        for var, t in s.get("state", {}).items():
            out.append(f"      {var}: {t}")
    out.append(f"I  inputs ({len(m['I'])}):")
    out += [f"   {i['service']}: {i['input']}" for i in m["I"]]
    out.append(f"O  outputs ({len(m['O'])}):")
    out += [f"   {o['service']}: {o['output']}" for o in m["O"]]
    out.append(f"C  communication ({len(m['C'])} pairs, C ⊆ S x S):")
    out += [f"   {c['from']} -> {c['to']}  via {c['via']}" for c in m["C"]]
    out.append(f"TS transitions ({len(m['TS'])}), TS: S x I -> S x O:")
    for t in m["TS"]:
        outs = ", ".join(t["outputs"]) or "-"
        writes = ", ".join(t["writes"]) or "-"
        out.append(f"   {t['service']} x {t['input']}  when {t['guard']}")
        out.append(f"      -> writes {writes}; outputs {outs}")
    return "\n".join(out)


def render_relations(m: dict) -> str:
    out = [f"(S, D, C, O) of system {m['system']}", ""]
    out.append(f"S  services ({len(m['S'])}): {', '.join(m['S'])}")
    out.append(f"D  data dependencies ({len(m['D'])}):")
    out += [f"   {d['from']} -> {d['to']}  via datastore {d['via']}" for d in m["D"]]
    out.append(f"C  communication ({len(m['C'])}):")
    out += [f"   {c['from']} -> {c['to']}  via {c['via']}" for c in m["C"]]
    out.append(f"O  organisation ({len(m['O'])}):")
    out += [f"   {o['between'][0]} -- {o['between'][1]}  team {o['team']}" for o in m["O"]]
    return "\n".join(out)
