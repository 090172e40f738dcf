"""memory/rawpointers.py: pointers read out of memory check before they dereference or call."""

import ctypes
import sys

import pytest

import ffikit
from ffikit.memory.rawpointers import checked_type


def test_types_are_subclasses_and_cached():
    P = ctypes.POINTER(ctypes.c_double)
    C = checked_type(P)
    assert issubclass(C, P) and C is checked_type(P) and checked_type(C) is C
    assert checked_type(ctypes.c_int) is ctypes.c_int
    assert checked_type(ctypes.c_int * 3) is ctypes.c_int * 3
    assert checked_type(P * 2)._type_ is C


def test_checked_pointer_reads_writes_and_refuses():
    target = (ctypes.c_double * 2)(1.5, 2.5)
    C = checked_type(ctypes.POINTER(ctypes.c_double))
    p = C.from_buffer(bytearray(ctypes.addressof(target).to_bytes(8, sys.byteorder)))
    assert p[1] == 2.5 and p[:2] == [1.5, 2.5] and p[1:-1:-1] == [2.5, 1.5]
    with pytest.raises(ffikit.InvalidAddress, match="writing through 'double \\*'.*unsafe=True"):
        p[0] = 4.0
    assert target[0] == 1.5
    bad = C.from_buffer(bytearray((16).to_bytes(8, sys.byteorder)))
    for action in (lambda: bad[0], lambda: bad.contents, lambda: bad[0:2]):
        with pytest.raises(ffikit.InvalidAddress, match="dereferencing 'double \\*'"):
            action()
    with pytest.raises(ffikit.InvalidAddress):
        bad[0] = 1.0
    with pytest.raises(ffikit.InvalidAddress, match="needs a stop"):
        p[0:]


def test_pointing_elsewhere_is_writing_the_view_itself():
    C = checked_type(ctypes.POINTER(ctypes.c_int))
    raw = bytearray(8)
    p = C.from_buffer(raw)
    other = ctypes.c_int(42)
    p.contents = other  # changes the pointer stored in raw, not memory it points at
    assert int.from_bytes(raw, sys.byteorder) == ctypes.addressof(other)
    assert p[0] == 42


def test_checked_pointer_still_passes_to_c():
    libc = ctypes.CDLL(None)
    libc.strlen.restype = ctypes.c_size_t
    text = ctypes.create_string_buffer(b"four")
    C = checked_type(ctypes.POINTER(ctypes.c_char))
    p = C.from_buffer(bytearray(ctypes.addressof(text).to_bytes(8, sys.byteorder)))
    assert libc.strlen(p) == 4


def test_guarded_function_pointer_refuses_calls():
    F = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
    G = checked_type(F)
    assert issubclass(G, F)
    g = G.from_buffer(bytearray((0x1000).to_bytes(8, sys.byteorder)))
    with pytest.raises(ffikit.InvalidAddress, match=r"int \(\*\)\(int\).*unsafe=True"):
        g(1)
