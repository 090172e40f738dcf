"""`make system-deps` installs what the corpus needs: every header a corpus program
requires is listed in the Makefile with the package that provides it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _makefile_deps() -> dict[str, str]:
    text = ROOT.joinpath("Makefile").read_text()
    block = re.search(r"^SYSTEM_DEPS :=(.*?)(?<!\\)\n", text, re.S | re.M)
    assert block is not None, "the Makefile lost its SYSTEM_DEPS list"
    pairs = block.group(1).replace("\\\n", " ").split()
    return dict(pair.split(":", 1) for pair in pairs)


def _required() -> set[tuple[str, str]]:
    found = set()
    for path in Path(__file__).parent.glob("test_corpus_*.py"):
        for call in re.finditer(r"require\(([^)]*)\)", path.read_text()):
            args = re.findall(r'"([^"]+)"', call.group(1))
            found.update((header, args[0]) for header in args[1:])
    return found


def test_every_required_header_is_installed_by_make():
    deps, required = _makefile_deps(), _required()
    assert len(required) >= 13  # one library per corpus module at least
    for header, package in sorted(required):  # one header per package is enough to check
        assert deps.get(header, package) == package, f"{header} is not in {package}"
        assert package in deps.values(), f"add {header}:{package} to SYSTEM_DEPS"


def test_make_test_runs_system_deps_first():
    rule = re.search(r"^test:(.*)$", ROOT.joinpath("Makefile").read_text(), re.M)
    assert rule is not None and "system-deps" in rule.group(1).split()
