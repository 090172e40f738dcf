"""GCC's layout extensions, computed (checked against gcc itself) or refused, never ignored."""

import ctypes

import pytest

import ffikit
from ffikit.backends.ctypes.types import expressible_alignment
from ffikit.tools.layoutcheck import check_layouts, struct_names

EXTENSIONS = """
#include <stdint.h>
#include <stddef.h>
enum { ALIGN = 8 };
typedef float v4sf __attribute__((vector_size(16)));
typedef double v8df __attribute__((__vector_size__(64), __aligned__(16)));
typedef unsigned long ul4 __attribute__((aligned(4)));
typedef int int_a16 __attribute__((aligned(16)));
typedef ul4 ul4_again;
typedef int qi __attribute__((mode(QI)));
typedef unsigned int di __attribute__((__mode__(__DI__)));
struct vec { char c; v4sf v; float f __attribute__((vector_size(8))); };
union vecs { v4sf xmm; v8df zmm[1]; } __attribute__((aligned(16)));
struct lowered { uint32_t id; ul4 value; ul4_again again; };
struct raised { char c; int_a16 x; };
struct expr_aligned { char c; int x __attribute__((aligned(2*32))); };
struct sizeof_aligned { char c; int x __attribute__((aligned(sizeof(long)))); };
struct alignof_aligned { char c; short s __attribute__((aligned(__alignof__(long long)))); };
struct enum_aligned { char c; short s __attribute__((aligned(ALIGN))); };
struct __attribute__((aligned(32))) big { int a; };
struct holds_big { char c; struct big b; };
struct bare_aligned { char c; } __attribute__((aligned));
struct alignas_ { char c; _Alignas(16) int x; _Alignas(double) char d; };
struct modes { qi a; di b; };
struct packed_s { char c; int i; short s; } __attribute__((packed));
struct packed_member { char c; int i __attribute__((packed)); char d; };
struct packed_aligned { char c; int i; } __attribute__((packed, aligned(4)));
struct __attribute__((ms_struct)) ms { char a : 4; short b : 4; int c; };
struct __attribute__((gcc_struct)) gs { char a : 4; short b : 4; int c; };
struct i128 { char c; __int128 x; unsigned __int128 y; };
struct cplx { char c; double _Complex z; float _Complex f; long double _Complex l; char e; };
#pragma pack(3)
struct pack3 { char c; double d; };
#pragma pack()
#pragma pack(push, 2)
struct pack2 { char c; double d; };
#pragma pack(push, 1)
struct pack1 { char c; double d; };
#pragma pack(pop)
struct pack2_again { char c; double d; };
#pragma pack(pop)
struct unpacked { char c; double d; };
#pragma pack(push, outer, 4)
#pragma pack(push, 1)
#pragma pack(pop, outer)
struct popped_to_label { char c; double d; };
enum __attribute__((packed)) pe_small { PE_A = 1 };
enum __attribute__((packed)) pe_300 { PE_B = 300 };
enum __attribute__((packed)) pe_neg { PE_C = -1 };
enum __attribute__((packed)) pe_big { PE_D = 70000 };
enum __attribute__((packed)) pe_minus129 { PE_E = -129 };
enum pe_after { PE_F = 200 } __attribute__((packed));
struct packed_enums { char c; enum pe_small a; char d; enum pe_300 b; char e; enum pe_neg n;
                      char f; enum pe_big g; enum pe_after h; char i; enum pe_minus129 j; };
#pragma pack(push, 2)
#pragma pack(push, 3)
struct pack_invalid_push { char c; int i; };
#pragma pack(pop)
struct pack_after_invalid_push { char c; int i; };
struct atomics { char c; _Atomic(int) a; _Atomic long b; _Atomic(char) d; _Atomic double e; };
#include <stdalign.h>
struct stdalign_ { char c; alignas(16) int x; alignas(double) char d; };
"""


@pytest.fixture(scope="module")
def header(tmp_path_factory):
    path = tmp_path_factory.mktemp("ext") / "extensions.h"
    path.write_text(EXTENSIONS)
    return str(path)


def test_every_extension_matches_gcc(header, build_cache):
    defs = ffikit.include(header)
    names = struct_names(defs)
    assert len(names) == 31
    assert [str(d) for d in check_layouts(defs, header, names)] == []


def test_values_the_issue_names(header):
    defs = ffikit.include(header)
    assert defs.layout("struct expr_aligned").field("x").offset == 64  # aligned(2*32)
    assert defs.sizeof("struct pack3") == 16  # #pragma pack(3) is ignored, as gcc does
    assert defs.sizeof("struct lowered") == 20  # typedef aligned(4) lowers unsigned long
    assert defs.layout("struct big").alignment == 32
    assert defs.layout("struct i128").alignment == 16
    assert defs.sizeof("struct vec") == 48 and defs.layout("struct vec").alignment == 16
    assert ctypes.alignment(defs.ctype("struct big")) == expressible_alignment(32)
    assert ctypes.alignment(defs.ctype("struct i128")) == 16
    assert ctypes.sizeof(defs.ctype("struct holds_big")) == 64
    assert defs.ctype("struct holds_big").b.offset == 32  # embedding is exact either way
    if expressible_alignment(32) != 32:
        assert "ctypes on this Python can express at most 16" in defs.ctype("struct big").__doc__


@pytest.mark.parametrize("attribute", ["scalar_storage_order(\"big-endian\")", "randomize_layout"])
def test_layout_attribute_ffikit_cannot_compute_is_refused(attribute):
    with pytest.raises(ffikit.DeclarationError) as err:
        ffikit.cdef(f"struct s {{ int a; }} __attribute__(({attribute}));")
    assert attribute.split("(")[0] in str(err.value) and err.value.line == 1


def test_attributes_that_do_not_touch_layout_are_ignored():
    defs = ffikit.cdef("struct s { int a __attribute__((deprecated(\"x\"), unused)); } "
                       "__attribute__((may_alias, designated_init));")
    assert defs.sizeof("struct s") == 4


def test_aligned_argument_must_be_a_power_of_two_constant():
    with pytest.raises(ffikit.DeclarationError, match="power of two"):
        ffikit.cdef("struct s { int a __attribute__((aligned(3))); };")
    with pytest.raises(ffikit.DeclarationError, match="not a constant"):
        ffikit.cdef("struct s { int a __attribute__((aligned(nope))); };")


def test_windows_platform_reads_stdint():
    defs = ffikit.cdef("#include <stdint.h>\nstruct s { int64_t a; intptr_t p; long l; };",
                       platform="windows")
    assert defs.sizeof("struct s") == 24


def test_vector_values_parse_and_are_refused_at_the_call(cbuild):
    source = """
        typedef float v4 __attribute__((vector_size(16)));
        v4 twice(v4 a) { return a + a; }
        int lanes(void) { return sizeof(v4) / sizeof(float); }
    """
    header = source.replace("{ return a + a; }", ";").replace(
        "{ return sizeof(v4) / sizeof(float); }", ";")
    lib = ffikit.load(cbuild(source, name="vectors"), header)
    assert lib.lanes() == 4 and lib.defs.sizeof("v4") == 16
    with pytest.raises(ffikit.ArgumentError, match="GCC vector"):
        getattr(lib, "twice")  # noqa: B009 - binding it is what fails


def test_complex_members_and_refused_calls():
    assert ffikit.include("complex.h").sizeof("double _Complex") == 16
    m = ffikit.load("m", "double cabs(double _Complex z); double _Complex csqrt(double _Complex z);"
                         "double sqrt(double x);")
    assert str(m.defs.functions["cabs"]) == "double cabs(double _Complex z);"
    assert m.sqrt(4.0) == 2.0
    with pytest.raises(ffikit.ArgumentError, match="not supported"):
        m.cabs  # noqa: B018 - binding it is what fails: ctypes cannot pass a complex
    with pytest.raises(ffikit.ArgumentError, match="complex number"):
        m.csqrt  # noqa: B018
