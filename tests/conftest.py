"""Shared fixtures: running the real ``mscheck`` command from the repository root."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# the syntax trees kept between runs (mscheck.lang.cache) go to a directory of this test
# run, shared by its fresh interpreters: the user's own cache is neither read nor filled
os.environ["MSCHECK_CACHE_DIR"] = tempfile.mkdtemp(prefix="mscheck-trees-")
atexit.register(shutil.rmtree, os.environ["MSCHECK_CACHE_DIR"], ignore_errors=True)


def run_mscheck(*args: str, cwd: Path = REPO, timeout: float = 120,
                stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """``python -m mscheck ARGS`` in a fresh interpreter; text output, never raises."""
    env = dict(os.environ)
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run(
        [sys.executable, "-m", "mscheck", *args], cwd=cwd, capture_output=True, text=True,
        timeout=timeout, env=env, input=stdin.decode() if stdin is not None else None,
    )


@pytest.fixture
def mscheck_cli():
    """Run the command line as a user would; returns a CompletedProcess."""
    return run_mscheck


@pytest.fixture
def repo_root() -> Path:
    return REPO


def fresh_check(path: str, fields: list[str], module: str, **options) -> list[str]:
    """``check_spec`` of the spec at ``path`` (with keyword ``options``) in a fresh
    interpreter: the document's ``fields``, then whether ``module`` was imported, as text."""
    code = ("import sys, mscheck\n"
            "from mscheck.engine.check import check_spec\n"
            f"d = check_spec(mscheck.load({path!r}), **{options!r})\n"
            f"print(*[d[f] for f in {fields!r}], {module!r} in sys.modules)\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.split()


@pytest.fixture
def check_in_fresh_interpreter():
    """:func:`fresh_check`: what a run imports, seen from a clean interpreter."""
    return fresh_check
