"""Names every declaration may use without an ``#include``.

* The ``<stdint.h>``/``<stddef.h>``/``<stdbool.h>``/``<wchar.h>``/``<uchar.h>``
  names, as model primitives (so ``int32_t`` keeps its name in messages).
* The compiler built-ins that scrubbing renames (``__int128``,
  ``__builtin_va_list``, ``_Float128``, ...).
* The Windows SDK names, written as the SDK writes them (``typedef long
  LONG;``): with ``platform="windows"`` ``long`` is 4 bytes, so they get
  Windows sizes wherever ffikit runs.  They exist only when the platform is
  Windows, so they never clash with a Unix header's own ``BYTE`` or ``BOOL``.
"""

from __future__ import annotations

from .model import VOID, CType, Pointer, Primitive, StructOrUnion, Typedef

__all__ = ["STANDARD_TYPES", "WINDOWS_DECLARATIONS", "platform_types"]

_PRIMITIVE_TYPEDEFS = (
    "int8_t uint8_t int16_t uint16_t int32_t uint32_t int64_t uint64_t "
    "intptr_t uintptr_t size_t ssize_t ptrdiff_t intmax_t uintmax_t "
    "wchar_t char16_t char32_t"
).split()


def _standard() -> dict[str, CType]:
    types: dict[str, CType] = {name: Primitive(name) for name in _PRIMITIVE_TYPEDEFS}
    types["bool"] = Primitive("_Bool")
    for bits in (8, 16, 32, 64):
        for kind in ("least",):  # int_fast*_t differ between C libraries: platform_types
            for sign in ("", "u"):
                name = f"{sign}int_{kind}{bits}_t"
                types[name] = Typedef(name, Primitive(f"{sign}int{bits}_t"))
    types["__ffikit_int128"] = Primitive("__int128")
    types["__ffikit_uint128"] = Primitive("unsigned __int128")
    types["__ffikit_va_list"] = Pointer(VOID)
    types["va_list"] = Pointer(VOID)
    for name, target in (("_Float32", "float"), ("_Float64", "double"), ("_Float32x", "double"),
                         ("_Float64x", "long double"), ("_Float128", "long double"),
                         ("__float128", "long double"), ("__float80", "long double")):
        types[name] = Primitive(target)
    return types


STANDARD_TYPES: dict[str, CType] = _standard()

# int_fast*_t as each C library declares them (glibc, MSVC's <stdint.h>, Apple's libc).
_FAST = {
    "linux": ("signed char", "long", "long", "long"),
    "windows": ("signed char", "int", "int", "long long"),
    "darwin": ("signed char", "short", "int", "long long"),
}
_FILE_TAG = {"linux": "_IO_FILE", "windows": "_iobuf", "darwin": "__sFILE"}


def platform_types(platform) -> dict[str, CType]:
    """The built-ins whose definition depends on the C library: ``int_fast*_t`` and
    ``FILE`` (an opaque struct: only pointers to it are used).  A header that
    defines them (``<stdio.h>``'s complete ``FILE``) takes precedence."""
    family = "windows" if platform.is_windows else \
        "darwin" if platform.name.startswith("darwin") else "linux"
    types: dict[str, CType] = {}
    for bits, base in zip((8, 16, 32, 64), _FAST[family]):
        unsigned = "unsigned char" if base == "signed char" else "unsigned " + base
        types[f"int_fast{bits}_t"] = Typedef(f"int_fast{bits}_t", Primitive(base))
        types[f"uint_fast{bits}_t"] = Typedef(f"uint_fast{bits}_t", Primitive(unsigned))
    types["FILE"] = Typedef("FILE", StructOrUnion("struct", _FILE_TAG[family]))
    return types

# As the Windows SDK (winnt.h, windef.h, basetsd.h) declares them.
WINDOWS_DECLARATIONS = """
typedef unsigned char BYTE, UCHAR, UINT8, BOOLEAN, *PBYTE, *LPBYTE;
typedef char CHAR, CCHAR, INT8;
typedef short SHORT, INT16;
typedef unsigned short WORD, USHORT, UINT16, ATOM, *PWORD, *LPWORD;
typedef int INT, BOOL, INT32, LONG32, *PINT, *LPINT, *PBOOL, *LPBOOL;
typedef unsigned int UINT, UINT32, DWORD32, ULONG32, *PUINT;
typedef long LONG, HRESULT, *PLONG, *LPLONG;
typedef unsigned long ULONG, DWORD, *PULONG, *PDWORD, *LPDWORD;
typedef long long LONGLONG, INT64, LONG64;
typedef unsigned long long ULONGLONG, UINT64, DWORD64, ULONG64, DWORDLONG;
typedef long long INT_PTR, LONG_PTR, SSIZE_T;
typedef unsigned long long UINT_PTR, ULONG_PTR, DWORD_PTR, SIZE_T;
typedef UINT_PTR WPARAM;
typedef LONG_PTR LPARAM, LRESULT;
typedef float FLOAT;
typedef double DOUBLE;
typedef wchar_t WCHAR;
typedef void VOID;
typedef void *PVOID, *LPVOID, *HANDLE, *HWND, *HMODULE, *HINSTANCE, *HDC, *HKEY, *HMENU,
    *HICON, *HBRUSH, *HFONT, *HBITMAP, *HGLOBAL, *HLOCAL, *FARPROC;
typedef const void *LPCVOID;
typedef CHAR *LPSTR, *PSTR;
typedef const CHAR *LPCSTR, *PCSTR;
typedef WCHAR *LPWSTR, *PWSTR;
typedef const WCHAR *LPCWSTR, *PCWSTR;
typedef HANDLE *PHANDLE, *LPHANDLE;
"""
