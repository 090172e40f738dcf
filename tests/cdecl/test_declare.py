"""declare: how Declarations are made -- and that a cdef's model, like an include's, comes from
the model cache in a later process, unless its text reads files the cache cannot watch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ffikit import cachedir

CDEF = """
typedef struct __attribute__((packed)) { char c; int i; } packed_t;
typedef struct node { struct node *next; long value; } node;
enum { LIMIT = 42 };
#define SCALE 3
int walk(node *head, int (*visit)(const node *));
"""

CHILD = """
import json, sys
from ffikit.cdecl import declare, preprocess
from ffikit.cdecl import model
if sys.argv[2] == "warm":
    def refuse(*a, **k):
        raise AssertionError("parsed again, or a declaration's text made again")
    declare.parse = preprocess.preprocess = model.FunctionType.c_name = refuse
import ffikit
defs = ffikit.cdef(open(sys.argv[1]).read())
if sys.argv[2] == "cold":
    assert defs.c_declaration("walk") == defs.functions["walk"].type.c_name("walk")
print(json.dumps({"sizes": {t: defs.sizeof(t) for t in ("packed_t", "node")},
                  "walk": defs.c_declaration("walk"),
                  "constants": {k: defs.constants[k] for k in ("LIMIT", "SCALE")},
                  "pycparser": "pycparser" in sys.modules}))
"""


def _run(text: str, cache: Path, tmp_path: Path, mode: str) -> dict:
    source = tmp_path / "decls.h"
    source.write_text(text)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(CHILD), str(source), mode],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, FFIKIT_CACHE_DIR=str(cache)))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _models(cache: Path) -> list[str]:
    return [p for p in cachedir.entries(cache) if os.path.basename(p).startswith("model-")]


@pytest.fixture
def cache(tmp_path) -> Path:
    path = tmp_path / "cache"
    path.mkdir(mode=0o700)
    return path


def test_a_cdef_in_a_later_process_comes_from_the_cache_without_the_parser(cache, tmp_path):
    cold = _run(CDEF, cache, tmp_path, "cold")
    assert len(_models(cache)) == 1 and cold["pycparser"]
    warm = _run(CDEF, cache, tmp_path, "warm")
    assert warm == {**cold, "pycparser": False}
    assert warm["sizes"] == {"packed_t": 5, "node": 16} and warm["constants"] == {"LIMIT": 42, "SCALE": 3}
    assert warm["walk"] == "int walk(node *head, int (*visit)(const node *))"  # (stored, not made)


def test_a_cdef_including_a_header_is_parsed_again_when_the_header_changes(cache, tmp_path):
    header = tmp_path / "extra.h"
    header.write_text("typedef int scale_t;\n")
    text = f'#include "{header}"\n' + CDEF.replace("long value", "scale_t value")
    assert _run(text, cache, tmp_path, "cold")["sizes"]["node"] == 16
    assert _run(text, cache, tmp_path, "warm")["sizes"]["node"] == 16  # (the header unchanged)
    header.write_text("typedef char scale_t[24];\n")
    assert _run(text, cache, tmp_path, "cold")["sizes"]["node"] == 32


def test_a_cdef_asking_whether_a_file_exists_is_not_cached(cache, tmp_path):
    """``__has_include`` reads the file system without including anything: no input to watch,
    so such a text is parsed every time (a later-installed header changes its meaning)."""
    text = "#if __has_include(<no/such/header.h>)\ntypedef char packed_t;\n#endif\n" + CDEF
    _run(text, cache, tmp_path, "cold")
    assert _models(cache) == []
