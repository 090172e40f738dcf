"""Counts and sizes given to ffikit's own functions, and the words for use after free.

``alloc``, ``Arena.alloc``, ``Pool``, ``adopt`` and ``new`` take counts and
sizes from users: each must be a whole number within its limits, refused
with an ffikit error naming the function and the argument, never a builtin
exception from deep inside (or a hang).
"""

from __future__ import annotations

import operator
from typing import SupportsIndex

from ffikit.errors import ArgumentError, InvalidValue, MemoryReleased

__all__ = ["released", "whole"]


def released(what: str) -> MemoryReleased:
    return MemoryReleased(f"{what} was freed; it can no longer be used (use after free)")


def whole(value: object, who: str, what: str, minimum: int = 0) -> int:
    """``value`` as an int >= ``minimum``; else ArgumentError (not an int) or InvalidValue."""
    if type(value) is int:
        number = value
    elif isinstance(value, float):
        raise ArgumentError(f"{who}: {what} must be an int, got float {value!r}")
    else:
        try:
            if not isinstance(value, SupportsIndex):
                raise TypeError
            number = operator.index(value)
        except TypeError:
            raise ArgumentError(f"{who}: {what} must be an int, got {type(value).__name__}"
                                ) from None
    if number < minimum:
        raise InvalidValue(f"{who}: {what} must be >= {minimum}, got {number}")
    return number
