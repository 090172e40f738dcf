"""The Declarations object, cdef/include entry points, and the never-crash property."""

import ctypes
import random
import struct
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ffikit
from ffikit.backends.ctypes.declarations import ctype_of, typeof
from ffikit.cdecl.model import Array, Primitive

TUTORIAL = """
    typedef struct { int id; char name[50]; double score; int is_active; } Student;
    double get_average_score(const Student *s, int n);
    typedef int (*CompareFunc)(int, int);
    int find_max(int *arr, int n, CompareFunc cmp);
    enum color { RED, GREEN = 5, BLUE };
    #define MAX_STUDENTS 128
    #define NAME "ffikit"
    #define RATIO (1.0 / 4)
    #define NOT_A_CONSTANT(x) ((x) + 1)
"""


class TestDeclarations:
    def test_design_example(self):
        defs = ffikit.cdef(TUTORIAL)
        assert issubclass(defs.Student, ctypes.Structure) and ctypes.sizeof(defs.Student) == 72
        assert defs.types["Student"].c_name() == "Student"
        assert str(defs.functions["find_max"]) == "int find_max(int *arr, int n, CompareFunc cmp);"
        assert defs.constants["MAX_STUDENTS"] == 128 and defs.MAX_STUDENTS == 128
        assert defs.NAME == "ffikit" and defs.RATIO == 0.25
        assert "NOT_A_CONSTANT" not in defs.constants
        assert defs.enums["color"].GREEN == 5 and defs.GREEN == 5

    def test_enums_by_tag_and_by_typedef_name(self):
        defs = ffikit.cdef("typedef enum mode_e { FAST = 1, SAFE } mode_t2; typedef mode_t2 again;"
                           "typedef enum { ON } switch_t; enum bare { X }; typedef int not_enum;")
        assert defs.enums["mode_e"] is defs.enums["mode_t2"] is defs.enums["again"]
        assert defs.enums["mode_t2"].SAFE == 2 and defs.enums["switch_t"].ON == 0
        assert "bare" in defs.enums and "not_enum" not in defs.enums

    def test_typeof_and_ctype(self):
        defs = ffikit.cdef(TUTORIAL)
        assert defs.typeof("Student[]") == Array(defs.types["Student"], None)
        assert defs.typeof("int32_t[2][3]") == Array(Array(Primitive("int32_t"), 3), 2)
        assert defs.ctype("Student[3]") == defs.Student * 3
        assert defs.typeof("int (*)(int, int)").c_name() == "int (*)(int, int)"
        assert defs.ctype(ctypes.c_int) is ctypes.c_int
        assert defs.ctype("int[MAX_STUDENTS]")._length_ == 128
        assert typeof("uint8_t[]").c_name() == "uint8_t[]"
        assert ctype_of("double") is ctypes.c_double

    def test_unknown_attribute_suggests(self):
        defs = ffikit.cdef(TUTORIAL)
        with pytest.raises(AttributeError, match="did you mean 'Student'"):
            _ = defs.Studnet
        with pytest.raises(AttributeError, match="it is a function"):
            _ = defs.find_max

    def test_bad_type_names(self):
        defs = ffikit.cdef(TUTORIAL)
        with pytest.raises(ffikit.DeclarationError, match="unknown type name 'Teacher'"):
            defs.typeof("Teacher *")
        with pytest.raises(ffikit.DeclarationError, match="not a type name"):
            defs.typeof("int x; int y")

    def test_repr(self):
        assert repr(ffikit.cdef("int f(void); #define N 1".replace("; ", ";\n"))) == (
            "<Declarations: 1 functions, 0 types, 1 constants, 0 variables>")

    def test_memoised(self):
        assert ffikit.cdef("int memo_me(int);") is ffikit.cdef("int memo_me(int);")

    def test_non_text(self):
        with pytest.raises(TypeError, match="takes C text as str"):
            ffikit.cdef(b"int x;")


VALID = [
    "struct s { int a; char b[4]; double c; };",
    "typedef int (*cb)(void *, int); int run(cb f, void *ctx);",
    "enum e { A = 1, B = A << 2 }; union u { int i; float f; };",
    "#define N 4\nstruct t { unsigned x : 3; int y[N]; };",
]


def _mutate(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        pos = rng.randrange(len(chars) + 1)
        if op < 0.4 and chars:
            del chars[min(pos, len(chars) - 1)]
        elif op < 0.8:
            chars.insert(pos, rng.choice("{}();,*[]:#=<>-+~!&|^\"'\\ \nabcxyz0129_"))
        else:
            chars[pos:pos] = rng.choice(["struct", "typedef", "enum", "...", "#define X(", "[-1]",
                                         "__attribute__((", "sizeof(", "#include <no_x.h>"])
    return "".join(chars)


class TestNeverCrashes:
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.text(max_size=80))
    def test_garbage_gives_only_declaration_errors(self, text):
        try:
            ffikit.cdef(text)
        except ffikit.DeclarationError:
            pass

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.integers(0, 10**6), st.sampled_from(VALID))
    def test_mutated_c_gives_only_declaration_errors(self, seed, base):
        text = _mutate(base, random.Random(seed))
        try:
            defs = ffikit.cdef(text)
            for name in list(defs.types):
                try:
                    defs.ctype(name)
                except ffikit.DeclarationError:
                    pass
        except ffikit.DeclarationError:
            pass


class TestOneHierarchy:
    """What escaped cdef as a builtin (issue 15 item 6) is a DeclarationError, with the place."""

    def test_bare_alignas(self):
        with pytest.raises(ffikit.DeclarationError) as e:
            ffikit.cdef("struct s { int a; };\n_Alignas int x;")
        assert (e.value.line, e.value.column) == (2, 1)
        assert "'_Alignas' must be followed by '(alignment)'" in str(e.value)

    @pytest.mark.parametrize("text", [
        "int " + "*" * 5000 + "x;",
        "typedef int x" + "[1]" * 5000 + ";",
        "int " + "(*" * 5000 + "x" + ")" * 5000 + ";",
    ])
    def test_deep_declarators(self, text):
        with pytest.raises(ffikit.DeclarationError, match="nest too deeply|recursion depth"):
            ffikit.cdef(text)

    def test_deep_type_text(self):
        with pytest.raises(ffikit.DeclarationError):
            ffikit.cdef("int y;").typeof("int " + "*" * 5000)

    def test_sizes_beyond_the_address_space(self):
        defs = ffikit.cdef("typedef int x[1ULL<<62][4];")
        with pytest.raises(ffikit.DeclarationError, match="more than a 64-bit address space"):
            defs.sizeof("x")
        with pytest.raises(ffikit.DeclarationError, match="address space"):
            defs.ctype("x")
        with pytest.raises(ffikit.DeclarationError, match="address space"):
            ffikit.cdef("int y;").sizeof("int[1ULL<<62][4]")

    def test_huge_struct(self):
        defs = ffikit.cdef("struct big { char a[1ULL<<62]; char b[1ULL<<62]; char c[1ULL<<62]; };")
        for action in (lambda: defs.sizeof("struct big"), lambda: defs.layout("struct big"),
                       lambda: defs.ctype("struct big")):
            with pytest.raises(ffikit.DeclarationError, match="'struct big' would be"):
                action()

    def test_big_but_possible_struct_is_fast(self):
        defs = ffikit.cdef("struct s { char a[1ULL<<40]; int b; char c; };")
        assert defs.sizeof("struct s") == (1 << 40) + 8
        assert defs.layout("struct s").holes == ((2**40 + 5, 3),)


class TestDeclares:
    def test_own_names_versus_included_ones(self):
        defs = ffikit.cdef("#include <stdio.h>\ntypedef struct { FILE *f; } Logger;\n"
                           "int log_line(Logger *l, const char *s);")
        assert defs.declares("Logger") and defs.declares("log_line")
        assert not defs.declares("FILE") and not defs.declares("printf")
        assert not defs.declares("no_such_name")


class TestPickling:
    def test_pickle_as_source_and_rebuild_memoised(self, tmp_path):
        import pickle

        from pickle_helpers import in_fresh_interpreter

        defs = ffikit.cdef("typedef struct { int x; double y; } P;\n#define N 7\nint f(int);")
        data = pickle.dumps(defs)
        assert b"typedef struct" in data and len(data) < 400  # the text, not the model
        assert pickle.loads(data) is defs
        out = in_fresh_interpreter(defs, "print(obj.sizeof('P'), obj.N, list(obj.functions))",
                                   tmp_path)
        assert out == "16 7 ['f']"

    def test_headers_pickle_by_name_and_options(self):
        import pickle

        z = ffikit.include("zlib.h", defines={"ZLIB_CONST": 1})
        data = pickle.dumps(z)
        assert b"zlib.h" in data and len(data) < 400
        assert pickle.loads(data) is z

    def test_windows_platform_is_part_of_the_recipe(self):
        import pickle

        win = ffikit.cdef("typedef struct { long a; } W;", platform="windows")
        assert pickle.loads(pickle.dumps(win)).sizeof("W") == 4


class TestOwnTextWins:
    """A declaration in cdef text wins over a header's; #line sets positions, not what is kept."""

    def test_redeclared_libc_function_is_the_users(self):
        defs = ffikit.cdef("#include <stdio.h>\nFILE *fopen(const char *path, const char *mode);")
        assert str(defs.functions["fopen"]) == "FILE *fopen(const char *path, const char *mode);"
        assert defs.where("fopen") == ("<cdef>", 2) and defs.declares("fopen")
        assert "fclose" in defs.functions and not defs.declares("fclose")
        # the header's own promises still hold for the user's declaration (gcc merges them)
        header = ffikit.cdef("#include <stdio.h>\n").functions["fopen"].type.facts
        assert defs.functions["fopen"].type.facts == header

    def test_conflicting_redeclaration_names_both_lines(self):
        with pytest.raises(ffikit.DeclarationError) as info:
            ffikit.cdef("#include <stdio.h>\nint fopen(const char *, const char *);")
        text = str(info.value)
        assert text.startswith("<cdef>:2:") and "conflicting types for 'fopen'" in text
        assert "/stdio.h:" in text

    def test_redeclared_variable_is_the_users(self):
        defs = ffikit.cdef("#include <stdio.h>\nextern FILE *stdin;\n")
        assert defs.where("stdin") == ("<cdef>", 2) and defs.declares("stdin")

    def test_line_directive_renames_but_keeps(self):
        defs = ffikit.cdef('#line 1 "x.h"\nint f(int);\n#include <stddef.h>\nint g(void);')
        assert set(defs.functions) == {"f", "g"}
        assert defs.declares("f") and defs.declares("g")
        assert defs.where("f") == ("x.h", 1) and defs.where("g") == ("x.h", 3)

    def test_line_directive_positions_errors(self):
        with pytest.raises(ffikit.DeclarationError) as info:
            ffikit.cdef('int ok(void);\n#line 40 "api.h"\nint f(int) oops;')
        assert info.value.filename == "api.h" and info.value.line == 40

    def test_preprocessed_translation_unit(self, tmp_path):
        import subprocess

        from ffikit.cdecl.preprocess import compiler

        (tmp_path / "pool.h").write_text(
            "#include <stddef.h>\ntypedef unsigned long ulong;\nvoid pool_init();\n"
            "void *pool_alloc(ulong nbytes);\nvoid pool_free(void *ap);\nvoid pool_stats();\n")
        (tmp_path / "pool.c").write_text(
            '#include <stdio.h>\n#include "pool.h"\nstatic char arena[64];\n'
            "void pool_init() { }\nvoid *pool_alloc(ulong nbytes) { return nbytes ? arena : 0; }\n"
            "void pool_free(void *ap) { (void)ap; }\n"
            'void pool_stats() { printf("%d\\n", 1); }\n')
        text = subprocess.run([*compiler(), "-E", str(tmp_path / "pool.c")], capture_output=True,
                              text=True, check=True).stdout
        defs = ffikit.cdef(text)
        for name in ("pool_init", "pool_alloc", "pool_free", "pool_stats"):
            assert name in defs.functions and defs.declares(name), name
        assert defs.where("pool_alloc")[0].endswith("pool.h")
        assert "printf" in defs.functions and not defs.declares("printf")


def test_enumerators_pythons_enum_refuses_stay_constants():
    defs = ffikit.cdef("enum E { _ignore_ = 3, mro, OK };")  # TypeError/ValueError from enum.py
    assert [m.name for m in defs.enums["E"]] == ["OK"]
    assert (defs.constants["_ignore_"], defs.constants["mro"], defs.OK) == (3, 4, 5)


class TestSeveralHeaders:
    def test_list_is_one_translation_unit_and_pickles(self):
        import errno
        import pickle

        defs = ffikit.include(["errno.h", "fcntl.h"])
        assert defs.ENOENT == errno.ENOENT and "open" in defs.functions
        assert defs.declares("open") and defs.where("O_RDONLY")[0].endswith("fcntl-linux.h")
        assert pickle.loads(pickle.dumps(defs)) is defs
        assert ffikit.include(("errno.h", "fcntl.h")) is defs  # any sequence, same memo

    @pytest.mark.parametrize("bad", [[], [""], ["errno.h", 3]])
    def test_bad_header_lists_are_refused(self, bad):
        with pytest.raises(TypeError, match="non-empty list"):
            ffikit.include(bad)

    def test_missing_header_in_a_list_is_named(self):
        with pytest.raises(ffikit.DeclarationError, match="no_such_ffikit.h"):
            ffikit.include(["errno.h", "no_such_ffikit.h"])
class TestConstants:
    """#define, static const and enum values as C gives them; nothing silently missing."""

    TEXT = """
        #include <stdint.h>
        #include <stddef.h>
        #define PCRE2_SIZE size_t
        #define PCRE2_ZERO_TERMINATED (~(PCRE2_SIZE)0)
        #define ALL_BITS ~0U
        #define HALF (-1U >> 1)
        #define WRAPS (0xFFFFFFFFU + 1)
        #define MIN64 INT64_MIN
        #define ONE64 UINT64_C(1)
        #define NOTHING NULL
        #define HEXF 0x1.8p1
        #define TENTH 0.1f
        #define SIZE_OF sizeof(struct pair)
        #define CALLS f(1)
        #define TWICE(x) ((x) * 2)
        static const int OCTAL = 042;
        static const char NAME[] = "pcre";
        static int counter = 3;
        struct pair { int a; double b; };
        typedef enum yaml_event_type_e { YAML_NO_EVENT, YAML_STREAM_START_EVENT } yaml_event_type_t;
    """

    def test_values_are_c_values(self):
        c = ffikit.cdef(textwrap.dedent(self.TEXT)).constants
        assert (c["ALL_BITS"], c["HALF"], c["WRAPS"]) == (4294967295, 2147483647, 0)
        assert (c["MIN64"], c["ONE64"], c["OCTAL"], c["NAME"]) == (-2 ** 63, 1, 34, "pcre")
        assert c["PCRE2_ZERO_TERMINATED"] == 2 ** 64 - 1 and c["SIZE_OF"] == 16
        assert c["NOTHING"] is None and c["HEXF"] == 3.0
        assert c["TENTH"] == struct.unpack("f", struct.pack("f", 0.1))[0]

    def test_what_is_not_a_constant_says_why(self):
        d = ffikit.cdef(textwrap.dedent(self.TEXT))
        assert d.skipped_macros["CALLS"] == "call to 'f' is not a constant"
        assert d.skipped_macros["TWICE"] == "function-like macro (takes arguments)"
        assert d.skipped_macros["counter"] == "a static variable that is not const"
        assert "PCRE2_SIZE" not in d.skipped_macros and "PCRE2_SIZE" not in d.constants

    def test_a_macro_naming_a_type_is_a_type_name(self):
        d = ffikit.cdef(textwrap.dedent(self.TEXT))
        assert d.type_macros["PCRE2_SIZE"].c_name() == "size_t"
        assert d.sizeof("PCRE2_SIZE") == 8 and d.sizeof("PCRE2_SIZE[3]") == 24
        assert d.typeof("PCRE2_SIZE *").c_name() == "size_t *"
        slot = ffikit.new("PCRE2_SIZE", 7, defs=d)
        assert slot.value == 7 and ctypes.sizeof(slot) == 8
        buf = bytearray(16)
        assert len(ffikit.view(buf, "PCRE2_SIZE[]", defs=d)) == 2

    def test_enums_by_tag_and_typedef_name(self):
        d = ffikit.cdef(textwrap.dedent(self.TEXT))
        assert d.enums["yaml_event_type_t"] is d.enums["yaml_event_type_e"]
        assert d.enums["yaml_event_type_t"].YAML_STREAM_START_EVENT == 1

    def test_enum_values_overflowing_int_are_an_error_quickly(self):
        text = "enum { B0 = 2, " + ", ".join(f"B{i + 1} = (B{i}*B{i})" for i in range(40)) + "};"
        with pytest.raises(ffikit.DeclarationError,
                           match="value of enumerator 'B5'.*signed overflow"):
            ffikit.cdef(text)


class TestTypeNames:
    def test_abstract_array_declarators(self):
        d = ffikit.cdef("")
        assert d.sizeof("int (*[3])(int)") == 24
        assert d.sizeof("char (*)[7]") == 8 and d.sizeof("int[2][3]") == 24


def test_float_h_limits_are_the_platform_values():
    """``long double`` limits beyond a double's range come back as the nearest float."""
    import sys

    c = ffikit.include("float.h").constants
    assert (c["DBL_MAX"], c["DBL_MIN"], c["DBL_EPSILON"]) == (
        sys.float_info.max, sys.float_info.min, sys.float_info.epsilon)
    assert c["FLT_MAX"] == struct.unpack("f", struct.pack("f", 3.4028234663852886e38))[0]
    assert c["LDBL_MAX"] == float("inf") and c["LDBL_EPSILON"] == 2.0 ** -63
