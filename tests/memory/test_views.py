"""ffikit.view / address / buffer: zero-copy by address, lifetime, read-only, errors."""

import array
import ctypes
import gc
import mmap
import struct
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ffikit
from crashproof import outcome

STUDENT = ffikit.cdef("typedef struct { int id; char name[50]; double score; int is_active; }"
                      " Student;")


class TestView:
    def test_shares_memory_both_ways(self):
        buf = bytearray(8)
        arr = ffikit.view(buf, "int32_t[2]")
        arr[1] = 5
        assert buf[4] == 5
        buf[0] = 7
        assert arr[0] == 7
        assert ctypes.addressof(arr) == ffikit.address(buf)

    def test_open_array_fits_the_buffer(self):
        arr = ffikit.view(np.arange(6, dtype=np.float64), "double[]")
        assert len(arr) == 6 and arr[5] == 5.0

    def test_open_array_again_and_again(self):
        """Repeated 'T[]' views (the cached fast path) fit each buffer exactly."""
        sources = [np.arange(6, dtype=np.float64), array.array("d", range(4)), bytearray(16),
                   memoryview(bytearray(40))[8:], np.zeros(3)]
        for _ in range(3):
            for src in sources:
                v = ffikit.view(src, "double[]")
                assert len(v) * 8 == memoryview(src).nbytes
                assert ctypes.addressof(v) == ffikit.address(src)
        with pytest.raises(ValueError, match="not a whole number of 'double'"):
            ffikit.view(bytearray(12), "double[]")
        ro = ffikit.view(bytes(16), "double[]")  # read-only: the general path
        assert len(ro) == 2 and type(ro)._ffikit_readonly_
        with pytest.raises(ffikit.NotContiguous):
            ffikit.view(np.zeros(8)[::2], "double[]")

    def test_offset_and_count(self):
        buf = bytearray(range(16))
        v = ffikit.view(buf, "uint8_t", offset=3, count=4)
        assert list(v) == [3, 4, 5, 6]
        assert ctypes.addressof(v) == ffikit.address(buf) + 3

    def test_struct_view_with_declarations(self):
        buf = bytearray(ctypes.sizeof(STUDENT.Student) * 2)
        students = ffikit.view(buf, "Student[]", defs=STUDENT)
        students[1].score = 9.5
        assert struct.unpack_from("d", buf, ctypes.sizeof(STUDENT.Student) + 56) == (9.5,)

    def test_keeps_source_alive_and_locked(self):
        buf = bytearray(b"\x01\x00\x00\x00" * 4)
        arr = ffikit.view(buf, "int32_t[]")
        with pytest.raises(BufferError):
            buf.extend(b"more")  # CPython refuses to move exported memory
        del buf
        gc.collect()
        assert list(arr) == [1, 1, 1, 1]

    def test_memoryview_slice_points_at_its_first_byte(self):
        data = bytearray(range(32))
        sl = memoryview(data)[6:14]
        v = ffikit.view(sl, "uint8_t[]")
        assert ctypes.addressof(v) == ffikit.address(data) + 6 and list(v) == list(range(6, 14))


class TestReadOnly:
    def test_bytes_view_is_zero_copy_and_read_only(self):
        data = b"\x02\x00\x00\x00\x03\x00\x00\x00"
        v = ffikit.view(data, "int32_t[2]")
        assert list(v) == [2, 3] and ctypes.addressof(v) == ffikit.address(data)
        with pytest.raises(ffikit.ReadOnlyBuffer, match="read-only"):
            v[0] = 1
        assert data == b"\x02\x00\x00\x00\x03\x00\x00\x00"

    def test_every_struct_write_path_raises(self):
        raw = bytes(ctypes.sizeof(STUDENT.Student) * 3)
        ro = ffikit.view(raw, STUDENT.Student, count=3)
        for write in (lambda: setattr(ro[1], "score", 3.0), lambda: ro.__setitem__(0, ro[1]),
                      lambda: setattr(ro[0], "id", 1),
                      lambda: ro[2].__setattr__("name", b"x")):
            with pytest.raises(ffikit.ReadOnlyBuffer):
                write()
        assert raw == bytes(len(raw))
        assert ffikit.buffer(ro).readonly

    def test_nested_members_are_read_only_too(self):
        defs = ffikit.cdef("struct in { int v[2]; }; struct out { struct in a; };")
        ro = ffikit.view(bytes(8), "struct out", defs=defs)
        with pytest.raises(ffikit.ReadOnlyBuffer):
            ro.a.v[1] = 3

    def test_read_only_numpy(self):
        a = np.zeros(4)
        a.flags.writeable = False
        with pytest.raises(ffikit.ReadOnlyBuffer):
            ffikit.view(a, "double[]")[0] = 1.0


class TestReadOnlyEscapeHatches:
    """Write paths ctypes owns, which a Python subclass cannot close (documented in view())."""

    def test_memoryview_of_a_read_only_view_is_writable_but_ffikit_buffer_is_not(self):
        ro = ffikit.view(bytes(8), "int32_t[2]")
        assert memoryview(ro).readonly is False  # ctypes' own export: Python 3.11 cannot override
        assert ffikit.buffer(ro).readonly is True  # the supported way to get its bytes

    def test_read_only_view_to_a_non_const_pointer_is_refused(self, cbuild):
        lib = ffikit.load(cbuild("void set42(int *p) { *p = 42; }", name="ro_set42"),
                          "void set42(int *p);")
        data = bytes(4)
        ro = ffikit.view(data, "int")
        with pytest.raises(ffikit.ReadOnlyBuffer, match="must be a writable buffer of int .*read-only"):
            lib.set42(ro)
        assert data == bytes(4)


class TestFormats:
    """ctypes' PEP 3118 exports vs the plain formats of the memoryviews ffikit makes."""

    def test_ctypes_integer_export_is_unusable_by_memoryview(self):
        ints = (ctypes.c_int * 4)(1, 2, 3, 4)
        with pytest.raises(NotImplementedError, match="unsupported format <i"):
            memoryview(ints).tolist()
        mv = ffikit.buffer(ints)
        assert mv.format == "B" and mv.cast("i").tolist() == [1, 2, 3, 4]

    def test_padded_ctypes_struct_export_misleads_numpy(self):
        class Padded(ctypes.Structure):
            _fields_ = [("a", ctypes.c_double), ("b", ctypes.c_char)]

        arr = (Padded * 3)()
        arr[1].a, arr[1].b = 2.5, b"z"
        if tuple(map(int, np.__version__.split(".")[:2])) < (2, 5):  # NumPy 2.5 reads it right
            with pytest.warns(RuntimeWarning, match="does not match its itemsize"):
                np.asarray(memoryview(arr))
        exact = ffikit.asarray(arr)
        assert exact.dtype.itemsize == 16 and exact.dtype.fields["b"][1] == 8
        assert exact["a"][1] == 2.5 and exact["b"][1] == b"z"
        assert exact.ctypes.data == ctypes.addressof(arr)  # zero-copy
        assert np.frombuffer(ffikit.buffer(arr), exact.dtype)["a"][1] == 2.5


class TestViewErrors:
    def test_too_small(self):
        with pytest.raises(ffikit.BufferTooSmall) as info:
            ffikit.view(bytearray(8), "int32_t[4]")
        assert str(info.value) == ("ffikit.view: 'int32_t[4]' needs 16 bytes at offset 0, "
                                   "the buffer has 8 bytes")

    def test_offset_past_the_end_is_an_error_not_an_empty_view(self):
        with pytest.raises(ffikit.BufferTooSmall, match="no room for even one 'uint8_t'"):
            ffikit.view(bytearray(4), "uint8_t[]", offset=4)

    def test_not_a_whole_number_of_items(self):
        with pytest.raises(ValueError, match="not a whole number of 'double'.*count="):
            ffikit.view(bytearray(12), "double[]")

    def test_misaligned(self):
        with pytest.raises(ffikit.MisalignedBuffer, match="not 8-byte aligned for 'double'"):
            ffikit.view(bytearray(16), "double", offset=1)
        assert ffikit.view(bytearray(16), "double", offset=1, unaligned=True).value == 0.0

    def test_non_contiguous(self):
        with pytest.raises(ffikit.NotContiguous, match="numpy.ascontiguousarray"):
            ffikit.view(np.zeros(8)[::2], "double[]")

    def test_not_a_buffer(self):
        with pytest.raises(TypeError, match="expected a buffer .* got list"):
            ffikit.view([1, 2], "int[2]")


class TestAddress:
    def test_buffers_ctypes_and_pointers(self):
        a = np.zeros(4)
        assert ffikit.address(a) == a.ctypes.data
        assert ffikit.address(memoryview(a)[1:]) == a.ctypes.data + 8
        c = ctypes.c_int(3)
        assert ffikit.address(c) == ctypes.addressof(c)
        assert ffikit.address(ctypes.pointer(c)) == ctypes.addressof(c)
        assert ffikit.address(ctypes.c_void_p(1234)) == 1234
        assert ffikit.address(None) == 0
        arr = array.array("i", [1, 2])
        assert ffikit.address(arr) == arr.buffer_info()[0]
        data = b"read-only bytes"
        assert ffikit.address(data) == ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value
        assert ffikit.address(memoryview(data)[5:]) == ffikit.address(data) + 5

    def test_not_addressable(self):
        with pytest.raises(TypeError, match="neither a buffer"):
            ffikit.address(3.5)


class TestBuffer:
    def test_over_a_ctypes_object(self):
        c = (ctypes.c_double * 2)(1.0, 2.0)
        mv = ffikit.buffer(c)
        assert (mv.format, mv.nbytes) == ("B", 16)
        assert np.frombuffer(mv, np.float64).tolist() == [1.0, 2.0]

    def test_keeps_owner_alive(self):
        owner = ctypes.create_string_buffer(b"hello", 8)
        mv = ffikit.buffer(ctypes.addressof(owner), 5, owner=owner)
        del owner
        gc.collect()
        assert bytes(mv[1:]) == b"ello"

    def test_readonly_and_errors(self):
        c = ctypes.c_int(1)
        with pytest.raises(TypeError):
            ffikit.buffer(c, readonly=True)[0] = 2
        with pytest.raises(TypeError, match="size= is required"):
            ffikit.buffer(ctypes.addressof(c))
        with pytest.raises(ffikit.BufferTooSmall):
            ffikit.buffer(c, 8)


class TestRawAddresses:
    """Bogus addresses raise InvalidAddress instead of killing the process (issue 15)."""

    @pytest.mark.parametrize("line", ["ffikit.buffer(16, 8)[0]", "ffikit.buffer(-1, 8)[0]"])
    def test_bogus_buffer_address_in_subprocess(self, line):
        got, err = outcome("import ffikit", line)
        assert got == "raised InvalidAddress", err

    def test_pointer_view_dereference_in_subprocess(self):
        got, err = outcome("import ffikit",
                           'ffikit.view(bytearray(b"\\x10" + bytes(7)), "int*")[0]')
        assert got == "raised InvalidAddress", err

    def test_function_pointer_view_call_in_subprocess(self):
        got, err = outcome("import ffikit", 'ffikit.view(bytearray(8), "int(*)(int)")(1)')
        assert got == "raised InvalidAddress", err
        got, err = outcome("import ffikit",
                           'ffikit.view(bytearray(b"\\x10" + bytes(7)), "int(*)(int)")(1)')
        assert got == "raised InvalidAddress", err

    def test_buffer_messages(self):
        with pytest.raises(ffikit.InvalidAddress, match=r"0x10 \(\+8 bytes\) is not readable.*unsafe=True"):
            ffikit.buffer(16, 8)
        with pytest.raises(ffikit.InvalidAddress, match="outside the address space"):
            ffikit.buffer(-1, 8)
        with pytest.raises(ffikit.InvalidAddress, match="NULL"):
            ffikit.buffer(0, 8)
        with pytest.raises(ffikit.InvalidAddress, match="not readable"):
            ffikit.buffer(ctypes.cast(16, ctypes.POINTER(ctypes.c_int)), 4)
        assert isinstance(ffikit.InvalidAddress("x"), ValueError)

    def test_valid_addresses_still_work(self):
        data = bytearray(b"hello")
        mv = ffikit.buffer(ffikit.address(data), 5, owner=data)
        mv[0] = ord("j")
        assert data == b"jello"
        c = ctypes.c_int(5)
        assert ffikit.buffer(ctypes.pointer(c), 4).tobytes() == struct.pack("i", 5)
        assert ffikit.buffer(ffikit.address(data), 0).nbytes == 0

    def test_read_only_mapping_needs_readonly(self):
        m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ)  # left open: views of it may outlive the test
        addr = np.frombuffer(m, np.uint8).ctypes.data
        with pytest.raises(ffikit.InvalidAddress, match="read-only memory.*readonly=True"):
            ffikit.buffer(addr, 16, owner=m)
        assert ffikit.buffer(addr, 16, readonly=True, owner=m)[0] == 0

    def test_unsafe_skips_the_check(self):
        data = bytearray(b"abc")
        assert ffikit.buffer(ffikit.address(data), 3, unsafe=True, owner=data)[2] == ord("c")

    def test_pointer_view_reads_through_a_valid_pointer(self):
        target = (ctypes.c_int * 3)(7, 8, 9)
        raw = bytearray(ctypes.addressof(target).to_bytes(8, sys.byteorder))
        p = ffikit.view(raw, "int*")
        assert isinstance(p, ctypes.POINTER(ctypes.c_int))
        assert (p[0], p[2], p[0:3], p.contents.value) == (7, 9, [7, 8, 9], 7)
        with pytest.raises(ffikit.InvalidAddress, match="writing through"):
            p[1] = 80
        ffikit.view(raw, "int*", unsafe=True)[1] = 80
        assert target[1] == 80
        with pytest.raises(ffikit.InvalidAddress, match="dereferencing 'int \\*'"):
            ffikit.view(bytearray(8), "int*")[0]
        arr = ffikit.view(raw + bytes(8), "int*[2]")
        assert arr[0][1] == 80
        with pytest.raises(ffikit.InvalidAddress, match="NULL"):
            arr[1][0]

    def test_read_only_pointer_views(self):
        # a view of bytes is a read-only subclass: it must keep the pointer's target type
        target = (ctypes.c_int * 2)(5, 6)
        p = ffikit.view(ctypes.addressof(target).to_bytes(8, sys.byteorder), "int*")
        assert ffikit.is_readonly(p) if hasattr(ffikit, "is_readonly") else True
        assert p[1] == 6
        with pytest.raises(ffikit.InvalidAddress, match="NULL"):
            ffikit.view(bytes(8), "int(*)(int)")(1)

    def test_function_pointer_view_needs_unsafe(self):
        libc = ctypes.CDLL(None)
        address = ctypes.cast(libc.abs, ctypes.c_void_p).value
        raw = bytearray(address.to_bytes(8, sys.byteorder))
        with pytest.raises(ffikit.InvalidAddress, match="view the memory with unsafe=True"):
            ffikit.view(raw, "int(*)(int)")(-3)
        assert ffikit.view(raw, "int(*)(int)", unsafe=True)(-3) == 3

    def test_unsafe_pointer_view_is_plain_ctypes(self):
        p = ffikit.view(bytearray(8), "int*", unsafe=True)
        assert type(p) is ctypes.POINTER(ctypes.c_int)


class TestConstantTimeCreation:
    def test_one_gigabyte_view_allocates_no_copy(self):
        import resource
        import tracemalloc

        big = mmap.mmap(-1, 1 << 30)  # anonymous: pages are not touched
        small = bytearray(1024)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        v_big = ffikit.view(big, "uint8_t[]")
        v_small = ffikit.view(small, "uint8_t[]")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert len(v_big) == 1 << 30 and len(v_small) == 1024
        assert peak < 64 * 1024  # bookkeeping only, no copy of either buffer
        assert rss_after - rss_before < 32 * 1024  # KiB: far below 1 GiB
        del v_big
        big.close()


FORMATS = {"int8_t": "b", "uint16_t": "H", "int32_t": "i", "uint64_t": "Q", "double": "d",
           "float": "f"}


class TestProperty:
    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(size=st.integers(0, 64), offset=st.integers(-2, 70),
           count=st.one_of(st.none(), st.integers(-1, 20)), ctype=st.sampled_from(list(FORMATS)),
           readonly=st.booleans(), data=st.data())
    def test_correct_view_or_ffikit_error(self, size, offset, count, ctype, readonly, data):
        raw = data.draw(st.binary(min_size=size, max_size=size))
        source = raw if readonly else bytearray(raw)
        fmt = FORMATS[ctype]
        itemsize = struct.calcsize(fmt)
        try:
            v = ffikit.view(source, ctype + "[]" if count is None else ctype, offset=offset,
                            count=count, unaligned=True)
        except (ffikit.FFIError, ValueError):
            return
        n = len(v) if hasattr(v, "__len__") else 1
        assert offset >= 0 and offset + n * itemsize <= size and n >= 1
        if count is not None:
            assert n == count
        else:
            assert n * itemsize == size - offset  # never silently short
        assert ctypes.string_at(ctypes.addressof(v), n * itemsize) == \
            raw[offset:offset + n * itemsize]
        assert ctypes.addressof(v) == ffikit.address(source) + offset  # zero-copy


class TestNamesWithoutDefs:
    def test_types_from_earlier_cdef_resolve(self):
        defs = ffikit.cdef("typedef struct { int id; double score; } ViewedRecord;")
        records = ffikit.view(bytearray(32), "ViewedRecord[]")
        assert type(records[0]) is defs.ViewedRecord and len(records) == 2

    def test_unknown_name_still_fails_clearly(self):
        with pytest.raises(ffikit.DeclarationError, match="unknown type name 'NoSuchRecord'"):
            ffikit.view(bytearray(8), "NoSuchRecord")

    def test_a_later_cdef_of_the_same_name_wins(self):
        ffikit.cdef("typedef struct { int a; } RedefinedRec;")
        assert ctypes.sizeof(ffikit.view(bytearray(8), "RedefinedRec")) == 4
        ffikit.cdef("typedef struct { double a; } RedefinedRec;")
        assert ctypes.sizeof(ffikit.view(bytearray(8), "RedefinedRec")) == 8
