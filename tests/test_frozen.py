"""``mscheck._frozen.frozen`` against ``dataclasses.dataclass(frozen=True)``.

Each module whose classes ``@frozen`` makes is executed a second time, under another name, with
the standard decorator in its place; every class of the two copies must then be the same
dataclass: fields, parameters, ``__match_args__``, ``__doc__``, signature, class attributes, and
instances that compare, hash, print, refuse assignment, ``replace``, ``asdict``, pickle and
report wrong arguments alike.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import importlib.util
import inspect
import pickle
import sys

from mscheck import _frozen

MODULES = ("mscheck.diagnostics", "mscheck.lang.ast", "mscheck.ir.nodes")
GENERATED = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__",
             "__lt__", "__le__", "__gt__", "__ge__")


def _standard(cls=None, /, *, order=False):
    """What ``@frozen`` stands for: the standard decorator."""
    if cls is None:
        return lambda c: dataclasses.dataclass(c, frozen=True, order=order)
    return dataclasses.dataclass(cls, frozen=True)


def _reference(name: str):
    """The module ``name`` and a second copy of it made with the standard decorator."""
    module = importlib.import_module(name)
    ref_name = name + "__standard_dataclasses"
    if ref_name in sys.modules:
        return module, sys.modules[ref_name]
    spec = importlib.util.spec_from_file_location(ref_name, module.__file__)
    ref = importlib.util.module_from_spec(spec)
    sys.modules[ref_name] = ref
    saved = _frozen.frozen
    _frozen.frozen = _standard
    try:
        spec.loader.exec_module(ref)
    finally:
        _frozen.frozen = saved
    return module, ref


def _pairs():
    for name in MODULES:
        module, ref = _reference(name)
        classes = [v for v in vars(module).values()
                   if isinstance(v, type) and v.__module__ == name and dataclasses.is_dataclass(v)]
        assert classes, name
        for cls in classes:
            yield cls, getattr(ref, cls.__name__)


def _raises(exc_type, fn, *args, **kwargs):
    """The type and message of the exception ``fn(*args, **kwargs)`` raises (an ``exc_type``)."""
    try:
        fn(*args, **kwargs)
    except exc_type as exc:
        return type(exc), str(exc)
    raise AssertionError(f"{fn} did not raise {exc_type.__name__}")


def _field_data(f: dataclasses.Field):
    return (f.name, f.type, f.default, f.default_factory, f.init, f.repr, f.hash, f.compare,
            dict(f.metadata), f.kw_only, f._field_type)


def _arguments(cls, salt: int = 0):
    """Positional and keyword arguments for every field of ``cls``: distinct hashable values."""
    pos, kw = [], {}
    for i, f in enumerate(dataclasses.fields(cls)):
        value = ("v", i, salt)
        if f.kw_only:
            kw[f.name] = value
        else:
            pos.append(value)
    return pos, kw


def _make(cls, salt: int = 0):
    pos, kw = _arguments(cls, salt)
    return cls(*pos, **kw)


def test_every_class_has_its_methods():
    for name in MODULES:
        module = importlib.import_module(name)
        for v in vars(module).values():
            if isinstance(v, type) and v.__module__ == name and dataclasses.is_dataclass(v):
                for method in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__",
                               "__delattr__"):
                    assert method in vars(v), (v, method)
                if _frozen.SUPPORTED:  # made by @frozen, not handed to the standard decorator
                    assert vars(v)["__eq__"].__code__.co_filename == _frozen.__file__, v


def test_classes_match_the_standard_decorator():
    seen = 0
    for cls, ref in _pairs():
        seen += 1
        assert dataclasses.is_dataclass(cls)
        assert [_field_data(f) for f in dataclasses.fields(cls)] == \
            [_field_data(f) for f in dataclasses.fields(ref)], cls
        assert list(cls.__dataclass_fields__) == list(ref.__dataclass_fields__)
        assert repr(cls.__dataclass_params__) == repr(ref.__dataclass_params__), cls
        assert cls.__match_args__ == ref.__match_args__, cls
        assert cls.__doc__ == ref.__doc__, cls
        assert str(inspect.signature(cls)) == str(inspect.signature(ref)), cls
        # (pickling a class's instances caches ``__slotnames__`` on the class: not made here)
        assert sorted(set(vars(cls)) - {"__slotnames__"}) == \
            sorted(set(vars(ref)) - {"__slotnames__"}), cls
        assert [b.__name__ for b in cls.__mro__] == [b.__name__ for b in ref.__mro__]
        for name, value in vars(ref).items():
            if name in GENERATED:
                mine = vars(cls)[name]
                assert mine.__qualname__ == value.__qualname__, (cls, name)
                assert mine.__name__ == value.__name__
                assert mine.__module__ == cls.__module__
                assert mine.__defaults__ == value.__defaults__, (cls, name)
                assert mine.__kwdefaults__ == value.__kwdefaults__, (cls, name)
                assert mine.__annotations__ == value.__annotations__, (cls, name)
            elif name in cls.__dataclass_fields__:
                assert vars(cls)[name] == value, (cls, name)
        for f in dataclasses.fields(ref):
            assert (f.name in vars(cls)) == (f.name in vars(ref)), (cls, f.name)
    assert seen > 150


def test_instances_match_the_standard_decorator():
    for cls, ref in _pairs():
        a, b = _make(cls), _make(ref)
        assert repr(a) == repr(b)
        assert hash(a) == hash(b)
        assert list(vars(a).items()) == list(vars(b).items())
        assert a == _make(cls) and b == _make(ref)
        assert (a == 1) is False and (a != 1) is True
        assert dataclasses.asdict(a) == dataclasses.asdict(b)
        assert dataclasses.astuple(a) == dataclasses.astuple(b)
        assert pickle.loads(pickle.dumps(a)) == a
        assert copy.deepcopy(a) == a and copy.copy(a) == a
        if cls.__match_args__:
            assert cls.__match_args__ == ref.__match_args__
        for f in dataclasses.fields(cls):
            other = ("changed",)
            a2 = dataclasses.replace(a, **{f.name: other})
            b2 = dataclasses.replace(b, **{f.name: other})
            assert repr(a2) == repr(b2) and list(vars(a2).items()) == list(vars(b2).items())
            assert (a2 == a) == (b2 == b) == (not f.compare), (cls, f.name)
            assert (hash(a2) == hash(a)) == (hash(b2) == hash(b)), (cls, f.name)
            for obj, val in ((a, 1), (b, 1)):
                assert _raises(dataclasses.FrozenInstanceError, setattr, obj, f.name, val)
            assert _raises(dataclasses.FrozenInstanceError, setattr, a, f.name, 1) == \
                _raises(dataclasses.FrozenInstanceError, setattr, b, f.name, 1)
            assert _raises(dataclasses.FrozenInstanceError, delattr, a, f.name) == \
                _raises(dataclasses.FrozenInstanceError, delattr, b, f.name)
        assert _raises(dataclasses.FrozenInstanceError, setattr, a, "extra", 1) == \
            _raises(dataclasses.FrozenInstanceError, setattr, b, "extra", 1)
        assert _raises(TypeError, dataclasses.replace, a, nonexistent=1)[0] is TypeError
        pos, kw = _arguments(cls)
        nan = float("nan")  # equal to itself only where the standard methods compare tuples
        same = ([nan] * len(pos), dict.fromkeys(kw, nan))
        assert (cls(*same[0], **same[1]) == cls(*same[0], **same[1])) == \
            (ref(*same[0], **same[1]) == ref(*same[0], **same[1]))
        if any(f.default is dataclasses.MISSING for f in dataclasses.fields(cls)):
            assert _raises(TypeError, cls) == _raises(TypeError, ref)
        assert _raises(TypeError, cls, *pos, 1, 2, **kw) == \
            _raises(TypeError, ref, *pos, 1, 2, **kw)
        assert _raises(TypeError, cls, *pos, **kw, unknown=1) == \
            _raises(TypeError, ref, *pos, **kw, unknown=1)


def test_order_matches_the_standard_decorator():
    for cls, ref in _pairs():
        if not cls.__dataclass_params__.order:
            continue
        values = [(0, 0), (0, 1), (1, 0)]
        for x in values:
            for y in values:
                a1 = cls("f", *x)
                a2 = cls("f", *y)
                b1 = ref("f", *x)
                b2 = ref("f", *y)
                for op in ("__lt__", "__le__", "__gt__", "__ge__"):
                    assert getattr(a1, op)(a2) == getattr(b1, op)(b2)
        assert sorted([cls("b", 2, 1), cls("a", 3, 1)]) == [cls("a", 3, 1), cls("b", 2, 1)]
        assert cls("f", 1, 1).__lt__(1) is NotImplemented


def test_spans_take_no_part_in_equality():
    from mscheck.diagnostics import Span
    from mscheck.ir import nodes
    from mscheck.ir.types import INT
    from mscheck.lang import ast

    here, there = Span("a.ms", 1, 1), Span("b.ms", 9, 9)
    x, y = ast.Name("n", span=here), ast.Name("n", span=there)
    assert x == y and hash(x) == hash(y) and repr(x) == "Name(id='n')"
    assert ast.Binary("+", x, x) == ast.Binary("+", y, y)
    assert ast.Binary("+", x, x) != ast.Binary("-", x, x)
    e, f = nodes.Lit(INT, 1, span=here), nodes.Lit(INT, 1, span=there)
    assert e == f and hash(e) == hash(f)
    assert dataclasses.replace(e, span=there).span is there
    assert nodes.Local(INT, "x") != nodes.Local(INT, "y")
    assert nodes.Lit(INT, 1) != nodes.ConstRef(INT, 1)  # another class: never equal


def test_recursive_repr():
    for cls, ref in _pairs():
        if not [f for f in dataclasses.fields(cls) if f.repr]:
            continue
        pos, kw = _arguments(cls)
        made = []
        for c in (cls, ref):
            box = []
            first = next(f for f in dataclasses.fields(c) if f.repr)
            obj = c(*pos, **kw)
            obj = dataclasses.replace(obj, **{first.name: box})
            box.append(obj)
            made.append(repr(obj))
        assert made[0] == made[1] and "..." in made[0]
        return


def _decorate(body: str):
    """Class ``C`` of a module made of ``body`` (which may use ``frozen``)."""
    import types

    module = types.ModuleType("frozen_test")
    module.dataclasses, module.frozen = dataclasses, _frozen.frozen
    sys.modules[module.__name__] = module
    try:
        exec(body, vars(module))
    finally:
        del sys.modules[module.__name__]
    return module.C


def test_classes_frozen_does_not_make_go_to_the_standard_decorator():
    C = _decorate("@frozen\nclass C:\n    x: list = dataclasses.field(default_factory=list)\n")
    assert C().x == [] and C().x is not C().x
    C = _decorate("@frozen\nclass C:\n    x: int\n    def __post_init__(self):\n"
                  "        object.__setattr__(self, 'y', self.x + 1)\n")
    assert C(1).y == 2
    C = _decorate("from typing import ClassVar\n@frozen\nclass C:\n    k: ClassVar[int] = 3\n"
                  "    x: int = 0\n")
    assert [f.name for f in dataclasses.fields(C)] == ["x"] and C.k == 3
    C = _decorate("@frozen\nclass C:\n    x: int\n    def __eq__(self, other):\n"
                  "        return True\n")
    assert C(1) == C(2) and hash(C(1)) == hash((1,))  # the hand-written __eq__ is kept
    for body, error in [
        ("@frozen\nclass C:\n    x: list = []\n", ValueError),
        ("@frozen\nclass C:\n    x: int = 0\n    y: int\n", TypeError),
        ("@dataclasses.dataclass\nclass B:\n    x: int\n@frozen\nclass C(B):\n    y: int\n",
         TypeError),
    ]:
        try:
            _decorate(body)
        except error:
            pass
        else:
            raise AssertionError(body)


def test_field_named_self_and_no_fields():
    for body in ("@frozen\nclass C:\n    self: int\n    x: int = 1\n",
                 "@frozen\nclass C:\n    pass\n",
                 "@frozen(order=True)\nclass C:\n    a: int\n",
                 "@frozen(order=True)\nclass C:\n    pass\n"):
        mine = _decorate(body)
        saved = _frozen.frozen
        _frozen.frozen = _standard
        try:
            ref = _decorate(body)
        finally:
            _frozen.frozen = saved
        assert "__init__" in vars(mine) and mine.__doc__ == ref.__doc__
        assert str(inspect.signature(mine)) == str(inspect.signature(ref))
        pos, kw = _arguments(mine)
        a, b = mine(*pos, **kw), ref(*pos, **kw)
        assert repr(a) == repr(b) and hash(a) == hash(b) and vars(a) == vars(b)
        assert (a == mine(*pos, **kw)) is True
        if mine.__dataclass_params__.order:
            assert (a < mine(*pos, **kw)) is (b < ref(*pos, **kw))
            assert (a <= mine(*pos, **kw)) is (b <= ref(*pos, **kw))
