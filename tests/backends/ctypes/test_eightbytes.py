"""The x86-64 System V eightbyte classes ffikit computes for aggregates passed by value."""

from __future__ import annotations

import ctypes

import pytest

import ffikit
from ffikit.backends.ctypes import eightbytes

pytestmark = pytest.mark.skipif(not eightbytes.SYSV_X86_64, reason="x86-64 System V only")

DECLS = """
struct cf { char a[3]; float f[2]; };
union u { double d; long l; };
union fu { float f; int i; };
struct ff { float a, b; double c; };
struct big { double d[3]; };
struct ld { long double x; };
struct i128 { __int128 x; };
struct bits { int a : 3; float f; };
"""


@pytest.fixture(scope="module")
def defs():
    return ffikit.cdef(DECLS)


@pytest.mark.parametrize("name, expected", [
    ("cf", (("INTEGER", "SSE"), True)),  # arrays: ctypes describes them its own way
    ("u", (("INTEGER",), True)),
    ("fu", (("INTEGER",), True)),
    ("ff", (("SSE", "SSE"), False)),
    ("big", ((), True)),  # over 16 bytes: MEMORY
    ("bits", (("INTEGER",), False)),
])
def test_classes_follow_the_abi(defs, name, expected):
    t = getattr(defs, name)._ffikit_type_
    assert eightbytes.classes(t) == expected


@pytest.mark.parametrize("name", ["ld", "i128"])
def test_members_no_ctypes_class_carries_are_unsupported(defs, name):
    with pytest.raises(eightbytes.Unsupported):
        eightbytes.classes(getattr(defs, name)._ffikit_type_)


def test_register_twin_keeps_size_alignment_and_classes():
    twin = eightbytes.register_twin("T", 12, 4, ("INTEGER", "SSE"))
    assert ctypes.sizeof(twin) == 12 and ctypes.alignment(twin) == 4
    assert [t for _, t in twin._fields_] == [ctypes.c_uint32, ctypes.c_uint32, ctypes.c_float]
    assert eightbytes.register_twin("T", 3, 1, ("INTEGER",))._fields_[2][1] is ctypes.c_uint8
    assert eightbytes.memory_twin("M", 24, 8) is not None and eightbytes.memory_twin("M", 16, 8) is None


def test_registers_before_counts_structs_that_fit():
    params = [("sse", ()), *[("int", ())] * 5, ("struct", ("INTEGER", "SSE")), ("int", ())]
    before = eightbytes.registers_before(params, hidden_result=False)
    assert before[6] == (5, 1) and before[7] == (6, 2)
    too_many = [("int", ())] * 6 + [("struct", ("INTEGER", "SSE")), ("sse", ())]
    assert eightbytes.registers_before(too_many, hidden_result=True)[7] == (7, 0)  # on the stack
