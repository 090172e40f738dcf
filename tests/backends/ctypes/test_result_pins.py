"""A pointer result keeps alive the call's arguments it may point into (issue 19 item 9):
every case runs 200 times in a child process, in both backends."""

from __future__ import annotations

import pytest
from tests.crashproof import run_isolated

import ffikit

C = """
#include <string.h>
char *second(char **argv) { return argv[1]; }
const char *first_const(const char **argv) { return argv[0]; }
void *same(void *p) { return p; }
void *nothing(void *p) { (void)p; return 0; }
"""
DECL = ("char *second(char **argv); const char *first_const(const char **argv); "
        "void *same(void *p); void *nothing(void *p);")
CHILD = """
import ctypes, ffikit
lib = ffikit.load(PATH, DECL, backend=BACKEND)
libc = ffikit.load("c", ffikit.include("string.h"), backend=BACKEND)
bad = {}
def count(label, ok):
    bad[label] = bad.get(label, 0) + (not ok)
for i in range(200):
    r = lib.second([b"hello%04d" % i, b"world%04d" % i])   # into the array ffikit built
    junk = [ctypes.create_string_buffer(b"J%08d" % k) for k in range(20)]
    count("second(list)", ffikit.string(r) == b"world%04d" % i)
    r = lib.second(["hello%04d" % i, "w\u00f6rld%04d" % i])  # str items, encoded
    junk = [("Z%09d" % k).encode() for k in range(20)]
    count("second(str list)", ffikit.string(r) == ("w\u00f6rld%04d" % i).encode())
    r = libc.strchr("a-hello%04d" % i, ord("-"))            # into the bytes encoded from str
    junk = [("J%010d" % k).encode() for k in range(20)]
    count("strchr(str)", ffikit.string(r) == b"-hello%04d" % i)
    r = libc.strchr(b"a-hello%04d" % i, ord("-"))           # into a temporary bytes
    junk = [b"J%010d" % k for k in range(20)]
    count("strchr(bytes)", ffikit.string(r) == b"-hello%04d" % i)
    r = libc.memchr(bytearray(b"a-hello%04d" % i), ord("-"), 11)  # into a temporary buffer
    junk = [bytearray(b"J%010d" % k) for k in range(20)]
    count("memchr(bytearray)", ffikit.string(r) == b"-hello%04d" % i)
    r = lib.same(bytearray(b"payload%04d\\0" % i))
    junk = [bytearray(b"J%08d\\0\\0\\0" % k) for k in range(20)]
    count("same(bytearray)", ffikit.string(r) == b"payload%04d" % i)
count("NULL result", not lib.nothing(bytearray(4)))
count("const char * copies", lib.first_const([b"a", b"b"]) == b"a")
buf = bytearray(b"abc\\0")
r = lib.same(buf)
try:
    buf.extend(b"more")  # the result points into it: resizing would leave it dangling
    count("resize refused while the result lives", False)
except BufferError:
    count("resize refused while the result lives", True)
del r
buf.extend(b"more")  # the result is gone: resizable again
print("BAD", bad)
"""


@pytest.mark.parametrize("backend", ["ctypes", "compiled"])
def test_returned_pointer_into_a_call_temporary_stays_valid(cbuild, backend):
    path = cbuild(C, name="result_pins")
    code = CHILD.replace("PATH", repr(path)).replace("DECL", repr(DECL)).replace(
        "BACKEND", repr(backend))
    proc = run_isolated(code)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("BAD ")]
    assert proc.returncode == 0 and lines, (proc.returncode, proc.stderr[-2000:])
    bad = eval(lines[-1][4:])  # noqa: S307 - our own child's dict of counts
    assert len(bad) == 9 and not any(bad.values()), bad


def test_the_compiled_backend_keeps_them_in_c(cbuild):
    """Pointer results of functions with pointer parameters stay compiled; the pin holds
    the argument as given and its export (the bytearray cannot be resized)."""
    from ffikit.backends.compiled.cgen import shape_of

    defs = ffikit.cdef(DECL + " int *counts(void); int size(const char *s);")
    for name in ("same", "second", "counts", "size"):
        assert not isinstance(shape_of(name, defs.functions[name].type), str), name
    lib = ffikit.load(cbuild(C, name="result_pins"), DECL, backend="compiled")
    assert lib.same.backend == "compiled"
    buf = bytearray(b"abc\0")
    r = lib.same(buf)
    assert r.value == ffikit.address(buf)
    del buf
    import gc
    gc.collect()
    assert ffikit.string(r) == b"abc"
    assert not lib.nothing(bytearray(4))
