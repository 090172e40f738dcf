"""ffikit: safe, zero-copy, fast calls from Python to C.

Declare C in C, load a library, call it with ordinary Python objects::

    import ffikit
    lib = ffikit.load("m", "double cos(double);")
    lib.cos(0.0)                                   # 1.0

    defs = ffikit.cdef("typedef struct { int x, y; } point;")
    p = ffikit.view(bytearray(8), defs.point)     # zero-copy, keeps the bytearray alive

Public names are re-exported here (see ``__all__``); submodules load on
first use, so ``import ffikit`` stays cheap.  Anything not listed is internal.
"""

from __future__ import annotations

import os as _os
import sys as _sys

from ffikit.errors import (
    ArgumentError,
    BufferTooSmall,
    CallbackRecursion,
    CallbackReleased,
    CallError,
    CompileError,
    DeclarationError,
    FFIError,
    InvalidAddress,
    InvalidValue,
    LeakError,
    LibraryNotFound,
    MemoryInUse,
    MemoryReleased,
    MisalignedBuffer,
    NotContiguous,
    NotPicklable,
    OutOfMemory,
    OutOfRange,
    ProtectedMemory,
    ReadOnlyBuffer,
    SharedMemoryExists,
    SharedMemoryNotFound,
    SymbolNotFound,
    UnknownMember,
    UnsafeWarning,
    UntrustedCache,
)

TYPE_CHECKING = False  # typing costs ~8 ms to import; type checkers read the name itself

__version__ = "0.1.0"

# public name -> submodule that defines it (loaded lazily, PEP 562, so that
# ``import ffikit`` starts no subprocess, writes no file and imports little)
_LAZY = {
    "build": "build",
    "cdef": "backends.ctypes.declarations",
    "include": "backends.ctypes.declarations",
    "Declarations": "backends.ctypes.declarations",
    "load": "boundary.library",
    "Library": "boundary.library",
    "check": "boundary.policies",
    "new": "memory.new",
    "cast": "memory.casts",
    "string": "memory.strings",
    "callback": "backends.ctypes.callbacks",
    "callback_errors": "backends.ctypes.callbacks",
    "view": "memory.fastpaths",
    "address": "memory.views",
    "buffer": "memory.views",
    "asarray": "memory.numpy_bridge",
    "dtype": "memory.numpy_bridge",
    "ctype": "memory.numpy_bridge",
    "shared": "memory.shared",
    "alloc": "memory.fastpaths",
    "adopt": "memory.adopted",
    "Memory": "memory.owned",
    "Arena": "memory.pools",
    "Pool": "memory.pools",
    "track": "memory.tracking",
    "Tracker": "memory.tracking",
}

# The same names for type checkers (mypy, pyright): real signatures, no ``Any``.
# Keep this list and ``_LAZY`` in step (tests/test_init.py checks it).
if TYPE_CHECKING:
    from types import ModuleType as _ModuleType

    from ffikit.backends.ctypes.callbacks import callback as callback
    from ffikit.backends.ctypes.callbacks import callback_errors as callback_errors
    from ffikit.backends.ctypes.declarations import Declarations as Declarations
    from ffikit.backends.ctypes.declarations import cdef as cdef
    from ffikit.backends.ctypes.declarations import include as include
    from ffikit.boundary.library import Library as Library
    from ffikit.boundary.library import load as load
    from ffikit.boundary.policies import check as check
    from ffikit.build import build as build
    from ffikit.memory.adopted import adopt as adopt
    from ffikit.memory.casts import cast as cast
    from ffikit.memory.fastpaths import alloc as alloc
    from ffikit.memory.fastpaths import view as view
    from ffikit.memory.new import new as new
    from ffikit.memory.numpy_bridge import asarray as asarray
    from ffikit.memory.numpy_bridge import ctype as ctype
    from ffikit.memory.numpy_bridge import dtype as dtype
    from ffikit.memory.owned import Memory as Memory
    from ffikit.memory.pools import Arena as Arena
    from ffikit.memory.pools import Pool as Pool
    from ffikit.memory.shared import shared as shared
    from ffikit.memory.strings import string as string
    from ffikit.memory.tracking import Tracker as Tracker
    from ffikit.memory.tracking import track as track
    from ffikit.memory.views import address as address
    from ffikit.memory.views import buffer as buffer
else:
    _ModuleType = type(_sys)  # types.ModuleType, without importing types

__all__ = [
    "FFIError",
    "LibraryNotFound",
    "SymbolNotFound",
    "DeclarationError",
    "ArgumentError",
    "InvalidValue",
    "UnknownMember",
    "SharedMemoryNotFound",
    "SharedMemoryExists",
    "OutOfRange",
    "CallError",
    "BufferTooSmall",
    "CallbackReleased",
    "CallbackRecursion",
    "ReadOnlyBuffer",
    "InvalidAddress",
    "NotContiguous",
    "MisalignedBuffer",
    "MemoryReleased",
    "MemoryInUse",
    "ProtectedMemory",
    "OutOfMemory",
    "CompileError",
    "UntrustedCache",
    "LeakError",
    "NotPicklable",
    "UnsafeWarning",
    "enable_faulthandler",
    *_LAZY,
]

if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'ffikit' has no attribute {name!r}")
        __import__(f"ffikit.{module}")  # (importlib itself costs an import)
        value = getattr(_sys.modules[f"ffikit.{module}"], name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(_ModuleType):
    """``ffikit.build`` is both a submodule and the public function: importing the
    submodule (which the import system records as an attribute of the package)
    must not hide the function."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "build" and isinstance(value, _ModuleType):
            value = value.build
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package


def enable_faulthandler() -> bool:
    """Turn on :mod:`faulthandler`, so a C function that crashes at least says where.

    On the compiled backend a fatal signal also prints the C function that was
    running on that thread (``ffikit: fatal signal 11 in C function ... from ...``)
    before faulthandler's Python traceback.

    ``import ffikit`` changes no process-wide state; the ``ffikit`` command, the
    pytest plugin, ``FFIKIT_FAULTHANDLER=1`` or this call turn it on.  Returns
    whether it is on (stderr may have no file descriptor, e.g. under pythonw).
    """
    import faulthandler

    if not faulthandler.is_enabled():
        if _sys.stderr is None:
            return False
        try:
            faulthandler.enable()
        except (AttributeError, ValueError, OSError):  # stderr without a file descriptor
            return False
    # the compiled backend runs no Python frame during a call: its modules name the C function
    __import__("ffikit.backends.compiled")
    _sys.modules["ffikit.backends.compiled"].report_crashes()
    return True


if _os.environ.get("FFIKIT_FAULTHANDLER", "") not in ("", "0"):
    enable_faulthandler()  # asked for explicitly (DESIGN.md, "Errors")
