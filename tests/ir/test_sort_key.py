"""The order of values in sets, bags and choices (``_sort_key``): by type name, then text;
the text of a structured value is remembered for the object itself, never for another."""

from __future__ import annotations

from mscheck.ir import evaluate as E
from mscheck.ir.evaluate import MsgVal, _sort_key, _sort_key_any


class Counted:
    """A value that counts how often its text is asked for."""

    calls = 0

    def __init__(self, n: int):
        self.n = n

    def __repr__(self):
        Counted.calls += 1
        return f"Counted({self.n})"


def test_keys_are_type_name_then_text():
    m = MsgVal("Prepared", ("r1",))
    assert _sort_key(m) == ("MsgVal", repr(m))
    assert _sort_key("a") == ("str", "'a'")
    assert _sort_key(True) == ("bool", "True")
    assert _sort_key_any(3) == ("", 3)
    assert sorted([MsgVal("B"), MsgVal("A", (2,)), MsgVal("A", (1,))], key=_sort_key) == \
        [MsgVal("A", (1,)), MsgVal("A", (2,)), MsgVal("B")]


def test_the_text_of_one_object_is_made_once():
    v = Counted(1)
    Counted.calls = 0
    for _ in range(5):
        assert _sort_key(v) == ("Counted", "Counted(1)")
    assert Counted.calls == 1
    w = Counted(1)  # an equal-looking value, another object: its own text
    assert _sort_key(w) == ("Counted", "Counted(1)") and Counted.calls == 2


def test_short_lived_values_never_get_another_values_key():
    # each value dies after use; a new one may take its address, but not its remembered key
    for i in range(3 * E._KEYED):
        v = MsgVal("M", (i,)) if i % 2 else frozenset({i})
        assert _sort_key(v) == (type(v).__name__, repr(v))
    assert len(E._KEYS) <= E._KEYED
