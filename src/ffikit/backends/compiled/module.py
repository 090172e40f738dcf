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
import functools
import os
import sys
import weakref
from collections.abc import Callable, Iterable

from ffikit import forksafe
from ffikit.backends.compiled import background, usage
from ffikit.backends.compiled.classify import BPTR_OFFSET, classifier, result_maker
from ffikit.backends.compiled.extload import import_extension
from ffikit.backends.compiled.recorded import RecordedUse
from ffikit.backends.compiled.runtime import RUNTIME_DIR
from ffikit.backends.compiled.sizetable import relation_table
from ffikit.backends.ctypes import callbacks
from ffikit.backends.ctypes.wrappers import _restype_for, _safe_name
from ffikit.cachedir import compiler_command, default_cache_dir, which
from ffikit.cdecl import model as m
from ffikit.errors import CompileError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["available", "CompiledFunctions", "load_module", "search_prebuilt", "build_beside",
           "report_crashes"]

_modules: dict[str, Any] = {}
_by_declarations: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = forksafe.Lock()
_requests = forksafe.Lock()  # never held while compiling: requesting a build never waits
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
    import sysconfig

    return os.path.join(directory, modname + (sysconfig.get_config_var("EXT_SUFFIX") or ".so"))


def build_beside(directory: str, modname: str, source: str) -> str:
    """Build ``source`` (from :func:`~ffikit.backends.compiled.cgen.generate`) into ``directory``."""
    import shutil

    from ffikit.build import build

    cached = build(source, name=modname.lstrip("_"), include_dirs=_include_dirs(), flags=_flags())
    target = _extension_path(directory, modname)
    shutil.copyfile(cached, target + ".partial")
    os.replace(target + ".partial", target)
    return target


@functools.cache
def python_include() -> str:
    """The directory of this interpreter's ``Python.h``.

    CPython's install scheme puts it at ``<base prefix>/include/python3.X<abiflags>``;
    when ``Python.h`` is there, that answer is :mod:`sysconfig`'s without the cost of
    importing it on the way to a first call, else sysconfig is asked.
    """
    guess = os.path.join(sys.base_prefix, "include",
                         f"python{sys.version_info[0]}.{sys.version_info[1]}{getattr(sys, 'abiflags', '')}")
    if os.path.isfile(os.path.join(guess, "Python.h")):
        return guess
    import sysconfig

    return sysconfig.get_paths()["include"]


def _include_dirs() -> list[str]:
    """Python.h's directory and the runtime's C files (package data)."""
    return [python_include(), RUNTIME_DIR]


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
        elif which(cc[0]) is None:
            _available = (False, f"no C compiler ({cc[0]!r} not on PATH; set $CC)")
        elif not os.path.exists(header):
            _available = (False, f"no Python headers ({header} missing; install python3-dev)")
        elif BPTR_OFFSET < 0:
            _available = (False, "unknown ctypes object layout")
        else:
            _available = (True, f"C compiler {cc[0]!r} and {header} found")
    return _available


def load_module(shapes: list[tuple], compile: bool = True, found: tuple[str, str] | None = None) -> Any:
    """The extension module with one wrapper per shape: built once, then imported from the cache.

    With ``compile=False``, None unless it is already built (nothing waits on a compiler).
    ``found``: the ``(module name, verified file)`` an index entry names (:mod:`.modindex`),
    imported without generating the source (its ``C_SOURCE``/``WRAPPERS`` are then None).
    """
    source, wrappers = "", None
    if found is None:
        from ffikit.backends.compiled.cgen import generate

        modname, source, wrappers = generate(shapes)
    else:
        modname = found[0]
    module = _modules.get(modname)
    if module is not None:
        return module
    path: str | None
    if found is not None:
        path = found[1]
    else:
        prebuilt = [p for p in (_extension_path(d, modname) for d in _prebuilt_dirs) if os.path.exists(p)]
        # Compiled outside the lock: a thread importing another module never waits on this compiler
        # (two threads building the same module both get the same cache entry, renamed atomically).
        from ffikit.build import build, built  # (a warm start that finds its module: not imported)

        name, include_dirs, flags = modname.lstrip("_"), _include_dirs(), _flags()
        if prebuilt:
            path = prebuilt[0]
        elif compile:
            path = build(source, name, include_dirs=include_dirs, flags=flags)
        else:
            path = built(source, name, include_dirs=include_dirs, flags=flags)
    if path is None:
        return None
    with _lock:
        module = _modules.get(modname)
        if module is None:
            module = import_extension(modname, path)
            module.setup(_CFuncPtr)
            _check_errno(module)
            if _crash_reports:  # ffikit.enable_faulthandler() was called
                module.report_crashes()
            # what it was built from (the C source, each wrapper's text) for error reports
            module.__dict__.update(C_SOURCE=source or None, WRAPPERS=wrappers)
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


def _signature(ftype: m.FunctionType) -> Any:
    """The positional-only signature the ctypes backend's wrapper has (for help() and IDEs;
    made when first read, so binding never imports :mod:`inspect`)."""
    import inspect

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


class CompiledFunctions(RecordedUse):
    """The compiled wrappers for one set of declarations.

    Two ways to get them: :meth:`get` builds (once) one module with every
    declared function's wrapper and returns the function's compiled object
    (``backend="compiled"``: the caller waits for the compiler); :meth:`request`
    asks the background builder for just that function's wrapper and calls
    back when it is ready (``backend="auto"``: nobody waits).  Functions the
    C side cannot handle stay on the ctypes backend (``reasons[name]`` says why).
    """

    _requests = _requests
    _prebuilt_dirs = _prebuilt_dirs
    _load_module = staticmethod(load_module)

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
            state = getattr(defs, "__dict__", None)  # (the declaration cache's content key)
            model_key = state.get("_model_key") if isinstance(state, dict) else None
            found = per[encoding] = cls(functions, encoding, model_key,
                                        getattr(defs, "c_declaration", None))
        return found

    def __init__(self, functions: dict[str, m.FunctionType], encoding: str,
                 model_key: str | None = None, spell: Callable[[str], str] | None = None):
        self._functions = functions
        self._spell = spell  # name -> its declaration text, made once by the declarations
        self._names = tuple(functions)
        self.encoding = encoding
        self.model_key = model_key  # names the declarations' content: the index may be used
        self._declared: dict[str, str] = {}  # name -> its declaration as C text
        self._indexed: tuple | None = None  # (names, shapes, module) last read or written
        self._shape_of: dict[str, Any] = {}  # name -> shape, or why it stays on ctypes
        self._where: dict[tuple, tuple[Any, int]] = {}  # shape -> (module, index) once built
        self._waiting: dict[tuple, list[Callable]] = {}  # shape -> callbacks of requests
        self._full: Any = None
        self._looked_beside = False
        self._recorded: list[str] | None = None  # functions earlier processes used (see _use_recorded)
        self._unchecked: dict[str, str] = {}
        self._published: list[str] = []
        self._cache_dir = default_cache_dir()  # the usage record as this process last read or wrote it
        self._prebuild = False  # build the recorded functions before anyone asks
        self._requested: set[str] = set()
        self._static: dict[str, tuple] = {}
        self.error: CompileError | None = None
        self._lazy_hook = self._lazy  # (one bound method for every function)

    def shape(self, name: str) -> Any:
        """The wrapper shape ``name`` needs (a tuple), or why it stays on ctypes (a str)."""
        if self._unchecked and name in self._unchecked:  # (given by the index: checked once)
            self._check_indexed(name)
        found = self._shape_of.get(name)
        if found is None:
            from ffikit.backends.compiled.cgen import shape_of

            found = self._shape_of[name] = shape_of(name, self._functions[name])
        return found

    def declaration(self, name: str) -> str:
        """``name``'s declaration as C text (``int f(int);``)."""
        found = self._declared.get(name)
        if found is None:
            text = self._spell(name) if self._spell is not None else self._functions[name].c_name(name)
            found = self._declared[name] = text + ";"
        return found

    @property
    def reasons(self) -> dict[str, str]:
        """Why each function the compiled backend does not handle stays on ctypes."""
        return {n: s for n in self._names if isinstance(s := self.shape(n), str)}

    @property
    def _shapes(self) -> list[tuple]:
        """Every distinct shape of the declared functions, in declaration order."""
        return list(dict.fromkeys(s for n in self._names if not isinstance(s := self.shape(n), str)))

    def _failed(self, exc: BaseException) -> None:
        self.error = exc if isinstance(exc, CompileError) else CompileError(str(exc))

    def _add(self, module: Any, shapes: list[tuple]) -> None:
        for index, shape in enumerate(shapes):
            self._where.setdefault(shape, (module, index))

    @property
    def module(self) -> Any:
        """The module with every declared function's wrapper (built on first use, then cached)."""
        if self._full is None and self.error is None:
            shapes = self._shapes
            if shapes:
                try:
                    self._full = load_module(shapes)
                except (CompileError, ImportError, OSError) as exc:  # stay correct: ctypes binds all
                    self._failed(exc)
                    return None
                self._add(self._full, shapes)
        return self._full

    def handles(self, name: str) -> bool:
        return name in self._functions and not isinstance(self.shape(name), str)

    def ready(self, name: str) -> bool:
        """True when ``name``'s compiled wrapper is built (so :meth:`get` does not compile).

        A module built beside a generated binding (``ffikit bind --compiled``) is
        imported here at once: using it needs no compiler.
        """
        if self._recorded is None:  # (first: the index may give the shape)
            self._use_recorded()
        shape = self.shape(name)
        if shape not in self._where and _prebuilt_dirs and not self._looked_beside:
            self._looked_beside = True
            shapes = self._shapes
            from ffikit.backends.compiled.cgen import generate

            if shapes and any(os.path.exists(_extension_path(d, generate(shapes)[0]))
                              for d in _prebuilt_dirs):
                self.module  # noqa: B018 - imports the prebuilt module
        return shape in self._where

    def request(self, name: str, on_ready: Callable[[CompileError | None], None]) -> None:
        """Have ``name``'s wrapper built in the background; ``on_ready(error)`` is called after
        (on the builder thread, or at once when it is already built or failed)."""
        if self._recorded is None:
            self._use_recorded()
        shape = self.shape(name)
        with _requests:
            done = shape in self._where or self.error is not None
            if not done:
                self._waiting.setdefault(shape, []).append(on_ready)
                if name not in self._requested:
                    self._requested.add(name)
                    self._cache_dir = default_cache_dir()
                    usage.remember(self)  # written at exit, even if the build never finishes
        if done:
            on_ready(self.error if shape not in self._where else None)
        else:
            background.schedule(self)

    def build_pending(self) -> None:
        """Build one module with the wrappers requested so far (the builder thread runs this)."""
        with _requests:
            missing = [s for s in self._waiting if s not in self._where]
            names = sorted({*(self._recorded or ()), *self._requested})
            prebuild, self._prebuild = self._prebuild, False
        shapes = sorted({*missing, *(self.shape(n) for n in names)}, key=repr)
        if prebuild and any(s not in self._where for s in shapes):
            missing = missing or shapes
        if missing and self.error is None:
            try:
                module = load_module(shapes)
                self._add(module, shapes)
                self._record(names)
                self._index(names, shapes, module)
            except (CompileError, ImportError, OSError) as exc:
                self._failed(exc)
                if not background.exiting():
                    import logging

                    logging.getLogger("ffikit.backends.compiled").warning(
                        "ffikit: building compiled wrappers failed; these functions stay on "
                        "the ctypes backend: %s", str(exc).splitlines()[0])
        with _requests:
            ready = [s for s in self._waiting if s in self._where or self.error is not None]
            callbacks = [c for s in ready for c in self._waiting.pop(s)]
        for on_ready in callbacks:
            if background.exiting():
                return
            on_ready(None if self.error is None else self.error)

    def get(self, name: str, ftype: m.FunctionType, cfunc: Any, make_slow: Callable[[], Callable],
            errors: Callable | None, rels: tuple = (), own: Callable | None = None) -> Any:
        """The compiled function, or None; ``rels`` are its size relations
        (:func:`ffikit.rules.sizes.relations`, with any ``sizes=``), ``own`` the
        owner maker for a result the caller owns."""
        shape = self.shape(name)
        if isinstance(shape, str):
            return None
        if shape not in self._where and self.module is None:
            return None
        table = relation_table(rels, shape[1]) if rels else ()
        if isinstance(table, str):  # (a sizes= relation C cannot check): the ctypes backend binds it
            return None
        module, index = self._where[shape]
        static = self._static.get(name)
        if static is None:  # what every library bound with these declarations shares
            declaration = self.declaration(name)
            # only pointer and struct results are built as a class (other kinds: C's own), and
            # a pointer's class only when the first result is (C calls the function given)
            rkind, rtype = shape[0][0], ftype.result
            restype = _restype_for(rtype) if rkind == "struct" else None
            fptypes: list = [None] * len(ftype.params)  # each filled in by the classifier
            static = self._static[name] = (
                classifier(name, ftype, self.encoding, fptypes=fptypes),
                (lambda: result_maker(_restype_for(rtype))) if rkind == "pointer" else
                result_maker(restype),
                fptypes,
                {"__name__": name, "__qualname__": name, "declaration": declaration,
                 "__doc__": f"C function ``{declaration}`` (argument conversion per ffikit's "
                            "boundary rules; compiled).",
                 "shape": shape, "__ffikit_lazy__": self._lazy_hook},  # source, __signature__: when read
                ctypes.sizeof(restype) if isinstance(restype, type) else 0,
            )
        address = _void_p.from_buffer(cfunc).value
        func = module.make(index, address, make_slow, errors, static[0], static[1], BPTR_OFFSET,
                           static[2], table, own, static[4])
        # relations: the size relations checked before each call (in C)
        func.__dict__.update(static[3], cfunc=cfunc, relations=rels)
        func.crash_label = static[3]["declaration"]
        return func

    def _lazy(self, func: Any, attribute: str) -> Any:
        """A compiled function's ``source`` (its wrapper's C) or ``__signature__``, when first read."""
        name = func.__dict__["__name__"]
        if attribute == "__signature__":
            return _signature(self._functions[name])
        shape = func.__dict__["shape"]
        module, index = self._where[shape]
        if module.WRAPPERS is not None:
            return module.WRAPPERS[index]
        from ffikit.backends.compiled.cgen import wrapper_source

        return wrapper_source(index, shape)

    def describe(self) -> Iterable[tuple[str, str]]:
        """``(name, backend or reason)`` for every declared function."""
        for name in self._names:
            shape = self.shape(name)
            yield name, f"ctypes ({shape})" if isinstance(shape, str) else "compiled"
