"""choose_backend: backend= beats $FFIKIT_BACKEND beats auto; bad names are refused."""

from __future__ import annotations

import pytest

import ffikit
from ffikit.backends.compiled import available, choose_backend


class TestChooseBackend:
    def test_argument_beats_environment(self, monkeypatch):
        monkeypatch.setenv("FFIKIT_BACKEND", "compiled")
        assert choose_backend("ctypes")[:3:2] == ("ctypes", True)

    def test_environment_beats_auto(self, monkeypatch):
        monkeypatch.setenv("FFIKIT_BACKEND", "ctypes")
        backend, why, forced = choose_backend()
        assert (backend, forced) == ("ctypes", True) and "FFIKIT_BACKEND=" in why

    def test_auto_prefers_compiled_where_it_can_build(self, monkeypatch):
        monkeypatch.delenv("FFIKIT_BACKEND", raising=False)
        backend, why, forced = choose_backend()
        assert backend == ("compiled" if available()[0] else "ctypes") and not forced
        assert why.startswith("auto: ")

    def test_unknown_name_refused(self, monkeypatch):
        monkeypatch.setenv("FFIKIT_BACKEND", "fast")
        with pytest.raises(ffikit.ArgumentError, match=r"FFIKIT_BACKEND='fast': the backend must be one of 'auto', 'ctypes', 'compiled'"):
            choose_backend()
        with pytest.raises(ffikit.ArgumentError, match=r"^backend='x'"):
            ffikit.load("m", "double cos(double);", backend="x")
