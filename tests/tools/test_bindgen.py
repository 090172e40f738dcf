"""``ffikit bind``'s generator: C text re-spelled from the model parses back to the same layouts."""

from __future__ import annotations

import pytest

import ffikit
from ffikit.tools.bindgen import c_text, generate
from randstructs import random_declarations


def _layout_facts(defs, name):
    lay = defs.layout(name)
    return (lay.size, lay.alignment,
            [(f.name, f.offset, f.bit_offset, f.bit_width) for f in lay.fields])


class TestCText:
    def test_random_structs_round_trip(self, tmp_path):
        """Random structs (packing, alignment, bitfields, nesting): same layout after re-spelling."""
        gen = random_declarations(seed=11, count=150)
        (tmp_path / "r.h").write_text(gen.c_definitions())
        original = ffikit.include(str(tmp_path / "r.h"))
        names = [f"{s.kind} {s.name}" for s in gen.structs]
        again = ffikit.cdef(c_text(original, [], names))
        for name in names:
            assert _layout_facts(again, name) == _layout_facts(original, name), name

    def test_dependencies_first(self):
        defs = ffikit.cdef("""
            typedef struct node node;
            typedef int (*visit_fn)(node *n, void *ctx);
            struct node { node *next; visit_fn visit; struct { int a, b; } pair; };
            typedef struct { node head; unsigned flags : 3; } list;
            int walk(list *l, visit_fn f);
        """)
        text = c_text(defs, ["walk"], [])
        assert text.index("typedef struct node node;") < text.index("typedef int (*visit_fn)")
        assert text.index("struct node {") < text.index("typedef struct {")
        assert "    unsigned int flags : 3;" in text
        assert text.rstrip().endswith("int walk(list *l, visit_fn f);")
        again = ffikit.cdef(text)
        assert _layout_facts(again, "list") == _layout_facts(defs, "list")

    def test_opaque_struct_stays_opaque(self):
        defs = ffikit.cdef("typedef struct db db; int db_open(const char *path, db **out);")
        assert c_text(defs, ["db_open"], []) == (
            "struct db;\ntypedef struct db db;\nint db_open(const char *path, db **out);\n")


class TestGenerate:
    def test_stub_types(self):
        defs = ffikit.cdef("""
            #define LIMIT 10
            enum mode { FAST = 1, SAFE = 2 };
            double scale(double x, int times);
            const char *name_of(int code);
            void fill(unsigned char *buf, unsigned long n);
            int printf_like(const char *fmt, ...);
        """)
        module, stub = generate(defs, "x.h", "c")
        assert "def scale(x: float, times: int, /) -> float: ..." in stub
        assert "def name_of(code: int, /) -> bytes | None: ..." in stub
        assert "def fill(buf: Any, n: int, /) -> None: ..." in stub
        assert "def printf_like(fmt: bytes | str | None, /, *args: Any) -> int: ..." in stub
        assert "class mode(enum.IntEnum):\n    FAST = 1\n    SAFE = 2" in stub
        assert "LIMIT: int" in stub and "LIMIT = 10" in module

    def test_prefix_and_exclude(self):
        defs = ffikit.cdef("int zz_a(int); int zz_b(int); int other(int);\n#define ZZ_MAX 3\n")
        module, stub = generate(defs, "x.h", "c", prefix="zz", exclude="_b$")
        assert "def zz_a(" in stub and "zz_b" not in stub and "other" not in stub
        assert "ZZ_MAX = 3" in module

    def test_bad_exclude_regex(self):
        defs = ffikit.cdef("int f(int);")
        with pytest.raises(Exception, match="unterminated character set"):
            generate(defs, "x.h", "c", exclude="[")


def test_function_facts_survive_re_spelling():
    """Bounds, access, nonnull, format and deallocators: a bound module checks what the header did."""
    defs = ffikit.cdef("""
        #include <stddef.h>
        typedef struct f FILE;
        int fclose(FILE *f);
        FILE *fopen(const char *p, const char *m) __attribute__((malloc(fclose, 1), nonnull(1, 2)));
        void f(size_t n, const char a[n], int b[16]) __attribute__((access(write_only, 3)));
        int pf(char *o, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));
    """)
    again = ffikit.cdef(c_text(defs, list(defs.functions), []))
    for name, decl in defs.functions.items():
        assert again.functions[name].type.facts == decl.type.facts, name
    assert again.functions["f"].type.facts.access[0].source == "the array bound [n]"
