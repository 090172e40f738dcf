"""What #defines are besides constants: aliases of functions, type names, reasons."""

import ffikit

TEXT = """
int __impl_add(int, int);
#define add __impl_add
#define add2(a, b) __impl_add(a, b)
#define MY_SIZE unsigned long
#define LIMIT (1 << 4)
#define CALLS __impl_add(1, 2)
#define FLAG
#define __GNUC_NOISE 1
"""


def test_aliases_name_declared_functions_only():
    defs = ffikit.cdef(TEXT)
    assert defs.alias("add") == "__impl_add" and defs.alias("add2") == "__impl_add"
    assert defs.alias("LIMIT") is None and "MY_SIZE" not in defs.aliases()


def test_a_macro_that_names_a_type_is_a_type_name():
    defs = ffikit.cdef(TEXT)
    assert defs.type_macro("MY_SIZE") is not None and defs.type_macro("LIMIT") is None
    assert defs.sizeof("MY_SIZE") == 8 and defs.sizeof("MY_SIZE[3]") == 24
    assert "MY_SIZE" in defs.type_macros


def test_every_other_macro_says_why_it_is_no_constant():
    defs = ffikit.cdef(TEXT)
    assert defs.constants["LIMIT"] == 16
    assert defs.skipped_macros["CALLS"] == "call to '__impl_add' is not a constant"
    assert defs.skipped_macros["FLAG"].startswith("empty")
    assert defs.skipped_macros["add2"].startswith("function-like")
    assert "LIMIT" not in defs.skipped_macros and "MY_SIZE" not in defs.skipped_macros


def test_all_macros_has_the_noise_constants_leave_out():
    defs = ffikit.include("stdio.h")
    assert "__STDC__" in defs.all_macros and "__STDC__" not in defs.constants
