"""The allocator settings of a check run: a search's temporaries keep their pages between
batches instead of faulting them in again (glibc)."""

from __future__ import annotations

import platform
import resource
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")

ARGS = ["check", "specs/classic/philosophers6.ms", "--const", "N=9", "--continue",
        "--format", "json"]


def _child_faults(cmd: list[str], cwd) -> int:
    """Minor page faults of one child process running ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt
    subprocess.run(cmd, cwd=cwd, capture_output=True, check=False, timeout=120)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt - before


def test_the_settings_are_taken():
    code = "from mscheck.engine.search import tune_allocator; print(tune_allocator())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["True"]


def test_a_check_run_faults_its_pages_in_once(repo_root):
    """The same run (161,837 states) with the settings and without them: about 8,500
    faults against 15,400 on this spec (the pages of the interpreter and its modules
    are in both)."""
    tuned = _child_faults([sys.executable, "-m", "mscheck", *ARGS], repo_root)
    untuned = _child_faults([sys.executable, "-c",
                             "import sys\n"
                             "from mscheck.engine import search\n"
                             "search.tune_allocator = lambda: False\n"
                             "from mscheck.cli import main\n"
                             "sys.exit(main(sys.argv[1:]))", *ARGS], repo_root)
    assert tuned < 0.7 * untuned, (tuned, untuned)
