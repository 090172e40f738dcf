"""ffikit's ctypes classes pickle by (declarations, name); instances by value, pointers refused."""

from __future__ import annotations

import ctypes
import pickle

import pytest

import ffikit
from pickle_helpers import in_fresh_interpreter

SOURCE = """
    typedef struct { int id; char name[16]; double score; unsigned flags : 3; } Student;
    struct node { int value; struct node *next; };
    typedef struct { struct node nodes[2]; } Graph;
    union number { int i; float f; };
"""


@pytest.fixture(scope="module")
def defs():
    return ffikit.cdef(SOURCE)


def test_struct_class_round_trips_to_the_same_class(defs):
    for cls in (defs.Student, defs.ctype("struct node"), defs.ctype("union number")):
        assert pickle.loads(pickle.dumps(cls)) is cls


def test_array_and_pointer_classes_round_trip(defs):
    assert pickle.loads(pickle.dumps(defs.Student * 3)) is defs.Student * 3
    assert pickle.loads(pickle.dumps(ctypes.POINTER(defs.Student))) is ctypes.POINTER(defs.Student)


def test_struct_instances_pickle_by_value(defs):
    s = defs.Student(id=7, name=b"ada", score=9.5)
    s.flags = 5
    back = pickle.loads(pickle.dumps(s))
    assert type(back) is defs.Student
    assert (back.id, back.name, back.score, back.flags) == (7, b"ada", 9.5, 5)
    table = (defs.Student * 2)()
    table[1].score = 2.5
    assert pickle.loads(pickle.dumps(table))[1].score == 2.5


def test_struct_read_in_a_fresh_interpreter(defs, tmp_path):
    s = defs.Student(id=3, name=b"grace", score=1.25)
    out = in_fresh_interpreter(s, """
        print(type(obj).__name__, obj.id, obj.name.decode(), obj.score)
    """, tmp_path)
    assert out == "Student 3 grace 1.25"


def test_pointer_members_are_refused_naming_them(defs):
    with pytest.raises(ffikit.NotPicklable, match="member 'next' holds an address"):
        pickle.dumps(defs.ctype("struct node")())
    with pytest.raises(ffikit.NotPicklable, match=r"'nodes\.next'") as info:
        pickle.dumps(defs.Graph())
    assert isinstance(info.value, TypeError)


def test_other_ctypes_classes_pickle_as_before():
    """The copyreg route defers to pickle's default for classes ffikit did not build."""
    with pytest.raises(pickle.PicklingError):
        pickle.dumps(ctypes.c_int * 3)  # a ctypes array class has no importable name
    assert pickle.loads(pickle.dumps(ctypes.c_double(2.5))).value == 2.5


def test_cloudpickle_defers_to_the_recipe(defs):
    """Dask and Ray pickle with cloudpickle, which copies unknown classes by value:
    ffikit's classes are findable by name here, so it uses the recipe instead."""
    cloudpickle = pytest.importorskip("cloudpickle", reason="cloudpickle comes with ffikit[dask]")
    assert pickle.loads(cloudpickle.dumps(defs.Student)) is defs.Student
    s = defs.Student(id=11)
    assert pickle.loads(cloudpickle.dumps(s)).id == 11


def test_enum_members_pickle_by_declarations_and_name(tmp_path):
    defs = ffikit.cdef("enum color { RED, GREEN = 5, BLUE };")
    assert pickle.loads(pickle.dumps(defs.GREEN)) is defs.GREEN
    out = in_fresh_interpreter(defs.BLUE, "print(type(obj).__name__, obj.name, int(obj))", tmp_path)
    assert out == "color BLUE 6"


def test_a_struct_viewing_a_buffer_pickles_its_bytes_not_the_buffer(defs):
    buf = bytearray(ctypes.sizeof(defs.Student))
    view = ffikit.view(memoryview(buf), defs.Student)  # its __dict__ keeps the memoryview
    view.id = 12
    back = pickle.loads(pickle.dumps(view))
    assert back.id == 12 and type(back) is defs.Student
    back.id = 13
    assert view.id == 12  # a copy, not the same memory
