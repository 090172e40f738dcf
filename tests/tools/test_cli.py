"""The ffikit command: every subcommand, its --help and its exit codes (0 ok, 1 failed, 2 usage)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ffikit.backends.compiled import available
from ffikit.tools import cli
from randstructs import random_declarations

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def run(*args: str, cwd=None, env_extra=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), **(env_extra or {}))
    return subprocess.run([PYTHON, "-m", "ffikit", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


class TestMain:
    @pytest.mark.parametrize("command", ["", "demo", "bench", "layout", "bind", "doctor"])
    def test_help_everywhere(self, command, capsys):
        with pytest.raises(SystemExit) as e:
            cli.main([command, "--help"] if command else ["--help"])
        assert e.value.code == 0
        assert "usage: ffikit" in capsys.readouterr().out

    def test_no_command_is_usage_error(self, capsys):
        with pytest.raises(SystemExit) as e:
            cli.main([])
        assert e.value.code == 2
        assert "the following arguments are required: COMMAND" in capsys.readouterr().err

    def test_python_dash_m(self):
        result = run("doctor", "--help")
        assert result.returncode == 0 and "usage: ffikit doctor" in result.stdout


@pytest.fixture
def bench_checkout(tmp_path, monkeypatch):
    """A checkout whose benchmarks/ holds the real harness and one tiny suite."""
    bench = tmp_path / "benchmarks"
    bench.mkdir()
    shutil.copy(ROOT / "benchmarks" / "harness.py", bench)
    (bench / "bench_tiny.py").write_text(textwrap.dedent("""
        from harness import Row, median_ns
        def rows(quick=False):
            return [Row("sum", "builtin", median_ns(lambda: sum((1, 2)), repeats=3), "builtin"),
                    Row("sum", "loop", 2 * median_ns(lambda: sum((1, 2)), repeats=3), "builtin")]
    """))
    monkeypatch.setattr(cli, "CHECKOUT", tmp_path)
    return bench


class TestBench:
    def test_json_rows_with_ratios(self, bench_checkout, capsys):
        import json
        assert cli.main(["bench", "--quick", "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)["rows"]
        assert [(r["group"], r["name"]) for r in rows] == [("tiny: sum", "builtin"),
                                                           ("tiny: sum", "loop")]
        assert rows[0]["ratio"] == 1.0 and rows[1]["ratio"] > 0

    def test_readme_table_regenerated(self, bench_checkout, capsys):
        (bench_checkout / "README.md").write_text("# Benchmarks\n\nintro stays\n")
        assert cli.main(["bench"]) == 0
        assert (bench_checkout / "README.md").read_text() == "# Benchmarks\n\nintro stays\n"  # not without --write
        assert cli.main(["bench", "--write"]) == 0
        assert cli.main(["bench", "--write"]) == 0  # replaced, not appended twice
        text = (bench_checkout / "README.md").read_text()
        assert text.startswith("# Benchmarks\n\nintro stays\n")
        assert text.count("| tiny: sum | loop |") == 1

    def test_broken_suite_exits_1(self, bench_checkout, capsys):
        (bench_checkout / "bench_broken.py").write_text("def rows(quick=False):\n    1 / 0\n")
        assert cli.main(["bench", "--quick"]) == 1
        assert "bench_broken.py: ZeroDivisionError: division by zero" in capsys.readouterr().err

    def test_no_benchmarks_dir(self, tmp_path, monkeypatch, capsys):
        monkeypatch.setattr(cli, "CHECKOUT", tmp_path)
        assert cli.main(["bench"]) == 1
        assert f"no benchmarks/ directory at {tmp_path / 'benchmarks'}" in capsys.readouterr().err


HEADER = """
#include <stdint.h>
typedef struct { char tag; double value; int16_t count; } Sample;
struct pair { uint8_t a; uint64_t b; };
"""


class TestLayout:
    def test_prints_tables(self, tmp_path, capsys):
        (tmp_path / "h.h").write_text(HEADER)
        assert cli.main(["layout", str(tmp_path / "h.h")]) == 0
        out = capsys.readouterr().out
        assert "Sample" in out and "struct pair" in out
        assert "size 24, alignment 8\npadding 13 bytes" in out

    def test_windows_platform(self, tmp_path, capsys):
        (tmp_path / "w.h").write_text("typedef struct { long a; char b; } W;")
        assert cli.main(["layout", str(tmp_path / "w.h"), "W", "--platform", "windows"]) == 0
        assert "size 8, alignment 4" in capsys.readouterr().out

    def test_check_random_structs_agree(self, tmp_path, build_cache, capsys):
        gen = random_declarations(seed=7, count=80)
        (tmp_path / "r.h").write_text(gen.c_definitions())
        assert cli.main(["layout", str(tmp_path / "r.h"), "--check"]) == 0
        assert "checked 80 type(s) against the C compiler: no differences" in capsys.readouterr().out

    def test_check_names_wrong_field(self, tmp_path, build_cache, capsys):
        """A hand-written declaration that drifted from the real header: exit 1, field named."""
        (tmp_path / "real.h").write_text("#include <stdint.h>\n"
                                         "typedef struct { int32_t id; int32_t k; int64_t stamp; } Rec;")
        (tmp_path / "mine.h").write_text("#include <stdint.h>\n"
                                         "typedef struct { int32_t id; int64_t k; int64_t stamp; } Rec;")
        code = cli.main(["layout", str(tmp_path / "mine.h"), "--check",
                         "--against", str(tmp_path / "real.h")])
        out = capsys.readouterr().out
        assert code == 1
        assert "DIFFERENT Rec: offset of 'k': ffikit 8, compiler 4" in out
        assert "DIFFERENT Rec: offset of 'stamp': ffikit 16, compiler 8" in out
        assert "DIFFERENT Rec: size: ffikit 24, compiler 16" in out

    def test_check_with_platform_is_usage_error(self, tmp_path, capsys):
        (tmp_path / "h.h").write_text(HEADER)
        assert cli.main(["layout", str(tmp_path / "h.h"), "--check", "--platform", "windows"]) == 2
        assert "--check compares with this machine's compiler; drop --platform" in capsys.readouterr().err

    def test_missing_file(self, tmp_path, capsys):
        assert cli.main(["layout", str(tmp_path / "nope.h")]) == 1
        assert f"no such file: {tmp_path / 'nope.h'}" in capsys.readouterr().err


USER_SCRIPT = """
import zbind
import sqlbind

n: int = zbind.compressBound(1000)
v: bytes | None = zbind.zlibVersion()
ok: int = zbind.Z_OK
print(n, v, ok, sqlbind.sqlite3_libversion_number())
"""

BAD_SCRIPT = "import zbind\nzbind.compressBound('many')\n"


class TestBind:
    def test_zlib_and_sqlite3_round_trip(self, tmp_path):
        assert run("bind", "/usr/include/zlib.h", "-l", "z", "-o", str(tmp_path / "zbind.py")).returncode == 0
        result = run("bind", "/usr/include/sqlite3.h", "-l", "sqlite3", "-o",
                     str(tmp_path / "sqlbind.py"), "--prefix", "sqlite", "--exclude", "_v2$|mutex")
        assert result.returncode == 0, result.stderr
        assert f"wrote {tmp_path / 'sqlbind.py'} and {tmp_path / 'sqlbind.pyi'}" in result.stdout
        text = (tmp_path / "sqlbind.py").read_text()
        assert "sqlite3_open_v2" not in text and "sqlite3_mutex_enter" not in text
        assert "int sqlite3_open(const char *filename, sqlite3 **ppDb);" in text
        (tmp_path / "user.py").write_text(USER_SCRIPT)
        env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT / 'src'}")
        # works: compress through the generated zlib module, query sqlite3
        check = subprocess.run([PYTHON, "-c", textwrap.dedent("""
            import zbind, sqlbind, ffikit
            data = b"hello hello hello hello" * 10
            bound = zbind.compressBound(len(data))
            dest = bytearray(bound); n = zbind.lib.new("uLong", bound)
            assert zbind.compress(dest, n, data, len(data)) == zbind.Z_OK
            out = bytearray(len(data)); m = zbind.lib.new("uLong", len(data))
            assert zbind.uncompress(out, m, bytes(dest[:n.value]), n.value) == 0
            assert bytes(out) == data
            assert zbind.Z_STREAM_END == 1 and zbind.z_stream.__name__
            print(sqlbind.sqlite3_libversion().decode(), sqlbind.SQLITE_OK)
        """)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
        assert check.returncode == 0, check.stderr
        assert check.stdout.strip().startswith("3.") and check.stdout.strip().endswith(" 0")
        mypy = [PYTHON, "-m", "mypy", "--no-incremental", "--ignore-missing-imports",
                "--follow-imports=silent"]
        good = subprocess.run([*mypy, "user.py"], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=240)
        assert good.returncode == 0, good.stdout
        (tmp_path / "bad.py").write_text(BAD_SCRIPT)
        bad = subprocess.run([*mypy, "bad.py"], capture_output=True, text=True, env=env,
                             cwd=tmp_path, timeout=240)
        assert bad.returncode == 1
        assert 'Argument 1 to "compressBound" has incompatible type "str"; expected "int"' in bad.stdout

    @pytest.mark.skipif(not available()[0], reason="compiled backend unavailable")
    def test_compiled_extension_built_beside(self, tmp_path):
        out = tmp_path / "zfast.py"
        result = run("bind", "/usr/include/zlib.h", "-l", "z", "-o", str(out), "--prefix", "compress",
                     "--compiled")
        assert result.returncode == 0, result.stderr
        assert f"wrote {tmp_path / 'zfast_compiled.c'} and {tmp_path}/_ffikit_c_" in result.stdout
        empty = tmp_path / "empty-cache"
        env = dict(os.environ, FFIKIT_CACHE_DIR=str(empty), PYTHONPATH=str(tmp_path), FFIKIT_BACKEND="auto")
        check = subprocess.run([PYTHON, "-c", "import zfast; f = zfast.compressBound; "
                                "print(type(f).__name__, f(1000))"],
                               capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
        assert check.returncode == 0, check.stderr
        assert check.stdout.split() == ["CompiledFunction", "1013"]
        assert not empty.exists()  # the import built nothing

    def test_output_must_be_py(self, tmp_path, capsys):
        (tmp_path / "h.h").write_text("int f(int);")
        assert cli.main(["bind", str(tmp_path / "h.h"), "-l", "c", "-o", str(tmp_path / "m.txt")]) == 2
        assert "-o must name a .py file (got" in capsys.readouterr().err


class TestDoctor:
    def test_missing_dependency_named(self, cbuild, tmp_path):
        dep = cbuild("int dep_value(void) { return 41; }", name="ffkdep")
        shutil.copy(dep, tmp_path / "libffkdep.so")
        main = cbuild("int dep_value(void); int top(void) { return dep_value() + 1; }",
                      name="ffktop", flags=["-Wl,--no-as-needed", f"-L{tmp_path}", "-lffkdep"])
        shutil.copy(main, tmp_path / "libffktop.so")
        ok = run("doctor", str(tmp_path / "libffktop.so"),
                 env_extra={"LD_LIBRARY_PATH": str(tmp_path)})
        assert ok.returncode == 0, ok.stdout
        assert f"libffkdep.so -> {tmp_path / 'libffkdep.so'}" in ok.stdout
        assert "ok: ffikit.load can load it" in ok.stdout
        os.remove(tmp_path / "libffkdep.so")
        bad = run("doctor", str(tmp_path / "libffktop.so"))
        assert bad.returncode == 1
        assert "libffkdep.so -> NOT FOUND" in bad.stdout
        assert "problem: missing dependency libffkdep.so" in bad.stdout
        assert "architecture: ELF 64-bit" in bad.stdout

    def test_system_library(self):
        result = run("doctor", "z")
        assert result.returncode == 0
        assert "chosen: /" in result.stdout and "libz.so" in result.stdout
        assert "libc.so.6 -> /" in result.stdout
        exports = int(result.stdout.split("exported symbols: ")[1].split()[0])
        assert exports > 50

    def test_not_found(self):
        result = run("doctor", "no_such_lib_ffikit")
        assert result.returncode == 1
        assert "chosen: none: no candidate loaded" in result.stdout
        assert "problem: no candidate file exists" in result.stdout


class TestDemo:
    def test_image_without_pillow_is_usage_error(self, tmp_path, capsys, monkeypatch):
        monkeypatch.setitem(sys.modules, "PIL", None)  # as if Pillow were not installed
        assert cli.main(["demo", "--image", str(tmp_path / "x.png"), "--out", str(tmp_path)]) == 2
        assert "--image needs Pillow (pip install pillow)" in capsys.readouterr().err

    def test_missing_examples_dir(self, tmp_path, monkeypatch, capsys):
        monkeypatch.setattr(cli, "CHECKOUT", tmp_path)
        assert cli.main(["demo", "--quick", "--out", str(tmp_path)]) == 1
        assert f"no examples/ directory at {tmp_path / 'examples'}" in capsys.readouterr().err


class TestHeaderNames:
    def test_layout_and_bind_find_headers_on_the_include_path(self, tmp_path, capsys):
        assert cli.main(["layout", "zlib.h", "z_stream", "--check"]) == 0
        assert "no differences" in capsys.readouterr().out
        out = tmp_path / "zmod.py"
        assert cli.main(["bind", "zlib.h", "-l", "z", "-o", str(out)]) == 0
        assert "zlibVersion" in out.read_text()

    def test_unknown_header_lists_the_search_path(self, capsys):
        assert cli.main(["layout", "no_such_header_ffikit.h"]) == 1
        err = capsys.readouterr().err
        assert "no such file: no_such_header_ffikit.h" in err and "/usr/include" in err


class TestConventions:
    def test_version(self):
        import importlib.metadata

        result = run("--version")
        assert result.returncode == 0
        assert result.stdout.strip() == f"ffikit {importlib.metadata.version('ffikit')}"

    def test_cache_info_and_clear(self, tmp_path):
        import ffikit

        env = {"FFIKIT_CACHE_DIR": str(tmp_path / "cache")}
        ffikit.build("int one(void) { return 1; }", name="cached_one", cache_dir=tmp_path / "cache")
        info = run("cache", "info", "-v", env_extra=env)
        assert info.returncode == 0
        assert f"location: {tmp_path / 'cache'}" in info.stdout
        assert "entries:  1 (0 declaration models)" in info.stdout and "libcached_one-" in info.stdout
        size = int(info.stdout.split("size:")[1].split("bytes")[0].replace(",", ""))
        assert size > 1000
        subprocess.run([sys.executable, "-c", "import ffikit; ffikit.include('zlib.h')"],
                       env={**os.environ, **env}, check=True)
        info = run("cache", "info", "-v", env_extra=env)
        assert "entries:  2 (1 declaration models)" in info.stdout and "model-" in info.stdout
        cleared = run("cache", "clear", env_extra=env)
        assert cleared.returncode == 0 and "removed 2 cache entries" in cleared.stdout
        assert "entries:  0" in run("cache", "info", env_extra=env).stdout

    def test_import_leaves_faulthandler_alone(self):
        code = ("import copyreg, re, sys, warnings; table = dict(copyreg.dispatch_table)\n"
                "filters = list(warnings.filters)\n"
                "import ffikit, faulthandler; assert not faulthandler.is_enabled()\n"
                "assert copyreg.dispatch_table == table and warnings.filters == filters\n"
                "assert 'ffikit.types' not in sys.modules; print('ok')")
        proc = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=60,
                              env={k: v for k, v in os.environ.items()
                                   if k not in ("FFIKIT_FAULTHANDLER", "PYTHONFAULTHANDLER")})
        assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
        code = "import ffikit, faulthandler; print(faulthandler.is_enabled())"
        opted = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=60,
                               env=dict(os.environ, FFIKIT_FAULTHANDLER="1"))
        assert opted.stdout.strip() == "True"

    def test_demo_without_numpy_is_one_line(self, tmp_path):
        code = ("import sys; sys.modules['numpy'] = None\n"
                "from ffikit.tools import cli\n"
                f"cli.CHECKOUT = __import__('pathlib').Path({str(tmp_path)!r})\n"
                "sys.exit(cli.main(['demo']))")
        proc = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1
        assert proc.stderr == "ffikit demo: the demo needs NumPy: pip install ffikit[numpy]\n"

    def test_build_logs_commands_and_cache_hits_at_debug(self, tmp_path, caplog):
        import logging

        import ffikit

        with caplog.at_level(logging.DEBUG, logger="ffikit"):
            ffikit.build("int two(void) { return 2; }", name="logged", cache_dir=tmp_path)
            ffikit.build("int two(void) { return 2; }", name="logged", cache_dir=tmp_path)
        messages = [r.getMessage() for r in caplog.records if r.name.startswith("ffikit")]
        assert any(m.startswith("build cache miss") for m in messages)
        assert any(m.startswith("compiler: ") and "-shared" in m for m in messages)
        assert any(m.startswith("build cache hit") for m in messages)

    def test_no_progress_lines_when_stderr_is_not_a_terminal(self, tmp_path):
        code = ("import ffikit; ffikit.build('int three(void) { return 3; }', name='quiet', "
                f"cache_dir={str(tmp_path)!r}); print('built')")
        proc = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=120)
        assert proc.stdout == "built\n" and proc.stderr == ""  # compiled, and said nothing

    def test_demo_dask_adds_its_row(self, tmp_path, build_cache):
        pytest.importorskip("distributed", reason="Dask is not installed: pip install ffikit[dask]")
        result = run("demo", "--quick", "--size", "96", "--dask", "--out", str(tmp_path),
                     env_extra={"FFIKIT_CACHE_DIR": build_cache})
        assert result.returncode == 0, result.stdout + result.stderr
        row = next(line for line in result.stdout.splitlines() if "Dask LocalCluster" in line)
        assert int(row.split("|")[4].replace(",", "")) > 0  # bytes moved between processes
        assert ", Dask 0," in result.stdout  # agrees with ffikit exactly


class TestCheckHeaders:
    def test_counts_and_reasons(self, tmp_path, capsys):
        (tmp_path / "good.h").write_text("struct g { int a; };\n")
        (tmp_path / "refused.h").write_text(
            "struct s { int a; } __attribute__((scalar_storage_order(\"big-endian\")));\n")
        (tmp_path / "broken.h").write_text("this is not C;\n")
        (tmp_path / "api.h").write_text("#define API_V 2\nint api_call(int);\n")
        assert cli.main(["check-headers", str(tmp_path), "-j", "1", "--per-header"]) == 1
        out = capsys.readouterr().out
        assert out.splitlines()[0] == ("4 headers: 2 parsed, 1 refused, 0 crashed, "
                                       "0 bind-crashed, 1 gcc-rejects; 1 functions, 1 constants")
        assert "refused: refused.h: " in out and "scalar_storage_order" in out
        assert "  api.h: 1 functions, 1 constants" in out.splitlines()

    def test_all_parsed_exits_0(self, tmp_path, capsys):
        (tmp_path / "good.h").write_text("struct g { int a; };\n")
        assert cli.main(["check-headers", str(tmp_path), "good.h", "-j", "1"]) == 0
