"""cgen: which declarations get a C wrapper (and why not), and the module text."""

from __future__ import annotations

from pathlib import Path

import ffikit
from ffikit.backends.compiled.cgen import generate, shape_of


def _shape(decl: str, name: str):
    defs = ffikit.cdef("typedef struct { int x, y; } Point;\n" + decl)
    return shape_of(name, defs.functions[name].type)


class TestShapeOf:
    def test_integers_carry_their_c_type_and_range(self):
        assert _shape("int add(int a, int b);", "add") == (
            ("int", "int32_t"), (("int", "int32_t", -(2**31), 2**31 - 1),) * 2)
        assert _shape("unsigned long long f(unsigned long long v);", "f")[1] == (("u64", "uint64_t"),)
        assert _shape("_Bool f(_Bool v);", "f") == (("bool", "_Bool"), (("int", "_Bool", 0, 1),))

    def test_pointers_carry_constness_and_formats(self):
        result, params = _shape("double sum(const double *p, unsigned long n);", "sum")
        kind, ctype, const, cstring, formats, items_of, nonnull = params[0]
        assert (kind, ctype, const, cstring) == ("ptr", "void *", True, False)
        assert "d" in formats and "<d" in formats and "f" not in formats and items_of == 0
        assert _shape("void f(void *p);", "f")[1][0] == ("ptr", "void *", False, False, None, 0, False)
        assert _shape("void f(const Point *p);", "f")[1][0][4:6] == ((), 8)  # structs: by item size
        assert _shape("void f(void *p, void *q) __attribute__((nonnull(2)));", "f")[1][1][-1] is True
        assert _shape("void f(const char *s);", "f")[1][0][3] is True  # a C string: bytes only

    def test_facts_stay_compiled_and_become_relations(self):
        result, params = _shape("double f(const double *p, int n) __attribute__((access(read_only, 1, 2)));", "f")
        assert params[0][2] is True  # read_only: const
        assert _shape("void f(const double *p, int n) __attribute__((access(write_only, 1, 2)));",
                      "f")[1][0][2] is False  # write_only overrides const
        assert not isinstance(_shape("char *f(const char *s) __attribute__((malloc(free, 1)));", "f"), str)

    def test_what_stays_on_ctypes_says_why(self):
        assert _shape("int f(int n, ...);", "f") == "variadic"
        assert _shape("int f(Point p);", "f")[1][0][:2] == ("struct", _shape("Point f(int x);", "f")[0][1])
        assert _shape("typedef struct { int a : 3; } B; int f(B b);", "f").startswith("struct parameters")
        assert _shape("long double f(long double x);", "f") == (("ldouble", "long double"),
                                                                 (("ldouble", "long double"),))


class TestGenerate:
    def test_name_is_a_content_hash(self):
        shape = _shape("int add(int a, int b);", "add")
        name, source, wrappers = generate([shape])
        assert name.startswith("_ffikit_c_") and f"PyInit_{name}" in source
        assert generate([shape])[0] == name
        assert generate([shape, shape[:1] + ((),)])[0] != name
        assert len(wrappers) == 1 and "Py_BEGIN_ALLOW_THREADS" in wrappers[0]

    def test_module_declares_that_it_needs_the_gil(self):
        # the free-threading stance (Py_mod_gil for a single-phase module): a free-threaded
        # interpreter keeps the GIL on while these wrappers are loaded; the call exists only
        # in free-threaded builds (a GIL build always has the GIL: the suite on 3.13 loads it)
        from ffikit.backends.compiled.runtime import RUNTIME_DIR

        source = generate([_shape("int add(int a, int b);", "add")])[1]
        assert "return ffk_init();" in source[source.index("PyInit_"):]
        init = Path(RUNTIME_DIR, "module.c").read_text()  # the runtime's module init, package data
        init = init[init.index("ffk_init(void)"):]
        assert "PyUnstable_Module_SetGIL(m, Py_MOD_GIL_USED)" in init
        assert init.index("#ifdef Py_GIL_DISABLED") < init.index("Py_MOD_GIL_USED")
