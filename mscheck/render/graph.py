"""The architecture graph as Graphviz DOT or Mermaid text, and rendered to SVG or PNG.

Views: ``services`` (services, topics and data stores, bounded contexts as clusters),
``contexts`` (the context map), ``components`` (components inside their services) and
``teams`` (services grouped by owning team). Synchronous calls are solid edges; async
traffic is dashed through topic nodes; data stores are cylinders; pen width grows with the
weight; services with a smell are drawn red with a bold border; each team has a colour.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from mscheck.arch.graph import build_graph
from mscheck.arch.smells import detect_smells

__all__ = ["to_dot", "to_mermaid", "render", "DotNotFound", "VIEWS"]

VIEWS = ("services", "contexts", "components", "teams")

_PALETTE = ("#dbeafe", "#dcfce7", "#fef9c3", "#fce7f3", "#ede9fe", "#ffedd5", "#cffafe",
            "#e5e7eb", "#fee2e2", "#d9f99d")


class DotNotFound(RuntimeError):
    """The Graphviz ``dot`` program is not installed (or not on PATH)."""


def _graph(x):
    return x if hasattr(x, "nodes") else build_graph(x)


def _q(s: str) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _penwidth(w) -> str:
    return f"{min(1 + (w - 1) * 0.5, 5):.1f}" if w and w > 1 else "1.0"


def _team_colours(g):
    teams = sorted(d["name"] for _, d in g.nodes(data=True) if d.get("kind") == "team")
    return {t: _PALETTE[i % len(_PALETTE)] for i, t in enumerate(teams)}


def _smelly(g):
    out = set()
    for s in detect_smells(g):
        if s.severity in ("high", "medium"):
            out.update(s.services)
    return out


def to_dot(spec_or_graph, view: str = "services") -> str:
    """DOT source of one view of the architecture.

    >>> import mscheck
    >>> print(to_dot(mscheck.loads('''system S
    ... context A { service a }
    ... service b
    ... a calls b weight 3''', "s.ms")))  # doctest: +ELLIPSIS
    digraph "S" {
    ...
      subgraph "cluster_A" {
        label="A"; style="rounded"; color="#64748b";
        "a" [label="a", shape=box, style="rounded,filled", fillcolor="#ffffff"];
      }
      "b" [label="b", shape=box, style="rounded,filled", fillcolor="#ffffff"];
      "a" -> "b" [penwidth=2.0, label="3"];
    }
    """
    if view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}, not {view!r}")
    g = _graph(spec_or_graph)
    name = g.graph.get("name") or "architecture"
    lines = [f"digraph {_q(name)} {{",
             '  graph [rankdir=LR, fontname="Helvetica", nodesep=0.4, ranksep=0.9, '
             'splines=true, overlap=false];',
             '  node [fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=9, color="#334155"];']
    colours = _team_colours(g)
    smelly = _smelly(g)

    def svc_node(s, indent="  "):
        d = g.nodes[s]
        fill = colours.get(d.get("team"), "#ffffff")
        extra = ', color="#dc2626", penwidth=2.5' if s in smelly else ""
        return (f'{indent}{_q(s)} [label={_q(s)}, shape=box, style="rounded,filled", '
                f'fillcolor="{fill}"{extra}];')

    services = sorted(n for n, d in g.nodes(data=True) if d.get("kind") == "service")
    if view == "contexts":
        if not any(d.get("kind") == "context" for _, d in g.nodes(data=True)):
            lines.append('  "none" [label="no bounded contexts declared", shape=plaintext];')
        for n, d in sorted(g.nodes(data=True)):
            if d.get("kind") == "context":
                lines.append(f'  {_q(n)} [label={_q(d["name"])}, shape=box, style="rounded"];')
        for u, v, d in g.edges(data=True):
            if d["kind"] == "context_map":
                up = ",".join(d["upstream_roles"])
                down = ",".join(d["downstream_roles"])
                label = ", ".join(d["kinds"])
                attrs = [f'label={_q(label)}'] if label else []
                if up:
                    attrs.append(f"taillabel={_q(up)}")
                if down:
                    attrs.append(f"headlabel={_q(down)}")
                if d["symmetric"]:
                    attrs.append("dir=both")
                attrs.append(f"penwidth={_penwidth(d.get('weight'))}")
                lines.append(f"  {_q(u)} -> {_q(v)} [{', '.join(attrs)}];")
        lines.append("}")
        return "\n".join(lines)

    if view == "teams":
        groups = {}
        for s in services:
            groups.setdefault(g.nodes[s].get("team"), []).append(s)
        key = "team"
    else:
        groups = {}
        for s in services:
            groups.setdefault(g.nodes[s].get("context"), []).append(s)
        key = "context"
    extra_in: dict = {}
    if view == "services":
        for n, d in g.nodes(data=True):
            if d.get("kind") in ("topic", "datastore"):
                extra_in.setdefault(d.get("context"), []).append(n)

    def members(group):
        out = []
        for s in groups.get(group, []):
            if view == "components" and g.nodes[s].get("components"):
                out.append(f"    subgraph {_q('cluster_svc_' + s)} {{")
                out.append(f'      label={_q(s)}; style="rounded,filled"; '
                           f'fillcolor="{colours.get(g.nodes[s].get("team"), "#f8fafc")}";')
                for c in g.nodes[s]["components"]:
                    out.append(f'      {_q(s + "." + c)} [label={_q(c)}, shape=box, '
                               f'style="rounded,filled", fillcolor="#ffffff"];')
                out.append("    }")
            else:
                out.append(svc_node(s, "    "))
        for n in sorted(extra_in.get(group, []) if key == "context" else []):
            out.append("    " + _extra_node(g, n))
        return out

    group_names = sorted(set(groups) | (set(extra_in) if key == "context" else set()),
                         key=lambda x: (x is None, x or ""))
    for grp in group_names:
        body = members(grp)
        if grp is None:
            lines.extend(x[2:] for x in body)
            continue
        lines.append(f"  subgraph {_q('cluster_' + grp)} {{")
        lines.append(f'    label={_q(grp)}; style="rounded"; color="#64748b";')
        lines.extend(body)
        lines.append("  }")
    drawn = set()
    for u, v, d in g.edges(data=True):
        k = d["kind"]
        attrs = []
        if k == "calls":
            if view == "components":
                if d.get("component"):
                    pass
                elif d.get("source_component") or d.get("target_component"):
                    continue
                elif g.nodes[u].get("components") or g.nodes[v].get("components"):
                    pass
            elif d.get("component"):
                continue
            if d.get("weight", 1) > 1:
                attrs = [f"penwidth={_penwidth(d['weight'])}", f'label="{d["weight"]}"']
            if u in smelly and v in smelly and view != "components":
                attrs.append('color="#dc2626"')
        elif k in ("publishes", "subscribes") and view == "services":
            attrs = ['style=dashed']
        elif k in ("reads", "writes") and view == "services":
            attrs = ['style=dotted', f'arrowhead={"normal" if k == "writes" else "normal"}']
        elif k == "channel":
            attrs = ['style=dashed', 'color="#9333ea"', f'label={_q(d["channel"])}']
        else:
            continue
        uu, vv = u, v
        if view == "components" and k == "calls" and not d.get("component"):
            # a service-level call between services drawn as clusters: use the first component
            if g.nodes[u].get("components"):
                uu = f"{u}.{g.nodes[u]['components'][0]}"
                attrs.append(f"ltail={_q('cluster_svc_' + u)}")
            if g.nodes[v].get("components"):
                vv = f"{v}.{g.nodes[v]['components'][0]}"
                attrs.append(f"lhead={_q('cluster_svc_' + v)}")
        sig = (uu, vv, k, tuple(attrs))
        if sig in drawn:
            continue
        drawn.add(sig)
        a = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {_q(uu)} -> {_q(vv)}{a};")
    if view == "components":
        lines.insert(1, "  compound=true;")
    lines.append("}")
    return "\n".join(lines)


def _extra_node(g, n):
    d = g.nodes[n]
    if d["kind"] == "datastore":
        return (f'{_q(n)} [label={_q(d["name"])}, shape=cylinder, style=filled, '
                f'fillcolor="#f1f5f9"];')
    return f'{_q(n)} [label={_q(d["name"])}, shape=parallelogram, style=filled, fillcolor="#fefce8"];'


def _mid(s: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in s)


def to_mermaid(spec_or_graph, view: str = "services") -> str:
    """Mermaid ``flowchart`` text of the services view (contexts as subgraphs) or, with
    ``view="contexts"``, of the context map.

    As in :func:`to_dot`: a call with a weight above 1 carries it as its label and is drawn
    wider (``linkStyle``), services take their team's colour, and services in a high or
    medium smell (and the calls between them) are outlined in red.

    >>> import mscheck
    >>> print(to_mermaid(mscheck.loads('''system S
    ... context A { service a }
    ... service b
    ... a calls b''', "s.ms")))
    flowchart LR
      subgraph A["A"]
        a["a"]
      end
      b["b"]
      a --> b
    """
    if view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}, not {view!r}")
    g = _graph(spec_or_graph)
    lines = ["flowchart LR"]
    if view == "contexts":
        if not any(d.get("kind") == "context" for _, d in g.nodes(data=True)):
            lines.append('  none["no bounded contexts declared"]')
        for n, d in sorted(g.nodes(data=True)):
            if d.get("kind") == "context":
                lines.append(f'  {_mid(n)}["{d["name"]}"]')
        for u, v, d in g.edges(data=True):
            if d["kind"] == "context_map":
                label = ", ".join((*d["kinds"], *d["upstream_roles"], *d["downstream_roles"]))
                arrow = "<-->" if d["symmetric"] else "-->"
                lines.append(f"  {_mid(u)} {arrow}|{label}| {_mid(v)}" if label
                             else f"  {_mid(u)} {arrow} {_mid(v)}")
        return "\n".join(lines)
    groups: dict = {}
    for n, d in sorted(g.nodes(data=True)):
        if d.get("kind") in ("service", "topic", "datastore"):
            key = d.get("team") if view == "teams" else d.get("context")
            if view == "teams" and d["kind"] != "service":
                key = None
            groups.setdefault(key, []).append(n)

    def node(n):
        d = g.nodes[n]
        if d["kind"] == "datastore":
            return f'{_mid(n)}[("{d["name"]}")]'
        if d["kind"] == "topic":
            return f'{_mid(n)}[/"{d["name"]}"/]'
        return f'{_mid(n)}["{d["name"]}"]'

    for grp in sorted(groups, key=lambda x: (x is None, x or "")):
        if grp is None:
            lines.extend(f"  {node(n)}" for n in groups[grp])
        else:
            lines.append(f'  subgraph {_mid(grp)}["{grp}"]')
            lines.extend(f"    {node(n)}" for n in groups[grp])
            lines.append("  end")
    smelly = _smelly(g)
    colours = _team_colours(g)
    links = 0
    styles: dict[str, list[int]] = {}
    for u, v, d in g.edges(data=True):
        k = d["kind"]
        if k == "calls" and not d.get("component"):
            w = d.get("weight", 1)
            label = f"|{w}|" if w > 1 else ""
            lines.append(f"  {_mid(u)} -->{label} {_mid(v)}")
            style = []
            if w > 1:
                style.append(f"stroke-width:{_penwidth(w)}px")
            if u in smelly and v in smelly:
                style.append("stroke:#dc2626")
            if style:
                styles.setdefault(",".join(style), []).append(links)
            links += 1
        elif k in ("publishes", "subscribes", "reads", "writes"):
            lines.append(f"  {_mid(u)} -.-> {_mid(v)}")
            links += 1
    for style, idx in sorted(styles.items(), key=lambda kv: kv[1]):
        lines.append(f"  linkStyle {','.join(map(str, idx))} {style}")
    services = sorted(n for n, d in g.nodes(data=True) if d.get("kind") == "service")
    for n in services:
        fill = colours.get(g.nodes[n].get("team"))
        if fill:
            lines.append(f"  style {_mid(n)} fill:{fill}")
    hot = [n for n in services if n in smelly]
    if hot:
        lines.append("  classDef smell stroke:#dc2626,stroke-width:2.5px")
        lines.append(f"  class {','.join(_mid(n) for n in hot)} smell")
    return "\n".join(lines)


def render(dot_source: str, path: str | Path, timeout: float = 60) -> Path:
    """Render DOT source to ``path``; the format comes from its suffix (.svg, .png, .pdf).

    Raises :class:`DotNotFound` when Graphviz ``dot`` is not installed, ``ValueError`` for
    another suffix and ``RuntimeError`` when ``dot`` fails or takes over ``timeout``
    seconds.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(f"cannot render to '.{fmt}': use .svg, .png or .pdf")
    exe = shutil.which("dot")
    if exe is None:
        raise DotNotFound("Graphviz 'dot' was not found on PATH; install Graphviz "
                          "(e.g. apt-get install graphviz) or write .dot / .mmd output")
    try:
        proc = subprocess.run([exe, f"-T{fmt}", "-o", str(path)], input=dot_source.encode(),
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"dot took over {timeout:g} s to lay the graph out; write the DOT "
                           "text ('-o graph.dot') to draw it apart, or draw a smaller view "
                           "(--view)") from None
    if proc.returncode != 0:
        raise RuntimeError(f"dot failed: {proc.stderr.decode(errors='replace').strip()}")
    return path
