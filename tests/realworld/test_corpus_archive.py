"""libarchive as its examples show it: write a gzip'd pax tar in memory with entries from
archive_entry.h, read it back entry by entry; Python's tarfile reads the same bytes."""

from __future__ import annotations

import io
import tarfile

import pytest

import ffikit
from corpus_helpers import require

FILES = {b"hello.txt": b"hello from ffikit\n", b"dir/data.bin": bytes(range(256)) * 4}


@pytest.fixture(scope="module")
def archive(backend):
    require("libarchive-dev", "archive.h", "archive_entry.h")
    return ffikit.load("archive", ffikit.include(["archive.h", "archive_entry.h"]))


def _check(archive, a, status: int) -> int:
    if status < archive.ARCHIVE_OK:
        raise OSError((archive.archive_error_string(a) or b"?").decode())  # const char *
    return status


def _write(archive) -> bytes:
    out, used = bytearray(1 << 16), archive.new("size_t")
    a = archive.archive_write_new()
    try:
        _check(archive, a, archive.archive_write_add_filter_gzip(a))
        _check(archive, a, archive.archive_write_set_format_pax_restricted(a))
        _check(archive, a, archive.archive_write_open_memory(a, out, len(out), used))
        for name, data in FILES.items():
            entry = archive.archive_entry_new()
            try:
                archive.archive_entry_set_pathname(entry, name)
                archive.archive_entry_set_size(entry, len(data))
                archive.archive_entry_set_filetype(entry, archive.AE_IFREG)
                archive.archive_entry_set_perm(entry, 0o644)
                _check(archive, a, archive.archive_write_header(a, entry))
                assert archive.archive_write_data(a, data, len(data)) == len(data)
            finally:
                archive.archive_entry_free(entry)
        _check(archive, a, archive.archive_write_close(a))
    finally:
        archive.archive_write_free(a)
    return bytes(out[:used.value])


def test_write_then_read_back(archive):
    packed = _write(archive)
    assert packed[:2] == b"\x1f\x8b"  # gzip
    a = archive.archive_read_new()
    found = {}
    try:
        _check(archive, a, archive.archive_read_support_filter_all(a))
        _check(archive, a, archive.archive_read_support_format_all(a))
        _check(archive, a, archive.archive_read_open_memory(a, packed, len(packed)))
        entry = archive.new("struct archive_entry *")  # a NULL slot: struct archive_entry **
        while archive.archive_read_next_header(a, entry) == archive.ARCHIVE_OK:
            name = archive.archive_entry_pathname(entry)  # const char *: bytes
            size = archive.archive_entry_size(entry)
            data = bytearray(size)
            assert archive.archive_read_data(a, data, size) == size
            assert archive.archive_entry_filetype(entry) == archive.AE_IFREG
            found[name] = bytes(data)
    finally:
        archive.archive_read_free(a)
    assert found == FILES


def test_python_tarfile_reads_it(archive):
    with tarfile.open(fileobj=io.BytesIO(_write(archive)), mode="r:gz") as tar:
        assert {m.name.encode(): tar.extractfile(m).read() for m in tar.getmembers()} == FILES
        assert all(m.mode == 0o644 and m.isfile() for m in tar.getmembers())


def test_reading_garbage_is_an_error_with_its_text(archive):
    a = archive.archive_read_new()
    try:
        archive.archive_read_support_format_all(a)
        garbage = b"this is not an archive at all" * 10
        entry = archive.new("struct archive_entry *")
        with pytest.raises(OSError, match="[Uu]nrecognized archive format"):
            _check(archive, a, archive.archive_read_open_memory(a, garbage, len(garbage)))
            _check(archive, a, archive.archive_read_next_header(a, entry))
    finally:
        archive.archive_read_free(a)
