"""Arrays that are not buffers (``__dlpack__``, ``__array_interface__``, PyTorch) reach ``T *``."""

from __future__ import annotations

import pytest

import ffikit

np = pytest.importorskip("numpy")

SOURCE = """
double total(const double *p, int n) { double s = 0; for (int i = 0; i < n; i++) s += p[i]; return s; }
void scale(double *p, int n) { for (int i = 0; i < n; i++) p[i] *= 2; }
const void *where(const void *p) { return p; }
"""
DECLS = "double total(const double *p, int n); void scale(double *p, int n); const void *where(const void *p);"


class OnlyDLPack:
    """Exposes nothing but DLPack (as a JAX or CuPy array would)."""

    def __init__(self, array, device=(1, 0)):
        self.array, self.device = array, device

    def __dlpack__(self, **kwargs):
        return self.array.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.device


class OnlyInterface:
    """Exposes nothing but NumPy's array interface."""

    def __init__(self, array):
        self.array = array

    @property
    def __array_interface__(self):
        return self.array.__array_interface__


@pytest.fixture(scope="module")
def lib(cbuild, backend):
    return ffikit.load(cbuild(SOURCE, name="arrays_in"), DECLS, sizes={"total": {"p": "n"}})


@pytest.mark.parametrize("wrap", [OnlyDLPack, OnlyInterface])
class TestProtocols:
    def test_reaches_the_pointer_zero_copy(self, lib, wrap):
        a = np.arange(5.0)
        assert lib.where(wrap(a)).value == a.ctypes.data
        assert lib.total(wrap(a), 5) == 10.0
        lib.scale(wrap(a), 5)
        assert a.tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]

    def test_same_rules_as_buffers(self, lib, wrap):
        with pytest.raises(ffikit.ArgumentError, match="must be a buffer of double.*int"):
            lib.total(wrap(np.arange(3, dtype=np.int64)), 3)
        with pytest.raises(ffikit.NotContiguous, match="'p' of 'total'.*not C-contiguous"):
            lib.total(wrap(np.arange(8.0)[::2]), 4)
        with pytest.raises(ffikit.BufferTooSmall):
            lib.total(wrap(np.arange(3.0)), 4)  # the sizes= relation: p holds n items
        assert lib.total(wrap(np.zeros((0,))), 0) == 0.0
        assert lib.total(wrap(np.arange(6.0).reshape(2, 3)), 6) == 15.0

    def test_read_only_reaches_const_only(self, lib, wrap):
        a = np.arange(3.0)
        a.flags.writeable = False
        assert lib.total(wrap(a), 3) == 3.0
        with pytest.raises(ffikit.ReadOnlyBuffer, match="'p' of 'scale'"):
            lib.scale(wrap(a), 3)
        assert a.tolist() == [0.0, 1.0, 2.0]


def test_byte_swapped_interface_is_refused(lib):
    with pytest.raises(ffikit.ArgumentError, match="byte-swapped"):
        lib.total(OnlyInterface(np.arange(3.0).astype(">f8")), 3)


@pytest.mark.parametrize("device, name", [((2, 1), "cuda:1"), ((10, 0), "rocm:0"), ((99, 0), "device type 99:0")])
def test_a_device_array_is_refused_naming_the_device(lib, device, name):
    with pytest.raises(ffikit.ArgumentError, match=f"'p' of 'total'.*lives on {name}.*cpu"):
        lib.total(OnlyDLPack(np.arange(3.0), device), 3)


def test_neither_protocol_still_refused_as_before(lib):
    with pytest.raises(ffikit.ArgumentError, match="a buffer of double"):
        lib.total(object(), 1)


def test_a_torch_cpu_tensor(lib):
    torch = pytest.importorskip("torch")
    t = torch.arange(4, dtype=torch.float64)
    assert lib.where(t).value == t.data_ptr()
    lib.scale(t, 4)
    assert t.tolist() == [0.0, 2.0, 4.0, 6.0]
    with pytest.raises(ffikit.ArgumentError, match="float32|format 'f'"):
        lib.total(t.float(), 4)
    with pytest.raises(ffikit.NotContiguous):
        lib.total(torch.arange(8, dtype=torch.float64)[::2], 4)
