"""Building, caching and importing compiled backend modules, and binding functions with them.

:func:`available` says whether this machine can build extensions (a C
compiler and ``Python.h``) and why not.  :class:`CompiledFunctions` is what a
library uses: given the declarations it generates one extension module for
every function the C side can handle (:func:`~ffikit.backends.compiled.cgen.shape_of`),
builds it with :func:`ffikit.build` (cached by a hash of the source, which
includes the Python ABI: a later process imports the cached file without
compiling) and, per function, makes the compiled function object.  Functions
it cannot handle return None and are bound by the ctypes backend.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import importlib.util
import inspect
import os
import shutil
import sys
import sysconfig
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from ffikit import forksafe
from ffikit.backends.compiled.cgen import generate, relation_table, shape_of
from ffikit.backends.compiled.classify import (
    BPTR_OFFSET,
    char_param_indexes,
    classifier,
    result_maker,
)
from ffikit.backends.compiled.runtime import RUNTIME_DIR
from ffikit.backends.ctypes import callbacks
from ffikit.backends.ctypes.types import ctype_of
from ffikit.backends.ctypes.wrappers import _restype_for, _safe_name
from ffikit.build import build, compiler_command
from ffikit.cdecl import model as m
from ffikit.errors import CompileError
from ffikit.rules.params import param_rule

__all__ = ["available", "CompiledFunctions", "load_module", "search_prebuilt", "build_beside",
           "report_crashes"]

_modules: dict[str, Any] = {}
_by_declarations: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = forksafe.Lock()
_available: tuple[bool, str] | None = None
_crash_reports: list[bool] = []  # [True] once report_crashes() was asked for
_prebuilt_dirs: list[str] = []
_CFuncPtr = ctypes.CFUNCTYPE(None).__mro__[1]
_void_p = ctypes.c_void_p


def search_prebuilt(directory: str) -> None:
    """Look in ``directory`` for already built modules (``ffikit bind --compiled``) first."""
    if directory not in _prebuilt_dirs:
        _prebuilt_dirs.append(os.fspath(directory))


def _extension_path(directory: str, modname: str) -> str:
    return os.path.join(directory, modname + (sysconfig.get_config_var("EXT_SUFFIX") or ".so"))


def build_beside(directory: str, modname: str, source: str) -> str:
    """Build ``source`` (from :func:`~ffikit.backends.compiled.cgen.generate`) into ``directory``."""
    built = build(source, name=modname.lstrip("_"), include_dirs=_include_dirs(), flags=_flags())
    target = _extension_path(directory, modname)
    shutil.copyfile(built, target + ".partial")
    os.replace(target + ".partial", target)
    return target


def python_include() -> str:
    return sysconfig.get_paths()["include"]


def _include_dirs() -> list[str]:
    """Python.h's directory and the runtime's C files (package data)."""
    return [python_include(), str(RUNTIME_DIR)]


def _flags() -> list[str]:
    """Extension build flags: hidden symbols; on macOS, Python's symbols resolved at import."""
    flags = ["-O1", "-fvisibility=hidden"]  # thin wrappers: -O1 calls as fast as -O2, compiles 2x faster
    if sys.platform == "darwin":
        flags += ["-undefined", "dynamic_lookup"]
    return flags


def available() -> tuple[bool, str]:
    """``(True, why)`` when extensions can be built here, else ``(False, why not)``."""
    global _available
    if _available is None:
        header = os.path.join(python_include(), "Python.h")
        cc = compiler_command()
        if sys.implementation.name != "cpython":
            _available = (False, f"{sys.implementation.name} is not CPython")
        elif sys.platform == "win32":
            _available = (False, "building extensions on Windows needs Python's import library (not done yet)")
        elif shutil.which(cc[0]) is None:
            _available = (False, f"no C compiler ({cc[0]!r} not on PATH; set $CC)")
        elif not os.path.exists(header):
            _available = (False, f"no Python headers ({header} missing; install python3-dev)")
        elif BPTR_OFFSET < 0:
            _available = (False, "unknown ctypes object layout")
        else:
            _available = (True, f"C compiler {cc[0]!r} and {header} found")
    return _available


def load_module(shapes: list[tuple]) -> Any:
    """The extension module with one wrapper per shape: built once, then imported from the cache."""
    modname, source, wrappers = generate(shapes)
    module = _modules.get(modname)
    if module is not None:
        return module
    with _lock:
        module = _modules.get(modname)
        if module is None:
            prebuilt = [p for p in (_extension_path(d, modname) for d in _prebuilt_dirs) if os.path.exists(p)]
            path = prebuilt[0] if prebuilt else build(
                source, name=modname.lstrip("_"), include_dirs=_include_dirs(), flags=_flags())
            loader = importlib.machinery.ExtensionFileLoader(modname, path)
            spec = importlib.util.spec_from_file_location(modname, path, loader=loader)
            module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
            loader.exec_module(module)
            module.setup(_CFuncPtr)
            _check_errno(module)
            if _crash_reports:  # ffikit.enable_faulthandler() was called
                module.report_crashes()
            module.C_SOURCE = source
            module.WRAPPERS = wrappers
            callbacks.register_finder(module.current)
            _modules[modname] = module
    return module


def report_crashes() -> None:
    """A fatal signal during a compiled call names the C function (every module, now and later)."""
    with _lock:
        if not _crash_reports:
            _crash_reports.append(True)
        for module in _modules.values():
            module.report_crashes()


def _signature(ftype: m.FunctionType) -> inspect.Signature:
    """The positional-only signature the ctypes backend's wrapper has (for help() and IDEs)."""
    taken: set[str] = set()
    names = [_safe_name(n, i, taken) for i, n in enumerate(ftype.param_names)]
    params = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY) for n in names]
    if ftype.variadic:
        params.append(inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL))
    return inspect.Signature(params)


def _check_errno(module: Any) -> None:
    """Turn on ctypes-compatible errno handling if the module finds ctypes' errno copy."""
    saved = ctypes.get_errno()
    try:
        ctypes.set_errno(31337)
        found = module.errno_probe(True)
        if found != 31337:
            module.errno_probe(False)  # unknown ctypes internals: ctypes.get_errno() stays as it was
    finally:
        ctypes.set_errno(saved)


class CompiledFunctions:
    """The compiled wrappers for one set of declarations, built on first use.

    ``get(name, ftype, cfunc, make_slow, errors)`` returns the compiled
    function object for ``name``, or None when the function stays on the
    ctypes backend (``reasons[name]`` says why).
    """

    @classmethod
    def for_declarations(cls, defs: Any, encoding: str) -> CompiledFunctions:
        """One instance per (declarations object, encoding): later loads reuse its work."""
        try:
            per = _by_declarations.setdefault(defs, {})
        except TypeError:  # not weakly referenceable: no reuse
            per = {}
        found = per.get(encoding)
        if found is None or len(found._names) != len(defs.functions):
            functions = {n: getattr(d, "type", d) for n, d in defs.functions.items()}
            found = per[encoding] = cls(functions, encoding)
        return found

    def __init__(self, functions: dict[str, m.FunctionType], encoding: str):
        self._names = tuple(functions)
        self.encoding = encoding
        self.reasons: dict[str, str] = {}
        self._index: dict[str, int] = {}
        shapes: dict[tuple, int] = {}
        for name, ftype in functions.items():
            shape = shape_of(name, ftype)
            if isinstance(shape, str):
                self.reasons[name] = shape
                continue
            self._index[name] = shapes.setdefault(shape, len(shapes))
        self._shapes = list(shapes)
        self._module: Any = None
        self._static: dict[str, tuple] = {}
        self.error: CompileError | None = None

    @property
    def module(self) -> Any:
        if self._module is None and self._shapes and self.error is None:
            try:
                self._module = load_module(self._shapes)
            except (CompileError, ImportError, OSError) as exc:  # stay correct: ctypes binds all
                self.error = exc if isinstance(exc, CompileError) else CompileError(str(exc))
        return self._module

    def handles(self, name: str) -> bool:
        return name in self._index

    def get(self, name: str, ftype: m.FunctionType, cfunc: Any, make_slow: Callable[[], Callable],
            errors: Callable | None, rels: tuple = (), own: Callable | None = None) -> Any:
        """The compiled function, or None; ``rels`` are its size relations
        (:func:`ffikit.rules.sizes.relations`, with any ``sizes=``), ``own`` the
        owner maker for a result the caller owns."""
        index = self._index.get(name)
        if index is None or self.module is None:
            return None
        table = relation_table(rels, self._shapes[index][1])
        if isinstance(table, str):  # (a sizes= relation C cannot check): the ctypes backend binds it
            return None
        static = self._static.get(name)
        if static is None:  # what every library bound with these declarations shares
            declaration = ftype.c_name(name) + ";"
            restype = _restype_for(ftype.result)
            static = self._static[name] = (
                classifier(name, ftype, self.encoding, char_param_indexes(ftype)),
                result_maker(restype),
                tuple(ctype_of(p) if param_rule(p).kind == "function_pointer" else None
                      for p in ftype.params),
                {"__name__": name, "__qualname__": name, "declaration": declaration,
                 "__doc__": f"C function ``{declaration}`` (argument conversion per ffikit's "
                            "boundary rules; compiled).",
                 "shape": self._shapes[index], "source": self.module.WRAPPERS[index],
                 "__signature__": _signature(ftype)},
                ctypes.sizeof(restype) if isinstance(restype, type) else 0,
            )
        address = _void_p.from_buffer(cfunc).value
        func = self.module.make(index, address, make_slow, errors, static[0], static[1], BPTR_OFFSET,
                                static[2], table, own, static[4])
        attributes = func.__dict__
        attributes.update(static[3])
        attributes["cfunc"] = cfunc
        func.crash_label = static[3]["declaration"]
        attributes["relations"] = rels  # the size relations checked before each call (in C)
        return func

    def describe(self) -> Iterable[tuple[str, str]]:
        """``(name, backend or reason)`` for every declared function."""
        for name in self._index:
            yield name, "compiled"
        for name, reason in self.reasons.items():
            yield name, f"ctypes ({reason})"
