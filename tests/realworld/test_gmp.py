"""GMP through gmp.h: every function is a macro for its ``__gmpz_`` symbol (issue 18)."""

from __future__ import annotations

import pytest

import ffikit
from ffikit.cdecl.preprocess import system_include_dirs

pytestmark = pytest.mark.skipif(
    not any(__import__("os").path.exists(f"{d}/gmp.h") for d in system_include_dirs()),
    reason="gmp.h not installed (libgmp-dev)")


def test_mpz_by_the_names_gmp_documents(backend):
    gmp = ffikit.load("gmp", ffikit.include("gmp.h"), backend=backend)
    z = gmp.new("mpz_t")
    gmp.mpz_init(z)  # '#define mpz_init __gmpz_init'
    try:
        gmp.mpz_set_str(z, b"123456789012345678901234567890", 10)
        gmp.mpz_mul(z, z, z)
        out = bytearray(gmp.mpz_sizeinbase(z, 10) + 2)
        gmp.mpz_get_str(out, 10, z)
        assert bytes(out).rstrip(b"\0") == str(123456789012345678901234567890 ** 2).encode()
        assert gmp.__gmpz_cmp_ui(z, 0) > 0 and gmp["__gmpz_cmp_ui"] is gmp.__gmpz_cmp_ui
    finally:
        gmp.mpz_clear(z)
    assert "mpz_init" in dir(gmp) and gmp.GMP_LIMB_BITS == 64
