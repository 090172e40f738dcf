"""Function attributes and parameter array bounds recorded as FunctionFacts."""

from __future__ import annotations

import ffikit
from ffikit.cdecl.attributes import Access, FunctionFacts, function_facts, parse_items, record


def facts(text: str, name: str) -> FunctionFacts:
    return ffikit.cdef(text).functions[name].type.facts


def test_parse_items():
    group = "__attribute__ ((__nothrow__ , __leaf__)) "
    assert parse_items(group) == [("nothrow", ()), ("leaf", ())]
    assert parse_items("__attribute__((__access__ (__write_only__, 2, 3), nonnull(1)))") == [
        ("access", ("__write_only__", "2", "3")), ("nonnull", ("1",))]
    assert [c.name for c in record("__attribute__((packed, malloc(fclose, 1), format(printf,1,2)))",
                                   7)] == ["malloc", "format"]


def test_array_bounds():
    f = facts("void f(int n, char a[16], char b[static 4], double c[n], int d[n * 2]);", "f")
    assert f.access == (
        Access(1, "bound", None, 16, "the array bound [16]"),
        Access(2, "bound", None, 4, "the array bound [static 4]"),
        Access(3, "bound", 0, None, "the array bound [n]"),
    )  # 'd[n * 2]' parses but gives no rule


def test_parameter_bound_parses_and_decays():
    defs = ffikit.cdef("typedef struct { int so, eo; } m_t;\n"
                       "int run(unsigned long n, m_t pm[n], int flags);")
    fn = defs.functions["run"]
    assert fn.type.params[1].c_name() == "m_t *"
    assert fn.type.facts.access[0].size_param == 0


def test_access_nonnull_format_malloc():
    text = """
        #include <stddef.h>
        typedef struct file FILE;
        int close_it(FILE *f);
        ssize_t rd(int fd, void *buf, size_t n) __attribute__ ((__access__ (__write_only__, 2, 3)));
        __attribute__((access(read_only, 1))) int peek(const int *p);
        int both(char *a, int k, char *b) __attribute__((nonnull));
        int some(char *a, char *b) __attribute__((nonnull(2)));
        int pf(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
        FILE *open_it(const char *p) __attribute__((malloc)) __attribute__((malloc(close_it, 1)));
    """
    defs = ffikit.cdef(text)
    get = {name: defs.functions[name].type.facts for name in defs.functions}
    assert get["rd"].access == (Access(1, "write_only", 2, None,
                                       "the access attribute (write_only, 2, 3)"),)
    assert get["peek"].access[0].count == 1 and not get["peek"].access[0].sized
    assert get["both"].nonnull == (0, 2)  # no arguments: every pointer parameter
    assert get["some"].nonnull == (1,)
    assert get["pf"].format == ("printf", 1, 2)
    assert get["open_it"].deallocators == (("close_it", 0),)
    assert not get["close_it"]


def test_attributes_stay_with_their_declaration():
    defs = ffikit.cdef("int a(char *p) __attribute__((nonnull)); int b(char *p);\n"
                       "__attribute__((nonnull)) int c(char *p);")
    assert defs.functions["a"].type.facts.nonnull == (0,)
    assert not defs.functions["b"].type.facts
    assert defs.functions["c"].type.facts.nonnull == (0,)


def test_redeclarations_merge():
    defs = ffikit.cdef("int f(char *a, char *b) __attribute__((nonnull(1)));\n"
                       "int f(char *a, char *b) __attribute__((nonnull(2)));")
    assert defs.functions["f"].type.facts.nonnull == (0, 1)


def test_facts_do_not_change_type_identity():
    one = ffikit.cdef("int f(char *a) __attribute__((nonnull));").functions["f"].type
    two = ffikit.cdef("int f(char *a);").functions["f"].type
    assert one == two and hash(one) == hash(two) and one.facts != two.facts


def test_out_of_range_indices_are_ignored():
    f = function_facts([], (), (0,), 1)
    assert not f
    defs = ffikit.cdef("int f(char *a) __attribute__((nonnull(3), access(read_only, 4, 1)));")
    assert not defs.functions["f"].type.facts


def test_attributes_spelled_through_a_library_macro():
    defs = ffikit.cdef("""
        #define MYLIB_WRITES(buf, size) __attribute__((__access__(__write_only__, buf, size)))
        #define MYLIB_NONNULL(...) __attribute__((__nonnull__(__VA_ARGS__)))
        #define MYLIB_API extern
        MYLIB_API int mylib_fill(char *out, unsigned long n) MYLIB_WRITES(1, 2) MYLIB_NONNULL(1);
    """)
    f = defs.functions["mylib_fill"].type.facts
    assert f.access[0].mode == "write_only" and f.access[0].size_param == 1
    assert f.nonnull == (0,)


def test_glibc_headers():
    stdio = ffikit.include("stdio.h")
    assert stdio.functions["fopen"].type.facts.deallocators == (("fclose", 0),)
    assert stdio.functions["snprintf"].type.facts.format == ("printf", 2, 3)
    assert stdio.functions["fgets"].type.facts.access[0].mode == "write_only"
    regex = ffikit.include("regex.h")
    assert regex.functions["regexec"].type.facts.access[0].source == "the array bound [__nmatch]"


def test_variable_length_rows():
    defs = ffikit.cdef("void f(int n, double m[n][n]); void g(int n, double m[n][4]);")
    f, g = defs.functions["f"].type, defs.functions["g"].type
    assert f.params[1].c_name() == "double *" and not f.facts
    assert g.params[1].c_name() == "double (*)[4]" and g.facts.access[0].size_param == 0
