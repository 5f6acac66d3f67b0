"""Reading a spec file: size, encoding and content checks before any parsing (no Lark here,
so a run that finds the file's tree kept (:mod:`mscheck.lang.cache`) never imports it)."""

from __future__ import annotations

import os

from mscheck.diagnostics import Diagnostic, Span, SpecError

__all__ = ["read_source", "MAX_BYTES"]

#: Largest file accepted.
MAX_BYTES = 64 * 1024 * 1024


def read_source(path: str) -> str:
    """Read a spec file as UTF-8 text, or raise :class:`SpecError` (MS001/MS002)."""

    def fail(msg: str, code: str = "MS001") -> SpecError:
        return SpecError([Diagnostic(code, msg, Span(path, 1, 1) if code == "MS002" else None)])

    if not os.path.exists(path):
        raise fail(f"{path}: no such file")
    if os.path.isdir(path):
        raise fail(f"{path}: is a directory, not a .ms file")
    try:
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            raise fail(f"{path}: file is {size} bytes; the limit is {MAX_BYTES}", "MS002")
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise fail(f"{path}: cannot read: {exc.strerror or exc}") from None
    if b"\x00" in data:
        raise fail(f"{path}: is a binary file (it contains NUL bytes), not a .ms spec")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise fail(f"{path}: is not UTF-8 text (invalid byte 0x{data[exc.start]:02x} on line {line})")
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise fail(f"{path}: is empty; a spec needs at least one declaration")
    return text
