"""The HTML report: self-contained, every section, and a look in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

import pytest

from mscheck.report.html import build_report, sequence_svg, to_html
from mscheck.report.mermaid import trace_chart


def test_page_is_self_contained_with_every_section(philosophers, boutique):
    spec, doc = philosophers
    from mscheck.report.metrics import metrics_document

    page = to_html(spec, doc, None, metrics_document(spec))
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    for ident in ("check", "architecture", "metrics", "source"):
        assert f'id="{ident}"' in page
    # nothing is fetched: no external scripts, styles, images or fonts
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", page)
    assert "@import" not in page and "url(http" not in page
    assert page.count('<svg class="msc"') == 1
    # the deadlock links to its line in the listing, which exists and is marked
    m = re.search(r'href="#src-L(\d+)">[^<]*philosophers.ms', page)
    assert m and f'id="src-L{m.group(1)}" class="hit"' in page


def test_architecture_falls_back_to_dot_text(philosophers, monkeypatch):
    import mscheck.report.html as H

    monkeypatch.setattr(H.shutil, "which", lambda name: None)
    page = to_html(philosophers[0], graph=True)
    assert "<pre class=\"dot\">digraph" in page


def test_sequence_chart_svg(shop, live, asserting):
    spec, doc = shop
    svg = sequence_svg(trace_chart(doc["violations"][0], spec), "t")
    assert svg.count('class="sync"') == 2 and svg.count('class="async"') == 2
    assert svg.count('class="head"') == 2 and "Client.sent := 1" in svg
    svg = sequence_svg(trace_chart(live[1]["violations"][0], live[0]), "l")
    assert "repeat for ever" in svg
    v = asserting[1]["violations"][0]
    svg = sequence_svg(trace_chart(v, asserting[0]), "a", v["failing_step"])
    assert "then S.inc fails" in svg


def test_proofs_section(breaker_cti, counter_bmc):
    page = to_html(breaker_cti[0], None, breaker_cti[1], None, graph=False)
    assert "Counterexample to induction" in page and "<b>Open</b>" in page
    page = to_html(counter_bmc[0], None, counter_bmc[1], None, graph=False)
    assert "violated" in page and '<svg class="msc"' in page


def test_build_report_runs_everything():
    import mscheck

    from .conftest import HERE

    page = build_report(mscheck.load(str(HERE / "counter.ms")),
                        prove_options={"method": "bmc", "depth": 4, "timeout": 10})
    for ident in ("check", "prove", "architecture", "metrics", "source"):
        assert f'id="{ident}"' in page
    assert "invariant Small is violated" in page


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed")
def test_philosophers_report_renders_in_chromium(tmp_path):
    import mscheck

    from .conftest import PHILOSOPHERS

    page = tmp_path / "philosophers.html"
    page.write_text(build_report(mscheck.load(str(PHILOSOPHERS))), encoding="utf-8")
    shot = tmp_path / "out.png"
    profile = tempfile.mkdtemp(dir=tmp_path)
    proc = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={profile}", f"--screenshot={shot}",
         "--window-size=1400,2000", page.as_uri()],
        capture_output=True, timeout=120)
    assert shot.exists(), proc.stderr.decode(errors="replace")[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000  # a blank page of that size is a few kilobytes
