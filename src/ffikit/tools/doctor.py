"""``ffikit doctor LIB``: how a library would be found and loaded, and what stops it.

Reuses :func:`ffikit.boundary.library.candidates` (the same search :func:`ffikit.load`
does) and :mod:`ffikit.boundary.elf` (header, ``DT_NEEDED``, exported symbols).
Dependencies are resolved the way the system loader would on Linux, as far
as it can be done without loading them: the library's own directory,
``LD_LIBRARY_PATH``, the ``ldconfig -p`` cache and the default directories.
(``DT_RUNPATH``/``DT_RPATH`` are not read yet.)  It also says which call
backend ``load`` would use here (compiled or ctypes) and why.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache

from ffikit.backends.compiled import choose_backend
from ffikit.boundary import elf as _elf
from ffikit.boundary.finding import hint_for, loaded_path
from ffikit.boundary.library import candidates
from ffikit.cachedir import default_cache_dir, trusted_root
from ffikit.errors import FFIError, UntrustedCache

__all__ = ["Diagnosis", "diagnose"]

_DEFAULT_DIRS = ("/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/local/lib",
                 "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
                 "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu")


@dataclass
class Diagnosis:
    """What ``doctor`` found; ``ok`` is True when the library loads."""

    name: str
    candidates: list = field(default_factory=list)
    chosen: str | None = None
    elf: _elf.ElfInfo | None = None
    dependencies: list[tuple[str, str | None]] = field(default_factory=list)  # (name, path|None)
    problem: str | None = None
    hint: str | None = None
    backend: tuple[str, str] = ("ctypes", "")  # (the backend load() would use, why)
    cache: str = ""  # where compiled modules are cached, and whether ffikit trusts it

    @property
    def ok(self) -> bool:
        return self.chosen is not None and not self.missing

    @property
    def missing(self) -> list[str]:
        return [dep for dep, where in self.dependencies if where is None]

    def report(self) -> str:
        lines = [f"ffikit doctor: {self.name}", "candidates, in search order:"]
        lines += [f"  {c}" for c in self.candidates] or ["  (none)"]
        lines.append(f"chosen: {self.chosen or 'none: no candidate loaded'}")
        if self.elf is not None:
            info = self.elf
            lines.append(f"file: {info.path}")
            lines.append(f"architecture: ELF {info.describe()}"
                         + (f", soname {info.soname}" if info.soname else ""))
            mismatch = _elf.describe_mismatch(info)
            if mismatch:
                lines.append(f"  cannot load into this Python: {mismatch}")
            lines.append(f"exported symbols: {len(info.exports)}")
            lines.append(f"dependencies (DT_NEEDED): {len(self.dependencies)}")
            for dep, where in self.dependencies:
                lines.append(f"  {dep} -> {where or 'NOT FOUND'}")
        lines.append(f"backend: {self.backend[0]} ({self.backend[1]})")
        lines.append(f"cache: {self.cache}")
        if self.missing:
            lines.append(f"problem: missing dependency {', '.join(self.missing)}; install it or add "
                         "its directory to LD_LIBRARY_PATH")
        elif self.problem:
            lines.append(f"problem: {self.problem}")
            if self.hint:
                lines.append(f"hint: {self.hint}")
        else:
            lines.append("ok: ffikit.load can load it")
        return "\n".join(lines)


@lru_cache(maxsize=1)
def _ld_cache() -> dict[str, str]:
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    found: dict[str, str] = {}
    for line in out.splitlines()[1:]:
        name, _, path = line.strip().partition(" => ")
        found.setdefault(name.split(" (", 1)[0], path.strip())
    return found


def resolve_dependency(dep: str, origin_dir: str | None) -> str | None:
    """Where the loader would find ``dep`` (a DT_NEEDED name), or None."""
    if "/" in dep:
        return dep if os.path.exists(dep) else None
    dirs = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d]
    if origin_dir:
        dirs.append(origin_dir)
    for directory in dirs:
        path = os.path.join(directory, dep)
        if os.path.exists(path):
            return path
    if dep in _ld_cache():
        return _ld_cache()[dep]
    for directory in _DEFAULT_DIRS:
        path = os.path.join(directory, dep)
        if os.path.exists(path):
            return path
    return None


def _backend() -> tuple[str, str]:
    """Which backend ``ffikit.load`` would use here, and why (never raises)."""
    try:
        backend, why, _forced = choose_backend()
    except FFIError as exc:  # FFIKIT_BACKEND names a backend this machine cannot use
        return "none", str(exc)
    return backend, why


def _cache() -> str:
    """The cache directory and whether it passes the trust checks (never raises, creates nothing)."""
    where = default_cache_dir()
    if not os.path.exists(where):
        return f"{where} (not created yet)"
    try:
        trusted_root(where, create=False)
    except UntrustedCache as exc:
        return f"{where}: NOT USED: {exc}"
    except OSError as exc:
        return f"{where}: cannot check it ({exc})"
    return f"{where} (yours and private: compiled modules are loaded from it)"


def diagnose(name: str) -> Diagnosis:
    """Search for ``name`` as :func:`ffikit.load` would and inspect the result."""
    found = candidates(name)
    diagnosis = Diagnosis(name, [str(c) for c in found], backend=_backend(), cache=_cache())
    path = None
    for cand in found:
        if cand.loaded:
            path = cand.path if not cand.system else (loaded_path(cand.handle) or cand.path)
            diagnosis.chosen = path
            break
    if path is None:  # nothing loaded: the first existing file says why (not the misses)
        existing = [c for c in found if os.path.isfile(c.path)]
        path = existing[0].path if existing else None
        diagnosis.problem = (existing[0].reason or "it did not load") if existing else \
            "no candidate file exists"
        diagnosis.hint = hint_for(found)
    if path is not None and os.path.isfile(path):
        try:
            diagnosis.elf = _elf.read_elf(path)
        except (OSError, _elf.NotElf) as exc:
            diagnosis.problem = diagnosis.problem or str(exc)
        else:
            origin = os.path.dirname(os.path.abspath(path))
            diagnosis.dependencies = [(dep, resolve_dependency(dep, origin))
                                      for dep in diagnosis.elf.needed]
    return diagnosis
