"""The compiled backend: a generated CPython extension per set of declarations.

For each declared function whose parameters the C side handles (integers,
floats, pointers to buffers and ctypes objects), a generated module holds a
vectorcall wrapper that applies the boundary rules of
:mod:`ffikit.rules.params` and the declaration's facts (size relations,
``nonnull``, C strings, owned results, ``ffikit.check`` policies) in C,
releases the GIL around the call, and hands anything outside its fast case --
including every refusal -- to the ctypes backend's wrapper for the same
function, so error messages are the same words in both backends.  Modules are built with :func:`ffikit.build` and
cached by content, so only the first load of a set of declarations compiles.

:func:`choose_backend` decides which backend a library uses: ``backend=``
given to ``load``, else ``$FFIKIT_BACKEND``, else ``"auto"`` (compiled where a
C compiler and ``Python.h`` exist, ctypes otherwise).
"""

from __future__ import annotations

import os

from ffikit.backends.compiled.module import (
    CompiledFunctions,
    available,
    build_beside,
    report_crashes,
    search_prebuilt,
)
from ffikit.backends.ctypes.cbhooks import register_provider
from ffikit.errors import ArgumentError, CompileError

__all__ = ["CompiledFunctions", "available", "choose_backend", "BACKENDS", "search_prebuilt",
           "build_beside", "report_crashes"]

BACKENDS = ("auto", "ctypes", "compiled")


def choose_backend(requested: str | None = None) -> tuple[str, str, bool]:
    """``(backend, why, forced)`` for a ``backend=`` argument (None: ``$FFIKIT_BACKEND`` or auto).

    Raises
    ------
    CompileError
        ``"compiled"`` was asked for and this machine cannot build extensions.
    ArgumentError
        Not one of ``"auto"``, ``"ctypes"``, ``"compiled"``.
    """
    source = "backend="
    name = requested
    if name is None:
        name, source = os.environ.get("FFIKIT_BACKEND") or "auto", "FFIKIT_BACKEND="
    if name not in BACKENDS:
        raise ArgumentError(f"{source}{name!r}: the backend must be one of {', '.join(map(repr, BACKENDS))}")
    if name == "ctypes":
        return "ctypes", f"{source}'ctypes' asks for it", True
    ok, why = available()
    if name == "compiled":
        if not ok:
            raise CompileError(f"{source}'compiled' asks for the compiled backend, but {why}")
        return "compiled", f"{source}'compiled' asks for it ({why})", True
    if ok:
        return "compiled", (f"auto: {why}; each function runs on ctypes until its compiled wrapper, "
                            "built in the background, is ready"), False
    if not _fell_back:  # said once per process; FFIKIT_BACKEND=ctypes chooses it silently
        _fell_back.append(why)
        import logging

        logging.getLogger("ffikit").warning(
            "ffikit: using the ctypes backend, as the compiled one is unavailable: %s", why)
    return "ctypes", f"auto: {why}", False


_fell_back: list[str] = []


def _pool_for(fp_type: type) -> object:
    """ffikit.callback's C callback pool for ``fp_type`` (the pool code loads at the first callback)."""
    from ffikit.backends.compiled import cbpool

    return cbpool.pool_for(fp_type)


register_provider(_pool_for)  # ffikit.callback: C callback pools where this backend is chosen
