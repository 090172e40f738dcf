"""Results of functions declared ``malloc (dealloc, i)`` are owned and freed exactly once."""

from __future__ import annotations

import gc

import pytest

import ffikit

SOURCE = r"""
#include <stdlib.h>
typedef struct handle { int value; } handle;
static int closes = 0;
int handle_close(handle *h) { closes++; free(h); return 0; }
handle *handle_open(int v) { if (v < 0) return NULL; handle *h = malloc(sizeof *h); h->value = v; return h; }
int handle_value(const handle *h) { return h->value; }
int close_count(void) { return closes; }
char *dup_text(const char *s) { size_t n = 0; while (s[n]) n++; char *p = malloc(n + 1); for (size_t i = 0; i <= n; i++) p[i] = s[i]; return p; }
"""

DECLS = """
typedef struct handle handle;
int handle_close(handle *h);
handle *handle_open(int v) __attribute__((malloc(handle_close, 1)));
int handle_value(const handle *h);
int close_count(void);
char *dup_text(const char *s) __attribute__((__malloc__(__builtin_free, 1)));
"""


@pytest.fixture()
def lib(cbuild):
    return ffikit.load(cbuild(SOURCE, name="owned_results"), DECLS)


def test_closed_once_by_its_deallocator(lib):
    before = lib.close_count()
    h = lib.handle_open(7)
    assert lib.handle_value(h) == 7
    assert lib.handle_close(h) == 0
    with pytest.raises(ffikit.MemoryReleased, match="already released with 'handle_close'"):
        lib.handle_close(h)
    with pytest.raises(ffikit.MemoryReleased):
        lib.handle_value(h)
    h.close()  # nothing left to do
    del h
    gc.collect()
    assert lib.close_count() == before + 1


def test_freed_at_gc_and_on_exit(lib):
    before = lib.close_count()
    lib.handle_open(1)
    gc.collect()
    assert lib.close_count() == before + 1
    with lib.handle_open(2) as h:
        assert lib.handle_value(h) == 2
    assert h.freed and lib.close_count() == before + 2


def test_null_is_not_owned_and_detach_opts_out(lib):
    assert not lib.handle_open(-1)
    before = lib.close_count()
    h = lib.handle_open(3)
    raw = h.detach()
    del h
    gc.collect()
    assert lib.close_count() == before
    assert lib.handle_close(raw) == 0 and lib.close_count() == before + 1


def test_free_from_libc(lib):
    p = lib.dup_text(b"hello")
    assert ffikit.string(p) == b"hello"
    p.free()
    assert p.freed
    with pytest.raises(ffikit.MemoryReleased):
        ffikit.string(p)


def test_undeclared_deallocator_found_in_the_library(cbuild):
    path = cbuild(SOURCE, name="owned_results")
    lib = ffikit.load(path, """
        typedef struct handle handle;
        handle *handle_open(int v) __attribute__((malloc(handle_close, 1)));
        int close_count(void);
    """)
    before = lib.close_count()
    h = lib.handle_open(4)
    assert "freed by handle_close" in repr(h)
    del h
    gc.collect()
    assert lib.close_count() == before + 1


def test_tracked_as_allocations(lib):
    with ffikit.track() as tracker:
        kept = lib.handle_open(5)
        closed = lib.handle_open(6)
        lib.handle_close(closed)
    (leak,) = tracker.leaks()
    assert leak.kind == "owned result"
    assert "test_owned_results.py" in tracker.report()  # the line that called handle_open
    lib.handle_close(kept)
    assert tracker.leaks() == []


def test_builtin_free_is_released_by_free(cbuild):
    lib = ffikit.load(cbuild(SOURCE, name="owned_results"), """
        char *dup_text(const char *s) __attribute__((__malloc__(__builtin_free, 1)));
        void free(void *p);
    """)
    p = lib.dup_text(b"x")
    lib.free(p)  # the declared 'free' releases it: no second free at GC
    assert p.freed
    with pytest.raises(ffikit.MemoryReleased):
        lib.free(p)
