"""Every name C code uses reaches the library: macro aliases, asm labels, __ names, constants."""

from __future__ import annotations

import os

import pytest

import ffikit

SOURCE = """
int __impl_add(int a, int b) { return a + b; }
int __impl_mul(int a, int b) { return a * b; }
int twice_8(int x) { return 2 * x; }
int add_v1(int a, int b) { return -1; }
int add_v2(int a, int b) { return a + b + 1000; }
int counter_v2 = 5;
int __len__(void) { return 77; }
"""
DECLARATIONS = """
int __impl_add(int a, int b);
#define add __impl_add
#define JOIN(a, b) a ## b
#define GLUE(a, b) JOIN(a, b)
#define SUFFIX(a) GLUE(a, WIDTH)
#define unexpanded JOIN(twice_, WIDTH)
#define WIDTH 8
#define twice SUFFIX(twice_)
int twice_8(int);
#define mul(a, b) __impl_mul(a, b)
int __impl_mul(int, int);
#define muladd(a, b) __impl_mul(b, a)
int add_v1(int, int) __asm__("add_v2");
extern int counter __asm__("counter_v2");
#define ANSWER 42
int __len__(void);
"""


@pytest.fixture(scope="module")
def lib(cbuild, backend):
    return ffikit.load(cbuild(SOURCE, name="names_lib"), DECLARATIONS, backend=backend)


def test_macro_names_reach_the_functions_they_stand_for(lib):
    assert lib.add(2, 3) == 5  # object-like: #define add __impl_add
    assert lib.twice(21) == 42  # pasted through three function-like macros: twice_8
    with pytest.raises(ffikit.SymbolNotFound):
        _ = lib.unexpanded  # 'twice_WIDTH', as in C: an operand of ## is not expanded first
    assert lib.mul(6, 7) == 42  # function-like passing its parameters on
    with pytest.raises(ffikit.SymbolNotFound, match="'muladd' is neither declared"):
        _ = lib.muladd  # reorders its arguments: not the same function
    assert lib.defs.aliases() == {"add": "__impl_add", "twice": "twice_8", "mul": "__impl_mul"}


def test_asm_labels_bind_the_labelled_symbol(lib):
    assert lib.add_v1(1, 2) == 1003  # bound to add_v2, as C code calling add_v1 is
    assert lib.defs.functions["add_v1"].symbol == "add_v2"
    before = lib.counter  # counter_v2 (5 at load; the library stays loaded across backends)
    lib.counter = before + 4
    assert lib.counter == before + 4 and lib.var("counter").value == before + 4


def test_underscore_names_by_attribute_and_item(lib):
    assert lib.__impl_add(1, 1) == 2 and lib["__impl_add"] is lib.__impl_add
    assert lib["__len__"]() == 77  # a C symbol spelled like a Python protocol name
    with pytest.raises(TypeError):
        len(lib)  # ... which Python's own lookups never reach
    with pytest.raises(TypeError):
        os.fspath(lib)
    assert not hasattr(lib, "__array__") and not hasattr(lib, "__array_interface__")


def test_constants_and_dir(lib):
    assert lib.ANSWER == 42 and lib["ANSWER"] == 42 and lib.WIDTH == 8
    listed = dir(lib)
    for name in ("add", "twice", "mul", "__impl_add", "add_v1", "counter", "ANSWER", "new"):
        assert name in listed, name


def test_suggestions_are_reachable(lib):
    with pytest.raises(ffikit.SymbolNotFound) as info:
        _ = lib.ad
    message = str(info.value)
    assert "did you mean" in message
    for suggested in message.split("did you mean ")[1].rstrip("?").split(", "):
        getattr(lib, suggested.strip("'"))  # each one answers


def test_missing_declared_symbol_says_where_it_is_declared(tmp_path, cbuild):
    (tmp_path / "api.h").write_text("int present(void);\nint absent(void);\n")
    path = cbuild("int present(void) { return 1; }", name="names_where")
    lib = ffikit.load(path, ffikit.include("api.h", include_dirs=[tmp_path]))
    with pytest.raises(ffikit.SymbolNotFound, match=r"\(declared as int absent\(void\) at "
                       r".*api\.h:2\)"):
        _ = lib.absent
