"""The pure-Python ELF reader."""

from __future__ import annotations

import struct

import pytest

from calls_helpers import elf32_stub
from ffikit.boundary import elf as _elf


class TestReadElf:
    def test_real_library(self, cbuild):
        path = cbuild("int exported_one(void) { return 1; } static int hidden(void) { return 2; } int v = 3;",
                      name="elfprobe", libraries=("m",), flags=("-Wl,--no-as-needed",))
        info = _elf.read_elf(path)
        assert (info.bits, info.machine, info.little_endian) == (64, "x86-64", True)
        assert {"exported_one", "v"} <= info.exports
        assert "hidden" not in info.exports
        assert "libm.so.6" in info.needed
        assert info.describe() == "64-bit x86-64 (little-endian)"
        assert _elf.describe_mismatch(info) is None

    def test_system_soname(self):
        info = _elf.read_elf("/lib/x86_64-linux-gnu/libz.so.1")
        assert info.soname == "libz.so.1"
        assert "compress" in info.exports and "libc.so.6" in info.needed

    def test_32_bit(self, tmp_path):
        elf32_stub(tmp_path / "x.so")
        info = _elf.read_elf(tmp_path / "x.so")
        assert (info.bits, info.machine) == (32, "x86")
        assert _elf.describe_mismatch(info) == "32-bit library, 64-bit Python"

    def test_other_machine(self):
        head = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8) + struct.pack("<HH", 3, 183) + bytes(44)
        info = _elf.parse_elf(head, "arm.so")
        assert _elf.describe_mismatch(info) == "aarch64 library, x86-64 Python"

    def test_not_elf(self, tmp_path):
        (tmp_path / "t").write_bytes(b"#!/bin/sh\n" * 10)
        with pytest.raises(_elf.NotElf, match="is not an ELF file"):
            _elf.read_elf(tmp_path / "t")

    def test_truncated_tables_keep_header_facts(self):
        head = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8) + struct.pack("<HH", 3, 62) + bytes(44)
        info = _elf.parse_elf(head + bytes(8))
        assert info.bits == 64 and info.exports == frozenset()

    def test_host(self):
        assert _elf.host_elf() == (64, "x86-64")
