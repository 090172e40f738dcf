"""modelcache: a later process gets the same declarations without preprocessing or parsing,
and nothing wrong or foreign in the cache is ever trusted into a layout."""

from __future__ import annotations

import json
import os
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
from ffikit.cdecl import declarations
def refuse(*a, **k):
    raise AssertionError("the warm path preprocessed or parsed")
declarations.parse = declarations.preprocess = refuse
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
    return [p for p in cachedir.entries(cache) if p.name.startswith("model-")]


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


def _rewrite(entry: Path, change) -> None:
    """Change an entry's content and record the matching hash (as a buggy writer would)."""
    data = json.loads(entry.read_bytes())
    raw = change(data)
    cachedir.publish(entry, raw if isinstance(raw, bytes) else json.dumps(raw).encode())


@pytest.mark.parametrize("damage", ["truncated", "wrong format", "other platform", "foreign class",
                                    "not json", "hash mismatch", "wrong shape", "short node",
                                    "unknown kind", "reference out of range", "negative reference",
                                    "negative class"])
def test_a_bad_entry_is_ignored_and_rebuilt(damage, header, cache, tmp_path):
    cold = _fingerprint(header, cache)
    (entry,) = _entries(cache)
    marker = tmp_path / "ran"
    if damage == "truncated":
        _rewrite(entry, lambda d: json.dumps(d).encode()[:1000])
    elif damage == "wrong format":
        _rewrite(entry, lambda d: {**d, "format": modelcache.FORMAT + 1})
    elif damage == "other platform":
        _rewrite(entry, lambda d: {**d, "key": [*d["key"][:3], "sparc64", *d["key"][4:]]})
    elif damage == "foreign class":
        def plant(d):
            d["classes"][0][:2] = ["os", "system"]
            return d
        _rewrite(entry, plant)
    elif damage == "not json":
        _rewrite(entry, lambda d: f"import os; os.system('touch {marker}')".encode())
    elif damage == "hash mismatch":
        entry.write_bytes(entry.read_bytes().replace(b'"value"', b'"vXlue"'))
    elif damage == "wrong shape":
        _rewrite(entry, lambda d: {**d, "nodes": {"r": 1}})
    elif damage == "short node":
        _rewrite(entry, lambda d: {**d, "nodes": [row[:-1] if len(row) > 1 else row for row in d["nodes"]]})
    elif damage == "unknown kind":
        _rewrite(entry, lambda d: {**d, "classes": [[*c[:3], ["x"] * len(c[3])] for c in d["classes"]]})
    elif damage in ("reference out of range", "negative reference"):
        def dangle(d):
            for c, row in ((d["classes"][row[0]], row) for row in d["nodes"]):
                if "r" in c[3]:
                    row[1 + c[3].index("r")] = -1 if damage.startswith("negative") else len(d["nodes"]) + 5
            return d
        _rewrite(entry, dangle)
    elif damage == "negative class":
        _rewrite(entry, lambda d: {**d, "nodes": [[-1, *row[1:]] for row in d["nodes"]]})
    assert _fingerprint(header, cache) == cold
    assert not marker.exists()
    assert cachedir.verified(entry) and json.loads(entry.read_bytes())["format"] == modelcache.FORMAT


def test_a_class_outside_the_model_is_never_made():
    with pytest.raises(ValueError, match="not a model class"):
        modelcache._model_class("subprocess", "Popen")
    with pytest.raises(ValueError, match="not a model class"):
        modelcache._model_class("ffikit.cdecl.model", "os.system")


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


def test_each_primitive_type_is_stored_once():
    from ffikit.cdecl import model as m

    value = (m.Pointer(m.Primitive("int"), const=True), m.Primitive("int"), m.Primitive("int"),
             m.Array(m.Primitive("double"), 3), m.Primitive("double"))
    encoder = modelcache._Encoder()
    encoded = encoder.value(value)
    classes, nodes = json.loads(json.dumps(encoder.table()))
    kinds = sorted(classes[node[0]][1] for node in nodes)
    assert kinds == ["Array", "Pointer", "Primitive", "Primitive"]
    decoder = modelcache._Decoder(classes, nodes)
    decoder.run()
    back = decoder.value(json.loads(json.dumps(encoded)))
    assert back == value and [str(t) for t in back] == [str(t) for t in value]
    assert back[1] is back[2] is back[0].target and back[3].item is back[4]


def test_node_table_round_trips_unset_slots_nan_and_references():
    """A field's kind is chosen from every node of its class: set in some nodes only, a NaN
    in one, a reference in one, a tuple in one -- each written so it comes back as it was."""
    import math

    from ffikit.cdecl import model as m

    originals = []
    for i in range(6):
        s = object.__new__(m.StructOrUnion)  # (slots left unset: typedef_name everywhere)
        s.kind, s.name = "struct", f"s{i}"
        if i % 2:
            s.pack = float("nan") if i == 3 else 2
        if i % 3 == 0:
            s.aligned = 8
        s.fields = (m.Primitive("int"), m.Pointer(m.Primitive("char"))) if i == 0 else None
        s.coord = m.Pointer(m.Primitive("char")) if i == 4 else None
        s.rules = "msvc" if i == 5 else None
        originals.append(s)
    encoder = modelcache._Encoder()
    encoded = encoder.value(originals)
    classes, nodes = json.loads(json.dumps(encoder.table()))
    kinds = {c[1]: dict(zip(c[2], c[3])) for c in classes}
    assert kinds["StructOrUnion"] == {"kind": "p", "name": "p", "fields": "v", "coord": "r",
                                      "rules": "p", "pack": "v", "aligned": "v"}
    decoder = modelcache._Decoder(classes, nodes)
    decoder.run()
    back = decoder.value(json.loads(json.dumps(encoded)))
    for want, got in zip(originals, back, strict=True):
        for slot in ("kind", "name", "fields", "pack", "aligned", "coord", "typedef_name", "rules"):
            assert hasattr(got, slot) == hasattr(want, slot), slot
            a, b = getattr(want, slot, None), getattr(got, slot, None)
            assert (math.isnan(a) and math.isnan(b)) if isinstance(a, float) else a == b, slot
    assert str(back[0].fields[1]) == "char *" and back[0].fields[1] == back[4].coord
    assert back[0].fields[1].target is back[4].coord.target  # (one node per primitive)
