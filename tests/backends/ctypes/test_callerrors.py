"""Callback exceptions are parked for the call C made them in, and callback results are checked."""

from __future__ import annotations

import pytest

import ffikit
from crashproof import call_outcome
from ffikit.backends.ctypes import callerrors

SOURCE = r"""
double call_d(double (*f)(void)) { return f(); }
float call_f(float (*f)(void)) { return f(); }
int call_i(int (*f)(void)) { return f(); }
"""
DECLS = "double call_d(double (*f)(void)); float call_f(float (*f)(void)); int call_i(int (*f)(void));"


CASES = [  # issue 19 item 14: a double result C got as 0.0, with nothing raised or recorded
    ("lib.call_d(lambda: 'x')", "raised ArgumentError"),
    ("lib.call_d(lambda: None)", "raised ArgumentError"),
    ("lib.call_d(lambda: b'1')", "raised ArgumentError"),
    ("lib.call_d(lambda: [1.0])", "raised ArgumentError"),
    ("lib.call_i(lambda: 'x')", "raised ArgumentError"),
    ("lib.call_d(lambda: 2)", "returned 2.0"),
    ("lib.call_d(lambda: 1.5)", "returned 1.5"),
    ("lib.call_f(lambda: float('-inf'))", "returned -inf"),
    ("lib.call_f(lambda: float('inf'))", "returned inf"),
    ("lib.call_f(lambda: 1e300)", "raised ArgumentError"),  # a float cannot hold it: not inf
]


@pytest.mark.parametrize("backend", ["ctypes", "compiled"])
@pytest.mark.parametrize("call, expected", CASES)
def test_callback_results_are_checked_for_float_types_too(cbuild, backend, call, expected):
    got, err = call_outcome(cbuild(SOURCE, name="callerrors"), DECLS, backend, call)
    assert got == expected, err[-2000:]


def test_the_refusal_says_what_c_got(cbuild):
    from crashproof import run_isolated

    path = cbuild(SOURCE, name="callerrors")
    code = (f"import ffikit\nlib = ffikit.load({path!r}, {DECLS!r}, backend='ctypes')\n"
            "try:\n    lib.call_d(lambda: 'x')\nexcept ffikit.ArgumentError as e:\n    print(e)")
    out = run_isolated(code).stdout
    assert "callback must return a float or int for C type c_double (got str 'x')" in out


def test_result_checker_directly():
    import ctypes

    check = callerrors.result_checker(ctypes.c_double, 0)
    assert check(3) == 3.0 and type(check(3)) is float
    with pytest.raises(ffikit.ArgumentError):
        check("3")
    assert callerrors.result_checker(None, 0)(5) is None
