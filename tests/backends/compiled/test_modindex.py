"""modindex: a warm process imports the module an index entry names, and nothing else.

Each process is a child (the index is read once per process, at the first
bind), with a private cache; zlib through its real header (the index needs
the declaration cache's model key).  A tampered, stale, foreign or planted
entry must cost the old path (generating the source), never a wrong wrapper.
"""

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
from ffikit.backends.compiled import available, modindex

pytestmark = pytest.mark.skipif(not available()[0], reason="compiled backend unavailable")

USE = """
import inspect, sys, ffikit
z = ffikit.load("z", header="zlib.h")
print(z.adler32(1, b"abc", 3), z.crc32(0, b"abc", 3), z.zlibVersion().decode())
print(z.adler32.backend, z.crc32.backend, "ffikit.backends.compiled.cgen" in sys.modules)
z.wait_compiled(120)
print(z.adler32.source.count("ffk_w"), inspect.signature(z.adler32))
"""


@pytest.fixture
def cache(tmp_path):
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    return directory


def _run(cache: Path, code: str = USE) -> list[str]:
    done = run_isolated(code, timeout=300, FFIKIT_CACHE_DIR=str(cache), FFIKIT_BACKEND="auto")
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\n")


def _index(cache: Path) -> Path:
    (entry,) = cache.glob("uses-*.mod.json")
    return entry


def _rewrite(entry: Path, change) -> None:
    """What another process of this user could write: the entry changed, its hash recorded."""
    data = json.loads(entry.read_bytes())
    change(data)
    cachedir.publish(entry, json.dumps(data, separators=(",", ":")).encode())


@pytest.fixture
def warm(cache):
    """A cache where two earlier processes built and indexed zlib's three functions."""
    first = _run(cache)
    assert first[1] == "ctypes ctypes True"  # on ctypes until built: nothing waited
    _run(cache)
    return cache


def _expect(lines: list[str], *, indexed: bool, rebuilt: bool = False) -> None:
    assert lines[0].split()[:2] == ["38600999", "891568578"]  # the right answers, in any case
    assert lines[1] == ("ctypes ctypes True" if rebuilt else  # (built again, in the background)
                        "compiled compiled False" if indexed else "compiled compiled True")
    assert lines[2].startswith("1 (adler, buf, len, /)")  # source and signature, when read


def test_a_warm_process_imports_the_indexed_module_without_the_generator(warm):
    entry = json.loads(_index(warm).read_bytes())
    assert sorted(entry["functions"]) == ["adler32", "crc32", "zlibVersion"]
    assert entry["functions"]["adler32"][1] == (
        "uLong adler32(uLong adler, const Bytef *buf, uInt len);")
    assert (warm / entry["file"]).is_file() and entry["digest"] == modindex.shapes_digest(
        [modindex._tuples(s) for s in entry["shapes"]])
    _expect(_run(warm), indexed=True)


@pytest.mark.parametrize("change", [
    pytest.param(lambda d: d["shapes"].reverse(), id="shapes-of-another-module"),
    pytest.param(lambda d: d.update(digest="0" * 32), id="digest"),
    pytest.param(lambda d: d["functions"]["adler32"].__setitem__(1, "int adler32(int);"), id="declaration"),
    pytest.param(lambda d: d["functions"]["adler32"].__setitem__(0, 99), id="index-out-of-range"),
    pytest.param(lambda d: d["key"].__setitem__(0, 0), id="stale-key"),
    pytest.param(lambda d: d.update(file="../../" + d["file"]), id="path-outside-the-cache"),
    pytest.param(lambda d: d.update(module="_ffikit_c_" + "0" * 16), id="another-module-name"),
    pytest.param(lambda d: d.update(shapes="not shapes"), id="garbage"),
])
def test_a_changed_entry_costs_the_old_path_never_a_wrong_wrapper(warm, change):
    _rewrite(_index(warm), change)
    _expect(_run(warm), indexed=False)
    _expect(_run(warm), indexed=True)  # and that process wrote a good entry back


def test_a_wrong_wrapper_index_is_refused_by_its_parameter_count(warm):
    def swap(data):  # adler32 (3 parameters) pointed at zlibVersion's wrapper (none)
        data["functions"]["adler32"][0] = data["functions"]["zlibVersion"][0]
    _rewrite(_index(warm), swap)
    _expect(_run(warm), indexed=False)


def test_an_unverified_entry_or_module_is_ignored(warm):
    entry = _index(warm)
    data = entry.read_bytes()
    entry.write_bytes(data.replace(b'"format":1', b'"format":1 '))  # its hash no longer matches
    _expect(_run(warm), indexed=False)
    module = warm / json.loads(_index(warm).read_bytes())["file"]
    os.chmod(module, 0o777)  # writable by others: the module is not trusted, nor the entry
    _expect(_run(warm), indexed=False, rebuilt=True)


def test_a_planted_module_file_is_not_imported(warm, tmp_path):
    entry = json.loads(_index(warm).read_bytes())
    module = warm / entry["file"]
    planted = module.read_bytes()
    module.unlink()
    module.write_bytes(planted)  # the same bytes, but no recorded hash is touched: still ours
    Path(str(module) + ".sha256").unlink()  # a file nobody published
    _expect(_run(warm), indexed=False, rebuilt=True)
    _expect(_run(warm), indexed=True)


def test_concurrent_writers_never_leave_a_wrong_entry(warm):
    entry = json.loads(_index(warm).read_bytes())
    key = entry["key"]
    writer = textwrap.dedent(f"""
        import json, sys
        from ffikit.backends.compiled import modindex
        entry = json.loads({json.dumps(json.dumps(entry))})
        shapes = [modindex._tuples(s) for s in entry["shapes"]]
        functions = {{n: tuple(v) for n, v in entry["functions"].items()}}
        for i in range(40):
            reasons = {{"writer": sys.argv[1] * (i + 1)}}
            assert modindex.store(entry["key"], entry["module"], {str(warm)!r} + "/" + entry["file"],
                                  shapes, functions, reasons, {str(warm)!r})
    """)
    env = {**os.environ, "FFIKIT_CACHE_DIR": str(warm)}
    procs = [subprocess.Popen([sys.executable, "-c", writer, letter], env=env) for letter in "abcd"]
    seen = 0
    while any(p.poll() is None for p in procs):
        found = modindex.lookup(key, warm)
        if found is not None:  # a whole entry of one writer, or nothing
            seen += 1
            why = "".join(found.reasons.values())  # (none: the entry the warm process wrote)
            assert len(set(why)) <= 1 and found.shapes == [modindex._tuples(s) for s in entry["shapes"]]
    assert [p.wait() for p in procs] == [0, 0, 0, 0]
    assert modindex.lookup(key, warm) is not None
    _expect(_run(warm), indexed=True)


def test_the_key_covers_the_generator_the_compiler_and_the_names(monkeypatch):
    key = modindex.index_key("model", ["a", "b"], "utf-8")
    assert modindex.index_key("model", ["a"], "utf-8") != key
    assert modindex.index_key("other", ["a", "b"], "utf-8") != key
    assert modindex.index_key("model", ["a", "b"], "latin-1") != key
    assert any(path.endswith("cgen.py") for path, _, _ in key[4])
    assert any(path.endswith("module.c") for path, _, _ in key[4])
    assert ["build.py", -1, -1] not in key[4] and any(path == "build.py" for path, _, _ in key[4])
    monkeypatch.setenv("CFLAGS", "-O0")
    assert modindex.index_key("model", ["a", "b"], "utf-8") != key


@pytest.mark.parametrize("probes", [False, True])
def test_declarations_from_cdef_are_indexed_unless_their_text_probes_files(cache, cbuild, probes):
    """A cdef's model is cached (keyed by its text) and so names the module index entry; a text
    asking ``__has_include`` is parsed every time, has no model key and gets no entry."""
    lib = cbuild("int twice(int x) { return 2 * x; }", name="modindex_cdef")
    text = ("#if __has_include(<stdio.h>)\n#endif\n" if probes else "") + "int twice(int x);"
    code = f"""
        import sys, ffikit
        lib = ffikit.load({lib!r}, {text!r})
        print(lib.twice(4), "ffikit.backends.compiled.cgen" in sys.modules); lib.wait_compiled(120)
    """
    _run(cache, code)
    second = _run(cache, code)
    assert bool(list(cache.glob("uses-*.mod.json"))) is not probes and list(cache.glob("uses-*.json"))
    assert second[0].split() == ["8", str(probes)]  # indexed: the C generator is not even imported


HASHED = """
from ffikit.backends.compiled import modindex
hashed = []
_verified = modindex.verified
modindex.verified = lambda path: (hashed.append(str(path)), _verified(path))[1]
""" + USE + """
print(sum(path.endswith(".so") for path in hashed))
"""


def _module(cache: Path) -> Path:
    return cache / json.loads(_index(cache).read_bytes())["file"]


def test_the_module_is_hashed_once_then_trusted_while_its_file_is_unchanged(warm):
    module = _module(warm)
    assert _run(warm, HASHED)[3] == "0"  # the entry's stat of the file it hashed: no hash
    before = module.stat()
    module.write_bytes(module.read_bytes())  # the same bytes, in place: its ctime changed
    os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))  # (the mtime put back)
    lines = _run(warm, HASHED)
    _expect(lines, indexed=True)
    assert lines[3] == "1"  # hashed again (and the entry records the file as it is now)
    assert _run(warm, HASHED)[3] == "0"


def test_a_module_changed_in_place_with_its_size_and_mtime_kept_is_not_imported(warm):
    module = _module(warm)
    data = bytearray(module.read_bytes())
    before = module.stat()
    data[-1] ^= 0xFF  # (the section header table's last byte: the size stays)
    with open(module, "r+b") as file:  # the same inode
        file.write(data)
    os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert module.stat().st_size == before.st_size and module.stat().st_ino == before.st_ino
    _expect(_run(warm), indexed=False, rebuilt=True)


def test_a_module_unused_for_an_hour_is_hashed_and_marked_used(warm):
    module = _module(warm)
    hour_ago = module.stat().st_mtime_ns - 2 * 3600 * 10**9
    os.utime(module, ns=(hour_ago, hour_ago))
    assert _run(warm, HASHED)[3] == "1"
    assert module.stat().st_mtime_ns > hour_ago + 3600 * 10**9  # (the size bound's LRU order)
    assert _run(warm, HASHED)[3] == "0"
