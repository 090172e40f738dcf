"""Bound C functions as users hold them, and how libraries and functions travel by pickle.

A :class:`BoundFunction` wraps the generated wrapper of one declared C
function (:func:`ffikit.backends.ctypes.wrappers.bind`) together with the
:class:`~ffikit.boundary.library.Library` it came from, so that pickle can send
it to another process as ``(library, name)`` — the library by its recipe —
where it is bound again on arrival.  (A plain Python function can only be
pickled by module and name, which a generated wrapper does not have.)
:func:`reload` is the other half of ``Library.__reduce__``: the library
loaded again in the receiving process, once per process.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from typing import Any

from ffikit.errors import LibraryNotFound

__all__ = ["BoundFunction", "reload"]


_reloaded: dict = {}


def reload(load: Callable, path: str, name: str, defs: Any, mode: int | None,
           options: Mapping[str, Any]) -> Any:
    """Unpickle a :class:`Library`: load ``path`` (else ``name``) once per process.

    ``options`` are ``load``'s keyword arguments (``errors``, ``encoding``, ``sizes``).
    """
    try:
        key = (path, name, id(defs), mode, _frozen(options))
        hash(key)
    except TypeError:  # an unhashable policy: load without memoising
        key = None
    found = _reloaded.get(key) if key is not None else None
    if found is not None and found.defs is defs:
        return found
    try:
        lib = load(path, defs, mode=mode, **options)
    except LibraryNotFound:
        if name == path:
            raise
        lib = load(name, defs, mode=mode, **options)
    if key is not None:
        _reloaded[key] = lib
    return lib


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


def _rebind(library: Any, name: str, errors: Callable | None) -> BoundFunction:
    """Unpickle a bound function whose error policy was set after ``load``."""
    function = getattr(library, name)
    function.errors = errors
    return function


class BoundFunction(functools.partial):
    """A declared C function bound to its library: call it as the C function.

    Attributes: ``errors`` (the error policy, settable), ``declaration`` (the C
    text), ``cfunc`` (the ctypes function), ``library``.  It pickles as
    ``(library, name)`` — the library by recipe — so it can be sent to a
    process pool or a Dask worker, where it is bound again on arrival.
    """

    def __new__(cls, function: Callable, library: Any):
        self = super().__new__(cls, function)
        self.__dict__.update(__wrapped__=function, library=library, __doc__=function.__doc__)
        for attr in ("__name__", "__qualname__", "declaration"):
            if hasattr(function, attr):
                self.__dict__[attr] = getattr(function, attr)
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self.func, name)  # whatever the backend's function carries (cfunc, ...)

    @property
    def errors(self) -> Callable | None:
        return self.func.errors  # type: ignore[attr-defined]

    @errors.setter
    def errors(self, policy: Callable | None) -> None:
        self.func.errors = policy  # type: ignore[attr-defined]

    def __reduce__(self):
        policy = self.errors
        if policy is self.library._policies.get(self.__name__) or \
                type(policy).__name__ == "_Reraise":  # transient: a parked callback error
            return (getattr, (self.library, self.__name__))
        return (_rebind, (self.library, self.__name__, policy))  # a policy set after load

    def __repr__(self) -> str:
        return f"<ffikit function {self.declaration} from {os.path.basename(self.library.path)}>"
