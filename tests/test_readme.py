"""The README's Python examples run as written (the front door stays true)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, build_cache):
    exec(compile(BLOCKS[index], f"README.md block {index + 1}", "exec"), {})


def test_readme_shows_the_two_commands_first():
    text = README.read_text()
    assert text.index("make demo") < text.index("```python")
    assert text.index("make test") < text.index("```python")
