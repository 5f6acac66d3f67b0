"""Counterexample traces as message sequence charts: the chart as data, and as Mermaid.

:func:`trace_chart` reads a trace of the check document and pairs each send with its receive:
on a synchronous channel both happen in one step (the receive names the receiving actor, or
``actor.handler``); on a buffered channel the receive comes later and takes the oldest
matching message still in the channel (a ``log`` or ``set`` channel keeps it). A receive with
no send in the trace takes a message that was in the channel from the start: it comes from
the channel, drawn as a participant of its own; a send never received is drawn to the
channel. Faults (``network`` steps: lose, duplicate, reorder) are drawn at the channel.

:func:`trace_to_mermaid` writes the chart as a Mermaid ``sequenceDiagram``: solid arrows for
synchronous messages, dashed for asynchronous ones, a note with the changed variables after
each step and a ``loop`` block around the repeating part of a lasso.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mscheck.report.results import message_text

__all__ = ["Arrow", "Chart", "trace_chart", "trace_to_mermaid"]


@dataclass
class Arrow:
    """A message from ``src`` (sent at step ``sent``) to ``dst`` (received at ``received``);
    ``kind`` is message | initial (was in the channel) | inflight (never received) | fault."""

    src: str
    dst: str
    sent: int
    received: int
    label: str
    sync: bool
    kind: str = "message"


@dataclass
class Chart:
    """Participants in order (actors first, then channels), arrows, and per step the actor,
    its label and the changed variables; ``loop_start`` for a lasso."""

    participants: list[str]
    channels: set[str]
    arrows: list[Arrow]
    steps: list[dict]
    loop_start: int | None = None
    notes: dict[int, list[str]] = field(default_factory=dict)


def _channel_kind(spec, channel: str) -> str | None:
    if spec is None:
        return None
    ch = spec.channels.get(channel.split("[", 1)[0])
    return ch.kind if ch is not None else "sync"  # a fresh 'new' name is synchronous


def _step_label(item: dict) -> str:
    params = ", ".join(f"{k}={v}" for k, v in item.get("params", {}).items())
    return f"{item['action']}" + (f"({params})" if params else "")


def trace_chart(violation_or_trace, spec=None) -> Chart:
    """The sequence chart of a violation (a dict of the check document, or a
    :class:`~mscheck.report.results.Finding`) or of a bare trace list."""
    v = violation_or_trace
    if isinstance(v, list):
        trace, loop = v, None
    elif isinstance(v, dict):
        trace, loop = v.get("trace") or [], v.get("loop_start")
    else:
        trace, loop = v.trace or [], v.loop_start
    actors: list[str] = []
    channels: list[str] = []

    def actor(name: str) -> str:
        if name not in actors:
            actors.append(name)
        return name

    def chan(name: str) -> str:
        if name not in channels:
            channels.append(name)
        return name

    arrows: list[Arrow] = []
    pending: dict[str, list[tuple[int, str, str, bool]]] = {}  # channel -> (step, src, msg, ..)
    kept: dict[str, list[tuple[int, str, str]]] = {}  # log/set channels: every message sent
    steps = []
    notes: dict[int, list[str]] = {}
    for item in trace:
        i = item.get("step", len(steps))
        steps.append({"step": i, "actor": item.get("actor"), "label": _step_label(item),
                      "changes": dict(item.get("changes", {}))})
        who = item.get("actor")
        if who is None:
            continue
        if who != "network":
            actor(who)
        current = who
        msgs = item.get("messages", [])
        j = 0
        while j < len(msgs):
            m = msgs[j]
            c, d, text = m["channel"], m["direction"], m["message"]
            nxt = msgs[j + 1] if j + 1 < len(msgs) else None
            kind = _channel_kind(spec, c)
            if d == "send" and nxt and nxt["direction"] == "recv" and nxt["channel"] == c and \
                    (kind == "sync" or (kind is None and nxt["message"] != text)):
                receiver = nxt["message"]
                # a service handler is named actor.handler; a process by its instance
                rec_actor = receiver.rsplit(".", 1)[0] if "." in receiver else receiver
                arrows.append(Arrow(current, actor(rec_actor), i, i, f"{c}!{text}", True))
                current = rec_actor  # the receiving handler runs in the same step
                j += 2
                continue
            if d == "send":
                pending.setdefault(c, []).append((i, current, text, False))
                if kind in ("log", "set"):
                    kept.setdefault(c, []).append((i, current, text))
            elif d == "recv":
                queue = pending.get(c, [])
                hit = next((k for k, p in enumerate(queue) if p[2] == text), None)
                if hit is not None:
                    s_step, src, _, _ = queue[hit]
                    if kind not in ("log", "set"):
                        queue.pop(hit)
                    else:  # stays in the channel; later receives match it again
                        pass
                    arrows.append(Arrow(src, current, s_step, i, f"{c}!{text}",
                                        kind == "sync"))
                else:
                    old = next((p for p in kept.get(c, ()) if p[2] == text), None)
                    if old is not None:
                        arrows.append(Arrow(old[1], current, old[0], i, f"{c}!{text}", False))
                    else:
                        arrows.append(Arrow(chan(c), current, i, i, f"{c}?{text}",
                                            kind == "sync", "initial"))
            elif d == "lost" or d == "lose":
                queue = pending.get(c, [])
                hit = next((k for k, p in enumerate(queue) if p[2] == text), None)
                if d == "lost":  # a synchronous send that the network dropped
                    arrows.append(Arrow(current, chan(c), i, i, f"{c}!{text} (lost)", True,
                                        "fault"))
                elif hit is not None:
                    s_step, src, _, _ = queue.pop(hit)
                    arrows.append(Arrow(src, chan(c), s_step, i, f"{c}!{text} (lost)", False,
                                        "fault"))
                else:
                    notes.setdefault(i, []).append(f"network: {message_text(m)}")
            elif d == "duplicate":
                queue = pending.get(c, [])
                hit = next((p for p in queue if p[2] == text), None)
                if hit is not None:
                    queue.append(hit)
                notes.setdefault(i, []).append(f"network: {c} duplicates {text}")
            else:
                notes.setdefault(i, []).append(f"network: {message_text(m)}")
            j += 1
    for c, queue in pending.items():
        for s_step, src, text, _ in queue:
            if any(a.sent == s_step and a.label == f"{c}!{text}" for a in arrows):
                continue  # a log/set message that was received
            arrows.append(Arrow(src, chan(c), s_step, s_step, f"{c}!{text}", False, "inflight"))
    arrows.sort(key=lambda a: (a.received, a.sent))
    return Chart(actors + [c for c in channels if c not in actors], set(channels), arrows,
                 steps, loop, notes)


# ---------------------------------------------------------------- Mermaid

_RESERVED = {"end", "loop", "alt", "else", "opt", "par", "and", "note", "participant", "actor",
             "rect", "critical", "break", "box", "title", "over", "left", "right", "of",
             "activate", "deactivate", "autonumber", "create", "destroy", "links", "link"}


def _mid(name: str, ids: dict[str, str]) -> str:
    if name not in ids:
        base = re.sub(r"\W", "_", name).strip("_") or "p"
        if base.lower() in _RESERVED or not base[0].isalpha():
            base = "p_" + base
        ident = base
        n = 2
        while ident in ids.values():
            ident, n = f"{base}_{n}", n + 1
        ids[name] = ident
    return ids[name]


def _mtext(text: str) -> str:
    """Text safe inside a Mermaid message or note: '#' and ';' as entity codes."""
    return re.sub(r"[#;<>\n]", lambda m: _ENTITY[m.group()], text)


_ENTITY = {"#": "#35;", ";": "#59;", "<": "#lt;", ">": "#gt;", "\n": " "}


def trace_to_mermaid(violation, spec=None, *, title: str | None = None) -> str:
    """A Mermaid ``sequenceDiagram`` of one violation's trace (a check-document violation
    dict, a :class:`~mscheck.report.results.Finding` or a trace list). ``spec`` tells
    synchronous channels from buffered ones; without it a send followed in the same step by a
    receive that names an actor is taken as synchronous."""
    chart = trace_chart(violation, spec)
    if title is None and isinstance(violation, dict):
        title = violation.get("message")
    elif title is None and hasattr(violation, "message"):
        title = violation.message
    ids: dict[str, str] = {}
    out = ["sequenceDiagram"]
    if title:
        out.append(f"  title {_mtext(title)}")
    for p in chart.participants:
        kind = "participant"
        label = f"{p} (channel)" if p in chart.channels else p
        out.append(f"  {kind} {_mid(p, ids)} as {_mtext(label)}")
    by_recv: dict[int, list[Arrow]] = {}
    for a in chart.arrows:
        by_recv.setdefault(a.received, []).append(a)
    last = chart.steps[-1]["step"] if chart.steps else 0
    loop = chart.loop_start
    first_actor = chart.participants[0] if chart.participants else None
    in_loop = False
    for st in chart.steps:
        i = st["step"]
        if loop is not None and i == loop + 1 and loop < last:
            out.append("  loop repeats for ever")
            in_loop = True
        who = st["actor"]
        if who is None:  # the initial state
            if st["changes"] and first_actor:
                span = _mid(first_actor, ids)
                if len(chart.participants) > 1:
                    span += "," + _mid(chart.participants[-1], ids)
                body = "<br/>".join(_mtext(f"{k} = {v}") for k, v in st["changes"].items())
                out.append(f"  Note over {span}: initial state<br/>{body}")
            continue
        arrows = by_recv.get(i, [])
        for a in arrows:
            head = "->>" if a.sync else "-->>"
            if a.kind == "fault":
                head = "-x" if a.sync else "--x"
            label = a.label
            if a.sent != a.received:
                label += f" (sent at step {a.sent})"
            elif a.kind == "inflight":
                label += " (never received)"
            elif a.kind == "initial":
                label += " (in the channel from the start)"
            out.append(f"  {_mid(a.src, ids)}{head}{_mid(a.dst, ids)}: {i}. {_mtext(label)}")
        text = [f"{i}. {st['label']}"] if who != "network" else [f"{i}. network {st['label']}"]
        text += [f"{k} := {v}" for k, v in st["changes"].items()]
        text += chart.notes.get(i, [])
        where = who if who in ids else (first_actor or who)
        if who == "network":
            out.append(f"  Note over {_mid(where, ids)}: {'<br/>'.join(map(_mtext, text))}")
        else:
            out.append(f"  Note right of {_mid(where, ids)}: {'<br/>'.join(map(_mtext, text))}")
    fs = violation.get("failing_step") if isinstance(violation, dict) else \
        getattr(violation, "extra", {}).get("failing_step")
    if fs and fs.get("actor") in ids:
        out.append(f"  Note right of {_mid(fs['actor'], ids)}: then "
                   f"{_mtext(fs['action'])} fails")
    if in_loop:
        out.append("  end")
    elif loop is not None and first_actor:
        out.append(f"  Note over {_mid(first_actor, ids)}: and it stays here for ever")
    return "\n".join(out) + "\n"
