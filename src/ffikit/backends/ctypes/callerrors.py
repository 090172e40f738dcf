"""Where an exception raised in a callback goes, and what a callback's result must be.

A callback that raises inside an ffikit call on the same thread (C called back
synchronously) has its exception *parked* for that call: the bound function's
``errors`` attribute is swapped for a :class:`_Reraise`, which raises the same
exception object as soon as C returns.  Otherwise (a thread started in C, a
call through raw ctypes) it goes to :data:`sys.unraisablehook` and is kept for
:func:`callback_errors`.  The enclosing call is found only when an exception
happens: from the compiled backend's finders, or by the wrapper frames below
the callback's.

:func:`result_checker` checks what a callback returns against its C result
type before C sees it (a refusal is parked like any other exception).
"""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Callable
from math import isinf

from ffikit import forksafe
from ffikit.backends.ctypes.kept import CallbackErrors, Kept
from ffikit.backends.ctypes.types import ctype_int_range
from ffikit.errors import ArgumentError
from ffikit.rules.params import FLOAT_MAX

TYPE_CHECKING = False
if TYPE_CHECKING:  # (typing is not imported on the way to a first call)
    from typing import Any, Protocol

    class BoundFunction(Protocol):
        """A bound function (a generated wrapper or a compiled one) as the error path sees it:
        ``errors`` is its policy for a parked exception (a :class:`_Reraise` while one is)."""

        __name__: str
        errors: Callable[..., object] | None

        def __call__(self, *args: Any) -> Any: ...

__all__ = ["PENDING", "register_wrapper", "register_finder", "reraise_pending", "park", "report",
           "enclosing_call", "callback_errors", "result_checker", "keep"]


PENDING: dict[int, tuple[BaseException, BoundFunction]] = {}  # thread -> (exception, wrapper)
_WRAPPERS: dict[object, str] = {}  # wrapper code -> the local name the wrapper sees itself by
_KEPT = Kept()  # the newest KEEP; older ones are counted in .dropped
_kept_lock = forksafe.Lock()
_unraisable_type: type | None = None


def register_wrapper(wrapper: Callable, self_name: str | None = None) -> None:
    """Record a generated wrapper (see :mod:`ffikit.backends.ctypes.wrappers`) so callbacks can find their call.

    A running wrapper is found from its frame's code, and *which* wrapper it is
    from ``self_name``, the closure variable by which it names itself (its
    code's name by default).
    """
    _WRAPPERS[wrapper.__code__] = self_name or wrapper.__code__.co_name


class _Reraise:
    """Installed as a wrapper's ``errors`` while a callback exception is parked for it.

    Bound functions check one thing after C returns, their ``errors``
    attribute; parking an exception swaps in this object, which raises the
    parked exception on the thread that owns it and otherwise defers to the
    policy that was there before.
    """

    def __init__(self, original: Callable | None):
        self.original = original

    def __call__(self, result: object, function: BoundFunction, args: tuple) -> object:
        original = self.original
        with _kept_lock:
            entry = PENDING.pop(threading.get_ident(), None)
            if function.errors is self and not any(w is function for _, w in PENDING.values()):
                function.errors = original
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


_FINDERS: list[Callable[[], BoundFunction | None]] = []  # compiled backend modules: current()


def register_finder(current: Callable[[], BoundFunction | None]) -> None:
    """Register a ``() -> running function or None`` for calls that have no Python frame.

    The compiled backend's functions run C without a Python frame of their
    own; each of its modules says which of them is running on this thread.
    """
    _FINDERS.append(current)


def enclosing_call() -> tuple[str, BoundFunction] | None:
    for current in _FINDERS:
        running = current()
        if running is not None:
            return running.__name__, running
    frame = sys._getframe(2)
    while frame is not None:
        self_name = _WRAPPERS.get(frame.f_code)
        if self_name is not None:
            snapshot = frame.f_locals  # up to 3.12 a copy the frame keeps (and a traceback
            wrapper = snapshot.get(self_name)  # with it); 3.13's proxy keeps nothing (PEP 667)
            if isinstance(snapshot, dict):  # the copy must not hold the call's buffers and
                snapshot.clear()  # leases past the call
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


def report(exc: BaseException, callback_name: str, keep: bool = True) -> None:
    if keep:
        with _kept_lock:
            _KEPT.append(exc)
    message = f"Exception ignored in ffikit callback {callback_name} (called from C outside any ffikit call)"
    args = _unraisable_args_type()((type(exc), exc, exc.__traceback__, message, None))
    sys.unraisablehook(args)


def park(exc: BaseException, callback_name: str) -> None:
    found = enclosing_call()
    if found is None:
        report(exc, callback_name)
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


def result_checker(restype: type | None, on_error: object) -> Callable[[object], object]:
    if restype is None:
        return lambda value: None
    if issubclass(restype, ctypes._SimpleCData) and restype._type_ in "bBhHiIlLqQ?":  # type: ignore[attr-defined]
        lo, hi = ctype_int_range(restype)

        def check_int(value: object) -> object:
            if type(value) is int and lo <= value <= hi:
                return value
            if isinstance(value, int) and lo <= value <= hi:
                return int(value)
            raise ArgumentError(
                f"callback must return an int in [{lo}, {hi}] for C type "
                f"{restype.__name__} (got {type(value).__name__} {value!r})"
            )

        return check_int
    if issubclass(restype, ctypes._SimpleCData) and restype._type_ in "fdg":  # type: ignore[attr-defined]
        limit = FLOAT_MAX if restype._type_ == "f" else None  # type: ignore[attr-defined]

        def check_float(value: object) -> object:
            if type(value) is float and (limit is None or not abs(value) > limit or value != value):
                return value
            number = None
            if isinstance(value, (int, float)) and not isinstance(value, bool) or \
                    hasattr(value, "__float__") and not isinstance(value, (str, bytes)):
                try:
                    number = float(value)  # type: ignore[arg-type]
                except (TypeError, ValueError, OverflowError):
                    number = None
            if number is None or (limit is not None and abs(number) > limit and not isinf(number)):
                what = "a float or int" if number is None else f"a value within +-{limit!r}"
                raise ArgumentError(
                    f"callback must return {what} for C type {restype.__name__} "
                    f"(got {type(value).__name__} {value!r}); C got on_error instead"
                )
            return number

        return check_float
    return lambda value: value


def callback_errors(*, clear: bool = False) -> CallbackErrors:
    """Exceptions from callbacks C called outside any ffikit call: the newest 100, oldest
    first (``.dropped`` counts those let go)."""
    with _kept_lock:
        kept = _KEPT.snapshot()
        if clear:
            _KEPT.clear()
    return kept


def keep(exc: BaseException) -> None:
    """Keep an exception for :func:`callback_errors` (it is reported elsewhere)."""
    with _kept_lock:
        _KEPT.append(exc)
