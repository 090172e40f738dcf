"""Python callables as C function pointers, with exceptions that are not lost.

Raw ctypes prints an exception raised in a callback and lets C carry on with
a garbage result.  ffikit catches it inside the thunk, gives C the callback's
``on_error`` value, and:

* if the callback runs inside an ffikit call on the same thread (C called
  back synchronously: ``qsort``, ``sqlite3_exec``), the exception is parked
  and the ffikit wrapper re-raises **the same exception object** as soon as
  the C function returns, with a note naming the callback and the C function;
* otherwise (a thread started in C, a call made later through raw ctypes) it
  goes to :data:`sys.unraisablehook` and is kept for :func:`callback_errors`.

The per-call cost for bound functions is one truth test of :data:`PENDING`.
Which case applies is found only when an exception happens, by looking for an
ffikit wrapper frame below the callback's frame.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Callable
from typing import Any

from ffikit.backends.ctypes.types import ctype_int_range, ctype_of
from ffikit.cdecl import model as m

__all__ = ["Callback", "callback", "callback_errors", "make_thunk", "PENDING", "reraise_pending"]

PENDING: dict[int, tuple[BaseException, Callable]] = {}  # thread -> (exception, wrapper)
_WRAPPERS: dict[object, str] = {}  # wrapper code -> the local name the wrapper sees itself by
_KEPT: list[BaseException] = []
_kept_lock = threading.Lock()
_unraisable_type: type | None = None


def register_wrapper(wrapper: Callable) -> None:
    """Record a generated wrapper (see :mod:`ffikit.backends.ctypes.wrappers`) so callbacks can find their call.

    Wrappers of the same source share one code object; a running wrapper is
    found from its frame's code, and *which* wrapper it is from the closure
    variable by which it names itself.
    """
    _WRAPPERS[wrapper.__code__] = wrapper.__code__.co_name


class _Reraise:
    """Installed as a wrapper's ``errors`` while a callback exception is parked for it.

    Bound functions check one thing after C returns, their ``errors``
    attribute; parking an exception swaps in this object, which raises the
    parked exception on the thread that owns it and otherwise defers to the
    policy that was there before.
    """

    def __init__(self, original: Callable | None):
        self.original = original

    def __call__(self, result: object, function: Callable, args: tuple) -> object:
        with _kept_lock:
            entry = PENDING.pop(threading.get_ident(), None)
            if function.errors is self and not any(w is function for _, w in PENDING.values()):
                function.errors = self.original
        if entry is not None:
            raise entry[0]
        if self.original is None:
            return result
        return self.original(result, function, args)


def reraise_pending() -> None:
    """Raise the exception a callback parked for this thread's running call, if any."""
    entry = PENDING.pop(threading.get_ident(), None)
    if entry is not None:
        raise entry[0]


_FINDERS: list[Callable[[], Callable | None]] = []  # compiled backend modules: current()


def register_finder(current: Callable[[], Callable | None]) -> None:
    """Register a ``() -> running function or None`` for calls that have no Python frame.

    The compiled backend's functions run C without a Python frame of their
    own; each of its modules says which of them is running on this thread.
    """
    _FINDERS.append(current)


def _enclosing_call() -> tuple[str, Callable] | None:
    for current in _FINDERS:
        running = current()
        if running is not None:
            return running.__name__, running
    frame = sys._getframe(2)
    while frame is not None:
        self_name = _WRAPPERS.get(frame.f_code)
        if self_name is not None:
            wrapper = frame.f_locals.get(self_name)
            if wrapper is not None:
                return wrapper.__name__, wrapper
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _unraisable_args_type() -> type:
    """CPython's ``UnraisableHookArgs`` (not exposed by name), found once by example."""
    global _unraisable_type
    if _unraisable_type is None:
        seen: list = []
        old = sys.unraisablehook
        sys.unraisablehook = seen.append

        class _Probe:
            def __del__(self):
                raise RuntimeError("probe")

        try:
            _Probe()
        finally:
            sys.unraisablehook = old
        _unraisable_type = type(seen[0])
    return _unraisable_type


def _report(exc: BaseException, callback_name: str) -> None:
    with _kept_lock:
        _KEPT.append(exc)
    message = f"Exception ignored in ffikit callback {callback_name} (called from C outside any ffikit call)"
    args = _unraisable_args_type()((type(exc), exc, exc.__traceback__, message, None))
    sys.unraisablehook(args)


def _park(exc: BaseException, callback_name: str) -> None:
    found = _enclosing_call()
    if found is None:
        _report(exc, callback_name)
        return
    c_name, wrapper = found
    ident = threading.get_ident()
    with _kept_lock:
        if ident in PENDING:  # keep the first; C may call back again before returning
            return
        exc.add_note(f"raised in ffikit callback {callback_name} called from C function {c_name}")
        PENDING[ident] = (exc, wrapper)
        if not isinstance(wrapper.errors, _Reraise):
            wrapper.errors = _Reraise(wrapper.errors)


def _result_checker(restype: type | None, on_error: object) -> Callable[[object], object]:
    if restype is None:
        return lambda value: None
    if issubclass(restype, ctypes._SimpleCData) and restype._type_ in "bBhHiIlLqQ?":  # type: ignore[attr-defined]
        lo, hi = ctype_int_range(restype)

        def check_int(value: object) -> object:
            if type(value) is int and lo <= value <= hi:
                return value
            if isinstance(value, int) and lo <= value <= hi:
                return int(value)
            raise TypeError(
                f"callback must return an int in [{lo}, {hi}] for C type "
                f"{restype.__name__} (got {type(value).__name__} {value!r})"
            )

        return check_int
    return lambda value: value


def make_thunk(fp_type: type, func_type: m.CType | None, fn: Callable, on_error: object = 0) -> Any:
    """A ctypes function pointer of ``fp_type`` that calls ``fn`` safely.

    Exceptions never reach ctypes: C gets ``on_error`` (None for ``void``).
    The returned object must stay alive as long as C may call it.
    """
    name = getattr(fn, "__qualname__", None) or repr(fn)
    check = _result_checker(fp_type._restype_, on_error)  # type: ignore[attr-defined]
    fallback = None if fp_type._restype_ is None else on_error  # type: ignore[attr-defined]

    def thunk(*args: object) -> object:
        try:
            return check(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - every exception must be kept, not printed
            _park(exc, name)
            return fallback

    return fp_type(thunk)


class Callback:
    """A persistent C function pointer wrapping a Python callable.

    Keep this object alive for as long as C may call it (e.g. a callback
    registered with a library and called later): when it is collected, the
    C thunk is freed and a later call from C would crash.  Pass it wherever
    the function-pointer type is expected; ``address`` is the C pointer.
    """

    def __init__(self, fp_type: type, func_type: m.CType | None, fn: Callable, on_error: object = 0):
        self.fp_type = fp_type
        self.function = fn
        self.on_error = on_error
        self.thunk = make_thunk(fp_type, func_type, fn, on_error)
        self._as_parameter_ = self.thunk

    @property
    def address(self) -> int:
        return ctypes.cast(self.thunk, ctypes.c_void_p).value or 0

    def __call__(self, *args: object) -> object:
        return self.function(*args)

    def __repr__(self) -> str:
        name = getattr(self.function, "__qualname__", repr(self.function))
        return f"<ffikit.callback {name} at 0x{self.address:x}>"


def _fp_type_of(spec: object, defs: object) -> tuple[type, m.CType | None]:
    if isinstance(spec, type) and hasattr(spec, "_restype_") and hasattr(spec, "_argtypes_"):
        return spec, None
    if isinstance(spec, str):
        if defs is not None and hasattr(defs, "typeof"):
            spec = defs.typeof(spec)
        else:
            try:
                from ffikit.backends.ctypes.declarations import typeof
            except ImportError:
                raise TypeError(
                    f"ffikit.callback({spec!r}): C text needs the cdecl layer; pass a ctypes "
                    "CFUNCTYPE class or a model FunctionType"
                ) from None
            spec = typeof(spec, defs)
    if isinstance(spec, m.CType):
        r = m.resolve(spec)
        if isinstance(r, m.FunctionType):
            r = m.Pointer(r)
        if isinstance(r, m.Pointer) and isinstance(m.resolve(r.target), m.FunctionType):
            return ctype_of(r), m.resolve(r.target)  # type: ignore[return-value]
    raise TypeError(
        f"ffikit.callback() needs a function-pointer type: a CFUNCTYPE class, a model type "
        f"or C text such as 'int (*)(int, int)' (got {spec!r})"
    )


def callback(fp_type_or_text: object, fn: Callable, on_error: object = 0, *, defs: object = None) -> Callback:
    """Wrap ``fn`` as a persistent C function pointer.

    Parameters
    ----------
    fp_type_or_text
        The function-pointer type: ``defs.CompareFunc``, a model type, a
        CFUNCTYPE class, or C text (``"int (*)(int, int)"``, a typedef name
        with ``defs``).
    fn
        Any Python callable; arguments arrive as ctypes converts them.
    on_error
        What C receives if ``fn`` raises (ignored for ``void`` results).

    Returns
    -------
    Callback
        Holds the C thunk: keep it alive while C may call it.

    Examples
    --------
    >>> cmp = ffikit.callback(defs.CompareFunc, lambda a, b: a - b)
    >>> lib.find_max(arr, 5, cmp)
    """
    if not callable(fn):
        raise TypeError(f"ffikit.callback() needs a callable (got {type(fn).__name__})")
    fp_type, func_type = _fp_type_of(fp_type_or_text, defs)
    return Callback(fp_type, func_type, fn, on_error)


def callback_errors(*, clear: bool = False) -> list[BaseException]:
    """Exceptions raised by callbacks called outside any ffikit call (oldest first)."""
    with _kept_lock:
        kept = list(_KEPT)
        if clear:
            _KEPT.clear()
    return kept
