"""libuv as its guide shows it: a loop, a repeating timer whose callback C keeps, handles
closed through ``(uv_handle_t *)`` casts, synchronous file-system requests, error names."""

from __future__ import annotations

import gc
import os

import pytest

import ffikit
from corpus_helpers import require

# lib.CONSTANT (cffi's lib.X for #define and enum constants): not merged into main yet


@pytest.fixture(scope="module")
def uv(backend):
    require("libuv1-dev", "uv.h")
    return ffikit.load("uv", ffikit.include("uv.h"))


@pytest.fixture
def loop(uv):
    loop = uv.new("uv_loop_t")
    assert uv.uv_loop_init(loop) == 0
    yield loop
    assert uv.uv_loop_close(loop) == 0  # UV_EBUSY if a handle was left open


def _close(uv, loop, handle) -> None:
    """uv_close((uv_handle_t *) handle, on_close), then let the loop run the close callback."""
    closed = []
    with ffikit.callback(uv.defs.uv_close_cb, closed.append) as on_close:
        uv.uv_close(ffikit.cast("uv_handle_t *", handle, defs=uv.defs), on_close)
        uv.uv_run(loop, uv.UV_RUN_DEFAULT)
    assert len(closed) == 1


def test_repeating_timer(uv, loop):
    timer = uv.new("uv_timer_t")
    assert uv.uv_timer_init(loop, timer) == 0
    ticks = []

    def tick(handle):
        ticks.append(uv.uv_now(loop))
        if len(ticks) == 3:
            uv.uv_timer_stop(handle)

    with ffikit.callback(uv.defs.uv_timer_cb, tick) as on_tick:
        assert uv.uv_timer_start(timer, on_tick, 1, 2) == 0
        as_handle = ffikit.cast("uv_handle_t *", timer, defs=uv.defs)
        assert uv.uv_is_active(as_handle)
        assert uv.uv_run(loop, uv.UV_RUN_DEFAULT) == 0  # returns when nothing is active
        assert not uv.uv_is_active(as_handle)
    assert len(ticks) == 3 and ticks == sorted(ticks)
    _close(uv, loop, timer)


def test_the_callback_gets_the_timer_back(uv, loop):
    """The callback's ``uv_timer_t *`` is the struct we allocated; its data field carries
    a pointer of ours, cast back in the callback."""
    timer = uv.new("uv_timer_t")
    uv.uv_timer_init(loop, timer)
    box = uv.new("int", 41)
    timer.data = ffikit.cast("void *", box)
    seen = []

    def fired(handle):
        seen.append(ffikit.cast("uintptr_t", handle).value)
        counter = ffikit.cast("int *", handle.contents.data)
        counter[0] += 1

    with ffikit.callback(uv.defs.uv_timer_cb, fired) as on_fire:
        uv.uv_timer_start(timer, on_fire, 0, 0)
        uv.uv_run(loop, uv.UV_RUN_DEFAULT)
    assert seen == [ffikit.address(timer)] and box.value == 42
    _close(uv, loop, timer)


def test_handle_kept_alive_by_the_cast(uv, loop):
    """Only the cast refers to the timer: the loop still sees a live handle."""
    timer = uv.new("uv_timer_t")
    uv.uv_timer_init(loop, timer)
    handle = ffikit.cast("uv_handle_t *", timer, defs=uv.defs)
    del timer
    gc.collect()
    assert uv.uv_handle_get_type(handle) == uv.UV_TIMER
    assert uv.uv_handle_get_loop(handle).contents.data == loop.data
    _close(uv, loop, handle)


def test_synchronous_file_requests(uv, loop, tmp_path):
    """uv_fs_* with a NULL callback run synchronously; results arrive in the request."""
    path = tmp_path / "data.txt"
    path.write_bytes(b"hello from libuv\n")
    req = uv.new("uv_fs_t")
    fd = uv.uv_fs_open(loop, req, str(path).encode(), os.O_RDONLY, 0, None)
    uv.uv_fs_req_cleanup(req)
    assert fd >= 0
    buffer = bytearray(64)
    bufs = uv.new("uv_buf_t[1]")
    bufs[0] = uv.uv_buf_init(ffikit.cast("char *", buffer), len(buffer))
    n = uv.uv_fs_read(loop, req, fd, bufs, 1, -1, None)
    uv.uv_fs_req_cleanup(req)
    assert uv.uv_fs_close(loop, req, fd, None) == 0
    uv.uv_fs_req_cleanup(req)
    assert bytes(buffer[:n]) == path.read_bytes()

    missing = uv.uv_fs_open(loop, req, str(tmp_path / "absent").encode(), os.O_RDONLY, 0, None)
    uv.uv_fs_req_cleanup(req)
    assert missing == uv.UV_ENOENT
    assert uv.uv_err_name(missing) == b"ENOENT"
    assert b"no such file" in uv.uv_strerror(missing).lower()


def test_version(uv):
    v = uv.uv_version()
    assert v == (uv.UV_VERSION_MAJOR << 16) | (uv.UV_VERSION_MINOR << 8) | uv.UV_VERSION_PATCH
    assert uv.uv_version_string().startswith(b"%d." % uv.UV_VERSION_MAJOR)
