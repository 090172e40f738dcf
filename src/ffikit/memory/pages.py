"""Page protection: ``mprotect`` on POSIX, ``VirtualProtect`` on Windows."""

from __future__ import annotations

import ctypes
import mmap
import sys

from ffikit.backends.ctypes.pybuffer import memoryview_address

__all__ = ["protect", "address_of"]

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
