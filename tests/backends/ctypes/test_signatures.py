"""backends/ctypes/signatures.py: spelling function-pointer types and comparing them."""

import ctypes

import pytest

import ffikit
from ffikit.backends.ctypes.signatures import (
    ctype_text,
    fits_signature,
    same_signature,
    signature_text,
)

F = ctypes.CFUNCTYPE


@pytest.mark.parametrize("a,b,same", [
    (F(ctypes.c_int, ctypes.c_int), F(ctypes.c_int32, ctypes.c_int32), True),
    (F(ctypes.c_int, ctypes.c_int), F(ctypes.c_double, ctypes.c_double), False),
    (F(ctypes.c_int, ctypes.c_int), F(ctypes.c_uint, ctypes.c_int), False),
    (F(ctypes.c_int, ctypes.c_int), F(ctypes.c_int, ctypes.c_int, ctypes.c_int), False),
    (F(None, ctypes.c_void_p), F(None, ctypes.POINTER(ctypes.c_int)), True),
    (F(None, ctypes.POINTER(ctypes.c_double)), F(None, ctypes.POINTER(ctypes.c_int)), False),
    (F(None, ctypes.c_char_p), F(None, ctypes.POINTER(ctypes.c_char)), True),
    (F(None, F(ctypes.c_int)), F(None, ctypes.c_void_p), False),
    (F(None, F(ctypes.c_int)), F(None, F(ctypes.c_int)), True),
    (F(ctypes.c_long), F(ctypes.c_int), ctypes.sizeof(ctypes.c_long) == 4),
])
def test_same_signature(a, b, same):
    assert same_signature(a, b) is same
    assert same_signature(b, a) is same


def test_structs_compare_by_declaration():
    defs = ffikit.cdef("typedef struct { int x; } P; typedef struct { int x; } Q;")
    P, Q = defs.P, defs.Q
    assert same_signature(F(None, ctypes.POINTER(P)), F(None, ctypes.POINTER(P)))
    assert not same_signature(F(None, ctypes.POINTER(P)), F(None, ctypes.POINTER(Q)))


def test_spelling():
    assert signature_text(F(ctypes.c_double, ctypes.c_double, ctypes.c_char_p)) == \
        "double (*)(double, char *)"
    assert signature_text(F(None)) == "void (*)(void)"
    assert ctype_text(ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))) == "unsigned char * *"
    assert ctype_text(ctypes.c_int * 4) == "int[4]"
    assert ffikit.callback("int (*)(long, int *)", print).signature == "int (*)(long, int *)"


def test_fits_signature_of_foreign_functions():
    libc = ctypes.CDLL(None)
    fn = libc.abs
    assert fits_signature(fn, F(ctypes.c_double, ctypes.c_double))  # never declared: unknown
    fn.argtypes = [ctypes.c_int]
    assert fits_signature(fn, F(ctypes.c_int, ctypes.c_int))
    assert not fits_signature(fn, F(ctypes.c_double, ctypes.c_double))
