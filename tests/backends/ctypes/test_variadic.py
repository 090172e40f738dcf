"""Variadic calls: a literal format checks and types the arguments; others are promoted."""

from __future__ import annotations

import ctypes

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ffikit
from crashproof import call_outcome

SOURCE = r"""
#include <stdarg.h>
#include <stdio.h>
int fmt(char *out, unsigned long n, const char *f, ...) { va_list ap; va_start(ap, f); int r = vsnprintf(out, n, f, ap); va_end(ap); return r; }
long long second_ll(int n, ...) { va_list ap; va_start(ap, n); va_arg(ap, int); long long v = va_arg(ap, long long); va_end(ap); return v; }
int apply_fn(int x, ...) { va_list ap; va_start(ap, x); int (*f)(int) = va_arg(ap, int (*)(int)); va_end(ap); return f(x); }
"""

DECLS = """
int fmt(char *out, unsigned long n, const char *f, ...) __attribute__((format(printf, 3, 4)));
long long second_ll(int n, ...);
int apply_fn(int x, ...);
"""


@pytest.fixture(scope="module")
def lib(cbuild):
    return ffikit.load(cbuild(SOURCE, name="variadic"), DECLS, sizes={"fmt": {"out": "n"}})


def call(lib, f, *args):
    out = bytearray(64)
    n = lib.fmt(out, len(out), f, *args)
    return bytes(out[:n])


def test_passed_as_the_conversion_says(lib):
    assert call(lib, b"%ld %lu %zu", -5, 2**63, 3) == b"-5 9223372036854775808 3"
    assert call(lib, b"%hhd %c %c", 300, b"a", "b") == b"44 a b"
    assert call(lib, "%.1f %Lf", 2, 0.5) == b"2.0 0.500000"
    assert call(lib, b"%s|%s|%ls", "h\u00e9", bytearray(b"ab\0"), "w") == "h\u00e9|ab|w".encode()


def test_refused_before_c_runs(lib):
    with pytest.raises(ffikit.ArgumentError, match="must be bytes or str"):
        call(lib, b"%s", 5)
    with pytest.raises(ffikit.ArgumentError, match="must be an int"):
        call(lib, b"%d", 1.5)
    with pytest.raises(ffikit.BufferTooSmall, match="not NUL-terminated"):
        call(lib, b"%s", bytearray(b"abc"))
    assert call(lib, b"%.3s", bytearray(b"abc")) == b"abc"  # a precision bounds the read


def test_without_a_literal_format_promotions_apply(lib):
    out = bytearray(8)
    f = bytearray(b"%d\0")
    assert lib.fmt(out, len(out), f, 42) == 2  # a buffer, not a literal: unchecked
    assert lib.second_ll(2, 1, 2**40) == 2**40


def test_a_held_callback_goes_as_its_function_pointer(lib):
    """curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, cb)-style: the callback's C pointer."""
    with ffikit.callback("int (*)(int)", lambda x: x * 3) as triple:
        assert lib.apply_fn(14, triple) == 42
    with pytest.raises(ffikit.CallbackReleased, match="was released"):
        lib.apply_fn(14, triple)  # C would call a stub: refused before C runs


def test_a_plain_callable_is_refused_with_the_fix(lib):
    with pytest.raises(ffikit.ArgumentError, match=r"pass ffikit\.callback\("):
        lib.apply_fn(14, lambda x: x)


@pytest.fixture(scope="module")
def scan():
    return ffikit.load("c", "int sscanf(const char *s, const char *f, ...) "
                            "__attribute__((format(scanf, 2, 3)));")


def test_scanf_destinations_by_address_and_size(scan):
    import ctypes

    x, d, word = ffikit.new("int"), ffikit.new("double"), bytearray(8)
    assert scan.sscanf(b"42 hello 2.5", b"%d %7s %lf", x, word, d) == 3
    assert (x.value, ffikit.string(word), d.value) == (42, b"hello", 2.5)
    assert scan.sscanf(b"7", b"%d", ctypes.byref(x)) == 1 and x.value == 7
    whole = bytearray(b"\xaa") * 64
    small = memoryview(whole)[:8]  # canary room behind it: a regression cannot corrupt the heap
    with pytest.raises(ffikit.BufferTooSmall, match=r"holds 8 bytes, but C writes up to 11"):
        scan.sscanf(b"0123456789", b"%10s", small)
    with pytest.raises(ffikit.BufferTooSmall, match="holds 4 bytes, but C writes up to 8"):
        scan.sscanf(b"1", b"%ld", memoryview(whole)[8:12])
    with pytest.raises(ffikit.ReadOnlyBuffer):
        scan.sscanf(b"1", b"%d", memoryview(b"abcd"))
    assert whole == bytearray(b"\xaa") * 64


_VALUES = st.one_of(
    st.integers(-2**63, 2**64 - 1),
    st.floats(-1e12, 1e12),
    st.binary(max_size=6).filter(lambda b: 0 not in b),
    st.none(),
)
_SPECS = ["%d", "%ld", "%lld", "%x", "%lu", "%s", "%.3f", "%e", "%c", "%p"]


def _python_ok(spec: str, value: object) -> bool:
    """Whether C's and Python's formatting agree that ``value`` suits ``spec``."""
    if spec in ("%d", "%x", "%c"):
        return isinstance(value, int) and -2**31 <= value < 2**31 and (spec != "%c" or 0 < value < 128)
    if spec in ("%ld", "%lld"):
        return isinstance(value, int) and -2**63 <= value < 2**63
    if spec == "%lu":
        return isinstance(value, int) and 0 <= value < 2**64
    if spec in ("%.3f", "%e"):
        return isinstance(value, (int, float))
    if spec == "%s":
        return isinstance(value, bytes)
    return False  # %p: no portable expected text


@settings(max_examples=150, deadline=None)
@given(spec=st.sampled_from(_SPECS), value=_VALUES)
def test_property_printf_checked_or_exact(lib, spec, value):
    """A conversion and a value either print as Python's % does, or are refused before C runs."""
    try:
        got = call(lib, spec.encode(), value)
    except (ffikit.ArgumentError, ffikit.BufferTooSmall):
        assert not _python_ok(spec, value)  # refused only what does not suit the conversion
        return
    if _python_ok(spec, value):
        py = spec.replace("l", "") % (value.decode("latin-1") if isinstance(value, bytes) else value)
        if spec == "%x" and value < 0:
            py = "%x" % (value & 0xFFFFFFFF)
        assert got.decode("latin-1") == py


POINTERS_SOURCE = r"""
#include <stdarg.h>
long deref_long(int n, ...) { va_list ap; va_start(ap, n); long *p = va_arg(ap, long *); va_end(ap); return *p; }
int call_fn(int n, ...) { va_list ap; va_start(ap, n); int (*f)(int) = va_arg(ap, int (*)(int)); va_end(ap); return f(n); }
long set_long(int n, ...) { va_list ap; va_start(ap, n); long *p = va_arg(ap, long *); va_end(ap); *p = n; return 0; }
long by_value(int n, ...) { va_list ap; va_start(ap, n); long v = va_arg(ap, long); va_end(ap); return v; }
"""
POINTERS_DECLS = ("long deref_long(int n, ...); int call_fn(int n, ...); long set_long(int n, ...); "
                  "long by_value(int n, ...);")


@pytest.mark.parametrize("backend", ["ctypes", "compiled"])
@pytest.mark.parametrize("call, expected", [
    # issue 19 item 12: a new() slot went by value (curl_easy_setopt(..., WRITEDATA, slot) crashed)
    ("lib.deref_long(0, ffikit.new('long', 12345))", "returned 12345"),
    ("lib.call_fn(7, ffikit.callback('int (*)(int)', lambda x: x * 3))", "returned 21"),
    ("(lib.set_long(42, ctypes.byref(x)), x.value)[1]", "returned 42"),
    ("(lib.set_long(43, slot), slot.value)[1]", "returned 43"),
    ("lib.by_value(1, ctypes.c_long(5))", "raised ArgumentError"),  # value or address? say which
    ("lib.by_value(1, ctypes.c_long(5).value)", "returned 5"),
    ("lib.call_fn(7, released)", "raised CallbackReleased"),
])
def test_variadic_ctypes_objects_go_as_pointers(cbuild, backend, call, expected):
    got, err = call_outcome(cbuild(POINTERS_SOURCE, name="variadic_pointers"), POINTERS_DECLS,
                            backend, call, """
        x = ctypes.c_long(0)
        slot = ffikit.new('long')
        released = ffikit.callback('int (*)(int)', abs)
        released.release()
        """)
    assert got == expected, err[-2000:]


def test_a_bare_scalar_is_refused_with_the_two_fixes(cbuild):
    lib = ffikit.load(cbuild(POINTERS_SOURCE, name="variadic_pointers"), POINTERS_DECLS, backend="ctypes")
    with pytest.raises(ffikit.ArgumentError, match=r"argument 2 of 'by_value' is a bare c_long.*"
                                                   r"x\.value.*ctypes\.byref\(x\)"):
        lib.by_value(1, ctypes.c_long(5))


def test_binding_a_variadic_function_loads_its_converter_at_the_first_call(cbuild):
    """Bound at once (the declaration checked), converted from the first call on."""
    from crashproof import run_isolated

    path = cbuild(SOURCE, name="variadic")
    done = run_isolated(f"""
        import sys, ffikit
        lib = ffikit.load({path!r}, {DECLS!r}, backend="ctypes")
        fmt = lib.fmt
        late = ("ffikit.backends.ctypes.variadic", "ffikit.rules.formats")
        print([m for m in late if m in sys.modules])
        out = bytearray(32)
        print(bytes(out[:fmt(out, len(out), b"%d-%s", 7, b"x")]).decode())
        try:
            fmt(out, len(out), b"%d", b"not an int")
        except ffikit.ArgumentError as exc:
            print(type(exc).__name__)
        print(all(m in sys.modules for m in late))
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:4] == ["[]", "7-x", "ArgumentError", "True"]
