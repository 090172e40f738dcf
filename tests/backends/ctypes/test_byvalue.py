"""Structs by value reach C in the registers C expects, or are refused when bound."""

from __future__ import annotations

import ctypes
import re

import pytest

import ffikit
from crashproof import call_outcome
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


ABI_SOURCE = r"""
typedef struct { char a[3]; float f[2]; } CF;
typedef union { double d; long l; } U;
typedef struct { int k; U u; } SU;
typedef union { double d[3]; long l[3]; } BigU;
typedef struct { long double x; } LD;
typedef struct { long double x; double y; } LD2;
double first(double d, int a, int b, int c, int e, int g, CF s) { return d; }
float cf_f1(double d, int a, int b, int c, int e, int g, CF s) { return s.f[1] + s.a[2]; }
double get_d(U u) { return u.d; }
int len_after(U u, const char *s) { int n = 0; while (s[n]) n++; return n; }
U make_u(double d) { U u; u.d = d; return u; }
double su_sum(SU s) { return s.u.d + s.k; }
double bigu_sum(BigU u, int k) { return u.d[0] + u.d[1] + u.d[2] + k; }
LD make_ld(void) { LD r; r.x = 2.5; return r; }
double ld2_sum(LD2 v) { return (double)v.x + v.y; }
__int128 twice128(__int128 x) { return x * 2; }
long low128(__int128 x) { return (long)x; }
"""
ABI_HEADER = re.sub(r"\) \{.*\}$", ");", ABI_SOURCE, flags=re.M)  # the prototypes
ABI_CASES = [  # (call, what C gives) - issue 19 items 1 and 10; each ran wrong or crashed before
    ("lib.get_d(lib.defs.U(d=1.5))", "returned 1.5"),
    ("lib.len_after(lib.defs.U(d=1.5), 'abc')", "returned 3"),
    ("lib.make_u(2.5).d", "returned 2.5"),
    ("lib.su_sum(lib.defs.SU(k=1, u=lib.defs.U(d=0.5)))", "returned 1.5"),
    ("lib.bigu_sum(lib.defs.BigU(d=(1.0, 2.0, 3.0)), 4)", "returned 10.0"),
    ("lib.first(1.0, 1, 2, 3, 4, 5, lib.defs.CF(a=b'xyz', f=(1.5, 2.5)))", "returned 1.0"),
    ("lib.first(1.0, np.int64(1), 2, 3, 4, 5, lib.defs.CF(a=b'xyz', f=(1.5, 2.5)))", "returned 1.0"),
    ("lib.cf_f1(1.0, 1, 2, 3, 4, 5, lib.defs.CF(a=b'xyz', f=(1.5, 2.5)))", "returned 124.5"),
    ("lib.ld2_sum(lib.defs.LD2(x=1.5, y=2.0))", "returned 3.5"),
    ("lib.make_ld().x", "raised ArgumentError"),
    ("lib.twice128(3)", "raised ArgumentError"),
    ("lib.low128(3)", "raised ArgumentError"),
]


@pytest.mark.parametrize("backend", ["ctypes", "compiled"])
@pytest.mark.parametrize("call, expected", ABI_CASES)
def test_unions_arrays_and_x87_by_value_are_right_or_refused(cbuild, backend, call, expected):
    """Unions and (INTEGER, SSE) structs travel in C's registers (libffi alone gets them
    wrong); long double structs in registers and __int128 are refused when bound."""
    got, err = call_outcome(cbuild(ABI_SOURCE, name="byvalue_abi"), ABI_HEADER, backend, call)
    assert got == expected, err[-2000:]


def test_refusal_names_the_reason(cbuild):
    lib = ffikit.load(cbuild(ABI_SOURCE, name="byvalue_abi"), ABI_HEADER, backend="ctypes")
    with pytest.raises(ffikit.ArgumentError, match="long double member.*return it through a pointer"):
        lib.make_ld()
    with pytest.raises(ffikit.ArgumentError, match="'x' of 'low128': parameters of C type __int128.*128-bit"):
        lib.low128(1)
