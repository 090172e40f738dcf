"""Where the compiled backend's fixed C lives: ``runtime/*.c`` and ``runtime/ffikit_rt.h``.

The runtime is C written as C files, shipped as package data, one file per job:

* ``ffikit_rt.h`` -- the function object's struct, the pointer-parameter rule,
  size relations as numbers, the mode and policy codes;
* ``errno.c`` -- ctypes-compatible errno emulation, cached per thread in C;
* ``convert.c`` -- exact ``int``/``float`` arguments within range;
* ``pins.c`` -- what a pointer result keeps alive of the call's arguments;
* ``lend.c`` -- a plain callable for a function-pointer parameter: a slot of a
  C callback pool (``cbpool.h``/``cbpool.c``, built per signature by
  :mod:`~ffikit.backends.compiled.cbpool`), lent for the call;
* ``pointer.c`` -- pointer arguments by argument type (buffers, ctypes objects,
  callbacks, ffikit memory) and the extent C may reach through each;
* ``checks.c`` -- the size relations of :mod:`ffikit.rules.sizes`, compared in C;
* ``policy.c`` -- ``ffikit.check`` policies judged on the C result;
* ``results.c`` -- pointer, struct and string results built in C;
* ``slow.c`` -- the ctypes backend's wrapper, where every refusal is raised;
* ``crash.c`` -- a fatal signal names the C function running on that thread;
* ``functype.c`` -- the ``ffikit.CompiledFunction`` type;
* ``module.c`` -- ``make()`` and the module definition (after the wrappers).

A generated module (:func:`ffikit.backends.compiled.cgen.generate`) includes
them with this directory on the include path; :func:`digest` goes into the
module's name, so a changed runtime is a new module, never a stale cache hit.
"""

from __future__ import annotations

import functools
import os

__all__ = ["RUNTIME_DIR", "HEADER", "POOL_HEADER", "BEFORE_WRAPPERS", "AFTER_WRAPPERS", "digest", "includes"]

RUNTIME_DIR = os.path.join(os.path.dirname(os.path.realpath(__file__)), "runtime")  # (a str)
HEADER = "ffikit_rt.h"
POOL_HEADER = "cbpool.h"  # what lend.c shares with the C callback pools (cbpool.c)
BEFORE_WRAPPERS = ("errno.c", "convert.c", "pins.c", "lend.c", "pointer.c", "checks.c", "policy.c",
                   "results.c", "slow.c", "crash.c", "functype.c")
AFTER_WRAPPERS = ("module.c",)


@functools.lru_cache(maxsize=1)
def digest() -> str:
    """A hash of every runtime file's bytes."""
    from ffikit.cachedir import sha256

    h = sha256()
    for name in (HEADER, POOL_HEADER, *BEFORE_WRAPPERS, *AFTER_WRAPPERS):
        with open(os.path.join(RUNTIME_DIR, name), "rb") as file:
            h.update(name.encode() + b"\0" + file.read() + b"\0")
    return h.hexdigest()


def includes(names: tuple[str, ...]) -> str:
    """``#include`` lines for runtime files (found through ``-I`` :data:`RUNTIME_DIR`)."""
    return "\n".join(f'#include "{name}"' for name in names)
