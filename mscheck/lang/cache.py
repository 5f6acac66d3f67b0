"""Syntax trees kept between runs: a spec that has not changed since an earlier run is not
parsed again.

Importing Lark, making its parser (loading its tables, building the contextual lexer's
scanners) and parsing take 0.07-0.14 s of a run of ``mscheck check`` (and about 5 MiB of
its peak); reading a kept tree takes about a millisecond, and Lark is then not
imported at all. ``--const`` values, which are parsed as one-line specs, are kept too.

An entry is a pickle of the file name, the whole text and its tree (:class:`ast.Module`),
named by a hash of those and of the parser's own code (the grammar, the tree building, the
node classes), so a changed parser never reads an older tree. An entry is used only when
its name and text equal the ones parsed. Only trees are kept, never errors: a file with a
syntax error is parsed, and reported, every time.

The entries go to ``$MSCHECK_CACHE_DIR``, else ``$XDG_CACHE_HOME/mscheck/trees``, else
``~/.cache/mscheck/trees``; ``MSCHECK_CACHE_DIR`` set to an empty string turns the cache
off. The directory is made private; one that another user owns, or that others may write
to, is neither read nor written (an entry is a pickle). At most ``MAX_ENTRIES`` entries of
``MAX_BYTES`` in all are kept, the least recently used going first; a tree whose entry
would take more than ``MAX_ENTRY_BYTES`` is not kept. Any failure to read or write an entry
falls back to parsing, silently."""

from __future__ import annotations

import os
import pickle
import stat
import sys

from mscheck.lang import ast

__all__ = ["parse", "cache_dir", "MAX_ENTRIES", "MAX_BYTES", "MAX_ENTRY_BYTES"]

#: Entries kept at most (a spec's tree takes 10-100 KiB)...
MAX_ENTRIES = 256
#: ...and bytes in all...
MAX_BYTES = 64 << 20
#: ...and in one entry.
MAX_ENTRY_BYTES = 4 << 20
#: The layout of an entry; part of every entry's name.
FORMAT = 1
# the files whose code decides the tree a text parses to
_CODE = ("grammar.lark", "parser.py", "ast.py", "../diagnostics.py", "../_frozen.py")
_code_tag: bytes | None = None


def cache_dir() -> str | None:
    """The directory of the entries, or None when the cache is off."""
    env = os.environ.get("MSCHECK_CACHE_DIR")
    if env is not None:
        return env or None
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # unset, or relative: not to be used
        base = os.path.join(os.path.expanduser("~"), ".cache")
        if not os.path.isabs(base):  # no home directory
            return None
    return os.path.join(base, "mscheck", "trees")


def _tag() -> bytes:
    """A digest of the parser's code and of this interpreter's version."""
    global _code_tag
    if _code_tag is None:
        from hashlib import blake2b

        h = blake2b(f"{FORMAT} {sys.version_info[:2]}".encode(), digest_size=16)
        here = os.path.dirname(os.path.abspath(__file__))
        for name in _CODE:
            with open(os.path.join(here, name), "rb") as fh:
                h.update(fh.read())
        _code_tag = h.digest()
    return _code_tag


def _private(path: str | int) -> bool:
    """Whether ``path`` (or the open file ``path``) is this user's own and nobody else may
    write to it."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    owner = os.getuid() if hasattr(os, "getuid") else st.st_uid
    return st.st_uid == owner and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _entry(directory: str, text: str, filename: str) -> str:
    from hashlib import blake2b

    h = blake2b(_tag(), digest_size=20)
    h.update(filename.encode("utf-8", "surrogatepass"))
    h.update(b"\0")
    h.update(text.encode("utf-8", "surrogatepass"))
    return os.path.join(directory, h.hexdigest() + ".pickle")


def _read(directory: str, path: str, text: str, filename: str) -> ast.Module | None:
    try:
        if not _private(directory):
            return None
        with open(path, "rb") as fh:
            if not _private(fh.fileno()):  # the file opened, not one put in its place since
                return None
            got = pickle.load(fh)
        if (type(got) is tuple and len(got) == 4 and got[0] == FORMAT and got[1] == filename
                and got[2] == text and isinstance(got[3], ast.Module)):
            try:
                os.utime(path)  # recently used
            except OSError:
                pass
            return got[3]
    except Exception:  # noqa: BLE001 - a damaged or foreign entry: parse instead
        pass
    return None


def _write(directory: str, path: str, text: str, filename: str, module: ast.Module) -> None:
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        if not _private(directory):
            return
        data = pickle.dumps((FORMAT, filename, text, module), protocol=pickle.HIGHEST_PROTOCOL)
        if len(data) > MAX_ENTRY_BYTES:
            return
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        _prune(directory)
    except Exception:  # noqa: BLE001 - no room, no rights, a tree that does not pickle
        pass


def _prune(directory: str) -> None:
    """Remove the least recently used entries past ``MAX_ENTRIES`` or ``MAX_BYTES``."""
    entries = []
    with os.scandir(directory) as it:
        for e in it:
            if e.name.endswith(".pickle"):
                try:
                    st = e.stat()
                except OSError:
                    continue
                entries.append((st.st_mtime_ns, st.st_size, e.path))
    entries.sort(reverse=True)  # the most recently used first
    kept = total = 0
    for _, size, path in entries:
        kept += 1
        total += size
        if kept > MAX_ENTRIES or total > MAX_BYTES:
            try:
                os.unlink(path)
            except OSError:
                pass


def parse(text: str, filename: str = "<string>") -> ast.Module:
    """:func:`mscheck.lang.parser.parse`, through the kept trees."""
    directory = cache_dir()
    path = None
    if directory is not None:
        try:
            path = _entry(directory, text, filename)
        except Exception:  # noqa: BLE001 - the parser's files unreadable: no cache
            path = None
        if path is not None:
            got = _read(directory, path, text, filename)
            if got is not None:
                return got
    from mscheck.lang.parser import parse as parse_text

    module = parse_text(text, filename)
    if path is not None:
        _write(directory, path, text, filename, module)
    return module
