"""One self-contained HTML report of a spec: architecture, metrics, violations, proofs.

Everything is inline (SVG, CSS, a few lines of JS); the page loads nothing from the network.
The architecture graph is Graphviz's SVG of :func:`mscheck.render.graph.to_dot` (the DOT text
when ``dot`` is not installed); each violation's trace is a message sequence chart drawn here
as SVG: one lifeline per actor, solid arrows for synchronous messages and dashed ones for
asynchronous messages (slanted from the send to the receive), the changed variables beside
each step, and the repeating part of a lasso bracketed. Properties, smells and trace steps
link to their lines in the source listing at the end.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess

from mscheck.report.mermaid import Chart, trace_chart
from mscheck.report.results import (RunResult, from_check, from_metrics, from_prove,
                                    rule_summary, span_of)

__all__ = ["to_html", "sequence_svg", "build_report", "architecture_svg"]

_E = html.escape


# ---------------------------------------------------------------- the architecture

def architecture_svg(spec, view: str = "services", timeout: float = 60) -> tuple[str, bool]:
    """(inline SVG, True) drawn by Graphviz, or (the DOT text as escaped <pre>, False)."""
    from mscheck.render.graph import to_dot

    dot = to_dot(spec, view=view)
    exe = shutil.which("dot")
    why = "is not installed"
    if exe:
        try:
            proc = subprocess.run([exe, "-Tsvg"], input=dot.encode(), capture_output=True,
                                  timeout=timeout)
            if proc.returncode == 0:
                svg = proc.stdout.decode("utf-8", errors="replace")
                svg = svg[svg.find("<svg"):]  # drop the XML prolog and DOCTYPE
                svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
                svg = svg.replace("<svg", '<svg class="arch"', 1)
                return svg, True
            why = "failed"
        except subprocess.TimeoutExpired:
            why = f"took over {timeout:g} s to lay the graph out"
        except OSError:
            why = "could not be run"
    return (f"<p class=\"muted\">Graphviz <code>dot</code> {why}; the graph in DOT:"
            f"</p><pre class=\"dot\">{_E(dot)}</pre>", False)


# ---------------------------------------------------------------- sequence charts

_CHAR = 7.0  # width of a character at 12px in the monospace-ish font used for labels


def _tw(text: str, char: float = _CHAR) -> float:
    return len(text) * char


def sequence_svg(chart: Chart, ident: str = "msc", failing: dict | None = None,
                 source_links: list | None = None, max_changes: int = 12) -> str:
    """A message sequence chart as inline SVG.

    ``ident`` makes marker ids unique on the page; ``failing`` is the step that failed (a
    step error); ``source_links`` gives, per step, the ``#src-L..`` anchor of its action.
    """
    parts = chart.participants
    if not parts:
        parts = ["(no actor)"]
    widths = {p: max(78.0 if p in chart.channels else 160.0, _tw(p, 7.6) + 22) for p in parts}
    for st in chart.steps:  # room for the action label right of the lifeline
        if st["actor"] in widths:
            widths[st["actor"]] = max(widths[st["actor"]], _tw(st["label"], 7.2) + 30)
    left = 56.0  # step numbers and the loop bracket
    xs, x = {}, left
    for p in parts:
        xs[p] = x + widths[p] / 2
        x += widths[p]
    changes_x = x + 16
    head_h, top = 30.0, 50.0
    line_h = 15.0
    rows = []
    y = top
    for st in chart.steps:
        changes = [f"{k} {'=' if st['actor'] is None else ':='} {v}"
                   for k, v in st["changes"].items()]
        if len(changes) > max_changes:
            changes = changes[:max_changes - 1] + [f"... {len(changes) - max_changes + 1} more"]
        extra = chart.notes.get(st["step"], [])
        lines = changes + extra
        h = max(46.0, 22 + line_h * len(lines))
        rows.append((st, y, h, lines))
        y += h
    if failing:
        y += 40
    height = y + 16
    widest_change = max([_tw(t, 6.6) for _, _, _, ls in rows for t in ls] + [120])
    width = changes_x + widest_change + 20
    ycenter = {st["step"]: y0 + 18 for st, y0, h, _ in rows}
    out = [f'<svg class="msc" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
           f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img">',
           "<defs>"
           f'<marker id="{ident}-a" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
           'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
           'fill="#1e3a8a"/></marker>'
           f'<marker id="{ident}-o" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" '
           'markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10" '
           'fill="none" stroke="#0f766e" stroke-width="1.6"/></marker>'
           f'<marker id="{ident}-x" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="10" '
           'markerHeight="10"><path d="M0,0 L10,10 M10,0 L0,10" stroke="#b91c1c" '
           'stroke-width="2"/></marker>'
           "</defs>"]
    # stripes per step, then lifelines
    for n, (st, y0, h, _) in enumerate(rows):
        if n % 2:
            out.append(f'<rect x="0" y="{y0:.1f}" width="{width:.0f}" height="{h:.1f}" '
                       'class="stripe"/>')
    for p in parts:
        x = xs[p]
        chan = p in chart.channels
        out.append(f'<line x1="{x:.1f}" y1="{10 + head_h:.1f}" x2="{x:.1f}" '
                   f'y2="{height - 8:.1f}" class="{"lifeline-ch" if chan else "lifeline"}"/>')
        w = widths[p] - 12
        out.append(f'<rect x="{x - w / 2:.1f}" y="10" width="{w:.1f}" height="{head_h}" '
                   f'rx="{12 if chan else 4}" class="{"head-ch" if chan else "head"}"/>')
        out.append(f'<text x="{x:.1f}" y="{10 + head_h / 2 + 4:.1f}" text-anchor="middle" '
                   f'class="{"headtext-ch" if chan else "headtext"}">{_E(p)}</text>')
    out.append(f'<text x="{changes_x:.1f}" y="{10 + head_h / 2 + 4:.1f}" class="colhead">'
               'state changes</text>')
    # the loop of a lasso
    last = chart.steps[-1]["step"] if chart.steps else 0
    if chart.loop_start is not None:
        ls = chart.loop_start
        loop_rows = [(y0, h) for st, y0, h, _ in rows if st["step"] > ls]
        if loop_rows and ls < last:
            y1 = loop_rows[0][0] + 4
            y2 = loop_rows[-1][0] + loop_rows[-1][1] - 4
            back = ycenter.get(ls, y1)
            out.append(f'<path d="M40,{y2:.1f} L8,{y2:.1f} L8,{back:.1f} L38,{back:.1f}" '
                       f'class="loop" marker-end="url(#{ident}-a)"/>')
            out.append(f'<rect x="40" y="{y1:.1f}" width="{width - 44:.0f}" '
                       f'height="{y2 - y1:.1f}" class="loopbox"/>')
            out.append(f'<text x="{width - 10:.0f}" y="{y1 + 13:.1f}" text-anchor="end" '
                       'class="looptext">loop: these steps repeat for ever</text>')
        else:
            y0 = rows[-1][1] + rows[-1][2] - 6 if rows else top
            out.append(f'<text x="{left:.1f}" y="{y0:.1f}" class="looptext">'
                       'and it stays in this state for ever</text>')
    # steps
    for n, (st, y0, h, lines) in enumerate(rows):
        i = st["step"]
        yc = y0 + 18
        link = source_links[n] if source_links and n < len(source_links) else None
        num = f'<text x="{left - 10:.1f}" y="{yc + 4:.1f}" text-anchor="end" class="stepno">' \
              f'{i}</text>'
        out.append(f'<a href="{link}">{num}</a>' if link else num)
        who = st["actor"]
        if who is None:
            out.append(f'<text x="{left + 4:.1f}" y="{yc + 4:.1f}" class="initial">initial '
                       'state</text>')
        elif who in xs:
            x = xs[who]
            out.append(f'<rect x="{x - 5:.1f}" y="{yc - 9:.1f}" width="10" height="18" '
                       'class="act"/>')
            label = st["label"]
            tx = x + 9
            out.append(f'<text x="{tx:.1f}" y="{yc + 16:.1f}" class="action">{_E(label)}</text>')
        else:  # the network: a fault
            out.append(f'<text x="{left + 4:.1f}" y="{yc + 4:.1f}" class="fault">network '
                       f'{_E(st["label"])}</text>')
        for k, t in enumerate(lines):
            cls = "note" if k >= len(lines) - len(chart.notes.get(i, [])) and \
                chart.notes.get(i) else "change"
            out.append(f'<text x="{changes_x:.1f}" y="{y0 + 16 + line_h * k:.1f}" '
                       f'class="{cls}">{_E(t)}</text>')
    # arrows
    for a in chart.arrows:
        if a.src not in xs or a.dst not in xs:
            continue
        x1, x2 = xs[a.src], xs[a.dst]
        y1 = ycenter.get(a.sent, top) - (4 if a.sent == a.received else 0)
        y2 = ycenter.get(a.received, top) - (4 if a.sent == a.received else 0)
        if a.kind == "inflight":
            y2 = y1
        if x1 == x2:  # to itself: a small loop
            d = f"M{x1:.1f},{y1:.1f} C{x1 + 50:.1f},{y1:.1f} {x1 + 50:.1f},{y2 + 14:.1f} " \
                f"{x1 + 6:.1f},{y2 + 14:.1f}"
        else:
            off = 6 if x2 > x1 else -6
            d = f"M{x1 + off:.1f},{y1:.1f} L{x2 - off:.1f},{y2:.1f}"
        cls = "sync" if a.sync else "async"
        marker = f"{ident}-a" if a.sync else f"{ident}-o"
        if a.kind == "fault":
            cls, marker = "lost", f"{ident}-x"
        out.append(f'<path d="{d}" class="{cls}" marker-end="url(#{marker})"/>')
        label = a.label + (" (never received)" if a.kind == "inflight" else "")
        t = 0.5 if y1 == y2 else 0.3  # a slanted arrow: label it near its send
        mx, my = x1 + (x2 - x1) * t, y1 + (y2 - y1) * t - 5
        out.append(f'<text x="{mx:.1f}" y="{my:.1f}" text-anchor="middle" class="msg">'
                   f'{_E(label)}</text>')
    if failing:
        fy = y - 40 + 20
        who = failing.get("actor")
        x = xs.get(who, left + 20)
        params = ", ".join(f"{k}={v}" for k, v in failing.get("params", {}).items())
        text = f"then {who}.{failing.get('action')}" + (f"({params})" if params else "") + \
            " fails"
        out.append(f'<rect x="{x - 7:.1f}" y="{fy - 9:.1f}" width="14" height="18" '
                   'class="failbox"/>')
        out.append(f'<text x="{x + 12:.1f}" y="{fy + 4:.1f}" class="fail">{_E(text)}</text>')
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------- the page

_CSS = """
:root{--fg:#0f172a;--muted:#64748b;--line:#e2e8f0;--bad:#b91c1c;--good:#15803d;--warn:#a16207}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
 color:var(--fg);margin:0;background:#f8fafc}
header{background:#0f172a;color:#f8fafc;padding:18px 32px}
header h1{margin:0 0 4px;font-size:24px}
header .file{color:#cbd5e1;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px}
nav{display:flex;gap:18px;padding:8px 32px;background:#1e293b;position:sticky;top:0;z-index:2}
nav a{color:#e2e8f0;text-decoration:none;font-weight:600}
main{padding:8px 24px 48px;max-width:1800px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;
 margin:18px 0}
h2{margin:0 0 12px;font-size:20px}
h3{margin:18px 0 8px;font-size:16px}
.badge{display:inline-block;padding:2px 10px;border-radius:999px;font-weight:700;font-size:12px;
 letter-spacing:.03em;text-transform:uppercase;margin-right:6px}
.skipped{background:#f1f5f9;color:#475569}
.ok,.proved,.passed{background:#dcfce7;color:var(--good)}
.violation,.violated,.error,.high,.failed{background:#fee2e2;color:var(--bad)}
.inconclusive,.unknown,.warning,.medium{background:#fef9c3;color:var(--warn)}
.note,.low{background:#e0f2fe;color:#0369a1}
.summary{display:flex;gap:10px;margin-top:10px;flex-wrap:wrap}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f1f5f9;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12.5px}
pre{background:#f1f5f9;padding:10px;border-radius:6px;overflow:auto}
.muted{color:var(--muted)}
.finding{border-left:4px solid var(--bad);padding:4px 0 4px 14px;margin:14px 0 22px}
.finding.warn{border-left-color:#eab308}
.finding h3{margin:0 0 4px}
.where a{color:#1d4ed8}
.chart{overflow:auto;border:1px solid var(--line);border-radius:6px;background:#fff;margin:8px 0}
.arch-wrap{overflow:auto;text-align:center}
svg.arch{max-width:100%;height:auto}
.arch-wrap svg.arch{display:inline-block}
svg.msc{max-width:100%;height:auto;display:block}
svg.msc text{font-family:"DejaVu Sans",system-ui,sans-serif;font-size:12px;fill:#0f172a}
svg.msc .stripe{fill:#f8fafc}
svg.msc .lifeline{stroke:#94a3b8;stroke-width:1.2;stroke-dasharray:4 4}
svg.msc .lifeline-ch{stroke:#cbd5e1;stroke-width:1;stroke-dasharray:2 5}
svg.msc .head{fill:#dbeafe;stroke:#1e3a8a}
svg.msc .head-ch{fill:#f1f5f9;stroke:#64748b;stroke-dasharray:3 2}
svg.msc .headtext{font-weight:700}
svg.msc .headtext-ch{font-style:italic;fill:#475569}
svg.msc .colhead{font-weight:700;fill:#475569}
svg.msc .act{fill:#1e3a8a}
svg.msc .action{font-weight:600;fill:#1e3a8a}
svg.msc .stepno{font-weight:700;fill:#475569}
svg.msc a .stepno{fill:#1d4ed8;text-decoration:underline}
svg.msc .initial{font-style:italic;fill:#475569}
svg.msc .change{font-family:"DejaVu Sans Mono",monospace;font-size:11.5px;fill:#334155}
svg.msc .note{font-style:italic;fill:#a16207}
svg.msc .sync{stroke:#1e3a8a;stroke-width:1.8;fill:none}
svg.msc .async{stroke:#0f766e;stroke-width:1.6;stroke-dasharray:7 5;fill:none}
svg.msc .lost{stroke:#b91c1c;stroke-width:1.6;stroke-dasharray:3 3;fill:none}
svg.msc .msg{font-size:11.5px;paint-order:stroke;stroke:#fff;stroke-width:4px;
 stroke-linejoin:round;fill:#0f172a}
svg.msc .loop{stroke:#a16207;stroke-width:1.6;fill:none}
svg.msc .loopbox{fill:none;stroke:#eab308;stroke-dasharray:6 4}
svg.msc .looptext{fill:#a16207;font-weight:700}
svg.msc .failbox{fill:#b91c1c}
svg.msc .fail{fill:#b91c1c;font-weight:700}
svg.msc .fault{fill:#b91c1c;font-style:italic}
.legend{font-size:12px;color:var(--muted);margin:4px 0}
.legend svg{vertical-align:middle}
.src{counter-reset:none;border:1px solid var(--line);border-radius:6px;overflow:auto;
 max-height:720px;background:#fff}
.src div{white-space:pre;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12.5px;
 padding:0 8px 0 0}
.src div span.ln{display:inline-block;width:4em;text-align:right;color:#94a3b8;
 padding-right:12px;user-select:none}
.src div.hit{background:#fef2f2}
.src div.hit span.ln{color:var(--bad);font-weight:700}
.src div:target{background:#fde68a;outline:2px solid #f59e0b}
details summary{cursor:pointer;color:#1d4ed8}
"""

_JS = """
document.addEventListener('click', function (e) {
  var a = e.target.closest ? e.target.closest('a[href^="#src-L"]') : null;
  if (!a) return;
  var el = document.getElementById(a.getAttribute('href').slice(1));
  if (!el) return;
  e.preventDefault();
  history.replaceState(null, '', a.getAttribute('href'));
  el.scrollIntoView({block: 'center'});
  document.querySelectorAll('.src div.flash').forEach(function (d) {
    d.classList.remove('flash'); });
  el.classList.add('flash');
});
"""


def _anchor(span, spec) -> str | None:
    if span is None or spec is None:
        return None
    return f"#src-L{span.line}"


def _where(span, spec) -> str:
    if span is None:
        return ""
    text = f"{span.file}:{span.line}:{span.column}"
    a = _anchor(span, spec)
    return f'<span class="where">at <a href="{a}">{_E(text)}</a></span>' if a else \
        f'<span class="where">at {_E(text)}</span>'


def _badge(word: str) -> str:
    return f'<span class="badge {_E(word)}">{_E(word)}</span>'


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.3f}"
    return str(x)


def _table(headers, rows, numeric=()) -> str:
    out = ["<table><thead><tr>", *(f"<th>{_E(h)}</th>" for h in headers), "</tr></thead><tbody>"]
    for r in rows:
        out.append("<tr>")
        for k, cell in enumerate(r):
            cls = ' class="num"' if k in numeric else ""
            out.append(f"<td{cls}>{cell}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


_LEGEND = (
    '<p class="legend">'
    '<svg width="44" height="10"><line x1="2" y1="5" x2="40" y2="5" stroke="#1e3a8a" '
    'stroke-width="1.8"/><path d="M34,1 L42,5 L34,9 z" fill="#1e3a8a"/></svg> synchronous '
    'message (rendezvous, one step) &nbsp; '
    '<svg width="44" height="10"><line x1="2" y1="5" x2="40" y2="5" stroke="#0f766e" '
    'stroke-width="1.6" stroke-dasharray="7 5"/><path d="M34,1 L42,5 L34,9" fill="none" '
    'stroke="#0f766e" stroke-width="1.6"/></svg> asynchronous message (from its send to its '
    'receive) &nbsp; <i>italic boxes</i> are channels: messages in them from the start, or '
    'never received</p>')


def _check_section(spec, doc: dict, result: RunResult) -> str:
    out = ['<section id="check"><h2>Model checking</h2>']
    out.append(f"<p>{_badge(doc.get('verdict', '?'))}")
    if doc.get("verdict") == "ok":
        out.append("every property holds in every reachable state")
    elif doc.get("verdict") == "inconclusive":
        out.append(_E(f"{doc.get('reason') or 'stopped early'}; no violation found in the "
                      "part explored"))
    else:
        n = len(doc.get("violations", ()))
        out.append(f"{n} violation{'s' if n != 1 else ''}")
    out.append("</p>")
    stats = [("distinct states", f"{doc.get('states', 0):,}"),
             ("transitions", f"{doc.get('transitions', 0):,}"),
             ("depth", str(doc.get("depth", 0))), ("seconds", f"{doc.get('seconds', 0):.3f}"),
             ("engine", _E(str(doc.get("engine", "-")))),
             ("search complete", "yes" if doc.get("complete") else "no")]
    out.append(_table(["figure", "value"], [(k, v) for k, v in stats], numeric=(1,)))
    checks = [(_E(c.name), _badge(c.status), _E(c.rule or "-"), _E(c.message or ""))
              for c in result.checks]
    if checks:
        out.append("<h3>Properties</h3>")
        out.append(_table(["property", "result", "rule", "detail"], checks))
    for n, (v, f) in enumerate(zip(doc.get("violations", ()), result.findings), 1):
        out.append('<div class="finding">')
        out.append(f"<h3>Violation {n}: {_E(v.get('message', ''))}</h3>")
        out.append(f"<p><code>{_E(f.rule)}</code> {_E(rule_summary(f.rule))}. "
                   f"{_where(f.span, spec)}</p>")
        trace = v.get("trace") or []
        if trace:
            chart = trace_chart(v, spec)
            links = [_anchor(s, spec) for s in (f.step_spans or [])]
            kind = "lasso" if v.get("loop_start") is not None else "trace"
            out.append(f"<p class=\"muted\">Counterexample {kind}, {len(trace) - 1} "
                       f"step{'s' if len(trace) != 2 else ''}; step numbers link to the "
                       "action in the source.</p>")
            out.append(_LEGEND)
            out.append('<div class="chart">' + sequence_svg(
                chart, f"msc{n}", v.get("failing_step"), links) + "</div>")
            out.append("<details><summary>full state at each step</summary>")
            keys = list(trace[-1].get("state", {}))
            rows = [[str(it["step"])] + [_E(str(it.get("state", {}).get(k, "")))
                                         for k in keys] for it in trace]
            out.append(_table(["step"] + keys, rows))
            out.append("</details>")
        elif v.get("failing_step"):
            fs = v["failing_step"]
            out.append(f"<p>the initial state fails: {_E(fs.get('actor', ''))}</p>")
        out.append("</div>")
    out.append("</section>")
    return "".join(out)


def _state_table(pre: dict, post: dict | None = None) -> str:
    keys = list(pre) + [k for k in (post or {}) if k not in pre]
    if post is None:
        return _table(["variable", "value"], [(_E(k), _E(str(pre[k]))) for k in keys])
    rows = []
    for k in keys:
        a, b = str(pre.get(k, "")), str(post.get(k, ""))
        cell = f"<b>{_E(b)}</b>" if a != b else _E(b)
        rows.append((_E(k), _E(a), cell))
    return _table(["variable", "before", "after"], rows)


def _prove_section(spec, doc: dict, result: RunResult) -> str:
    out = ['<section id="prove"><h2>Proofs</h2>']
    rows = []
    for r in doc.get("results", ()):
        p = next((x for x in spec.properties if x.name == r["property"]), None) if spec else None
        name = _E(r["property"])
        if p is not None and p.span is not None:
            name = f'<a href="#src-L{p.span.line}">{name}</a>'
        rows.append((name, _badge(r.get("status", "?")), _E(r.get("method") or "-"),
                     _fmt(r.get("k")), _E(", ".join(r.get("using") or ()) or "-"),
                     _fmt(r.get("seconds")), _E(r.get("reason") or "")))
    out.append(_table(["invariant", "status", "method", "k", "using", "seconds", "detail"],
                      rows, numeric=(3, 5)))
    for n, r in enumerate(doc.get("results", ()), 1):
        if not r.get("invariant") and not r.get("counterexample"):
            continue
        cls = "finding" + ("" if r.get("status") == "violated" else " warn")
        out.append(f'<div class="{cls}"><h3>{_E(r["property"])}: {_E(r.get("status", ""))}'
                   "</h3>")
        if r.get("invariant"):
            out.append("<p>Inductive invariant found (it implies the property and every step "
                       "keeps it):</p>")
            out.append(f"<pre>{_E(r['invariant'])}</pre>")
        cex = r.get("counterexample")
        if cex:
            consts = cex.get("constants") or {}
            if consts:
                out.append("<p>with constants " + ", ".join(
                    f"<code>{_E(k)} = {_E(str(v))}</code>" for k, v in consts.items()) + "</p>")
            if cex.get("kind") == "cti":
                out.append(f"<p>Counterexample to induction: the step <code>"
                           f"{_E(str(cex.get('step')))}</code> goes from a state satisfying "
                           f"{_E(', '.join([r['property']] + list(r.get('using') or [])))} to "
                           f"one violating {_E(', '.join(cex.get('broken') or [r['property']]))}"
                           ". (Such a state may be unreachable: a stronger invariant may still "
                           "prove it.)</p>")
                out.append(_state_table(cex.get("pre", {}), cex.get("post", {})))
            else:
                f = next((x for x in result.findings if x.name == r["property"]), None)
                if f and f.trace:
                    chart = trace_chart(f.trace, spec)
                    links = [_anchor(s, spec) for s in (f.step_spans or [])]
                    out.append('<div class="chart">' + sequence_svg(chart, f"prv{n}", None,
                                                                   links) + "</div>")
        out.append("</div>")
    out.append("</section>")
    return "".join(out)


_SERVICE_COLS = ("context", "team", "AIS", "ADS", "ACS", "instability", "cohesion",
                 "coupling", "all_AIS", "all_ADS")


def _metrics_section(spec, doc: dict) -> str:
    out = ['<section id="metrics"><h2>Architecture metrics</h2>']
    s = doc.get("system", {})
    sysrows = [("services N", s.get("N")), ("call edges E", s.get("E")),
               ("SCF", s.get("SCF")), ("SIY", s.get("SIY")), ("ADCS", s.get("ADCS")),
               ("Gini AIS", s.get("gini_AIS")), ("Gini ADS", s.get("gini_ADS")),
               ("cycles", s.get("cycles")), ("longest chain", s.get("longest_chain")),
               ("cohesion", s.get("cohesion")), ("coupling", s.get("coupling")),
               ("async edges", (s.get("async") or {}).get("E")),
               ("all edges", (s.get("all") or {}).get("E"))]
    out.append("<h3>System</h3>")
    out.append(_table(["metric", "value"], [(k, _fmt(v)) for k, v in sysrows], numeric=(1,)))
    sv = doc.get("services", {})
    if sv:
        order = sorted(sv, key=lambda n: (-((sv[n].get("ADS") or 0) + (sv[n].get("AIS") or 0)),
                                          -(sv[n].get("ACS") or 0), n))
        out.append("<h3>Services (worst first)</h3>")
        out.append(_table(["service", *_SERVICE_COLS],
                          [(_E(n), *(_E(_fmt(sv[n].get(c))) for c in _SERVICE_COLS))
                           for n in order], numeric=tuple(range(3, 11))))
    cx = doc.get("contexts", {})
    if cx:
        cols = ("AIS", "ADS", "instability", "cohesion", "coupling")
        out.append("<h3>Bounded contexts</h3>")
        out.append(_table(["context", *cols], [(_E(n), *(_fmt(cx[n].get(c)) for c in cols))
                                               for n in sorted(cx)], numeric=(1, 2, 3, 4, 5)))
    out.append("<h3>Smells</h3>")
    smells = doc.get("smells", ())
    if smells:
        order = {"high": 0, "medium": 1, "low": 2}
        rows = []
        for sm in sorted(smells, key=lambda x: order.get(x.get("severity"), 3)):
            sp = span_of(sm.get("span"))
            where = f'<a href="#src-L{sp.line}">{sp.line}:{sp.column}</a>' if sp else "-"
            rows.append((_badge(sm.get("severity", "?")), f"<code>{_E(sm['code'])}</code>",
                         _E(sm.get("kind", "")), _E(", ".join(sm.get("services", ()))),
                         _E(sm.get("message", "")), where))
        out.append(_table(["severity", "code", "kind", "services", "message", "line"], rows))
    else:
        out.append("<p>No smells.</p>")
    for w in doc.get("warnings", ()):
        sp = span_of(w.get("span"))
        out.append(f"<p>warning <code>{_E(w['code'])}</code>: {_E(w['message'])} "
                   f"{_where(sp, spec)}</p>")
    out.append("</section>")
    return "".join(out)


def _source_section(spec, hits: set[int]) -> str:
    source = getattr(spec, "source", "") or ""
    if not source:
        try:
            with open(spec.file, encoding="utf-8") as fh:
                source = fh.read()
        except OSError:
            return ""
    out = [f'<section id="source"><h2>Source <span class="muted mono">{_E(spec.file)}</span>'
           '</h2><div class="src">']
    for n, line in enumerate(source.splitlines(), 1):
        cls = ' class="hit"' if n in hits else ""
        out.append(f'<div id="src-L{n}"{cls}><span class="ln">{n}</span>{_E(line)}</div>')
    out.append("</div></section>")
    return "".join(out)


def to_html(spec, check_doc: dict | None = None, prove_doc: dict | None = None,
            metrics_doc: dict | None = None, *, title: str | None = None,
            graph: bool = True) -> str:
    """The report of ``spec`` as one self-contained HTML page.

    Give any of the three documents (``check_spec``, ``prove_spec``, ``metrics_document``);
    sections without a document are left out. ``graph=False`` leaves out the architecture
    drawing (no call to Graphviz).
    """
    name = getattr(spec, "name", "spec")
    results = []
    summary = []
    body = []
    hits: set[int] = set()
    if check_doc is not None:
        r = from_check(check_doc, spec)
        results.append(r)
        hits.update(f.span.line for f in r.findings if f.span)
        summary.append(("check", check_doc.get("verdict", "?")))
        body.append(_check_section(spec, check_doc, r))
    if prove_doc is not None:
        r = from_prove(prove_doc, spec)
        results.append(r)
        hits.update(f.span.line for f in r.findings if f.span)
        summary.append(("prove", r.verdict))
        body.append(_prove_section(spec, prove_doc, r))
    if graph:
        svg, drawn = architecture_svg(spec)
        body.append('<section id="architecture"><h2>Architecture</h2>'
                    '<p class="muted">Services grouped by bounded context; synchronous calls '
                    'solid, topics dashed, data stores as cylinders; services with a smell in '
                    f'red.</p><div class="arch-wrap">{svg}</div></section>')
    if metrics_doc is not None:
        r = from_metrics(metrics_doc, spec)
        results.append(r)
        hits.update(f.span.line for f in r.findings if f.span and f.level != "note")
        summary.append(("metrics", "violation" if r.verdict == "violation" else
                        ("warning" if r.findings else "ok")))
        body.append(_metrics_section(spec, metrics_doc))
    body.append(_source_section(spec, hits))
    nav = "".join(f'<a href="#{k}">{label}</a>' for k, label in
                  (("check", "Checking") if check_doc is not None else (None, None),
                   ("prove", "Proofs") if prove_doc is not None else (None, None),
                   ("architecture", "Architecture") if graph else (None, None),
                   ("metrics", "Metrics") if metrics_doc is not None else (None, None),
                   ("source", "Source")) if k)
    badges = "".join(f'<span class="badge {_E(v)}">{_E(c)}: {_E(v)}</span>'
                     for c, v in summary)
    title = title or f"{name}: mscheck report"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_E(title)}</title><style>{_CSS}</style></head><body>"
            f"<header><h1>{_E(name)}</h1><div class=\"file\">{_E(spec.file)}</div>"
            f"<div class=\"summary\">{badges}</div></header><nav>{nav}</nav><main>"
            + "".join(body) + f"</main><script>{_JS}</script></body></html>\n")


def build_report(spec, *, check: bool = True, prove: bool = True, metrics: bool = True,
                 check_options: dict | None = None, prove_options: dict | None = None,
                 graph: bool = True) -> str:
    """Run what the report needs and return the page (what ``mscheck report`` writes).

    ``check`` runs only when the spec has behaviour; ``prove`` only when it has invariants.
    A check the engine cannot run (``Unsupported``) is left out, with its reason shown as an
    inconclusive result.
    """
    from mscheck.engine.compile import Unsupported

    check_doc = prove_doc = metrics_doc = None
    behaviour = any(s.has_behaviour for s in spec.services.values()) or spec.init is not None
    if check and behaviour:
        from mscheck.engine.check import check_spec

        try:
            check_doc = check_spec(spec, **(check_options or {}))
        except Unsupported as exc:
            check_doc = {"version": 1, "command": "check", "system": spec.name,
                         "file": spec.file, "verdict": "inconclusive", "states": 0,
                         "transitions": 0, "depth": 0, "seconds": 0.0, "complete": False,
                         "reason": f"not checked: {exc}", "violations": []}
    if prove and spec.properties_of("invariant"):
        from mscheck.smt import prove_spec

        prove_doc = prove_spec(spec, **(prove_options or {"timeout": 10.0}))
    if metrics:
        from mscheck.report.metrics import metrics_document

        metrics_doc = metrics_document(spec)
    return to_html(spec, check_doc, prove_doc, metrics_doc, graph=graph)
