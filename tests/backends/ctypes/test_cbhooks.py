"""cbhooks: ctypes thunks and C callback pools report what goes wrong in the same words."""

from __future__ import annotations

import sys

import pytest

import ffikit
from ffikit.backends.ctypes import cbhooks
from ffikit.backends.ctypes.callguard import MARGIN


def test_name_of():
    def f():
        pass

    assert cbhooks.name_of(f) == "test_name_of.<locals>.f"
    assert cbhooks.name_of(3) == "3"  # no __qualname__: the repr


@pytest.mark.parametrize("held, why", [
    (True, "its ffikit.callback was released"),
    (False, "a plain callable passed as argument 2 'cb' of 'f' is valid only until that call returns"),
])
def test_late_report_outside_any_call_goes_to_unraisablehook(held, why):
    ffikit.callback_errors(clear=True)
    seen = []
    old, sys.unraisablehook = sys.unraisablehook, seen.append
    try:
        cbhooks.late_report("g", held, "argument 2 'cb' of 'f'", -1)
    finally:
        sys.unraisablehook = old
    assert [type(s.exc_value) for s in seen] == [ffikit.CallbackReleased]
    text = str(seen[0].exc_value)
    assert text.startswith("ffikit callback g was called from C after it was released: ")
    assert why in text and "C got on_error (-1)" in text
    assert ffikit.callback_errors(clear=True) == [seen[0].exc_value]


def test_recursion_error_names_the_callback_and_the_margin():
    exc = cbhooks.recursion_error(print, 1000)
    assert isinstance(exc, ffikit.CallbackRecursion)
    assert str(exc).startswith(f"ffikit callback print was called from C with 1000 bytes of C stack "
                               f"left on its thread (less than {MARGIN})")


def test_providers_are_asked_and_none_means_a_ctypes_thunk():
    asked = []

    def provider(fp_type):
        asked.append(fp_type)
        return None

    saved = cbhooks._PROVIDERS[:]
    cbhooks._PROVIDERS[:] = []
    cbhooks.register_provider(provider)
    cbhooks.register_provider(provider)  # once only
    try:
        cb = ffikit.callback("int (*)(int)", abs)
        assert asked == [cb.fp_type]
        assert not isinstance(cb._slot, cbhooks.NativeSlot) and cb.thunk(-3) == 3
    finally:
        cbhooks._PROVIDERS[:] = saved


def test_setup_args_give_a_pool_the_shared_helpers():
    late, failed, guard, check, inflight, check_from, float_max = cbhooks.setup_args(abs)
    assert check is abs and isinstance(inflight, list) and check_from > 0 and float_max > 3e38
    assert guard(0, print) is None  # no nesting: nothing checked
