"""C's conversions on typed constants: promotions, usual arithmetic conversions, rounding."""

from fractions import Fraction

import pytest

from ffikit.cdecl.carith import Arith, CValue, NotConstant, Undefined
from ffikit.cdecl.platforms import get_platform

LINUX = Arith(get_platform("linux-x86_64"))
WINDOWS = Arith(get_platform("windows"))
AARCH64 = Arith(get_platform("linux-aarch64"))


def v(arith, name, value):
    return CValue(arith.types[name], value)


class TestConversions:
    @pytest.mark.parametrize("a,b,common", [
        ("char", "short", "int"), ("unsigned short", "int", "int"), ("int", "unsigned int",
                                                                       "unsigned int"),
        ("long", "unsigned int", "long"), ("long long", "unsigned long", "unsigned long long"),
        ("unsigned long", "long long", "unsigned long long"), ("_Bool", "_Bool", "int"),
    ])
    def test_usual_arithmetic_conversions(self, a, b, common):
        assert LINUX.common(LINUX.types[a], LINUX.types[b]).name == common

    def test_windows_long_is_narrower_than_long_long(self):
        assert WINDOWS.common(WINDOWS.types["long"], WINDOWS.types["unsigned int"]).name == \
            "unsigned long"
        assert WINDOWS.types["long"].bits == 32

    def test_char_signedness_follows_the_platform(self):
        assert LINUX.types["char"].wrap(255) == -1
        assert AARCH64.types["char"].wrap(255) == 255

    def test_float_rounding_ties_to_even_and_overflows_to_infinity(self):
        f = LINUX.floats["float"]
        assert f.round(Fraction(2 ** 24 + 1)) == 2 ** 24
        assert f.round(Fraction(2 ** 24 + 3)) == 2 ** 24 + 4
        assert f.round(Fraction(2 ** 128)) == float("inf")
        assert f.round(Fraction(1, 2 ** 149)) == Fraction(1, 2 ** 149)  # smallest subnormal
        assert f.round(Fraction(1, 2 ** 151)) == 0

    def test_long_double_precision_per_platform(self):
        assert LINUX.floats["long double"].precision == 64
        assert AARCH64.floats["long double"].precision == 113
        assert WINDOWS.floats["long double"].precision == 53


class TestOperations:
    def test_unsigned_wraps(self):
        assert LINUX.binary("+", v(LINUX, "unsigned int", 2 ** 32 - 1), v(LINUX, "int", 1)).value \
            == 0
        assert LINUX.unary("-", v(LINUX, "unsigned int", 1)).value == 2 ** 32 - 1

    @pytest.mark.parametrize("op,a,b,reason", [
        ("+", 2 ** 31 - 1, 1, "signed overflow"), ("/", -2 ** 31, -1, "signed overflow"),
        ("%", 1, 0, "modulo by zero"), ("<<", 1, 32, "shift count 32"),
        (">>", 1, -1, "shift count -1"),
    ])
    def test_undefined_is_refused(self, op, a, b, reason):
        with pytest.raises(Undefined, match=reason):
            LINUX.binary(op, v(LINUX, "int", a), v(LINUX, "int", b))

    def test_not_evaluated_operands_give_types_only(self):
        result = LINUX.binary("/", CValue(LINUX.int, None), v(LINUX, "unsigned long", 0))
        assert result == CValue(LINUX.types["unsigned long"], None)

    def test_strings_and_pointers_are_not_arithmetic(self):
        with pytest.raises(NotConstant, match="string literal"):
            LINUX.binary("+", CValue("str", "a"), v(LINUX, "int", 1))
        with pytest.raises(NotConstant, match="'~' on a floating value"):
            LINUX.unary("~", CValue(LINUX.floats["double"], Fraction(1)))
