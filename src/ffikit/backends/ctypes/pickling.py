"""Pickling routes for the ctypes classes ffikit builds, so they travel by recipe.

ffikit makes its struct and union classes at run time, so pickle cannot find
them by module and name.  A struct class pickles as ``(declarations, type
name)``: the declarations pickle as their C source and are re-declared on
arrival (memoised), and ``defs.ctype(name)`` gives the class back.  Arrays of
and pointers to such classes pickle as ``item * n`` and ``POINTER(item)``.

Instances of pointer-free structs pickle *by value* (ctypes' own route: the
class plus the bytes); a struct holding a pointer is refused with
:class:`ffikit.NotPicklable`, because an address means nothing in another
process.

The routes are registered in :mod:`copyreg` for ctypes' metaclasses when this
backend is first imported (not by ``import ffikit``).  For a ctypes class
ffikit did not build, the route answers exactly what pickle does by default
(look the class up by module and name), so other code sees no change.

cloudpickle (Dask, Ray) pickles any class it cannot find by module and name
*by value*, which no ctypes class survives; so ffikit's classes are also
findable by name in this process (``ffikit.types.Student``, the newest class
of that name), which makes cloudpickle defer to the copyreg route above.  The
name is never used on the receiving side: the recipe is.
"""

from __future__ import annotations

import copyreg
import ctypes
import operator
import sys
import types
import weakref

from ffikit.cdecl import declarations as _model
from ffikit.cdecl.model import Pointer, resolve
from ffikit.errors import NotPicklable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["reduce_struct", "register", "remember"]

_CData = ctypes.c_int.__mro__[-2]  # _ctypes._CData


def _ffikit_model(cls: type):
    """The model type if ffikit built ``cls`` itself (a user's subclass is not ffikit's)."""
    return cls.__dict__.get("_ffikit_type_")


def _type_names(model) -> list[str]:
    names = []
    if model.name:
        names.append(f"{model.kind} {model.name}")
    if model.typedef_name:
        names.append(model.typedef_name)
    return names


def _declarations_for(cls: type, names: list[str]):
    """Declarations (made by cdef/include) whose ``name`` is ``cls``, newest first."""
    for defs in _model.recent_declarations():
        if defs._recipe is None:
            continue
        for name in names:
            if name not in defs.types:
                continue
            try:
                if defs.ctype(name) is cls:
                    return defs, name
            except Exception:  # model-only declarations, or a name of another kind
                continue
    return None


def _declared_type(defs, name: str) -> type:
    """Unpickle a struct/union class: ``defs.ctype(name)`` in this process."""
    return defs.ctype(name)


def _reduce_record_class(cls: type):
    model = _ffikit_model(cls)
    if model is None:
        return cls.__qualname__  # pickle's default: by module and name
    names = _type_names(model)
    found = _declarations_for(cls, names) if names else None
    if found is None:
        what = model.c_name() if hasattr(model, "c_name") else cls.__name__
        raise NotPicklable(
            f"cannot pickle the ctypes class of '{what}': "
            + ("it has no name to look it up by" if not names else
               "no ffikit.cdef/ffikit.include declarations made in this process declare it")
            + "; give the struct a tag or typedef name and make it with ffikit.cdef(...), "
              "then pickle that class (it travels as its declarations and name)")
    return (_declared_type, found)


def _innermost(cls: type) -> object:
    inner: object = cls
    while isinstance(inner, type) and issubclass(inner, (ctypes.Array, ctypes._Pointer)):
        if not hasattr(inner, "_type_"):  # ctypes.Array / ctypes._Pointer themselves
            break
        inner = inner._type_
    return inner


def _reduce_array_class(cls: type[ctypes.Array[Any]]):
    inner = _innermost(cls)
    if not hasattr(cls, "_type_") or not isinstance(inner, type) or _ffikit_model(inner) is None:
        return cls.__qualname__
    return (operator.mul, (cls._type_, cls._length_))


def _reduce_pointer_class(cls: type):
    target = getattr(cls, "_type_", None)
    inner = _innermost(cls)
    if not isinstance(target, type) or not isinstance(inner, type) or _ffikit_model(inner) is None:
        return cls.__qualname__
    return (ctypes.POINTER, (target,))


def _pointer_members(cls: type, prefix: str = "") -> list[str]:
    """Dotted names of the members of a struct class that hold addresses."""
    found = []
    layout = cls.__dict__.get("_ffikit_layout_")
    if layout is not None:
        for member in layout.members:
            if member.name and isinstance(resolve(member.type), Pointer):
                found.append(prefix + member.name)
    for name, ftype in getattr(cls, "_fields_", ()):
        inner = ftype
        while isinstance(inner, type) and issubclass(inner, ctypes.Array):  # not pointers
            inner = inner._type_
        if isinstance(inner, type) and issubclass(inner, (ctypes.Structure, ctypes.Union)) \
                and not name.startswith("_ffikit_"):
            found += _pointer_members(inner, f"{prefix}{name}.")
    return found


def _rebuild_struct(cls: type[ctypes.Structure | ctypes.Union], data: bytes):
    """Unpickle a struct/union instance: a new object holding a copy of the bytes."""
    return cls.from_buffer_copy(data)


def reduce_struct(self):
    """``__reduce__`` of ffikit struct/union instances: by value, pointers refused."""
    try:
        _CData.__reduce__(self)  # ctypes' own check: refuses any pointer inside
        # The class and the bytes only: a view's __dict__ holds the buffer it views,
        # which is this process's business (and often a memoryview, which cannot pickle).
        return (_rebuild_struct, (type(self), bytes(memoryview(self).cast("B"))))
    except ValueError:  # "ctypes objects containing pointers cannot be pickled"
        cls = type(self)
        model = _ffikit_model(cls)
        what = model.c_name() if model is not None else cls.__name__
        members = ", ".join(repr(m) for m in _pointer_members(cls)) or "(a pointer)"
        raise NotPicklable(
            f"cannot pickle a '{what}' by value: member {members} holds an address, "
            "which means nothing in another process; send the pointed-to data itself (a NumPy "
            "array, bytes, or ffikit.shared memory by name) and set the pointer on arrival"
        ) from None


_by_name: dict[str, weakref.ref] = {}


def remember(cls: type) -> None:
    """Make ``cls`` findable as ``ffikit.types.<qualname>`` in this process (newest wins)."""
    _by_name[cls.__qualname__] = weakref.ref(cls)


def _lookup(name: str) -> type:
    ref = _by_name.get(name)
    cls = ref() if ref is not None else None
    if cls is None:
        raise AttributeError(f"ffikit.types has no live class {name!r}; ffikit's classes "
                             "are rebuilt from their declarations when unpickled")
    return cls


_registered = False


def register() -> None:
    """Install the copyreg routes (once; idempotent)."""
    global _registered
    if _registered:
        return
    copyreg.pickle(type(ctypes.Structure), _reduce_record_class)
    copyreg.pickle(type(ctypes.Union), _reduce_record_class)
    copyreg.pickle(type(ctypes.Array), _reduce_array_class)
    copyreg.pickle(type(ctypes._Pointer), _reduce_pointer_class)
    if "ffikit.types" not in sys.modules:
        module = types.ModuleType("ffikit.types", "The ctypes classes ffikit built, by name "
                                  "(for pickle's lookups in this process only).")
        module.__getattr__ = _lookup  # type: ignore[method-assign]
        sys.modules["ffikit.types"] = module
    _registered = True
