"""classify: which argument types a compiled wrapper passes to C without asking Python."""

from __future__ import annotations

import array
import ctypes

import numpy as np

import ffikit
from ffikit.backends.compiled.classify import (
    ADDRESS,
    BUFFER,
    LEND,
    REGION,
    SLOW,
    THUNK,
    VALUE,
    char_param_indexes,
    classifier,
    result_maker,
)
from ffikit.backends.ctypes.types import ctype_of

H = """typedef struct { int id; double score; } S;
void f(const S *s, double *d, int **out, const char *text, int (*cb)(int));"""


def _classify():
    defs = ffikit.cdef(H)
    ftype = defs.functions["f"].type
    return defs, classifier("f", ftype, "utf-8", char_param_indexes(ftype))


class Other(ctypes.Structure):
    _fields_ = [("id", ctypes.c_int), ("score", ctypes.c_double)]


class TestClassifier:
    def test_buffers(self):
        _defs, classify = _classify()
        assert classify(1, bytearray) == BUFFER and classify(1, array.array) == BUFFER
        assert classify(1, np.memmap) == BUFFER

    def test_ctypes_objects_as_the_converter_passes_them(self):
        defs, classify = _classify()
        assert classify(0, defs.S * 10) == ADDRESS
        assert classify(0, defs.S) == ADDRESS
        assert classify(0, ctypes.POINTER(defs.S)) == VALUE
        assert classify(1, ctypes.c_double) == ADDRESS
        assert classify(2, ctypes.POINTER(ctypes.c_int)) == ADDRESS  # an out-slot: its address

    def test_ffikit_memory_by_its_region(self):
        _defs, classify = _classify()
        assert classify(1, type(ffikit.alloc("double", 2))) == REGION

    def test_refused_or_unusual_types_take_the_slow_path(self):
        _defs, classify = _classify()
        assert classify(0, Other * 10) == SLOW  # another declaration's struct: refused there
        assert classify(1, ctypes.c_float) == SLOW
        assert classify(0, int) == BUFFER  # not a buffer: PyObject_GetBuffer fails, slow path refuses
        assert classify(3, bytes) == SLOW  # C strings: only the C side's bytes check is fast

    def test_callbacks(self):
        _defs, classify = _classify()
        assert classify(4, ffikit.callback("int (*)(int)", abs).__class__) == THUNK
        assert classify(4, ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)) == VALUE
        assert classify(4, ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_double)) == SLOW  # checked there

    def test_function_pointer_classes_are_made_when_first_asked_about(self):
        defs = ffikit.cdef(H)
        ftype = defs.functions["f"].type
        fptypes: list = [None] * 5
        classify = classifier("f", ftype, "utf-8", fptypes=fptypes)
        assert classify(0, bytearray) == BUFFER and fptypes == [None] * 5  # binding builds none
        callback = ffikit.callback("int (*)(int)", abs)
        assert classify(4, type(callback)) == THUNK
        assert fptypes[:4] == [None] * 4 and fptypes[4] is ctype_of(ftype.params[4])
        assert callback.fp_type is fptypes[4]  # what C compares a callback's class with

    def test_plain_callables_borrow_a_pool_slot_and_the_rest_is_refused_slowly(self):
        _defs, classify = _classify()

        class Calls:
            def __call__(self, x):
                return x

        class HeldSubclass(type(ffikit.callback("int (*)(int)", abs))):
            pass

        for tp in (type(abs), type(lambda x: x), Calls, type(Calls().__call__), type(print)):
            assert classify(4, tp) == LEND, tp
        for tp in (int, str, type(None), HeldSubclass, ctypes.c_void_p):
            assert classify(4, tp) == SLOW, tp  # the slow path says what is wrong with them
        assert "argument 5 'cb' of 'f'" == classify.owner_text(4)  # what a late call names


class TestResultMaker:
    def test_results_c_builds_are_their_ctypes_classes(self):
        class S(ctypes.Structure):
            _fields_ = [("x", ctypes.c_int)]

        for cls in (ctypes.POINTER(ctypes.c_int), ctypes.c_void_p, S):
            assert result_maker(cls) is cls
        assert result_maker(ctypes.c_int) is None and result_maker(ctypes.c_char_p) is None
        assert result_maker(None) is None
