"""Typed views export DLPack (issue 22): ffikit.view, m.view, adopt/pool views, the same
address, the source kept alive by the consumer's array, read-only kept read-only."""

from __future__ import annotations

import ctypes
import gc

import numpy as np
import pytest

import ffikit


def test_view_of_numpy_reaches_from_dlpack_at_the_same_address():
    a = np.arange(8.0)
    v = ffikit.view(a, "double[8]")
    assert isinstance(v, ctypes.c_double * 8)  # still the ctypes array type to ctypes and C calls
    b = np.from_dlpack(v)
    assert (b.dtype, b.shape, b.ctypes.data) == (np.float64, (8,), a.ctypes.data)
    b[3] = -1.0
    assert a[3] == -1.0 and v[3] == -1.0


@pytest.mark.parametrize("spec, shape, dtype", [("int32_t[]", (6,), np.int32),
                                                ("uint16_t[12]", (12,), np.uint16),
                                                ("float[3][2]", (3, 2), np.float32),
                                                ("_Bool[24]", (24,), np.bool_)])
def test_shapes_and_types(spec, shape, dtype):
    buf = bytearray(24)
    got = np.from_dlpack(ffikit.view(buf, spec))
    assert (got.dtype, got.shape, got.ctypes.data) == (np.dtype(dtype), shape, ffikit.address(buf))


def test_the_consumer_keeps_the_memory_alive():
    buf = bytearray(b"\x01" * 32)
    arr = np.from_dlpack(ffikit.view(buf, "uint8_t[]"))
    with pytest.raises(BufferError):
        buf.extend(b"x")  # the capsule holds an export: the bytearray cannot move
    del buf
    gc.collect()
    assert arr.sum() == 32
    arr[:] = 2
    assert arr.sum() == 64


def test_memory_views_pools_and_adopted_memory():
    m = ffikit.alloc("int64_t", 4)
    t = np.from_dlpack(m.view)
    assert (t.dtype, t.shape, t.ctypes.data) == (np.int64, (4,), m.address)
    with pytest.raises(ffikit.MemoryInUse):
        m.free()  # the tensor's export waits
    del t
    gc.collect()
    m.free()
    pool = ffikit.Pool(32, 4)
    block = pool.alloc("double[4]")
    assert np.from_dlpack(block.view).shape == (4,)
    assert np.from_dlpack(pool.alloc().view).dtype == np.uint8  # untyped: bytes
    del block
    arena = ffikit.Arena(256)
    assert np.from_dlpack(arena.alloc("int32_t", 8).view).shape == (8,)
    gc.collect()
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    adopted = ffikit.adopt(libc.malloc(24), 24, free=libc.free, ctype="float", count=6)
    got = np.from_dlpack(adopted.view)
    assert (got.dtype, got.shape, got.ctypes.data) == (np.float32, (6,), adopted.address)
    del got
    gc.collect()
    adopted.free()


def test_read_only_views_export_read_only_or_are_refused():
    ro = ffikit.view(bytes(16), "double[]")
    got = np.from_dlpack(ro)
    assert got.shape == (2,) and not got.flags.writeable
    with pytest.raises(BufferError, match="read-only"):
        ro.__dlpack__()  # an old consumer (no max_version) cannot be told
    with pytest.raises(BufferError, match="not on"):
        ro.__dlpack__(dl_device=(2, 0), max_version=(1, 0))
    with pytest.raises(BufferError, match="without copying"):
        ro.__dlpack__(copy=True, max_version=(1, 0))
    assert ro.__dlpack_device__() == (1, 0)


def test_items_without_an_array_type_have_no_dlpack():
    defs = ffikit.cdef("typedef struct { int x, y; } P;")
    buf = bytearray(64)
    for view in (ffikit.view(buf, "P[2]", defs=defs), ffikit.view(buf, "void *[2]"),
                 ffikit.view(buf, "double")):
        assert not hasattr(view, "__dlpack__"), type(view)


@pytest.mark.parametrize("backend", ["ctypes", "compiled"])
def test_a_dlpack_view_still_passes_to_c(cbuild, backend):
    path = cbuild("double total(const double *p, int n) { double s = 0; "
                  "for (int i = 0; i < n; i++) s += p[i]; return s; }", name="typed_exports")
    lib = ffikit.load(path, "double total(const double *p, int n);", backend=backend)
    a = np.arange(5.0)
    assert lib.total(ffikit.view(a, "double[5]"), 5) == 10.0
    assert lib.total(ffikit.view(a, "double[]"), 5) == 10.0
