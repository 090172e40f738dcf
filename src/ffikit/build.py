"""Compile C source into a cached shared library with the system compiler.

Used by tests, examples and users who want a quick native helper without a
build system.  The result is cached by a hash of everything that affects the
output (sources, flags, include dirs, libraries, compiler identity), so a
second call with the same input returns the same path without running the
compiler.

Logging (logger ``ffikit.build``, DEBUG): every compiler command line, and
each cache hit or miss.  A one-line progress note goes to stderr while the
compiler runs, only when stderr is a terminal.  :func:`cache_info` and
:func:`cache_clear` back ``ffikit cache info|clear``.
"""

from __future__ import annotations

import atexit
import os
import re
import shlex
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from ffikit.cachedir import (
    compiler_command,
    compiler_identity,
    default_cache_dir,
    entries,
    publish,
    sha256,
    touch,
    trusted_root,
    verified,
)
from ffikit.errors import CompileError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

if TYPE_CHECKING:
    import subprocess

__all__ = ["build", "built", "default_cache_dir", "compiler_command", "shared_library_suffix",
           "cache_info", "cache_clear", "exiting"]

DEFAULT_FLAGS = ("-shared", "-fPIC", "-O2")


def shared_library_suffix(platform: str | None = None) -> str:
    """The file suffix of shared libraries on ``platform`` (default: this one)."""
    platform = platform or sys.platform
    if platform.startswith("win"):
        return ".dll"
    if platform == "darwin":
        return ".dylib"
    return ".so"


def _read_sources(source_or_paths: str | os.PathLike | Sequence[str | os.PathLike]):
    """Normalise the input into ``[(display_name, text, path_or_None)]``."""
    if isinstance(source_or_paths, os.PathLike):
        items: list = [source_or_paths]
    elif isinstance(source_or_paths, str):
        looks_like_path = (
            "\n" not in source_or_paths
            and source_or_paths.endswith((".c", ".h"))
            and len(source_or_paths) < 4096
        )
        if not looks_like_path:
            return [("<source>", source_or_paths, None)]
        items = [source_or_paths]
    else:
        items = list(source_or_paths)
        if not items:
            raise ValueError("ffikit.build: no sources given")
    result = []
    for item in items:
        path = Path(item)
        if not path.is_file():
            raise FileNotFoundError(f"ffikit.build: source file not found: {path}")
        result.append((str(path), path.read_text(), path.resolve()))
    return result


_QUOTED_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def _local_headers(text: str, search: list[Path], seen: set | None = None) -> list[Path]:
    """Headers a source includes with quotes, recursively: their contents are part of
    the cache key, so editing one rebuilds (system <headers> are covered by the
    compiler identity)."""
    seen = set() if seen is None else seen
    found = []
    for name in _QUOTED_INCLUDE.findall(text):
        for base in search:
            candidate = (base / name).resolve()
            if candidate.is_file():
                if candidate not in seen:
                    seen.add(candidate)
                    found.append(candidate)
                    found += _local_headers(candidate.read_text(errors="replace"),
                                            [candidate.parent, *search], seen)
                break
    return found


def build(
    source_or_paths: str | os.PathLike | Sequence[str | os.PathLike],
    name: str | None = None,
    *,
    include_dirs: Iterable[str | os.PathLike] = (),
    libraries: Iterable[str] = (),
    flags: Iterable[str] = (),
    cache_dir: str | os.PathLike | None = None,
) -> str:
    """Compile C source text or files into a shared library and return its path.

    Parameters
    ----------
    source_or_paths
        C source text, or the path of one ``.c`` file, or a list of paths.
    name
        Base name of the library (``lib<name>-<hash>.so``); default ``ffikit``.
    include_dirs, libraries, flags
        ``-I`` directories, ``-l`` libraries and extra compiler flags.  The
        command is ``$CC -shared -fPIC -O2 $CFLAGS flags -I... sources
        $LDFLAGS -l...``: ``flags`` come after ``$CFLAGS``, so they win where
        the compiler takes the last (``-O0``); both are part of the cache key.
    cache_dir
        Where built libraries live; default :func:`default_cache_dir`.

    Returns
    -------
    str
        Absolute path of the shared library.  The file is never rewritten once
        built, so a loaded copy stays valid.

    Raises
    ------
    CompileError
        The compiler failed (its stderr is in ``.stderr`` and in the message)
        or is not installed.

    Examples
    --------
    >>> path = build("int add(int a, int b) { return a + b; }", name="add")
    >>> ffikit.load(path, "int add(int, int);").add(2, 3)
    5
    """
    sources, name, command, include_dirs, libraries, flags, ldflags, target = _plan(
        source_or_paths, name, include_dirs, libraries, flags, cache_dir)
    import logging  # (here: what only compiling needs is imported when it is needed)
    import tempfile

    log = logging.getLogger("ffikit.build")
    if verified(target):
        log.debug("build cache hit: %s", target)
        touch(target)
        return str(target)
    log.debug("build cache miss: %s (%s)", target, "compiling" if not target.exists() else
              "not the file this user built (owner, mode or hash differ): compiling again")

    with tempfile.TemporaryDirectory(prefix="ffikit-build-") as tmp:
        inputs = []
        for index, (_display, text, path) in enumerate(sources):
            if path is None:
                path = Path(tmp) / f"{name}_{index}.c"
                path.write_text(text)
            inputs.append(str(path))
        # Built in the private temporary directory (nobody else can open it), then its bytes
        # go into the cache with their hash, each written atomically.
        partial = Path(tmp) / target.name
        argv = [
            *command,
            *DEFAULT_FLAGS,
            *flags,
            *(f"-I{d}" for d in include_dirs),
            "-o",
            str(partial),
            *inputs,
            *ldflags,
            *(f"-l{lib}" for lib in libraries),
        ]
        log.debug("compiler: %s", " ".join(shlex.quote(a) for a in argv))
        tty = _stderr_is_terminal()
        if tty:
            print(f"ffikit: compiling {name} ...", end="", file=sys.stderr, flush=True)
        try:
            proc = _run_compiler(argv, tmp)
        except OSError as exc:
            raise CompileError(
                f"ffikit.build: could not run the C compiler {command[0]!r}: {exc}",
                command=argv,
            ) from None
        finally:
            if tty:
                print("\r\033[K", end="", file=sys.stderr, flush=True)
        if _exiting:
            raise CompileError(f"ffikit.build: compiling {name!r} stopped: the interpreter is exiting",
                               command=argv)
        if proc.returncode != 0:
            raise CompileError(
                f"ffikit.build: compiling {name!r} failed (exit {proc.returncode}): "
                + " ".join(shlex.quote(a) for a in argv),
                stderr=proc.stderr,
                command=argv,
            )
        publish(target, partial.read_bytes(), 0o700)
    return str(target)


_running: dict[int, tuple[subprocess.Popen, str]] = {}
_exiting = False


def _run_compiler(argv: list[str], tmp: str) -> subprocess.CompletedProcess:
    """Run the compiler in its own process group, known to :func:`_stop_compilers` meanwhile."""
    import subprocess

    if not _running and not _exit_hook:
        _exit_hook.append(atexit.register(_stop_compilers))
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    _running[proc.pid] = (proc, tmp)
    try:
        out, err = proc.communicate(timeout=600)
    except BaseException:  # a timeout or KeyboardInterrupt: the compiler and its children go
        _kill(proc)
        raise
    finally:
        _running.pop(proc.pid, None)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


_exit_hook: list = []


def _kill(proc: subprocess.Popen) -> None:
    import signal

    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except OSError:
        pass
    proc.wait()


def exiting() -> bool:
    """True once the interpreter is exiting: builds still running were stopped, none start."""
    return _exiting


def _stop_compilers() -> None:
    """At exit: a build still running (in a background thread) is killed with its process group
    and its temporary directory removed; nothing half-written ever reaches the cache."""
    import shutil

    global _exiting
    _exiting = True
    for proc, tmp in list(_running.values()):
        _kill(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def built(source_or_paths: str | os.PathLike | Sequence[str | os.PathLike], name: str | None = None,
          **options: Any) -> str | None:
    """The path :func:`build` would return for these arguments (``options``: the same
    keywords) if it is already in the cache, else None -- never running the compiler."""
    target = _plan(source_or_paths, name, options.get("include_dirs", ()),
                   options.get("libraries", ()), options.get("flags", ()), options.get("cache_dir"))[-1]
    if not verified(target):
        return None
    touch(target)
    return str(target)


def _plan(source_or_paths, name, include_dirs, libraries, flags, cache_dir) -> tuple:
    """Normalised arguments and the cache entry they name (a hash of everything that matters)."""
    sources = _read_sources(source_or_paths)
    include_dirs = [str(Path(d).resolve()) for d in include_dirs]
    libraries = list(libraries)
    flags = [*shlex.split(os.environ.get("CFLAGS", "")), *flags]  # flags= win where they differ
    ldflags = shlex.split(os.environ.get("LDFLAGS", ""))
    name = name or "ffikit"
    if not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"ffikit.build: name {name!r} must be letters, digits, '-' or '_'")
    command = compiler_command()

    digest = sha256()
    digest.update(compiler_identity(tuple(command)).encode())
    for part in (DEFAULT_FLAGS, flags, include_dirs, libraries, ldflags):
        digest.update(repr(list(part)).encode())
    for display, text, path in sources:
        digest.update(display.encode() + b"\0" + text.encode() + b"\0")
        base = path.parent if path is not None else Path.cwd()
        for header in _local_headers(text, [base, *map(Path, include_dirs)]):
            digest.update(str(header).encode() + b"\0" + header.read_bytes() + b"\0")
    key = digest.hexdigest()[:20]
    target = Path(trusted_root(cache_dir)) / f"lib{name}-{key}{shared_library_suffix()}"
    return sources, name, command, include_dirs, libraries, flags, ldflags, target


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _cache_entries(cache_dir: str | os.PathLike | None) -> tuple[Path, list[Path]]:
    directory = Path(cache_dir if cache_dir is not None else default_cache_dir())
    return directory, [Path(p) for p in entries(directory)]


def cache_info(cache_dir: str | os.PathLike | None = None) -> dict:
    """The cache: ``{"location", "entries", "bytes", "bound", "files": [(name, bytes), ...]}``
    (built libraries, compiled backend modules and declaration models)."""
    from ffikit.cachedir import size_bound

    directory, files = _cache_entries(cache_dir)
    sizes = [(p.name, p.stat().st_size) for p in files]
    return {"location": str(directory), "entries": len(sizes),
            "bytes": sum(size for _, size in sizes), "bound": size_bound(), "files": sizes}


def cache_clear(cache_dir: str | os.PathLike | None = None) -> int:
    """Delete every cache entry (and its hash file, and leftover partial writes); returns how
    many entries were removed.  Processes that loaded a library keep their mapping."""
    directory, files = _cache_entries(cache_dir)
    for path in files:
        path.unlink(missing_ok=True)
    if directory.is_dir():
        for path in [*directory.glob(".*.partial"), *directory.glob("*.sha256")]:
            path.unlink(missing_ok=True)
    import logging

    logging.getLogger("ffikit.build").debug("cache cleared: %s (%d entries)", directory, len(files))
    return len(files)
