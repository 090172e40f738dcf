"""What a callback says when it goes wrong, for ctypes thunks and C callback pools alike.

Two kinds of C function pointers call Python: ctypes thunks (:mod:`callbacks`,
always available) and the slots of a C callback pool (the compiled backend's
``runtime/cbpool.c``: arguments and results converted in C, no Python frame
between C and the user's function).  Whenever a call goes wrong -- the
callback raised, C called it after it was released, callbacks nest deep
enough to check the C stack -- both end up here, so both say the same words
and park or report the same way.

A pool is found per function-pointer class through the *providers* registered
with :func:`register_provider` (the compiled backend registers one when it is
imported; nothing is registered when it is unavailable, and callbacks stay
ctypes thunks).  Pools are told at interpreter exit to stop entering Python
(:func:`exit_pools`).
"""

from __future__ import annotations

from collections.abc import Callable

from ffikit.backends.ctypes.callerrors import enclosing_call, keep, park, report
from ffikit.backends.ctypes.callguard import CHECK_FROM, INFLIGHT, MARGIN, stack_left
from ffikit.errors import CallbackRecursion, CallbackReleased
from ffikit.rules.params import FLOAT_MAX

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["name_of", "late_report", "recursion_error", "register_provider", "pool_for",
           "NativeSlot", "setup_args", "register_pool", "exit_pools"]

_PROVIDERS: list[Callable[[type], Any]] = []
_POOLS: list[Any] = []  # every pool module loaded: told at exit


def name_of(fn: object) -> str:
    """A callback's name in messages: its ``__qualname__``, else its repr."""
    return getattr(fn, "__qualname__", None) or repr(fn)


def late_report(name: str, held: bool, owner: str, fallback: object) -> None:
    """C called a released callback: raise-later (parked) or report :class:`CallbackReleased`."""
    if held:
        why = "its ffikit.callback was released (release(), the end of a with block, or garbage collection)"
    else:
        why = f"a plain callable passed as {owner} is valid only until that call returns"
    exc = CallbackReleased(
        f"ffikit callback {name} was called from C after it was released: {why}; "
        f"C got on_error ({fallback!r}). If C keeps a callback to call later, pass "
        "ffikit.callback(...) and keep it (hold the object) for as long as C may call it"
    )
    keep(exc)
    found = enclosing_call()
    if found is None:
        report(exc, name, keep=False)
    else:
        park(exc, name)


def recursion_error(fn: object, left: int) -> CallbackRecursion:
    return CallbackRecursion(
        f"ffikit callback {name_of(fn)} was called from C with {left} bytes "
        f"of C stack left on its thread (less than {MARGIN}): recursion "
        "through C would overflow the stack; C got on_error. Recurse less, "
        "or run it on a thread with a bigger stack (threading.stack_size())")


# --------------------------------------------------------------------------------------
# what a C pool calls (setup_args): only when something is wrong, or nesting is deep


def _late(held: bool, owner: object, param: int, name: object, fallback: object) -> None:
    text = "ffikit.callback" if held else owner.owner_text(param)  # type: ignore[attr-defined]
    late_report(str(name), held, text, fallback)  # (this frame: where enclosing_call starts)


def _failed(fn: object, exc: BaseException) -> None:
    park(exc, name_of(fn))


def _guard(depth: int, fn: object) -> None:
    left = stack_left(depth)
    if left is not None and left < MARGIN:
        raise recursion_error(fn, left)


def setup_args(check: Callable[[object], object]) -> tuple:
    """The arguments of a pool module's ``setup()``: its helpers, ``check`` judging results."""
    return (_late, _failed, _guard, check, INFLIGHT, CHECK_FROM, FLOAT_MAX)


# --------------------------------------------------------------------------------------
# finding pools


def register_provider(provider: Callable[[type], Any]) -> None:
    """Add a ``fp_type -> pool module or None`` (tried in order, for held callbacks)."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def pool_for(fp_type: type) -> Any:
    """The C callback pool for ``fp_type``, or None (callbacks stay ctypes thunks)."""
    for provider in _PROVIDERS:
        pool = provider(fp_type)
        if pool is not None:
            return pool
    return None


def register_pool(pool: Any) -> None:
    """Remember a loaded pool module, to stop it entering Python at interpreter exit."""
    _POOLS.append(pool)


def exit_pools(begin: bool, seconds: float = 0.0) -> None:
    """At exit: ``begin`` -- no pool slot enters Python from now on; else wait (the GIL
    released) up to ``seconds`` for calls already inside to return."""
    for pool in list(_POOLS):
        if begin:
            pool.exit_begin()
        else:
            pool.exit_wait(seconds)


class NativeSlot:
    """A held callback's slot in a C pool: what :class:`~callbacks.Callback` keeps."""

    __slots__ = ("pool", "index", "thunk", "fn")

    def __init__(self, pool: Any, index: int, fp_type: type, fn: Callable):
        self.pool = pool
        self.index = index
        self.fn: Callable | None = fn
        self.thunk = fp_type(pool.address(index))  # a plain C function pointer of the type

    def release(self) -> None:
        fn, self.fn = self.fn, None
        if fn is not None:
            self.pool.release(self.index, name_of(fn))
