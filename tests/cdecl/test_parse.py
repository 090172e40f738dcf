"""The parser: every C feature ffikit supports, and errors with file:line:col, caret, hint."""

import ctypes
import gc

import pytest

import ffikit
from ffikit.cdecl.model import Array, Enum, FunctionType, Pointer, Primitive, StructOrUnion, Typedef


class TestFeatures:
    def test_scalars_and_stdint(self):
        defs = ffikit.cdef("""
            typedef unsigned long long int ull; typedef long double ld; typedef signed sg;
            typedef short int si; typedef unsigned u; typedef _Bool b; typedef bool b2;
            typedef int8_t i8; typedef uint64_t u64; typedef size_t sz; typedef wchar_t wc;
        """)
        assert [defs.types[n].type for n in ("ull", "ld", "sg", "si", "u", "b", "b2")] == [
            Primitive("unsigned long long"), Primitive("long double"), Primitive("int"),
            Primitive("short"), Primitive("unsigned int"), Primitive("_Bool"), Primitive("_Bool")]
        assert ctypes.sizeof(defs.u64) == 8 and ctypes.sizeof(defs.i8) == 1

    def test_pointers_keep_pointee_const(self):
        fn = ffikit.cdef("void f(const char *s, char *const *v, const double a[], int m[][4]);"
                         ).functions["f"].type
        assert fn.params[0] == Pointer(Primitive("char"), const=True)
        assert fn.params[1] == Pointer(Pointer(Primitive("char")), const=True)
        assert fn.params[2] == Pointer(Primitive("double"), const=True)  # array decays
        assert fn.params[3] == Pointer(Array(Primitive("int"), 4))
        assert fn.param_names == ("s", "v", "a", "m")

    def test_prototypes_variadic_void_and_function_pointers(self):
        defs = ffikit.cdef("""
            int printf(const char *fmt, ...); int rand(void);
            typedef int (*CompareFunc)(int, int);
            void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
        """)
        assert defs.functions["printf"].type.variadic
        assert defs.functions["rand"].type.params == ()
        assert isinstance(defs.types["CompareFunc"].type.target, FunctionType)
        assert str(defs.functions["qsort"]) == (
            "void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));")

    def test_structs_unions_nested_anonymous_selfref_opaque(self):
        defs = ffikit.cdef("""
            struct node { int value; struct node *next; };
            typedef struct sqlite3 sqlite3;
            struct outer { union { int i; float f; }; struct { char tag; } inner; int grid[2][3]; };
            struct msg { int len; char data[]; };
        """)
        node = defs.types["struct node"]
        assert node.fields[1].type == Pointer(node)
        assert not defs.types["struct sqlite3"].is_complete
        assert ctypes.sizeof(defs.ctype("struct outer")) == 4 + 1 + 3 + 24
        o = defs.ctype("struct outer")()
        o.i = 0x3F800000
        assert o.f == 1.0  # anonymous union members are reachable from the outer struct
        assert defs.layout("struct msg").size == 4
        assert defs.types["struct outer"].fields[2].type == Array(Array(Primitive("int"), 3), 2)

    def test_enums_are_intenums_and_constants(self):
        defs = ffikit.cdef("enum color { RED, GREEN = 5, BLUE, NEG = -2, BIG = 1 << 4 };")
        color = defs.enums["color"]
        assert (color.RED, color.GREEN, color.BLUE, color.NEG, color.BIG) == (0, 5, 6, -2, 16)
        assert defs.BLUE is color.BLUE and defs.constants["BLUE"] == 6
        assert isinstance(defs.types["enum color"], Enum)
        assert ctypes.sizeof(defs.ctype("enum color")) == 4

    def test_array_lengths_from_constant_expressions(self):
        defs = ffikit.cdef("enum { N = 4 }; struct s { int a[N * 2]; char b[sizeof(int) + 1]; };")
        assert [f.type.length for f in defs.types["struct s"].fields] == [8, 5]

    def test_extern_globals_and_static_inline_skipped(self):
        defs = ffikit.cdef("extern const int version; extern double rate;\n"
                           "static inline int helper(int x) { return x; }\nint real(int);")
        assert defs.variables["version"].const and not defs.variables["rate"].const
        assert "helper" not in defs.functions and "real" in defs.functions

    def test_typedef_keeps_its_name(self):
        t = ffikit.cdef("typedef unsigned long uLong; void f(uLong *n);").functions["f"].type
        assert t.params[0] == Pointer(Typedef("uLong", Primitive("unsigned long")))
        assert t.params[0].c_name() == "uLong *"

    def test_compatible_redeclarations_are_fine(self):
        defs = ffikit.cdef("int f(int); int f(int x); typedef int T; typedef int T;")
        assert defs.functions["f"].type.param_names == ("x",)

    def test_packed_aligned_and_pragma_pack(self):
        defs = ffikit.cdef("""
            struct __attribute__((packed)) p { char c; int i; };
            #pragma pack(push, 2)
            struct q { char c; double d; };
            #pragma pack(pop)
            struct r { char c; } __attribute__((aligned(16)));
            struct a { char c; int i __attribute__((aligned(8))); };
        """)
        assert defs.layout("struct p").size == 5
        assert defs.layout("struct q").field("d").offset == 2
        assert defs.layout("struct r").alignment == 16 and defs.layout("struct r").size == 16
        assert defs.layout("struct a").field("i").offset == 8

    def test_struct_attributes_far_from_the_last_union_and_past_nested_braces(self):
        # (gcc: in at 1, i at 5, alignment 16, size 16; plain: 4 and 8) The attributes of a
        # struct are looked for from its keyword (the last union here is 1 KB back) to its
        # brace, and right after its closing brace -- not past a declarator.
        filler = "".join(f"int filler_{i}(int a, int b);\n" for i in range(40))
        defs = ffikit.cdef("union early { int x; };\ntypedef int wide __attribute__((aligned(32)));\n"
                           + filler +
                           "struct __attribute__((packed)) far { char c; struct { int a; } in; "
                           "int i; }\n  __attribute__((aligned(16)));\n"
                           "struct plain { char c; int i; } v; int after __attribute__((aligned(8)));\n")
        far = defs.layout("struct far")
        assert (far.field("in").offset, far.field("i").offset, far.alignment, far.size) == \
            (1, 5, 16, 16)
        assert (defs.layout("struct plain").alignment, defs.layout("struct plain").size) == (4, 8)

    def test_packed_argument_packs_every_struct(self):
        defs = ffikit.cdef("struct p { char c; int i; };", packed=True)
        assert defs.layout("struct p").size == 5

    def test_bitfields(self):
        defs = ffikit.cdef("struct f { unsigned a : 3; int b : 5; unsigned : 0; _Bool c : 1; };")
        s = defs.ctype("struct f")()
        s.a, s.b, s.c = 7, -16, True
        assert (s.a, s.b, s.c) == (7, -16, True)
        assert bytes(s)[:1] == bytes([0b10000111]) and ctypes.sizeof(s) == 8


class TestErrors:
    def test_unknown_type_name(self):
        with pytest.raises(ffikit.DeclarationError) as info:
            ffikit.cdef("int ok;\nu8 value;\n")
        err = info.value
        assert (err.line, err.column) == (2, 1)
        assert str(err) == ("<cdef>:2:1: unknown type name 'u8'\n    u8 value;\n    ^\n"
                            "hint: declare it with typedef, or include the header that does")

    def test_unknown_type_in_a_struct_member(self):
        with pytest.raises(ffikit.DeclarationError, match="unknown type name 'bytes_t'") as info:
            ffikit.cdef("struct s {\n    bytes_t data;\n};")
        assert info.value.line == 2

    def test_syntax_error_has_caret(self):
        with pytest.raises(ffikit.DeclarationError) as info:
            ffikit.cdef("int f(int x;\n")
        assert "syntax error" in str(info.value) and info.value.line == 1
        assert "^" in str(info.value)

    def test_cplusplus_is_named(self):
        with pytest.raises(ffikit.DeclarationError, match="C\\+\\+"):
            ffikit.cdef("class Foo { public: int x; };")

    @pytest.mark.parametrize("text,message", [
        ("struct s { int a; int a; };", "duplicate member 'a'"),
        ("struct s { int a : 40; };", "bitfield 'a' has width 40"),
        ("struct s { double d : 3; };", "must have an integer type"),
        ("struct o; struct s { struct o inner; };", "incomplete type 'struct o'"),
        ("struct s { char d[]; int after; };", "flexible array member 'd' must be last"),
        ("typedef int T; typedef char T;", "conflicting typedef 'T'"),
        ("struct s { int a; }; struct s { int b; };", "redefinition of 'struct s'"),
        ("int a[-1];", "negative"),
        ("_Complex int z;", "complex type '_Complex int' is not supported"),
    ])
    def test_semantic_errors(self, text, message):
        with pytest.raises(ffikit.DeclarationError, match=message):
            ffikit.cdef(text)

    def test_incomplete_struct_has_no_layout(self):
        defs = ffikit.cdef("struct opaque;")
        with pytest.raises(ffikit.DeclarationError, match="incomplete"):
            defs.layout("struct opaque")
        assert defs.ctype("struct opaque *")  # usable behind a pointer
        assert isinstance(defs.types["struct opaque"], StructOrUnion)


class TestRealHeaderConstructs:
    """What real headers contain and gcc accepts."""

    def test_array_typedef_parameters_decay(self):
        fn = ffikit.cdef("typedef unsigned char uuid_t[16];\n"
                         "void gen(uuid_t out); int cmp(const uuid_t a, const uuid_t b);")
        assert fn.functions["gen"].type.params == (Pointer(Primitive("unsigned char")),)
        assert fn.functions["cmp"].type.params[0] == Pointer(Primitive("unsigned char"),
                                                             const=True)

    def test_void_typedef_as_empty_parameter_list(self):
        defs = ffikit.cdef("typedef void void_t; int f(void_t); int (*g)(void_t);")
        assert defs.functions["f"].type.params == ()

    def test_static_inline_bodies_are_skipped_whatever_they_hold(self):
        defs = ffikit.cdef("""
            static inline int rot(int x) { __asm__ volatile("rolq $3, %%rdi" : : : "memory");
                                           return ({ int y = x; y; }); }
            static __inline__ unsigned char inb(unsigned short port) {
                unsigned char v; __asm__ __volatile__ ("inb %w1,%0":"=a" (v):"Nd" (port));
                return v; }
            static inline void s(void) __attribute__((always_inline)) { struct { int a; } q; }
            int after(void);
        """)
        assert list(defs.functions) == ["after"]

    def test_conflicting_redeclaration_names_both_lines(self):
        with pytest.raises(ffikit.DeclarationError) as err:
            ffikit.cdef("int foo(void);\nlong foo(void);")
        assert err.value.line == 2 and "<cdef>:1" in str(err.value)
        assert "int foo(void)" in str(err.value) and "long foo(void)" in str(err.value)

    def test_compatible_redeclarations_are_fine(self):
        defs = ffikit.cdef("int foo(int);\nint foo(int x);\nint foo();\n"
                           "typedef int myint; myint foo(myint y);\n"
                           "int kr();\nint kr(int a, double b);\n"
                           "enum e { A }; enum e en(void);\nunsigned en(void);")
        assert defs.functions["foo"].type.param_names == ("x",)
        assert defs.functions["kr"].type.param_names == ("a", "b")

    def test_line_markers_set_error_positions(self):
        with pytest.raises(ffikit.DeclarationError) as err:
            ffikit.cdef('# 42 "foobar"\nint x;\nint y(;')
        assert (err.value.filename, err.value.line) == ("foobar", 43)

    def test_alignas_anywhere_in_the_text(self):
        defs = ffikit.cdef("#define A _Alignas\n/* _Alignas */ struct s { _Alignas(8) char c; };")
        assert defs.layout("struct s").alignment == 8

    def test_self_referencing_structs_through_pointers(self):
        defs = ffikit.cdef("""
            struct ev;
            typedef struct q { int origin; unsigned short v; struct ev *event; }
                __attribute__((packed)) q_t;
            struct ev { int type; union { q_t quote; int x; } data; struct ev *next; };
        """)
        q, ev = defs.ctype("q_t"), defs.ctype("struct ev")  # q first: it needs ev, which holds q
        assert ctypes.sizeof(q) == 14 and ctypes.alignment(q) == 1
        assert ctypes.sizeof(ev) == 32 and ctypes.alignment(ev) == 8
        e = ev()
        e.data.quote.event = ctypes.pointer(e)
        assert e.data.quote.event.contents.type == 0

    def test_alignof_in_constant_expressions(self):
        defs = ffikit.cdef("struct s { char pad[(__alignof__(void *) < sizeof(short) ? "
                           "sizeof(short) : __alignof__(void *))]; long double x[_Alignof(int)]; };")
        assert defs.layout("struct s").field("x").offset == 16

    def test_invalid_expression_has_a_position(self):
        with pytest.raises(ffikit.DeclarationError) as err:
            ffikit.cdef("int ok;\nint a[(3 +)];")
        assert (err.value.line, err.value.column) == (2, 11)


def test_parsing_leaves_no_cyclic_garbage(tmp_path):
    """The tokens, the parser and the preprocessed text are freed when the parse ends, not
    kept by reference cycles until a full collection."""
    header = tmp_path / "cycles_ffikit.h"
    header.write_text("".join(f"int f{i}(int a, double b);\n" for i in range(300)) +
                      "struct s { int a[4]; };\nenum e { A = 1, B = A + 1 };\n"
                      "static const int K[2] = {1, 2};\n")
    gc.collect()
    gc.disable()
    try:
        defs = ffikit.include(str(header))
        assert len(defs.functions) >= 300 and defs.sizeof("struct s") == 16
        assert gc.collect() < 200
    finally:
        gc.enable()
