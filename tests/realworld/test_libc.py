"""libc through its real headers: qsort with a Python comparator; sizes, nonnull, formats and
ownership checked from glibc's own attributes."""

from __future__ import annotations

import array
import ctypes
import errno
import gc
import math
import mmap
import os
import random
import select
import signal
import socket
import sys

import pytest

import ffikit


@pytest.fixture(scope="module")
def libc():
    return ffikit.load("c", ffikit.include("stdlib.h"))


def compare_ints(a, b):
    x = ctypes.cast(a, ctypes.POINTER(ctypes.c_int))[0]
    y = ctypes.cast(b, ctypes.POINTER(ctypes.c_int))[0]
    return (x > y) - (x < y)


def test_qsort_array_in_place(libc):
    values = [random.randint(-1000, 1000) for _ in range(200)]
    arr = array.array("i", values)
    address = arr.buffer_info()[0]
    libc.qsort(arr, len(arr), arr.itemsize, compare_ints)
    assert arr.tolist() == sorted(values)
    assert arr.buffer_info()[0] == address  # sorted where it was: no copy


def test_qsort_comparator_exception(libc):
    def broken(a, b):
        raise ZeroDivisionError("cmp")

    with pytest.raises(ZeroDivisionError) as e:
        libc.qsort(array.array("i", [3, 1, 2]), 3, 4, broken)
    assert "called from C function qsort" in e.value.__notes__[0]


def test_abs_and_strtol(libc):
    assert libc.abs(-5) == 5
    end = libc.new("char *")
    assert libc.strtol(b"123xyz", end, 10) == 123
    with pytest.raises(ffikit.ArgumentError, match="argument 1 '__x' of 'abs' is out of range"):
        libc.abs(2**40)


def test_snprintf_variadic_promotions():
    libc = ffikit.load("c", ffikit.include("stdio.h"))
    buf = bytearray(64)
    n = libc.snprintf(buf, len(buf), b"%d|%s|%.2f|%lld", 42, "h\u00e9", 1.5, 2**40)
    assert bytes(buf[:n]) == "42|h\u00e9|1.50|1099511627776".encode()


def test_header_keyword():
    z = ffikit.load("z", header="zlib.h")
    assert z.compressBound(0) > 0


# --- sizes, nonnull, formats and ownership from glibc's own attributes (issue 13) -----------



@pytest.fixture(scope="module")
def unistd():
    return ffikit.load("c", ffikit.include("unistd.h"))


@pytest.fixture(scope="module")
def stdio():
    return ffikit.load("c", ffikit.include("stdio.h"), sizes={"snprintf": {"__s": "__maxlen"}})


def _room(size: int, room: int = 256) -> tuple[bytearray, memoryview]:
    whole = bytearray(b"\xaa") * (size + room)
    whole[:size] = bytes(size)
    return whole, memoryview(whole)[:size]


def test_read_write_sized_by_access_attributes(unistd):
    r, w = os.pipe()
    try:
        os.write(w, b"x" * 100)
        whole, buf = _room(10)
        with pytest.raises(ffikit.BufferTooSmall) as e:
            unistd.read(r, buf, 100)
        text = str(e.value)
        assert "argument 2 '__buf' of 'read' holds 10 bytes" in text
        assert "argument 3 '__nbytes' is 100" in text
        assert "from the header's access attribute (write_only, 2, 3)" in text
        assert whole == bytearray(10) + bytearray(b"\xaa") * 256  # nothing read, nothing written
        assert unistd.read(r, bytearray(100), 100) == 100
        with pytest.raises(ffikit.BufferTooSmall, match="access attribute \\(read_only, 2, 3\\)"):
            unistd.write(w, b"abc", 10)
        assert unistd.write(w, b"abc", 3) == 3
    finally:
        os.close(r)
        os.close(w)


def test_fgets_and_fopen_owned(stdio, tmp_path):
    path = tmp_path / "lines.txt"
    path.write_bytes(b"first line\nsecond\n")
    f = stdio.fopen(str(path).encode(), b"r")
    fd = stdio.fileno(f)
    whole, buf = _room(8)
    with pytest.raises(ffikit.BufferTooSmall, match="'fgets' holds 8 bytes.*'__n' is 64"):
        stdio.fgets(buf, 64, f)
    assert bytes(whole[8:]) == b"\xaa" * 256
    line = bytearray(64)
    stdio.fgets(line, len(line), f)
    assert ffikit.string(line) == b"first line\n"
    assert stdio.fclose(f) == 0
    with pytest.raises(ffikit.MemoryReleased, match="already released with 'fclose'"):
        stdio.fclose(f)
    with pytest.raises(OSError):
        os.fstat(fd)
    g = stdio.fopen(str(path).encode(), b"r")  # dropped without fclose: closed at GC
    fd = stdio.fileno(g)
    os.fstat(fd)
    del g
    gc.collect()
    with pytest.raises(OSError):
        os.fstat(fd)
    assert not stdio.fopen(b"/nonexistent/file", b"r")  # NULL stays a NULL pointer


def test_fopen_opt_out_detach(stdio, tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(b"x")
    with stdio.fopen(str(path).encode(), b"r") as f:
        assert stdio.fgetc(f) == ord("x")
    assert f.freed
    g = stdio.fopen(str(path).encode(), b"r")
    raw = g.detach()  # the raw FILE *: yours to fclose
    assert stdio.fclose(raw) == 0


def test_memccpy_and_strerror_r():
    libc = ffikit.load("c", ffikit.include("string.h"))
    whole, dest = _room(4)
    with pytest.raises(ffikit.BufferTooSmall, match="'memccpy' holds 4 bytes"):
        libc.memccpy(dest, b"hello world", ord(" "), 8)
    assert bytes(whole[4:]) == b"\xaa" * 256
    out = bytearray(16)
    libc.memccpy(out, b"hello world", ord(" "), 16)
    assert bytes(out[:6]) == b"hello "
    whole, buf = _room(10)
    with pytest.raises(ffikit.BufferTooSmall, match="'strerror_r' holds 10 bytes"):
        libc.strerror_r(2, buf, 100)
    libc.strerror_r(2, bytearray(100), 100)


def test_memcpy_sized_by_user_relation():
    libc = ffikit.load("c", ffikit.include("string.h"),
                       sizes={"memcpy": {"__dest": "__n", "__src": "__n"}})
    whole, dest = _room(4)
    with pytest.raises(ffikit.BufferTooSmall, match="from sizes= given to load"):
        libc.memcpy(dest, b"0123456789", 10)
    with pytest.raises(ffikit.BufferTooSmall, match="argument 2 '__src' of 'memcpy' holds 3"):
        libc.memcpy(bytearray(10), b"abc", 10)
    assert bytes(whole[4:]) == b"\xaa" * 256
    out = bytearray(10)
    libc.memcpy(out, b"0123456789", 10)
    assert out == b"0123456789"
    with pytest.raises(ffikit.ArgumentError, match="'memcpy' names parameter 'dst'"):
        ffikit.load("c", ffikit.include("string.h"), sizes={"memcpy": {"dst": "__n"}})


def test_strlen_none_refused_by_nonnull():
    libc = ffikit.load("c", ffikit.include("string.h"))
    with pytest.raises(ffikit.ArgumentError, match="argument 1 '__s' of 'strlen' must not be NULL"):
        libc.strlen(None)
    assert libc.strlen(b"four") == 4


def test_snprintf_format_checked_and_sized(stdio):
    buf = bytearray(16)
    n = stdio.snprintf(buf, len(buf), b"%d %s", 5, b"x")
    assert bytes(buf[:n]) == b"5 x"
    with pytest.raises(ffikit.ArgumentError, match="for '%s' in b'%s'.* must be bytes or str"):
        stdio.snprintf(buf, len(buf), b"%s", 5)
    with pytest.raises(ffikit.ArgumentError, match="has 2 conversions but 1 variadic argument"):
        stdio.snprintf(buf, len(buf), b"%d %d", 1)
    whole, small = _room(4)
    with pytest.raises(ffikit.BufferTooSmall, match="'snprintf' holds 4 bytes"):
        stdio.snprintf(small, 16, b"%d", 123456)
    assert bytes(whole[4:]) == b"\xaa" * 256


def test_regexec_pmatch_sized_by_nmatch():
    rx = ffikit.load("c", ffikit.include("regex.h"))
    preg = rx.new("regex_t")
    assert rx.regcomp(preg, b"(a+)(b+)", 1) == 0  # REG_EXTENDED
    try:
        one = rx.new("regmatch_t[1]")
        with pytest.raises(ffikit.BufferTooSmall, match=r"from the array bound \[__nmatch\]"):
            rx.regexec(preg, b"xaab", 3, one, 0)
        three = rx.new("regmatch_t[3]")
        assert rx.regexec(preg, b"xaab", 3, three, 0) == 0
        assert (three[0].rm_so, three[0].rm_eo, three[2].rm_so) == (1, 4, 3)
    finally:
        rx.regfree(preg)


def test_wchar_round_trip():
    import ctypes

    w = ffikit.load("c", ffikit.include("wchar.h"))
    assert w.wcslen("h\u00e9llo") == 5
    assert w.wcslen(ctypes.c_wchar_p("abc")) == 3
    assert w.wcslen(ctypes.create_unicode_buffer("abcd")) == 4
    dst = ffikit.new("wchar_t[16]")
    result = w.wcscpy(dst, "wide \u00e9")
    assert dst.value == "wide \u00e9" and w.wcslen(dst) == 6
    assert ffikit.string(result) == "wide \u00e9"
    with pytest.raises(ffikit.BufferTooSmall, match="not NUL-terminated"):
        w.wcslen(ctypes.create_unicode_buffer("abcd", 4))
    with pytest.raises(ffikit.ArgumentError, match="create_unicode_buffer"):
        w.wcscpy("immutable", "x")


def test_fread_and_qsort_sized_by_a_product(tmp_path):
    stdio = ffikit.load("c", ffikit.include("stdio.h"), sizes={"fread": {"__ptr": "__size * __n"}})
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(64)))
    with stdio.fopen(str(path).encode(), b"rb") as f:
        whole, buf = _room(16)
        with pytest.raises(ffikit.BufferTooSmall, match=r"'__size' \* argument 3 '__n' is 4 \* 5"):
            stdio.fread(buf, 4, 5, f)
        assert bytes(whole[16:]) == b"\xaa" * 256
        assert stdio.fread(buf, 4, 4, f) == 4 and bytes(buf) == bytes(range(16))
    stdlib = ffikit.load("c", ffikit.include("stdlib.h"),
                         sizes={"qsort": {"__base": ("__nmemb", "__size")}})
    values = array.array("i", [3, 1, 2])
    with pytest.raises(ffikit.BufferTooSmall, match="'qsort' holds 12 bytes"):
        stdlib.qsort(values, 4, 4, compare_ints)
    stdlib.qsort(values, 3, 4, compare_ints)
    assert values.tolist() == [1, 2, 3]


# --- a header declares everything it reaches (issue 18) ---------------------------------------

def test_math_h_binds_what_its_sub_headers_declare(backend):
    m = ffikit.load("m", ffikit.include("math.h"), backend=backend)
    assert m.cos(0.0) == 1.0  # declared in <bits/mathcalls.h>, not in math.h itself
    exponent = m.new("int")
    assert m.frexp(8.0, exponent) == 0.5 and exponent.value == 4
    assert m.defs.M_PI == math.pi


@pytest.mark.parametrize(("header", "name", "expected"), [
    ("errno.h", "ENOENT", errno.ENOENT),
    ("errno.h", "EAGAIN", errno.EAGAIN),
    ("fcntl.h", "O_RDONLY", os.O_RDONLY),
    ("fcntl.h", "O_CREAT", os.O_CREAT),
    ("sys/socket.h", "AF_INET", socket.AF_INET),
    ("sys/socket.h", "SOCK_STREAM", socket.SOCK_STREAM),
    ("signal.h", "SIGINT", signal.SIGINT),
    ("sys/mman.h", "PROT_READ", mmap.PROT_READ),
    ("sys/mman.h", "MAP_PRIVATE", mmap.MAP_PRIVATE),
    ("stdint.h", "INT32_MAX", 2**31 - 1),
    ("stdint.h", "SIZE_MAX", sys.maxsize * 2 + 1),
    ("limits.h", "INT_MIN", -2**31),
    ("unistd.h", "SEEK_END", os.SEEK_END),
])
def test_constants_from_sub_headers_equal_pythons(header, name, expected):
    defs = ffikit.include(header)
    assert defs.constants[name] == expected
    assert getattr(defs, name) == expected


def test_poll_from_poll_h(backend):
    libc = ffikit.load("c", ffikit.include("poll.h"), backend=backend)
    r, w = os.pipe()
    try:
        fds = libc.new("struct pollfd[2]")
        fds[0].fd, fds[0].events = r, libc.defs.POLLIN
        fds[1].fd, fds[1].events = w, libc.defs.POLLOUT
        assert libc.poll(fds, 2, 0) == 1  # only the write end is ready
        assert fds[1].revents & libc.defs.POLLOUT and fds[0].revents == 0
        os.write(w, b"x")
        assert libc.poll(fds, 2, 0) == 2
        assert fds[0].revents & select.POLLIN
    finally:
        os.close(r)
        os.close(w)


def test_sscanf_binds_the_c99_symbol_glibc_names(backend):
    libc = ffikit.load("c", ffikit.include("stdio.h"), backend=backend)
    assert libc.defs.functions["sscanf"].symbol == "__isoc99_sscanf"  # __asm__ label
    value = bytearray(4)
    assert libc.sscanf(b"0x1f", b"%i", value) == 1 and int.from_bytes(value, sys.byteorder) == 31
