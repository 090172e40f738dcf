"""Exact NumPy dtypes and zero-copy arrays over C memory."""

import ctypes

import numpy as np
import pytest

import ffikit
from randstructs import random_declarations

DEFS = ffikit.cdef("""
    typedef struct { int id; char name[50]; double score; int is_active; } Student;
    struct bits { int a : 3; unsigned b : 5; char c; struct { short s; }; double grid[2][3]; };
""")


class TestDtype:
    def test_student(self):
        dt = ffikit.dtype(DEFS.Student)
        assert dt.names == ("id", "name", "score", "is_active")
        assert [dt.fields[n][1] for n in dt.names] == [0, 4, 56, 64]
        assert dt.itemsize == 72 and dt["name"] == np.dtype("S50")

    def test_scalars_arrays_and_text(self):
        assert ffikit.dtype("int32_t") == np.int32
        assert ffikit.dtype("double[2][3]") == np.dtype((np.float64, (2, 3)))
        assert ffikit.dtype("void *") == np.uintp

    def test_bitfields_become_their_storage_with_a_note(self):
        dt = ffikit.dtype(DEFS.ctype("struct bits"))
        assert dt.fields["a|b"][1] == 0 and dt["a|b"] == np.uint8
        assert dt.metadata["bitfields"] == {"a|b": ["a", "b"]}
        assert dt.fields["s"][1] == 2 and dt.fields["grid"][1] == 8

    def test_offsets_match_ctypes_for_random_structs(self):
        gen = random_declarations(seed=77, count=200)
        defs = ffikit.cdef(gen.c_definitions())
        for s in gen.structs:
            cls = defs.ctype(f"{s.kind} {s.name}")
            dt = ffikit.dtype(cls)
            assert dt.itemsize == ctypes.sizeof(cls)
            runs = (dt.metadata or {}).get("bitfields", {})
            for name in dt.names:
                if name in runs or name == "_ffikit_align":
                    continue
                assert dt.fields[name][1] == defs.layout(f"{s.kind} {s.name}").field(name).offset

    def test_reverse(self):
        ct = ffikit.ctype(ffikit.dtype(DEFS.Student))
        assert ctypes.sizeof(ct) == 72 and ct.score.offset == 56
        assert ffikit.ctype(np.float32) is ctypes.c_float
        with pytest.raises(TypeError, match="no ctypes type"):
            ffikit.ctype(np.dtype(">i4"))


class TestAsarray:
    def test_student_array_both_ways(self):
        students = (DEFS.Student * 3)()
        a = ffikit.asarray(students)
        assert a.ctypes.data == ctypes.addressof(students) and a.shape == (3,)
        students[1].score = 2.5
        students[1].name = b"bob"
        assert a["score"][1] == 2.5 and a["name"][1] == b"bob"
        a["id"][2] = 7
        assert students[2].id == 7

    def test_raw_buffer_with_type(self):
        buf = bytearray(24)
        a = ffikit.asarray(buf, "double[]")
        a[2] = 1.5
        assert a.ctypes.data == ffikit.address(buf) and buf[16:] == np.float64(1.5).tobytes()

    def test_read_only_source_gives_read_only_array(self):
        a = ffikit.asarray(bytes(16), "int32_t[]")
        assert not a.flags.writeable
        ro = ffikit.view(bytes(72), DEFS.Student)
        assert not ffikit.asarray(ro).flags.writeable

    def test_too_small(self):
        with pytest.raises(ffikit.BufferTooSmall):
            ffikit.asarray(bytearray(4), "double[2]")

    @pytest.mark.parametrize("kind", [{}, {"pages": True}])
    @pytest.mark.parametrize("ctype", ["double", "int8_t", "uint64_t", "_Bool", "void *", "char",
                                       "float"])
    def test_memory_of_every_item_kind_same_as_its_region(self, kind, ctype):
        m = ffikit.alloc(ctype, 3, **kind)
        a = ffikit.asarray(m)  # typed memory takes a shortcut: the same array either way
        want = np.frombuffer(m.region(), dtype=ffikit.dtype(m.ctype), count=3)
        assert (a.dtype, a.shape, a.ctypes.data) == (want.dtype, (3,), m.address)
        del a, want
        if kind:
            m.protect("r")
            assert not ffikit.asarray(m).flags.writeable
            m.protect("none")
            with pytest.raises(ffikit.ProtectedMemory):
                ffikit.asarray(m)
            m.protect("rw")
        m.free()
        with pytest.raises(ffikit.MemoryReleased):
            ffikit.asarray(m)


class TestAlignment:
    def test_dtype_and_asarray_carry_the_c_alignment(self):
        defs = ffikit.cdef("struct v { int a; } __attribute__((aligned(16)));"
                           "typedef struct { char c; double d; } plain;"
                           "struct p { char c; int i; } __attribute__((packed));")
        assert ffikit.dtype(defs.ctype("struct v")).alignment == 16
        assert ffikit.dtype(defs.ctype("struct v")).itemsize == 16
        table = ffikit.asarray((defs.plain * 3)())
        assert table.dtype.alignment == 8 and table.dtype.isalignedstruct
        assert ffikit.dtype(defs.ctype("struct p")).alignment == 1
