"""How a declaration model is written to bytes and read back: a pickle that can only make model data.

The model cache (:mod:`.modelcache`) stores the parsed, laid-out model of a
header.  Written as JSON, storing took about 20 ms and reading about 8 ms of a
process that includes ``sqlite3.h`` (a table of thousands of nodes walked in
Python); :mod:`pickle` does both in C, several times faster.

A pickle can name any callable, so this one is read by an unpickler that
resolves only the model's own classes (those of :data:`MODEL_MODULES`) and
the two helpers below; every other global -- ``os.system``, ``subprocess``,
a function of ffikit's, a class of another ffikit module -- is refused, and
the header is parsed again.  What a stored model can hold is checked when it
is written: a value of any other kind (a class, a function, an object of
another module) is not stored at all.  The bytes are read only from a cache
entry that passed :mod:`ffikit.cachedir`'s checks (a private directory, a
file of this user's whose SHA-256 matches the one recorded), the same rule
that lets a library from that directory run code when it is loaded.

Each model type's cached hash (``_hash``) is left out: string hashes are
salted per process.  Primitive types come back as one object per name.
"""

from __future__ import annotations

import copyreg
import importlib
import io
import pickle

from .model import Primitive

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["dumps", "loads", "model_class", "Unsupported", "MODEL_MODULES"]

MODEL_MODULES = frozenset({"ffikit.cdecl.model", "ffikit.cdecl.coord", "ffikit.cdecl.parse_result",
                           "ffikit.cdecl.attributes"})
_PROTOCOL = 5
_NOT_STORED = ("_hash", "__weakref__", "__dict__")
_NEW_OBJECT = copyreg.__newobj__  # type: ignore[attr-defined]  # (pickled as NEWOBJ: cls.__new__(cls))


class Unsupported(Exception):
    """The model holds something this format does not store: it is not cached."""


def model_class(module: str, qualname: str) -> type:
    """The model class a stored model names; anything else is refused (ValueError)."""
    if module not in MODEL_MODULES or not (qualname.isascii() and qualname.isidentifier()):
        raise ValueError(f"not a model class: {module}.{qualname}")
    target = getattr(importlib.import_module(module), qualname, None)
    if not isinstance(target, type) or target.__module__ != module:
        raise ValueError(f"not a model class: {module}.{qualname}")
    return target


def _primitive(name: str) -> Primitive:
    """A ``Primitive`` by name (what a stored one is made by; :class:`_Reader` makes one object
    per name and load, as the parser makes one object per use)."""
    return Primitive(name)


def _set_state(obj: Any, state: dict) -> None:
    """Fill an immutable model object's slots (their ``__setattr__`` refuses assignment)."""
    if type(obj).__module__ not in MODEL_MODULES or type(state) is not dict:
        raise pickle.UnpicklingError("not a model object's state")
    setattr_ = object.__setattr__
    for name, value in state.items():
        setattr_(obj, name, value)


def _slots(cls: type) -> tuple[str, ...]:
    names: list[str] = []
    for klass in cls.__mro__:
        for slot in klass.__dict__.get("__slots__", ()):
            if slot not in _NOT_STORED and slot not in names:
                names.append(slot)
    return tuple(names)


class _Writer(pickle.Pickler):
    """Pickles model objects only (see the module docstring); ``reducer_override`` sees every
    object that is not a plain value or a builtin container."""

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file, _PROTOCOL)
        self.plans: dict[type, tuple[str, ...] | None] = {}  # slots to store; None: a record

    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        try:
            plan = self.plans[cls]
        except KeyError:
            if cls is type or obj is _set_state or obj is _primitive:
                return self._global(obj)
            plan = self.plans[cls] = self._plan(cls)
        if plan is None:
            return NotImplemented  # a record: pickled as its __dict__, set without __setattr__
        if cls is Primitive:
            return _primitive, (obj.name,)
        state = {}
        for name in plan:
            try:
                state[name] = getattr(obj, name)
            except AttributeError:  # a slot never set
                pass
        return _NEW_OBJECT, (cls,), state, None, None, _set_state

    @staticmethod
    def _global(obj: Any) -> Any:
        """A model class or one of the two helpers: pickled by name; nothing else is."""
        if obj is _set_state or obj is _primitive or obj.__module__ in MODEL_MODULES:
            return NotImplemented
        raise Unsupported(f"{obj!r} is not model data")

    @staticmethod
    def _plan(cls: type) -> tuple[str, ...] | None:
        if cls.__module__ not in MODEL_MODULES:
            raise Unsupported(f"a {cls.__module__}.{cls.__qualname__} is not model data")
        slots = _slots(cls)
        return slots if slots or cls is Primitive or "__dict__" not in dir(cls) else None


class _Reader(pickle.Unpickler):
    """Makes nothing but model data: the classes of :data:`MODEL_MODULES` and two helpers."""

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file)
        self.primitives: dict[str, Primitive] = {}

    def primitive(self, name: str) -> Primitive:
        found = self.primitives.get(name)
        if found is None:
            if type(name) is not str:
                raise pickle.UnpicklingError("not a primitive type's name")
            found = self.primitives[name] = Primitive(name)
        return found

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == "_set_state":
            return _set_state
        if module == __name__ and name == "_primitive":
            return self.primitive
        try:
            return model_class(module, name)
        except ValueError as exc:
            raise pickle.UnpicklingError(str(exc)) from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("a stored model holds no persistent references")


def dumps(model: Any) -> bytes:
    """The bytes of ``model`` (raises :class:`Unsupported` for anything that is not model data)."""
    buffer = io.BytesIO()
    _Writer(buffer).dump(model)
    return buffer.getvalue()


def loads(data: bytes) -> Any:
    """The model ``data`` holds; ``pickle.UnpicklingError`` (or another error) for anything
    else -- never an object of another kind."""
    return _Reader(io.BytesIO(data)).load()
