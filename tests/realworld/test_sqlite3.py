"""libsqlite3 through its real header: open, exec with a Python row callback."""

from __future__ import annotations

import ctypes

import pytest

import ffikit


@pytest.fixture(scope="module")
def sq():
    return ffikit.load("sqlite3", ffikit.include("sqlite3.h"), errors={"sqlite3_exec": ffikit.check.nonzero})


@pytest.fixture()
def db(sq):
    slot = sq.new("sqlite3 *")
    assert sq.sqlite3_open(b":memory:", slot) == 0
    yield slot
    sq.sqlite3_close(slot)


def rows_of(argc, argv):
    values = ctypes.cast(argv, ctypes.POINTER(ctypes.c_char_p))
    return tuple(values[i] for i in range(argc))


def test_exec_with_python_row_callback(sq, db):
    sq.sqlite3_exec(db, "create table t(a int, b text); insert into t values (1, '你好'), (2, 'b');", None, None, None)
    rows = []

    def on_row(_arg, argc, argv, _names):
        rows.append(rows_of(argc, argv))
        return 0

    sq.sqlite3_exec(db, "select a, b from t order by a", on_row, None, None)
    assert rows == [(b"1", "你好".encode()), (b"2", b"b")]


def test_raising_row_callback_propagates(sq, db):
    sq.sqlite3_exec(db, "create table u(a int); insert into u values (1), (2), (3);", None, None, None)
    seen = []

    def on_row(_arg, argc, argv, _names):
        seen.append(rows_of(argc, argv))
        raise KeyError("stop")

    with pytest.raises(KeyError) as e:
        sq.sqlite3_exec(db, "select a from u", on_row, None, None)
    assert seen == [(b"1",), (b"2",), (b"3",)]  # a plain callable's on_error is 0: sqlite carried on
    assert "called from C function sqlite3_exec" in e.value.__notes__[0]

    seen.clear()
    abort_on_error = ffikit.callback(sq.defs.typeof("sqlite3_callback"), on_row, on_error=1)
    with pytest.raises(KeyError):  # the callback's exception, not the policy's CallError(SQLITE_ABORT)
        sq.sqlite3_exec(db, "select a from u", abort_on_error, None, None)
    assert seen == [(b"1",)]


def test_error_code_and_message(sq, db):
    errmsg = sq.new("char *")
    sq.sqlite3_exec.errors = None
    try:
        rc = sq.sqlite3_exec(db, "select * from nowhere", None, None, errmsg)
    finally:
        sq.sqlite3_exec.errors = ffikit.check.nonzero
    assert rc == 1
    assert ctypes.cast(errmsg, ctypes.c_char_p).value == b"no such table: nowhere"
    sq.sqlite3_free(errmsg)
    assert sq.sqlite3_libversion().startswith(b"3.")
