"""The package's layers: every import points down the table, and nothing imports in a circle.

The table below is the one the README's "How it is built" section describes.
Imports are read from the source (including those inside functions, which
run later but are arrows all the same).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ffikit

PACKAGE = Path(ffikit.__file__).resolve().parent

# layer -> the layers it may import (besides itself).  Top-level modules are their own layers.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "records": set(),
    "lazyre": set(),
    "forksafe": set(),
    "cachedir": {"errors"},
    "build": {"errors", "cachedir"},
    "cdecl": {"records", "lazyre", "errors", "cachedir", "forksafe"},
    "rules": {"records", "lazyre", "cdecl", "errors"},
    "backends": {"records", "lazyre", "rules", "cdecl", "errors", "build", "cachedir", "forksafe"},
    "memory": {"records", "lazyre", "backends", "rules", "cdecl", "errors", "forksafe"},
    "boundary": {"records", "lazyre", "memory", "backends", "rules", "cdecl", "errors", "build", "cachedir", "forksafe"},
    "tools": {"records", "lazyre", "boundary", "memory", "backends", "rules", "cdecl", "errors", "build", "cachedir"},
    # the rest is loaded lazily by name (PEP 562) and imported for type checkers only,
    # under TYPE_CHECKING (tests/test_init.py checks that ``import ffikit`` loads none of it)
    "__init__": {"errors", "build", "cdecl", "rules", "backends", "memory", "boundary"},
    "__main__": {"tools"},
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(["ffikit", *parts])] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every ffikit module ``name`` imports, resolved to a module in MODULES."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            candidates = [f"{module}.{alias.name}" for alias in node.names] + [module]
        else:
            continue
        for candidate in candidates:
            if not candidate.startswith("ffikit"):
                continue
            while candidate and candidate not in MODULES:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
                break
    return targets


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> str:
    parts = module.split(".")[1:]
    if not parts:
        return "__init__"
    return parts[0]


def _allowed(source: str, target: str) -> bool:
    a, b = _layer(source), _layer(target)
    if a == b:
        return True
    allowed = ALLOWED[a]
    return b in allowed or ".".join(target.split(".")[1:3]) in allowed


def test_every_module_is_in_a_known_layer():
    assert {_layer(name) for name in MODULES} <= set(ALLOWED)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    upward = sorted(t for t in GRAPH[module] if not _allowed(module, t))
    assert upward == [], f"{module} imports {upward}, above its layer ({_layer(module)})"


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle a depth-first walk meets (a package and its own submodules excepted)."""
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    return cycles


def test_no_import_cycles():
    assert find_cycles(GRAPH) == []


def test_cdecl_is_free_of_ctypes():
    """The type model knows no backend: no module of cdecl/ imports ctypes."""
    offenders = []
    for name, path in MODULES.items():
        if _layer(name) != "cdecl":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n.split(".")[0] in ("ctypes", "_ctypes") for n in names):
                offenders.append(name)
    assert offenders == []


def test_rules_know_no_backend():
    assert all(not t.startswith("ffikit.backends") for n, ts in GRAPH.items()
               if _layer(n) == "rules" for t in ts)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_small_and_says_its_job(module):
    path = MODULES[module]
    lines = path.read_text().count("\n")
    assert lines <= 500, f"{module} has {lines} lines (at most 500)"
    assert ast.get_docstring(ast.parse(path.read_text())), f"{module} has no docstring"


def test_the_checker_sees_a_cycle_and_an_upward_arrow():
    """Both rules can fail: a made-up cycle is found, and an upward arrow is refused."""
    made_up = {"ffikit.a": {"ffikit.b"}, "ffikit.b": {"ffikit.c"}, "ffikit.c": {"ffikit.a"}}
    assert find_cycles(made_up) == [["ffikit.a", "ffikit.b", "ffikit.c", "ffikit.a"]]
    assert not _allowed("ffikit.cdecl.parse", "ffikit.backends.ctypes.types")
    assert not _allowed("ffikit.memory.views", "ffikit.boundary.library")
    assert _allowed("ffikit.backends.ctypes.types", "ffikit.cdecl.model")
    assert "ffikit.cdecl.model" in GRAPH["ffikit.cdecl.parse"]
