"""``ffikit check-headers DIR``: which headers gcc compiles alone, and which ffikit parses.

For every header under a directory (all of its top level and ``sys/``, and
up to ``per_dir`` headers of each other sub-folder) the sweep asks the C
compiler whether ``#include <h>`` compiles on its own, then runs
:func:`ffikit.include` on the ones that do.  Each header ends as *parsed*,
*refused* (a :class:`~ffikit.errors.DeclarationError`: its message is the
reason), *crashed* (any other exception: a bug), *bind-crashed* (``ffikit bind``'s
generator failed on declarations ``include()`` took: a bug) or *gcc-rejects*.
A parsed header reports how many functions and constants it gives.
"""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
from collections import Counter
from dataclasses import dataclass

from ffikit.cdecl.preprocess import compiler

__all__ = ["HeaderResult", "header_list", "gcc_accepts", "parse_header", "sweep", "summary", "FAILED"]


@dataclass
class HeaderResult:
    header: str
    status: str  # "parsed", "refused", "crashed", "bind-crashed", "gcc-rejects"
    reason: str = ""
    functions: int = 0  # declared functions the header reaches (parsed headers)
    constants: int = 0  # its constants (#define and enum values)


def header_list(root: str, per_dir: int = 2) -> list[str]:
    """Headers under ``root`` as ``#include`` names, sorted: the top level and ``sys/``
    whole, the first ``per_dir`` (sorted) of every other folder.  A multiarch folder
    (``x86_64-linux-gnu``, itself on the include path) counts as a top level."""
    roots = [os.path.abspath(root)]
    system = {os.path.abspath(d) for d in _system_dirs()}
    roots += sorted(d for d in system if os.path.dirname(d) == roots[0])
    found: set[str] = set()
    for top in roots:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames
                                 if os.path.join(dirpath, d) not in roots)
            rel = os.path.relpath(dirpath, top)
            names = sorted(f for f in filenames if f.endswith(".h"))
            if rel not in (".", "sys"):
                names = names[:per_dir]
            found.update(os.path.normpath(os.path.join(rel, n)) for n in names)
    return sorted(found)


def _include_line(header: str, root: str | None) -> str:
    return f"#include <{header}>\n"


def gcc_accepts(header: str, root: str | None = None) -> tuple[bool, str]:
    """Whether ``#include <header>`` compiles on its own (and the first error if not)."""
    argv = [*compiler(), "-fsyntax-only", "-std=gnu11", "-x", "c", "-"]
    if root:
        argv.insert(-1, f"-I{root}")
    try:
        proc = subprocess.run(argv, input=_include_line(header, root), capture_output=True,
                              text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, str(exc)
    if proc.returncode == 0:
        return True, ""
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    return False, (errors or proc.stderr.splitlines() or ["?"])[0]


def parse_header(header: str, root: str | None = None) -> HeaderResult:
    """Run :func:`ffikit.include` on one header and classify the outcome."""
    import ffikit
    from ffikit.errors import DeclarationError
    from ffikit.tools.bindgen import generate

    try:
        defs = ffikit.include(header, include_dirs=[root] if root else ())
    except DeclarationError as exc:
        return HeaderResult(header, "refused", str(exc).splitlines()[0])
    except Exception as exc:  # noqa: BLE001 - a crash is what the sweep reports
        return HeaderResult(header, "crashed", f"{type(exc).__name__}: {exc}".splitlines()[0])
    functions, constants = len(defs.functions), len(defs.constants)
    try:  # `ffikit bind` must take every header include() takes
        generate(defs, header, "c")
    except Exception as exc:  # noqa: BLE001 - a crash is what the sweep reports
        return HeaderResult(header, "bind-crashed",
                            f"{type(exc).__name__}: {exc}".splitlines()[0], functions, constants)
    return HeaderResult(header, "parsed", functions=functions, constants=constants)


def _one(args) -> HeaderResult:
    header, root = args
    ok, why = gcc_accepts(header, root)
    if not ok:
        return HeaderResult(header, "gcc-rejects", why)
    return parse_header(header, root)


def sweep(root: str, headers: list[str] | None = None, jobs: int = 2,
          per_dir: int = 2) -> list[HeaderResult]:
    """Classify every header (see the module docstring); ``jobs`` worker processes."""
    headers = header_list(root, per_dir) if headers is None else headers
    system = os.path.abspath(root) in {os.path.abspath(d) for d in _system_dirs()}
    todo = [(h, None if system else os.path.abspath(root)) for h in headers]
    if jobs <= 1:
        return [_one(item) for item in todo]
    with concurrent.futures.ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(_one, todo, chunksize=4))


def _system_dirs() -> tuple[str, ...]:
    from ffikit.cdecl.preprocess import system_include_dirs

    return system_include_dirs()


FAILED = ("refused", "crashed", "bind-crashed")


def summary(results: list[HeaderResult], per_header: bool = False) -> str:
    """The counts and totals, then every refusal and crash with its reason (and with
    ``per_header``, the functions and constants each parsed header gives)."""
    counts = Counter(r.status for r in results)
    lines = [f"{len(results)} headers: {counts['parsed']} parsed, {counts['refused']} refused, "
             f"{counts['crashed']} crashed, {counts['bind-crashed']} bind-crashed, "
             f"{counts['gcc-rejects']} gcc-rejects; "
             f"{sum(r.functions for r in results)} functions, "
             f"{sum(r.constants for r in results)} constants"]
    for r in results:
        if r.status in FAILED:
            lines.append(f"  {r.status}: {r.header}: {r.reason}")
    if per_header:
        lines += [f"  {r.header}: {r.functions} functions, {r.constants} constants"
                  for r in results if r.status == "parsed"]
    return "\n".join(lines)
