"""S3.9: managed buffers, adopted C buffers freed exactly once, and a tracker that names lines."""

import gc
import inspect

import pytest

import ffikit
from memory_helpers import COUNTING_ALLOCATOR, DECLARATIONS

pytestmark = pytest.mark.usefixtures("backend")  # every test under both backends

@pytest.fixture(scope="module")
def clib(cbuild, backend):
    return ffikit.load(cbuild(COUNTING_ALLOCATOR, name="s39"), DECLARATIONS)


def test_managed_buffer_freed_deterministically_or_by_gc(clib):
    with ffikit.alloc("uint8_t", 4096) as buf:
        clib.fill(buf, 4096, 1)
        total = int(ffikit.asarray(buf).sum())  # no array outlives the statement
        assert total == 4096
    assert buf.freed
    with ffikit.track() as t:
        other = ffikit.alloc("uint8_t", 64)
        del other
        gc.collect()
    assert t.leaks() == []


def test_c_allocated_buffer_adopted_and_freed_exactly_once(clib):
    before = clib.free_count()
    for _ in range(3):
        m = ffikit.adopt(clib.allocate_buffer(100), 100, free=clib.free_buffer)
        assert bytes(m.buffer()[:3]) == b"\x07\x07\x07"
    m.free()  # the last one explicitly ...
    del m
    gc.collect()  # ... the others at garbage collection
    assert clib.free_count() == before + 3


def test_tracker_lists_two_leaks_with_this_files_lines(clib):
    with ffikit.track() as tracker:
        first = ffikit.alloc("double", 16)
        line_first = inspect.currentframe().f_lineno - 1
        second = ffikit.adopt(clib.allocate_buffer(10), 10, free=clib.free_buffer)
        line_second = inspect.currentframe().f_lineno - 1
        freed = ffikit.alloc("char", 8)
        freed.free()
    leaks = tracker.leaks()
    assert sorted(a.where.rsplit("/", 1)[-1] for a in leaks) == sorted([
        f"test_s3_9_memory_management.py:{line_first}",
        f"test_s3_9_memory_management.py:{line_second}"])
    report = tracker.report()
    assert "2 leaked ffikit allocation(s), 138 bytes:" in report
    first.free()
    second.free()
    tracker.assert_no_leaks()
