"""Generated wrappers check sizes before C runs: array bounds, access attributes, sizes=.

Every buffer that is refused here is a slice of a larger bytearray whose tail
is canary bytes, large enough to absorb what C would write: a regression shows
as changed canaries (a failed assertion), never as heap corruption.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ffikit
from crashproof import call_outcome

SOURCE = r"""
#include <stddef.h>
#include <string.h>
#include <stdint.h>
void fill16(char buf[16]) { memset(buf, 'A', 16); }
void fill_static(char buf[static 8]) { memset(buf, 'B', 8); }
void fill_n(size_t n, char buf[n]) { memset(buf, 'C', n); }
void scale(double *a, size_t n, double k) { for (size_t i = 0; i < n; i++) a[i] *= k; }
void fill_bytes(void *p, size_t n) { memset(p, 'D', n); }
double sum(const double *a, size_t n) { double s = 0; for (size_t i = 0; i < n; i++) s += a[i]; return s; }
size_t my_strlen(const char *s) { return strlen(s); }
size_t count_ab(const char *s, size_t n) { size_t c = 0; for (size_t i = 0; i < n; i++) c += s[i] == 'a'; return c; }
int first_int(int *p) { return *p; }
"""

DECLS = r"""
#include <stddef.h>
void fill16(char buf[16]);
void fill_static(char buf[static 8]);
void fill_n(size_t n, char buf[n]);
void scale(double *a, size_t n, double k);
void fill_bytes(void *p, size_t n) __attribute__((access(write_only, 1, 2)));
double sum(const double *a, size_t n) __attribute__((__access__(__read_only__, 1, 2)));
size_t my_strlen(const char *s);
size_t count_ab(const char *s, size_t n) __attribute__((access(read_only, 1, 2)));
int first_int(int *p) __attribute__((nonnull));
"""

CANARY = 0xAA


@pytest.fixture(scope="module")
def path(cbuild):
    return cbuild(SOURCE, name="wrappers_bounds")


@pytest.fixture(scope="module")
def lib(path):
    return ffikit.load(path, DECLS, sizes={"scale": {"a": "n"}})


def guarded(size: int, room: int = 256) -> tuple[bytearray, memoryview]:
    """A ``size``-byte writable slice followed by ``room`` canary bytes."""
    whole = bytearray([CANARY]) * (size + room)
    whole[:size] = bytes(size)
    return whole, memoryview(whole)[:size]


def canaries_intact(whole: bytearray, size: int) -> bool:
    return all(b == CANARY for b in whole[size:])


def test_array_bound_refused_then_accepted(lib):
    whole, buf = guarded(4)
    with pytest.raises(ffikit.BufferTooSmall) as e:
        lib.fill16(buf)
    assert "argument 1 'buf' of 'fill16' holds 4 bytes" in str(e.value)
    assert "16 bytes" in str(e.value) and "from the array bound [16]" in str(e.value)
    assert bytes(buf) == bytes(4) and canaries_intact(whole, 4)
    whole, buf = guarded(16)
    lib.fill16(buf)
    assert bytes(buf) == b"A" * 16 and canaries_intact(whole, 16)


def test_static_bound_and_parameter_bound(lib):
    whole, buf = guarded(7)
    with pytest.raises(ffikit.BufferTooSmall, match=r"from the array bound \[static 8\]"):
        lib.fill_static(buf)
    assert canaries_intact(whole, 7)
    whole, buf = guarded(5)
    with pytest.raises(ffikit.BufferTooSmall) as e:
        lib.fill_n(6, buf)
    assert "argument 1 'n' is 6" in str(e.value) and "argument 2 'buf'" in str(e.value)
    assert "from the array bound [n]" in str(e.value)
    lib.fill_n(5, buf)
    assert bytes(buf) == b"C" * 5 and canaries_intact(whole, 5)


def test_scale_sized_by_user_relation(lib):
    whole = np.full(64, 7.0)
    a = whole[:2]
    a[:] = 1.0
    with pytest.raises(ffikit.BufferTooSmall) as e:
        lib.scale(a, 4, 2.0)
    text = str(e.value)
    assert "argument 1 'a' of 'scale' holds 2 doubles (16 bytes)" in text
    assert "argument 2 'n' is 4" in text and "from sizes= given to load" in text
    assert list(a) == [1.0, 1.0] and (whole[2:] == 7.0).all()
    b = np.ones(4)
    lib.scale(b, 4, 2.0)
    assert list(b) == [2.0] * 4


def test_access_attribute_from_cdef_text(lib):
    whole, buf = guarded(10)
    with pytest.raises(ffikit.BufferTooSmall,
                       match=r"C writes 11 bytes .*access attribute \(write_only, 1, 2\)"):
        lib.fill_bytes(buf, 11)
    assert canaries_intact(whole, 10)
    lib.fill_bytes(buf, 10)
    assert bytes(buf) == b"D" * 10
    with pytest.raises(ffikit.BufferTooSmall, match="holds 3 doubles"):
        lib.sum(np.ones(3), 4)
    assert lib.sum(np.ones(4), 4) == 4.0
    assert lib.sum(np.ones(4), 2) == 2.0  # smaller counts are fine


def test_write_only_needs_writable_read_only_allows_bytes(lib):
    with pytest.raises(ffikit.ReadOnlyBuffer):
        lib.fill_bytes(b"\0" * 8, 8)
    assert lib.count_ab(b"a\0a", 3) == 2  # sized: not a C string, NUL inside is data
    with pytest.raises(ffikit.BufferTooSmall):
        lib.count_ab(b"aa", 3)


def test_raw_pointers_and_null_are_not_sized(lib):
    import ctypes

    buf = (ctypes.c_char * 8)()
    lib.fill_bytes(ctypes.cast(buf, ctypes.c_void_p), 8)  # a raw pointer has no known extent
    assert buf.raw == b"D" * 8
    lib.fill_bytes(None, 0)


def test_nonnull(lib):
    with pytest.raises(ffikit.ArgumentError, match="'first_int' must not be NULL"):
        lib.first_int(None)
    import ctypes

    with pytest.raises(ffikit.ArgumentError, match="must not be NULL"):
        lib.first_int(ctypes.POINTER(ctypes.c_int)())
    assert lib.first_int(np.array([5], dtype=np.int32)) == 5


def test_c_strings(lib):
    assert lib.my_strlen(b"abc") == 3
    assert lib.my_strlen("h\u00e9") == 3
    assert lib.my_strlen(bytearray(b"ab\0zz")) == 2
    with pytest.raises(ffikit.ArgumentError, match="contain NUL at index 2"):
        lib.my_strlen(b"ab\0c")
    with pytest.raises(ffikit.ArgumentError, match="contains NUL"):
        lib.my_strlen("ab\0c")
    with pytest.raises(ffikit.BufferTooSmall, match="not NUL-terminated within its 3 bytes"):
        lib.my_strlen(memoryview(bytearray(b"abcdefgh"))[:3])


def test_issue_reproducers_in_a_child(path):
    """The issue's calls, as written (no canary room): refused, and the child exits cleanly."""
    code = textwrap.dedent(f"""
        import os, ffikit, numpy as np
        libc = ffikit.load("c", ffikit.include("unistd.h"))
        lib = ffikit.load({path!r}, {DECLS!r}, sizes={{"scale": {{"a": "n"}}}})
        r, w = os.pipe(); os.write(w, b"x" * 100)
        b = bytearray(10)
        calls = [lambda: libc.read(r, b, 100),
                 lambda: lib.fill16(memoryview(b)[:4]),
                 lambda: lib.scale(np.ones(2), 4, 2.0),
                 lambda: lib.my_strlen(memoryview(bytearray(b"abcdefgh"))[:3])]
        for call in calls:
            try:
                call()
                print("ran")
            except (ffikit.BufferTooSmall, ffikit.ArgumentError) as e:
                print("refused", type(e).__name__)
        assert b == bytearray(10)
        print(libc.read(r, bytearray(100), 100))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:5] == ["refused BufferTooSmall"] * 4 + ["100"]


@settings(max_examples=60, deadline=None)
@given(length=st.integers(0, 64), declared=st.integers(0, 96))
def test_property_never_a_silent_overrun(lib, length, declared):
    whole, buf = guarded(length, room=128)
    try:
        lib.fill_bytes(buf, declared)
    except ffikit.BufferTooSmall:
        assert declared > length
        assert bytes(buf) == bytes(length)
    else:
        assert declared <= length
        assert bytes(buf[:declared]) == b"D" * declared
    assert canaries_intact(whole, length)


def test_property_at_a_guard_page(path):
    """The same property with the buffer ending at a guard page, in a child process:
    an overrun would fault, so a clean exit shows every refusal came first."""
    code = textwrap.dedent(f"""
        import random, ffikit
        lib = ffikit.load({path!r}, {DECLS!r})
        rng = random.Random(1)
        ran = refused = 0
        for _ in range(200):
            length, declared = rng.randint(1, 64), rng.randint(0, 96)
            m = ffikit.alloc("uint8_t", length, guard=True)
            try:
                lib.fill_bytes(m, declared)
                assert declared <= length
                ran += 1
            except ffikit.BufferTooSmall:
                assert declared > length
                refused += 1
            m.free()
        print(ran, refused)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONFAULTHANDLER": "1"})
    assert proc.returncode == 0, proc.stderr
    ran, refused = map(int, proc.stdout.split())
    assert ran > 0 and refused > 0


MACRO_HEADER = r"""
#ifndef MYLIB_H
#define MYLIB_H
#include <stddef.h>
#if defined(__GNUC__) && __GNUC__ >= 10
#  define MYLIB_ACCESS(mode, ...) __attribute__((__access__(mode, __VA_ARGS__)))
#else
#  define MYLIB_ACCESS(mode, ...)
#endif
#define MYLIB_NONNULL(...) __attribute__((__nonnull__(__VA_ARGS__)))
#define MYLIB_PRINTF(f, a) __attribute__((__format__(__printf__, f, a)))
#define MYLIB_OWNED(free) __attribute__((__malloc__(free, 1)))
#define MYLIB_API extern

typedef struct mylib_buf mylib_buf;
MYLIB_API void mylib_buf_free(mylib_buf *b);
MYLIB_API mylib_buf *mylib_buf_new(size_t n) MYLIB_OWNED(mylib_buf_free);
MYLIB_API size_t mylib_read(const mylib_buf *b, void *out, size_t n)
    MYLIB_ACCESS(__write_only__, 2, 3) MYLIB_NONNULL(1, 2);
MYLIB_API int mylib_format(char *out, size_t n, const char *fmt, ...)
    MYLIB_ACCESS(__write_only__, 1, 2) MYLIB_PRINTF(3, 4);
#endif
"""

MACRO_SOURCE = r"""
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mylib.h"
struct mylib_buf { size_t n; unsigned char data[]; };
static int frees = 0;
void mylib_buf_free(mylib_buf *b) { frees++; free(b); }
int mylib_frees(void) { return frees; }
mylib_buf *mylib_buf_new(size_t n) { mylib_buf *b = malloc(sizeof *b + n); b->n = n; memset(b->data, 'M', n); return b; }
size_t mylib_read(const mylib_buf *b, void *out, size_t n) { size_t k = n < b->n ? n : b->n; memcpy(out, b->data, k); return k; }
int mylib_format(char *out, size_t n, const char *fmt, ...) { va_list ap; va_start(ap, fmt); int r = vsnprintf(out, n, fmt, ap); va_end(ap); return r; }
"""


def test_a_library_header_that_spells_attributes_through_macros(cbuild, tmp_path):
    (tmp_path / "mylib.h").write_text(MACRO_HEADER)
    path = cbuild(MACRO_SOURCE, name="mylib_macros", include_dirs=[str(tmp_path)])
    lib = ffikit.load(path, ffikit.include(str(tmp_path / "mylib.h")))
    b = lib.mylib_buf_new(32)
    whole, out = guarded(8)
    with pytest.raises(ffikit.BufferTooSmall, match="'mylib_read' holds 8 bytes.*is 32"):
        lib.mylib_read(b, out, 32)
    assert canaries_intact(whole, 8)
    assert lib.mylib_read(b, out, 8) == 8 and bytes(out) == b"M" * 8
    with pytest.raises(ffikit.ArgumentError, match="must not be NULL"):
        lib.mylib_read(None, out, 8)
    text = bytearray(16)
    assert lib.mylib_format(text, 16, b"%d-%s", 7, b"ok") == 4
    with pytest.raises(ffikit.ArgumentError, match="must be bytes or str"):
        lib.mylib_format(text, 16, b"%s", 7)
    with pytest.raises(ffikit.BufferTooSmall):
        lib.mylib_format(text, 17, b"x")
    lib.mylib_buf_free(b)
    with pytest.raises(ffikit.MemoryReleased):
        lib.mylib_buf_free(b)


def test_access_without_a_size_means_one_item(cbuild):
    path = cbuild("int peek(const char *s) { return s[0]; }\n"
                  "int first(const int *p) { return p[0]; }", name="peek_one")
    lib = ffikit.load(path, "int peek(const char *s) __attribute__((access(read_only, 1)));\n"
                            "int first(const int *p) __attribute__((access(read_only, 1)));")
    assert lib.peek(b"a") == ord("a")  # still a C string: NUL-terminated, one char at least
    with pytest.raises(ffikit.BufferTooSmall, match="not NUL-terminated"):
        lib.peek(bytearray(b"a"))
    with pytest.raises(ffikit.BufferTooSmall, match="holds 0 ints.*C reads 1 int"):
        lib.first(np.zeros(0, dtype=np.intc))
    assert lib.first(np.array([9], dtype=np.intc)) == 9


def test_two_dimensional_array_parameters(cbuild):
    path = cbuild("void rows(int n, double m[n][4]) { for (int i = 0; i < n; i++) m[i][3] = i; }\n"
                  "void square(int n, double m[n][n]) { m[n - 1][n - 1] = 1; }", name="vla2d")
    lib = ffikit.load(path, "void rows(int n, double m[n][4]); void square(int n, double m[n][n]);")
    whole = np.zeros((8, 4))
    m = whole[:3]
    lib.rows(3, m)
    assert list(m[:, 3]) == [0.0, 1.0, 2.0]
    with pytest.raises(ffikit.BufferTooSmall, match=r"holds 3 double\[4\] \(96 bytes\)"):
        lib.rows(4, m)
    assert not whole[3:].any()
    s = np.zeros((2, 2))
    lib.square(2, s)  # 'm[n][n]' parses (a double *); n * n is not one count: unchecked
    assert s[1, 1] == 1.0


def test_relations_are_visible_on_the_function(lib):
    (rel,) = lib.scale.relations
    assert (rel.buffer_name, rel.size_name, rel.unit, rel.source) == ("a", "n", 8, "sizes= given to load")
    assert lib.my_strlen.relations == ()


def test_access_modes_decide_writability(cbuild):
    path = cbuild("#include <stddef.h>\n"
                  "void rw(const char *p, size_t n) { (void)p; (void)n; }\n"
                  "void ro(char *p, size_t n) { (void)p; (void)n; }\n"
                  "void no(void *p, size_t n) { (void)p; (void)n; }", name="access_modes")
    lib = ffikit.load(path, """
        #include <stddef.h>
        void rw(const char *p, size_t n) __attribute__((access(read_write, 1, 2)));
        void ro(char *p, size_t n) __attribute__((access(read_only, 1, 2)));
        void no(void *p, size_t n) __attribute__((access(none, 1, 2)));
    """)
    with pytest.raises(ffikit.ReadOnlyBuffer):
        lib.rw(b"abcd", 4)  # read_write: C writes, whatever 'const' says
    lib.rw(bytearray(4), 4)
    lib.ro(b"abcd", 4)  # read_only: C promises not to write, so bytes may go
    with pytest.raises(ffikit.BufferTooSmall, match="C reads 5 bytes"):
        lib.ro(b"abcd", 5)
    with pytest.raises(ffikit.BufferTooSmall, match="C accesses 5 bytes"):
        lib.no(bytearray(4), 5)


def test_str_for_wchar_is_sized_by_its_characters():
    lib = ffikit.load("c", "wchar_t *wcsncpy(wchar_t *d, const wchar_t *s, unsigned long n);",
                      sizes={"wcsncpy": {"d": "n", "s": "n"}})
    d = ffikit.new("wchar_t[8]")
    lib.wcsncpy(d, "abc", 3)
    assert d.value == "abc"
    with pytest.raises(ffikit.BufferTooSmall, match="argument 2 's' of 'wcsncpy' holds 4 wchar_ts"):
        lib.wcsncpy(d, "abc", 6)
    with pytest.raises(ffikit.BufferTooSmall, match="argument 1 'd' of 'wcsncpy' holds 8 wchar_ts"):
        lib.wcsncpy(d, "x" * 20, 9)


@settings(max_examples=80, deadline=None)
@given(data=st.binary(max_size=24))
def test_property_c_strings_are_whole_or_refused(lib, data):
    """bytes reach a C string whole (strlen == len) or are refused: never cut short."""
    try:
        n = lib.my_strlen(data)
    except ffikit.ArgumentError:
        assert 0 in data
    else:
        assert 0 not in data and n == len(data)
    buf = bytearray(data)
    try:
        n = lib.my_strlen(buf)
    except ffikit.BufferTooSmall:
        assert 0 not in data
    else:
        assert n == data.index(0)


NEGATIVE_SOURCE = r"""
#include <string.h>
void zero(char *p, int n) { memset(p, 0, (size_t)n); }
void zero_items(char *p, int size, int n) { memset(p, 0, (size_t)size * (size_t)n); }
"""
NEGATIVE_DECLS = ("void zero(char *p, int n) __attribute__((access(write_only, 1, 2)));\n"
                  "void zero_items(char *p, int size, int n);")


@pytest.mark.parametrize("backend", ["ctypes", "compiled"])
@pytest.mark.parametrize("call, expected", [
    ("lib.zero(bytearray(8), -1)", "raised ArgumentError"),  # issue 19 item 14: memset of 2**64-1
    ("lib.zero(None, -1)", "raised ArgumentError"),  # no buffer to measure: still no negative count
    ("lib.zero_items(bytearray(8), -1, -8)", "raised ArgumentError"),  # (-1) * (-8) = 8 'fits'
    ("lib.zero_items(bytearray(8), 2, 4)", "returned None"),
    ("lib.zero(bytearray(8), 0)", "returned None"),
])
def test_negative_counts_are_refused(cbuild, backend, call, expected):
    got, err = call_outcome(cbuild(NEGATIVE_SOURCE, name="wrappers_negative"), NEGATIVE_DECLS,
                            backend, call, sizes={"zero_items": {"p": "size * n"}})
    assert got == expected, err[-2000:]


def test_a_negative_count_message_names_both_parameters(cbuild):
    lib = ffikit.load(cbuild(NEGATIVE_SOURCE, name="wrappers_negative"), NEGATIVE_DECLS, backend="ctypes")
    with pytest.raises(ffikit.ArgumentError, match="argument 2 'n' of 'zero' is -1, but it counts "
                                                   "what C reads or writes through argument 1 'p'"):
        lib.zero(bytearray(8), -1)
