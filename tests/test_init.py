"""The package front: lazy re-exports that type checkers see, and a cheap ``import ffikit``."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ffikit
from typecheck import mypy_on

INIT = Path(ffikit.__file__)


def _child(code: str, **env: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                            text=True, env={**os.environ, **env}, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_loads_no_heavy_module_and_writes_nothing(tmp_path):
    home, cache = tmp_path / "home", tmp_path / "cache"
    home.mkdir()
    out = _child("""
        import sys
        import ffikit
        heavy = ["subprocess", "logging", "hashlib", "tempfile", "shutil", "pathlib", "typing",
                 "ctypes", "pycparser", "numpy", "ffikit.build", "ffikit.boundary.library"]
        print(sorted(m for m in heavy if m in sys.modules))
    """, HOME=str(home), FFIKIT_CACHE_DIR=str(cache), PYTHONDONTWRITEBYTECODE="1")
    assert out.strip() == "[]"
    assert not cache.exists() and list(home.iterdir()) == []


def test_every_lazy_name_resolves_and_is_listed():
    for name, module in ffikit._LAZY.items():
        assert getattr(ffikit, name) is getattr(sys.modules[f"ffikit.{module}"], name)
        assert name in ffikit.__all__ and name in dir(ffikit)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        ffikit.nothing_here  # noqa: B018


def test_type_checkers_see_every_lazy_name_from_its_module():
    tree = ast.parse(INIT.read_text())
    seen = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for imp in node.body:
                for alias in imp.names:
                    if (alias.asname or "").startswith("_"):
                        continue  # the package's own helpers
                    assert alias.asname == alias.name  # re-exported explicitly
                    seen[alias.name] = imp.module.removeprefix("ffikit.")
    assert seen == ffikit._LAZY


def test_build_stays_the_function_after_the_submodule_is_imported():
    out = _child("""
        import ffikit
        import ffikit.build as submodule_import
        from ffikit.build import build
        print(callable(ffikit.build), ffikit.build is build, submodule_import is build)
    """)
    assert out.split() == ["True", "True", "True"]


USER_PROGRAM = """
import os
import ffikit

ffikit.load(42)
ffikit.alloc("double", "ten")
ffikit.no_such_name
lib = ffikit.load(os.path.join("a", "b.so"), "int f(int);")
mem = ffikit.alloc("double", 3)
reveal_type(ffikit.load)
reveal_type(lib)
reveal_type(mem)
reveal_type(lib.f)
"""


@pytest.mark.slow
def test_mypy_sees_the_lazy_api(tmp_path):
    report = mypy_on(USER_PROGRAM, tmp_path)
    assert report.error_lines() == {5, 6, 7}, report.stdout
    assert 'Argument 1 to "load" has incompatible type "int"' in report.stdout
    assert 'Argument 2 to "alloc" has incompatible type "str"' in report.stdout
    revealed = report.revealed
    assert len(revealed) == 4 and not any(r.strip('"') == "Any" for r in revealed), revealed
    assert "ffikit.boundary.library.Library" in revealed[1]
    assert "ffikit.memory.owned.Memory" in revealed[2]
