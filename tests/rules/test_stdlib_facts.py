"""The C library's standard functions checked as gcc's builtins know them, through the real
libc and its real headers, in both backends (each case in a child process: today's code
crashes on several)."""

from __future__ import annotations

import json

import pytest
from tests.crashproof import run_isolated

import ffikit
from ffikit.cdecl import model as m
from ffikit.rules.stdlib_facts import STANDARD, matches, standard_facts, with_standard_facts

_CASES = r"""
import ffikit, json, sys
stdio = ffikit.load("c", ffikit.include("stdio.h"), backend=BACKEND)
string = ffikit.load("c", ffikit.include("string.h"), backend=BACKEND)
unistd = ffikit.load("c", ffikit.include("unistd.h"), backend=BACKEND)
out = {}
def case(label, call):
    try:
        value = call()
    except ffikit.FFIError as exc:
        out[label] = ["raised", type(exc).__name__, str(exc)]
    else:
        out[label] = ["returned", repr(value)]
    sys.stdout.flush()
dest = bytearray(4)
zero = stdio.fopen(b"/dev/zero", b"rb")
guard = bytearray(b"G" * 64)
case("printf %s of 5", lambda: stdio.printf(b"%s\n", 5))
case("printf %d of bytes", lambda: stdio.printf(b"%d\n", b"x"))
case("printf too few", lambda: stdio.printf(b"%s %s\n", b"a"))
case("fprintf %s of int", lambda: stdio.fprintf(None, b"%s", 1))
case("sprintf %s of int", lambda: stdio.sprintf(bytearray(64), b"%s", 7))
case("dprintf %s of int", lambda: stdio.dprintf(1, b"%s", 7))
case("scanf into an int", lambda: stdio.sscanf(b"12", b"%d", 5))
case("sscanf %s without width", lambda: stdio.sscanf(b"12", b"%s", bytearray(4)))
case("vprintf", lambda: stdio.vprintf(b"%s\n", None))
case("vsnprintf", lambda: stdio.vsnprintf(bytearray(8), 8, b"%s", None))
case("vsscanf", lambda: stdio.vsscanf(b"1", b"%d", None))
case("fgets larger than its buffer", lambda: stdio.fgets(dest, 100, zero))
case("snprintf larger than its buffer", lambda: stdio.snprintf(dest, 64, b"%s", b"x" * 60))
case("fread size * n", lambda: stdio.fread(dest, 4, 2, zero))
case("memcpy n over dest", lambda: string.memcpy(dest, b"abcdefgh", 8))
case("memcpy n over src", lambda: string.memcpy(bytearray(64), b"ab", 60))
case("memset n over dest", lambda: string.memset(dest, 0, 64))
case("memmove n over dest", lambda: string.memmove(dest, b"x" * 64, 64))
case("memcmp n over both", lambda: string.memcmp(b"ab", b"ab", 4096))
case("strncpy n over dest", lambda: string.strncpy(dest, b"abc", 64))
case("strlen NULL", lambda: string.strlen(None))
case("read n over buffer", lambda: unistd.read(0, dest, 64))
case("write n over buffer", lambda: unistd.write(1, b"ab", 64))
case("printf right", lambda: stdio.printf(b"[%d %s %.1f]\n", 5, b"ok", 1.5))
ok = bytearray(8)
case("memcpy right", lambda: (string.memcpy(ok, b"abcdefgh", 8), bytes(ok))[1])
case("snprintf right", lambda: (stdio.snprintf(ok, 8, b"%d", 42), bytes(ok[:2]))[1])
out["guard"] = bytes(guard) == b"G" * 64
print("RESULT " + json.dumps(out))
"""

_REFUSED = {
    "printf %s of 5": ("ArgumentError", "the C standard: printf's format"),
    "printf %d of bytes": ("ArgumentError", "the C standard: printf's format"),
    "printf too few": ("ArgumentError", "2 conversions but 1"),
    "fprintf %s of int": ("ArgumentError", "must not be NULL"),
    "sprintf %s of int": ("ArgumentError", "the C standard: sprintf's format"),
    "dprintf %s of int": ("ArgumentError", "must be bytes or str"),
    "scanf into an int": ("ArgumentError", "the C standard: sscanf's format"),
    "sscanf %s without width": ("ArgumentError", "has no width"),
    "vprintf": ("ArgumentError", "takes a va_list"),
    "vsnprintf": ("ArgumentError", "call 'snprintf' with the arguments instead"),
    "vsscanf": ("ArgumentError", "the C standard: vsscanf's va_list"),
    "fgets larger than its buffer": ("BufferTooSmall", "holds 4 bytes"),
    "snprintf larger than its buffer": ("BufferTooSmall", "holds 4 bytes"),
    "fread size * n": ("BufferTooSmall", "the C standard: fread's size * n"),
    "memcpy n over dest": ("BufferTooSmall", "the C standard: memcpy's n"),
    "memcpy n over src": ("BufferTooSmall", "argument 2"),
    "memset n over dest": ("BufferTooSmall", "the C standard: memset's n"),
    "memmove n over dest": ("BufferTooSmall", "the C standard: memmove's n"),
    "memcmp n over both": ("BufferTooSmall", "C reads 4096 bytes"),
    "strncpy n over dest": ("BufferTooSmall", "the C standard: strncpy's n"),
    "strlen NULL": ("ArgumentError", "must not be NULL"),
    "read n over buffer": ("BufferTooSmall", "holds 4 bytes"),  # glibc states these two itself
    "write n over buffer": ("BufferTooSmall", "holds 2 bytes"),
}


@pytest.fixture(scope="module")
def results(backend):
    proc = run_isolated(_CASES.replace("BACKEND", repr(backend)), timeout=300)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, f"the child died ({proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(lines[-1][len("RESULT "):])


@pytest.mark.parametrize("label", sorted(_REFUSED))
def test_standard_function_misuse_refused(results, label):
    kind, words = _REFUSED[label]
    got = results[label]
    assert got[:2] == ["raised", kind], got
    assert words in got[2], got


def test_right_calls_still_run(results):
    assert results["printf right"] == ["returned", "11"]
    assert results["memcpy right"] == ["returned", repr(b"abcdefgh")]
    assert results["snprintf right"] == ["returned", repr(b"42")]
    assert results["guard"] is True


def test_a_users_own_printf_is_not_the_standard_one():
    defs = ffikit.cdef("int printf(int x); void *memcpy(char *d, int n);")
    assert not defs.functions["printf"].type.facts
    assert not defs.functions["memcpy"].type.facts


def test_a_cdef_of_the_standard_prototype_gets_the_facts():
    defs = ffikit.cdef("typedef unsigned long size_t;\n"
                       "int printf(const char *fmt, ...);\n"
                       "void *memcpy(void *dest, const void *src, size_t n);\n")
    assert defs.functions["printf"].type.facts.format == (
        "printf", 0, 1, "the C standard: printf's fmt")
    facts = defs.functions["memcpy"].type.facts
    assert facts.nonnull == (0, 1)
    assert {(a.param, a.mode, a.size_param) for a in facts.access} == {
        (0, "write_only", 2), (1, "read_only", 2)}


def test_variadic_flag_and_size_type_must_match():
    int_n = ffikit.cdef("void *memcpy(void *d, const void *s, int n);")  # int is not size_t
    assert matches("memcpy", int_n.functions["memcpy"].type) is None
    fixed = ffikit.cdef("int printf(const char *fmt);")  # not variadic
    assert standard_facts("printf", fixed.functions["printf"].type) is None


def test_the_headers_own_facts_win():
    defs = ffikit.cdef(
        "typedef unsigned long size_t;\n"
        "int snprintf(char *s, size_t n, const char *f, ...) "
        "__attribute__((format(printf, 3, 4)));\n"
        "void *memset(void *s, int c, size_t n) __attribute__((access(write_only, 1, 3)));\n")
    assert defs.functions["snprintf"].type.facts.format == ("printf", 2, 3)
    memset = defs.functions["memset"].type.facts.access
    assert [a.source for a in memset] == ["the access attribute (write_only, 1, 3)"]
    again = with_standard_facts("memset", defs.functions["memset"].type)
    assert again is defs.functions["memset"].type


def test_every_table_entry_is_consistent():
    for name, std in STANDARD.items():
        n = len(std.params)
        assert all(0 <= i < n for i in std.nonnull), name
        for buffer, mode, size, factor in std.sizes:
            assert std.params[buffer] in ("void*", "char*"), name
            assert std.params[size] in ("size", "int") and mode in ("read_only", "write_only")
            assert factor is None or std.params[factor] == "size", name
        if std.format:
            assert std.params[std.format[1]] == "cstr" and std.format[2] == n and std.variadic
        assert std.va_list == (std.params[-1] == "va_list"), name


def test_every_standard_function_in_glibcs_headers_matches_its_prototype():
    found = {}
    for header in ("stdio.h", "string.h", "stdlib.h", "unistd.h", "strings.h"):
        defs = ffikit.include(header)
        for name, decl in defs.functions.items():
            if name in STANDARD:
                found[name] = decl.type
    missing = [n for n, t in found.items() if matches(n, t) is None]
    assert not missing, [found[n].c_name(n) for n in missing]
    assert len(found) >= 50
    assert isinstance(found["printf"], m.FunctionType)
