"""Bitfields in ctypes classes: raw storage and properties that read/write exact bits.

ctypes' own bitfield placement has differed from gcc's in several CPython
releases, so ffikit stores a run of bitfields as one unsigned word (or raw
bytes) and reads/writes each field through a property, at the bit position
``ffikit.cdecl.layout`` computed.
"""

from __future__ import annotations

import ctypes
import sys

from ffikit.cdecl.layout import Platform, int_info
from ffikit.cdecl.model import Enum, Primitive, resolve
from ffikit.errors import ArgumentError, InvalidValue

__all__ = ["bit_storage", "bit_property", "forward_property"]


_WORDS = {1: ctypes.c_uint8, 2: ctypes.c_uint16, 4: ctypes.c_uint32, 8: ctypes.c_uint64}


def bit_storage(nbytes: int, offset: int, struct_align: int) -> type:
    """The ctypes member holding a run of bitfields.

    An unsigned integer when it is 1/2/4/8 bytes at an offset aligned for it
    and no more aligned than the struct (fast: one ctypes read); raw bytes
    otherwise.  Either way ctypes' own bitfield placement is never used.
    """
    word = _WORDS.get(nbytes)
    if word is not None and offset % nbytes == 0 and nbytes <= struct_align:
        return word
    return ctypes.c_uint8 * nbytes


def bit_property(m, store: str, first_byte: int, plat: Platform, storage: type) -> property:
    shift = m.bit_offset - first_byte * 8
    width = m.bit_width
    mask = (1 << width) - 1
    clear = ~(mask << shift)
    sign_bit = 1 << (width - 1)
    r = resolve(m.type)
    signed = isinstance(r, (Primitive, Enum)) and r != Primitive("_Bool") and int_info(r, plat)[1]
    is_bool = isinstance(r, Primitive) and r.name == "_Bool"
    lo, hi = (-sign_bit, sign_bit - 1) if signed else (0, mask)
    name = m.name
    as_word = not issubclass(storage, ctypes.Array)
    if sys.byteorder != "little":  # pragma: no cover - every supported ABI is little-endian
        raise NotImplementedError("bitfields on big-endian hosts")

    def read_raw(self) -> int:
        if as_word:
            return getattr(self, store)
        return int.from_bytes(bytes(getattr(self, store)), "little")

    if as_word and not signed and not is_bool:
        def get(self):  # the common case, kept to one ctypes read and two int ops
            return (getattr(self, store) >> shift) & mask
    else:
        def get(self):
            value = (read_raw(self) >> shift) & mask
            if signed and value & sign_bit:
                value -= 1 << width
            return bool(value) if is_bool else value

    def set_(self, value):
        if value.__class__ is not int:
            if isinstance(value, bool):
                value = int(value)
            elif not isinstance(value, int):
                raise ArgumentError(
                    f"bitfield '{name}' ({r.c_name()} : {width}) needs an int, "
                    f"not {type(value).__name__}"
                )
        if not lo <= value <= hi:
            raise InvalidValue(
                f"{value} does not fit bitfield '{name}' ({r.c_name()} : {width}), "
                f"which holds {lo}..{hi}"
            )
        raw = (read_raw(self) & clear) | ((value & mask) << shift)
        if as_word:
            setattr(self, store, raw)
        else:
            buf = getattr(self, store)
            ctypes.memmove(buf, raw.to_bytes(len(buf), "little"), len(buf))

    return _BitfieldProperty(get, set_, None, f"bitfield {r.c_name()} {name} : {width}")


class _BitfieldProperty(property):
    """A property that reads/writes one bitfield; marked so nested structs forward it."""

    _ffikit_bitfield_ = True


def forward_property(member: str, attr: str) -> property:
    def get(self):
        return getattr(getattr(self, member), attr)

    def set_(self, value):
        setattr(getattr(self, member), attr, value)

    return _BitfieldProperty(get, set_)
