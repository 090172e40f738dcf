"""The preprocessor subprocess: bounded in time, its process group killed, FIFOs refused."""

import os
import subprocess
import sys
import textwrap
import time

import pytest

from ffikit import DeclarationError
from ffikit.cdecl.cpp import cpp_timeout, run_cpp
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


class TestMeanwhile:
    """Work done while the preprocessor runs: same output, no deadlock, nothing left behind."""

    def test_called_once_while_the_preprocessor_is_alive(self):
        seen = []
        before = _children()  # (earlier tests may have left background builds running)

        def meanwhile():  # the preprocessor is a child of this process until collected
            seen.append(_children() - before)

        text = "#include <zlib.h>\n"
        with_work = run_cpp(text, "<t>", meanwhile=meanwhile)
        assert len(seen) == 1 and seen[0]
        assert with_work == run_cpp(text, "<t>")

    def test_the_preprocessor_finishes_without_a_reader(self):
        states = []
        before = _children()

        def meanwhile():  # zlib.h's output (> 64 KiB, a pipe's default) is written, all of it
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                started = _children() - before
                if started and not any(_alive(pid) for pid in started):
                    break
                time.sleep(0.01)
            states.append([_alive(pid) for pid in started])

        out = run_cpp("#include <zlib.h>\n", "<t>", meanwhile=meanwhile)
        assert len(out) > 65536 and "deflateInit2_" in out
        assert states and states[0] and not any(states[0])  # exited (a zombie until collected)

    def test_large_input_does_not_deadlock(self):
        text = "#define N 3\n" + "".join(f"int f{i}(int a[N]);\n" for i in range(20_000))
        out = run_cpp(text, "<big>", meanwhile=lambda: time.sleep(0.2))
        assert out.count("int a[3]") == 20_000 and out == run_cpp(text, "<big>")

    def test_preprocessor_errors_still_raise(self):
        calls = []
        with pytest.raises(DeclarationError, match="no_such_header_ffikit"):
            run_cpp('#include "no_such_header_ffikit.h"\n', "<t>", meanwhile=lambda: calls.append(1))
        assert calls == [1]

    def test_failing_work_kills_the_preprocessor(self, tmp_path):
        (tmp_path / "marker_ffikit_meanwhile.h").write_text("int g(void);\n")

        def boom():
            raise KeyError("boom")

        before = _children()

        with pytest.raises(KeyError):
            run_cpp('#include "marker_ffikit_meanwhile.h"\n', "<t>", include_dirs=[str(tmp_path)],
                    meanwhile=boom)
        time.sleep(0.1)
        assert not [pid for pid in _children() - before if _alive(pid)]


def _children() -> set[str]:
    return {pid for pid in filter(str.isdigit, os.listdir("/proc")) if _parent(pid) == os.getpid()}


def _parent(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
