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

C function pointers are *thunks*: a ctypes ``CFUNCTYPE`` object around a Python
function.  If C calls one after it was freed, the process dies.  So ffikit never
frees a thunk C may hold: a plain callable passed to a bound function borrows a
thunk of its signature for that call (:func:`lend`); when the call returns the
thunk is retargeted to a stub and goes back to a per-signature queue, from
which a later plain callable reuses it once ``MIN_FREE`` others wait (no new
thunk per call, memory stays flat, and a thunk C kept by mistake stays a
reporting stub for a while rather than being lent straight away).
A held :class:`Callback` keeps its thunk until it is released or collected.
A call from C to a released thunk never crashes: it reports
:class:`~ffikit.CallbackReleased` (raised by the ffikit call it happens in, or
through :data:`sys.unraisablehook`; kept for :func:`callback_errors`), returns
``on_error``, and that thunk is never lent again.

Where the compiled backend is chosen, a held :class:`Callback` of a signature a
C callback pool serves is a slot of that pool instead of a ctypes thunk
(:mod:`~ffikit.backends.ctypes.cbhooks`: conversions in C, the same reports);
the compiled wrappers lend pool slots to plain callables themselves, in C.

The per-call cost for bound functions is one truth test of :data:`PENDING`.
Which case applies is found only when an exception happens, by looking for an
ffikit wrapper frame below the callback's frame.
"""

from __future__ import annotations

import atexit
import collections
import ctypes
from collections.abc import Callable

from ffikit import forksafe
from ffikit.backends.ctypes.byvalue import struct_arguments
from ffikit.backends.ctypes.callerrors import (
    PENDING,
    callback_errors,
    park,
    register_finder,
    register_wrapper,
    reraise_pending,
    result_checker,
)
from ffikit.backends.ctypes.callguard import (
    CHECK_FROM,
    DRAIN_SECONDS,
    INFLIGHT,
    MARGIN,
    STATE,
    after_exit,
    drain,
    seal,
    stack_left,
)
from ffikit.backends.ctypes.cbhooks import (
    NativeSlot,
    exit_pools,
    late_report,
    name_of,
    pool_for,
    recursion_error,
)
from ffikit.backends.ctypes.signatures import fits_signature, same_signature, signature_text
from ffikit.backends.ctypes.types import ctype_of
from ffikit.cdecl import model as m
from ffikit.errors import ArgumentError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "Callback", "callback", "callback_errors", "lend", "make_thunk", "PENDING", "reraise_pending",
    "fits_signature", "same_signature", "signature_text", "register_wrapper", "register_finder",
]

# --------------------------------------------------------------------------------------
# thunks: made once per signature, retargeted, never freed while C may hold them


class _Slot:
    """One C thunk of one signature, kept for the life of the process.

    Its target changes: a callable while it is lent (for one call, or to a held
    :class:`Callback`), ``None`` once released, when a call from C reports
    :class:`~ffikit.CallbackReleased` and returns ``on_error`` instead of
    reaching freed memory.
    """

    __slots__ = ("fp_type", "fn", "fallback", "zero", "name", "owner", "held", "thunk")

    def __init__(self, fp_type: type):
        self.fp_type = fp_type
        self.fn: Callable | None = None
        self.zero = None if fp_type._restype_ is None else 0  # type: ignore[attr-defined]
        self.fallback: object = self.zero
        self.name = "?"
        self.owner = ""
        self.held = False
        check = _checks.get(fp_type)
        if check is None:
            check = _checks[fp_type] = result_checker(fp_type._restype_, 0)  # type: ignore[attr-defined]
        slot = self

        restore = struct_arguments(fp_type)  # struct arguments: the callable's own classes
        check_from, margin, inflight = CHECK_FROM, MARGIN, INFLIGHT

        def thunk(*args: object) -> object:
            fn = slot.fn
            if fn is None:
                return _late_call(slot)
            inflight.append(None)  # counted: at exit, running callbacks are waited for
            try:
                if len(inflight) > check_from:  # nested through C (or many threads): stack?
                    left = stack_left(len(inflight))
                    if left is not None and left < margin:
                        raise recursion_error(fn, left)
                args = args if restore is None else restore(args)
                return check(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - every exception must be kept, not printed
                park(exc, _name(fn))
                return slot.fallback
            finally:
                inflight.pop()

        try:
            self.thunk = fp_type(thunk)
        except TypeError as exc:  # ctypes makes no callback that returns a struct by value
            raise ArgumentError(f"a Python callback of type {signature_text(fp_type)} cannot be "
                                f"made: {exc}; have C fill a struct through a pointer") from None
        _ALL.append(self)


_ALL: list[_Slot] = []  # every thunk made: C may call any of them until the process ends


@atexit.register
def _keep_thunks_forever() -> None:
    """At exit, module teardown would free the thunks while C threads may still call them:
    one reference more on the list of all of them, never given back, keeps them; then,
    once the running callbacks returned, they are sealed (see callguard)."""
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(_ALL))
    exit_pools(begin=True)  # C pools' slots give C their zero value without entering Python
    for slot in list(_ALL):  # from now on every thunk gives C its zero value at once
        slot.fn = after_exit(slot.zero)
    drain()  # callbacks running now return first
    exit_pools(begin=False, seconds=DRAIN_SECONDS)
    STATE["sealed"] = seal([slot.thunk for slot in _ALL])  # C threads never enter Python again


_checks: dict[type, Callable[[object], object]] = {}
_FREE: dict[type, collections.deque[_Slot]] = {}  # signature -> released slots, oldest first
MIN_FREE = 16  # a released thunk waits for this many later releases before it is lent again
_QUARANTINE: collections.deque[_Slot] = collections.deque()  # released ffikit.callback slots
QUARANTINE_SIZE = 256
_STUCK: list[_Slot] = []  # slots C called after release: C holds them, never lent again
_slots_lock = forksafe.Lock()


_name = name_of


def _take(fp_type: type) -> _Slot:
    """The free slot released longest ago, once ``MIN_FREE`` wait; else a new one.

    Reusing the oldest, and only from a queue of at least ``MIN_FREE``, keeps a
    thunk C kept by mistake free (so a late call reports) for as long as possible.
    """
    free = _FREE.get(fp_type)
    if free is None:
        free = _FREE.setdefault(fp_type, collections.deque())
    if len(free) >= MIN_FREE:
        try:
            return free.popleft()
        except IndexError:
            pass
    return _Slot(fp_type)


def _acquire(fp_type: type, fn: Callable, on_error: object, owner: str, held: bool) -> _Slot:
    slot = _take(fp_type)
    slot.fallback = None if fp_type._restype_ is None else on_error  # type: ignore[attr-defined]
    slot.owner = owner
    slot.held = held
    slot.fn = fn
    return slot


def _native(fp_type: type, fn: Callable, on_error: object) -> NativeSlot | None:
    """A slot of the C callback pool for ``fp_type`` (see cbhooks), or None: a ctypes thunk."""
    pool = pool_for(fp_type)
    if pool is None:
        return None
    index = pool.acquire(fn, None if fp_type._restype_ is None else on_error, None)  # type: ignore[attr-defined]
    return None if index < 0 else NativeSlot(pool, index, fp_type, fn)


def _release(slot: _Slot | NativeSlot) -> None:
    if isinstance(slot, NativeSlot):
        slot.release()
        return
    fn = slot.fn
    if fn is None:
        return
    slot.name = _name(fn)
    slot.fn = None
    if slot.held:  # C may well have kept it: lend it again only after many later releases
        with _slots_lock:
            _QUARANTINE.append(slot)
            if len(_QUARANTINE) > QUARANTINE_SIZE:
                old = _QUARANTINE.popleft()
                old.fallback = old.zero
                _FREE[old.fp_type].append(old)
    else:
        _FREE[slot.fp_type].append(slot)


class _Lease(tuple):
    """``(slot,)``, held by a bound function for the length of one call; its end releases
    the thunk.  A tuple: made in C, with no ``__init__`` to run on every call."""

    __slots__ = ()

    def __del__(self) -> None:
        try:
            _release_plain(self[0])
        except Exception:  # noqa: BLE001 - interpreter shutdown: nothing left to release to
            pass


def _release_plain(slot: _Slot) -> None:
    fn = slot.fn
    if fn is not None:
        slot.name = getattr(fn, "__qualname__", None) or repr(fn)
        slot.fn = None
        _FREE[slot.fp_type].append(slot)


def lend(fp_type: type, fn: Callable, owner: str) -> tuple[Any, _Lease]:
    """A thunk calling ``fn`` for one C call: ``(thunk, lease)``; keep the lease until C returns.

    When the lease is dropped the thunk is retargeted to a reporting stub and
    queued for reuse by a later plain callable of the same signature, so a fresh
    lambda per call costs no new C thunk and a late call from C never crashes.
    """
    slot = _take(fp_type)
    slot.fallback = slot.zero
    slot.owner = owner
    slot.held = False
    slot.fn = fn
    return slot.thunk, _Lease((slot,))


def _late_call(slot: _Slot) -> object:
    """C called a released thunk: report it, keep the thunk out of reuse, give C ``on_error``."""
    with _slots_lock:
        for pool in (_FREE[slot.fp_type], _QUARANTINE):
            try:
                pool.remove(slot)
            except ValueError:
                continue
            _STUCK.append(slot)
            break
    late_report(slot.name, slot.held, slot.owner, slot.fallback)
    return slot.fallback


def make_thunk(fp_type: type, func_type: m.CType | None, fn: Callable, on_error: object = 0) -> Callback:
    """A :class:`Callback` of ``fp_type`` calling ``fn``: pass it to ctypes and keep it alive."""
    return Callback(fp_type, func_type, fn, on_error)


class Callback:
    """A persistent C function pointer wrapping a Python callable.

    It stays valid for as long as this object is held.  ``release()`` (or the
    end of a ``with`` block, or garbage collection) retargets the C thunk to a
    stub: a later call from C then reports :class:`~ffikit.CallbackReleased`
    (through the ffikit call it happens in, or :data:`sys.unraisablehook`, and
    :func:`callback_errors`) and returns ``on_error`` — it never crashes.  Pass
    it wherever the function-pointer type is expected; ``address`` is the C
    pointer.
    """

    def __init__(self, fp_type: type, func_type: m.CType | None, fn: Callable, on_error: object = 0):
        self.fp_type = fp_type
        self.func_type = func_type
        self.function = fn
        self.on_error = on_error
        if fp_type._restype_ is not None:  # type: ignore[attr-defined]
            try:
                result_checker(fp_type._restype_, on_error)(on_error)  # type: ignore[attr-defined]
            except ArgumentError as exc:
                raise ArgumentError(f"ffikit.callback(): on_error={on_error!r} is what C gets "
                                    f"when the callback fails, so it must fit: {exc}") from None
        self._slot: _Slot | NativeSlot | None = _native(fp_type, fn, on_error)
        if self._slot is None:
            self._slot = _acquire(fp_type, fn, on_error, "ffikit.callback", True)
        self.thunk = self._slot.thunk
        self._as_parameter_ = self.thunk

    @property
    def released(self) -> bool:
        """True once :meth:`release` ran: C must no longer call it."""
        return self._slot is None

    def release(self) -> None:
        """Stop calling the Python function: a later call from C reports instead (idempotent)."""
        slot, self._slot = self._slot, None
        if slot is not None:
            _release(slot)

    def __del__(self) -> None:
        try:
            self.release()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __enter__(self) -> Callback:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    @property
    def signature(self) -> str:
        """The C signature, e.g. ``int (*)(int, int)``."""
        return signature_text(self.fp_type, self.func_type)

    @property
    def address(self) -> int:
        return ctypes.cast(self.thunk, ctypes.c_void_p).value or 0

    def __call__(self, *args: object) -> object:
        return self.function(*args)

    def __repr__(self) -> str:
        name = getattr(self.function, "__qualname__", repr(self.function))
        state = " (released)" if self.released else ""
        return f"<ffikit.callback {name} at 0x{self.address:x}{state}>"


def _fp_type_of(spec: object, defs: object) -> tuple[type, m.CType | None]:
    if isinstance(spec, type) and hasattr(spec, "_restype_") and hasattr(spec, "_argtypes_"):
        return spec, None
    if isinstance(spec, str):
        if defs is not None and hasattr(defs, "typeof"):
            spec = defs.typeof(spec)
        else:
            if defs is not None:  # nothing that can look the name up
                raise ArgumentError(
                    f"ffikit.callback({spec!r}): defs must be declarations (ffikit.cdef(...), "
                    f"ffikit.include(...) or lib.defs), got {type(defs).__name__}")
            try:
                from ffikit.backends.ctypes.declarations import typeof
            except ImportError:
                raise TypeError(
                    f"ffikit.callback({spec!r}): C text needs the cdecl layer; pass a ctypes "
                    "CFUNCTYPE class or a model FunctionType"
                ) from None
            spec = typeof(spec)
    if isinstance(spec, m.CType):
        r = m.resolve(spec)
        if isinstance(r, m.FunctionType):
            r = m.Pointer(r)
        if isinstance(r, m.Pointer) and isinstance(m.resolve(r.target), m.FunctionType):
            return ctype_of(r), m.resolve(r.target)  # type: ignore[return-value]
    raise ArgumentError(
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
        raise ArgumentError(f"ffikit.callback() needs a callable (got {type(fn).__name__})")
    fp_type, func_type = _fp_type_of(fp_type_or_text, defs)
    return Callback(fp_type, func_type, fn, on_error)
