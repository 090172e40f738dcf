"""A small pure-Python ELF reader: enough to explain why a library will not load.

``dlopen`` says "wrong ELF class: ELFCLASS32" at best; ffikit wants to say
"32-bit library, 64-bit Python" and, before the loader even tries, which
dependency (``DT_NEEDED``) a library wants and which symbols it exports, so a
misspelt function name gets a "did you mean".  Only the ELF header, the
section headers, ``.dynamic`` and ``.dynsym`` are read; nothing is executed.

Used by :mod:`ffikit.boundary.library` and by ``ffikit doctor``.
"""

from __future__ import annotations

import os
import struct
import sys
from functools import lru_cache

from ffikit.records import data_record, field

__all__ = ["ElfInfo", "NotElf", "read_elf", "host_elf", "MACHINES", "describe_mismatch"]

MACHINES = {
    3: "x86",
    8: "mips",
    20: "ppc",
    21: "ppc64",
    22: "s390",
    40: "arm",
    62: "x86-64",
    183: "aarch64",
    243: "riscv",
    258: "loongarch",
}

_SHT_DYNAMIC = 6
_SHT_DYNSYM = 11
_DT_NEEDED = 1
_DT_SONAME = 14
_SHN_UNDEF = 0
_STB_GLOBAL, _STB_WEAK = 1, 2
_STT_OBJECT, _STT_FUNC, _STT_TLS, _STT_GNU_IFUNC = 1, 2, 6, 10


class NotElf(ValueError):
    """The file is not an ELF object (or is truncated)."""


@data_record
class ElfInfo:
    """What the ELF header and dynamic section say about a shared object.

    ``bits`` is 32 or 64 (ELF class), ``machine`` a name from :data:`MACHINES`
    (or ``"machine N"``), ``little_endian`` the data encoding, ``needed`` the
    ``DT_NEEDED`` entries in order, ``soname`` the ``DT_SONAME`` and
    ``exports`` the defined global/weak functions and objects.
    """

    path: str
    bits: int
    little_endian: bool
    machine: str
    elf_type: int
    needed: list[str] = field(default_factory=list)
    soname: str | None = None
    exports: frozenset[str] = frozenset()

    def describe(self) -> str:
        order = "little-endian" if self.little_endian else "big-endian"
        return f"{self.bits}-bit {self.machine} ({order})"


def _cstr(data: bytes, offset: int) -> str:
    end = data.find(b"\0", offset)
    return data[offset : end if end >= 0 else len(data)].decode("utf-8", "replace")


def parse_elf(data: bytes, path: str = "<memory>") -> ElfInfo:
    """Parse ELF bytes; raises :class:`NotElf` for anything else."""
    if len(data) < 52 or data[:4] != b"\x7fELF":
        raise NotElf(f"{path} is not an ELF file")
    ei_class, ei_data = data[4], data[5]
    if ei_class not in (1, 2) or ei_data not in (1, 2):
        raise NotElf(f"{path} has an unknown ELF class/encoding ({ei_class}, {ei_data})")
    bits = 32 if ei_class == 1 else 64
    end = "<" if ei_data == 1 else ">"
    e_type, e_machine = struct.unpack_from(end + "HH", data, 16)
    if bits == 64:
        shoff, = struct.unpack_from(end + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x3A)
        sh_fmt, sym_fmt, dyn_fmt = end + "IIQQQQIIQQ", end + "IBBHQQ", end + "qQ"
    else:
        shoff, = struct.unpack_from(end + "I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x2E)
        sh_fmt, sym_fmt, dyn_fmt = end + "IIIIIIIIII", end + "IIIBBH", end + "iI"
    info = ElfInfo(
        path=path,
        bits=bits,
        little_endian=ei_data == 1,
        machine=MACHINES.get(e_machine, f"machine {e_machine}"),
        elf_type=e_type,
    )
    try:
        _read_dynamic(data, info, shoff, shentsize, shnum, sh_fmt, sym_fmt, dyn_fmt)
    except struct.error:  # truncated or odd section tables: header facts still stand
        pass
    return info


def _read_dynamic(data, info, shoff, shentsize, shnum, sh_fmt, sym_fmt, dyn_fmt) -> None:
    bits = info.bits
    sections = []
    if shoff and shentsize and shoff + shnum * shentsize <= len(data):
        for i in range(shnum):
            sh = struct.unpack_from(sh_fmt, data, shoff + i * shentsize)
            # name, type, flags, addr, offset, size, link, info, addralign, entsize
            sections.append(sh)
    exports: set[str] = set()
    for sh in sections:
        sh_type, sh_offset, sh_size, sh_link, sh_entsize = sh[1], sh[4], sh[5], sh[6], sh[9]
        if sh_link >= len(sections) or not sh_entsize:
            continue
        strtab = sections[sh_link]
        str_off = strtab[4]
        if sh_type == _SHT_DYNAMIC:
            for off in range(sh_offset, min(sh_offset + sh_size, len(data)), sh_entsize):
                tag, val = struct.unpack_from(dyn_fmt, data, off)
                if tag == 0:
                    break
                if tag == _DT_NEEDED:
                    info.needed.append(_cstr(data, str_off + val))
                elif tag == _DT_SONAME:
                    info.soname = _cstr(data, str_off + val)
        elif sh_type == _SHT_DYNSYM:
            for off in range(sh_offset, min(sh_offset + sh_size, len(data)), sh_entsize):
                if bits == 64:
                    name, st_info, _other, shndx, _value, _size = struct.unpack_from(sym_fmt, data, off)
                else:
                    name, _value, _size, st_info, _other, shndx = struct.unpack_from(sym_fmt, data, off)
                bind, kind = st_info >> 4, st_info & 0xF
                if (
                    shndx != _SHN_UNDEF
                    and bind in (_STB_GLOBAL, _STB_WEAK)
                    and kind in (_STT_OBJECT, _STT_FUNC, _STT_TLS, _STT_GNU_IFUNC)
                    and name
                ):
                    exports.add(_cstr(data, str_off + name))
    info.exports = frozenset(exports)


_read_cache: dict[tuple, ElfInfo] = {}


def read_elf(path: str) -> ElfInfo:
    """Read ``path``'s ELF facts.  Raises :class:`NotElf` or ``OSError``.

    Cached by the file's identity (device, inode, size, mtime): loading the
    same library again does not re-read it.
    """
    st = os.stat(path)
    key = (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    found = _read_cache.get(key)
    if found is not None:
        return found
    with open(path, "rb") as f:
        data = f.read()
    info = parse_elf(data, path)
    if len(_read_cache) > 256:
        _read_cache.clear()
    _read_cache[key] = info
    return info


@lru_cache(maxsize=1)
def host_elf() -> tuple[int, str] | None:
    """``(bits, machine)`` of the running Python, read from its own executable."""
    try:
        with open(sys.executable, "rb") as f:
            head = f.read(64)
        if head[:4] != b"\x7fELF":
            return None
        end = "<" if head[5] == 1 else ">"
        machine, = struct.unpack_from(end + "H", head, 18)
        return (32 if head[4] == 1 else 64), MACHINES.get(machine, f"machine {machine}")
    except OSError:
        return None


def describe_mismatch(info: ElfInfo) -> str | None:
    """Why this library cannot load into this Python, or None if it could.

    Examples: ``"32-bit library, 64-bit Python"``,
    ``"aarch64 library, x86-64 Python"``.
    """
    host = host_elf()
    if host is None:
        return None
    bits, machine = host
    if info.bits != bits:
        return f"{info.bits}-bit library, {bits}-bit Python"
    if info.machine != machine:
        return f"{info.machine} library, {machine} Python"
    return None
