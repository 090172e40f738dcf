"""``CFunction``: what a bound C function is to a type checker.

Kept apart from :mod:`ffikit.boundary.bound` so the way from ``import ffikit``
to a first call never imports :mod:`typing` (a ``Protocol`` needs it at run
time); the library and the binder name it for type checkers only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["CFunction"]


class CFunction(Protocol):
    """What ``lib.name`` is to a type checker: a declared C function, bound.

    Both backends' functions (:class:`BoundFunction`, the compiled one) have
    this shape.  Argument and result types come from C, so they are ``Any``
    here; ``ffikit bind`` writes a stub with each function's own signature.
    """

    __name__: str
    declaration: str
    errors: Callable[..., Any] | None

    def __call__(self, *args: Any) -> Any: ...
