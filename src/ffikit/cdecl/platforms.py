"""Target ABIs: primitive sizes and alignments, char signedness, bitfield rules.

``get_platform("windows")`` gives Windows x64 (``long`` is 4 bytes, MSVC
bitfields) on any host, for layout work; ``None`` is the host itself.
"""

from __future__ import annotations

import functools
import os
import sys

from ffikit.records import data_record, field

__all__ = ["Platform", "get_platform", "host_platform", "host_machine"]


@data_record(frozen=True)
class Platform:
    """A target ABI: primitive sizes/alignments, char signedness, bitfield rules.

    ``bitfields`` is ``"sysv"`` (gcc/clang on Unix) or ``"msvc"``.
    """

    name: str
    pointer_size: int
    primitives: dict = field(hash=False, compare=False, repr=False)  # name -> (size, align)
    char_signed: bool = True
    wchar_signed: bool = True
    bitfields: str = "sysv"

    @property
    def is_windows(self) -> bool:
        return self.bitfields == "msvc"

    def __repr__(self) -> str:
        return f"<Platform {self.name}>"


def _table(long_size: int, wchar: int, long_double: tuple[int, int]) -> dict:
    word = 8
    table = {
        "char": (1, 1), "signed char": (1, 1), "unsigned char": (1, 1),
        "short": (2, 2), "unsigned short": (2, 2),
        "int": (4, 4), "unsigned int": (4, 4),
        "long": (long_size, long_size), "unsigned long": (long_size, long_size),
        "long long": (8, 8), "unsigned long long": (8, 8),
        "_Bool": (1, 1),
        "int8_t": (1, 1), "uint8_t": (1, 1), "int16_t": (2, 2), "uint16_t": (2, 2),
        "int32_t": (4, 4), "uint32_t": (4, 4), "int64_t": (8, 8), "uint64_t": (8, 8),
        "intptr_t": (word, word), "uintptr_t": (word, word),
        "size_t": (word, word), "ssize_t": (word, word), "ptrdiff_t": (word, word),
        "intmax_t": (8, 8), "uintmax_t": (8, 8),
        "wchar_t": (wchar, wchar), "char16_t": (2, 2), "char32_t": (4, 4),
        "__int128": (16, 16), "unsigned __int128": (16, 16),
        "float": (4, 4), "double": (8, 8), "long double": long_double,
    }
    return table


_PLATFORMS = {
    "linux-x86_64": Platform("linux-x86_64", 8, _table(8, 4, (16, 16)), True, True, "sysv"),
    "linux-aarch64": Platform("linux-aarch64", 8, _table(8, 4, (16, 16)), False, False, "sysv"),
    "darwin-x86_64": Platform("darwin-x86_64", 8, _table(8, 4, (16, 16)), True, True, "sysv"),
    "darwin-arm64": Platform("darwin-arm64", 8, _table(8, 4, (8, 8)), True, True, "sysv"),
    "windows-x86_64": Platform("windows-x86_64", 8, _table(4, 2, (8, 8)), True, False, "msvc"),
}
_ALIASES = {
    "linux": None, "posix": None, "sysv": None,  # None: the host's own variant
    "windows": "windows-x86_64", "win64": "windows-x86_64", "win32": "windows-x86_64",
    "msvc": "windows-x86_64",
    "darwin": None, "macos": None,
}


@functools.cache
def host_platform() -> Platform:
    """The platform this interpreter runs on (from ``sys.platform`` and the machine)."""
    machine = host_machine()
    arch = "aarch64" if machine in ("aarch64", "arm64") else "x86_64"
    if sys.platform.startswith("win"):
        return _PLATFORMS["windows-x86_64"]
    if sys.platform == "darwin":
        return _PLATFORMS["darwin-arm64" if arch == "aarch64" else "darwin-x86_64"]
    return _PLATFORMS[f"linux-{arch}"]


@functools.cache
def host_machine() -> str:
    """This machine's architecture name, lower case (``platform.machine()``; on POSIX
    ``os.uname`` says the same without importing :mod:`platform`)."""
    if hasattr(os, "uname"):
        return os.uname().machine.lower()
    import platform

    return platform.machine().lower()


def get_platform(name: str | Platform | None = None) -> Platform:
    """Look a platform up by name (``None`` = the host; ``"windows"`` = Windows x64)."""
    if isinstance(name, Platform):
        return name
    if name is None:
        return host_platform()
    key = name.lower()
    if key in _PLATFORMS:
        return _PLATFORMS[key]
    if key in _ALIASES:
        alias = _ALIASES[key]
        if alias is None:
            host = host_platform()
            if key in ("darwin", "macos") and not host.name.startswith("darwin"):
                return _PLATFORMS["darwin-x86_64"]
            return host if not host.is_windows else _PLATFORMS["linux-x86_64"]
        return _PLATFORMS[alias]
    known = ", ".join(sorted(set(_PLATFORMS) | set(_ALIASES)))
    raise ValueError(f"unknown platform {name!r}; known platforms: {known}")
