"""The syntax trees kept between runs (mscheck.lang.cache): a kept tree is the tree the parser
makes, spans included; a changed text, a damaged entry, an entry in a directory others may
write to or a syntax error is parsed again; a run on a kept tree does not import Lark."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import pytest

from mscheck.diagnostics import SpecError
from mscheck.lang import cache
from mscheck.lang.parser import parse as parse_text

SPEC = """system S
const N = 3
service A {
  var x: 0..N = 0
  action up when x < N { x := x + 1 }
}
invariant Small: A.x <= N
"""


@pytest.fixture
def trees(tmp_path, monkeypatch):
    d = tmp_path / "trees"
    monkeypatch.setenv("MSCHECK_CACHE_DIR", str(d))
    return d


def entries(d) -> list[str]:
    return sorted(p for p in os.listdir(d) if p.endswith(".pickle")) if d.exists() else []


def spans(module) -> list:
    """Every span of the tree, in order."""
    out = []

    def walk(x):
        if isinstance(x, tuple):
            for y in x:
                walk(y)
        elif hasattr(x, "__dataclass_fields__"):
            out.append(getattr(x, "span", None))
            for name in x.__dataclass_fields__:
                if name != "span":
                    walk(getattr(x, name))

    walk(module)
    return out


def test_a_kept_tree_is_the_parsed_tree_spans_included(trees):
    first = cache.parse(SPEC, "s.ms")
    assert len(entries(trees)) == 1
    second = cache.parse(SPEC, "s.ms")
    assert second is not first  # read back from the entry
    expected = parse_text(SPEC, "s.ms")
    assert second == expected
    assert spans(second) == spans(expected)
    assert spans(second)[1].file == "s.ms" and len(spans(second)) > 20


def test_the_name_and_the_text_name_an_entry(trees):
    cache.parse(SPEC, "s.ms")
    other = cache.parse(SPEC, "t.ms")
    assert {s.file for s in spans(other) if s is not None} == {"t.ms"}
    changed = cache.parse(SPEC.replace("const N = 3", "const N = 4"), "s.ms")
    assert changed.decls[1].value.value == 4
    assert len(entries(trees)) == 3


def test_an_entry_is_used_only_for_its_own_name_and_text(trees):
    cache.parse(SPEC, "s.ms")
    (name,) = entries(trees)
    # an entry whose text is not the one parsed (as a hash collision would leave it)
    forged = parse_text(SPEC.replace("const N = 3", "const N = 7"), "s.ms")
    with open(trees / name, "wb") as fh:
        pickle.dump((cache.FORMAT, "s.ms", SPEC + " ", forged), fh)
    assert cache.parse(SPEC, "s.ms").decls[1].value.value == 3
    with open(trees / name, "wb") as fh:
        pickle.dump((cache.FORMAT, "s.ms", SPEC, forged), fh)
    assert cache.parse(SPEC, "s.ms").decls[1].value.value == 7  # the same name and text


@pytest.mark.parametrize("content", [b"", b"not a pickle", pickle.dumps(("x", 1)),
                                     pickle.dumps((cache.FORMAT, "s.ms", SPEC, "no tree"))])
def test_a_damaged_entry_is_parsed_again_and_replaced(trees, content):
    cache.parse(SPEC, "s.ms")
    (name,) = entries(trees)
    (trees / name).write_bytes(content)
    assert cache.parse(SPEC, "s.ms") == parse_text(SPEC, "s.ms")
    with open(trees / name, "rb") as fh:
        assert pickle.load(fh)[2] == SPEC


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_directory_others_may_write_to_is_neither_read_nor_written(trees):
    cache.parse(SPEC, "s.ms")
    (name,) = entries(trees)
    forged = parse_text(SPEC.replace("const N = 3", "const N = 7"), "s.ms")
    with open(trees / name, "wb") as fh:
        pickle.dump((cache.FORMAT, "s.ms", SPEC, forged), fh)
    os.chmod(trees / name, 0o666)
    assert cache.parse(SPEC, "s.ms").decls[1].value.value == 3  # the entry is not read
    with open(trees / name, "wb") as fh:  # (it was written again, privately)
        pickle.dump((cache.FORMAT, "s.ms", SPEC, forged), fh)
    assert oct(os.stat(trees / name).st_mode & 0o777) == oct(0o600)
    assert cache.parse(SPEC, "s.ms").decls[1].value.value == 7  # a private entry is read
    os.chmod(trees, 0o777)
    assert cache.parse(SPEC, "s.ms").decls[1].value.value == 3  # not in a shared directory
    with open(trees / name, "rb") as fh:
        assert pickle.load(fh)[3] == forged  # nor written there
    os.unlink(trees / name)
    cache.parse(SPEC, "s.ms")
    assert entries(trees) == []
    os.chmod(trees, 0o700)


def test_an_empty_directory_setting_turns_the_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("MSCHECK_CACHE_DIR", "")
    assert cache.cache_dir() is None
    monkeypatch.delenv("MSCHECK_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == str(tmp_path / "xdg" / "mscheck" / "trees")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == str(tmp_path / "home" / ".cache" / "mscheck" / "trees")


def test_syntax_errors_are_not_kept(trees):
    bad = SPEC.replace("x < N", "x <")
    for _ in range(2):
        with pytest.raises(SpecError) as info:
            cache.parse(bad, "s.ms")
        (d,) = info.value.diagnostics
        assert (d.code, d.span.line, d.span.column) == ("MS100", 5, 27)
    assert entries(trees) == []


def test_the_least_recently_used_entries_go_first(trees, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    texts = [SPEC.replace("const N = 3", f"const N = {n}") for n in range(1, 6)]
    names = []
    for i, text in enumerate(texts[:3]):
        cache.parse(text, "s.ms")
        (new,) = set(entries(trees)) - set(names)
        names.append(new)
        os.utime(trees / new, ns=(i * 10**9, i * 10**9))
    cache.parse(texts[0], "s.ms")  # read: now the most recently used
    cache.parse(texts[3], "s.ms")
    assert len(entries(trees)) == 3 and names[1] not in entries(trees)
    assert names[0] in entries(trees) and names[2] in entries(trees)


def test_a_check_on_a_kept_tree_does_not_import_lark(trees, repo_root):
    code = ("import sys\nfrom mscheck.cli import main\n"
            "code = main(['check', 'specs/classic/two_phase.ms', '--format', 'json'])\n"
            "print(code, 'lark' in sys.modules)\n")
    env = dict(os.environ)
    runs = [subprocess.run([sys.executable, "-c", code], cwd=repo_root, env=env,
                           capture_output=True, text=True, check=True).stdout.split("\n")
            for _ in range(2)]
    # the document, then the exit code and whether Lark was imported
    assert [r[-2] for r in runs] == ["0 True", "0 False"]
    first, second = ([line for line in r if '"states"' in line or '"transitions"' in line]
                     for r in runs)
    assert first == second and first
    assert len(entries(trees)) == 1


def test_entries_are_bounded_in_bytes(trees, monkeypatch):
    texts = [SPEC.replace("const N = 3", f"const N = {n}") for n in range(1, 4)]
    cache.parse(texts[0], "s.ms")
    (first,) = entries(trees)
    size = (trees / first).stat().st_size
    monkeypatch.setattr(cache, "MAX_ENTRY_BYTES", size - 1)  # a tree this large is not kept
    cache.parse(SPEC + "\n# a comment makes the entry larger\n", "s.ms")
    assert entries(trees) == [first]
    monkeypatch.setattr(cache, "MAX_ENTRY_BYTES", 4 << 20)
    monkeypatch.setattr(cache, "MAX_BYTES", 2 * size + 2)  # two entries fit, not three
    os.utime(trees / first, ns=(10**9, 10**9))
    cache.parse(texts[1], "s.ms")
    assert len(entries(trees)) == 2
    cache.parse(texts[2], "s.ms")
    assert len(entries(trees)) == 2 and first not in entries(trees)  # the oldest went
