"""The ctypes backend: real ctypes types whose bytes match what C sees."""

import ctypes

import pytest

import ffikit
from ffikit.cdecl.model import Pointer, Primitive
from ffikit.cdecl.to_ctypes import to_ctypes


class TestMapping:
    @pytest.mark.parametrize("name,ctype", [
        ("int", ctypes.c_int), ("unsigned long", ctypes.c_ulong), ("char", ctypes.c_char),
        ("_Bool", ctypes.c_bool), ("double", ctypes.c_double), ("int8_t", ctypes.c_int8),
        ("size_t", ctypes.c_size_t), ("long double", ctypes.c_longdouble),
    ])
    def test_primitives(self, name, ctype):
        assert to_ctypes(Primitive(name)) is ctype

    def test_windows_long_is_32_bit(self):
        assert ctypes.sizeof(to_ctypes(Primitive("long"), "windows")) == 4

    def test_pointers_and_function_pointers(self):
        defs = ffikit.cdef("typedef int (*cb)(int, const char *);")
        assert defs.ctype("void *") is ctypes.c_void_p
        assert defs.ctype("char *") is ctypes.POINTER(ctypes.c_char)
        proto = defs.cb
        assert proto._restype_ is ctypes.c_int
        assert proto._argtypes_ == (ctypes.c_int, ctypes.POINTER(ctypes.c_char))

    def test_cached(self):
        assert to_ctypes(Pointer(Primitive("int"))) is to_ctypes(Pointer(Primitive("int")))

    def test_struct_class_carries_model_and_layout(self):
        defs = ffikit.cdef("typedef struct { int x, y; } point;")
        cls = defs.point
        assert issubclass(cls, ctypes.Structure) and cls.__name__ == "point"
        assert cls._ffikit_type_ is defs.types["point"].type
        assert cls._ffikit_layout_.size == 8


class TestStructsAgainstC:
    def test_round_trip_through_c(self, cbuild):
        src = """
            #include <stdint.h>
            struct rec { char tag; uint16_t flags : 3; int16_t level : 5; double value;
                         struct rec *next; };
            double fill(struct rec *r) { r->tag = 'Q'; r->flags = 5; r->level = -9;
                                          r->value = 2.5; return r->level * 10.0 + r->flags; }
            long read_back(const struct rec *r) { return r->flags * 1000 + r->level; }
        """
        defs = ffikit.cdef(src.split("double fill")[0].replace("#include <stdint.h>", ""))
        lib = ctypes.CDLL(cbuild(src, name="rec"))
        lib.fill.restype = ctypes.c_double
        rec = defs.ctype("struct rec")()
        assert lib.fill(ctypes.byref(rec)) == -85.0
        assert (rec.tag, rec.flags, rec.level, rec.value) == (b"Q", 5, -9, 2.5)
        rec.flags, rec.level = 2, 15
        assert lib.read_back(ctypes.byref(rec)) == 2015

    def test_bitfield_overflow_is_refused(self):
        s = ffikit.cdef("struct s { unsigned a : 3; int b : 2; };").ctype("struct s")()
        with pytest.raises(ValueError, match=r"8 does not fit bitfield 'a' \(unsigned int : 3\), "
                                             r"which holds 0..7"):
            s.a = 8
        with pytest.raises(ValueError, match="holds -2..1"):
            s.b = 2
        with pytest.raises(TypeError, match="needs an int"):
            s.a = "x"

    def test_packed_struct_by_value_layout(self):
        cls = ffikit.cdef("struct __attribute__((packed)) p { char c; int i; };").ctype("struct p")
        assert ctypes.sizeof(cls) == 5 and cls.i.offset == 1
