"""fastpaths: the inline lines a wrapper runs first for pointer arguments, and that they agree
with the full converter."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

import ffikit
from ffikit.backends.ctypes.fastpaths import cstring_fast_path, pointer_fast_path
from ffikit.rules.params import param_rule

C = r"""
#include <stddef.h>
#include <stdint.h>
#include <string.h>
size_t length(const char *s) { return s ? strlen(s) : 0; }
double total(const double *p, size_t n) { double s = 0; for (size_t i = 0; i < n; i++) s += p[i]; return s; }
void fill(double *p, size_t n, double v) { for (size_t i = 0; i < n; i++) p[i] = v; }
uintptr_t where(const void *p) { return (uintptr_t)p; }
"""
H = """
size_t length(const char *s);
double total(const double *p, size_t n);
void fill(double *p, size_t n, double v);
uintptr_t where(const void *p);
"""


@pytest.fixture(scope="module")
def lib(cbuild):
    return ffikit.load(cbuild(C, name="fastpaths"), H, backend="ctypes")


def test_the_lines_each_case_gets():
    defs = ffikit.cdef(H)
    const_doubles = param_rule(defs.functions["total"].type.params[0])
    doubles = param_rule(defs.functions["fill"].type.params[0])
    text = param_rule(defs.functions["length"].type.params[0])
    env: dict = {"_ffk_c0": lambda v: (v, None)}
    lines = pointer_fast_path(const_doubles, 0, "p", env)
    assert lines[0] == "_ffk_t0 = _ffk_type(p)" and "_ffk_k0.format in _ffk_fm0" in lines[3]
    assert "not _ffk_k0.readonly" not in lines[3]  # const: a read-only buffer is fine
    assert "not _ffk_k0.readonly" in pointer_fast_path(doubles, 0, "p", dict(env))[3]
    sized = pointer_fast_path(const_doubles, 0, "p", dict(env), sized=True)
    assert any("_ffk_e0 = _ffk_k0.nbytes" in line for line in sized)
    assert cstring_fast_path(text, 0, "s", {})[0].startswith("if _ffk_type(s) is _ffk_bytes")
    assert cstring_fast_path(doubles, 0, "p", {}) == ["p, _ffk_k0 = _ffk_c0(p)"]  # not a string


def test_fast_and_full_paths_agree(lib):
    values = np.arange(4.0)
    assert lib.total(values, 4) == 6.0  # a buffer of the right item type: by address
    assert lib.total((ctypes.c_double * 4)(0, 1, 2, 3), 4) == 6.0  # a ctypes array
    assert lib.total(memoryview(values), 4) == 6.0
    out = np.zeros(3)
    lib.fill(out, 3, 2.5)
    assert out.tolist() == [2.5, 2.5, 2.5]
    assert lib.where(values) == values.ctypes.data  # zero-copy
    with pytest.raises(ffikit.ArgumentError):
        lib.total(np.arange(4, dtype=np.int32), 4)  # wrong item type: the full converter refuses
    readonly = np.zeros(3)
    readonly.flags.writeable = False
    with pytest.raises(ffikit.ReadOnlyBuffer):
        lib.fill(readonly, 3, 1.0)


def test_c_strings_fast_and_full(lib):
    assert lib.length(b"hello") == 5  # NUL-free bytes as they are
    assert lib.length(bytearray(b"hi\0there")) == 2  # a NUL-terminated bytearray, by address
    assert lib.length("héllo") == 6  # str: encoded by the full converter
    assert lib.length(None) == 0
    with pytest.raises(ffikit.ArgumentError):
        lib.length(b"a\0b")  # an inner NUL would cut the string: refused
