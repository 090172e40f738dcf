"""Error policies: C results that mean failure become CallError, naming the code."""

from __future__ import annotations

import pytest

import ffikit
from ffikit import CallError

SOURCE = r"""
#include <errno.h>
#include <stddef.h>
int process(int x) { return x; }
int add(int a, int b) { return a + b; }
int fail_errno(int e) { errno = e; return -1; }
void *null_ptr(void) { return NULL; }
"""
HEADER = "int process(int x); int add(int a, int b); int fail_errno(int e); void *null_ptr(void);"


pytestmark = pytest.mark.usefixtures("backend")  # every test under both backends

@pytest.fixture(scope="module")
def lib(cbuild, backend):
    return ffikit.load(cbuild(SOURCE, name="policies"), HEADER)


class TestPolicies:
    def test_negative_with_names(self, lib):
        lib.process.errors = ffikit.check.negative({-1: "ENOMEM", -2: "EINVAL"})
        try:
            assert lib.process(3) == 3
            with pytest.raises(CallError) as e:
                lib.process(-2)
            assert str(e.value) == "process failed: returned -2 (EINVAL)"
            assert (e.value.function, e.value.code, e.value.code_name) == ("process", -2, "EINVAL")
        finally:
            lib.process.errors = None

    def test_nonzero_and_null(self, lib):
        with pytest.raises(CallError, match="add failed: returned 3"):
            ffikit.check.nonzero(3, lib.add, ())
        with pytest.raises(CallError, match="null_ptr failed: returned NULL"):
            ffikit.check.null(lib.null_ptr(), lib.null_ptr, ())

    def test_errno(self, lib):
        lib.fail_errno.errors = ffikit.check.errno
        with pytest.raises(CallError) as e:
            lib.fail_errno(2)
        assert isinstance(e.value, OSError)
        assert e.value.errno == 2 and e.value.strerror == "No such file or directory"
        assert "fail_errno failed: returned -1, errno 2 (ENOENT)" in str(e.value)

    def test_callable_policy(self, lib):
        seen = []
        lib.add.errors = lambda r, f, a: seen.append((r, f.__name__, a)) or r * 10
        try:
            assert lib.add(1, 2) == 30
        finally:
            lib.add.errors = None
        assert seen == [(3, "add", (1, 2))]

    def test_load_errors_mapping(self, cbuild):
        lib = ffikit.load(cbuild(SOURCE, name="policies"), HEADER, errors={"add": ffikit.check.nonzero})
        with pytest.raises(CallError):
            lib.add(1, 1)

    def test_repr(self):
        assert repr(ffikit.check.negative({-1: "X"})) == "ffikit.check.negative({-1: 'X'})"
        assert repr(ffikit.check) == "ffikit.check"


def test_policies_name_their_kind_for_the_compiled_backend():
    """The compiled backend judges ffikit.check's policies in C; a subclass that changes
    the judging is called instead (its __ffikit_policy__ is None)."""
    from ffikit.boundary.policies import Policy

    assert ffikit.check.errno.__ffikit_policy__ == "errno"
    assert ffikit.check.nonzero({1: "X"}).__ffikit_policy__ == "nonzero"

    class Loud(Policy):
        def failure(self, result, function):
            return None

    assert Loud("nonzero").__ffikit_policy__ is None


def test_lazy_message_and_pickling():
    import pickle

    err = ffikit.check.errno.failure(-1, type("F", (), {"__name__": "f"})())
    assert ffikit.check.errno.failed(-1, type("F", (), {"__name__": "f"})(), 7).errno == 7
    assert err.errno is not None and err.args == (err.errno, err.strerror)
    assert str(err).startswith("f failed: returned -1, errno ") and err.message == str(err)
    again = pickle.loads(pickle.dumps(err))
    assert (type(again), str(again), again.errno, again.code) == (type(err), str(err), err.errno, -1)
    plain = ffikit.check.nonzero.failure(3, type("G", (), {"__name__": "g"})())
    assert plain.args == ("g failed: returned 3",) and plain.errno is None
