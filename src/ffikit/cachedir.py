"""The cache directory: where it is, whether it can be trusted, and how entries get in and out.

Everything ffikit caches (libraries :func:`ffikit.build` compiled, the
compiled backend's modules, parsed declaration models) is loaded later
without being rebuilt, and a shared library runs code when it is loaded.  So
a cache entry is only used when nobody else could have put it there:

* the cache directory is owned by this user and writable by nobody else, and
  every directory above it is owned by this user or root and is either
  writable by no one else or sticky (like ``/tmp``), so no one else can swap
  a directory on the path (the rule ssh and pip apply);
* an entry is a regular file owned by this user, writable by no one else,
  and its content matches the SHA-256 recorded when it was written, in a
  ``<entry>.sha256`` file beside it.

A cache directory that fails the first rule raises :class:`ffikit.errors.UntrustedCache`
(``ffikit.build`` fails; a ``load`` under ``backend="auto"`` stays on the ctypes
backend and says why).  An entry that fails the second is treated as absent
and rebuilt.  Writes are atomic (a temporary file in the same directory,
renamed), and the directory has a size bound (``$FFIKIT_CACHE_SIZE`` MiB,
default 512): after each write the least recently used entries go.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable
from functools import lru_cache

from ffikit.errors import UntrustedCache

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["sha256", "sha256_hex", "which", "default_cache_dir", "compiler_command", "compiler_identity", "trusted_root", "verified", "read_verified", "private_stat", "sidecar", "publish", "write_atomic",
           "touch", "evict", "entries", "size_bound", "DEFAULT_SIZE_MIB"]

DEFAULT_SIZE_MIB = 512
_SIDECAR = ".sha256"
_PREFIXES = ("lib", "model-", "uses-")


def sha256(data: bytes = b"") -> Any:
    """A SHA-256 hash object.  CPython's built-in implementation is taken when there is one:
    importing :mod:`hashlib` loads OpenSSL (5-10 ms at start-up), and the entries hashed
    while a program starts (a model, a usage record, a module's key) are small."""
    if not _sha256:
        try:
            from _sha2 import sha256 as make  # type: ignore[import-not-found]  # CPython >= 3.12
        except ImportError:
            try:
                from _sha256 import sha256 as make  # type: ignore[import-not-found]  # 3.11
            except ImportError:  # built without them: OpenSSL's
                from hashlib import sha256 as make
        _sha256.append(make)
    return _sha256[0](data)


_sha256: list[Any] = []


def which(program: str) -> str | None:
    """:func:`shutil.which` for an executable, without importing :mod:`shutil` (it brings
    ``bz2``, ``lzma`` and ``fnmatch``: milliseconds of every process's start-up)."""
    if sys.platform == "win32":  # PATHEXT and the current directory rules: shutil's own
        import shutil

        return shutil.which(program)

    def runnable(path: str) -> bool:
        return os.path.exists(path) and os.access(path, os.F_OK | os.X_OK) and not os.path.isdir(path)

    if os.path.dirname(program):
        return program if runnable(program) else None
    path = os.environ.get("PATH")
    if path is None:
        try:
            path = os.confstr("CS_PATH")
        except (AttributeError, ValueError):
            path = os.defpath
    if not path:
        return None
    seen = set()
    for directory in path.split(os.pathsep):
        if directory not in seen:
            seen.add(directory)
            candidate = os.path.join(directory, program)
            if runnable(candidate):
                return candidate
    return None


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` in hex (see :func:`sha256`)."""
    return sha256(data).hexdigest()


def default_cache_dir() -> str:
    """``$FFIKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/ffikit``, else ``~/.cache/ffikit``.

    Paths here are plain ``str`` (``pathlib`` would cost a warm start a few milliseconds)."""
    env = os.environ.get("FFIKIT_CACHE_DIR")
    if env:
        return env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ffikit")


def compiler_command() -> list[str]:
    """The C compiler to run: ``$CC`` (may carry flags), else ``cc``."""
    value = os.environ.get("CC") or "cc"
    if value.isascii() and value.isprintable() and not any(c in value for c in "'\"\\"):
        return value.split()  # (what shlex.split gives when nothing is quoted or escaped)
    import shlex

    return shlex.split(value)


def compiler_identity(command: tuple[str, ...] | None = None) -> str:
    """The compiler binary's resolved path, size and modification time, and its flags: what
    changes when the compiler is upgraded, learnt without running it (no ``cc --version``).

    Raises
    ------
    CompileError
        The compiler is not on ``PATH``.
    """
    return _identity(tuple(command or compiler_command()))


@lru_cache(maxsize=16)
def _identity(command: tuple[str, ...]) -> str:
    from ffikit.errors import CompileError

    exe = which(command[0]) if command else None
    if exe is None:
        raise CompileError(
            f"C compiler {command[0] if command else ''!r} not found on PATH; install gcc or "
            "clang, or set $CC to the compiler to use"
        )
    real = os.path.realpath(exe)
    info = os.stat(real)
    return f"{exe}\n{real}\n{info.st_size}:{info.st_mtime_ns}\n{' '.join(command[1:])}"


def _others_can_write(mode: int) -> bool:
    return bool(mode & (stat.S_IWGRP | stat.S_IWOTH))


def _check_directory(path: str, uid: int) -> None:
    """The cache directory itself: ours, and writable by us alone."""
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise UntrustedCache(f"ffikit cache {path} is not a directory; set $FFIKIT_CACHE_DIR "
                             "to a directory of your own")
    if info.st_uid != uid:
        raise UntrustedCache(f"ffikit cache {path} is owned by uid {info.st_uid}, not by you "
                             f"(uid {uid}); a library someone else put there would run its code in "
                             "this process. Set $FFIKIT_CACHE_DIR to a directory of your own")
    if _others_can_write(info.st_mode):
        raise UntrustedCache(f"ffikit cache {path} is writable by others (mode "
                             f"{stat.S_IMODE(info.st_mode):o}); anyone could plant a library "
                             f"that runs in this process. Fix it with: chmod go-w {path}")


def _parents(path: str) -> list[str]:
    """The directories above the absolute ``path``, nearest first, up to the root."""
    found = []
    parent = os.path.dirname(path)
    while parent and parent != path:
        found.append(parent)
        path, parent = parent, os.path.dirname(parent)
    return found


def _check_ancestors(path: str, uid: int) -> None:
    """Every directory above: ours or root's, and not swappable by anyone else."""
    for parent in _parents(path):
        info = os.stat(parent)
        if info.st_uid not in (uid, 0):
            raise UntrustedCache(f"ffikit cache {path}: the directory {parent} above it is owned by "
                                 f"uid {info.st_uid}, who could replace the cache; set "
                                 "$FFIKIT_CACHE_DIR to a directory on a path only you and root own")
        if _others_can_write(info.st_mode) and not info.st_mode & stat.S_ISVTX:
            raise UntrustedCache(f"ffikit cache {path}: the directory {parent} above it is writable "
                                 f"by others and not sticky (mode {stat.S_IMODE(info.st_mode):o}), "
                                 "so anyone could replace the cache; set $FFIKIT_CACHE_DIR elsewhere")


def trusted_root(cache_dir: str | os.PathLike | None = None, *, create: bool = True) -> str:
    """The cache directory (resolved), created private (mode 700) when missing, and checked.

    Raises
    ------
    UntrustedCache
        The directory, or one above it, could be written by someone else.
    """
    path = os.path.realpath(cache_dir if cache_dir is not None else default_cache_dir())
    if create and not os.path.isdir(path):
        os.makedirs(path, mode=0o700, exist_ok=True)
        path = os.path.realpath(path)
    if sys.platform == "win32":  # no POSIX owners and modes: the user's profile is private
        return path
    uid = os.geteuid()
    _check_directory(path, uid)
    _check_ancestors(path, uid)
    return path


_PUBLISH_TRIES = 5  # (each try needs another writer to have renamed in between)


def private_stat(path: str | os.PathLike) -> os.stat_result | None:
    """``path``'s ``lstat`` if it is a regular file of this user's that no one else can write
    (what :func:`verified` asks of an entry and its hash file before hashing), else None."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and \
            not _others_can_write(info.st_mode):
        return info
    return None


def sidecar(path: str | os.PathLike) -> str:
    """The hash file recorded beside the entry ``path`` (``<entry>.sha256``)."""
    return os.fspath(path) + _SIDECAR


def verified(path: str | os.PathLike) -> bool:
    """True when ``path`` (in a :func:`trusted_root`) is ours and matches its recorded hash."""
    return read_verified(path) is not None


def read_verified(path: str | os.PathLike) -> bytes | None:
    """The bytes of ``path`` if it is ours and they match the recorded hash, else None (the
    bytes checked are the bytes returned: the file is read once)."""
    path = os.fspath(path)
    hashes = sidecar(path)
    if sys.platform == "win32":  # no POSIX owners: the hash alone
        if not (os.path.isfile(path) and os.path.isfile(hashes)):
            return None
    elif private_stat(path) is None or private_stat(hashes) is None:
        return None
    try:
        with open(hashes, encoding="utf-8") as file:
            recorded = file.read().strip()
        with open(path, "rb") as file:
            data = file.read()
    except (OSError, UnicodeDecodeError):
        return None
    return data if recorded == sha256_hex(data) else None


def read_entry(path: str | os.PathLike, format: int | None = None, key: object = None) -> dict | None:
    """A JSON object :func:`publish` wrote at ``path``, if it is :func:`verified`, parses, and
    (when given) carries this ``format`` and ``key``; else None: the caller makes it again."""
    import json

    data = read_verified(path)
    if data is None:
        return None
    try:
        entry = json.loads(data)
    except (ValueError, RecursionError):  # (a UnicodeDecodeError is a ValueError)
        return None
    if not isinstance(entry, dict) or (format is not None and entry.get("format") != format) or \
            (key is not None and entry.get("key") != key):
        return None
    return entry


def code_stamps(root: str | os.PathLike, folders: Iterable[str], suffixes: tuple[str, ...],
                files: Iterable[str] = ()) -> list[list]:
    """``[path, size, mtime]`` of the files ending in ``suffixes`` in each of ``folders`` and of
    ``files`` (paths relative to ``root``), sorted: the part of a cache key that says which code
    made an entry, so another ffikit never reads it (stat calls cost far less than hashing)."""
    found = []
    for folder in folders:
        try:
            with os.scandir(os.path.join(root, folder)) as listing:
                for item in listing:
                    if item.name.endswith(suffixes):
                        info = item.stat()
                        found.append([os.path.join(folder, item.name), info.st_size, info.st_mtime_ns])
        except OSError:
            found.append([folder, -1, -1])
    for name in files:
        try:
            info = os.stat(os.path.join(root, name))
            found.append([name, info.st_size, info.st_mtime_ns])
        except OSError:
            found.append([name, -1, -1])
    return sorted(found)


def write_atomic(target: str | os.PathLike, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``target`` through a private temporary file renamed over it."""
    directory, name = os.path.split(os.fspath(target))
    partial = os.path.join(directory, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(partial, target)
    except BaseException:
        _remove(partial)
        raise


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def publish(target: str | os.PathLike, data: bytes, mode: int = 0o600) -> None:
    """Put ``data`` in the cache as ``target``: its hash first (``<target>.sha256``), then the
    entry, each written atomically; an entry is used only when both agree (:func:`verified`).
    Then the cache is brought back under its size bound.

    Two processes publishing different data under one name can interleave their two
    renames and leave one's hash beside the other's entry: never trusted, but never
    used either.  So each checks the pair after writing it and writes it again while
    they disagree; the last to check leaves a pair that agrees."""
    target = os.fspath(target)
    digest = (sha256_hex(data) + "\n").encode()
    for _ in range(_PUBLISH_TRIES):
        write_atomic(target + _SIDECAR, digest)
        write_atomic(target, data, mode)
        if _holds(target, data, digest) or verified(target):  # (ours, compared without a hash;
            break  # else whether another writer's pair agrees)
    evict(os.path.dirname(target), keep=target)


def _holds(target: str, data: bytes, digest: bytes) -> bool:
    """True when ``target`` and its hash file hold exactly ``data`` and ``digest``."""
    try:
        with open(target + _SIDECAR, "rb") as file:
            if file.read() != digest:
                return False
        with open(target, "rb") as file:
            return file.read() == data
    except OSError:
        return False


def touch(path: str | os.PathLike) -> None:
    """Mark an entry as used now (the size bound evicts the least recently used first)."""
    try:
        os.utime(path)
    except OSError:
        pass


def entries(directory: str | os.PathLike) -> list[str]:
    """The cache's entries (not their hash files), sorted by name."""
    try:
        with os.scandir(os.fspath(directory)) as listing:
            return sorted(item.path for item in listing if item.name.startswith(_PREFIXES)
                          and not item.name.endswith(_SIDECAR) and item.is_file())
    except (FileNotFoundError, NotADirectoryError):
        return []


def size_bound() -> int:
    """The cache's size bound in bytes: ``$FFIKIT_CACHE_SIZE`` MiB, default 512."""
    try:
        mib = float(os.environ.get("FFIKIT_CACHE_SIZE") or DEFAULT_SIZE_MIB)
    except ValueError:
        mib = DEFAULT_SIZE_MIB
    return max(0, int(mib * 1024 * 1024))


def evict(directory: str | os.PathLike, keep: str | os.PathLike | None = None) -> int:
    """Remove least recently used entries until the cache fits its bound; returns how many."""
    sized = []
    keep = os.fspath(keep) if keep is not None else None
    for path in entries(directory):
        try:
            info = os.stat(path)
        except OSError:
            continue
        sized.append((info.st_mtime_ns, path, info.st_size))
    total, bound, removed = sum(s for *_, s in sized), size_bound(), 0
    for _, path, size in sorted(sized, key=lambda item: item[0]):
        if total <= bound:
            break
        if keep is not None and path == keep:
            continue
        _remove(path)
        _remove(path + _SIDECAR)
        total -= size
        removed += 1
    return removed
