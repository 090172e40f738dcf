"""Page protection primitives."""

import mmap

import pytest

from ffikit.memory import pages as _pages


def test_protect_round_trip():
    m = mmap.mmap(-1, mmap.PAGESIZE)
    address = _pages.address_of(m)
    _pages.protect(address, mmap.PAGESIZE, "r")
    _pages.protect(address, mmap.PAGESIZE, "rw")
    m[0] = 1
    assert m[0] == 1


def test_unaligned_address_is_refused():
    with pytest.raises(ValueError, match="not page-aligned"):
        _pages.protect(mmap.PAGESIZE + 1, 10, "r")
