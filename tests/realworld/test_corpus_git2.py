"""libgit2 as its 101 samples show it: init a repository, write a blob, stage a file, commit
it on HEAD with a signature, read it back, and report errors through git_error_last()."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest

import ffikit
from corpus_helpers import require

# lib.CONSTANT (cffi's lib.X for #define and enum constants): not merged into main yet


@pytest.fixture(scope="module")
def git(backend):
    require("libgit2-dev", "git2.h")
    lib = ffikit.load("git2", ffikit.include("git2.h"))
    assert lib.git_libgit2_init() >= 1
    yield lib
    lib.git_libgit2_shutdown()


def _check(git, error: int) -> None:
    """if (error < 0) { const git_error *e = git_error_last(); ... }"""
    if error < 0:
        e = git.git_error_last()
        raise RuntimeError(f"{error}/{e.contents.klass}: "
                           f"{ffikit.string(e.contents.message).decode()}")


@pytest.fixture
def repo(git, tmp_path):
    repo = git.new("git_repository *")  # a NULL slot: git_repository **out
    _check(git, git.git_repository_init(repo, str(tmp_path / "repo").encode(), 0))
    yield repo
    git.git_repository_free(repo)


def _hex(git, oid) -> str:
    text = bytearray(git.GIT_OID_HEXSZ + 1)
    git.git_oid_tostr(text, len(text), oid)
    return ffikit.string(text).decode()


def test_blob_id_is_the_sha1_git_computes(git, repo):
    data = b"hello from ffikit\n"
    oid = git.new("git_oid")
    _check(git, git.git_blob_create_from_buffer(oid, repo, data, len(data)))
    expected = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    assert _hex(git, oid) == expected and bytes(oid.id).hex() == expected


def test_commit_a_file(git, repo, tmp_path):
    workdir = tmp_path / "repo"
    (workdir / "README").write_text("ffikit\n")
    index, tree = git.new("git_index *"), git.new("git_tree *")
    signature = git.new("git_signature *")
    tree_id, commit_id, head_id = git.new("git_oid"), git.new("git_oid"), git.new("git_oid")
    _check(git, git.git_repository_index(index, repo))
    try:
        _check(git, git.git_index_add_bypath(index, b"README"))
        _check(git, git.git_index_write(index))
        _check(git, git.git_index_write_tree(tree_id, index))
    finally:
        git.git_index_free(index)
    _check(git, git.git_tree_lookup(tree, repo, tree_id))
    _check(git, git.git_signature_new(signature, b"Ffi Kit", b"ffikit@example.org",
                                      1_700_000_000, 0))
    try:
        _check(git, git.git_commit_create(commit_id, repo, b"HEAD", signature, signature, None,
                                          b"Initial commit\n", tree, 0, None))
    finally:
        git.git_signature_free(signature)
        git.git_tree_free(tree)
    _check(git, git.git_reference_name_to_id(head_id, repo, b"HEAD"))
    assert _hex(git, head_id) == _hex(git, commit_id)

    if shutil.which("git"):  # the git command line agrees
        shown = subprocess.run(["git", "-C", str(workdir), "log", "--format=%H %an %s"],
                               capture_output=True, text=True, check=True).stdout.split()
        assert shown == [_hex(git, commit_id), "Ffi", "Kit", "Initial", "commit"]


def test_error_through_git_error_last(git, tmp_path):
    repo = git.new("git_repository *")
    with pytest.raises(RuntimeError, match="could not find repository") as info:
        _check(git, git.git_repository_open(repo, str(tmp_path).encode()))  # not a repository
    assert str(info.value).startswith(f"{git.GIT_ENOTFOUND}/{git.GIT_ERROR_REPOSITORY}:")


def test_version(git):
    major, minor, rev = git.new("int"), git.new("int"), git.new("int")
    _check(git, git.git_libgit2_version(major, minor, rev))
    assert (major.value, minor.value, rev.value) == (
        git.LIBGIT2_VER_MAJOR, git.LIBGIT2_VER_MINOR, git.LIBGIT2_VER_REVISION)
