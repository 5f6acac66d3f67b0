"""DOT and Mermaid output, and rendering through the system ``dot``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import mscheck
from mscheck.render.graph import DotNotFound, render, to_dot, to_mermaid, VIEWS

OB = Path(__file__).resolve().parents[2] / "specs" / "architectures" / "online_boutique.ms"


def test_dot_views_of_online_boutique():
    spec = mscheck.load(str(OB))
    dot = to_dot(spec)
    assert dot.count(" -> ") == 14 + 4  # calls, plus data edges
    assert dot.count("subgraph") == 7 and "shape=cylinder" in dot
    ctx = to_dot(spec, "contexts")
    assert ctx.count(" -> ") == 10 and 'taillabel="OHS,PL"' in ctx
    assert to_dot(spec, "teams").count("subgraph") == 6
    assert "compound=true" in to_dot(spec, "components")
    with pytest.raises(ValueError):
        to_dot(spec, "nope")


def test_mermaid():
    spec = mscheck.load(str(OB))
    mm = to_mermaid(spec)
    assert mm.startswith("flowchart LR") and mm.count(" --> ") == 14
    assert to_mermaid(spec, "contexts").count("-->") == 10


def test_mermaid_weights_smells_and_teams():
    spec = mscheck.loads('''system S
context A { service a { component X } service c { component Z } }
context B { service b { component Y } }
team T owns a
team U owns b
a calls b weight 3
b calls a
a calls c weight 2
''', "s.ms")
    mm = to_mermaid(spec).splitlines()
    assert mm[8:] == [
        "  a -->|3| b",
        "  a -->|2| c",
        "  b --> a",
        "  linkStyle 0 stroke-width:2.0px,stroke:#dc2626",
        "  linkStyle 1 stroke-width:1.5px",
        "  linkStyle 2 stroke:#dc2626",
        "  style a fill:#dbeafe",
        "  style b fill:#dcfce7",
        "  classDef smell stroke:#dc2626,stroke-width:2.5px",
        "  class a,b smell",
    ]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")
@pytest.mark.parametrize("view", VIEWS)
def test_render_png_and_svg(tmp_path, view):
    spec = mscheck.load(str(OB))
    png = render(to_dot(spec, view), tmp_path / "g.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = render(to_dot(spec, view), tmp_path / "g.svg")
    assert "<svg" in svg.read_text()


def test_render_without_dot(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(DotNotFound):
        render("digraph {}", tmp_path / "g.svg")
    with pytest.raises(ValueError):
        render("digraph {}", tmp_path / "g.gif")


def test_contexts_view_without_contexts_says_so():
    spec = mscheck.loads("system S\nservice a\nservice b\na calls b\n", "s.ms")
    assert to_mermaid(spec, "contexts") == 'flowchart LR\n  none["no bounded contexts declared"]'
    assert '"none" [label="no bounded contexts declared", shape=plaintext];' in to_dot(
        spec, "contexts")
