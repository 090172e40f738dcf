"""Constant expressions from #define bodies, evaluated safely."""

import pytest

from ffikit.cdecl.constexpr import NotConstant, eval_macro, parse_number


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
    ])
    def test_values(self, body, value):
        assert eval_macro(body, lookup) == value

    @pytest.mark.parametrize("body", [
        "f(3)", "((sqlite3_destructor_type)-1)", "1 / 0", "UNKNOWN", "", "sizeof(int)",
        "{ 1 }", '"a" + 1',
    ])
    def test_not_constants(self, body):
        with pytest.raises(NotConstant):
            eval_macro(body, lookup)


def test_parse_number_suffixes():
    assert parse_number("0xFFu") == 255
    assert parse_number("2.5e1L") == 25.0
