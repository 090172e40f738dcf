"""Struct and union members refuse what would wrap or be lost, as arguments do."""

from __future__ import annotations

import ctypes

import pytest

import ffikit

DEFS = ffikit.cdef("""
struct S { int a; unsigned char b; float f; double g; char c; _Bool ok; unsigned u : 3; int *p; };
union U { int i; float f; unsigned char bytes[4]; };
enum color { RED, GREEN };
struct O { struct { int x; unsigned char y; }; struct S s; enum color col; long long big; };
""")


@pytest.mark.parametrize("make, words", [
    (lambda: DEFS.S(a=2**40, b=3), "member 'a' of 'struct S' (int) holds -2147483648..2147483647"),
    (lambda: DEFS.S(a=1, b=300), "'b' of 'struct S' (unsigned char) holds 0..255, not 300"),
    (lambda: DEFS.S(b=-1), "not -1"),
    (lambda: DEFS.S(1, 256), "not 256"),  # positional initializers too
    (lambda: DEFS.S(f=1e39), "overflows C float"),
    (lambda: DEFS.S(g=2**2000), "cannot hold an int of 2001 bits"),
    (lambda: DEFS.S(ok=2), "(_Bool) holds 0..1"),
    (lambda: DEFS.U(i=2**31), "'i' of 'union U' (int)"),
    (lambda: DEFS.O(col=2**32), "'col' of 'struct O' (enum color) holds"),
    (lambda: DEFS.O(big=2**63), "long long"),
])
def test_out_of_range_members_refused(make, words):
    with pytest.raises(ffikit.InvalidValue, match=r"holds|overflows|cannot hold") as info:
        make()
    assert words in str(info.value)
    assert isinstance(info.value, ValueError)  # what the bitfields raised before


@pytest.mark.parametrize("make, words", [
    (lambda: DEFS.S(a=1.5), "member 'a' of 'struct S' (int) must be an int (got float 1.5)"),
    (lambda: DEFS.S(a="1"), "must be an int"),
    (lambda: DEFS.S(f="x"), "must be a float or int (got str 'x')"),
    (lambda: DEFS.S(g=None), "must be a float or int"),
    (lambda: DEFS.S(c=b"ab"), "must be an int or a 1-byte bytes"),
])
def test_wrong_types_refused(make, words):
    with pytest.raises(ffikit.ArgumentError) as info:
        make()
    assert words in str(info.value)


def test_assignment_checked_and_nothing_stored_on_refusal():
    s = DEFS.S(a=5, b=7)
    with pytest.raises(ffikit.InvalidValue, match="not 300"):
        s.b = 300
    with pytest.raises(ffikit.InvalidValue):
        s.a = -(2**31) - 1
    assert (s.a, s.b) == (5, 7)
    s.b, s.a = 255, -(2**31)
    assert (s.a, s.b) == (-(2**31), 255)


def test_plain_member_refuses_what_its_bitfield_sibling_refuses():
    s = DEFS.S()
    for member in ("b", "u"):
        with pytest.raises(ffikit.InvalidValue):
            setattr(s, member, -1)
    with pytest.raises(ffikit.ArgumentError):
        s.u = 1.0


def test_unknown_member_names_the_struct_and_its_members():
    with pytest.raises(ffikit.UnknownMember) as info:
        DEFS.S(a=1, widht=3)
    assert str(info.value) == ("'struct S' has no member 'widht' "
                               "(its members: a, b, f, g, c, ok, u, p)")
    assert isinstance(info.value, AttributeError)
    s = DEFS.S()
    with pytest.raises(ffikit.UnknownMember, match="'union U' has no member 'x'"):
        DEFS.U().x = 1
    with pytest.raises(ffikit.UnknownMember):
        s.aa = 1
    assert "aa" not in vars(s)


def test_right_values_stored_as_c_sees_them():
    s = DEFS.S(a=-7, b=200, f=3, g=True + 1, c=65, ok=True)
    assert (s.a, s.b, s.f, s.g, s.c, s.ok) == (-7, 200, 3.0, 2.0, b"A", True)
    s.c = b"z"
    s.f = float("inf")  # infinities are floats C holds
    assert s.c == b"z" and s.f == float("inf")
    raw = bytes(memoryview(s).cast("B"))
    assert int.from_bytes(raw[4:5], "little") == 200


def test_anonymous_and_nested_members_checked():
    o = DEFS.O(x=1, y=2)
    with pytest.raises(ffikit.InvalidValue, match="'y' of 'struct O'"):
        o.y = 256
    with pytest.raises(ffikit.InvalidValue, match="'b' of 'struct S'"):
        o.s.b = 256
    o.col = DEFS.GREEN
    o.s = DEFS.S(b=9)
    assert (o.x, o.y, o.col, o.s.b) == (1, 2, 1, 9)


def test_pointer_members_keep_their_rules():
    s = DEFS.S()
    arr = (ctypes.c_int * 3)(1, 2, 3)
    s.p = ctypes.cast(arr, ctypes.POINTER(ctypes.c_int))
    assert s.p[2] == 3
    with pytest.raises(TypeError, match="member 'p' of 'struct S'"):
        s.p = "text"
    s.p = None
    assert not s.p


def test_union_members_checked_and_readable():
    u = DEFS.U(i=0x01020304)
    assert list(u.bytes) == [4, 3, 2, 1]
    u.f = 2
    assert u.f == 2.0
    with pytest.raises(ffikit.InvalidValue):
        u.i = 2**32


def test_numpy_like_integers_pass_through_index():
    class Index:
        def __index__(self):
            return 42
    assert DEFS.S(a=Index()).a == 42
