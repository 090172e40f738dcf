"""Two judgements about the user's situation when a library is looked for.

:func:`caller_dir` is where a relative library path (``"./libx.so"``) is
resolved first: the directory of the user's own file — never ffikit's, the
standard library's (runpy, multiprocessing) or a console script's
(``.venv/bin/ffikit``).  :func:`hint_for` is the one line that says what to do
when nothing loaded, chosen from the most telling failure (a file that exists
says more than a miss): a missing dependency is not fixed by an absolute path.
"""

from __future__ import annotations

import os
import sys
import sysconfig

from ffikit.boundary import elf as _elf

__all__ = ["caller_dir", "hint_for"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # ffikit/


def _not_a_caller(filename: str) -> bool:
    """Frames that are not the user's code: ffikit, ``<string>``/frozen code, the standard
    library (runpy, multiprocessing) and console scripts (``.venv/bin/ffikit``)."""
    path = os.path.abspath(filename)
    return filename.startswith("<") or path.startswith(_PACKAGE_DIR + os.sep) or \
        any(path.startswith(d + os.sep) for d in _NOT_CALLERS)


_NOT_CALLERS = tuple(os.path.abspath(d) for d in {
    sysconfig.get_path("stdlib"), sysconfig.get_path("scripts"), os.path.dirname(sys.executable)}
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
