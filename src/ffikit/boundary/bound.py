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

from ffikit import forksafe
from ffikit.backends.compiled import CompiledFunctions
from ffikit.backends.ctypes.owned_results import owner
from ffikit.backends.ctypes.wrappers import Prepared, bind, prepare
from ffikit.cdecl import model as m
from ffikit.errors import LibraryNotFound
from ffikit.rules.sizes import relations, user_access

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ffikit.boundary.cfunction import CFunction

    _Partial = functools.partial[Any]
else:
    _Partial = functools.partial  # (subscripting it would need typing's Any at run time)

__all__ = ["BoundFunction", "reload", "reduce_function", "bind_compiled", "bind_function",
           "wait_compiled"]


_reloaded: dict[tuple[Any, ...], Any] = {}


def reload(load: Callable[..., Any], path: str, name: str, defs: Any, mode: int | None,
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


def _rebind(library: Any, name: str, errors: Callable[..., Any] | None) -> CFunction:
    """Unpickle a bound function whose error policy was set after ``load``."""
    function: CFunction = getattr(library, name)
    function.errors = errors
    return function


def reduce_function(function: Any) -> tuple[Any, ...]:
    """How any bound function pickles: ``(library, name)``, bound again on arrival."""
    policy = function.errors
    if policy is function.library._policies.get(function.__name__) or \
            type(policy).__name__ == "_Reraise":  # transient: a parked callback error
        return (getattr, (function.library, function.__name__))
    return (_rebind, (function.library, function.__name__, policy))  # a policy set after load


def bind_function(library: Any, name: str, ftype: Any, cfunc: Any, hooks: Any) -> Any:
    """What ``library.name`` is: the compiled function, or a :class:`BoundFunction` on ctypes.

    ``backend="compiled"`` compiles (once per declaration set) before returning.
    ``backend="auto"`` never waits on the compiler: a function whose compiled
    wrapper is not built yet is bound by ctypes at once, its wrapper is
    requested from the background builder, and when it is ready the bound
    function (and ``library.name``) switch to it.
    """
    compiled = None
    if library.backend == "compiled":
        wrapper = bind_compiled(library, name, ftype, cfunc, hooks)
        if wrapper is not None:
            return wrapper
        compiled = library._compiled
    prepared = prepare(cfunc, name, ftype, encoding=library.encoding, errors=library._policies.get(name),
                       sizes=library._sizes.get(name), resolve=library._deallocator, hooks=hooks)
    unmade = _Unmade(prepared)  # compiled by its first use
    bound = unmade.bound = BoundFunction(unmade, library)
    reason, build = library.backend_reason, False
    if compiled is not None:
        if not compiled.handles(name):
            reason = compiled.shape(name)
        elif compiled.error is not None:
            reason = _failed(library, compiled.error)
        else:
            reason, build = "its compiled wrapper is being built in the background", True
    bound.__dict__.update(backend="ctypes", backend_reason=reason)
    if build and compiled is not None:
        compiled.request(name, functools.partial(_switch, library, name, ftype, cfunc, hooks, bound))
    return bound.func if bound.__dict__["backend"] == "compiled" else bound  # built at once: no layer


def _failed(library: Any, error: BaseException) -> str:
    why = f"building its compiled wrapper failed ({str(error).splitlines()[0]})"
    object.__setattr__(library, "backend", "ctypes")
    object.__setattr__(library, "backend_reason", f"auto: {why}; everything stays on ctypes")
    return why


def _switch(library: Any, name: str, ftype: Any, cfunc: Any, hooks: Any, bound: BoundFunction,
            error: BaseException | None) -> None:
    """The background build finished: move ``bound`` (and ``library.name``) to the compiled wrapper."""
    if error is not None:
        bound.__dict__["backend_reason"] = _failed(library, error)
        return
    old = bound.func
    policy = getattr(old, "errors", None)
    if type(policy).__name__ == "_Reraise":  # a call in flight parked a callback error: not the policy
        policy = library._policies.get(name)
    wrapper = bind_compiled(library, name, ftype, cfunc, hooks, policy)
    if wrapper is None:
        return
    state = bound.__dict__
    state.update(_ctypes_function=old, backend="compiled",  # a call running the old one keeps it
                 backend_reason="compiled in the background (ran on ctypes until then)")
    bound.__setstate__((wrapper, (), None, state))
    late = getattr(old, "errors", None)
    if late is not policy and type(late).__name__ != "_Reraise":  # set while this ran
        wrapper.errors = late
    if library.__dict__.get(name) is bound:
        object.__setattr__(library, name, wrapper)


def bind_compiled(library: Any, name: str, ftype: Any, cfunc: Any, hooks: Any,
                  errors: Callable[..., Any] | None = None) -> Any:
    """The compiled backend's function for ``name`` (None: the ctypes backend binds it).

    Under ``backend="compiled"`` this compiles when needed; under auto it only
    uses wrappers already built.  The compiled function object is itself what
    users hold: it carries what a :class:`BoundFunction` does (``library``,
    ``errors``, ``declaration``, ``cfunc``) and pickles the same way, without a
    Python-level call layer.
    """
    compiled = library._compiled
    if compiled is None:
        compiled = CompiledFunctions.for_declarations(library.defs, library.encoding)
        object.__setattr__(library, "_compiled", compiled)
    if not library._forced and not compiled.ready(name):  # (first: a warm process's record)
        return None
    if not compiled.handles(name):
        return None

    sizes = library._sizes.get(name)
    make_slow = functools.partial(_make_slow, library, name, ftype, sizes, hooks)
    # the size relations (the header's and sizes='s) and the owner of an owned result are
    # checked and made in C; their refusals come from make_slow's wrapper, word for word
    facts = ftype.facts
    rels = relations(name, ftype, user_access(name, ftype, sizes) if sizes else ()) \
        if sizes or facts.access else ()
    own = owner(name, facts.deallocators, library._deallocator, hooks) \
        if facts.deallocators and isinstance(m.resolve(ftype.result), m.Pointer) else None
    policy = errors if errors is not None else library._policies.get(name)
    wrapper = compiled.get(name, ftype, cfunc, make_slow, policy, rels, own)
    if wrapper is None:
        if compiled.error is not None and library._forced:
            raise compiled.error
        return None
    declaration, file = wrapper.declaration, _file(library)
    wrapper.__dict__.update(  # __wrapped__: already the fast function (help() reads __signature__)
        library=library, __wrapped__=wrapper, __ffikit_reduce__=reduce_function,
        __ffikit_repr__=_describe(declaration, library), backend="compiled",
        backend_reason=library.backend_reason)
    wrapper.crash_label = f"{declaration} from {file}"
    return wrapper


def _file(library: Any) -> str:
    """The library file's name, as messages show it."""
    file: str = library.__dict__.get("_file") or os.path.basename(library.path)
    return file


def _make_slow(library: Any, name: str, ftype: Any, sizes: Any, hooks: Any) -> Callable[..., Any]:
    """The ctypes backend's wrapper: the compiled one's slow path (made at its first use)."""
    return bind(library._handle[name], name, ftype, encoding=library.encoding, sizes=sizes,
                resolve=library._deallocator, hooks=hooks)


def wait_compiled(library: Any, timeout: float | None = None) -> bool:
    """Wait until the compiled wrappers requested so far are built and switched to (``auto``).

    Returns False if ``timeout`` seconds passed first.  Calls never need this:
    it is for tests and measurements that want to see the compiled path.
    """
    from ffikit.backends.compiled import background

    return background.wait(timeout)


def _describe(declaration: str, library: Any) -> str:
    return f"<ffikit function {declaration} from {_file(library)}>"


class _Unmade:
    """What a :class:`BoundFunction` on the ctypes backend calls until its wrapper is made.

    Binding checks the declaration and generates the wrapper's source
    (:func:`~ffikit.backends.ctypes.wrappers.prepare`); compiling it waits for the first
    call or the first read of an attribute only the wrapper has (``source``, ``cfunc``,
    the signature), and from then on the bound function calls the wrapper itself.  The
    error policy is kept here until then.
    """

    bound: BoundFunction | None
    wrapper: Any

    def __init__(self, prepared: Prepared):
        self.prepared, self.bound, self.wrapper, self.errors = prepared, None, None, prepared.errors
        self.__name__ = self.__qualname__ = prepared.name
        self.declaration, self.__doc__ = prepared.declaration, prepared.doc

    def __call__(self, *args: Any) -> Any:
        return (self.wrapper or self.made())(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.made(), name)

    @property
    def __signature__(self) -> Any:  # (what inspect would have read from the wrapper)
        import inspect

        return inspect.signature(self.made())

    def made(self) -> Any:
        """The wrapper, made now if it was not; the bound function switches to it (unless it
        was switched to its compiled wrapper meanwhile)."""
        with _making:
            wrapper: Any = self.wrapper
            if wrapper is None:
                wrapper = self.prepared.make()  # (a function carrying attributes: Any)
                wrapper.errors = self.errors
                self.wrapper, bound = wrapper, self.bound
                if bound is not None and bound.func is self:
                    state = bound.__dict__
                    state["__wrapped__"] = wrapper
                    bound.__setstate__((wrapper, (), None, state))
            return wrapper


_making = forksafe.Lock()  # type: ignore[no-untyped-call]  # (held while compiling one wrapper's source: milliseconds)


class BoundFunction(_Partial):
    """A declared C function bound to its library: call it as the C function.

    Attributes: ``errors`` (the error policy, settable), ``declaration`` (the C
    text), ``cfunc`` (the ctypes function), ``library``.  It pickles as
    ``(library, name)`` — the library by recipe — so it can be sent to a
    process pool or a Dask worker, where it is bound again on arrival.
    """

    def __new__(cls, function: Callable[..., Any], library: Any) -> BoundFunction:
        self = super().__new__(cls, function)
        self.__dict__.update(__wrapped__=function, library=library, __doc__=function.__doc__)
        for attr in ("__name__", "__qualname__", "declaration"):
            if hasattr(function, attr):
                self.__dict__[attr] = getattr(function, attr)
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self.func, name)  # whatever the backend's function carries (cfunc, ...)

    @property
    def errors(self) -> Callable[..., Any] | None:
        policy: Callable[..., Any] | None = self.func.errors  # type: ignore[attr-defined]
        return policy

    @errors.setter
    def errors(self, policy: Callable[..., Any] | None) -> None:
        self.func.errors = policy  # type: ignore[attr-defined]

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_function(self)

    def __repr__(self) -> str:
        return _describe(self.declaration, self.library)


def _keep_vectorcall(cls: type) -> None:
    """Call a ``partial`` subclass as fast as ``partial`` itself on Python 3.11.

    ``partial`` objects are called through vectorcall, but before 3.12 a Python
    subclass does not inherit the flag that says so, and every call goes through
    ``tp_call`` with a new argument tuple (about 20-40 ns per call).  The
    subclass changes nothing about calling, so the flag is set on it; the flags
    word is found and checked against ``cls.__flags__`` before anything is written.
    """
    import ctypes
    import sys

    have_vectorcall = 1 << 11  # Py_TPFLAGS_HAVE_VECTORCALL
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython" or \
            not functools.partial.__flags__ & have_vectorcall or cls.__flags__ & have_vectorcall:
        return
    words = ctypes.c_ulong.from_address(id(cls) + 21 * ctypes.sizeof(ctypes.c_void_p))  # tp_flags
    if words.value != cls.__flags__:
        return  # not the layout expected: leave the type alone
    words.value |= have_vectorcall
    ctypes.pythonapi.PyType_Modified(ctypes.py_object(cls))


_keep_vectorcall(BoundFunction)
