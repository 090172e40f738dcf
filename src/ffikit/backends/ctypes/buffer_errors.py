"""ffikit errors for what Python's own buffer machinery raises as builtins.

Reading a buffer whose memory is gone (a released ``memoryview``, a closed
``mmap``) raises a bare ``ValueError`` deep inside ``memoryview()``;
a size no memory can have (``count=2**62``) raises ``OverflowError`` or
``MemoryError`` from ctypes.  Each becomes an ffikit error that names the
object and the fix -- and is still the builtin users catch
(``MemoryReleased`` is a ``ValueError``, ``BufferTooSmall`` one too,
``InvalidAddress`` one too).
"""

from __future__ import annotations

import ctypes

from ffikit.errors import BufferTooSmall, FFIError, InvalidAddress, InvalidValue, MemoryReleased

__all__ = ["ADDRESS_END", "unusable", "range_refusal", "released", "argument_refusal"]

ADDRESS_END = 1 << (8 * ctypes.sizeof(ctypes.c_void_p))  # one past the last address


def released(obj: object) -> bool:
    """True for a buffer whose memory is gone: a released memoryview, a closed mmap."""
    try:
        memoryview(obj).release()  # type: ignore[arg-type]
    except ValueError:
        return True
    except TypeError:
        return False
    return False


def unusable(exc: BaseException, obj: object, who: str) -> FFIError:
    """The ffikit error for a builtin one raised while reading ``obj``'s memory."""
    if isinstance(exc, ValueError):
        if released(obj):
            return MemoryReleased(f"{who}: the {type(obj).__name__} given is released or closed "
                                  f"({exc}); pass memory that is still open")
        return InvalidValue(f"{who}: {exc}")
    return BufferTooSmall(f"{who}: the size asked for is more than any {type(obj).__name__} "
                          f"can hold ({type(exc).__name__}: {str(exc) or 'too large'}); lower count")


def range_refusal(who: str, address: int, size: int, exc: BaseException) -> InvalidAddress:
    """The error for ``size`` bytes at ``address`` that no memory of this process spans."""
    return InvalidAddress(f"{who}: {size} bytes at {address:#x} cannot all be memory of this "
                          f"process ({type(exc).__name__}: {str(exc) or 'too large'}); give the size "
                          "of the memory that is there")


def argument_refusal(exc: BaseException, function: str, names: tuple, args: tuple) -> FFIError:
    """The error for a call whose argument conversion raised ``exc`` (a builtin): the
    argument whose memory is gone is named, else the first one ``exc`` could be about."""
    for i, (name, value) in enumerate(zip(names, args)):
        if released(value):
            where = f"argument {i + 1}" + (f" '{name}'" if name else "") + f" of '{function}'"
            return MemoryReleased(f"{where}: the {type(value).__name__} given is released or "
                                  f"closed ({exc}); pass memory that is still open")
    if isinstance(exc, OverflowError):
        return InvalidValue(f"an argument of '{function}' is too large for C: {exc}")
    return InvalidValue(f"an argument of '{function}' cannot be passed to C: {exc}")
