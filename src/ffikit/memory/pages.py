"""Memory in pages of its own: anonymous mappings with guard pages, and their protection.

``mprotect`` on POSIX, ``VirtualProtect`` on Windows.  :class:`Pages` is
where a page-backed :class:`ffikit.Memory` lives; the memory module decides
what Python may see of it.
"""

from __future__ import annotations

import ctypes
import mmap
import sys

from ffikit.backends.ctypes.pybuffer import memoryview_address
from ffikit.errors import OutOfMemory

__all__ = ["Pages", "protect", "address_of", "round_up", "PAGE"]

PAGE = mmap.PAGESIZE

_PROT = {"none": 0, "r": 1, "rw": 3, "rx": 5}  # PROT_READ=1, PROT_WRITE=2, PROT_EXEC=4
_WIN_PROT = {"none": 0x01, "r": 0x02, "rw": 0x04, "rx": 0x20}  # PAGE_NOACCESS, READONLY, ...

if sys.platform == "win32":  # pragma: no cover - tested where Windows exists
    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    _VirtualProtect = _kernel32.VirtualProtect
    _VirtualProtect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint32,
                                ctypes.POINTER(ctypes.c_uint32)]
    _VirtualProtect.restype = ctypes.c_int

    def protect(address: int, length: int, mode: str) -> None:
        """Set the protection of whole pages starting at ``address``."""
        old = ctypes.c_uint32()
        if not _VirtualProtect(address, length, _WIN_PROT[mode], ctypes.byref(old)):
            raise OSError(ctypes.get_last_error(), f"VirtualProtect({mode!r}) failed")

else:
    _libc = ctypes.CDLL(None, use_errno=True)
    _mprotect = _libc.mprotect
    _mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    _mprotect.restype = ctypes.c_int

    def protect(address: int, length: int, mode: str) -> None:
        """Set the protection of whole pages starting at ``address``."""
        if address % mmap.PAGESIZE:
            raise ValueError(f"protect: {address:#x} is not page-aligned")
        if _mprotect(address, length, _PROT[mode]) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"mprotect({mode!r}) failed: {__import__('os').strerror(errno)}")


def address_of(mapping: mmap.mmap) -> int:
    """The start address of an mmap (its export is released at once)."""
    with memoryview(mapping) as mv:
        return memoryview_address(mv)


def round_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


class Pages:
    """An anonymous mapping holding one region: where it starts, and the pages under it.

    ``offset`` is the region's place in the mapping; ``first``/``length`` are the
    whole pages it touches (what ``protect`` changes); ``protectable`` says
    whether the user asked for pages of the region's own.
    """

    __slots__ = ("mapping", "offset", "start", "first", "length", "protectable")
    mapping: mmap.mmap
    offset: int
    start: int
    first: int
    length: int
    protectable: bool

    @classmethod
    def map(cls, size: int, align: int, *, guard: bool = False, guard_before: bool = False,
            protectable: bool = True) -> Pages:
        """Map pages for ``size`` bytes aligned to ``align``; with ``guard`` the region ends
        exactly at an inaccessible page, with ``guard_before`` one precedes it."""
        if size > sys.maxsize - 4 * PAGE - align:
            raise OutOfMemory(f"ffikit: {size} bytes is more than this process can address")
        lead = PAGE if guard_before else 0
        span = max(size, 1)
        offset = 0
        if guard:  # right-align the region so its last byte touches the guard page
            mapped = lead + round_up(span, PAGE)
            offset = mapped - lead - span
            offset -= offset % align
            total = mapped + PAGE
        else:
            mapped = total = lead + span + (align if align > PAGE else 0)
        try:
            mapping = mmap.mmap(-1, total)
        except OSError as exc:
            raise OutOfMemory(f"ffikit: the system refused {size} bytes ({exc.strerror})"
                              ) from None
        base = address_of(mapping)
        offset += lead
        if align > PAGE:
            offset += (-(base + offset)) % align
        if guard:
            protect(base + mapped, PAGE, "none")
        if guard_before:
            protect(base, PAGE, "none")
        self = cls()
        self.mapping, self.offset, self.protectable = mapping, offset, protectable
        self.start = base + offset
        self.first = self.start - self.start % PAGE
        self.length = round_up(self.start + size, PAGE) - self.first
        return self

    def target(self, size: int, mode: str) -> memoryview | None:
        """What Python may see of the region under ``mode``: a memoryview of exactly it
        (read-only unless ``"rw"``), or None for ``"none"``."""
        if mode == "none":
            return None
        region = memoryview(self.mapping)[self.offset:self.offset + size]
        return region if mode == "rw" else region.toreadonly()

    def protect(self, mode: str) -> None:
        protect(self.first, self.length, mode)
