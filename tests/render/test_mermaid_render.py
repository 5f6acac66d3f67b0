"""Mermaid output drawn by the real Mermaid library in a headless Chromium.

Two kinds of Mermaid text are checked: the ``sequenceDiagram`` of every counterexample that
``mscheck check --format mermaid`` prints for the specs under ``specs/``, and the flowchart
``mscheck graph --format mmd`` writes for every spec in each view. All diagrams go into one
self-contained HTML page (Mermaid inlined, nothing loaded from the network) that runs
``mermaid.parse`` and ``mermaid.render`` on each and writes a JSON summary into the page;
Chromium prints the page with ``--dump-dom`` and the tests read the summary back.

Needs a Chromium (``MSCHECK_CHROMIUM``, or ``chromium`` / ``chromium-browser`` on PATH) and
a ``mermaid.min.js`` (``MSCHECK_MERMAID_JS``, or ``.cache/mermaid`` in the repository, filled
with ``npm install mermaid`` there); the tests skip without them.
"""

from __future__ import annotations

import glob
import html
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import mscheck
from mscheck.arch.graph import build_graph
from mscheck.engine.check import check_spec
from mscheck.engine.compile import Unsupported
from mscheck.engine.search import Limits
from mscheck.render.graph import VIEWS, to_mermaid
from mscheck.report.mermaid import trace_to_mermaid

REPO = Path(__file__).resolve().parents[2]
SPECS = sorted(glob.glob(str(REPO / "specs" / "*" / "*.ms")))
CHECK_TIMEOUT = 10.0  # seconds per spec; a check that needs longer is left out
CHROMIUM_TIMEOUT = 180.0  # seconds for the whole Chromium run

# ------------------------------------------------------------------ harness


def find_mermaid_js() -> Path | None:
    """``mermaid.min.js``: $MSCHECK_MERMAID_JS, else the copy under ``<repo>/.cache/mermaid``."""
    env = os.environ.get("MSCHECK_MERMAID_JS")
    candidates = [Path(env)] if env else []
    candidates.append(REPO / ".cache" / "mermaid" / "node_modules" / "mermaid" / "dist"
                      / "mermaid.min.js")
    return next((p for p in candidates if p.is_file()), None)


def find_chromium() -> str | None:
    env = os.environ.get("MSCHECK_CHROMIUM")
    if env:
        return env if Path(env).is_file() or shutil.which(env) else None
    for name in ("chromium", "chromium-browser"):
        exe = shutil.which(name)
        if exe:
            return exe
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>mermaid check</title></head>
<body>
<pre id="result"></pre>
<div id="work"></div>
<script type="application/json" id="diagrams">%(diagrams)s</script>
<script>window.__loadError = null;
window.addEventListener("error", e => { window.__loadError = String(e.message || e); });
</script>
<script>%(mermaid)s</script>
<script>
(async () => {
  const out = document.getElementById("result");
  const finish = (value) => {
    out.textContent = JSON.stringify(value);
    out.setAttribute("data-done", "1");
    // keep the dumped DOM small: drop the inlined library and the inputs
    document.querySelectorAll("script").forEach(s => s.remove());
  };
  try {
    if (typeof mermaid === "undefined") {
      finish({fatal: "mermaid did not load: " + window.__loadError});
      return;
    }
    mermaid.initialize({startOnLoad: false, suppressErrorRendering: true});
    const diagrams = JSON.parse(document.getElementById("diagrams").textContent);
    const results = [];
    for (let i = 0; i < diagrams.length; i++) {
      const r = {index: i, ok: false, stage: "parse", error: null};
      try {
        await mermaid.parse(diagrams[i]);
        r.stage = "render";
        const {svg} = await mermaid.render("mmd" + i, diagrams[i]);
        r.stage = "inspect";
        const host = document.createElement("div");
        host.innerHTML = svg;
        document.getElementById("work").appendChild(host);
        const root = host.querySelector("svg");
        const all = (sel) => Array.from(root.querySelectorAll(sel));
        const texts = (sel) => all(sel).map(e => e.textContent.replace(/\\s+/g, " ").trim());
        const box = root.getBBox();
        Object.assign(r, {
          svg: svg,
          diagram_type: root.getAttribute("aria-roledescription"),
          width: box.width, height: box.height,
          text_elements: all("text").length,
          // sequence diagrams
          actors: texts("text.actor"),
          messages: texts("text.messageText"),
          message_lines: all("[class^='messageLine']").length,
          notes: all("rect.note").length,
          note_texts: texts("text.noteText"),
          loops: texts("text.loopText"),
          // a sequence diagram's title is a bare <text> right under the <svg>
          title: texts(":scope > text:not([class])"),
          // flowcharts
          nodes: all("g.node").map(g => g.textContent.replace(/\\s+/g, " ").trim()),
          clusters: all("g.cluster").map(g => g.textContent.replace(/\\s+/g, " ").trim()),
          edges: all("path.flowchart-link").length,
          edge_labels: texts("g.edgeLabel").filter(t => t),
        });
        host.remove();
        r.ok = true;
      } catch (e) {
        r.error = String((e && (e.message || e.str)) || e);
      }
      results.push(r);
    }
    finish({results: results});
  } catch (e) {
    finish({fatal: String((e && e.stack) || e)});
  }
})();
</script>
</body></html>
"""


def build_page(mermaid_js: str, diagrams: list[str]) -> str:
    """The self-contained page: the diagrams as JSON data, Mermaid inlined."""
    data = json.dumps(diagrams).replace("</", "<\\/")
    lib = re.sub(r"</(script)", r"<\\/\1", mermaid_js, flags=re.IGNORECASE)
    return _PAGE % {"diagrams": data, "mermaid": lib}


class RenderError(RuntimeError):
    pass


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def render_in_chromium(diagrams: list[str], *, chromium: str, mermaid_js: Path,
                       timeout: float = CHROMIUM_TIMEOUT) -> list[dict]:
    """Parse and render every diagram in one Chromium run; one result dict per diagram
    (``ok``, ``stage``, ``error`` and, when drawn, what the SVG holds)."""
    with tempfile.TemporaryDirectory(prefix="mscheck-mermaid-") as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(build_page(mermaid_js.read_text(encoding="utf-8"), diagrams),
                        encoding="utf-8")
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-extensions",
               f"--user-data-dir={Path(tmp) / 'profile'}",
               "--virtual-time-budget=600000", "--run-all-compositor-stages-before-draw",
               "--dump-dom", page.as_uri()]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.communicate()
            raise RenderError(f"Chromium did not finish within {timeout:.0f} s") from None
        _kill_group(proc.pid)  # helpers of this Chromium that outlived it, if any
    dom = out.decode("utf-8", errors="replace")
    m = re.search(r'<pre id="result"[^>]*>(.*?)</pre>', dom, re.DOTALL)
    tail = err.decode("utf-8", errors="replace")[-3000:]
    if not m or 'data-done="1"' not in dom[m.start():m.start() + 60]:
        raise RenderError(f"the page did not finish (Chromium exit {proc.returncode}); "
                          f"stderr:\n{tail}")
    doc = json.loads(html.unescape(m.group(1)))
    if "fatal" in doc:
        raise RenderError(f"the page failed: {doc['fatal']}\nChromium stderr:\n{tail}")
    results = doc["results"]
    if len(results) != len(diagrams):
        raise RenderError(f"{len(results)} results for {len(diagrams)} diagrams")
    return results


def describe(name: str, text: str, result: dict) -> str:
    """A failure as a reader needs it: which diagram, Mermaid's error, the text."""
    numbered = "\n".join(f"{i:4}| {line}" for i, line in enumerate(text.splitlines(), 1))
    return (f"--- {name}: failed at {result.get('stage')}: {result.get('error')}\n"
            f"{numbered}")


# ------------------------------------------------------------------ the diagrams

BROKEN = {
    "broken/sequence": "sequenceDiagram\n  participant A\n  A->>: no receiver\n  end\n",
    "broken/flowchart": 'flowchart LR\n  a["unclosed --> b\n  b --> c]]\n',
}


def _violation_traces() -> dict[str, dict]:
    """``check --format mermaid`` of every spec with a violation, one diagram per violation
    (the command's defaults: breadth-first, faults on, deadlocks reported)."""
    cases = {}
    for path in SPECS:
        spec = mscheck.load(path)
        try:
            doc = check_spec(spec, limits=Limits(timeout=CHECK_TIMEOUT))
        except Unsupported:
            continue
        rel = Path(path).relative_to(REPO / "specs").with_suffix("").as_posix()
        for k, v in enumerate(doc.get("violations", [])):
            cases[f"trace/{rel}/{k}"] = {"text": trace_to_mermaid(v, spec), "violation": v,
                                         "spec": spec}
    return cases


def _graphs() -> dict[str, dict]:
    cases = {}
    for path in SPECS:
        spec = mscheck.load(path)
        rel = Path(path).relative_to(REPO / "specs").with_suffix("").as_posix()
        for view in VIEWS:
            cases[f"graph/{rel}/{view}"] = {"text": to_mermaid(spec, view=view), "spec": spec,
                                            "view": view}
    return cases


@pytest.fixture(scope="module")
def rendered():
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium found (set MSCHECK_CHROMIUM or put chromium on PATH)")
    js = find_mermaid_js()
    if js is None:
        pytest.skip("no mermaid.min.js found: set MSCHECK_MERMAID_JS, or run 'npm install "
                    "mermaid' in <repo>/.cache/mermaid")
    cases = {**_violation_traces(), **_graphs()}
    cases.update({name: {"text": text} for name, text in BROKEN.items()})
    names = list(cases)
    start = time.monotonic()
    results = render_in_chromium([cases[n]["text"] for n in names], chromium=chromium,
                                 mermaid_js=js)
    for n, r in zip(names, results):
        cases[n]["result"] = r
    cases["_elapsed"] = time.monotonic() - start
    return cases


def _items(rendered, prefix):
    return {k: v for k, v in rendered.items() if k.startswith(prefix)}


# ------------------------------------------------------------------ tests


def test_broken_diagrams_are_rejected(rendered):
    """The control: text Mermaid cannot read must come back as an error, so the other tests
    cannot pass merely because nothing was checked."""
    for name in BROKEN:
        r = rendered[name]["result"]
        assert not r["ok"], f"{name} was accepted:\n{rendered[name]['text']}"
        assert r["stage"] == "parse" and r["error"], r


def test_there_is_something_to_render(rendered):
    traces, graphs = _items(rendered, "trace/"), _items(rendered, "graph/")
    assert "trace/classic/philosophers/0" in traces
    assert len(graphs) == len(SPECS) * len(VIEWS)


def test_every_diagram_parses_and_renders(rendered):
    failures = [describe(name, case["text"], case["result"])
                for name, case in rendered.items()
                if name.startswith(("trace/", "graph/")) and not case["result"]["ok"]]
    assert not failures, (f"Mermaid rejected {len(failures)} diagram(s):\n"
                          + "\n".join(failures))


def _ok(case):
    r = case["result"]
    if not r["ok"]:
        pytest.fail(describe("diagram", case["text"], r))
    return r


def _count(text: str, pattern: str) -> int:
    return sum(1 for line in text.splitlines() if re.match(pattern, line))


_ARROW = r"\s*\w+(-->>|->>|--x|-x)\w+: "


def test_sequence_diagrams_draw_every_participant_message_and_note(rendered):
    traces = _items(rendered, "trace/")
    assert traces
    for name, case in traces.items():
        r, text = _ok(case), case["text"]
        assert r["diagram_type"] == "sequence", name
        labels = [html.unescape(m) for m in re.findall(r"^\s*participant \w+ as (.*)$", text,
                                                       re.MULTILINE)]
        # each participant is drawn at the top and again at the bottom
        assert sorted(set(r["actors"])) == sorted(labels), name
        assert len(r["messages"]) == _count(text, _ARROW), name
        assert r["message_lines"] == len(r["messages"]), name
        assert r["notes"] == _count(text, r"\s*Note "), name
        assert len(r["loops"]) == _count(text, r"\s*loop "), name
        assert r["width"] > 0 and r["height"] > 0, name
        # Mermaid's entity codes (#59; #lt; ...) come out as the characters they stand for
        drawn = r["actors"] + r["messages"] + r["note_texts"] + r["title"]
        assert not [t for t in drawn if re.search(r"#(\d+|lt|gt|amp);", t)], name
        title = re.search(r"^\s*title (.*)$", text, re.MULTILINE)
        if title:
            assert len(r["title"]) == 1, name


def test_philosophers_deadlock_trace(rendered):
    case = rendered["trace/classic/philosophers/0"]
    r, v = _ok(case), case["violation"]
    assert v["kind"] == "deadlock"
    steps = [s for s in v["trace"] if s.get("actor")]
    assert len(steps) == 5
    # the five philosophers and the five forks they hold
    for k in range(1, 6):
        assert f"Philosopher[{k}]" in r["actors"]
        assert f"fork[{k}] (channel)" in r["actors"]
        assert f"Philosopher[{k}]" in r["svg"]
    # one arrow per message the trace has, each naming its channel and value
    sent = [(s["step"], m) for s in steps for m in s.get("messages", [])]
    assert len(r["messages"]) == len(sent) == 5
    for (i, m), drawn in zip(sent, r["messages"]):
        assert drawn.startswith(f"{i}. {m['channel']}?{m['message']}"), drawn
    # one note per step, plus the initial state
    assert r["notes"] == len(steps) + 1
    assert any("take_left" in t for t in r["note_texts"])
    assert r["title"] == ["no step is enabled (deadlock)"]


def test_entities_in_a_trace_come_out_as_characters(rendered):
    """``|->`` in a map value is written as ``|-#gt;``; the drawing shows ``|->``."""
    case = rendered["trace/seed/order_events_faults/0"]
    r = _ok(case)
    assert "|-#gt;" in case["text"]
    assert any("|-> " in t for t in r["note_texts"]), r["note_texts"]


def _graph_nodes(text: str) -> list[str]:
    return re.findall(r'^\s*\w+(?:\["|\[\("|\[/")(.*?)(?:"\]|"\)\]|"/\])\s*$', text,
                      re.MULTILINE)


def test_flowcharts_draw_every_node_and_edge(rendered):
    graphs = _items(rendered, "graph/")
    for name, case in graphs.items():
        r, text = _ok(case), case["text"]
        assert r["diagram_type"] == "flowchart-v2", (name, r["diagram_type"])
        labels = _graph_nodes(text)
        assert sorted(r["nodes"]) == sorted(labels), name
        subgraphs = re.findall(r'^\s*subgraph \w+\["(.*)"\]$', text, re.MULTILINE)
        assert sorted(r["clusters"]) == sorted(subgraphs), name
        assert r["edges"] == _count(text, r"\s*\w+ (-->|<-->|-\.->)"), name
        if labels:
            assert r["width"] > 0 and r["height"] > 0, name


def test_online_boutique_services_view(rendered):
    case = rendered["graph/architectures/online_boutique/services"]
    r = _ok(case)
    g = build_graph(case["spec"])
    services = sorted(d["name"] for _, d in g.nodes(data=True) if d.get("kind") == "service")
    assert len(services) == 10
    for s in services:
        assert s in r["nodes"], (s, r["nodes"])
    assert {"products_json", "redis_cart", "currency_rates"} <= set(r["nodes"])
    assert len(r["clusters"]) == 7 and "Shopping" in r["clusters"]
    assert r["edges"] == 14 + 4


def test_online_boutique_context_map(rendered):
    r = _ok(rendered["graph/architectures/online_boutique/contexts"])
    assert len(r["nodes"]) == 7 and "Storefront" in r["nodes"]
    assert r["edges"] == 10
    assert "OHS, PL, CF" in r["edge_labels"]
