"""memory/mappings.py: which address ranges are readable and writable, checked without faulting."""

import ctypes
import mmap

import numpy as np
import pytest

import ffikit
from ffikit.memory import mappings


def _address_of(m: mmap.mmap) -> int:
    return np.frombuffer(m, np.uint8).ctypes.data


class TestReadable:
    def test_heap_is_readable_and_low_memory_is_not(self):
        data = bytearray(100)
        assert mappings.is_readable(ffikit.address(data), 100) is True
        assert mappings.is_readable(16, 8) is False

    def test_large_ranges_are_probed_page_by_page(self):
        with mmap.mmap(-1, 64 * 4096) as m:
            addr = _address_of(m)
            assert mappings.is_readable(addr, 64 * 4096) is True
            assert mappings.is_readable(addr, 64 * 4096 + (1 << 40)) is False

    def test_unmapped_after_the_table_was_read(self):
        m = mmap.mmap(-1, 4096)
        addr = _address_of(m)
        mappings.check_range(addr, 4096, write=True, what="t")  # the table now lists it
        m.close()
        with pytest.raises(ffikit.InvalidAddress, match="not readable"):
            mappings.check_range(addr, 16, write=False, what="t")


class TestPermissions:
    def test_read_only_and_none(self):
        with mmap.mmap(-1, 4096, prot=mmap.PROT_READ) as m:
            addr = _address_of(m)
            assert mappings.permissions(addr, 4096, refresh=True) == "r"
            mappings.check_range(addr, 4096, write=False, what="t")
            with pytest.raises(ffikit.InvalidAddress, match="read-only memory"):
                mappings.check_range(addr, 8, write=True, what="t")

    def test_range_spanning_two_mappings_must_be_contiguous(self):
        data = bytearray(64)
        addr = ffikit.address(data)
        assert "r" in mappings.permissions(addr, 64)
        assert mappings.permissions(1 << 46, 8) is None

    def test_forget_rereads(self):
        mappings.forget()
        m = mmap.mmap(-1, 4096)
        try:
            assert mappings.permissions(_address_of(m), 4096) in ("rw", "rwx")
        finally:
            m.close()


class TestCheckRange:
    @pytest.mark.parametrize("address,size,match", [
        (0, 8, "NULL"), (-1, 8, "outside the address space"), (1 << 64, 1, "outside"),
        (16, 8, "not readable"),
    ])
    def test_refusals_name_the_opt_in_or_the_reason(self, address, size, match):
        with pytest.raises(ffikit.InvalidAddress, match=match):
            mappings.check_range(address, size, write=False, what="ffikit.buffer")

    def test_not_an_int(self):
        with pytest.raises(ffikit.InvalidAddress, match="an address is an int"):
            mappings.check_range(1.5, 8, write=False, what="t")

    def test_zero_bytes_are_always_fine_off_null(self):
        mappings.check_range(16, 0, write=True, what="t")

    def test_ctypes_memory_is_writable(self):
        c = ctypes.c_int(3)
        mappings.check_range(ctypes.addressof(c), 4, write=True, what="t")


class TestWritable:
    def test_probe_sees_protection_changed_after_the_table_was_read(self):
        m = mmap.mmap(-1, 4096)
        addr = _address_of(m)
        mappings.check_range(addr, 4096, write=True, what="t")  # the table says rw
        m.close()
        ro = mmap.mmap(-1, 4096, prot=mmap.PROT_READ)  # may land at the same address
        raddr = _address_of(ro)
        if mappings.is_writable(raddr, 16) is None:
            pytest.skip("no MADV_POPULATE_WRITE on this kernel")
        assert mappings.is_writable(raddr, 16) is False
        with pytest.raises(ffikit.InvalidAddress, match="read-only memory"):
            mappings.check_range(raddr, 16, write=True, what="t")

    def test_large_ranges_probe_their_ends(self):
        with mmap.mmap(-1, 128 * 4096) as m:
            addr = _address_of(m)
            assert mappings.is_writable(addr, 128 * 4096) in (None, True)
            mappings.check_range(addr, 128 * 4096, write=True, what="t")


def _rss_kib() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4


def test_checking_a_large_range_commits_no_memory():
    m = mmap.mmap(-1, 256 << 20)  # untouched: no memory behind it yet
    addr = _address_of(m)
    before = _rss_kib()
    ffikit.buffer(addr, 256 << 20, readonly=True, owner=m)
    ffikit.buffer(addr, 256 << 20, owner=m)
    assert _rss_kib() - before < 32 << 10  # KiB: far below the 256 MiB a page-by-page probe commits
    with pytest.raises(ffikit.InvalidAddress):
        mappings.check_range(addr, 1 << 45, write=False, what="t")
