"""Builtin errors from Python's buffer machinery become ffikit errors naming the object and
the fix, and stay the builtin users catch (issue 19 item 21)."""

from __future__ import annotations

import mmap

import pytest

import ffikit
from ffikit.backends.ctypes.buffer_errors import argument_refusal, released

C = """
void scale(double *a, int n, double f) { for (int i = 0; i < n; i++) a[i] *= f; }
int total(const unsigned char *p, int n) { int t = 0; for (int i = 0; i < n; i++) t += p[i]; return t; }
"""
DECL = "void scale(double *a, int n, double f); int total(const unsigned char *p, int n);"


def _closed_mmap():
    m = mmap.mmap(-1, 4096)
    m.close()
    return m


def _released_view():
    mv = memoryview(bytearray(64))
    mv.release()
    return mv


@pytest.fixture(scope="module")
def lib(cbuild, backend):
    return ffikit.load(cbuild(C, name="buffer_errors"), DECL, backend=backend)


@pytest.mark.parametrize("make", [_closed_mmap, _released_view], ids=["closed mmap", "released"])
def test_a_call_given_gone_memory_names_the_argument(lib, make):
    gone = make()
    with pytest.raises(ffikit.MemoryReleased) as info:
        lib.scale(gone, 0, 2.0)
    assert str(info.value).startswith(f"argument 1 'a' of 'scale': the {type(gone).__name__} "
                                      "given is released or closed")
    assert isinstance(info.value, ValueError)
    with pytest.raises(ffikit.MemoryReleased, match="argument 1 'p' of 'total'"):
        lib.total(gone, 0)
    assert lib.total(b"\x01\x02", 2) == 3  # the function still works afterwards


@pytest.mark.parametrize("make", [_closed_mmap, _released_view], ids=["closed mmap", "released"])
def test_view_of_gone_memory(make):
    gone = make()
    for spec in ("int[]", "int"):
        with pytest.raises(ffikit.MemoryReleased, match=r"ffikit.view: the \w+ given is released"):
            ffikit.view(gone, spec)


@pytest.mark.parametrize("count", [2**62, 2**70])
def test_view_count_no_buffer_holds(count):
    with pytest.raises(ffikit.BufferTooSmall, match="lower count"):
        ffikit.view(bytearray(16), "int", count=count)


@pytest.mark.parametrize("size", [2**62, 2**63, 2**64])
def test_buffer_size_no_memory_spans(size):
    block = ffikit.alloc("char", 16)
    with pytest.raises(ffikit.InvalidAddress, match="cannot all be memory of this process"):
        ffikit.buffer(ffikit.address(block), size)
    block.free()


def test_shared_errors():
    with pytest.raises(ffikit.OutOfMemory, match="more than this process can address"):
        ffikit.shared(None, "int", 2**62)
    for name in ("bad/name/x", "", "/"):
        with pytest.raises(ffikit.InvalidValue, match="is not a shared memory name"):
            ffikit.shared(name, "int", 4)
    with pytest.raises(ffikit.InvalidValue, match="the system refused"):
        ffikit.shared("n" * 300, "int", 4)
    with pytest.raises(ffikit.SharedMemoryNotFound, match="create it first") as info:
        ffikit.shared("ffikit-no-such-block-19", "int", 4, create=False)
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(ffikit.InvalidValue, match="count must be >= 1"):
        ffikit.shared(None, "int", 0)
    block = ffikit.shared(None, "int", 2)
    try:
        with pytest.raises(ffikit.SharedMemoryExists) as exists:
            ffikit.shared(block.name, "int", 2)
        assert isinstance(exists.value, FileExistsError)
    finally:
        block.close()


def test_released_tells_gone_memory_from_other_objects():
    assert released(_closed_mmap()) and released(_released_view())
    assert not released(bytearray(2)) and not released(5)


def test_argument_refusal_without_a_released_argument():
    err = argument_refusal(OverflowError("too big"), "f", ("n",), (2**80,))
    assert isinstance(err, ffikit.InvalidValue) and "too large for C" in str(err)
