"""``@frozen``: ``@dataclasses.dataclass(frozen=True)`` without compiling code for every class.

The standard decorator writes the source of ``__init__``, ``__repr__``, ``__eq__``,
``__hash__``, ``__setattr__`` and ``__delattr__`` of each class and compiles each with its own
``exec``, which makes importing a module of many small node classes slow. ``@frozen`` makes the
same classes without that:

* ``__init__`` is the function ``dataclasses`` writes, with its parameters, defaults and
  annotations. Its code is compiled once per shape (number of positional and keyword-only
  parameters, order of the assignments) with placeholder names, and each class gets a copy with
  its own names (``CodeType.replace``);
* the other methods are closures over the class and its field names that do what the written
  ones do (each is shown above its factory below);
* ``__dataclass_fields__`` (real :class:`dataclasses.Field` objects), ``__dataclass_params__``,
  ``__match_args__``, the class attributes of defaults and the generated ``__doc__`` are set as
  the standard decorator sets them.

So ``fields``, ``is_dataclass``, ``replace`` and ``asdict`` work, and instances compare, hash,
print and refuse assignment (``FrozenInstanceError``) as standard frozen dataclasses do.

Only frozen classes with ``init``, ``repr`` and ``eq`` on and, optionally, ``order`` are made
here. A class outside that case (a ``ClassVar``, ``InitVar`` or ``KW_ONLY`` annotation, a
``default_factory``, ``init=False``, ``__post_init__``, ``__slots__``, a hand-written method of
those the decorator writes, a metaclass, ...) is handed to ``dataclasses.dataclass``, and so is
every class on Python versions other than 3.11 and 3.12, whose ``dataclasses`` this copies.

>>> @frozen
... class Point:
...     x: int
...     y: int = 0
>>> Point(1), Point(1) == Point(1, 0), hash(Point(1)) == hash((1, 0))
(Point(x=1, y=0), True, True)
"""

import dataclasses
import sys
from _thread import get_ident
from dataclasses import MISSING, Field, FrozenInstanceError
from inspect import formatannotation
from operator import attrgetter, ge, gt, le, lt
from re import compile as re_compile
from types import FunctionType, MemberDescriptorType

__all__ = ["frozen"]

#: The Python versions whose ``dataclasses`` the classes made here copy.
SUPPORTED = (3, 11) <= sys.version_info[:2] <= (3, 12)

# Methods the standard decorator writes for a frozen class (or calls); a class that defines one
# goes to the standard decorator.
_WRITTEN = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__",
            "__lt__", "__le__", "__gt__", "__ge__", "__post_init__", "__slots__")
_ORDER = (("__lt__", lt), ("__le__", le), ("__gt__", gt), ("__ge__", ge))
# The leading (module-qualified) name of a string annotation, as dataclasses reads it.
_LEADING_NAME = re_compile(r"^(?:\s*(\w+)\s*\.)?\s*(\w+)")


def frozen(cls=None, /, *, order: bool = False):
    """``@dataclass(frozen=True)``, or ``@dataclass(frozen=True, order=True)`` as
    ``@frozen(order=True)``."""
    if cls is None:
        return lambda c: frozen(c, order=order)
    if not SUPPORTED or not _make(cls, order):
        return dataclasses.dataclass(cls, frozen=True, order=order)
    return cls


# ---------------------------------------------------------------- the class


def _make(cls, order: bool) -> bool:
    """Do to ``cls`` what ``dataclasses`` does to a frozen class; False (and the class
    untouched) when the class needs the standard decorator."""
    if type(cls) is not type or hasattr(cls, "__abstractmethods__"):
        return False
    if any(name in cls.__dict__ for name in _WRITTEN) or hasattr(cls, "__post_init__"):
        return False
    if any("__new__" in b.__dict__ for b in cls.__mro__[:-1]):
        return False
    module = sys.modules.get(cls.__module__)
    if module is None:
        return False

    fields: dict[str, Field] = {}
    has_dataclass_bases = any_frozen_base = False
    for b in cls.__mro__[-1:0:-1]:
        base_fields = getattr(b, "__dataclass_fields__", None)
        if base_fields is not None:
            has_dataclass_bases = True
            for f in base_fields.values():
                if (f._field_type is not dataclasses._FIELD or not f.init
                        or f.default_factory is not MISSING):
                    return False
                fields[f.name] = f
            if getattr(b, "__dataclass_params__").frozen:
                any_frozen_base = True
    if has_dataclass_bases and not any_frozen_base:
        return False

    annotations = cls.__dict__.get("__annotations__", {})
    for name, value in cls.__dict__.items():
        if isinstance(value, Field) and name not in annotations:
            return False
    own = []  # (name, annotation, class attribute, default, kw_only)
    for name, annotation in annotations.items():
        if name.startswith("__dataclass_") or _special(annotation, module.__dict__):
            return False
        attribute = getattr(cls, name, MISSING)
        if isinstance(attribute, MemberDescriptorType):
            return False  # a slot
        if isinstance(attribute, Field):
            if attribute.default_factory is not MISSING or not attribute.init:
                return False
            default, kw_only = attribute.default, attribute.kw_only
        else:
            default, kw_only = attribute, MISSING
        if default is not MISSING and default.__class__.__hash__ is None:
            return False  # a mutable default: the standard decorator reports it
        own.append((name, annotation, attribute, default, False if kw_only is MISSING else kw_only))
    init_order = {f.name: (f.default, f.kw_only) for f in fields.values()}
    for name, _, _, default, kw_only in own:
        init_order[name] = (default, kw_only)
    seen_default = False
    for default, kw_only in init_order.values():
        if not kw_only:
            if default is not MISSING:
                seen_default = True
            elif seen_default:
                return False  # a field without a default after one with: an error to report

    # from here on the class is changed, in the order dataclasses changes it
    cls.__dataclass_params__ = _params(order)
    new_fields = []
    for name, annotation, attribute, default, kw_only in own:
        f = attribute if isinstance(attribute, Field) else dataclasses.field(default=default)
        f.name, f.type, f._field_type = name, annotation, dataclasses._FIELD
        if f.kw_only is MISSING:
            f.kw_only = kw_only
        fields[name] = f
        new_fields.append(f)
    for f in new_fields:
        if isinstance(getattr(cls, f.name, None), Field):
            if f.default is MISSING:
                delattr(cls, f.name)
            else:
                setattr(cls, f.name, f.default)
    cls.__dataclass_fields__ = fields

    field_list = list(fields.values())
    std = [f for f in field_list if not f.kw_only]
    kw_only = [f for f in field_list if f.kw_only]
    compared = tuple(f.name for f in field_list if f.compare)
    methods = [_init(cls, module.__dict__, field_list, std, kw_only),
               _repr(tuple(f.name for f in field_list if f.repr)), _eq(compared)]
    if order:
        methods += [_compare(name, op, compared) for name, op in _ORDER]
    methods += _frozen_attributes(cls, tuple(f.name for f in field_list))
    methods.append(_hash(tuple(f.name for f in field_list
                               if (f.compare if f.hash is None else f.hash))))
    for fn in methods:
        fn.__qualname__ = f"{cls.__qualname__}.{fn.__name__}"
        fn.__module__ = cls.__module__
        setattr(cls, fn.__name__, fn)

    if not getattr(cls, "__doc__"):
        cls.__doc__ = cls.__name__ + _signature_text(std, kw_only).replace(" -> None", "")
    if "__match_args__" not in cls.__dict__:
        cls.__match_args__ = tuple(f.name for f in std)
    return True


def _params(order: bool):
    """A ``__dataclass_params__`` value for frozen=True, with the fields of this version."""
    values = {"init": True, "repr": True, "eq": True, "order": order, "unsafe_hash": False,
              "frozen": True, "match_args": True, "kw_only": False, "slots": False,
              "weakref_slot": False}
    params = dataclasses._DataclassParams
    return params(**{name: values[name] for name in params.__slots__})


def _special(annotation, module_ns: dict) -> bool:
    """True if the annotation may name ClassVar, InitVar or KW_ONLY (a pseudo-field)."""
    if isinstance(annotation, str):
        match = _LEADING_NAME.match(annotation)
        if not match:
            return False
        annotation = module_ns.get(match.group(2))
    if annotation is dataclasses.KW_ONLY or annotation is dataclasses.InitVar:
        return True
    if type(annotation) is dataclasses.InitVar:
        return True
    typing = sys.modules.get("typing")
    return typing is not None and (annotation is typing.ClassVar or
                                   getattr(annotation, "__origin__", None) is typing.ClassVar)


def _signature_text(std: list[Field], kw_only: list[Field]) -> str:
    """What ``str(inspect.signature(cls))`` gives for the generated ``__init__``."""
    parts = []
    for f in std + kw_only:
        if kw_only and f is kw_only[0]:
            parts.append("*")
        text = f"{f.name}: {formatannotation(f.type)}"
        if f.default is not MISSING:
            text += f" = {f.default!r}"
        parts.append(text)
    return "(" + ", ".join(parts) + ") -> None"


# ---------------------------------------------------------------- __init__

# (positional count, keyword-only count, parameter of each assignment) -> (code, closure)
_INIT_TEMPLATES: dict[tuple, tuple] = {}


def _init_template(n_std: int, n_kw: int, assigned: tuple[int, ...]):
    """The code of the ``__init__`` dataclasses writes for a frozen class, with parameters
    ``__dataclass_p{i}__`` assigned in the order ``assigned``:

        def __init__(self, p0, p1, *, p2):
            __dataclass_builtins_object__.__setattr__(self,'p2',p2)
            ...
    """
    key = (n_std, n_kw, assigned)
    if key not in _INIT_TEMPLATES:
        names = [f"__dataclass_p{i}__" for i in range(n_std + n_kw)]
        params = ["self", *names[:n_std]] + (["*", *names[n_std:]] if n_kw else [])
        body = [f"  __dataclass_builtins_object__.__setattr__(self,'{names[i]}',{names[i]})"
                for i in assigned] or ["  pass"]
        text = "\n".join(["def __dataclass_make__(__dataclass_builtins_object__):",
                          f" def __init__({','.join(params)}):", *body, " return __init__"])
        namespace: dict = {}
        exec(compile(text, "<string>", "exec", dont_inherit=True), {}, namespace)
        fn = namespace["__dataclass_make__"](object)
        _INIT_TEMPLATES[key] = fn.__code__, fn.__closure__
    return _INIT_TEMPLATES[key]


def _init(cls, module_ns: dict, fields: list[Field], std: list[Field], kw_only: list[Field]):
    params = std + kw_only
    position = {f.name: i for i, f in enumerate(params)}
    code, closure = _init_template(len(std), len(kw_only),
                                   tuple(position[f.name] for f in fields))
    real = {f"__dataclass_p{i}__": f.name for i, f in enumerate(params)}
    self_name = "__dataclass_self__" if "self" in position else "self"
    code = code.replace(
        co_varnames=(self_name, *(f.name for f in params)),
        co_consts=tuple(real.get(c, c) if isinstance(c, str) else c for c in code.co_consts),
        co_qualname=f"{cls.__qualname__}.__init__")
    defaults = tuple(f.default for f in std if f.default is not MISSING)
    init = FunctionType(code, module_ns, "__init__", defaults or None, closure)
    init.__kwdefaults__ = {f.name: f.default for f in kw_only if f.default is not MISSING} or None
    init.__annotations__ = {**{f.name: f.type for f in params}, "return": None}
    return init


# ---------------------------------------------------------------- the other methods
# Closures over the field names; above each, the method dataclasses writes.


def _eq(names: tuple[str, ...]):
    # if other.__class__ is self.__class__: return (self.a,self.b,)==(other.a,other.b,)
    # return NotImplemented
    if len(names) > 1:
        values = attrgetter(*names)

        def __eq__(self, other):
            if other.__class__ is self.__class__:
                return values(self) == values(other)
            return NotImplemented
    elif names:
        value = attrgetter(names[0])

        def __eq__(self, other):
            if other.__class__ is self.__class__:
                return (value(self),) == (value(other),)
            return NotImplemented
    else:
        def __eq__(self, other):
            if other.__class__ is self.__class__:
                return True  # () == ()
            return NotImplemented
    return __eq__


def _compare(name: str, op, names: tuple[str, ...]):
    # if other.__class__ is self.__class__: return (self.a,self.b,)<(other.a,other.b,)
    # return NotImplemented
    if len(names) > 1:
        values = attrgetter(*names)
    elif names:
        value = attrgetter(names[0])

        def values(obj):
            return (value(obj),)
    else:
        def values(obj):
            return ()

    def compare(self, other):
        if other.__class__ is self.__class__:
            return op(values(self), values(other))
        return NotImplemented
    compare.__name__ = name
    return compare


def _hash(names: tuple[str, ...]):
    # return hash((self.a,self.b,))
    if len(names) > 1:
        values = attrgetter(*names)

        def __hash__(self):
            return hash(values(self))
    elif names:
        value = attrgetter(names[0])

        def __hash__(self):
            return hash((value(self),))
    else:
        def __hash__(self):
            return hash(())
    return __hash__


def _repr(names: tuple[str, ...]):
    # return self.__class__.__qualname__ + f"(a={self.a!r}, b={self.b!r})"
    # and "..." for an object printed again while it is being printed (_recursive_repr)
    running = set()

    def __repr__(self):
        key = id(self), get_ident()
        if key in running:
            return "..."
        running.add(key)
        try:
            result = self.__class__.__qualname__ + "(" + ", ".join(
                [f"{name}={getattr(self, name)!r}" for name in names]) + ")"
        finally:
            running.discard(key)
        return result
    return __repr__


def _frozen_attributes(cls, names: tuple[str, ...]):
    # if type(self) is cls or name in ('a','b',):
    #     raise FrozenInstanceError(f"cannot assign to field {name!r}")
    # super(cls, self).__setattr__(name, value)
    def __setattr__(self, name, value):
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self, name):
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)
    return __setattr__, __delattr__
