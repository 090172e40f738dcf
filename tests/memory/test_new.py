"""ffikit.new: values checked like call arguments, arrays that fit, and cffi's ``new("T *")``."""

import ctypes

import pytest

import ffikit
from crashproof import outcome

POINTERS = r"""
#include <stddef.h>
void set_int(int *p, int v) { *p = v; }
void make_buffer(char **out) { static char text[] = "made by C"; *out = text; }
"""


@pytest.fixture(scope="module")
def lib(cbuild):
    return ffikit.load(cbuild(POINTERS, name="new_pointers"),
                       "void set_int(int *p, int v); void make_buffer(char **out);")


class TestValues:
    @pytest.mark.parametrize("ctype,value", [
        ("int", 2**40), ("int", -2**31 - 1), ("uint8_t", -1), ("uint8_t", 256),
        ("_Bool", 2), ("int", 1.5), ("int", "3"), ("double", "x"), ("float", 1e300),
        ("uint16_t[2]", [1, 70000])])
    def test_refused_like_a_call_argument(self, ctype, value):
        with pytest.raises(ffikit.ArgumentError, match=r"ffikit\.new\("):
            ffikit.new(ctype, value)

    def test_in_range_values(self):
        assert ffikit.new("int", -2**31).value == -2**31
        assert ffikit.new("uint8_t", 255).value == 255
        assert ffikit.new("float", 1.5).value == 1.5 and ffikit.new("double", 2).value == 2.0
        assert ffikit.new("char", b"x").value == b"x" and ffikit.new("char", 65).value == b"A"
        assert ffikit.new(ctypes.c_int16, 7).value == 7

    def test_messages_name_the_range(self):
        with pytest.raises(ffikit.ArgumentError) as info:
            ffikit.new("uint8_t", -1)
        assert str(info.value) == ("ffikit.new('uint8_t'): -1 is out of range, not in [0, 255] "
                                   "(ctypes would wrap it silently)")


class TestArrays:
    def test_initialiser_longer_than_the_array(self):
        with pytest.raises(ffikit.BufferTooSmall, match="has 6 characters, the array holds 3"):
            ffikit.new("char[3]", b"abcdef")
        with pytest.raises(ffikit.BufferTooSmall, match="has 3 items, the array holds 2"):
            ffikit.new("int[2]", [1, 2, 3])

    def test_initialisers_that_fit(self):
        assert ffikit.new("char[3]", b"abc").raw == b"abc"  # C allows it without the NUL
        assert ffikit.new("char[8]", b"ab").value == b"ab"
        assert list(ffikit.new("int[4]", [1, 2])) == [1, 2, 0, 0]
        assert [list(row) for row in ffikit.new("int[2][2]", [[1, 2], [3, 4]])] == [[1, 2],
                                                                                   [3, 4]]
        with pytest.raises(ffikit.ArgumentError, match="with bytes, not str"):
            ffikit.new("char[4]", "abc")


class TestPointers:
    def test_pointer_to_a_fresh_zeroed_value(self, lib):
        p = ffikit.new("int *")
        assert isinstance(p, ctypes._Pointer) and p.contents.value == 0
        lib.set_int(p, 42)  # C writes through it: no NULL pointer is passed
        assert p[0] == 42
        assert ffikit.new("int *", 5)[0] == 5
        with pytest.raises(ffikit.ArgumentError):
            ffikit.new("int *", 2**40)

    def test_the_pointer_keeps_its_target_alive(self):
        import gc

        p = ffikit.new("double *", 2.5)
        gc.collect()
        assert p[0] == 2.5 and p._objects  # ctypes.pointer() keeps the double

    def test_still_an_out_slot_for_a_pointer_to_pointer(self, lib):
        slot = ffikit.new("char *")  # a char * to a zeroed char; passed to char ** by address
        lib.make_buffer(slot)
        assert ctypes.string_at(ctypes.cast(slot, ctypes.c_void_p).value) == b"made by C"

    @pytest.mark.parametrize("backend_name", ["ctypes", "compiled"])
    def test_a_pointer_to_a_pointer_goes_by_value(self, cbuild, backend_name):
        """cffi's idiom ``new("unsigned char **")`` for ``unsigned char **out`` (turbojpeg's
        jpegBuf): C gets the slot, never the address of the Python pointer object (which C
        would overwrite).  In a child process: the bug was a heap overwrite."""
        path = cbuild(r"""
            static unsigned char data[] = "hello";
            void give(unsigned char **out, unsigned long *n) { *out = data; *n = 5; }
        """, name="new_give")
        result, err = outcome(f"""
            import ffikit
            lib = ffikit.load({path!r}, "void give(unsigned char **out, unsigned long *n);")
            out, n = lib.new("unsigned char **"), lib.new("unsigned long *")
            lib.give(out, n)
        """, "(bytes(out[0][:n[0]]), n[0])", FFIKIT_BACKEND=backend_name)
        assert result == "returned (b'hello', 5)", err

    def test_sizeless_targets_give_a_null_slot(self):
        assert ffikit.new("void *").value is None
        defs = ffikit.cdef("typedef struct sqlite3 sqlite3;")
        assert not ffikit.new("sqlite3 *", defs=defs)
        assert not ffikit.new("int (*)(int)")


class TestTextResolvedOnce:
    def test_text_gives_the_same_type_each_time(self):
        a, b = ffikit.new("char[64]"), ffikit.new("char[64]")
        assert type(a) is type(b) and ctypes.sizeof(a) == 64 and a.raw == bytes(64)
        assert ffikit.new("int", 5).value == 5

    def test_declarations_resolve_their_own_names(self):
        one = ffikit.cdef("typedef struct { int x; } Thing;")
        two = ffikit.cdef("typedef struct { double x, y; } Thing;")
        assert ctypes.sizeof(ffikit.new("Thing", defs=one)) == 4
        assert ctypes.sizeof(ffikit.new("Thing", defs=two)) == 16
        assert type(ffikit.new("Thing", defs=one)) is one.Thing  # cached per declarations

    def test_without_declarations_a_later_cdef_still_counts(self):
        ffikit.cdef("typedef struct { char c[3]; } LaterThing3;")
        assert ctypes.sizeof(ffikit.new("LaterThing3")) == 3
        ffikit.cdef("typedef struct { char c[5]; } LaterThing3;")  # the newest cdef wins
        assert ctypes.sizeof(ffikit.new("LaterThing3")) == 5
