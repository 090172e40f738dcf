"""Bitfield storage and properties: exact bits, range checks, forwarding from anonymous members."""

import pytest

import ffikit


def test_bits_and_ranges():
    defs = ffikit.cdef("struct b { unsigned a : 3; int s : 5; _Bool f : 1; "
                       "unsigned long long wide : 40; };")
    v = defs.ctype("struct b")()
    v.a, v.s, v.f, v.wide = 7, -16, True, (1 << 40) - 1
    assert (v.a, v.s, v.f, v.wide) == (7, -16, True, (1 << 40) - 1)
    with pytest.raises(ValueError, match="holds 0..7"):
        v.a = 8
    with pytest.raises(TypeError, match="needs an int"):
        v.s = 1.5


def test_anonymous_member_bitfields_are_forwarded():
    defs = ffikit.cdef("struct o { struct { unsigned lo : 4, hi : 4; }; char c; };")
    v = defs.ctype("struct o")()
    v.hi = 9
    assert v.hi == 9 and bytes(v)[0] == 0x90
