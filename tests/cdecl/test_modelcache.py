"""modelcache: a later process gets the same declarations without preprocessing or parsing,
and nothing wrong or foreign in the cache is ever trusted into a layout."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crashproof import run_isolated
from ffikit import cachedir
from ffikit.cdecl import modelcache

HEADER = r"""
#include <stdint.h>
typedef struct node { struct node *next; int value; } node;
typedef struct __attribute__((packed)) { char c; int32_t i; } packed_t;
typedef struct { unsigned a : 3; unsigned b : 7; int c; } bits_t;
typedef union { double d; int64_t i; unsigned char raw[8]; } number_t;
typedef enum { RED, GREEN = 5, BLUE } color_t;
typedef int (*visit_fn)(const node *, void *);
typedef struct { struct { int x, y; } pos; union { float f; int i; }; } nested_t;
#define LIMIT 42
#define NAME "cache"
int walk(node *head, visit_fn fn, void *ctx);
double area(const nested_t *n, color_t c);
extern int counter;
"""

FINGERPRINT = """
import ctypes, ffikit, json, sys
{setup}
defs = ffikit.include(sys.argv[1])
out = {{"functions": {{n: f.type.c_name(n) for n, f in sorted(defs.functions.items())}},
        "variables": sorted(defs.variables),
        "constants": {{k: repr(v) for k, v in sorted(defs.constants.items())}},
        "enums": {{k: [(m.name, int(m)) for m in v] for k, v in sorted(defs.enums.items())}},
        "types": {{}}}}
for name in sorted(defs.types):
    try:
        ct = defs.ctype(name)
        out["types"][name] = [ctypes.sizeof(ct), ctypes.alignment(ct),
                              [(f[0], getattr(ct, f[0]).offset) for f in getattr(ct, "_fields_", ())
                               if not f[0].startswith("_")]]
    except (ffikit.FFIError, TypeError) as exc:
        out["types"][name] = str(exc)
print(json.dumps(out, sort_keys=True))
"""

NO_PARSING = """
from ffikit.cdecl import declare, preprocess
def refuse(*a, **k):
    raise AssertionError("the warm path preprocessed or parsed")
declare.parse = preprocess.preprocess = preprocess.scrub = refuse
"""


def _fingerprint(header: str, cache: Path, *, warm_only: bool = False) -> dict:
    code = textwrap.dedent(FINGERPRINT.format(setup=NO_PARSING if warm_only else ""))
    env = dict(os.environ, FFIKIT_CACHE_DIR=str(cache))
    proc = subprocess.run([sys.executable, "-c", code, header], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def cache(tmp_path) -> Path:
    path = tmp_path / "cache"
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def header(tmp_path) -> str:
    path = tmp_path / "shapes.h"
    path.write_text(HEADER)
    return str(path)


def _entries(cache: Path) -> list[Path]:
    return [Path(p) for p in cachedir.entries(cache) if os.path.basename(p).startswith("model-")]


@pytest.mark.parametrize("name", ["zlib.h", "sqlite3.h", "local"])
def test_a_later_process_gets_the_same_model_without_parsing(name, header, cache):
    target = header if name == "local" else name
    cold = _fingerprint(target, cache)
    assert len(_entries(cache)) == 1
    assert _fingerprint(target, cache, warm_only=True) == cold
    assert cold["functions"] and cold["types"]


def test_a_cached_model_does_not_import_pycparser(header, cache):
    _fingerprint(header, cache)
    result = run_isolated(f"""
        import sys, ffikit
        defs = ffikit.include({header!r})
        print(defs.sizeof("packed_t"), "pycparser" in sys.modules)
    """, FFIKIT_CACHE_DIR=str(cache))
    assert result.stdout.split() == ["5", "False"], result.stderr


def test_the_local_headers_layouts_survive(header, cache):
    _fingerprint(header, cache)
    warm = _fingerprint(header, cache, warm_only=True)
    assert warm["types"]["packed_t"][:2] == [5, 1]
    assert warm["types"]["node"][2] == [["next", 0], ["value", 8]]
    assert warm["enums"]["color_t"] == [["RED", 0], ["GREEN", 5], ["BLUE", 6]]
    assert warm["constants"]["LIMIT"] == "42" and warm["constants"]["NAME"] == "'cache'"
    assert warm["functions"]["walk"] == "int walk(node *head, visit_fn fn, void *ctx)"


def test_an_edited_header_is_parsed_again(header, cache):
    _fingerprint(header, cache)
    Path(header).write_text(HEADER.replace("int value;", "long value; int extra;"))
    after = _fingerprint(header, cache)
    assert after["types"]["node"][0] == 24


def _rewrite(entry: Path, header=None, body=None) -> None:
    """Change an entry's JSON line and/or its model bytes and record the matching hash (as a
    buggy or hostile writer with the user's rights would)."""
    head, _, model = entry.read_bytes().partition(b"\n")
    head_data = json.loads(head)
    new_head = header(head_data) if header else head_data
    new_head = new_head if isinstance(new_head, bytes) else json.dumps(new_head).encode()
    cachedir.publish(entry, new_head + b"\n" + (body(model) if body else model))


class _Runs:
    """Unpickling this runs ``os.system`` (what a planted pickle would do)."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def _calls(function, *args) -> bytes:
    """A pickle whose loading calls ``function(*args)`` (by module and name)."""
    class Call:
        def __reduce__(self):
            return function, args
    return pickle.dumps(Call(), protocol=5)


@pytest.mark.parametrize("damage", ["truncated", "wrong format", "other platform", "os.system",
                                    "an ffikit function", "an ffikit class outside the model",
                                    "state of a non-model object", "not json", "hash mismatch",
                                    "no model", "not a pickle", "a plain value"])
def test_a_bad_entry_is_ignored_and_rebuilt(damage, header, cache, tmp_path):
    cold = _fingerprint(header, cache)
    (entry,) = _entries(cache)
    marker = tmp_path / "ran"
    touch = f"touch {marker}"
    if damage == "truncated":
        _rewrite(entry, body=lambda b: b[:len(b) // 2])
    elif damage == "wrong format":
        _rewrite(entry, header=lambda d: {**d, "format": modelcache.FORMAT + 1})
    elif damage == "other platform":
        _rewrite(entry, header=lambda d: {**d, "key": [*d["key"][:3], "sparc64", *d["key"][4:]]})
    elif damage == "os.system":
        _rewrite(entry, body=lambda b: pickle.dumps(_Runs(touch)))
    elif damage == "an ffikit function":
        from ffikit.build import build
        _rewrite(entry, body=lambda b: _calls(build, "int x;", "planted"))
    elif damage == "an ffikit class outside the model":
        from ffikit.cdecl.declarations import Declarations
        _rewrite(entry, body=lambda b: _calls(Declarations))
    elif damage == "state of a non-model object":
        from ffikit.cdecl import modelformat
        _rewrite(entry, body=lambda b: _calls(modelformat._set_state, "text", {"x": 1}))
    elif damage == "not json":
        _rewrite(entry, header=lambda d: f"import os; os.system('{touch}')".encode())
    elif damage == "hash mismatch":
        entry.write_bytes(entry.read_bytes().replace(b"value", b"vXlue"))
    elif damage == "no model":
        _rewrite(entry, body=lambda b: b"")
    elif damage == "not a pickle":
        _rewrite(entry, body=lambda b: b"\x80\x05garbage" + bytes(range(256)))
    elif damage == "a plain value":
        _rewrite(entry, body=lambda b: pickle.dumps((1, 2)))
    assert _fingerprint(header, cache) == cold
    assert not marker.exists() and not [n for n in os.listdir(cache) if "planted" in n]
    head = entry.read_bytes().partition(b"\n")[0]
    assert cachedir.verified(entry) and json.loads(head)["format"] == modelcache.FORMAT


def test_four_concurrent_writers(header, cache):
    code = textwrap.dedent(FINGERPRINT.format(setup=""))
    env = dict(os.environ, FFIKIT_CACHE_DIR=str(cache))
    procs = [subprocess.Popen([sys.executable, "-c", code, header], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(4)]
    results = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in results]
    prints = {out for out, _ in results}
    assert len(prints) == 1
    (entry,) = _entries(cache)
    assert cachedir.verified(entry)
    assert not [p for p in cache.iterdir() if p.name.endswith(".partial")]
    assert _fingerprint(header, cache, warm_only=True) == json.loads(prints.pop())


def test_no_cache_when_the_cache_directory_is_not_trusted(header, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    result = run_isolated(f"""
        import ffikit
        print(len(ffikit.include({header!r}).functions))
    """, FFIKIT_CACHE_DIR=str(shared))
    assert result.returncode == 0 and result.stdout.split() == ["2"], result.stderr
    assert os.listdir(shared) == []  # parsed, nothing written where others could tamper


def test_cache_info_and_clear_cover_models(header, cache):
    from ffikit.build import cache_clear, cache_info

    _fingerprint(header, cache)
    info = cache_info(cache)
    assert any(name.startswith("model-") for name, _ in info["files"])
    assert cache_clear(cache) == info["entries"] and _entries(cache) == []
