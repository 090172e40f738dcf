"""The preprocessor subprocess: bounded in time, its process group killed, FIFOs refused."""

import os
import subprocess
import sys
import textwrap
import time

import pytest

from ffikit import DeclarationError
from ffikit.cdecl.cpp import cpp_timeout
from ffikit.cdecl.preprocess import preprocess


class TestBoundedPreprocessor:
    """An #include that never ends: the preprocessor's process group is killed."""

    def test_include_of_a_fifo_is_refused_before_running(self, tmp_path):
        fifo = tmp_path / "fifo.h"
        os.mkfifo(fifo)
        with pytest.raises(DeclarationError, match="not a regular file"):
            preprocess(f'#include "{fifo}"\n')

    def test_nested_fifo_times_out_and_leaves_no_process(self, tmp_path):
        os.mkfifo(tmp_path / "fifo.h")
        (tmp_path / "outer.h").write_text('#include "fifo.h"\nint f(void);\n')
        code = textwrap.dedent(f"""
            import os, time
            os.environ["FFIKIT_CPP_TIMEOUT"] = "2"
            import ffikit
            start = time.monotonic()
            try:
                ffikit.include("outer.h", include_dirs=[{str(tmp_path)!r}])
            except ffikit.DeclarationError as exc:
                print(round(time.monotonic() - start), str(exc).splitlines()[0])
        """)
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=60)
        seconds, message = proc.stdout.split(" ", 1)
        assert int(seconds) < 10 and "ran longer than 2 s and was stopped" in message
        time.sleep(0.2)
        left = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    if str(tmp_path).encode() in fh.read():
                        left.append(pid)
            except OSError:
                continue
        assert left == []


def test_timeout_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("FFIKIT_CPP_TIMEOUT", "7.5")
    assert cpp_timeout() == 7.5
    monkeypatch.setenv("FFIKIT_CPP_TIMEOUT", "soon")
    assert cpp_timeout() == 30.0
