"""pytest --ffikit-leaks fails the leaking test with the report; the fixture works."""

import importlib.metadata
import os
import subprocess
import sys
import textwrap

import ffikit

SRC = os.path.dirname(os.path.dirname(os.path.abspath(ffikit.__file__)))
INSTALLED = any(ep.name == "ffikit"
                for ep in importlib.metadata.entry_points(group="pytest11"))


def _run_pytest(tmp_path, body: str, *args: str) -> subprocess.CompletedProcess:
    test_file = tmp_path / "test_example.py"
    test_file.write_text(textwrap.dedent(body))
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    load = [] if INSTALLED else ["-p", "ffikit.tools.pytest_plugin"]  # the entry point loads it
    return subprocess.run(
        [sys.executable, "-m", "pytest", *load, "-q", "-p", "no:cacheprovider",
         str(test_file), *args],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, env=env)


LEAKY = """
    import ffikit
    KEEP = []

    def test_leaks():
        KEEP.append(ffikit.alloc("double", 32))

    def test_clean():
        with ffikit.alloc("double", 32):
            pass
"""


def test_leaking_test_fails_with_the_report(tmp_path):
    proc = _run_pytest(tmp_path, LEAKY, "--ffikit-leaks")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 failed, 1 passed" in proc.stdout
    assert "test_leaks leaked 1 ffikit allocation(s)" in proc.stdout
    assert "test_example.py:6" in proc.stdout and "256" in proc.stdout


def test_the_failure_shows_the_tests_lines_first_and_no_plugin_frames(tmp_path):
    proc = _run_pytest(tmp_path, LEAKY, "--ffikit-leaks")
    failure = proc.stdout.split("_ test_leaks _")[1]
    first = failure.strip("_ \n").splitlines()
    assert first[0] == "leaked allocation 1 of 1 (256 bytes), allocated at:"
    assert first[1].endswith("line 6, in test_leaks")
    assert failure.index("in test_leaks") < failure.index("LeakError")
    assert "pytest_plugin.py" not in proc.stdout


def test_without_the_option_nothing_fails(tmp_path):
    proc = _run_pytest(tmp_path, LEAKY)
    assert proc.returncode == 0 and "2 passed" in proc.stdout


def test_fixture(tmp_path):
    proc = _run_pytest(tmp_path, """
        import ffikit

        def test_uses_fixture(ffikit_tracker):
            m = ffikit.alloc("char", 10)
            assert len(ffikit_tracker.leaks()) == 1
            m.free()
            ffikit_tracker.assert_no_leaks()
    """)
    assert proc.returncode == 0, proc.stdout + proc.stderr
