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


@pytest.mark.parametrize("bad", ["16", "-1", "2**64", "ctypes.c_char_p(16)", "ctypes.c_wchar_p(16)",
                                 "ctypes.cast(16, ctypes.POINTER(ctypes.c_char))"])
def test_bad_addresses_raise_invalid_address(bad):
    """Issue 19 item 3: these read address 16 and died; now checked as ffikit.buffer checks."""
    from crashproof import outcome

    got, err = outcome("import ctypes, ffikit", f"ffikit.string({bad})")
    assert got == "raised InvalidAddress", err[-2000:]


def test_an_unterminated_string_stops_at_unreadable_memory():
    """The scan checks each page before reading it: a string running into a 'none' page raises."""
    from crashproof import outcome

    setup = """
        import ctypes, ffikit
        m = ffikit.alloc("char", 8192, pages=True)
        m.view[:] = b"x" * 8192
        tail = ffikit.alloc("char", 4096, pages=True, guard=True)
        tail.view[:] = b"y" * 4096
        """
    got, err = outcome(setup, "ffikit.string(tail.address + 4000)")
    assert got == "raised InvalidAddress", err[-2000:]
    got, err = outcome(setup, "ffikit.string(tail.address + 4000, maxlen=96)")
    assert got == "returned " + repr(b"y" * 96), err[-2000:]
    got, err = outcome(setup, "len(ffikit.string(m.address + 100, maxlen=8000))")
    assert got == "returned 8000", err[-2000:]  # across a page boundary, within limits


def test_unsafe_skips_the_checks():
    text = ctypes.create_string_buffer(b"ok")
    assert ffikit.string(ctypes.addressof(text), unsafe=True) == b"ok"


BAD_POINTERS = r"""
typedef struct { const char *name; int *ptr; } S;
char *bad_string(void) { return (char *)16; }
S bad_struct(void) { S s = { (const char *)24, (int *)32 }; return s; }
"""


@pytest.mark.parametrize("backend", ["ctypes", "compiled"])
@pytest.mark.parametrize("call", [
    "ffikit.string(lib.bad_string())",
    "ffikit.buffer(lib.bad_string(), 4)",
    "ffikit.string(lib.bad_struct().name)",
    "ffikit.buffer(lib.bad_struct().ptr, 4)",
])
def test_pointers_from_c_are_checked_where_read_through_ffikit(cbuild, backend, call):
    """Issue 19 item 7: returned pointers and pointer members are plain ctypes pointers
    (README: unchecked when indexed); read through string()/buffer() they are checked."""
    from crashproof import call_outcome

    path = cbuild(BAD_POINTERS, name="strings_bad_pointers")
    decls = "typedef struct { const char *name; int *ptr; } S; char *bad_string(void); S bad_struct(void);"
    got, err = call_outcome(path, decls, backend, call)
    assert got == "raised InvalidAddress", err[-2000:]
