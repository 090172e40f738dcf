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
