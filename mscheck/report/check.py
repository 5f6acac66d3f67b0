"""The result of ``mscheck check`` for people: verdict, statistics, traces, sequence chart."""

from __future__ import annotations

import builtins
import os
import re
import sys
from io import StringIO
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["render_check", "render_simulation", "sequence_chart"]

_VERDICT_STYLE = {"ok": "bold green", "violation": "bold red", "inconclusive": "bold yellow"}
_PRINTABLE = re.compile(r"[ -~]*")  # printable ASCII


class _NotPlain(Exception):
    """The text is not one that :class:`_PlainConsole` prints as rich would."""


class _PlainConsole:
    """The part of rich's ``Console.print`` the check report uses, for a console without
    colour, markup, emoji or highlighting, where it adds nothing to the text: lines of printable
    ASCII no longer than the width (any length with ``soft_wrap``), each followed by a newline.
    Anything else (a table, other characters, a line rich would wrap) raises
    :class:`_NotPlain`, and the report is printed with rich instead."""

    def __init__(self, width: int):
        self.width = width
        self.parts: list[str] = []

    def print(self, text: str = "", soft_wrap: bool = False) -> None:
        for line in text.split("\n"):
            if not _PRINTABLE.fullmatch(line) or (len(line) > self.width and not soft_wrap):
                raise _NotPlain
        self.parts.append(text + "\n")


def _plain_possible(color: bool) -> bool:
    """Whether rich would print the report with no colour and as plain text: not in a
    notebook (rich displays there) nor on Windows (where a legacy console narrows it)."""
    return (not color and sys.platform != "win32" and not hasattr(builtins, "get_ipython")
            and not os.getenv("DATABRICKS_RUNTIME_VERSION"))


def _styled(con, *parts: tuple[str, str | None]):
    """A line of (text, style) parts: a rich ``Text``, or the plain text."""
    if isinstance(con, _PlainConsole):
        return "".join(text for text, _ in parts)
    from rich.text import Text

    line = Text()
    for text, style in parts:
        line.append(text, style=style)
    return line


def _engine(doc: dict) -> str:
    """Which engine searched: ``vector``, ``packed`` or ``scalar``; how many levels the
    packed loop took before the vector engine (all of them: ``packed``), on how many
    processes, and why the scalar engine ran."""
    text = doc["engine"]
    levels = doc.get("packed_levels") or 0
    if levels > doc["depth"]:  # the packed loop took every level: numpy was not needed
        text = "packed"
    elif levels:
        text += f", after {levels} packed level{'s' if levels != 1 else ''}"
    if doc.get("processes", 1) > 1:
        text += f", {doc['processes']} processes"
    note = doc.get("engine_note", "")
    if note.startswith("scalar engine: "):
        text += f" ({note[len('scalar engine: '):]})"
    return text


def _mem(n: int | None) -> str:
    if not n:
        return "-"
    return f"{n / 2**20:.1f} MiB"


def render_check(doc: dict, source: str | None = None, color: bool = False,
                 width: int = 100) -> str:
    """Render a check result document (see mscheck.engine.check) as text."""
    if _plain_possible(color):
        con = _PlainConsole(width)
        try:
            _render_check(con, doc, source)
        except _NotPlain:
            pass
        else:
            return "".join(con.parts).rstrip("\n")
    from rich.console import Console

    buf = StringIO()
    con = Console(file=buf, force_terminal=color, no_color=not color, width=width,
                  highlight=False, markup=False, emoji=False)
    _render_check(con, doc, source)
    return buf.getvalue().rstrip("\n")


def _render_check(con: Console | _PlainConsole, doc: dict, source: str | None) -> None:
    verdict = doc["verdict"]
    parts = [(f"{doc['system']}: ", "bold"), (verdict.upper(), _VERDICT_STYLE.get(verdict, "bold"))]
    if verdict == "inconclusive" and doc.get("reason"):
        parts.append((f" ({doc['reason']}; no violation found in the part explored)", None))
    elif verdict == "violation" and doc.get("reason"):  # a limit or Ctrl-C ended the run
        parts.append((f" ({doc['reason']})", None))
    elif verdict == "ok":
        parts.append((" (every property holds in every reachable state)", None))
    con.print(_styled(con, *parts))

    # fixed widths: a longer figure on one line must not move the others
    rows = [("distinct states", f"{doc['states']:,}"),
            ("transitions", f"{doc['transitions']:,}"),
            ("depth", str(doc["depth"]))]
    if doc.get("engine"):
        rows.append(("engine", _engine(doc)))
    rows.append(("seconds", f"{doc['seconds']:.2f}"))
    if doc.get("states_per_second"):
        rows.append(("states/s", f"{doc['states_per_second']:,}"))
    rows.append(("peak memory", _mem(doc.get("peak_memory"))))
    if doc.get("collision_probability") is not None:
        rows.append(("P(collision)", f"{doc['collision_probability']:.1e}"))
    for label, value in rows:
        con.print(f"{label:<16}{value:>14}")

    cov = doc.get("coverage")
    if cov:
        if isinstance(con, _PlainConsole):
            raise _NotPlain
        from rich.table import Table

        if not doc.get("coverage_complete", True):
            why = doc.get("reason") or "the search stopped at the first violation"
            con.print(f"coverage of the explored part only: {why}", soft_wrap=True)
        table = Table(title="coverage", title_justify="left")
        table.add_column("step")
        table.add_column("enabled in states", justify="right")
        table.add_column("taken", justify="right")
        rows = [(name, c) for name, c in cov.items()]
        rows += [(f"{name} (fault)", c) for name, c in doc.get("fault_coverage", {}).items()]
        for name, c in rows:
            flag = "  never taken" if not c["taken"] else ""
            table.add_row(name + flag, f"{c['enabled_states']:,}", f"{c['taken']:,}")
        con.print(table)

    lines = source.splitlines() if source else []
    for n, v in enumerate(doc["violations"], 1):
        con.print()
        con.print(_styled(con, (f"violation {n}: ", "bold red"), (v["message"], None)))
        loc = v.get("location")
        if loc:
            src = lines[loc["line"] - 1].strip() if 0 < loc["line"] <= len(lines) else ""
            con.print(f"  at {loc['file']}:{loc['line']}:{loc['column']}" +
                      (f": {src}" if src else ""))
        if (not v["trace"] and v["kind"] != "unreachable"
                and "traces were rebuilt" in (doc.get("reason") or "")):
            con.print("  trace not rebuilt: the run was interrupted first")
        if v["trace"]:
            loop = v.get("loop_start")
            kind = "lasso" if loop is not None else "trace"
            con.print(f"  {kind} ({len(v['trace']) - 1} steps):")
            for item in v["trace"]:
                _print_step(con, item)
                if loop is not None and item["step"] == loop:
                    con.print("       -- the steps below repeat for ever --"
                              if item["step"] < len(v["trace"]) - 1 else
                              "       -- and it stays here for ever --")
            if loop is not None and loop < len(v["trace"]) - 1:
                con.print(f"       -- back to step {loop} --")
        fs = v.get("failing_step")
        if fs:
            params = ", ".join(f"{k}={x}" for k, x in fs["params"].items())
            con.print(f"  then {fs['actor']}.{fs['action']}" + (f"({params})" if params else "")
                      + " fails")
        if len(v["trace"]) > 1:
            con.print()
            con.print(sequence_chart(v["trace"]), soft_wrap=True)


def render_simulation(doc: dict, source: str | None = None, color: bool = False) -> str:
    """A simulation result: how many runs and steps, then violations as for check."""
    head = (f"{doc['runs']:,} random run(s), {doc['steps']:,} steps, depth {doc['depth']}, "
            f"seed {doc['seed']}, {doc['seconds']:.2f} s")
    verdict = doc["verdict"]
    if verdict == "inconclusive":
        body = (f"{doc['system']}: INCONCLUSIVE (no violation in the runs simulated; a "
                "simulation proves nothing: use 'check' for a verdict)")
        return body + "\n" + head
    as_check = {**doc, "states": 0, "transitions": 0}
    text = render_check(as_check, source, color)
    lines = text.splitlines()
    # replace the statistics table of check with the simulation's own figures
    first_violation = next((i for i, line in enumerate(lines) if line.startswith("violation")),
                           len(lines))
    runs = [f"  (run {v['run']}; replay with --seed {doc['seed']})" for v in doc["violations"]]
    return "\n".join([lines[0], head, *runs, ""] + lines[first_violation:])


def _print_step(con: Console | _PlainConsole, item: dict) -> None:
    if item["actor"] is None:
        con.print(f"  {item['step']:>3}. initial state")
        for k, x in item["changes"].items():
            con.print(f"         {k} = {x}")
        return
    params = ", ".join(f"{k}={x}" for k, x in item["params"].items())
    con.print(f"  {item['step']:>3}. {item['actor']}.{item['action']}"
              + (f"({params})" if params else ""))
    for m in item["messages"]:
        con.print(f"         {_message(m)}")
    for k, x in item["changes"].items():
        con.print(f"         {k} := {x}")


def _message(m: dict) -> str:
    """``ch!msg`` for a send, ``ch?msg`` for a receive, ``ch: lose msg`` for a fault."""
    if m["direction"] == "send":
        return f"{m['channel']}!{m['message']}"
    if m["direction"] == "recv":
        return f"{m['channel']}?{m['message']}"
    return f"{m['channel']}: {m['direction']} {m['message']}"


def sequence_chart(trace: list[dict], width: int = 14) -> str:
    """A text message sequence chart: one column per actor, one row per step."""
    actors: list[str] = []
    for item in trace:
        if item["actor"] is not None and item["actor"] not in actors:
            actors.append(item["actor"])
    if not actors:
        return ""
    w = max(width, max(len(a) for a in actors) + 2)
    head = "".join(a.center(w) for a in actors)
    rows = [head, "".join("|".center(w) for _ in actors)]
    for item in trace[1:]:
        col = actors.index(item["actor"])
        cells = ["|".center(w) for _ in actors]
        label = item["action"]
        if item["messages"]:
            label = _message(item["messages"][0])
        cells[col] = ("*" + label)[: w - 1].center(w)
        rows.append("".join(cells) + f"  {item['step']}. {item['actor']}.{item['action']}")
    return "\n".join(r.rstrip() for r in rows)
