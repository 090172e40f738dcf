"""``ffikit.cast``: an object or pointer seen as another pointer type, as a C cast does.

C APIs built on "struct inheritance" need it: libuv's ``uv_close`` takes a
``uv_handle_t *`` and is given a ``uv_timer_t`` (whose first member is the
handle), a callback receives ``void *`` user data and casts it back.  ffikit's
call boundary refuses a struct of one type for a pointer to another, so the
cast is explicit, as it is in C::

    timer = uv.new("uv_timer_t")
    uv.uv_close(ffikit.cast("uv_handle_t *", timer, defs=uv.defs), None)

The result is a ctypes pointer to the same address that keeps the source
alive (a pointer to a ``new()`` object, a view, a buffer) for as long as the
result lives.  What a C cast would let through silently is refused with an
ffikit error instead:

* a pointer into a known object whose target type is larger than the object
  (``cast("double *", new("char[4]"))``: C would read past it) -
  :class:`~ffikit.errors.BufferTooSmall`;
* an address not aligned for the target type - :class:`~ffikit.errors.MisalignedBuffer`;
* read-only memory (``bytes``, a read-only view) - :class:`~ffikit.errors.ReadOnlyBuffer`,
  since nothing stops a write through the new pointer;
* a pointer to an integer type narrower than a pointer, or an integer that
  does not fit the integer type asked for - :class:`~ffikit.errors.InvalidValue`;
* a plain Python integer to a pointer, unless it is the address of a live object an
  earlier cast pointed at (below), and anything to a function pointer: ffikit cannot know
  what lives at that address - :class:`~ffikit.errors.ArgumentError`.

User data round-trips: ``timer.data = ffikit.cast("void *", box)`` hands C the
address of ``box``; ``void *`` comes back from C as a number (a callback's
argument, a struct's ``void *`` field), and ``ffikit.cast("int *", number)``
turns it back into a pointer to ``box`` (keeping it alive) for as long as
``box`` lives.  ffikit remembers, weakly, which objects its casts pointed at;
a number it does not know is refused rather than trusted.

A cast to a pointer from a pointer (whose extent ffikit does not know, e.g. a
``uv_handle_t *`` given to a callback, cast to the ``uv_timer_t *`` it is)
is C's responsibility, as in C.
"""

from __future__ import annotations

import ctypes
import weakref

from ffikit import forksafe
from ffikit.backends.ctypes.classes import CData
from ffikit.backends.ctypes.signatures import ctype_text
from ffikit.backends.ctypes.types import ctype_int_range
from ffikit.errors import (
    ArgumentError,
    BufferTooSmall,
    InvalidValue,
    MisalignedBuffer,
    ReadOnlyBuffer,
)
from ffikit.memory.new import _resolve_ctype, _spelling
from ffikit.memory.rawpointers import checked_type
from ffikit.memory.views import is_readonly, view
from ffikit.rules.messages import given

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["cast"]

_CFuncPtr = ctypes.CFUNCTYPE(None).__mro__[1]
_POINTERS = (ctypes._Pointer, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_wchar_p)
_WORD = ctypes.sizeof(ctypes.c_void_p)


def cast(ctype_or_text: object, obj: object, *, defs: object = None) -> Any:
    """``obj`` as a C value of another type, as ``(T) obj`` does in C, keeping ``obj`` alive.

    Parameters
    ----------
    ctype_or_text
        The type to cast to: C type text (``"uv_handle_t *"``; names from a
        header need ``defs=lib.defs``, or are looked up in the declarations made
        most recently), a model type or a ctypes type.  A data pointer type, or an integer type at least as
        wide as a pointer (``uintptr_t``) to read an address.
    obj
        A ctypes pointer (any pointer type), a C object (a struct from
        ``new()``, a view, an array: its address, as it goes to a ``T *``
        parameter), a writable buffer (its first byte), ``None`` (NULL), or
        an ``int`` that is the address of a live object an earlier cast
        pointed at.  Cast to an integer type, a Python ``int`` is range-checked.
    defs
        The :class:`ffikit.Declarations` that define the names in the text.

    Returns
    -------
    ctypes object
        A pointer of the requested type to the same address (it keeps ``obj``
        alive), or an integer object of the requested type.

    Raises
    ------
    ArgumentError
        ``obj`` is not something C could cast (a plain ``int`` to a pointer,
        a ``str``); the type is a function pointer, a struct or a float.
    BufferTooSmall
        The target type is larger than the object ``obj`` is.
    MisalignedBuffer
        The address is not aligned for the target type.
    ReadOnlyBuffer
        ``obj`` is read-only memory.
    InvalidValue
        A pointer cast to an integer narrower than a pointer, or an integer that
        does not fit.
    """
    ct = _resolve_ctype(ctype_or_text, defs)
    what = f"ffikit.cast({_spelling(ctype_or_text)!r}, ...)"
    if issubclass(ct, _POINTERS):
        return _to_pointer(ct, obj, what)
    limits = _int_range(ct)
    if limits is not None:
        return _to_integer(ct, limits, obj, what)
    hint = ("ffikit cannot know which code lives at an address; load the function from a "
            "library instead" if issubclass(ct, _CFuncPtr) else
            "cast to a pointer type ('T *'), or use ffikit.view(buffer, type) to read memory "
            "as another type")
    raise ArgumentError(f"{what}: cannot cast to '{ctype_text(ct)}': {hint}")


def _to_pointer(ct: type, obj: object, what: str) -> Any:
    if obj is None:
        return ct()
    if isinstance(obj, _POINTERS):
        if not _aligned(ct, _address_in(obj)):
            raise _misaligned(ct, _address_in(obj), what)
        if getattr(type(obj), "_ffikit_checked_", False):  # read from memory: stays checked
            ct = checked_type(ct)
        return ctypes.cast(obj, ct)  # ctypes keeps obj in the result's _objects
    if isinstance(obj, _CFuncPtr):
        raise ArgumentError(f"{what}: a function pointer is not a data pointer; C code is "
                            "not data ffikit can check")
    if isinstance(obj, int) and not isinstance(obj, bool):
        obj = _handed_out(obj, what)
    if isinstance(obj, (float, str, bool)):
        raise ArgumentError(f"{what}: cannot cast {given(obj)} to a pointer")
    source: CData | None
    if isinstance(obj, CData):
        if is_readonly(obj):
            raise ReadOnlyBuffer(f"{what}: the {type(obj).__name__} view is read-only, and a "
                                 "pointer would let C write to it; view a writable copy")
        extent, source = ctypes.sizeof(obj), obj
    else:
        try:
            mv = memoryview(obj)  # type: ignore[arg-type]
        except TypeError:
            raise ArgumentError(f"{what}: cannot cast {given(obj)}: expected a ctypes pointer, "
                                "a C object (new(), view()), a writable buffer or None") from None
        if mv.readonly:
            raise ReadOnlyBuffer(f"{what}: {type(obj).__name__} is read-only, and a pointer "
                                 "would let C write to it; pass a bytearray (or a copy)")
        extent = mv.nbytes
        source = view(obj, ctypes.c_ubyte * extent) if extent else None
        if source is None:
            raise BufferTooSmall(f"{what}: the {type(obj).__name__} is empty; a pointer into it "
                                 "would point at nothing")
    size = _pointee_size(ct)
    if size > extent:
        raise BufferTooSmall(
            f"{what}: '{ctype_text(ct)}' points at {size} bytes, but the "
            f"{type(obj).__name__} is {extent} bytes: C would read past its end")
    address = ctypes.addressof(source)
    if not _aligned(ct, address):
        raise _misaligned(ct, address, what)
    _remember(address, source)
    return ctypes.cast(ctypes.pointer(source), ct)  # result -> pointer -> source


# Addresses cast() made pointers to, while their objects live: a ``void *`` that comes back
# from C as a number (user data in a callback, a struct's ``void *data`` field) casts back.
_known: dict[int, weakref.ref] = {}
_known_lock = forksafe.RLock()  # re-entrant: a collection inside may run forget()


def _remember(address: int, source: object) -> None:
    def forget(ref: weakref.ref, address: int = address) -> None:
        with _known_lock:
            if _known.get(address) is ref:
                del _known[address]

    with _known_lock:
        _known[address] = weakref.ref(source, forget)


def _handed_out(address: int, what: str) -> object:
    """The live object at ``address`` that an earlier cast pointed at, or an ArgumentError."""
    with _known_lock:
        ref = _known.get(address)
    source = ref() if ref is not None else None
    if source is None:
        raise ArgumentError(
            f"{what}: cannot cast int {address:#x} to a pointer: ffikit knows no live object "
            "there; only an address that ffikit.cast(...) made from an object that is still "
            "alive casts back (the 'void *' user-data round trip); for other memory you know "
            "the size of, use ffikit.buffer(address, size)")
    return source


def _int_range(ct: type) -> tuple[int, int] | None:
    if not issubclass(ct, ctypes._SimpleCData) or ct._type_ in "fdgPzZOv":  # type: ignore[attr-defined]
        return None
    try:
        return ctype_int_range(ct)
    except TypeError:
        return None


def _to_integer(ct: type, limits: tuple[int, int], obj: object, what: str) -> Any:
    low, high = limits
    if isinstance(obj, int) and not isinstance(obj, bool):
        value = obj
    elif obj is None or isinstance(obj, _POINTERS):
        if ctypes.sizeof(ct) < _WORD:
            raise InvalidValue(
                f"{what}: '{ctype_text(ct)}' is {ctypes.sizeof(ct)} bytes, a pointer is "
                f"{_WORD}: the address would be cut; cast to uintptr_t or intptr_t")
        value = _address_in(obj) if obj is not None else 0
        if value > high:  # a signed type of pointer width: the same bits, as C converts them
            value -= 1 << (8 * ctypes.sizeof(ct))
    else:
        raise ArgumentError(f"{what}: cannot cast {given(obj)} to an integer: expected an int, "
                            "a ctypes pointer or None")
    if not low <= value <= high:
        raise InvalidValue(f"{what}: {value} does not fit '{ctype_text(ct)}' "
                           f"({low}..{high}); C would silently change it")
    return ct(value)


def _address_in(pointer: object) -> int:
    return ctypes.cast(pointer, ctypes.c_void_p).value or 0  # type: ignore[arg-type]


def _target_class(ct: type) -> type[CData] | None:
    """The ctypes class a pointer class points at (None for ``void *`` and the like)."""
    target = getattr(ct, "_type_", None)
    return target if isinstance(target, type) and issubclass(target, CData) else None


def _pointee_size(ct: type) -> int:
    target = _target_class(ct)
    if ct is ctypes.c_char_p:
        return 1
    if ct is ctypes.c_wchar_p:
        return ctypes.sizeof(ctypes.c_wchar)
    if target is not None:
        return ctypes.sizeof(target)
    return 0  # void *


def _aligned(ct: type, address: int) -> bool:
    target = _target_class(ct)
    if target is None or address == 0:
        return True
    return address % ctypes.alignment(target) == 0


def _misaligned(ct: type, address: int, what: str) -> MisalignedBuffer:
    target = _target_class(ct)  # misaligned: it has one
    needs = ctypes.alignment(target) if target is not None else 1
    return MisalignedBuffer(
        f"{what}: address {address:#x} is not aligned for '{ctype_text(ct)}' "
        f"(needs {needs}); copy the data to aligned memory first")
