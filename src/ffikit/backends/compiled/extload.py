"""Importing a C extension module that the build cache holds, by its file path.

Every compiled part of ffikit (the per-declaration wrapper modules, the
callback pools, fastmem) is an extension built into the cache under a name of
its own; none is on ``sys.path``, so each is imported from the path the cache
verified, never looked up by name.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from types import ModuleType

__all__ = ["import_extension"]


def import_extension(name: str, path: str) -> ModuleType:
    """Execute the extension at ``path`` as a module called ``name``; it must define ``PyInit_<name>``."""
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    if spec is None:
        raise ImportError(f"ffikit: {path} is not an extension module that can be imported as {name}")
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
