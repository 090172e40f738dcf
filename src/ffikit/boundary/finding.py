"""Finding a library: the candidates tried in order, and two judgements about the user's situation.

:func:`search` yields each place ``load()`` tries (a path, ``search_paths``,
ctypes' lookup, the system loader), loading as it goes, with why each failed
(:class:`Candidate`); :func:`candidates` lists them without keeping any.
:func:`caller_dir` is where a relative library path (``"./libx.so"``) is
resolved first: the directory of the user's own file — never ffikit's, the
standard library's (runpy, multiprocessing) or a console script's
(``.venv/bin/ffikit``).  :func:`hint_for` is the one line that says what to do
when nothing loaded, chosen from the most telling failure (a file that exists
says more than a miss): a missing dependency is not fixed by an absolute path.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterable

from ffikit.boundary import elf as _elf
from ffikit.lazyre import LazyPattern
from ffikit.records import data_record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Candidate", "caller_dir", "candidates", "dlopen_mode", "hint_for", "loaded_path", "search"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # ffikit/


def _not_a_caller(filename: str) -> bool:
    """Frames that are not the user's code: ffikit, ``<string>``/frozen code, the standard
    library (runpy, multiprocessing) and console scripts (``.venv/bin/ffikit``)."""
    path = os.path.abspath(filename)
    return filename.startswith("<") or path.startswith(_PACKAGE_DIR + os.sep) or \
        any(path.startswith(d + os.sep) for d in _NOT_CALLERS)


_NOT_CALLERS = tuple(os.path.abspath(d) for d in {  # sysconfig's "stdlib" and "scripts" paths,
    os.path.dirname(os.__file__),  # without the cost of importing sysconfig
    os.path.join(sys.prefix, "Scripts" if os.name == "nt" else "bin"), os.path.dirname(sys.executable)}
    if d)


def caller_dir() -> str | None:
    """The directory of the first frame that is the user's code (None if there is none)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not _not_a_caller(filename):
            return os.path.dirname(os.path.abspath(filename))
        frame = frame.f_back  # type: ignore[assignment]
    return None


def hint_for(tried: list) -> str:
    """What to do, from the most telling failure: a file that exists says more than a miss."""
    reason = next((c.reason for c in tried if c.reason and c.reason != "no such file"
                   and not c.reason.startswith("not found by the system loader")), "")
    if reason.startswith("missing dependency"):
        dep = reason.split()[2]
        return (f"install {dep}, or put its directory on LD_LIBRARY_PATH before Python starts, "
                f"or load it first: ffikit.load('/path/to/{dep}', mode=ctypes.RTLD_GLOBAL)")
    if reason.startswith("wrong architecture"):
        host = _elf.host_elf()
        this = f"{host[0]}-bit {host[1]}" if host else "this machine"
        return (f"rebuild the library for this Python ({this}), or run a Python built for "
                "the library's architecture")
    if "no ELF header" in reason or "object file" in reason:
        return ("that file is not a shared library; link one, e.g. "
                "'cc -shared -fPIC -o libname.so name.c' (an object file .o cannot be loaded)")
    return {"permission denied": "make the file readable (chmod a+r), or copy it somewhere "
            "you can read", "is a directory": "pass the library file inside that directory, or "
            "search_paths=[directory]"}.get(reason, "pass an absolute path, a path relative to "
                                            "your file, or search_paths=[directory]")


_SUFFIXES = {"linux": (".so",), "darwin": (".dylib", ".so"), "win32": (".dll",)}
_MISSING_DEP = LazyPattern(r"^([^:]+): cannot open shared object file: No such file or directory")


@data_record
class Candidate:
    """One place a library was looked for.

    ``path`` is a file path, or a bare file name left to the system loader
    (``system=True``); ``loaded`` says whether ``dlopen`` succeeded;
    ``reason`` says why not (None when loaded); ``handle`` is the ``CDLL``.
    """

    path: str
    loaded: bool = False
    reason: str | None = None
    system: bool = False
    handle: Any = None

    def __str__(self) -> str:
        where = f"{self.path} (system search)" if self.system else self.path
        return f"{where}: {'loaded' if self.loaded else self.reason}"


def _platform_names(name: str) -> list[str]:
    suffixes = _SUFFIXES.get(sys.platform, (".so",))
    if any(name.endswith(s) for s in suffixes) or ".so." in name:
        return [name]
    names = []
    for suffix in suffixes:
        if sys.platform == "win32":
            names += [name + suffix, "lib" + name + suffix]
        else:
            names += ["lib" + name + suffix, name + suffix]
    return names


def _explain_dlerror(message: str, path: str) -> str:
    match = _MISSING_DEP.match(message)
    if match and os.path.basename(match.group(1)) != os.path.basename(path):
        return f"missing dependency {match.group(1)} (the loader could not find it; needed by {os.path.basename(path)})"
    if "wrong ELF class" in message:
        return message.split(": ", 1)[-1]
    return message


def _try_file(path: str, mode: int) -> Candidate:
    cand = Candidate(path)
    if not os.path.exists(path):
        cand.reason = "no such file"
        return cand
    if os.path.isdir(path):
        cand.reason = "is a directory"
        return cand
    if not os.access(path, os.R_OK):
        cand.reason = "permission denied"
        return cand
    try:
        info = _elf.read_elf(path)
    except PermissionError:
        cand.reason = "permission denied"
        return cand
    except (OSError, _elf.NotElf):
        info = None
        if sys.platform.startswith("linux"):
            cand.reason = "not a shared library (no ELF header)"
            return cand
    if info is not None:
        mismatch = _elf.describe_mismatch(info)
        if mismatch:
            cand.reason = f"wrong architecture: {mismatch}"
            return cand
        if info.elf_type == 1:  # ET_REL
            cand.reason = "an object file (ELF relocatable), not a shared library"
            return cand
    return _dlopen(cand, path, mode)


def _dlopen(cand: Candidate, target: str, mode: int) -> Candidate:
    try:
        cand.handle = ctypes.CDLL(target, mode=mode, use_errno=True)
    except OSError as exc:
        text = str(exc)
        if cand.system and "No such file or directory" in text and text.startswith(target):
            cand.reason = "not found by the system loader (ld.so cache, LD_LIBRARY_PATH, default dirs)"
        else:
            cand.reason = _explain_dlerror(text, target)
        return cand
    cand.loaded = True
    return cand


_LD_CACHE = "/etc/ld.so.cache"
_LD_CACHE_MAGIC = b"glibc-ld.so.cache1.1"


def ld_cache_soname(name: str, path: str = _LD_CACHE) -> str | None:
    """The soname ``ldconfig -p`` lists first for ``lib<name>.`` on x86-64 Linux, read from
    the loader's cache file itself (None: not there, or not a cache this reads).

    :func:`ctypes.util.find_library` answers the same by running ``ldconfig -p``: a
    subprocess, and imports (``subprocess``, ``shutil``, ``tempfile``) that cost
    milliseconds of every ``load("z")``.  This reads glibc's format (a 48-byte header,
    24-byte entries whose flags say the ABI, offsets into a string table); anything else
    (another machine, the old format, a damaged file) answers None, and ctypes looks.
    """
    if not sys.platform.startswith("linux") or os.uname().machine != "x86_64" or \
            ctypes.sizeof(ctypes.c_void_p) != 8:
        return None
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError:
        return None
    if not data.startswith(_LD_CACHE_MAGIC) or len(data) < 48:
        return None
    count = int.from_bytes(data[20:24], "little")
    if 48 + 24 * count > len(data):
        return None
    prefix = f"lib{name}.".encode()
    for start in range(48, 48 + 24 * count, 24):
        if int.from_bytes(data[start:start + 4], "little") & 0xFFFF != 0x0303:
            continue  # not 'libc6,x86-64'
        key = int.from_bytes(data[start + 4:start + 8], "little")
        end = data.find(b"\0", key)
        if end < 0:
            return None
        soname = data[key:end]
        if soname.startswith(prefix) and not any(c in b" \t\n" for c in soname):
            return soname.decode("utf-8", "replace")
    return None


def _find_library(name: str) -> str | None:
    """The loader cache's answer, else ctypes' own lookup; its errors (``FileNotFoundError:
    b'liblibz.a'`` for ``load("libz")``, from the gcc/ld probe it runs) mean "not found"."""
    found = ld_cache_soname(name)
    if found is not None:
        return found
    import ctypes.util  # (its imports cost start-up time: only when the cache does not say)

    try:
        return ctypes.util.find_library(name)
    except OSError:
        return None


def search(name_or_path: str, search_paths: Iterable[str | os.PathLike[str]], caller_dir: str | None, mode: int):
    """Yield candidates in order (loading each as it goes)."""
    name = os.fspath(name_or_path)
    if os.path.isabs(name):
        yield _try_file(name, mode)
        return
    if os.sep in name or (os.altsep and os.altsep in name) or name.startswith("."):
        bases = [caller_dir] if caller_dir else []
        bases.append(os.getcwd())
        for base in dict.fromkeys(bases):
            yield _try_file(os.path.normpath(os.path.join(base, name)), mode)
        return
    files = _platform_names(name)
    for directory in search_paths:
        for file in files:
            yield _try_file(os.path.join(os.fspath(directory), file), mode)
    found = _find_library(name) if files != [name] else None
    system_names = list(dict.fromkeys(([found] if found else []) + files))
    for file in system_names:
        if os.path.isabs(file):
            yield _try_file(file, mode)
        else:
            yield _dlopen(Candidate(file, system=True), file, mode)


def candidates(name_or_path: str, search_paths: Iterable[str] = (), *, mode: int | None = None) -> list[Candidate]:
    """Every candidate file for a library, each tried, with its outcome.

    Parameters
    ----------
    name_or_path
        A bare name (``"z"``), a file name or soname (``"libz.so.1"``), a
        relative path (caller's file directory first, then the working
        directory) or an absolute path.
    search_paths
        Directories searched first for bare names.

    Returns
    -------
    list of Candidate
        In search order; ``loaded`` is True for those ``dlopen`` accepted.
    """
    return list(search(name_or_path, tuple(search_paths), caller_dir(), dlopen_mode(mode)))


def dlopen_mode(mode: int | None) -> int:
    return ctypes.DEFAULT_MODE if mode is None else mode


def loaded_path(handle: Any) -> str | None:
    """The absolute path the system loader chose (from /proc/self/maps)."""
    name = os.path.basename(handle._name)
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.rstrip("\n").split(" ", 5)[-1].strip()
                if path.startswith("/") and os.path.basename(path).startswith(name.split(".so")[0] + ".so"):
                    return path
    except OSError:
        return None
    return None
