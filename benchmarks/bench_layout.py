"""Layout engine and ctypes backend: computing layouts/classes, and bitfield access.

Run: ``python benchmarks/bench_layout.py``.  Groups:

* computing a layout / building a ctypes class for a fresh struct vs the cached
  answer (every later ``defs.Student`` is the cached one);
* reading and writing a bitfield through ffikit's exact-bits property vs ctypes'
  own bitfield (whose placement ffikit does not trust) and a plain int field;
* reading, writing (range-checked) and initialising plain members of an ffikit
  struct class vs the same raw ctypes Structure (reads stay ctypes' own descriptor).
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Row, compare, finish, median_ns, table  # noqa: E402

from ffikit.backends.ctypes.types import to_ctypes  # noqa: E402
from ffikit.cdecl.layout import layout  # noqa: E402
from ffikit.cdecl.model import Array, Field, Pointer, Primitive, StructOrUnion  # noqa: E402

INT, UINT, DOUBLE = Primitive("int"), Primitive("unsigned int"), Primitive("double")


def _fresh_struct() -> StructOrUnion:
    """A 10-member struct with a bitfield run, an array and a self pointer."""
    t = StructOrUnion("struct", "bench")
    t.complete([
        Field("id", INT), Field("score", DOUBLE), Field("flags", UINT, 3),
        Field("level", INT, 5), Field("mode", UINT, 7), Field("name", Array(Primitive("char"), 32)),
        Field("weights", Array(DOUBLE, 4)), Field("count", Primitive("short")),
        Field("next", Pointer(t)), Field("tail", Primitive("char")),
    ])
    return t


class _CtypesBits(ctypes.Structure):
    _fields_ = [("id", ctypes.c_int), ("score", ctypes.c_double), ("flags", ctypes.c_uint, 3),
                ("level", ctypes.c_int, 5), ("mode", ctypes.c_uint, 7)]


def rows(quick: bool = False) -> list[Row]:
    repeats = 11 if quick else 31
    out: list[Row] = []

    group = "layout() of a 10-member struct"
    cached = _fresh_struct()
    layout(cached)
    out.append(Row(group, "fresh type", median_ns(lambda: layout(_fresh_struct()),
                                                  repeats=repeats), "fresh type"))
    out.append(Row(group, "cached", median_ns(lambda: layout(cached), repeats=repeats),
                   "fresh type"))

    group = "to_ctypes() of the same struct"
    to_ctypes(cached)
    out.append(Row(group, "fresh type (class build)",
                   median_ns(lambda: to_ctypes(_fresh_struct()), repeats=repeats),
                   "fresh type (class build)"))
    out.append(Row(group, "cached", median_ns(lambda: to_ctypes(cached), repeats=repeats),
                   "fresh type (class build)"))

    obj = to_ctypes(cached)()
    raw = _CtypesBits()
    group = "read a 5-bit signed bitfield"
    out.append(Row(group, "ctypes bitfield", median_ns(lambda: raw.level, repeats=repeats),
                   "ctypes bitfield"))
    out.append(Row(group, "ffikit exact-bits property", median_ns(lambda: obj.level,
                                                                  repeats=repeats),
                   "ctypes bitfield"))
    out.append(Row(group, "plain int field (reference)", median_ns(lambda: obj.id,
                                                                   repeats=repeats),
                   "ctypes bitfield"))

    group = "write a 5-bit signed bitfield"

    def set_raw():
        raw.level = -3

    def set_ffikit():
        obj.level = -3

    def set_plain():
        obj.id = -3

    out.append(Row(group, "ctypes bitfield", median_ns(set_raw, repeats=repeats),
                   "ctypes bitfield"))
    out.append(Row(group, "ffikit exact-bits property (range-checked)",
                   median_ns(set_ffikit, repeats=repeats), "ctypes bitfield"))
    out.append(Row(group, "plain int field (reference)", median_ns(set_plain, repeats=repeats),
                   "ctypes bitfield"))
    out += _member_rows(to_ctypes(cached))
    return finish(out)


class _CtypesPlain(ctypes.Structure):
    _fields_ = [("id", ctypes.c_int), ("score", ctypes.c_double)]


def _member_rows(cls: type) -> list[Row]:
    """Plain members: ffikit's checked class against raw ctypes (interleaved rounds)."""
    ours, raw = cls(), _CtypesPlain()

    def set_ours():
        ours.id = 7

    def set_raw():
        raw.id = 7

    def set_ours_float():
        ours.score = 1.5

    def set_raw_float():
        raw.score = 1.5

    out = compare("read an int member", {"raw ctypes": lambda: raw.id,
                                         "ffikit": lambda: ours.id}, "raw ctypes")
    out += compare("write an int member", {"raw ctypes (wraps)": set_raw,
                                           "ffikit (range-checked)": set_ours},
                   "raw ctypes (wraps)")
    out += compare("write a double member", {"raw ctypes": set_raw_float,
                                             "ffikit (checked)": set_ours_float}, "raw ctypes")
    out += compare("construct S(id=1, score=2.0)",
                   {"raw ctypes": lambda: _CtypesPlain(id=1, score=2.0),
                    "ffikit (checked)": lambda: cls(id=1, score=2.0)}, "raw ctypes")
    return out


if __name__ == "__main__":
    print(table(rows(quick="--quick" in sys.argv)))
