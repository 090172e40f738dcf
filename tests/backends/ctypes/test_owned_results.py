"""Results of functions declared ``malloc (dealloc, i)`` are owned and freed exactly once."""

from __future__ import annotations

import gc
import textwrap

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


USE_SOURCE = r"""
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
typedef struct handle { int value; char pad[4096]; } handle;
handle *h_open(int v) { handle *h = malloc(sizeof *h); h->value = v; memset(h->pad, 7, sizeof h->pad); return h; }
int h_close(handle *h) { memset(h, 0xdd, sizeof *h); free(h); return 0; }
int h_visit(handle *h, void (*cb)(void)) { cb(); return h->value + h->pad[4095]; }
int h_slow(handle *h, int ms) { usleep(ms * 1000); return h->value + h->pad[4095]; }
"""
USE_DECLS = """
typedef struct handle handle;
int h_close(handle *h);
handle *h_open(int v) __attribute__((malloc(h_close, 1)));
int h_visit(handle *h, void (*cb)(void));
int h_slow(handle *h, int ms);
"""


def _setup(cbuild, backend: str, extra: str = "") -> str:
    path = cbuild(USE_SOURCE, name="owned_use")
    return (f"import ffikit, threading, time\nlib = ffikit.load({path!r}, {USE_DECLS!r}, "
            f"backend={backend!r})\nh = lib.h_open(5)\n" + textwrap.dedent(extra))


@pytest.mark.parametrize("backend", ["ctypes", "compiled"])
def test_close_from_a_callback_during_the_call_is_refused(cbuild, backend):
    """Issue 19 item 2: close() inside the call freed what C was using (SIGSEGV)."""
    from crashproof import outcome

    setup = _setup(cbuild, backend)
    got, err = outcome(setup, "lib.h_visit(h, h.close)")
    assert got == "raised MemoryInUse", err[-2000:]
    got, err = outcome(setup + "\ntry:\n    lib.h_visit(h, h.close)\nexcept ffikit.MemoryInUse:\n    pass\n",
                       "(lib.h_visit(h, lambda: None), h.close(), h.freed)")
    assert got == "returned (12, None, True)", err[-2000:]  # after the call: it closes


@pytest.mark.parametrize("backend", ["ctypes", "compiled"])
def test_close_from_another_thread_during_the_call_is_refused(cbuild, backend):
    from crashproof import outcome

    setup = _setup(cbuild, backend, """
    errors = []
    def closer():
        time.sleep(0.1)
        try:
            h.close()
        except ffikit.MemoryInUse as exc:
            errors.append(type(exc).__name__)
    t = threading.Thread(target=closer)
    t.start()
    value = lib.h_slow(h, 400)
    t.join()
    """)
    got, err = outcome(setup, "(value, errors, h.freed)")
    assert got == "returned (12, ['MemoryInUse'], False)", err[-2000:]


@pytest.mark.parametrize("backend", ["ctypes", "compiled"])
def test_two_threads_passing_it_to_its_deallocator_free_it_once(cbuild, backend):
    """Each of 300 rounds: two threads race to h_close(h); one frees, the other is refused."""
    from crashproof import outcome

    setup = _setup(cbuild, backend, """
    import sys
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race shows
    outcomes = {}
    for _ in range(300):
        h = lib.h_open(1)
        start = threading.Barrier(2)
        def racer():
            start.wait()
            try:
                lib.h_close(h)
                key = "freed"
            except (ffikit.MemoryReleased, ffikit.MemoryInUse) as exc:
                key = type(exc).__name__
            outcomes[key] = outcomes.get(key, 0) + 1
        threads = [threading.Thread(target=racer) for _ in range(2)]
        for t in threads: t.start()
        for t in threads: t.join()
    """)
    got, err = outcome(setup, "outcomes['freed']")
    assert got == "returned 300", err[-2000:]
