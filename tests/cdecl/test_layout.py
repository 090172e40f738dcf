"""ffikit.cdecl.layout: platforms, sizes, integer facts and struct layouts.

SysV cases are checked against gcc: every hand-built type below is compiled
into one probe (``sizeof``, ``_Alignof``, ``offsetof``, bitfield byte images)
and ``layout()`` must report the same facts.  Windows cases cannot be
compiled here; they assert the results MSVC documents, citing the rule.
"""

import ctypes

import pytest

import ffikit
from ffikit.cdecl.layout import (
    FieldLayout,
    Layout,
    alignof,
    get_platform,
    host_platform,
    int_info,
    layout,
    sizeof,
)
from ffikit.cdecl.model import (
    VOID,
    Array,
    Enum,
    Field,
    FunctionType,
    Pointer,
    Primitive,
    StructOrUnion,
    Typedef,
)
from ffikit.errors import DeclarationError
from randmodels import probe_source, read_probe

CHAR, SHORT, INT, UINT = (Primitive(n) for n in ("char", "short", "int", "unsigned int"))
LONG, DOUBLE, LLONG = Primitive("long"), Primitive("double"), Primitive("long long")


def struct(name, *fields, kind="struct", pack=None, aligned=None):
    t = StructOrUnion(kind, name)
    t.complete(fields, pack=pack, aligned=aligned)
    return t


def F(name, ctype, bits=None, **kw):
    return Field(name, ctype, bits, **kw)


def _cases():
    anon = StructOrUnion("union", None)
    anon.complete([F("as_int", INT), F("as_bytes", Array(CHAR, 4))])
    inner = struct("h_inner", F("x", CHAR), F("y", DOUBLE))
    return {
        "padding": struct("h_padding", F("a", CHAR), F("b", INT), F("c", CHAR)),
        "scalars": struct(
            "h_scalars", F("b", Primitive("_Bool")), F("ld", Primitive("long double")),
            F("c", CHAR), F("i128", Primitive("__int128")), F("f", Primitive("float")),
            F("d", DOUBLE), F("p", Pointer(VOID)),
            F("fn", Pointer(FunctionType(INT, [INT, Pointer(CHAR)]))),
            F("w", Primitive("wchar_t")), F("sz", Primitive("size_t")),
        ),
        "straddle": struct("h_straddle", F("a", CHAR), F("b", INT, 30), F("c", INT, 4)),
        "zero_width": struct("h_zero", F("a", CHAR, 3), F(None, INT, 0), F("b", CHAR, 2)),
        "unnamed_bits": struct("h_unnamed", F("a", CHAR), F(None, INT, 4)),
        "signed_bits": struct("h_signed", F("s", INT, 5), F("u", UINT, 5),
                              F("flag", Primitive("_Bool"), 1), F("big", LLONG, 40)),
        "pack2": struct("h_pack2", F("a", CHAR), F("b", DOUBLE), F("c", INT, 20),
                        F("d", INT, 20), pack=2),
        "pack1": struct("h_pack1", F("a", CHAR), F("b", INT), F("c", SHORT), pack=1),
        "packed": struct("h_packed", F("a", CHAR, packed=True), F("b", INT, 7, packed=True),
                         F("c", INT, 30, packed=True), F("d", DOUBLE, packed=True)),
        "aligned": struct("h_aligned", F("a", CHAR), F("b", INT, aligned=16), aligned=32),
        "flexible": struct("h_flexible", F("n", SHORT), F("data", Array(DOUBLE, None))),
        "union": struct("h_union", F("c", CHAR), F("d", DOUBLE), F("a", Array(SHORT, 7)),
                        kind="union"),
        "nested": struct("h_nested", F("tag", CHAR), F(None, anon), F("in", inner),
                         F("grid", Array(Array(SHORT, 3), 2))),
    }


CASES = _cases()


@pytest.fixture(scope="module")
def gcc(cbuild):
    lib = ctypes.CDLL(cbuild(probe_source(list(CASES.values())), name="layoutcases"))
    lib.probe.restype = ctypes.c_char_p
    return read_probe(lib.probe().decode())


class TestLayoutAgainstGcc:
    @pytest.mark.parametrize("case", sorted(CASES))
    def test_size_alignment_offsets(self, case, gcc):
        """Size, alignment and every non-bitfield offset equal gcc's."""
        t = CASES[case]
        lay = layout(t)
        assert (lay.size, lay.alignment) == (gcc[(t.name, "size")], gcc[(t.name, "align")])
        for f in lay.fields:
            if f.name is not None and not f.is_bitfield:
                assert f.offset == gcc[(t.name, "off", f.name)], f.name

    def test_documented_values(self):
        """A few values anyone can check by hand (SysV x86-64 / AArch64)."""
        assert layout(CASES["padding"]).size == 12
        assert [f.offset for f in layout(CASES["padding"]).fields] == [0, 4, 8]
        assert layout(CASES["pack1"]).size == 7
        assert layout(CASES["aligned"]).alignment == 32
        assert layout(CASES["aligned"]).field("b").offset == 16
        assert layout(CASES["flexible"]).field("data").offset == 8
        assert layout(CASES["union"]).size == 16

    def test_bitfield_positions(self):
        """Bit offsets follow gcc: no straddling of a unit; ``:0`` opens a new unit."""
        straddle = layout(CASES["straddle"])
        assert straddle.field("b").bit_offset == 32  # 8 + 30 would cross the int at 32
        assert straddle.field("c").bit_offset == 64  # 62 + 4 would cross 64
        assert layout(CASES["zero_width"]).field("b").bit_offset == 32
        assert layout(CASES["unnamed_bits"]).alignment == 1  # unnamed: no alignment effect
        packed = layout(CASES["packed"])
        assert packed.field("c").bit_offset == 15  # packed: bit by bit, may straddle
        assert packed.size == 14 and packed.alignment == 1
        pack2 = layout(CASES["pack2"])
        assert pack2.field("d").bit_offset == pack2.field("c").bit_offset + 20

    def test_anonymous_members_are_flattened(self):
        """Members of an anonymous union are listed with their outer offsets."""
        lay = layout(CASES["nested"])
        assert [f.name for f in lay.fields] == ["tag", "as_int", "as_bytes", "in", "grid"]
        assert lay.field("as_int").offset == 4
        assert [m.name for m in lay.members] == ["tag", None, "in", "grid"]

    def test_holes_include_trailing_padding(self):
        assert layout(CASES["padding"]).holes == ((1, 3), (9, 3))
        assert layout(CASES["pack1"]).holes == ()

    def test_cached(self):
        assert layout(CASES["padding"]) is layout(CASES["padding"])

    def test_typedef_resolves(self):
        assert layout(Typedef("P", CASES["padding"])) is layout(CASES["padding"])

    def test_not_a_struct(self):
        with pytest.raises(TypeError, match="'int' is not a struct or union"):
            layout(INT)

    def test_str_is_a_table(self):
        assert str(layout(CASES["padding"])) == "\n".join([
            "struct h_padding",
            "offset  size  field      type",
            "0       1     a          char",
            "1       3     (padding)",
            "4       4     b          int",
            "8       1     c          char",
            "9       3     (padding)",
            "size 12, alignment 4",
        ])

    def test_str_shows_bitfields(self):
        text = str(layout(CASES["straddle"]))
        assert "4+0b    30b   b" in text and "8+0b    4b    c" in text

    def test_field_lookup_error(self):
        with pytest.raises(KeyError, match="struct h_padding has no member 'zz'"):
            layout(CASES["padding"]).field("zz")

    def test_layout_is_data(self):
        lay = layout(CASES["padding"])
        assert isinstance(lay, Layout) and isinstance(lay.fields[0], FieldLayout)
        assert lay.fields[1] == FieldLayout("b", INT, 4, 4)


class TestIncompleteTypes:
    def test_opaque_struct(self):
        with pytest.raises(DeclarationError) as e:
            sizeof(StructOrUnion("struct", "sqlite3"))
        assert str(e.value) == (
            "type 'struct sqlite3' is incomplete (declared without its members), so it has "
            "no size\nhint: define its members, or use it only behind a pointer "
            "('struct sqlite3 *')"
        )

    def test_void_and_function(self):
        with pytest.raises(DeclarationError, match="'void' is incomplete.*\nhint: use 'void"):
            sizeof(VOID)
        with pytest.raises(DeclarationError, match=r"use a function pointer \('int \(\*\)\(int\)'"):
            alignof(FunctionType(INT, [INT]))

    def test_unknown_length_array(self):
        with pytest.raises(DeclarationError, match=r"(?s)'int\[\]' is incomplete.*\('int \*'\)"):
            sizeof(Array(INT, None))

    def test_member_of_incomplete_type_names_the_member(self):
        t = struct("holder", F("db", StructOrUnion("struct", "sqlite3")))
        with pytest.raises(DeclarationError, match="^member 'db' of struct holder: type "
                           "'struct sqlite3' is incomplete"):
            layout(t)

    def test_flexible_array_not_last(self):
        t = struct("early", F("a", Array(INT, None)), F("b", INT))
        with pytest.raises(DeclarationError, match="member 'a' of struct early has type "
                           "'int\\[\\]' with no length: only a struct's last member"):
            layout(t)

    def test_flexible_array_in_union(self):
        t = struct("u_flex", F("a", INT), F("b", Array(INT, None)), kind="union")
        with pytest.raises(DeclarationError, match="a union member may not be a flexible"):
            layout(t)

    def test_bitfield_too_wide(self):
        t = struct("wide", F("a", CHAR, 9))
        with pytest.raises(DeclarationError, match="member 'a' of struct wide: bitfield width "
                           "9 is outside 0..8 for 'char'\nhint: use a width of at most 8"):
            layout(t)

    def test_bitfield_of_double(self):
        with pytest.raises(DeclarationError, match="bitfield of non-integer type 'double'"):
            layout(struct("fb", F("a", DOUBLE, 3)))


class TestSizeofAlignof:
    @pytest.mark.parametrize("name, size", [
        ("char", 1), ("short", 2), ("int", 4), ("long", 8), ("long long", 8), ("_Bool", 1),
        ("float", 4), ("double", 8), ("long double", 16), ("__int128", 16), ("size_t", 8),
        ("wchar_t", 4),
    ])
    def test_linux_x86_64(self, name, size):
        plat = "linux-x86_64"
        assert sizeof(Primitive(name), plat) == size == alignof(Primitive(name), plat)

    def test_matches_host_ctypes(self):
        for name, ct in [("long", ctypes.c_long), ("long double", ctypes.c_longdouble),
                         ("wchar_t", ctypes.c_wchar), ("size_t", ctypes.c_size_t)]:
            assert sizeof(Primitive(name)) == ctypes.sizeof(ct), name

    def test_pointers_arrays_typedefs(self):
        assert sizeof(Pointer(FunctionType(VOID, []))) == 8
        assert sizeof(Array(Array(SHORT, 3), 2)) == 12 and alignof(Array(SHORT, 3)) == 2
        assert sizeof(Typedef("uLong", LONG), "windows") == 4


class TestIntInfo:
    def test_char_signedness_per_platform(self):
        assert int_info(CHAR, "linux-x86_64") == (1, True)
        assert int_info(CHAR, "linux-aarch64") == (1, False)
        assert int_info(Primitive("wchar_t"), "windows") == (2, False)

    def test_typedef_resolved(self):
        assert int_info(Typedef("uLong", Primitive("unsigned long")), "linux") == (8, False)
        assert int_info(Typedef("uLong", Primitive("unsigned long")), "windows") == (4, False)

    @pytest.mark.parametrize("lo, hi, expected", [
        (0, 3, (4, False)), (-1, 3, (4, True)), (0, 0xFFFFFFFF, (4, False)),
        (-1, 0x80000000, (8, True)), (0, 1 << 40, (8, False)),
    ])
    def test_enum_gcc(self, lo, hi, expected):
        """gcc: unsigned int if all members >= 0 and fit, else int, else 8 bytes."""
        assert int_info(Enum("e", [("LO", lo), ("HI", hi)]), "linux") == expected

    def test_enum_msvc_is_int(self):
        """MSVC: an enum's underlying type is int (C4341 for values that do not fit)."""
        assert int_info(Enum("e", [("A", 0), ("B", 3)]), "windows") == (4, True)

    def test_not_an_integer(self):
        with pytest.raises(TypeError, match="'double' is not an integer type"):
            int_info(DOUBLE)


class TestWindowsLayouts:
    """Hand-checked against MSVC's documented x64 rules (no MSVC here; the random
    differential test also checks these rules against gcc -mms-bitfields)."""

    def test_rect(self):
        """RECT is four LONGs; LLP64 makes LONG 4 bytes: sizeof(RECT) == 16."""
        rect = struct("tagRECT", *(F(n, LONG) for n in ("left", "top", "right", "bottom")))
        assert (sizeof(rect, "windows"), alignof(rect, "windows")) == (16, 4)
        assert sizeof(rect, "linux") == 32

    def test_long_and_pointer(self):
        """LLP64: long is 4, pointers 8 -> 4 bytes of padding before the pointer."""
        lay = layout(struct("lp", F("a", LONG), F("p", Pointer(VOID))), "windows")
        assert (lay.field("p").offset, lay.size, lay.holes) == (8, 16, ((4, 4),))

    def test_bitfield_type_change_starts_new_unit(self):
        """MSVC: a bitfield whose declared type differs in size starts a new unit.

        ``struct { char a:4; int b:4; char c:4; }`` is 12 bytes under MSVC
        (units: char@0, int@4, char@8), 4 under gcc.
        """
        t = struct("mix", F("a", CHAR, 4), F("b", INT, 4), F("c", CHAR, 4))
        lay = layout(t, "windows")
        assert [f.bit_offset for f in lay.fields] == [0, 32, 64]
        assert (lay.size, lay.alignment) == (12, 4)
        assert layout(t, "linux").size == 4

    def test_bitfield_never_straddles_its_unit(self):
        """MSVC: a bitfield that does not fit the rest of its unit opens the next one."""
        lay = layout(struct("split", F("a", INT, 20), F("b", INT, 20)), "windows")
        assert (lay.field("b").bit_offset, lay.size) == (32, 8)

    def test_pragma_pack(self):
        """``#pragma pack(1)``: members at byte offsets, no padding (5 bytes)."""
        lay = layout(struct("p1", F("c", CHAR), F("i", INT), pack=1), "windows")
        assert (lay.field("i").offset, lay.size, lay.alignment) == (1, 5, 1)

    def test_windows_scalars(self):
        """LLP64: long 4, wchar_t 2 unsigned, long double 8 (same as double)."""
        win = "windows"
        assert sizeof(LONG, win) == 4 and sizeof(Primitive("long double"), win) == 8
        assert int_info(Primitive("wchar_t"), win) == (2, False)


# --- through the parser (ffikit.cdef) ---------------------------------------------------


class TestPlatformsFromCdef:
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


class TestWindowsLayoutsFromCdef:
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
