"""Built-in names: stdint and friends everywhere, Windows SDK names on Windows."""

import ctypes

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
