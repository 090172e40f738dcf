"""Built-in names: stdint and friends everywhere, Windows SDK names on Windows."""

import ctypes

import pytest

import ffikit
from ffikit.cdecl.prelude import STANDARD_TYPES


def test_standard_names_need_no_include():
    defs = ffikit.cdef("struct s { int32_t a; uint64_t b; bool c; intptr_t d; char16_t e; "
                       "int_least16_t f; };")
    assert defs.layout("struct s").size == 40
    assert "int32_t" in STANDARD_TYPES


def test_system_headers_redefine_builtins_compatibly():
    defs = ffikit.cdef("#include <stdint.h>\n#include <stdbool.h>\nint32_t f(bool b);")
    assert defs.functions["f"].type.result.c_name() == "int32_t"


def test_windows_names_have_windows_sizes():
    defs = ffikit.cdef("typedef struct { LONG left, top, right, bottom; } RECT;",
                       platform="windows")
    assert ctypes.sizeof(defs.RECT) == 16
    assert ctypes.sizeof(defs.DWORD) == 4 and ctypes.sizeof(defs.HANDLE) == 8
    assert ctypes.sizeof(defs.ctype("LPCWSTR")) == 8


def test_c_library_types_need_no_include():
    """As cffi: int_fast*_t, FILE (opaque), va_list are known without a header."""
    defs = ffikit.cdef("int_fast32_t f(FILE *fp, va_list ap, uint_fast8_t b, intmax_t m);")
    params = [p.c_name() for p in defs.functions["f"].type.params]
    assert params == ["FILE *", "void *", "uint_fast8_t", "intmax_t"]
    assert defs.sizeof("int_fast16_t") == 8 and defs.sizeof("uint_fast8_t") == 1
    assert ffikit.cdef("", platform="windows").sizeof("int_fast16_t") == 4
    with pytest.raises(ffikit.DeclarationError, match="incomplete"):
        defs.sizeof("FILE")


def test_headers_complete_the_built_in_file():
    defs = ffikit.cdef("#include <stdio.h>\n#include <stdint.h>\nint_fast16_t g(FILE *f);")
    assert defs.sizeof("FILE") > 100 and defs.sizeof("int_fast16_t") == 8


def test_user_typedef_may_reuse_a_built_in_name_no_header_declared():
    assert ffikit.cdef("typedef int bool; bool f(void);").sizeof("bool") == 4
    assert ffikit.cdef("#include <stdbool.h>\nbool h(void);").sizeof("bool") == 1
    with pytest.raises(ffikit.DeclarationError, match="conflicts with the built-in 'int32_t'"):
        ffikit.cdef("#include <stdint.h>\ntypedef short int32_t;")
