"""Finding and loading shared libraries, with diagnostics, and binding their symbols.

``ffikit.load("z", defs)`` tries every plausible file for a name and, if none
loads, raises :class:`ffikit.LibraryNotFound` listing each candidate and why
it failed: no such file, permission denied, a 32-bit or foreign-architecture
library (read from its ELF header), or a dependency the loader could not find
(named).  A relative path is resolved against the *calling file's* directory
first and then the working directory, so code keeps finding its library after
it is packaged or run from elsewhere.

:func:`candidates` is the search itself, reusable by ``ffikit doctor``.
"""

from __future__ import annotations

import ctypes
import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from types import SimpleNamespace

from ffikit.backends.compiled import choose_backend
from ffikit.backends.ctypes.converters import int_slow
from ffikit.boundary import elf as _elf
from ffikit.boundary import names as _names
from ffikit.boundary.bound import BoundFunction, bind_function, reload, wait_compiled
from ffikit.boundary.finding import (
    Candidate,
    candidates,
    dlopen_mode,
    hint_for,
    loaded_path,
    search,
)
from ffikit.boundary.finding import caller_dir as _caller_dir
from ffikit.boundary.names import Symbols
from ffikit.cdecl import model as m
from ffikit.errors import LibraryNotFound, SymbolNotFound, UnsafeWarning
from ffikit.memory import tracking
from ffikit.rules.kinds import int_range
from ffikit.rules.messages import Param
from ffikit.rules.sizes import user_access

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ffikit.boundary.cfunction import CFunction

__all__ = ["BoundFunction", "Candidate", "Library", "Symbols", "candidates", "load"]

def _as_declarations(declarations: object, header: str | os.PathLike[str] | None) -> Any:
    if declarations is None and header is None:
        return SimpleNamespace(functions={}, variables={}, types={})
    if header is not None:
        from ffikit.backends.ctypes.declarations import include

        declarations = include(header) if declarations is None else declarations
    if isinstance(declarations, str):
        from ffikit.backends.ctypes.declarations import cdef

        return cdef(declarations)
    if not hasattr(declarations, "functions"):
        raise TypeError(
            f"declarations must be ffikit.Declarations or C text (got {type(declarations).__name__})"
        )
    return declarations


class Library:
    """A loaded shared library whose declared functions are bound on first access.

    ``lib.name`` is the bound function (built once, then cached), or the
    value of a declared ``extern`` variable; ``lib.name = v`` writes a
    non-const variable.  ``lib.path`` is the file loaded, ``lib.defs`` the
    declarations, ``lib.symbols`` which declared names were found.
    Calls release the GIL while C runs (ctypes' ``CDLL`` behaviour).
    """

    # set once in __init__ (through object.__setattr__: plain assignment writes C variables)
    path: str
    _file: str  # the file name of path, as messages show it
    defs: Any
    encoding: str
    backend: str
    backend_reason: str
    _handle: Any
    _sizes: dict[str, dict[str, object]]
    _policies: dict[str, Callable[..., Any]]
    _exports: frozenset[str] | None  # read on first use
    _forced: Any
    _compiled: Any
    _recipe: tuple[str, int | None]

    def __init__(
        self,
        handle: Any,
        path: str,
        defs: Any,
        *,
        errors: Mapping[str, Callable[..., Any]] | None = None,
        encoding: str = "utf-8",
        sizes: Mapping[str, Mapping[str, object]] | None = None,
        backend: str | None = None,
    ):
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_sizes", {k: dict(v) for k, v in (sizes or {}).items()})
        for key, value in zip(("backend", "backend_reason", "_forced", "_compiled"),
                              (*choose_backend(backend), None)):
            object.__setattr__(self, key, value)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "_file", os.path.basename(path))  # (as messages name it)
        object.__setattr__(self, "defs", defs)
        object.__setattr__(self, "encoding", encoding)
        object.__setattr__(self, "_policies", dict(errors or {}))
        object.__setattr__(self, "_exports", None)
        for fname in self._policies:
            if fname not in defs.functions:
                raise SymbolNotFound(
                    f"errors= names {fname!r}, which is not a declared function", self._later(fname)
                )
        for fname, spec in self._sizes.items():
            if fname not in defs.functions:
                raise SymbolNotFound(
                    f"sizes= names {fname!r}, which is not a declared function", self._later(fname)
                )
            decl = defs.functions[fname]
            user_access(fname, decl.type if hasattr(decl, "type") else decl, spec)  # checked now

    def __repr__(self) -> str:
        fallback = f": {self.backend_reason}" if self.backend == "ctypes" and not self._forced else ""
        return (f"<ffikit.Library {self.path!r} ({len(self.defs.functions)} functions declared, "
                f"{self.backend} backend{fallback})>")

    # -- symbols ------------------------------------------------------------------
    def _has(self, name: str) -> bool:
        try:
            getattr(self._handle, name)
        except AttributeError:
            return False
        return True

    def exports(self) -> frozenset[str]:
        """Names the library file exports (from its ELF dynamic symbol table)."""
        names = self._exports
        if names is None:
            try:
                names = _elf.read_elf(self.path).exports if os.path.isabs(self.path) else frozenset()
            except (OSError, _elf.NotElf):
                names = frozenset()
            object.__setattr__(self, "_exports", names)
        return names

    def _later(self, name: str) -> Callable[[], str]:
        return lambda: self._suggest(name)  # difflib only if the message is shown

    def _suggest(self, name: str) -> str:
        return _names.suggest(self, name)

    @property
    def symbols(self) -> Symbols:
        names = list(self.defs.functions) + list(getattr(self.defs, "variables", {}))
        found = [n for n in names if self._has(n)]
        return Symbols(found, [n for n in names if n not in found])

    # -- functions and variables -----------------------------------------------------
    def __getattr__(self, name: str) -> CFunction:  # an extern variable reads as its value
        if _names.is_protocol(name):  # Python's own lookups (__len__, __fspath__): fast
            raise AttributeError(name)
        found: CFunction = self[name]  # typed as a function: the common case (see CFunction)
        return found

    def __getitem__(self, name: str) -> Any:
        """``lib["name"]``: any declared or macro-named function, variable or constant."""
        kind, what = _names.resolve(self, name)
        if kind == "function":
            ftype = what.type if hasattr(what, "type") else what
            symbol = getattr(what, "symbol", None) or name  # __asm__("symbol") labels
            try:
                cfunc = self._handle[symbol]
            except AttributeError:
                raise SymbolNotFound(_names.not_exported(self, name, symbol, ftype),
                                     self._later(name)) from None
            wrapper = bind_function(self, name, ftype, cfunc, _TRACK_OWNED)
            if not _names.is_protocol(name):
                object.__setattr__(self, name, wrapper)
            return wrapper
        if kind == "variable":
            obj = self._variable(name)
            return getattr(obj, "value", obj) if isinstance(obj, ctypes._SimpleCData) else obj
        if kind == "constant":
            return what
        if kind == "alias":
            wrapper = self[what]
            if callable(wrapper):
                object.__setattr__(self, name, wrapper)
            return wrapper
        raise SymbolNotFound(what, None if "is not declared" in what else self._later(name))

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | _names.listing(self))

    def _variable(self, name: str) -> Any:
        var = self.defs.variables[name]
        ct: Any = ctype_of_var(var)
        try:
            return ct.in_dll(self._handle, getattr(var, "symbol", None) or name)
        except ValueError:
            raise SymbolNotFound(
                f"{os.path.basename(self.path)} does not export variable {name!r}", self._later(name)
            ) from None

    def _deallocator(self, name: str) -> Callable[..., Any]:
        """The function that frees a declared ``malloc (dealloc, i)`` result."""
        if name in ("free", "__builtin_free") and "free" not in self.defs.functions:
            return _libc_free()
        if name in self.defs.functions:
            declared: CFunction = getattr(self, name)
            return declared
        raw: ctypes._NamedFuncPointer = self._handle[name]  # undeclared: called with the pointer as ctypes passes it
        raw.argtypes, raw.restype = [ctypes.c_void_p], None
        return raw

    def var(self, name: str) -> Any:
        """The ctypes object living at the global ``name`` (reads and writes go to C).

        For ``const`` globals write through ``lib.name`` is refused; this
        object is the raw memory and is not protected, so asking for it warns
        (:class:`ffikit.UnsafeWarning`).
        """
        if name not in getattr(self.defs, "variables", {}):
            raise SymbolNotFound(f"{name!r} is not a declared variable", self._later(name))
        if getattr(self.defs.variables[name], "const", False):
            warnings.warn(f"lib.var({name!r}) gives writable access to a const global; writing "
                          "it is undefined behaviour (it may sit in read-only pages and fault)",
                          UnsafeWarning, stacklevel=2)
        return self._variable(name)

    def __setattr__(self, name: str, value: Any) -> None:
        variables = getattr(self.defs, "variables", {})
        if name not in variables:
            raise AttributeError(f"cannot set {name!r} on a Library: only declared extern variables are writable")
        var = variables[name]
        vtype = var.type if hasattr(var, "type") else var
        if getattr(var, "const", False):
            raise AttributeError(f"extern variable {name!r} is const ({var}); it cannot be written")
        obj = self._variable(name)
        r = m.resolve(vtype)
        if isinstance(r, m.Primitive) and r.is_integer:
            lo, hi = int_range(r)
            obj.value = int_slow(Param(name, 0, name, vtype), lo, hi, False)(value)
        elif isinstance(obj, ctypes._SimpleCData):
            obj.value = value
        elif isinstance(value, type(obj)):
            ctypes.memmove(ctypes.addressof(obj), ctypes.addressof(value), ctypes.sizeof(obj))
        else:
            raise TypeError(f"extern variable {name!r} is {vtype.c_name()}; assign a {type(obj).__name__}")

    wait_compiled = wait_compiled

    def new(self, spec: object, init: object = None) -> Any:
        """:func:`ffikit.new` with this library's declarations (``lib.new("sqlite3 *")``)."""
        from ffikit.memory.new import new

        return new(spec, init, defs=self.defs)

    # -- pickling: by recipe ----------------------------------------------------------
    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        """Pickle as (path, name asked for, declarations, options); the receiving
        process loads the library again (once per process) and binds on first use."""
        name, mode = self.__dict__.get("_recipe") or (self.path, None)
        options = {"errors": self._policies or None, "encoding": self.encoding,
                   "sizes": self._sizes or None, "backend": self._forced and self.backend or None}
        return (reload, (load, self.path, name, self.defs, mode, options))


def _owned(owned: Any) -> None:
    if tracking.ACTIVE:
        tracking.record("owned result", owned, 0, owned.address)


def _released(owned: Any) -> None:
    if tracking.ACTIVE:
        tracking.forget(owned)


_TRACK_OWNED = (_owned, _released)  # ffikit.track() follows owned results like alloc/adopt
_free = None


def _libc_free() -> Callable[..., Any]:
    global _free
    if _free is None:
        _free = ctypes.CDLL(None).free
        _free.argtypes, _free.restype = [ctypes.c_void_p], None
    return _free


def ctype_of_var(var: Any) -> type:
    from ffikit.backends.ctypes.types import ctype_of

    vtype = var.type if hasattr(var, "type") else var
    return ctype_of(vtype)  # type: ignore[return-value]


def load(
    name_or_path: str | os.PathLike[str],
    declarations: object = None,
    *,
    header: str | os.PathLike[str] | None = None,
    search_paths: Iterable[str | os.PathLike[str]] = (),
    mode: int | None = None,
    errors: Mapping[str, Callable[..., Any]] | None = None,
    encoding: str = "utf-8",
    sizes: Mapping[str, Mapping[str, object]] | None = None,
    backend: str | None = None,
) -> Library:
    """Load a shared library and bind it to its declarations.

    Parameters
    ----------
    name_or_path
        ``"z"``, ``"libz.so.1"``, ``"./build/libfib.so"`` (relative to the
        calling file's directory first, then the working directory) or an
        absolute path.
    declarations
        :class:`ffikit.Declarations` or C text (``"double cos(double);"``).
    header
        A header to ``ffikit.include`` when ``declarations`` is not given.
    search_paths
        Directories searched before the system loader for bare names.
    mode
        ``dlopen`` flags (default ``ctypes.DEFAULT_MODE``).
    errors
        Error policies per function name: ``{"compress": ffikit.check.nonzero}``.
    encoding
        Encoding of ``str`` passed to ``const char *`` (default UTF-8).
    sizes
        Size relations for declarations that carry none, per function:
        ``{"scale": {"a": "n"}}`` says buffer ``a`` holds at least ``n``
        elements; ``{"fill": {"buf": 16}}`` a constant count.  Checked before
        each call like the header's own ``access`` attributes and array bounds.
    backend
        ``"auto"`` (compiled where a C compiler and Python.h exist, else ctypes),
        ``"compiled"`` or ``"ctypes"``; default ``$FFIKIT_BACKEND``, else auto.

    Raises
    ------
    LibraryNotFound
        Listing every candidate tried and why each failed.
    """
    defs = _as_declarations(declarations, header)
    tried: list[Candidate] = []
    name_or_path = os.fspath(name_or_path)
    caller = None if os.path.isabs(name_or_path) else _caller_dir()  # only relative paths need it
    for cand in search(name_or_path, tuple(search_paths), caller, dlopen_mode(mode)):
        if cand.loaded:
            path = cand.handle._name
            if cand.system:
                path = loaded_path(cand.handle) or path
            lib = Library(cand.handle, path, defs, errors=errors, encoding=encoding, sizes=sizes,
                          backend=backend)
            object.__setattr__(lib, "_recipe", (os.fspath(name_or_path), mode))
            return lib
        tried.append(cand)
    lines = "\n".join(f"  {c}" for c in tried)
    hint = "\nhint: " + hint_for(tried)
    raise LibraryNotFound(
        f"cannot load library {name_or_path!r}; tried:\n{lines}{hint}",
        [(c.path, c.reason or "") for c in tried],
    )
