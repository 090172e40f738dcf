"""GMP as its manual shows it: mpz_t variables (one-element arrays) initialised, computed on
and cleared, through the documented names (macros for the exported __gmpz_* functions)."""

from __future__ import annotations

import math

import pytest

import ffikit
from corpus_helpers import require

# mpz_init is '#define mpz_init __gmpz_init': not merged into main yet


@pytest.fixture(scope="module")
def gmp(backend):
    require("libgmp-dev", "gmp.h")
    return ffikit.load("gmp", ffikit.include("gmp.h"))


def _text(gmp, n, base: int = 10) -> str:
    out = bytearray(gmp.mpz_sizeinbase(n, base) + 2)  # digits, sign, NUL, as the manual says
    gmp.mpz_get_str(out, base, n)
    return ffikit.string(out).decode()


def test_big_arithmetic(gmp):
    a, b, product = gmp.new("mpz_t"), gmp.new("mpz_t"), gmp.new("mpz_t")
    for n in (a, b, product):
        gmp.mpz_init(n)
    try:
        assert gmp.mpz_set_str(a, b"123456789012345678901234567890", 10) == 0
        assert gmp.mpz_set_str(b, b"-987654321098765432109876543210", 10) == 0
        gmp.mpz_mul(product, a, b)
        assert _text(gmp, product) == str(123456789012345678901234567890
                                          * -987654321098765432109876543210)
        gmp.mpz_pow_ui(product, a, 5)
        assert _text(gmp, product, 16) == format(123456789012345678901234567890 ** 5, "x")
    finally:
        for n in (a, b, product):
            gmp.mpz_clear(n)


def test_factorial(gmp):
    n = gmp.new("mpz_t")
    gmp.mpz_init(n)
    try:
        gmp.mpz_fac_ui(n, 50)
        assert int(_text(gmp, n)) == math.factorial(50)
    finally:
        gmp.mpz_clear(n)


def test_invalid_digits(gmp):
    n = gmp.new("mpz_t")
    gmp.mpz_init(n)
    try:
        assert gmp.mpz_set_str(n, b"12x4", 10) == -1
    finally:
        gmp.mpz_clear(n)


def test_the_exported_names_work_too(gmp):
    """The symbol the macro stands for is reachable as well (lib['__gmpz_init'])."""
    n = gmp.new("mpz_t")
    gmp["__gmpz_init"](n)
    gmp["__gmpz_set_ui"](n, 42)
    assert _text(gmp, n) == "42"
    gmp["__gmpz_clear"](n)
