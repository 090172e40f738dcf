"""Structs by value reach C in the registers C expects, or are refused when bound."""

from __future__ import annotations

import ctypes

import pytest

import ffikit
from ffikit.backends.ctypes.byvalue import by_value_class

SOURCE = r"""
typedef struct { float f; double d; } FD;
double fd_sum(FD v) { return v.f + v.d; }
FD fd_make(float f, double d) { FD v = {f, d}; return v; }
typedef struct { char c; double d; int n; } CDN;
double cdn_sum(CDN v) { return v.c + v.d + v.n; }
typedef struct { int a : 3; int b : 5; float x; } BF;
double bf_sum(BF v) { return v.a + v.b + v.x; }
typedef struct __attribute__((packed)) { char c; int x; } Packed;
int packed_x(Packed p) { return p.x; }
double call_fd(double (*cb)(FD), float f, double d) { FD v = {f, d}; return cb(v); }
"""
HEADER = """
typedef struct { float f; double d; } FD; double fd_sum(FD v); FD fd_make(float f, double d);
typedef struct { char c; double d; int n; } CDN; double cdn_sum(CDN v);
typedef struct { int a : 3; int b : 5; float x; } BF; double bf_sum(BF v);
typedef struct __attribute__((packed)) { char c; int x; } Packed; int packed_x(Packed p);
double call_fd(double (*cb)(FD), float f, double d);
typedef FD (*make_fd)(double);
"""


@pytest.fixture(scope="module", params=["ctypes", "compiled"])
def lib(cbuild, request):
    return ffikit.load(cbuild(SOURCE, name="byvalue"), HEADER, backend=request.param)


def test_padding_next_to_floats(lib):
    """The class has explicit padding (bytes): passed as it is, C would read garbage."""
    assert any(name.startswith("_ffikit_") for name, *_ in lib.defs.FD._fields_)
    assert lib.fd_sum(lib.defs.FD(1.5, 2.25)) == 3.75
    result = lib.fd_make(1.5, 2.25)
    assert type(result) is lib.defs.FD and (result.f, result.d) == (1.5, 2.25)
    assert lib.cdn_sum(lib.defs.CDN(b"\x01", 2.5, 4)) == 7.5


def test_bitfields_beside_a_float(lib):
    assert lib.bf_sum(lib.defs.BF(-2, 7, 0.5)) == 5.5


def test_packed_is_refused_when_bound(lib):
    with pytest.raises(ffikit.ArgumentError, match="Packed is passed by value.*pointer"):
        _ = lib.packed_x


def test_twin_has_the_same_bytes_and_only_c_members():
    defs = ffikit.cdef("typedef struct { float f; double d; } TwinFD;")
    twin = by_value_class(defs.TwinFD)
    assert [name for name, *_ in twin._fields_] == ["f", "d"]
    assert ctypes.sizeof(twin) == ctypes.sizeof(defs.TwinFD) == 16
    value = defs.TwinFD(1.5, 2.0)
    assert bytes(twin.from_buffer_copy(value)) == bytes(value)
    plain = ffikit.cdef("typedef struct { int a; int b; } TwinPlain;").TwinPlain
    assert by_value_class(plain) is plain  # no hidden members: passed as it is


def test_callbacks_receive_structs_from_the_right_registers(lib):
    """C calls back with a struct by value: the callable gets its own class, right values."""
    seen = []

    def total(v):
        seen.append(type(v))
        return v.f + v.d

    assert lib.call_fd(total, 1.5, 2.25) == 3.75
    held = ffikit.callback(lib.defs.ctype("double (*)(FD)"), total)
    assert lib.call_fd(held, 0.5, 4.0) == 4.5
    assert seen == [lib.defs.FD, lib.defs.FD]


def test_callbacks_cannot_return_structs(lib):
    with pytest.raises(ffikit.ArgumentError, match=r"FD \(\*\)\(double\) cannot be made.*through a pointer"):
        ffikit.callback(lib.defs.make_fd, lambda x: lib.defs.FD(x, x))
