"""The real-library corpus (tests/realworld/test_corpus_*.py): is a library installed?

``make system-deps`` installs every library's development package with apt-get.
Where apt-get is absent a missing header skips its tests, saying which package
to install; where apt-get is present it is a failure (the package should have
been installed), so the corpus cannot silently stop running.
"""

from __future__ import annotations

import os
import shutil

import pytest

from ffikit.cdecl.preprocess import system_include_dirs


def require(package: str, *headers: str, include_dirs: tuple[str, ...] = ()) -> None:
    """Skip (no apt-get) or fail (apt-get present) unless every header is installed."""
    dirs = (*include_dirs, *system_include_dirs())
    missing = [h for h in headers if not any(os.path.isfile(os.path.join(d, h)) for d in dirs)]
    if not missing:
        return
    what = f"<{'>, <'.join(missing)}> not installed (Debian package {package})"
    if shutil.which("apt-get") is None:
        pytest.skip(f"{what}; no apt-get on this machine to install it")
    pytest.fail(f"{what}: run `make system-deps` (as root, or with sudo) to install it")
