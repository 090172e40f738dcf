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

import faulthandler as _faulthandler
import importlib as _importlib
import os as _os
import sys as _sys

# ``build`` is both a submodule and a function: bind the function before anything
# imports the submodule and shadows it.
from ffikit.build import build
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
    ProtectedMemory,
    ReadOnlyBuffer,
    SharedMemoryExists,
    SharedMemoryNotFound,
    SymbolNotFound,
    UnknownMember,
    UnsafeWarning,
    UntrustedCache,
)

__version__ = "0.1.0"

# public name -> submodule that defines it (loaded lazily, PEP 562)
_LAZY = {
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
    "view": "memory.views",
    "address": "memory.views",
    "buffer": "memory.views",
    "asarray": "memory.numpy_bridge",
    "dtype": "memory.numpy_bridge",
    "ctype": "memory.numpy_bridge",
    "shared": "memory.shared",
    "alloc": "memory.owned",
    "adopt": "memory.adopted",
    "Memory": "memory.owned",
    "Arena": "memory.pools",
    "Pool": "memory.pools",
    "track": "memory.tracking",
    "Tracker": "memory.tracking",
}

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
    "build",
    "enable_faulthandler",
    *_LAZY,
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ffikit' has no attribute {name!r}")
    value = getattr(_importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def enable_faulthandler() -> bool:
    """Turn on :mod:`faulthandler`, so a C function that crashes at least says where.

    On the compiled backend a fatal signal also prints the C function that was
    running on that thread (``ffikit: fatal signal 11 in C function ... from ...``)
    before faulthandler's Python traceback.

    ``import ffikit`` changes no process-wide state; the ``ffikit`` command, the
    pytest plugin, ``FFIKIT_FAULTHANDLER=1`` or this call turn it on.  Returns
    whether it is on (stderr may have no file descriptor, e.g. under pythonw).
    """
    if not _faulthandler.is_enabled():
        if _sys.stderr is None:
            return False
        try:
            _faulthandler.enable()
        except (AttributeError, ValueError, OSError):  # stderr without a file descriptor
            return False
    # the compiled backend runs no Python frame during a call: its modules name the C function
    _importlib.import_module("ffikit.backends.compiled").report_crashes()
    return True


if _os.environ.get("FFIKIT_FAULTHANDLER", "") not in ("", "0"):
    enable_faulthandler()  # asked for explicitly (DESIGN.md, "Errors")
