"""callback_errors() keeps the newest exceptions and counts the ones it let go."""

from __future__ import annotations

import ctypes
import sys

import ffikit
from ffikit.backends.ctypes import callerrors
from ffikit.backends.ctypes.kept import KEEP, Kept

SOURCE = """
static int (*saved)(int);
void keep_cb(int (*cb)(int)) { saved = cb; }
int call_kept(int v) { return saved(v); }
"""


def test_kept_is_bounded_and_counts_drops():
    kept = Kept(3)
    for i in range(5):
        kept.append(ValueError(i))
    snapshot = kept.snapshot()
    assert [e.args[0] for e in snapshot] == [2, 3, 4] and snapshot.dropped == 2
    kept.clear()
    assert kept.snapshot() == [] and kept.snapshot().dropped == 0


def test_callbacks_raising_outside_calls_keep_only_the_newest(cbuild):
    lib = ffikit.load(cbuild(SOURCE, name="kept"), "void keep_cb(int (*cb)(int)); int call_kept(int v);")
    ffikit.callback_errors(clear=True)

    def failing(v):
        raise KeyError(v)

    cb = ffikit.callback("int (*)(int)", failing, on_error=-1)
    lib.keep_cb(cb)
    raw = ctypes.CDLL(lib.path).call_kept  # C calling back outside any ffikit call
    old, sys.unraisablehook = sys.unraisablehook, lambda args: None
    try:
        results = {raw(i) for i in range(KEEP + 25)}
    finally:
        sys.unraisablehook = old
    assert results == {-1}
    errors = ffikit.callback_errors(clear=True)
    assert len(errors) == KEEP and errors.dropped == 25
    assert [e.args[0] for e in errors[-2:]] == [KEEP + 23, KEEP + 24]  # the newest kept
    assert ffikit.callback_errors() == [] and len(callerrors._KEPT) == 0
