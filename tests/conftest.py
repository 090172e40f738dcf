"""Shared fixtures: every test that needs C compiles real C with ffikit.build."""

from __future__ import annotations

import os
import textwrap

import pytest

import ffikit


@pytest.fixture(scope="session")
def build_cache(tmp_path_factory) -> str:
    """One compiler cache per test session, so runs never see stale libraries."""
    path = str(tmp_path_factory.mktemp("ffikit-cache"))
    os.environ["FFIKIT_CACHE_DIR"] = path
    return path


@pytest.fixture(scope="session")
def cbuild(build_cache):
    """``cbuild(source, name="x", **kw) -> path``: compile C text (dedented)."""

    def _build(source: str, name: str = "testlib", **kwargs) -> str:
        return ffikit.build(textwrap.dedent(source), name=name, cache_dir=build_cache, **kwargs)

    return _build


@pytest.fixture(scope="module", params=["ctypes", "compiled"])
def backend(request):
    """Run a module's tests under each backend (``$FFIKIT_BACKEND`` while the module runs).

    Module fixtures that load libraries request this fixture, so each backend
    gets its own libraries.
    """
    from ffikit.backends.compiled import available

    if request.param == "compiled" and not available()[0]:
        pytest.skip(f"compiled backend unavailable: {available()[1]}")
    old = os.environ.get("FFIKIT_BACKEND")
    os.environ["FFIKIT_BACKEND"] = request.param
    yield request.param
    if old is None:
        os.environ.pop("FFIKIT_BACKEND", None)
    else:
        os.environ["FFIKIT_BACKEND"] = old
