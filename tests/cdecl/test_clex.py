"""Tokens and literals with their C types."""

from fractions import Fraction

import pytest

from ffikit.cdecl.clex import MAX_LITERAL, char_constant, number, string_literal, tokenize
from ffikit.cdecl.constexpr import NotConstant, arith_for

A = arith_for("linux-x86_64")


class TestIntegerLiterals:
    @pytest.mark.parametrize("text,type_name", [
        ("2147483647", "int"), ("2147483648", "long"), ("0x7fffffff", "int"),
        ("0x80000000", "unsigned int"), ("0xffffffffffffffff", "unsigned long"),
        ("1u", "unsigned int"), ("1l", "long"), ("1ll", "long long"), ("1ULL", "unsigned long long"),
        ("4294967296u", "unsigned long"), ("077", "int"), ("0b11", "int"),
    ])
    def test_type_follows_c11(self, text, type_name):
        assert number(text, A).type.name == type_name

    def test_windows_long_is_32_bits(self):
        assert number("2147483648", arith_for("windows")).type.name == "long long"

    @pytest.mark.parametrize("text", ["18446744073709551616", "1" * (MAX_LITERAL + 1), "08",
                                      "1.0q", "0x1.0", "1lL"])
    def test_refused(self, text):
        with pytest.raises(NotConstant):
            number(text, A)


class TestFloatLiterals:
    def test_precision_by_suffix(self):
        assert number("0.1f", A).value == Fraction(13421773, 2 ** 27)
        assert number("0.1", A).value == Fraction(0.1)
        assert number("0.1L", A).value != Fraction(0.1)

    def test_hex_floats(self):
        assert number("0x1.8p1", A).value == 3
        assert number("0x.8p0f", A).value == Fraction(1, 2)


class TestCharactersAndStrings:
    def test_char_is_int_converted_from_char(self):
        assert char_constant("'\\377'", A).value == -1
        assert char_constant("'\\377'", arith_for("linux-aarch64")).value == 255
        assert char_constant("u'\\xffff'", A).value == 0xFFFF

    def test_strings_concatenate_and_unescape(self):
        assert string_literal('"a\\tb\\x41\\101"') == "a\tbAA"

    def test_tokenize_scans_long_literals_without_regex_state(self):
        tokens = tokenize('"' + "\\x41" * 100000 + '" + 1')
        assert [k for k, _ in tokens] == ["str", "op", "num"]

    def test_unterminated_literal(self):
        with pytest.raises(NotConstant, match="unterminated"):
            tokenize('"abc')
