"""ffikit.backends.ctypes.types: model types -> ctypes types, checked by calling real C."""

import ctypes
import gc

import pytest

import ffikit
from ffikit.backends.ctypes.types import model_of, to_ctypes
from ffikit.cdecl.layout import layout
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

CHAR, INT, UINT, DOUBLE = (Primitive(n) for n in ("char", "int", "unsigned int", "double"))
LLONG, BOOL = Primitive("long long"), Primitive("_Bool")


def struct(name, *fields, kind="struct", pack=None):
    t = StructOrUnion(kind, name)
    t.complete(fields, pack=pack)
    return t


def F(name, ctype, bits=None, **kw):
    return Field(name, ctype, bits, **kw)


ROUNDTRIP_C = """
#include <stddef.h>
struct rt {
    char tag;
    int v : 5;
    unsigned u : 7;
    _Bool flag : 1;
    long long big : 40;
    double d;
    struct rt *next;
};
void rt_fill(struct rt *p) {
    p->tag = 'Q'; p->v = -11; p->u = 100; p->flag = 1; p->big = -123456789012LL;
    p->d = 2.5; p->next = NULL;
}
long long rt_get(const struct rt *p, int which) {
    switch (which) {
    case 0: return p->tag; case 1: return p->v; case 2: return p->u;
    case 3: return p->flag; case 4: return p->big; default: return -1;
    }
}
double rt_sum(const struct rt *p) {
    double total = 0;
    for (; p; p = p->next) total += p->d;
    return total;
}
struct ops { int (*apply)(int, int); int bias; };
int ops_run(const struct ops *o, int a, int b) { return o->apply(a, b) + o->bias; }
size_t rt_size(void) { return sizeof(struct rt); }
"""


def _rt_model():
    rt = StructOrUnion("struct", "rt")
    rt.complete([
        F("tag", CHAR), F("v", INT, 5), F("u", UINT, 7), F("flag", BOOL, 1),
        F("big", LLONG, 40), F("d", DOUBLE), F("next", Pointer(rt)),
    ])
    return rt


@pytest.fixture(scope="module")
def rtlib(cbuild):
    lib = ctypes.CDLL(cbuild(ROUNDTRIP_C, name="roundtrip"))
    lib.rt_get.restype = ctypes.c_longlong
    lib.rt_sum.restype = ctypes.c_double
    lib.rt_size.restype = ctypes.c_size_t
    return lib


class TestPrimitives:
    @pytest.mark.parametrize("name, expected", [
        ("char", ctypes.c_char), ("_Bool", ctypes.c_bool), ("float", ctypes.c_float),
        ("double", ctypes.c_double), ("long double", ctypes.c_longdouble),
        ("int", ctypes.c_int), ("unsigned long", ctypes.c_ulong), ("int8_t", ctypes.c_int8),
        ("uint64_t", ctypes.c_uint64), ("size_t", ctypes.c_size_t),
        ("signed char", ctypes.c_byte), ("unsigned char", ctypes.c_ubyte),
    ])
    def test_host(self, name, expected):
        assert to_ctypes(Primitive(name)) is expected

    def test_windows_sizes(self):
        """``long`` is 32-bit under LLP64; ``wchar_t`` is 16-bit unsigned."""
        assert to_ctypes(Primitive("long"), "windows") is ctypes.c_int32
        assert to_ctypes(Primitive("unsigned long"), "windows") is ctypes.c_uint32
        assert to_ctypes(Primitive("wchar_t"), "windows") is ctypes.c_uint16

    def test_char_signedness_does_not_change_c_char(self):
        assert to_ctypes(CHAR, "linux-aarch64") is ctypes.c_char

    def test_typedef_and_enum(self):
        assert to_ctypes(Typedef("uLong", Primitive("unsigned long"))) is ctypes.c_ulong
        assert to_ctypes(Enum("e", [("A", 0), ("B", 3)])) is ctypes.c_uint32
        assert to_ctypes(Enum("e", [("A", -1)])) is ctypes.c_int32
        assert to_ctypes(Enum("e", [("A", 1 << 40)])) is ctypes.c_uint64

    def test_int128_is_sized_storage(self):
        assert ctypes.sizeof(to_ctypes(Primitive("__int128"))) == 16


class TestPointersArraysFunctions:
    def test_pointers(self):
        assert to_ctypes(Pointer(VOID)) is ctypes.c_void_p
        assert to_ctypes(Pointer(CHAR, const=True)) is ctypes.POINTER(ctypes.c_char)
        assert to_ctypes(Pointer(Pointer(INT))) is ctypes.POINTER(ctypes.POINTER(ctypes.c_int))

    def test_multi_dimensional_array(self):
        grid = to_ctypes(Array(Array(INT, 3), 2))
        assert grid._length_ == 2 and grid._type_._length_ == 3
        assert ctypes.sizeof(grid) == 24

    def test_array_without_length(self):
        with pytest.raises(DeclarationError, match=r"'int\[\]' has no length"):
            to_ctypes(Array(INT, None))

    def test_void(self):
        with pytest.raises(DeclarationError, match="'void' has no ctypes type; use 'void \\*'"):
            to_ctypes(VOID)

    def test_function_pointer_called_from_c(self, rtlib):
        """A CFUNCTYPE made from the model is called by C through a struct field."""
        ops = to_ctypes(struct("ops", F("apply", Pointer(FunctionType(INT, [INT, INT]))),
                               F("bias", INT)))
        fn_type = dict(ops._fields_)["apply"]
        assert issubclass(fn_type, ctypes._CFuncPtr)
        callback = fn_type(lambda a, b: a * b)
        value = ops(apply=callback, bias=1)
        assert rtlib.ops_run(ctypes.byref(value), 6, 7) == 43

    def test_cached(self):
        t = Pointer(FunctionType(VOID, [INT]))
        assert to_ctypes(t) is to_ctypes(Pointer(FunctionType(VOID, [INT])))


class TestStructs:
    def test_class_carries_model_and_layout(self):
        t = struct("point", F("x", INT), F("y", DOUBLE))
        cls = to_ctypes(t)
        assert cls.__name__ == "point" and issubclass(cls, ctypes.Structure)
        assert cls._ffikit_type_ is t and model_of(cls) is t
        assert cls._ffikit_layout_ is layout(t) and cls.y.offset == 8
        assert to_ctypes(t) is cls

    def test_per_platform_classes(self):
        t = struct("lp", F("a", Primitive("long")), F("p", Pointer(VOID)))
        host, win = to_ctypes(t), to_ctypes(t, "windows")
        assert host is not win and (ctypes.sizeof(host), ctypes.sizeof(win)) == (16, 16)
        assert (host.p.offset, win.p.offset, win.a.size) == (8, 8, 4)

    def test_packed_uses_explicit_offsets(self):
        t = struct("p1", F("c", CHAR), F("d", DOUBLE), F("i", INT), pack=1)
        cls = to_ctypes(t)
        assert (cls.d.offset, cls.i.offset, ctypes.sizeof(cls)) == (1, 9, 13)
        obj = cls(c=b"x", d=1.5, i=7)
        assert (obj.d, obj.i) == (1.5, 7)

    def test_padding_fields_do_not_clash(self):
        t = struct("pads", F("a", CHAR), F("_pad_0", DOUBLE), F("b", CHAR))
        cls = to_ctypes(t)
        assert (cls._pad_0.offset, ctypes.sizeof(cls)) == (8, 24)

    def test_union(self):
        cls = to_ctypes(struct("u", F("i", INT), F("d", DOUBLE), kind="union"))
        assert issubclass(cls, ctypes.Union) and ctypes.sizeof(cls) == 8
        value = cls(d=1.0)
        assert value.i == 0  # low half of 1.0's IEEE bits

    def test_anonymous_members_reachable(self):
        inner = StructOrUnion("union", None)
        inner.complete([F("as_int", UINT), F("low", UINT, 4)])
        cls = to_ctypes(struct("tagged", F("tag", CHAR), F(None, inner)))
        obj = cls()
        obj.as_int = 0xAB
        assert obj.low == 0xB
        obj.low = 3
        assert obj.as_int == 0xA3

    def test_self_referential_list_walked_by_c(self, rtlib):
        rt = to_ctypes(_rt_model())
        assert ctypes.sizeof(rt) == rtlib.rt_size()
        nodes = [rt(d=float(i)) for i in range(1, 4)]
        for a, b in zip(nodes, nodes[1:]):
            a.next = ctypes.pointer(b)
        assert rtlib.rt_sum(ctypes.byref(nodes[0])) == 6.0

    def test_opaque_struct_only_behind_pointers(self):
        opaque = StructOrUnion("struct", "sqlite3")
        cls = to_ctypes(opaque)
        ptr = ctypes.cast(ctypes.c_void_p(4096), ctypes.POINTER(cls))
        assert ctypes.addressof(ptr.contents) == 4096
        with pytest.raises(DeclarationError, match="cannot create a 'struct sqlite3': it is "
                           "opaque .*\nhint: receive a 'struct sqlite3 \\*' from C"):
            cls()

    def test_opaque_completed_later(self):
        node = StructOrUnion("struct", "later")
        ptr = to_ctypes(Pointer(node))
        node.complete([F("v", INT), F("next", Pointer(node))])
        cls = to_ctypes(node)
        assert ptr._type_ is cls and ctypes.sizeof(cls) == 16 and cls(v=5).v == 5

    def test_flexible_array_member(self):
        cls = to_ctypes(struct("buf", F("n", Primitive("short")), F("data", Array(DOUBLE, None))))
        assert ctypes.sizeof(cls) == 8 and cls.data.offset == 8
        assert dict(cls._fields_)["data"]._length_ == 0

    def test_incomplete_member(self):
        t = struct("holder", F("db", StructOrUnion("struct", "sqlite3")))
        with pytest.raises(DeclarationError, match="member 'db' of struct holder"):
            to_ctypes(t)
        with pytest.raises(DeclarationError, match="member 'db' of struct holder"):
            to_ctypes(t)  # nothing half-built was cached


class TestBitfields:
    def test_c_writes_python_reads(self, rtlib):
        obj = to_ctypes(_rt_model())()
        rtlib.rt_fill(ctypes.byref(obj))
        assert (obj.tag, obj.v, obj.u, obj.flag, obj.big, obj.d) == (
            b"Q", -11, 100, True, -123456789012, 2.5)

    def test_python_writes_c_reads(self, rtlib):
        obj = to_ctypes(_rt_model())(tag=b"z", d=0.5)
        obj.v, obj.u, obj.flag, obj.big = -16, 127, True, (1 << 39) - 1
        got = [rtlib.rt_get(ctypes.byref(obj), i) for i in range(5)]
        assert got == [ord("z"), -16, 127, 1, (1 << 39) - 1]

    def test_neighbours_untouched(self):
        obj = to_ctypes(_rt_model())()
        obj.u = 127
        obj.v = -1
        obj.v = 0
        assert obj.u == 127 and obj.flag is False

    def test_overflow_is_an_error(self):
        obj = to_ctypes(_rt_model())()
        with pytest.raises(ValueError) as e:
            obj.v = 16
        assert str(e.value) == "16 does not fit bitfield 'v' (int : 5), which holds -16..15"
        with pytest.raises(ValueError, match="-1 does not fit bitfield 'u' \\(unsigned int : 7"):
            obj.u = -1
        assert obj.v == 0 and obj.u == 0

    def test_wrong_type(self):
        with pytest.raises(TypeError, match="bitfield 'v' \\(int : 5\\) needs an int, not str"):
            to_ctypes(_rt_model())().v = "3"

    def test_view_stays_valid_after_gc(self):
        """The bit properties read the instance's own storage, not a cached copy."""
        cls = to_ctypes(_rt_model())
        buf = bytearray(ctypes.sizeof(cls))
        obj = cls.from_buffer(buf)
        obj.u = 77
        del obj
        gc.collect()
        assert cls.from_buffer(buf).u == 77


# --- through the parser (ffikit.cdef) ---------------------------------------------------


class TestMapping:
    @pytest.mark.parametrize("name,ctype", [
        ("int", ctypes.c_int), ("unsigned long", ctypes.c_ulong), ("char", ctypes.c_char),
        ("_Bool", ctypes.c_bool), ("double", ctypes.c_double), ("int8_t", ctypes.c_int8),
        ("size_t", ctypes.c_size_t), ("long double", ctypes.c_longdouble),
    ])
    def test_primitives(self, name, ctype):
        assert to_ctypes(Primitive(name)) is ctype

    def test_windows_long_is_32_bit(self):
        assert ctypes.sizeof(to_ctypes(Primitive("long"), "windows")) == 4

    def test_pointers_and_function_pointers(self):
        defs = ffikit.cdef("typedef int (*cb)(int, const char *);")
        assert defs.ctype("void *") is ctypes.c_void_p
        assert defs.ctype("char *") is ctypes.POINTER(ctypes.c_char)
        proto = defs.cb
        assert proto._restype_ is ctypes.c_int
        assert proto._argtypes_ == (ctypes.c_int, ctypes.POINTER(ctypes.c_char))

    def test_cached(self):
        assert to_ctypes(Pointer(Primitive("int"))) is to_ctypes(Pointer(Primitive("int")))

    def test_struct_class_carries_model_and_layout(self):
        defs = ffikit.cdef("typedef struct { int x, y; } point;")
        cls = defs.point
        assert issubclass(cls, ctypes.Structure) and cls.__name__ == "point"
        assert cls._ffikit_type_ is defs.types["point"].type
        assert cls._ffikit_layout_.size == 8


class TestStructsAgainstC:
    def test_round_trip_through_c(self, cbuild):
        src = """
            #include <stdint.h>
            struct rec { char tag; uint16_t flags : 3; int16_t level : 5; double value;
                         struct rec *next; };
            double fill(struct rec *r) { r->tag = 'Q'; r->flags = 5; r->level = -9;
                                          r->value = 2.5; return r->level * 10.0 + r->flags; }
            long read_back(const struct rec *r) { return r->flags * 1000 + r->level; }
        """
        defs = ffikit.cdef(src.split("double fill")[0].replace("#include <stdint.h>", ""))
        lib = ctypes.CDLL(cbuild(src, name="rec"))
        lib.fill.restype = ctypes.c_double
        rec = defs.ctype("struct rec")()
        assert lib.fill(ctypes.byref(rec)) == -85.0
        assert (rec.tag, rec.flags, rec.level, rec.value) == (b"Q", 5, -9, 2.5)
        rec.flags, rec.level = 2, 15
        assert lib.read_back(ctypes.byref(rec)) == 2015

    def test_bitfield_overflow_is_refused(self):
        s = ffikit.cdef("struct s { unsigned a : 3; int b : 2; };").ctype("struct s")()
        with pytest.raises(ValueError, match=r"8 does not fit bitfield 'a' \(unsigned int : 3\), "
                                             r"which holds 0..7"):
            s.a = 8
        with pytest.raises(ValueError, match="holds -2..1"):
            s.b = 2
        with pytest.raises(TypeError, match="needs an int"):
            s.a = "x"

    def test_packed_struct_by_value_layout(self):
        cls = ffikit.cdef("struct __attribute__((packed)) p { char c; int i; };").ctype("struct p")
        assert ctypes.sizeof(cls) == 5 and cls.i.offset == 1


ALIGNMENT_CASES = """
struct a16 { int a; } __attribute__((aligned(16)));
struct a32 { int a; } __attribute__((aligned(32)));
struct packed_in_aligned { char c; int i __attribute__((packed)); } __attribute__((aligned(8)));
struct bits { int x : 3; int y : 7; };
struct bytes_bits { char c; unsigned long long v : 40; };
struct i128 { char c; __int128 x; };
typedef unsigned long ul4 __attribute__((aligned(4)));
struct lowered { int a; ul4 b; };
#pragma pack(2)
struct pack2 { char c; double d; };
#pragma pack()
union u { char c; struct a16 s; };
"""


@pytest.fixture(scope="module")
def defs():
    return ffikit.cdef(ALIGNMENT_CASES)


class TestAlignment:
    """ctypes.alignment(class) is gcc's alignment, raised or lowered as needed."""

    @pytest.mark.parametrize("name", ["struct a16", "struct a32", "struct packed_in_aligned",
                                      "struct bits", "struct bytes_bits", "struct i128",
                                      "struct lowered", "struct pack2", "union u"])
    def test_class_alignment_is_the_layouts(self, defs, name):
        from ffikit.backends.ctypes.types import expressible_alignment

        cls, lay = defs.ctype(name), defs.layout(name)
        assert ctypes.sizeof(cls) == lay.size
        assert ctypes.alignment(cls) == expressible_alignment(lay.alignment)

    def test_user_structure_embedding_an_ffikit_type(self, defs):
        class Outer(ctypes.Structure):
            _fields_ = [("c", ctypes.c_char), ("s", defs.ctype("struct a16")),
                        ("p", defs.ctype("struct pack2"))]

        assert Outer.s.offset == 16 and Outer.p.offset == 32 and ctypes.sizeof(Outer) == 48

    def test_ffikit_struct_embedding_a32_is_exact_even_where_ctypes_caps(self):
        defs = ffikit.cdef("struct a32 { int a; } __attribute__((aligned(32)));"
                           "struct outer { char c; struct a32 s; };")
        cls = defs.ctype("struct outer")
        assert cls.s.offset == 32 and ctypes.sizeof(cls) == 64

    def test_alignof_and_dtype_agree(self, defs):
        pytest.importorskip("numpy")
        for name in ("struct a16", "struct bits", "struct i128"):
            assert ffikit.dtype(defs.ctype(name)).alignment == defs.layout(name).alignment
        assert defs.layout("struct lowered").alignment == 4
        from ffikit.cdecl.layout import alignof
        assert alignof(defs.typeof("ul4")) == 4

    def test_pointer_cycle_through_a_member_struct(self):
        """A -> B * -> B holds an A by value: once a ZeroDivisionError in the builder."""
        defs = ffikit.cdef("""
            struct B;
            struct A { int tag; struct B *b; };
            struct B { struct A a; struct A *others[2]; struct B *next; };
        """)
        a, b = defs.ctype("struct A"), defs.ctype("struct B")
        assert ctypes.sizeof(a) == 16 and ctypes.sizeof(b) == 40
        x = b()
        x.a.b = ctypes.pointer(x)
        assert x.a.b.contents.a.tag == 0


class TestPositionalInitializers:
    """Hidden padding and bitfield storage never take a positional argument's place."""

    def test_padded_struct(self):
        defs = ffikit.cdef("typedef struct { char c; double x; int n; } PaddedInit;")
        p = defs.PaddedInit(b"a", 2.5, 7)
        assert (p.c, p.x, p.n) == (b"a", 2.5, 7)
        assert (defs.PaddedInit(x=1.5).x, defs.PaddedInit(x=1.5).c) == (1.5, b"\0")

    def test_bitfields_and_arrays(self):
        defs = ffikit.cdef("typedef struct { int a : 3; int b : 5; char s[3]; } BitsInit;")
        b = defs.BitsInit(3, 7, b"hi")
        assert (b.a, b.b, b.s) == (3, 7, b"hi")

    def test_too_many_and_twice(self):
        defs = ffikit.cdef("typedef struct { char c; double x; } PairInit;")
        with pytest.raises(TypeError, match=r"at most 2 positional initializers \(c, x\), got 3"):
            defs.PairInit(b"a", 1.0, 2)
        with pytest.raises(TypeError, match="member 'c' given twice"):
            defs.PairInit(b"a", c=b"b")

    def test_subclass_and_union(self):
        defs = ffikit.cdef("typedef struct { char c; double x; } SubInit;"
                           "typedef union { char c; struct { char k; int v; } s; } UInit;")

        class Mine(defs.SubInit):
            pass

        assert Mine(b"z", 4.0).x == 4.0
        assert defs.UInit(b"q").c == b"q"
