"""What the package says about itself matches what is tested and shipped."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_requires_python_and_classifiers_agree():
    floor = tuple(map(int, re.fullmatch(r">=(\d+)\.(\d+)", PROJECT["requires-python"]).groups()))
    versions = sorted(tuple(map(int, c.rsplit(" ", 1)[1].split("."))) for c in PROJECT["classifiers"]
                      if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c))
    assert versions[0] == floor  # the floor is claimed, and nothing below it
    assert versions == [(3, m) for m in range(floor[1], versions[-1][1] + 1)]  # no gaps
    assert sys.version_info[:2] >= floor  # this run is one of them


def test_pycparser_range_names_both_ends():
    (spec,) = [d for d in PROJECT["dependencies"] if d.startswith("pycparser")]
    low, high = re.fullmatch(r"pycparser>=([\d.]+),<(\d+)", spec).groups()
    assert (ROOT / ".ci" / "test-pythons").read_text().count(f'"pycparser=={low}"') == 1
    import pycparser

    assert tuple(map(int, low.split("."))) <= tuple(map(int, pycparser.__version__.split(".")[:2]))
    assert int(pycparser.__version__.split(".")[0]) < int(high)


def test_license_file_is_the_declared_one():
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_the_sdist_carries_the_tests_and_the_wheel_the_case_study():
    manifest = (ROOT / "MANIFEST.in").read_text().split()
    assert all(f in manifest for f in ("tests", "docs", "examples", "LICENSE"))
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    shipped = setuptools["data-files"]["share/ffikit/examples/imaging"]
    for path in (ROOT / "examples" / "imaging").iterdir():
        if path.suffix in (".py", ".c"):
            assert any(path.match(pattern) for pattern in shipped), path


def test_mypy_checks_every_module():
    """``make typecheck`` covers all of src/ffikit: no module is exempted from mypy."""
    text = (ROOT / "pyproject.toml").read_text()
    assert "[tool.mypy]" in text and "ignore_errors" not in text
