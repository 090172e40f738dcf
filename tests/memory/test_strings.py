"""ffikit.string reads returned char * / wchar_t * strings, bounded by maxlen or a buffer."""

from __future__ import annotations

import ctypes

import pytest

import ffikit


def test_pointers_and_addresses():
    text = ctypes.create_string_buffer(b"hello")
    ptr = ctypes.cast(text, ctypes.POINTER(ctypes.c_char))
    assert ffikit.string(ptr) == b"hello"
    assert ffikit.string(ptr, 3) == b"hel"
    assert ffikit.string(ptr, encoding="ascii") == "hello"
    assert ffikit.string(ctypes.addressof(text)) == b"hello"
    assert ffikit.string(ctypes.c_char_p(b"abc")) == b"abc"
    assert ffikit.string(None) is None
    assert ffikit.string(ctypes.POINTER(ctypes.c_char)()) is None


def test_wide():
    wide = ctypes.create_unicode_buffer("wide \u00e9")
    assert ffikit.string(ctypes.cast(wide, ctypes.POINTER(ctypes.c_wchar))) == "wide \u00e9"
    assert ffikit.string(ctypes.cast(wide, ctypes.POINTER(ctypes.c_wchar)), 2) == "wi"
    assert ffikit.string(wide) == "wide \u00e9"


def test_buffers_within_bounds():
    assert ffikit.string(bytearray(b"ab\0cd")) == b"ab"
    with pytest.raises(ffikit.BufferTooSmall, match="not NUL-terminated within its 3 bytes"):
        ffikit.string(bytearray(b"abc"))
    assert ffikit.string(bytearray(b"abc"), maxlen=10) == b"abc"


def test_not_a_string():
    with pytest.raises(ffikit.ArgumentError, match="not a C string"):
        ffikit.string(ctypes.pointer(ctypes.c_double(1.0)))
    with pytest.raises(ffikit.ArgumentError):
        ffikit.string(1.5)
