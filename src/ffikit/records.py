"""Small data classes (``@data_record``) that cost next to nothing to define.

The declaration model, the boundary rules and the library finder describe
their values with about twenty small classes, every one of them defined on
the path from ``import ffikit`` to a first call.  :func:`dataclasses.dataclass`
compiles six functions per class (``__init__``, ``__repr__``, ``__eq__``,
``__hash__``, ``__setattr__``, ``__delattr__``) -- about 1 ms each class, a
fifth of a warm start -- and imports :mod:`inspect` on the way.  A record
compiles only its ``__init__`` (the one method whose speed a parse of
thousands of declarations feels), and only when the first instance is made
(a warm start decodes cached models without calling it); equality, hashing, ``repr`` and
immutability are shared functions over the field names.

What a record does is what ``@dataclass`` does for the parts ffikit uses:
fields from the class annotations in order, defaults and
``field(default_factory=...)``, ``compare``/``hash``/``repr`` per field,
``frozen`` (assignment raises :class:`FrozenRecordError`, an
``AttributeError`` like dataclasses' own), equality of the same class only,
and pickling and copying through the instance ``__dict__``.  :func:`fields`
and :func:`replace` stand in for their :mod:`dataclasses` namesakes.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar, dataclass_transform

    T = TypeVar("T")
else:
    def dataclass_transform(**_options):
        return lambda decorator: decorator

__all__ = ["data_record", "field", "fields", "replace", "is_record", "FrozenRecordError"]

_MISSING = object()
_FIELDS = "__record_fields__"


class FrozenRecordError(AttributeError):
    """An attribute of a frozen record was assigned or deleted."""


class Field:
    """A field's options, given as ``name: type = field(...)`` in a record's body."""

    __slots__ = ("default", "default_factory", "compare", "hash", "repr")

    def __init__(self, default: object, default_factory: Callable[[], object] | None, compare: bool,
                 hash: bool | None, repr: bool) -> None:
        self.default, self.default_factory, self.compare = default, default_factory, compare
        self.hash = compare if hash is None else hash
        self.repr = repr


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None,
          compare: bool = True, hash: bool | None = None, repr: bool = True) -> Any:
    """A field with a factory for its default, or one left out of ``==``, ``hash`` or ``repr``."""
    if default is not _MISSING and default_factory is not None:
        raise ValueError("a field takes default or default_factory, not both")
    return Field(default, default_factory, compare, hash, repr)


@dataclass_transform(field_specifiers=(field,))
def data_record(cls: type[T] | None = None, /, *, frozen: bool = False) -> Any:
    """Make ``cls`` a record: ``@data_record`` or ``@data_record(frozen=True)``."""
    def wrap(klass: type[T]) -> type[T]:
        return _make(klass, frozen)

    return wrap if cls is None else wrap(cls)


def is_record(obj: object) -> bool:
    """True for a record class or instance."""
    return hasattr(obj if isinstance(obj, type) else type(obj), _FIELDS)


def fields(obj: object) -> tuple[str, ...]:
    """The field names of a record class or instance, in order."""
    names: tuple[str, ...] = tuple(getattr(obj if isinstance(obj, type) else type(obj), _FIELDS))
    return names


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of the record ``obj`` with ``changes`` (``dataclasses.replace``)."""
    names = fields(obj)
    unknown = set(changes) - set(names)
    if unknown:
        raise TypeError(f"{type(obj).__qualname__} has no field {sorted(unknown)[0]!r}")
    return type(obj)(**{name: changes[name] if name in changes else getattr(obj, name)
                        for name in names})


def _own_fields(cls: type) -> dict[str, Field]:
    found: dict[str, Field] = {}
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
        if text.startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = cls.__dict__.get(name, _MISSING)
        if isinstance(value, Field):
            spec = value
            if spec.default is _MISSING:
                delattr(cls, name)  # (a factory's value lives on the instance only)
            else:
                setattr(cls, name, spec.default)
        else:
            spec = Field(value, None, True, None, True)
        found[name] = spec
    return found


def _make(cls: type[T], frozen: bool) -> type[T]:
    specs: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        specs.update(getattr(base, "__record_specs__", {}))
    specs.update(_own_fields(cls))
    names = tuple(specs)
    compared = _key([n for n, s in specs.items() if s.compare])
    methods: dict[str, object] = {
        "__record_specs__": specs, _FIELDS: names, "__match_args__": names,
        "__init__": _first_init(cls, specs, frozen), "__eq__": _eq(compared),
        "__repr__": _repr([n for n, s in specs.items() if s.repr]),
        "__hash__": None,  # mutable and compared: unhashable, as dataclasses make it
    }
    if frozen:
        hashed = _key([n for n, s in specs.items() if s.hash])
        methods.update(__hash__=lambda self: hash(hashed(self)), __setattr__=_refuse, __delattr__=_refuse)
    for name, value in methods.items():
        if name not in cls.__dict__ or name in (_FIELDS, "__record_specs__"):  # (the class's own
            setattr(cls, name, value)  # __repr__, __eq__, __hash__ win, as with dataclasses)
    return cls


def _key(names: list[str]) -> Callable[[object], tuple]:
    if not names:
        return lambda self: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda self: (one(self),)
    many: Callable[[object], tuple] = attrgetter(*names)
    return many


def _eq(key: Callable[[object], tuple]) -> Callable[[object, object], bool]:
    def __eq__(self: object, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return key(self) == key(other)
    return __eq__


def _repr(names: list[str]) -> Callable[[object], str]:
    def __repr__(self: object) -> str:
        parts = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__qualname__}({parts})"
    return __repr__


def _refuse(self: object, name: str, *value: object) -> None:
    raise FrozenRecordError(f"cannot assign to field {name!r}: {type(self).__qualname__} is frozen")


def _first_init(cls: type, specs: dict[str, Field], frozen: bool) -> Callable[..., None]:
    """An ``__init__`` that compiles the real one (:func:`_init`) at the first instance and puts
    it on the class: a record the process never constructs (a warm start decodes the model
    without calling ``__init__``) never compiles anything.  Field order is checked now."""
    seen_default = False
    for name, spec in specs.items():
        if spec.default is not _MISSING or spec.default_factory is not None:
            seen_default = True
        elif seen_default:
            raise TypeError(f"{cls.__qualname__}: field {name!r} without a default follows one with a default")

    def __init__(self: object, *args: Any, **kwargs: Any) -> None:
        real = _init(cls, specs, frozen)
        if cls.__dict__.get("__init__") is __init__:
            type.__setattr__(cls, "__init__", real)
        real(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _init(cls: type, specs: dict[str, Field], frozen: bool) -> Callable[..., None]:
    """The compiled ``__init__``: arguments in field order, defaults as given."""
    args: list[str] = []
    body: list[str] = []
    namespace: dict[str, Any] = {"_object_setattr": object.__setattr__}
    for index, (name, spec) in enumerate(specs.items()):
        if spec.default is not _MISSING:
            namespace[f"_d{index}"] = spec.default
            args.append(f"{name}=_d{index}")
        elif spec.default_factory is not None:
            namespace[f"_f{index}"] = spec.default_factory
            args.append(f"{name}=_missing")
            namespace["_missing"] = _MISSING
        else:
            args.append(name)
        value = f"_f{index}() if {name} is _missing else {name}" if spec.default_factory else name
        body.append(f"_object_setattr(self, {name!r}, {value})" if frozen else f"self.{name} = {value}")
    post = "__post_init__" in cls.__dict__ or any("__post_init__" in b.__dict__ for b in cls.__mro__[1:])
    if post:
        body.append("self.__post_init__()")
    source = f"def __init__(self, {', '.join(args)}):\n    " + "\n    ".join(body or ["pass"]) + "\n"
    exec(compile(source, f"<record {cls.__module__}.{cls.__qualname__}>", "exec"), namespace)
    init: Callable[..., None] = namespace["__init__"]  # type: ignore[assignment]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init
