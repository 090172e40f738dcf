"""The cache directory's trust rules: a library someone else could have planted never runs.

Each attack plants a shared library whose constructor writes a marker file,
under the exact name ffikit would load, then runs ffikit in a child process:
the marker must never appear.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import ffikit
from crashproof import run_isolated
from ffikit import cachedir
from ffikit.errors import UntrustedCache

SOURCE = "int add(int a, int b) { return a + b; }"
EVIL = r"""
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void planted(void) {
    FILE *f = fopen(getenv("MARKER"), "w");
    if (f) { fputs("ran", f); fclose(f); }
}
int add(int a, int b) { return 666; }
"""


@pytest.fixture
def evil(tmp_path) -> Path:
    return Path(ffikit.build(EVIL, name="evil", cache_dir=tmp_path / "evil-cache"))


def _private(path: Path) -> Path:
    path.mkdir(mode=0o700)
    return path


def _plant(evil: Path, directory: Path, like: str) -> Path:
    """Copy the evil library under the name ``like`` has, with a hash file that matches it."""
    target = directory / os.path.basename(like)
    shutil.copyfile(evil, target)
    os.chmod(target, 0o700)
    shutil.copyfile(str(evil) + ".sha256", str(target) + ".sha256")
    return target


def _build_in_child(directory: Path, marker: Path) -> str:
    result = run_isolated(f"""
        import ctypes, ffikit
        try:
            path = ffikit.build({SOURCE!r}, name="add", cache_dir={str(directory)!r})
        except ffikit.errors.UntrustedCache as exc:
            print("REFUSED", exc)
        else:
            print("RESULT", ctypes.CDLL(path).add(2, 3))
    """, MARKER=str(marker))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_world_writable_cache_is_refused_and_a_planted_library_never_runs(tmp_path, evil):
    expected = ffikit.build(SOURCE, name="add", cache_dir=_private(tmp_path / "mine"))
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    _plant(evil, shared, expected)
    marker = tmp_path / "marker"
    out = _build_in_child(shared, marker)
    assert "REFUSED" in out and "writable by others" in out and "chmod go-w" in out
    assert not marker.exists()


def test_group_writable_cache_is_refused(tmp_path):
    shared = tmp_path / "group"
    shared.mkdir()
    os.chmod(shared, 0o770)
    with pytest.raises(UntrustedCache, match="writable by others"):
        ffikit.build(SOURCE, name="add", cache_dir=shared)


def test_a_directory_above_that_others_can_swap_is_refused(tmp_path):
    above = tmp_path / "above"
    above.mkdir()
    os.chmod(above, 0o777)  # not sticky: anyone could rename the cache away and put theirs
    with pytest.raises(UntrustedCache, match="not sticky"):
        ffikit.build(SOURCE, name="add", cache_dir=above / "cache")
    os.chmod(above, 0o1777)  # sticky, like /tmp: only the owner renames its entries
    assert ffikit.build(SOURCE, name="add", cache_dir=above / "cache")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a directory owned by someone else")
def test_a_cache_owned_by_someone_else_is_refused(tmp_path):
    theirs = _private(tmp_path / "theirs")
    os.chown(theirs, 65534, 65534)
    with pytest.raises(UntrustedCache, match="owned by uid 65534"):
        ffikit.build(SOURCE, name="add", cache_dir=theirs)


def test_a_new_cache_directory_is_private(tmp_path):
    root = Path(cachedir.trusted_root(tmp_path / "a" / "b"))
    assert (root.stat().st_mode & 0o777) == 0o700


def test_an_entry_not_matching_its_recorded_hash_is_rebuilt_never_loaded(tmp_path, evil):
    mine = _private(tmp_path / "mine")
    expected = Path(ffikit.build(SOURCE, name="add", cache_dir=mine))
    shutil.copyfile(evil, expected)  # same name, other content, the old hash file left in place
    marker = tmp_path / "marker"
    out = _build_in_child(mine, marker)
    assert "RESULT 5" in out
    assert not marker.exists()
    assert cachedir.verified(expected)


def test_a_truncated_entry_is_rebuilt(tmp_path):
    mine = _private(tmp_path / "mine")
    expected = Path(ffikit.build(SOURCE, name="add", cache_dir=mine))
    expected.write_bytes(expected.read_bytes()[:100])
    assert not cachedir.verified(expected)
    assert ffikit.build(SOURCE, name="add", cache_dir=mine) == str(expected)
    assert cachedir.verified(expected)


def test_an_entry_without_its_hash_file_is_rebuilt(tmp_path, evil):
    mine = _private(tmp_path / "mine")
    expected = Path(ffikit.build(SOURCE, name="add", cache_dir=mine))
    _plant(evil, mine, str(expected))
    Path(str(expected) + ".sha256").unlink()
    marker = tmp_path / "marker"
    assert "RESULT 5" in _build_in_child(mine, marker)
    assert not marker.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to someone else")
def test_an_entry_owned_by_someone_else_is_rebuilt(tmp_path, evil):
    mine = _private(tmp_path / "mine")
    expected = _plant(evil, mine, ffikit.build(SOURCE, name="add", cache_dir=mine))
    os.chown(expected, 65534, 65534)  # its hash file matches: ownership alone refuses it
    marker = tmp_path / "marker"
    assert "RESULT 5" in _build_in_child(mine, marker)
    assert not marker.exists()


def test_a_group_writable_entry_is_rebuilt(tmp_path, evil):
    mine = _private(tmp_path / "mine")
    expected = _plant(evil, mine, ffikit.build(SOURCE, name="add", cache_dir=mine))
    os.chmod(expected, 0o770)
    marker = tmp_path / "marker"
    assert "RESULT 5" in _build_in_child(mine, marker)
    assert not marker.exists()


def _compiled_module_in(directory: Path) -> Path:
    modules = [Path(p) for p in cachedir.entries(directory) if "ffikit" in os.path.basename(p)]
    assert len(modules) == 1, modules
    return modules[0]


LOAD = """
import ffikit
lib = ffikit.load({path!r}, "int add(int, int);", backend={backend!r})
print("RESULT", lib.add(2, 3))
print("BACKEND", lib.backend, lib.backend_reason)
"""


@pytest.mark.parametrize("backend", ["auto", "compiled"])
def test_the_compiled_backends_module_is_never_loaded_from_a_writable_cache(tmp_path, evil, backend):
    from ffikit.backends.compiled import available

    if not available()[0]:
        pytest.skip(available()[1])
    library = ffikit.build(SOURCE, name="target", cache_dir=_private(tmp_path / "libs"))
    learn = _private(tmp_path / "learn")
    run = run_isolated(LOAD.format(path=library, backend="compiled"), FFIKIT_CACHE_DIR=str(learn))
    assert "RESULT 5" in run.stdout, run.stderr
    module = _compiled_module_in(learn)
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    _plant(evil, shared, str(module))
    marker = tmp_path / "marker"
    run = run_isolated(LOAD.format(path=library, backend=backend) + "lib.wait_compiled(30)\n"
                       "print('AFTER', lib.backend, lib.add(2, 3), lib.backend_reason)\n",
                       FFIKIT_CACHE_DIR=str(shared), MARKER=str(marker))
    assert not marker.exists()
    if backend == "compiled":
        assert "UntrustedCache" in run.stderr and "writable by others" in run.stderr
    else:
        assert "RESULT 5" in run.stdout and "AFTER ctypes 5" in run.stdout, run.stderr
        assert "writable by others" in run.stdout.split("AFTER")[1]
        assert run.stderr.count("building compiled wrappers failed") == 1  # logged once


def test_the_size_bound_evicts_least_recently_used_entries(tmp_path, monkeypatch):
    mine = _private(tmp_path / "mine")
    first = Path(ffikit.build("int one(void) { return 1; }", name="one", cache_dir=mine))
    size = first.stat().st_size
    os.utime(first, (1, 1))  # long unused
    monkeypatch.setenv("FFIKIT_CACHE_SIZE", str(1.5 * size / 2**20))
    second = Path(ffikit.build("int two(void) { return 2; }", name="two", cache_dir=mine))
    assert second.exists() and not first.exists()
    assert not Path(str(first) + ".sha256").exists()
    assert ffikit.build("int one(void) { return 1; }", name="one", cache_dir=mine) == str(first)
    assert first.exists() and not second.exists()


def test_info_and_clear_cover_every_entry_and_hash_file(tmp_path):
    mine = _private(tmp_path / "mine")
    ffikit.build(SOURCE, name="add", cache_dir=mine)
    from ffikit.build import cache_clear, cache_info

    info = cache_info(mine)
    assert info["entries"] == 1 and info["bytes"] > 0 and info["bound"] == cachedir.size_bound()
    assert cache_clear(mine) == 1
    assert list(mine.iterdir()) == []


def test_which_finds_what_shutil_finds(tmp_path, monkeypatch):
    import shutil

    from ffikit.cachedir import which

    tool = tmp_path / "bin" / "mytool"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    plain = tmp_path / "bin" / "notexec"
    plain.write_text("")
    (tmp_path / "bin" / "adir").mkdir()
    monkeypatch.setenv("PATH", f"{tmp_path / 'nothing'}{os.pathsep}{tool.parent}{os.pathsep}/usr/bin")
    for program in ("mytool", "notexec", "adir", "sh", "no-such-program", str(tool), str(plain),
                    str(tmp_path / "bin" / "adir")):
        assert which(program) == shutil.which(program), program
    assert which("mytool") == str(tool)
    monkeypatch.setenv("PATH", "")
    assert which("sh") is None and shutil.which("sh") is None


def test_a_publish_interleaved_with_another_writer_still_leaves_a_pair_that_agrees(tmp_path,
                                                                                    monkeypatch):
    """Writer B's hash lands between writer A's hash and A's entry (the renames of two
    processes interleaved): A checks its pair, finds B's hash, and writes both again."""
    root = Path(cachedir.trusted_root(tmp_path / "cache"))
    target = root / "model-race.json"
    real_write = cachedir.write_atomic
    interleaved = []

    def write_atomic(path, data, mode=0o600):
        real_write(path, data, mode)
        if os.fspath(path) == str(target) and not interleaved:  # B's rename of its hash comes now
            interleaved.append(True)
            real_write(Path(str(target) + ".sha256"), (cachedir.sha256_hex(b"B") + "\n").encode())

    monkeypatch.setattr(cachedir, "write_atomic", write_atomic)
    cachedir.publish(target, b"A")
    assert interleaved and target.read_bytes() == b"A" and cachedir.verified(target)


def test_writers_of_different_data_under_one_name_leave_a_pair_that_agrees(tmp_path):
    import subprocess
    import sys

    root = Path(cachedir.trusted_root(tmp_path / "cache"))
    target = root / "model-race.json"
    writer = ("import sys\nfrom pathlib import Path\nfrom ffikit import cachedir\n"
              f"target = Path({str(target)!r})\n"
              "for i in range(40):\n"
              "    cachedir.publish(target, (sys.argv[1] * (1 << 18) + str(i)).encode())\n")
    procs = [subprocess.Popen([sys.executable, "-c", writer, letter]) for letter in "abcd"]
    assert [p.wait(timeout=300) for p in procs] == [0] * 4
    data = target.read_bytes()
    assert cachedir.verified(target) and len(set(data[:1 << 18])) == 1 and len(data) > 1 << 18


def test_read_entry_gives_only_a_verified_json_object_of_the_format_and_key(tmp_path):
    import json

    root = Path(cachedir.trusted_root(tmp_path / "cache"))
    entry = root / "model-x.json"
    cachedir.publish(entry, json.dumps({"format": 2, "key": [1, "a"], "v": 3}).encode())
    assert cachedir.read_entry(entry, 2, [1, "a"]) == {"format": 2, "key": [1, "a"], "v": 3}
    assert cachedir.read_entry(entry)["v"] == 3
    assert cachedir.read_entry(entry, 3, [1, "a"]) is None  # another format
    assert cachedir.read_entry(entry, 2, [1, "b"]) is None  # another key
    for data in (b"[1, 2]", b"not json", b"\xff\xfe", b'{"format": 2'):
        cachedir.publish(entry, data)
        assert cachedir.read_entry(entry) is None, data
    cachedir.publish(entry, b'{"format": 2}')
    entry.write_bytes(b'{"format": 3}')  # not what its hash says
    assert cachedir.read_entry(entry) is None and cachedir.read_entry(root / "absent.json") is None


def test_code_stamps_change_with_the_code(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "notes.txt").write_text("ignored")
    (tmp_path / "top.py").write_text("")
    before = cachedir.code_stamps(tmp_path, ["pkg", "gone"], (".py",), ["top.py"])
    assert [row[0] for row in before] == ["gone", os.path.join("pkg", "a.py"), "top.py"]
    assert before[0][1:] == [-1, -1]  # a missing folder still changes the key, never raises
    (tmp_path / "pkg" / "a.py").write_text("x = 22\n")
    assert cachedir.code_stamps(tmp_path, ["pkg", "gone"], (".py",), ["top.py"]) != before


@pytest.mark.parametrize("value", ["", "cc", "gcc -O2", "  clang\t-m32 ", "ccache  gcc -std=c11",
                                   "'/opt/my cc/gcc' -O2", 'gcc "-DNAME=a b"', r"gcc -DX=a\ b",
                                   "cc\n-O1", "gcc -DQ='x'", "cc #not-a-comment", "c\u00e7 -O2"])
def test_compiler_command_splits_cc_as_shlex_does(monkeypatch, value):
    """Without shlex on the warm path, ``$CC`` still splits as a shell would."""
    import shlex

    monkeypatch.setenv("CC", value)
    assert cachedir.compiler_command() == shlex.split(value or "cc")


def test_cache_paths_are_strs(tmp_path):
    """The cache API hands out ``str`` paths (no pathlib on a warm start) and takes either."""
    root = cachedir.trusted_root(tmp_path / "cache")
    assert isinstance(root, str) and os.path.isdir(root) and os.stat(root).st_mode & 0o777 == 0o700
    target = os.path.join(root, "uses-x.json")
    cachedir.publish(Path(target), b"{}")
    assert cachedir.entries(root) == [target] and cachedir.entries(Path(root)) == [target]
    assert cachedir.verified(target) and cachedir.read_entry(Path(target)) == {}
    assert cachedir.entries(os.path.join(root, "missing")) == [] and cachedir.entries(target) == []


def test_private_stat_is_the_one_file_check_verified_and_the_module_index_share(tmp_path):
    """A regular file of ours, writable by us alone: anything else (group-writable, a symlink,
    a directory, absent) is refused by the one check both trust paths use."""
    root = cachedir.trusted_root(tmp_path / "cache")
    entry = os.path.join(root, "uses-x.json")
    cachedir.publish(entry, b"{}")
    assert cachedir.sidecar(entry) == entry + ".sha256" and cachedir.verified(entry)
    assert cachedir.private_stat(entry).st_size == 2
    link = os.path.join(root, "uses-link.json")
    os.symlink(entry, link)
    os.chmod(cachedir.sidecar(entry), 0o620)
    assert [cachedir.private_stat(p) for p in (link, root, cachedir.sidecar(entry),
                                               os.path.join(root, "absent"))] == [None] * 4
    assert not cachedir.verified(entry)  # its hash file is no longer private
