"""``ffikit.view`` and ``ffikit.alloc`` in C for their common cases (``runtime/fastmem.c``).

The Python functions already have fast paths (a cached view type and
``from_buffer``; a cached heap spec and a ``bytearray``); what is left is
Python's own cost of a call with keyword-only parameters and a dozen checks,
which is as much as the work.  ``runtime/fastmem.c`` does the same steps in C,
reading the same caches the Python functions fill, and hands every other call
(keywords, a type text not seen yet, a buffer that is not plain, tracking on,
any error) to the Python function, so both give the same objects and the same
words.

Nothing waits on a compiler: :func:`fast_functions` returns the C functions only
when the module is already in the build cache (built by an earlier process);
otherwise it returns the Python functions and, where extensions can be built and
once the process has lived two seconds (a short script never starts a compiler
its exit would kill), asks the background builder for the module, which the
*next* process imports.
``$FFIKIT_FASTMEM=0`` keeps the Python functions.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from ffikit.backends.compiled import background
from ffikit.backends.compiled.extload import import_extension
from ffikit.backends.compiled.runtime import RUNTIME_DIR

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["fast_functions", "SOURCE"]

SOURCE = Path(RUNTIME_DIR, "fastmem.c")
log = logging.getLogger("ffikit.backends.compiled")
_requested: list[bool] = []
BUILD_AFTER = 2.0  # seconds a process lives before it asks for the module


def _source_and_name() -> tuple[str, str]:
    from ffikit.cachedir import sha256_hex

    text = SOURCE.read_text()
    abi = f"/* {sys.implementation.cache_tag} {sys.abiflags} {sys.version} */"
    name = "_ffikit_fastmem_" + sha256_hex((abi + text).encode())[:16]
    return f'{abi}\n#define FASTMEM_NAME "{name}"\n{text}\n' \
           f"PyMODINIT_FUNC PyInit_{name}(void);\nPyMODINIT_FUNC\nPyInit_{name}(void)\n" \
           "{\n    return fastmem_init();\n}\n", name


def _options(name: str) -> dict[str, Any]:
    import sysconfig

    flags = ["-O2", "-fvisibility=hidden"]
    if sys.platform == "darwin":
        flags += ["-undefined", "dynamic_lookup"]
    return {"name": name.lstrip("_"), "include_dirs": [sysconfig.get_paths()["include"]],
            "flags": flags}


class _Build:
    """The background builder's work item: compile the module into the cache."""

    def build_pending(self) -> None:
        from ffikit.backends.compiled.module import available
        from ffikit.build import build

        if not available()[0]:
            return
        source, name = _source_and_name()
        build(source, **_options(name))


def _request_later() -> None:
    """Ask the background builder for the module once this process has lived
    :data:`BUILD_AFTER` seconds: a short script would only start a compiler that
    its exit kills, every run; a process that lives on builds it for the next ones."""
    import threading

    if background.synchronous():
        background.schedule(_Build())
        return
    timer = threading.Timer(BUILD_AFTER, background.schedule, (_Build(),))
    timer.daemon = True
    timer.name = "ffikit-fastmem-request"
    timer.start()


def load(compile: bool = False) -> Any:
    """The fastmem module from the build cache (or built now with ``compile``), else None."""
    from ffikit.build import build, built

    source, name = _source_and_name()
    path = (build if compile else built)(source, **_options(name))
    if path is None:
        return None
    module = sys.modules.get(name)
    if module is None:
        module = import_extension(name, path)
        sys.modules[name] = module
    return module


def fast_functions(view: Callable, alloc: Callable, *, plain: set, view_cache: dict,
                   open_cache: dict, heap_cache: dict, memory_type: type, tracking: Any, heap_max: int,
                   module_name: str) -> tuple[Callable, Callable]:
    """``(view, alloc)``: the C ones when the module is built, else the Python ones given.

    The C functions say they live in ``module_name`` (which must hold them as ``view``
    and ``alloc``), so they pickle by that name: a process that has not built the
    C module unpickles its own ``view``/``alloc``."""
    from ffikit.backends.compiled.classify import BPTR_OFFSET

    if os.environ.get("FFIKIT_FASTMEM", "1") == "0" or BPTR_OFFSET < 0 or sys.implementation.name != "cpython":
        return view, alloc
    try:
        module = load()
    except (ImportError, OSError) as exc:
        log.info("ffikit: the C view/alloc module did not load (%s); the Python ones are used", exc)
        return view, alloc
    except Exception as exc:  # noqa: BLE001 - an untrusted cache dir, a bad entry: stay on Python
        log.info("ffikit: no C view/alloc (%s)", exc)
        return view, alloc
    if module is None:
        if not _requested:
            _requested.append(True)
            _request_later()
        return view, alloc
    module.setup(plain, view_cache, open_cache, view, heap_cache, memory_type, tracking, alloc,
                 BPTR_OFFSET, heap_max)
    module.view.__module__ = module.alloc.__module__ = module_name
    return module.view, module.alloc
