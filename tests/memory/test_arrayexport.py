"""ffikit memory as an array to NumPy and PyTorch: ``__array_interface__`` and DLPack, typed."""

from __future__ import annotations

import gc

import pytest

import ffikit
from crashproof import run_isolated

np = pytest.importorskip("numpy")


class Interface:
    def __init__(self, memory):
        self.__array_interface__ = memory.__array_interface__


@pytest.mark.parametrize("ctype, dtype", [("double", "float64"), ("float", "float32"), ("int8_t", "int8"),
                                          ("uint64_t", "uint64"), ("long", "int64"), ("_Bool", "bool")])
def test_dlpack_and_interface_carry_the_item_type(ctype, dtype):
    m = ffikit.alloc(ctype, 3)
    for array in (np.from_dlpack(m), np.asarray(Interface(m))):
        assert (array.dtype, array.shape, array.ctypes.data) == (np.dtype(dtype), (3,), m.address)
    assert m.__dlpack_device__() == (1, 0)


def test_writes_are_shared_and_free_waits_for_the_consumer():
    m = ffikit.alloc("double", 3)
    a = np.from_dlpack(m)
    a[:] = [1.5, 2.5, 3.5]
    assert list(ffikit.asarray(m)) == [1.5, 2.5, 3.5]
    with pytest.raises(ffikit.MemoryInUse):
        m.free()
    del a
    gc.collect()
    m.free()
    with pytest.raises(ValueError):
        np.from_dlpack(m)


def test_read_only_memory_exports_read_only():
    m = ffikit.alloc("int32_t", 4, pages=True)
    m.protect("r")
    assert not np.from_dlpack(m).flags.writeable
    assert m.__array_interface__["data"][1] is True
    with pytest.raises(BufferError, match="read-only.*max_version"):
        m.__dlpack__()  # a pre-1.0 consumer cannot be told


def test_items_without_an_array_type_are_refused():
    defs = ffikit.cdef("typedef struct { int x, y; } P;")
    m = ffikit.alloc("P", 2, defs=defs)
    with pytest.raises(BufferError, match="P have no array element type.*ffikit.asarray"):
        m.__dlpack__()
    with pytest.raises(BufferError):
        m.__array_interface__  # noqa: B018
    with pytest.raises(BufferError, match="cpu:0"):
        ffikit.alloc("double", 1).__dlpack__(dl_device=(2, 0))


def test_unconsumed_and_consumed_capsules_free_their_tensor_in_a_child():
    result = run_isolated("""
        import gc
        import numpy as np
        import ffikit
        from ffikit.memory import arrayexport
        m = ffikit.alloc("double", 1000)
        for _ in range(200):
            m.__dlpack__(max_version=(1, 0))       # dropped unconsumed
            m.__dlpack__()
            np.from_dlpack(m).sum()               # consumed, then released
        gc.collect()
        assert arrayexport._LIVE == {}, len(arrayexport._LIVE)
        m.free()
        print("OK")
    """)
    assert result.returncode == 0 and "OK" in result.stdout, result.stderr


def test_torch_reads_ffikit_memory():
    torch = pytest.importorskip("torch")
    m = ffikit.alloc("double", 3)
    t = torch.from_dlpack(m)
    t += 2
    assert (t.dtype, tuple(t.shape), t.data_ptr()) == (torch.float64, (3,), m.address)
    assert list(ffikit.asarray(m)) == [2.0, 2.0, 2.0]
