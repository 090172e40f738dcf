"""The README and docs point only at files that exist in the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    missing = [target for target in LINK.findall(page.read_text())
               if "://" not in target and not (page.parent / target).exists()]
    assert missing == []


def test_the_layer_table_names_every_folder():
    readme = (ROOT / "README.md").read_text()
    package = ROOT / "src" / "ffikit"
    folders = sorted(p.name for p in package.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert [f for f in folders if f"`{f}/" not in readme] == []


def test_every_environment_variable_ffikit_reads_is_documented():
    read = set()
    for path in (ROOT / "src" / "ffikit").rglob("*.py"):
        read |= set(re.findall(r"environ(?:\.get)?[(\[]\s*\"(FFIKIT_[A-Z_]+)", path.read_text()))
    documented = set(re.findall(r"^\| `(FFIKIT_[A-Z_]+)`", (ROOT / "docs" / "environment.md").read_text(), re.M))
    assert len(read) >= 8 and read <= documented, read - documented
