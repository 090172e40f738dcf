"""The index of built modules: which cached module serves a usage record, found without generating C.

A module's cache entry is named by a hash of its C source, so finding it
means generating that source -- importing the generator and analysing every
recorded function's wrapper shape -- only to learn a file name.  After a
module is built (or found that way) for the functions a usage record lists
(:mod:`.usage`), an index entry beside the record remembers the answer: the
module's name and file, the shapes of its wrappers in order, and for each
recorded function its wrapper index and its declaration as C text.  A later
process with the same key imports the module at once.

The key is everything the answer depends on: the declarations' model (the
content key the declaration cache gives a model it loaded or stored, so only
declarations from ``include`` take this path), the recorded names and the
encoding, the generator's own code (size and mtime of every file of the
compiled and ctypes backends, their C runtime, the boundary rules and
``ffikit.build``), the Python ABI and the compiler's identity and flags.
What is trusted from disk is what the cache already trusts
(:mod:`ffikit.cachedir`): an entry this user wrote, private, matching its
recorded hash.  Even so, a stale or foreign entry costs a rebuild, never a
wrong wrapper: the key stored in the entry must equal the reader's own, the
module file must pass the same checks as any built module (and define the
module name the entry gives), the module must export the digest of exactly
the shapes the entry lists (:func:`shapes_digest`, compiled into it), and
each function's declaration text and parameter count must be the reading
process's own.  Anything else falls back to generating the source.

Hashing the module file (hundreds of kilobytes) was most of a warm process's
first bind, so the entry also records the file's ``[device, inode, size, mtime,
ctime]`` as they were when its hash was last checked, and a process that finds
the same values (and the file still a private file of ours) imports it without
hashing.  Any write to the file changes its ctime, which no program can set
back, and replacing it changes its inode or ctime; so what was hashed is what is
imported.  Otherwise, and once an hour (when the module is marked used for the
size bound), the hash is checked again and the entry rewritten with the new stat.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time

from ffikit.cachedir import (
    code_stamps,
    compiler_identity,
    private_stat,
    publish,
    read_entry,
    sha256_hex,
    sidecar,
    touch,
    trusted_root,
    verified,
)
from ffikit.errors import CompileError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["FORMAT", "shapes_digest", "index_key", "entry_path", "lookup", "store", "Indexed"]

FORMAT = 1
_PACKAGE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))  # src/ffikit
_CODE_DIRS = ("backends/compiled", "backends/compiled/runtime", "backends/ctypes", "rules")
_CODE_FILES = ("build.py",)  # (the build flags)
_HEX = frozenset("0123456789abcdef")
_FRESH_NS = 3600 * 10**9  # a module used is marked used (for the LRU size bound) at most hourly


def shapes_digest(shapes: list[tuple] | tuple) -> str:
    """A digest of a module's wrapper shapes, in order (compiled into the module as ``SHAPES``)."""
    return sha256_hex(repr(list(shapes)).encode())[:32]


@functools.lru_cache(maxsize=1)
def _code() -> list:
    """The generator's code (:func:`~ffikit.cachedir.code_stamps`): a changed ffikit reads no
    old entry."""
    return code_stamps(_PACKAGE, _CODE_DIRS, (".py", ".c", ".h"), _CODE_FILES)


def _abi() -> list:
    return [sys.implementation.cache_tag or "", sys.abiflags, sys.version, sys.platform,
            sys.maxsize, sys.byteorder]


def index_key(model_key: str, names: list[str], encoding: str) -> list:
    """Everything the module serving ``names`` of a model depends on (JSON data).

    Raises
    ------
    CompileError
        No compiler (then no module is built, and there is nothing to index).
    """
    return [FORMAT, model_key, encoding, list(names), _code(), _abi(), compiler_identity(),
            os.environ.get("CFLAGS", ""), os.environ.get("LDFLAGS", "")]


def entry_path(key: list, cache_dir: str | os.PathLike | None = None, *, create: bool = False) -> str:
    """Where the index entry for ``key`` lives (a ``uses-`` entry: bounded and cleared with the cache)."""
    digest = sha256_hex(json.dumps(key, separators=(",", ":")).encode())[:24]
    return os.path.join(trusted_root(cache_dir, create=create), f"uses-{digest}.mod.json")


class Indexed:
    """What an index entry says: the module (name, verified file) and its shapes, each recorded
    function's ``(wrapper index, declaration)``, and why other functions stay on ctypes."""

    __slots__ = ("modname", "path", "shapes", "functions", "reasons", "digest")

    def __init__(self, modname: str, path: str, shapes: list[tuple],
                 functions: dict[str, tuple[int, str]], reasons: dict[str, str], digest: str = ""):
        self.modname, self.path, self.shapes = modname, path, shapes
        self.functions, self.reasons = functions, reasons
        self.digest = digest or shapes_digest(shapes)  # (lookup checked the entry's against its shapes)


def _tuples(value: Any) -> Any:
    """JSON's lists back to the tuples shapes are made of."""
    if type(value) is not list:
        return value
    return tuple([_tuples(v) if type(v) is list else v for v in value])


def _module_file(modname: Any, filename: Any) -> bool:
    """A module name and file name as :mod:`ffikit.build` makes them, and nothing else
    (no directory part: the file is looked for in the cache directory only)."""
    if not (isinstance(modname, str) and isinstance(filename, str)):
        return False
    digest = modname[len("_ffikit_c_"):]
    return (modname.startswith("_ffikit_c_") and len(digest) == 16 and set(digest) <= _HEX
            and filename.startswith(f"lib{modname.lstrip('_')}-") and "/" not in filename
            and os.sep not in filename and filename.count(".") == 1)


def _stamp(path: Any) -> list | None:
    """``[device, inode, size, mtime, ctime]`` of a regular file of ours that no one else can
    write (what :func:`~ffikit.cachedir.verified` asks of an entry before hashing it), else None."""
    info = private_stat(path) if sys.platform != "win32" else None  # (no owners: every use hashes)
    if info is None:
        return None
    return [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]


def _verified_stamp(module: Any, *, touched: bool = False) -> list | None:
    """The module file's :func:`_stamp` once its hash is checked (None: it fails the check,
    or changed meanwhile).  With ``touched`` it is first marked used (the size bound's LRU
    order): the stamp is taken after that, so it describes the bytes hashed."""
    if touched:
        touch(module)
    before = _stamp(module)
    if before is None or not verified(module) or _stamp(module) != before:
        return None
    return before


def lookup(key: list, cache_dir: str | os.PathLike | None = None) -> Indexed | None:
    """The index entry for ``key`` if it is trusted and well formed and its module file is,
    else None (then the caller generates the source as before)."""
    try:
        path = entry_path(key, cache_dir)
        entry = read_entry(path, FORMAT, key)
        if entry is None:
            return None
        modname, filename = entry["module"], entry["file"]
        if not _module_file(modname, filename):
            return None
        shapes, digest = [_tuples(s) for s in entry["shapes"]], entry["digest"]
        if digest != shapes_digest(shapes) or not all(isinstance(s, tuple) for s in shapes):
            return None
        functions: dict[str, tuple[int, str]] = {}
        for name, (index, declaration) in entry["functions"].items():
            if type(index) is not int or not 0 <= index < len(shapes) or not isinstance(declaration, str):
                return None
            functions[name] = (index, declaration)
        reasons = {n: r for n, r in entry.get("reasons", {}).items() if isinstance(r, str)}
        module = os.path.join(os.path.dirname(path), filename)
        stamp = _stamp(module)
        if stamp is None or stamp != entry.get("stat") or _stamp(sidecar(module)) is None or \
                not 0 <= time.time_ns() - stamp[3] < _FRESH_NS:
            stamp = _verified_stamp(module, touched=True)  # (the hash, as for any entry)
            if stamp is None:
                return None
            entry["stat"] = stamp  # the next process needs no hash while the file keeps it
            publish(path, json.dumps(entry, separators=(",", ":")).encode())
        else:
            touch(path)
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError, CompileError):
        return None
    return Indexed(modname, module, shapes, functions, reasons, digest)


def store(key: list, modname: str, module_file: str, shapes: list[tuple],
          functions: dict[str, tuple[int, str]], reasons: dict[str, str],
          cache_dir: str | os.PathLike | None = None) -> bool:
    """Publish the index entry for ``key`` (atomically); False when it cannot be (a module
    outside the cache directory, an untrusted cache)."""
    try:
        path = entry_path(key, cache_dir, create=True)
        filename = os.path.basename(module_file)
        if os.path.dirname(os.path.realpath(module_file)) != os.path.dirname(path) or \
                not _module_file(modname, filename):
            return False
        entry = {"format": FORMAT, "key": key, "module": modname, "file": filename,
                 "digest": shapes_digest(shapes), "shapes": shapes,
                 "functions": {n: list(v) for n, v in functions.items()}, "reasons": reasons,
                 "stat": _verified_stamp(module_file)}
        publish(path, json.dumps(entry, separators=(",", ":")).encode())
    except (CompileError, OSError, ValueError, TypeError):
        return False
    return True
