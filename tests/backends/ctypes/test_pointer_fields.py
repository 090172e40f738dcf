"""Struct pointer members take buffers zero-copy and keep them alive (SCENARIOS S3.7)."""

import ctypes
import gc

import numpy as np
import pytest

import ffikit

DEFS = ffikit.cdef("typedef struct { int width, height, channels; uint8_t *data; "
                   "const double *weights; void *user; } Image;")
C = """
#include <stdint.h>
typedef struct { int width, height, channels; uint8_t *data; const double *weights; void *user; } Image;
uintptr_t data_address(const Image *img) { return (uintptr_t)img->data; }
int sum_data(const Image *img) { int t = 0; for (int i = 0; i < img->width * img->height; i++) t += img->data[i]; return t; }
"""


class TestBufferPointerField:
    def test_numpy_array_zero_copy_and_kept_alive(self, cbuild):
        lib = ffikit.load(cbuild(C, name="ptrfields"), "typedef struct { int width, height, "
                          "channels; uint8_t *data; const double *weights; void *user; } Image;"
                          "uintptr_t data_address(const Image *img);"
                          "int sum_data(const Image *img);")
        img = lib.defs.Image(width=4, height=2, channels=1)
        pixels = np.arange(8, dtype=np.uint8)
        img.data = pixels
        assert lib.data_address(img) == pixels.ctypes.data  # C sees the array's own memory
        expected = int(pixels.sum())
        del pixels
        gc.collect()
        assert lib.sum_data(img) == expected  # still alive: the struct keeps it

    def test_resizing_the_source_is_refused_while_referenced(self):
        img = DEFS.Image()
        buf = bytearray(16)
        img.user = buf
        with pytest.raises(BufferError):
            buf.extend(b"more")
        img.user = None  # releases it
        buf.extend(b"more")
        assert not img.__dict__["_ffikit_keep"]

    def test_const_pointer_takes_read_only_buffers(self):
        img = DEFS.Image()
        weights = np.ones(3)
        weights.flags.writeable = False
        img.weights = weights
        assert img.weights[2] == 1.0

    def test_refusals_name_the_member(self):
        img = DEFS.Image()
        with pytest.raises(ffikit.ReadOnlyBuffer, match="member 'data' of 'Image' \\(uint8_t \\*\\)"):
            img.data = b"abc"
        with pytest.raises(TypeError, match="points at double, but the buffer holds items of "
                                            "format 'i'"):
            img.weights = np.zeros(2, dtype=np.int32)
        with pytest.raises(ffikit.NotContiguous, match="ascontiguousarray"):
            img.data = np.zeros(8, dtype=np.uint8)[::2]
        with pytest.raises(TypeError, match="takes a buffer, a ctypes pointer or None, not list"):
            img.data = [1, 2]

    def test_pointers_and_none_still_work(self):
        img = DEFS.Image()
        raw = (ctypes.c_uint8 * 4)(1, 2, 3, 4)
        img.data = ctypes.cast(raw, ctypes.POINTER(ctypes.c_uint8))
        assert img.data[3] == 4
        img.data = None
        assert not img.data


class TestExactRegions:
    def test_guarded_memory_and_read_only_views(self):
        img = DEFS.Image()
        m = ffikit.alloc("uint8_t", 100, guard=True)
        img.data = m
        assert ctypes.addressof(img.data.contents) == m.address  # the region, not the mapping
        with pytest.raises(ffikit.ReadOnlyBuffer):
            img.data = ffikit.view(bytes(8), "uint8_t[]")  # read-only view, non-const member
        img.weights = ffikit.view(bytes(16), "double[]")  # fine for a const member


KEEP_C = """
#include <string.h>
typedef struct { int n; unsigned char *data; } Img;
typedef struct { int tag; Img img; } Outer;
void fill(Img *img) { memset(img->data, 'X', img->n); }
void fill_outer(Outer *o) { memset(o->img.data, 'X', o->img.n); }
"""
KEEP_CHILD = """
import ffikit, gc
lib = ffikit.load(PATH, "typedef struct { int n; unsigned char *data; } Img; "
                  "typedef struct { int tag; Img img; } Outer; "
                  "void fill(Img *img); void fill_outer(Outer *o);", backend=BACKEND)
N = 4096
arr = (lib.defs.Img * 2)()
outer = lib.defs.Outer()
corrupted = 0
for _ in range(50):
    buf = bytearray(N); arr[1].n = N; arr[1].data = buf       # through a temporary arr[1]
    buf2 = bytearray(N); outer.img.n = N; outer.img.data = buf2  # through a temporary outer.img
    del buf, buf2
    gc.collect()
    others = [bytearray(N) for _ in range(20)]  # the freed memory would be reused here
    lib.fill(arr[1])  # C writes N bytes through each member
    lib.fill_outer(outer)
    corrupted += sum(1 for o in others if any(o))
    assert bytes(arr[1].data[:N]) == b"X" * N and bytes(outer.img.data[:N]) == b"X" * N
print("CORRUPTED", corrupted)
"""


@pytest.mark.parametrize("backend", ["ctypes", "compiled"])
def test_member_set_through_a_temporary_keeps_the_buffer_alive(cbuild, backend):
    from tests.crashproof import run_isolated

    path = cbuild(KEEP_C, name="keepalive_temporaries")
    proc = run_isolated(KEEP_CHILD.replace("PATH", repr(path)).replace("BACKEND", repr(backend)))
    assert "CORRUPTED 0" in proc.stdout, (proc.returncode, proc.stdout, proc.stderr[-2000:])


def test_keep_alive_lives_on_the_owning_object():
    arr = (DEFS.Image * 3)()
    buf = bytearray(8)
    arr[2].user = buf
    assert list(arr.__dict__["_ffikit_keep"].values())[0].obj is buf
    with pytest.raises(BufferError):
        buf.extend(b"x")  # still exported: the array holds it
    arr[2].user = None  # released through another temporary of the same member
    buf.extend(b"x")
    assert not arr.__dict__["_ffikit_keep"]
