"""Bound functions: called like the C function, policy settable, pickled as (library, name)."""

from __future__ import annotations

import pickle

import pytest

import ffikit

SOURCE = "int fail(int code) { return code; }\nint twice(int x) { return 2 * x; }"
DECL = "int fail(int code); int twice(int x);"


@pytest.fixture(scope="module")
def lib(cbuild):
    return ffikit.load(cbuild(SOURCE, name="bound_fns"), DECL)


def test_called_like_the_function_with_its_name_and_declaration(lib):
    assert lib.twice(21) == 42
    assert lib.twice.__name__ == "twice" and lib.twice.declaration == "int twice(int x);"
    assert repr(lib.twice) == "<ffikit function int twice(int x); from " \
        f"{lib.path.rsplit('/', 1)[1]}>"
    assert lib.twice is lib.twice  # bound once


def test_errors_is_settable_and_read_by_the_call(lib):
    lib.fail.errors = ffikit.check.nonzero
    try:
        with pytest.raises(ffikit.CallError, match="fail failed: returned 2"):
            lib.fail(2)
    finally:
        lib.fail.errors = None
    assert lib.fail(2) == 2


def test_a_policy_set_after_load_travels_with_the_function(lib, tmp_path):
    from pickle_helpers import in_fresh_interpreter

    lib.fail.errors = ffikit.check.nonzero({3: "E_THREE"})
    try:
        out = in_fresh_interpreter(lib.fail, """
            import ffikit
            try:
                obj(3)
            except ffikit.CallError as exc:
                print(exc.code_name)
        """, tmp_path)
    finally:
        lib.fail.errors = None
    assert out == "E_THREE"


def test_an_unpicklable_policy_says_so(lib):
    lib.twice.errors = lambda result, fn, args: result
    try:
        with pytest.raises((pickle.PicklingError, AttributeError, TypeError), match="lambda"):
            pickle.dumps(lib.twice)
    finally:
        lib.twice.errors = None
    assert pickle.loads(pickle.dumps(lib.twice))(4) == 8


def test_bound_functions_are_called_through_vectorcall():
    """A partial subclass keeps partial's fast call path (3.11 does not pass the flag on)."""
    import sys

    from ffikit.boundary.bound import BoundFunction

    assert BoundFunction.__flags__ & (1 << 11)  # Py_TPFLAGS_HAVE_VECTORCALL
    bound = BoundFunction(lambda a, b, /: (a, b), None)
    assert bound(1, b"x") == (1, b"x")
    assert sys.getrefcount(bound) == 2  # calling leaks no reference


LAZY_SOURCE = "long lazy_add(long a, long b) { return a + b; }\nint lazy_neg(int v) { return -v; }"
LAZY_DECL = "long lazy_add(long a, long b); int lazy_neg(int v);"


def test_on_ctypes_the_wrapper_is_compiled_at_first_use_and_behaves_the_same(cbuild):
    import inspect
    import types

    lib = ffikit.load(cbuild(LAZY_SOURCE, name="bound_lazy"), LAZY_DECL, backend="ctypes")
    add = lib.lazy_add
    assert not isinstance(add.func, types.FunctionType)  # bound, not compiled yet
    assert add.__name__ == "lazy_add" and add.declaration == "long lazy_add(long a, long b);"
    assert "long lazy_add(long a, long b);" in add.__doc__ and add.errors is None
    assert str(inspect.signature(add)) == "(a, b, /)"  # read: compiled, as help() needs it
    assert isinstance(add.func, types.FunctionType) and add.__wrapped__ is add.func
    neg = lib.lazy_neg
    neg.errors = ffikit.check.nonzero  # a policy set before the first call is the call's
    with pytest.raises(ffikit.CallError, match="lazy_neg failed: returned -5"):
        neg(5)
    assert isinstance(neg.func, types.FunctionType) and neg.errors is ffikit.check.nonzero
    assert neg(0) == 0 and add(2**40, 1) == 2**40 + 1
    with pytest.raises(ffikit.ArgumentError, match="argument 1 'v' of 'lazy_neg' must be an int"):
        neg("x")


def test_the_first_calls_from_many_threads_make_one_wrapper(cbuild):
    import threading

    lib = ffikit.load(cbuild(LAZY_SOURCE, name="bound_lazy"), LAZY_DECL, backend="ctypes")
    add, results, start = lib.lazy_add, [], threading.Barrier(8)

    def run(i):
        start.wait()
        results.append((add(i, 1), add.func))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r for r, _ in results) == list(range(1, 9))
    assert len({id(add.func), *(id(f) for _, f in results if not hasattr(f, "prepared"))}) == 1
