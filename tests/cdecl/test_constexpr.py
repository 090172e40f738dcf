"""Constant expressions with C's types: values, refusals, and what stays unevaluated."""

import struct

import pytest

import ffikit
from ffikit.cdecl.cmacros import macro_constants
from ffikit.cdecl.constexpr import (
    Env,
    NotConstant,
    eval_macro,
    evaluate,
    parse_number,
    python_value,
)


def lookup(name):
    if name == "BASE":
        return 10
    raise NotConstant(name)


class TestEvalMacro:
    @pytest.mark.parametrize("body,value", [
        ("0x12b0", 0x12B0), ("010", 8), ("1UL << 63", 1 << 63), ("(BASE | (1<<8))", 266),
        ("((int)-1)", -1), ("(unsigned)~0", 0xFFFFFFFF), ("-7 / 2", -3), ("-7 % 2", -1),
        ('"1.2.13"', "1.2.13"), ('"a" "b"', "ab"), ("'A'", 65), ("'\\n'", 10),
        ("1.5f", 1.5), ("((double)1e3)", 1000.0), ("BASE > 5 ? 1 : 2", 1), ("!0", 1),
        ("sizeof(int)", 4), ("_Alignof(double)", 8), ("__alignof__(short)", 2),
    ])
    def test_values(self, body, value):
        assert eval_macro(body, lookup) == value

    @pytest.mark.parametrize("body,value", [
        ("~0U", 4294967295), ("-1U >> 1", 2147483647), ("0xFFFFFFFFU + 1", 0),
        ("'\\377'", -1), ("042", 34), ("0b101", 5), ("-1 < 0U", 0), ("-1L < 0U", 1),
        ("(unsigned char)300", 44), ("(signed char)200", -56), ("(_Bool)5", 1),
        ("1 ? -1 : 0U", 4294967295), ("sizeof(1 ? 1 : 2.0)", 8), ("sizeof 'a'", 4),
        ("sizeof(\"abc\")", 4), ("0 && 1 / 0", 0), ("1 || 1 / 0", 1), ("0 ? 1 / 0 : 7", 7),
        ("(1, 2)", 2), ("1 << 31", -2147483648), ("-8 >> 1", -4), ("2147483648", 2147483648),
        ("0x80000000 - 1", 0x7FFFFFFF), ("sizeof(2147483648)", 8), ("sizeof(0x80000000)", 4),
        ("(unsigned long)-1", 2 ** 64 - 1), ("1 ? 1 : 2.0", 1.0), ("0x1p-3", 0.125),
        ("0x1.8p1f", 3.0), ("(int)2.9", 2), ("(int)-2.9", -2), ("L'A'", 65),
        ("(char)'\\xff' == -1", 1), ("sizeof(long double)", 16),
    ])
    def test_c_types(self, body, value):
        """Values as gcc gives them on x86-64 Linux (``char`` signed, ``long`` 64 bits)."""
        assert eval_macro(body, lookup, platform="linux-x86_64") == value

    def test_float_precision(self):
        value = eval_macro("0.1f", lookup)
        assert value == struct.unpack("f", struct.pack("f", 0.1))[0] and value != 0.1
        assert eval_macro("0.1f + 0.2f", lookup) == struct.unpack("f", struct.pack("f", 0.3))[0]
        assert eval_macro("0.1 + 0.2", lookup) == 0.1 + 0.2

    def test_null_is_none_and_pointer_casts_are_typed(self):
        assert eval_macro("((void *)0)", lookup) is None
        cast = eval_macro("((void *)-1)", lookup, platform="linux-x86_64")
        assert cast.type.c_name() == "void *" and cast.value == 2 ** 64 - 1

    def test_windows_long_is_32_bits(self):
        assert eval_macro("(unsigned long)-1", lookup, platform="windows") == 2 ** 32 - 1
        assert eval_macro("sizeof(long)", lookup, platform="windows") == 4

    @pytest.mark.parametrize("body,reason", [
        ("f(3)", "call to 'f'"), ("((sqlite3_destructor_type)-1)", "sqlite3_destructor_type"),
        ("1 / 0", "division by zero"), ("UNKNOWN", "UNKNOWN"), ("", "empty"),
        ("{ 1 }", "unexpected"), ('"a" + 1', "string"), ("2147483647 + 1", "signed overflow"),
        ("1 << 32", "shift count 32"), ("1 << -1", "shift count -1"), ("'ab'", "multi-character"),
        ("(int)1e10", "does not fit"), ("18446744073709551616", "too large"),
        ("1.0 / 0", "division by zero"), ("(void)0", "void"), ("(" * 200 + "1" + ")" * 200,
                                                            "nested deeper"),
        ("9" * 1000, "too long"), ("-(-2147483647 - 1)", "signed overflow"),
    ])
    def test_not_constants(self, body, reason):
        with pytest.raises(NotConstant, match=None) as info:
            eval_macro(body, lookup)
        assert reason in str(info.value)

    def test_long_chains_do_not_recurse(self):
        assert eval_macro(" + ".join(["1"] * 5000), lookup) == 5000

    def test_huge_exponents_are_bounded(self):
        assert eval_macro("1e999999999", lookup) == float("inf")
        assert eval_macro("1e-999999999", lookup) == 0.0


def test_parse_number_suffixes():
    assert parse_number("0xFFu") == 255
    assert parse_number("2.5e1L") == 25.0
    assert parse_number("1ULL") == 1


def test_pointers_to_undeclared_tags_have_a_size():
    env = Env(None, None, {}, {})
    assert python_value(evaluate("__alignof__(struct sockaddr *)", env)) == 8
    assert python_value(evaluate("sizeof(enum later *)", env)) == 8
    with pytest.raises(NotConstant, match="incomplete"):
        evaluate("sizeof(struct sockaddr)", env)


def test_array_type_names_take_macro_values():
    """``(char [N])`` after N expanded to its value (linux/fs.h's ioctl numbers)."""
    constants, skipped, _ = macro_constants(
        [("N", "256", "f.h", 1), ("S", "sizeof(char [N])", "f.h", 2)], {}, {"f.h"})
    assert constants == {"N": 256, "S": 256} and not skipped


def test_an_enum_before_a_packed_struct_is_not_packed():
    defs = ffikit.cdef("enum e { A, B };\nstruct s { enum e x; int y; } __attribute__((packed));")
    assert defs.sizeof("enum e") == 4 and defs.sizeof("struct s") == 8
