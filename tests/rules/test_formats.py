"""printf formats parsed into conversions, and variadic arguments checked against them."""

from __future__ import annotations

import pytest

import ffikit
from ffikit.rules.formats import check_printf, printf_conversions, scanf_count


def kinds(fmt):
    return [(c.kind, c.ctype) for c in printf_conversions(fmt)]


def test_conversions():
    assert kinds("%d %s %f") == [("int", "int"), ("string", "pointer"), ("float", "double")]
    assert kinds("%ld|%lld|%zu|%hhx|%Lf|%p|%c|%ls|%%|%m") == [
        ("int", "long"), ("int", "long long"), ("uint", "size_t"), ("uint", "int"),
        ("float", "long double"), ("pointer", "pointer"), ("char", "int"),
        ("wstring", "pointer")]
    assert kinds("%*.*f") == [("int", "int"), ("int", "int"), ("float", "double")]
    with pytest.raises(ValueError):
        printf_conversions("%1$d")
    with pytest.raises(ValueError):
        printf_conversions("100%")


def test_check():
    assert len(check_printf("f", b"%d %s", (5, b"x"), 3)) == 2
    assert check_printf("f", b"%1$d", (5,), 3) is None  # not checkable: default promotions
    with pytest.raises(ffikit.ArgumentError, match=r"variadic argument 4 of 'f' \(for '%s'"):
        check_printf("f", b"%s", (5,), 3)
    with pytest.raises(ffikit.ArgumentError, match="2 conversions but 3 variadic arguments"):
        check_printf("f", "%d%d", (1, 2, 3), 3)
    with pytest.raises(ffikit.ArgumentError, match="out of range for C type int"):
        check_printf("f", "%d", (2**31,), 0)
    check_printf("f", "%u %ld %f %c %c", (-1, 2**40, 3, b"a", "b"), 0)
    with pytest.raises(ffikit.ArgumentError, match="must be a float"):
        check_printf("f", "%f", ("1.0",), 0)
    with pytest.raises(ffikit.ArgumentError, match="%n writes through a pointer"):
        check_printf("f", "%n", (None,), 0)


def test_scanf_count():
    assert scanf_count("%d %s %*d %[a-z] %%") == 3


def test_scanf_conversions_and_check():
    from ffikit.rules.formats import check_scanf, scanf_conversions

    got = [(c.kind, c.ctype) for c in scanf_conversions("%d %5s %lf %*d %hhx %3c %p %%")]
    assert got == [("int", "int"), ("string", "char[6]"), ("float", "double"),
                   ("int", "signed char"), ("string", "char[3]"), ("pointer", "void *")]
    with pytest.raises(ValueError, match="no width"):
        scanf_conversions("%s")
    with pytest.raises(ValueError, match="allocating"):
        scanf_conversions("%ms")
    slot = bytearray(4)
    assert len(check_scanf("sscanf", b"%d", (slot,), 2)) == 1
    with pytest.raises(ffikit.ArgumentError, match="must be a place C can write a int into"):
        check_scanf("sscanf", b"%d", (5,), 2)
    with pytest.raises(ffikit.ArgumentError, match="assigns 2 arguments but 1 was given"):
        check_scanf("sscanf", b"%d %d", (slot,), 2)
    with pytest.raises(ffikit.ArgumentError, match="is refused: '%s' has no width"):
        check_scanf("sscanf", b"%s", (slot,), 2)
