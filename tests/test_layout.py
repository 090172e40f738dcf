"""Layouts per platform ABI, as data and as a printed table."""

import pytest

import ffikit
from ffikit.cdecl.layout import get_platform, host_platform, int_info, sizeof
from ffikit.cdecl.model import Enum, Pointer, Primitive


class TestPlatforms:
    def test_host_is_lp64_here(self):
        assert host_platform().pointer_size == 8
        assert sizeof(Primitive("long")) == 8

    def test_windows_is_llp64(self):
        win = get_platform("windows")
        assert sizeof(Primitive("long"), win) == 4
        assert sizeof(Primitive("wchar_t"), win) == 2
        assert sizeof(Pointer(Primitive("char")), win) == 8
        assert sizeof(Primitive("long double"), win) == 8

    def test_unknown_platform(self):
        with pytest.raises(ValueError, match="unknown platform 'amiga'"):
            get_platform("amiga")

    def test_int_info(self):
        assert int_info(Primitive("unsigned short")) == (2, False)
        assert int_info(Primitive("char"), "linux-aarch64") == (1, False)
        assert int_info(Enum("e", [("A", -1)])) == (4, True)
        assert int_info(Enum("e", [("A", 1 << 40)])) == (8, False)
        with pytest.raises(TypeError, match="not an integer type"):
            int_info(Primitive("double"))


class TestWindowsLayouts:
    """MSVC rules, asserted from Microsoft's documented results (no MSVC here)."""

    def test_rect_and_windows_types(self):
        defs = ffikit.cdef("typedef struct { LONG left, top, right, bottom; } RECT;"
                           "typedef struct { DWORD d; HANDLE h; BOOL b; WORD w; BYTE c; } MIX;",
                           platform="windows")
        assert defs.layout("RECT").size == 16
        assert [defs.sizeof(t) for t in ("DWORD", "LONG", "ULONG", "BOOL", "HANDLE", "WORD",
                                         "BYTE", "LPCWSTR", "SIZE_T", "UINT_PTR")] == [
            4, 4, 4, 4, 8, 2, 1, 8, 8, 8]
        lay = defs.layout("MIX")
        assert [(f.name, f.offset) for f in lay.fields] == [
            ("d", 0), ("h", 8), ("b", 16), ("w", 20), ("c", 22)]
        assert lay.size == 24

    def test_msvc_bitfields_do_not_share_units_across_types(self):
        # MSVC: a bitfield of a differently sized type starts a new unit.
        defs = ffikit.cdef("struct s { char a : 4; int b : 4; };", platform="windows")
        lay = defs.layout("struct s")
        assert (lay.field("b").bit_offset, lay.size) == (32, 8)
        gcc = ffikit.cdef("struct s { char a : 4; int b : 4; };").layout("struct s")
        assert (gcc.field("b").bit_offset, gcc.size) == (4, 4)

    def test_windows_names_only_on_windows(self):
        with pytest.raises(ffikit.DeclarationError, match="unknown type name 'DWORD'"):
            ffikit.cdef("DWORD x;")


class TestLayoutData:
    def test_fields_holes_and_table(self):
        lay = ffikit.cdef("struct s { char c; double d; short h; int b : 3; };").layout("struct s")
        assert [(f.name, f.offset, f.size) for f in lay.fields] == [
            ("c", 0, 1), ("d", 8, 8), ("h", 16, 2), ("b", 16, 4)]
        assert lay.field("b").bit_offset == 144 and lay.field("b").bit_width == 3
        assert lay.holes == ((1, 7), (19, 5))
        assert (lay.size, lay.alignment) == (24, 8)
        assert str(lay) == "\n".join([
            "struct s",
            "offset  size  field      type",
            "0       1     c          char",
            "1       7     (padding)",
            "8       8     d          double",
            "16      2     h          short",
            "18+0b   3b    b          int",
            "19      5     (padding)",
            "size 24, alignment 8",
        ])

    def test_missing_field(self):
        lay = ffikit.cdef("struct s { int a; };").layout("struct s")
        with pytest.raises(KeyError, match="no member 'zz'"):
            lay.field("zz")
