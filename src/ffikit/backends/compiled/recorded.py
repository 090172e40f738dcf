"""What earlier processes used: the compiled functions' side of the usage record and the index.

:class:`RecordedUse` is the part of
:class:`~ffikit.backends.compiled.module.CompiledFunctions` that reads the
usage record (:mod:`.usage`) at the first bind and imports the module built
for the functions it lists -- through the index entry (:mod:`.modindex`) when
one checks out, without generating C, else by generating the source to find
the cached module -- and that writes the record and the index entry back
after a build and at exit.
"""

from __future__ import annotations

from collections.abc import Callable

from ffikit import forksafe
from ffikit.backends.compiled import background, modindex, usage
from ffikit.errors import CompileError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["RecordedUse"]

_checking = forksafe.Lock()


class RecordedUse:
    """The usage record and index methods of the compiled functions of one declaration set."""

    # set by CompiledFunctions
    _functions: dict[str, Any]
    _names: tuple[str, ...]
    encoding: str
    model_key: str | None
    error: CompileError | None
    _cache_dir: Any
    _recorded: list[str] | None
    _unchecked: dict[str, str]  # name -> the declaration the index entry gave, until compared
    _published: list[str]
    _requested: set[str]
    _indexed: tuple | None
    _shape_of: dict[str, Any]
    _prebuild: bool
    _requests: Any  # the lock around requests
    _prebuilt_dirs: list[str]
    _load_module: Callable[..., Any]
    shape: Callable[[str], Any]
    handles: Callable[[str], bool]
    declaration: Callable[[str], str]
    _add: Callable[[Any, list[tuple]], None]

    def _usage_file(self, create: bool = False) -> Any:
        # the cache in force when a function was last requested: a record written at exit
        # goes there, whatever $FFIKIT_CACHE_DIR says by then
        return usage.usage_file(self._names, self.encoding, create=create, cache_dir=self._cache_dir)

    def _use_recorded(self) -> None:
        """Import (never compile) the module built for the functions earlier processes used, so a
        steady program has them compiled from its first call; when it is not built yet (an
        earlier process exited first), build it in the background now (:mod:`.usage`)."""
        self._recorded = []
        try:
            names = [n for n in usage.read(self._usage_file()) if n in self._functions]
            if names and self._use_indexed(names):
                return
        except (CompileError, ImportError, OSError, ValueError, TypeError, KeyError):
            return
        self._use_generated(names)

    def _use_generated(self, names: list[str]) -> None:
        """:meth:`_use_recorded` without the index: generate the source to find the module."""
        try:
            names = [n for n in names if self.handles(n)]
            self._recorded = self._published = names
            shapes = sorted({self.shape(n) for n in names}, key=repr)
            module = self._load_module(shapes, compile=False) if shapes else None
        except (CompileError, ImportError, OSError, ValueError, TypeError, KeyError):
            return
        if module is not None:
            self._add(module, shapes)
            self._index(names, shapes, module)
        elif shapes and self.error is None:
            self._prebuild = True
            background.schedule(self)

    def _index_key(self, names: list[str]) -> list | None:
        if self.model_key is None or self._prebuilt_dirs:
            return None
        try:
            return modindex.index_key(self.model_key, names, self.encoding)
        except CompileError:
            return None

    def _use_indexed(self, names: list[str]) -> bool:
        """Import the module an index entry names for the recorded ``names``, without generating
        its source; False (nothing used) unless every check of :mod:`.modindex` passes."""
        key = self._index_key(names)
        found = modindex.lookup(key, self._cache_dir) if key is not None else None
        if found is None:
            return False
        wanted, unchecked = {}, {}
        for name in names:
            index, declaration = found.functions.get(name, (-1, ""))
            ftype = self._functions[name]
            if index < 0 or ftype.variadic or len(found.shapes[index][1]) != len(ftype.params):
                return False  # declared otherwise here, or another function's wrapper
            wanted[name] = found.shapes[index]
            unchecked[name] = declaration  # compared when the shape is first asked for
        module = self._load_module(found.shapes, compile=False, found=(found.modname, found.path))
        if module is None or getattr(module, "SHAPES", None) != found.digest:
            return False  # not the module of these shapes
        for name, reason in found.reasons.items():
            if name in self._functions:
                self._shape_of.setdefault(name, reason)
        self._unchecked = unchecked  # (first: no shape given here is used unchecked)
        self._shape_of.update(wanted)
        self._recorded = self._published = names
        self._add(module, found.shapes)
        self._indexed = (names, found.shapes, module, len(found.reasons))
        usage.remember(self)  # at exit: the entry again if more reasons were learnt
        return True

    def _check_indexed(self, name: str) -> None:
        """The index gave ``name``'s shape: its declaration there must be this process's own
        (checked at the function's first use, not for every recorded function at the first
        bind: making the C text costs microseconds each).  If it is not, nothing the entry
        said about names is kept: the shapes come from the generator (:meth:`_use_generated`)."""
        with _checking:  # (a second thread asking for the same name waits for the answer)
            expected = self._unchecked.get(name)
            if expected is None or expected == self.declaration(name):
                self._unchecked.pop(name, None)
                return
            indexed, self._unchecked, self._indexed = self._indexed, {}, None
            self._shape_of.clear()  # (the index's shapes stay in use by shape: the module has them)
            self._use_generated(list(indexed[0]) if indexed else [])

    def _index(self, names: list[str], shapes: list[tuple], module: Any) -> None:
        """Write the index entry naming ``module`` (built with ``shapes``) for ``names``."""
        key = self._index_key(names) if names and getattr(module, "SHAPES", None) else None
        path = getattr(module, "__file__", None)
        if key is None or path is None:
            return
        where = {shape: index for index, shape in enumerate(shapes)}
        functions = {n: (where[self.shape(n)], self.declaration(n)) for n in names}
        reasons = {n: r for n, r in list(self._shape_of.items()) if isinstance(r, str)}
        if modindex.store(key, module.__name__, path, shapes, functions, reasons, self._cache_dir):
            self._indexed = (names, shapes, module, len(reasons))

    def _record(self, names: list[str]) -> None:
        try:
            if names != self._published and usage.write(self._usage_file(create=True), names):
                self._published = names
        except (CompileError, OSError):  # an untrusted cache: no record
            pass

    def record_usage(self) -> None:
        """Write the record of the functions used so far, if it changed (at exit; :mod:`.usage`)."""
        with self._requests:
            names = sorted({*(self._recorded or ()), *self._requested})
        if names:
            self._record(names)
        indexed = self._indexed  # more reasons learnt since: the next process needs no generator
        if indexed is not None and indexed[0] == names and \
                sum(isinstance(r, str) for r in list(self._shape_of.values())) > indexed[3]:
            self._index(*indexed[:3])
