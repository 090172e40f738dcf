"""Both backends give the same answer to every call: the same result, or the same refusal, word for word."""

from __future__ import annotations

import array
import ctypes

import numpy as np
import pytest

import ffikit
from compiled_helpers import PYTHON_ONLY, REFUSED, C, H
from ffikit.backends.compiled import available

pytestmark = pytest.mark.skipif(not available()[0], reason="compiled backend unavailable")


@pytest.fixture(scope="module")
def libs(cbuild):
    path = cbuild(C, name="compiled_probe")
    defs = ffikit.cdef(H)
    return ffikit.load(path, defs, backend="ctypes"), ffikit.load(path, defs, backend="compiled")


class Other(ctypes.Structure):
    _fields_ = [("id", ctypes.c_int), ("name", ctypes.c_char * 50), ("score", ctypes.c_double),
                ("is_active", ctypes.c_int)]


class _Bytes(bytes):
    pass


class _Sub(np.ndarray):  # like np.memmap: an ndarray subclass
    pass


_HELD = ffikit.callback("int (*)(int, int)", lambda a, b: a * b)
_RELEASED = ffikit.callback("int (*)(int, int)", lambda a, b: a + b)
_RELEASED.release()
_OTHER_SIGNATURE = ffikit.callback("double (*)(double, double)", lambda a, b: a - b)
_CFUNC = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int)(lambda a, b: a - b)
_CFUNC_OTHER = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_double)(lambda a: a)
_MEMORY = ffikit.alloc("char", 16)
_READ_ONLY = ffikit.alloc("char", 4096, pages=True)
_READ_ONLY.protect("r")
_FREED = ffikit.alloc("char", 8)
_FREED.free()


_STUDENTS = np.zeros(2, dtype=np.dtype([("id", "i4"), ("name", "S50"), ("score", "f8"),
                                        ("is_active", "i4")], align=True))
_STUDENTS["score"] = [1.0, 4.0]


def _cases():
    f8 = np.arange(4.0)
    return [
        ("add", (2**31, 1)), ("add", (1, 1.5)), ("add", ("1", 2)), ("add", (None, 1)), ("add", (1,)),
        ("add", (1, 2, 3)), ("add", (True, np.int32(4))), ("add", (-(2**31), 0)),
        ("i8", (128,)), ("i8", (-129,)), ("i8", (127,)), ("u8", (-1,)), ("u8", (256,)), ("u8", (b"a",)),
        ("i16", (2**15,)), ("u32", (2**32,)), ("u32", (2**32 - 1,)),
        ("next_char", (b"a",)), ("next_char", (b"ab",)), ("next_char", (300,)), ("next_char", (65,)),
        ("u64", (-1,)), ("u64", (2**64,)), ("u64", (2**64 - 1,)), ("i64", (2**63,)), ("i64", (-(2**63),)),
        ("flip", (2,)), ("flip", (True,)), ("flip", (1,)),
        ("half", (1e39,)), ("half", (float("-inf"),)), ("half", (float("inf"),)), ("half", ("x",)),
        ("half", (2**1024,)), ("half", (3,)),
        ("ld", (1.5,)), ("ld", (2**70,)), ("ld", ("x",)), ("ld", (2**1024,)), ("ld", (None,)),
        ("twice", (2**1024,)), ("twice", ("1.0",)), ("twice", (None,)), ("twice", (3,)), ("twice", (1.5,)),
        ("sum", (b"\0" * 16, 2)), ("sum", (array.array("i", [1, 2]), 2)), ("sum", (f8[::2], 2)),
        ("sum", (np.arange(4, dtype=">f8"), 4)), ("sum", ("abc", 1)), ("sum", (object(), 1)),
        ("sum", (f8, 4)), ("sum", (array.array("d", [1, 2]), 2)), ("sum", (memoryview(f8)[1:], 3)),
        ("sum", (None, 0)), ("sum", (f8, -1)), ("sum", (f8.view(_Sub), 4)), ("sum", (3, 1)),
        ("sum", (_Bytes(b"\0" * 16), 2)), ("where", (_Bytes(b"xy"),)), ("where_mut", (_Bytes(b"xy"),)),
        ("sum", (f8.view(_Sub)[::2], 2)), ("sum", (type("B", (bytearray,), {})(8), 1)),
        ("scale", (b"\0" * 16, 2, 1.0)), ("scale", (memoryview(bytearray(16)).toreadonly(), 2, 1.0)),
        ("scale", (np.zeros(2), 2, "x")), ("scale", (np.zeros(2), 2, 2)),
        ("first_int", (array.array("d", [1.0]),)), ("first_int", ((ctypes.c_double * 2)(),)),
        ("first_int", (ctypes.pointer(ctypes.c_double()),)), ("first_int", (array.array("i", [7]),)),
        ("first_int", ((ctypes.c_int32 * 2)(5, 6),)), ("first_int", (ctypes.c_int32(9),)),
        ("first_int", (ctypes.pointer(ctypes.c_int32(4)),)), ("first_int", (None,)),
        ("first_int", (ctypes.byref(ctypes.c_int32(3)),)), ("first_int", (ctypes.c_long(1),)),
        ("avg", ((Other * 2)(), 2)), ("avg", (np.zeros(3), 3)), ("avg", (_STUDENTS, 2)),
        ("avg", (_STUDENTS[::2], 1)), ("avg", (np.zeros(2, dtype=[("a", "i4"), ("b", "f8")]), 2)),
        ("length", (b"ab\0c",)), ("length", ("h\u00e9llo",)), ("length", (bytearray(b"x\0"),)),
        ("length", (b"abc",)), ("length", (None,)), ("length", (5,)),
        ("wlength", (b"abcd",)), ("wlength", ("abc",)), ("wlength", (None,)),
        ("wlength", (array.array("i", [65, 66, 0]),)), ("wlength", (array.array("u", "xy\0"),)),
        ("upper", (b"abc",)), ("upper", ("abc",)),
        ("apply", (3, 1, 2)), ("apply", (None, 1, 2)), ("apply", (lambda a, b: a * b, 3, 4)),
        ("apply", (lambda a, b: "no", 3, 4)),
        ("where_mut", (b"x",)), ("where_mut", (bytearray(3),)), ("where", (b"xyz",)),
        ("set_int", (ctypes.byref(ctypes.c_double()), 5)), ("set_int", (ctypes.c_long(), 5)),
        ("set_int", (ctypes.c_int(), 2**40)),
        ("greet", ()), ("greet", (1,)), ("nothing", ()), ("px", (1,)), ("count", (1, "x")),
        ("px", (Other(),)), ("mkpoint", (2**31, 0)), ("mixed_sum", (None,)),
        ("nn_first", (None, None)), ("nn_first", (f8, None)), ("nn_first", (f8, f8)),
        ("nn_first", (ctypes.POINTER(ctypes.c_double)(), None)),
        ("nn_first", (ctypes.pointer(ctypes.c_double(2.5)), None)), ("nn_apply", (None, 2)),
        ("nn_apply", (ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int)(), 2)),
        ("nn_apply", (_HELD, 3)), ("apply", (_RELEASED, 1, 2)), ("apply", (_OTHER_SIGNATURE, 1, 2)),
        ("apply", (_HELD, 2, 5)), ("apply", (_CFUNC, 2, 5)), ("apply", (_CFUNC_OTHER, 2, 5)),
        ("sum", (ffikit.alloc("double", 4), 4)), ("where", (_MEMORY,)), ("where_mut", (_MEMORY,)),
        ("where_mut", (_READ_ONLY,)), ("where", (_READ_ONLY,)), ("where", (_FREED,)),
    ]


def _outcome(fn, args):
    try:
        result = fn(*args)
    except Exception as exc:  # noqa: BLE001 - comparing what each backend raises
        return "raised", type(exc), str(exc)
    if isinstance(result, (ctypes._Pointer, ctypes.c_void_p)):
        return "pointer", type(result).__name__, ctypes.cast(result, ctypes.c_void_p).value
    return "returned", type(result), result


@pytest.mark.parametrize(("name", "args"), _cases(), ids=lambda v: v if isinstance(v, str) else None)
def test_same_answer(libs, name, args):
    slow, fast = libs
    expected = _outcome(getattr(slow, name), args)
    got = _outcome(getattr(fast, name), args)
    if expected[0] == "returned" and isinstance(expected[2], float) and expected[2] != expected[2]:
        assert got[0] == "returned" and got[2] != got[2]  # NaN
    else:
        assert got == expected


def test_structs_by_value(libs):
    slow, fast = libs
    for lib in libs:
        p = lib.mkpoint(5, 6)
        assert (type(p), p.x, p.y) == (slow.defs.Point, 5, 6)
        assert lib.px(p) == 5
        m = lib.mixed_make(10.0)
        assert (m.f, list(m.d), m.inner.y, m.tag) == (1.5, [10.0, 20.0], 4, 7)
        assert lib.mixed_sum(m) == 1.5 + 30.0 + 7 + 7
        b = slow.defs.Bits(a=3, b=4)
        assert lib.bits(b) == 7
        # (packed structs by value stay on ctypes in both backends; ctypes/libffi pass them
        # wrongly on x86-64 -- a known ctypes limit, not tested here)
    assert type(fast.mixed_make).__name__ == "CompiledFunction"


def test_probe_functions_are_compiled(libs):
    _slow, fast = libs
    for name in fast.defs.functions:
        if name in REFUSED:
            continue
        compiled = type(getattr(fast, name)).__name__ == "CompiledFunction"
        assert compiled == (name not in PYTHON_ONLY), name


def test_ctypes_backend_has_no_compiled_functions(libs):
    slow, _fast = libs
    assert slow.backend == "ctypes" and type(slow.add).__name__ == "BoundFunction"


def test_packed_struct_by_value_is_refused_in_both(libs):
    """ctypes would pass a packed struct in the wrong registers: refused when bound, never wrong."""
    for lib in libs:
        with pytest.raises(ffikit.ArgumentError, match="'packed_x': Packed is passed by value"):
            _ = lib.packed_x  # binding it refuses
