"""Which macros of a translation unit are constants, which are noise; ``#undef``; origins."""

from __future__ import annotations

import subprocess

import pytest

import ffikit
from ffikit.cdecl.header_scope import final_macros, is_guard_name, is_noise
from ffikit.cdecl.preprocess import compiler


def _predefined() -> set[str]:
    """What the compiler defines for an empty file (``cc -dM -E``): never a constant."""
    out = subprocess.run([*compiler(), "-dM", "-E", "-std=gnu11", "-x", "c", "-"], input="",
                         capture_output=True, text=True, check=True).stdout
    return {line.split()[1].split("(")[0] for line in out.splitlines()
            if line.startswith("#define ")}


@pytest.mark.parametrize("header", ["math.h", "stdio.h", "zlib.h", "sys/socket.h", "stdint.h"])
def test_no_predefined_or_reserved_macro_is_a_constant(header):
    defs = ffikit.include(header)
    noise = _predefined() & set(defs.constants)
    assert not noise, sorted(noise)
    reserved = [n for n in defs.constants if n.startswith("__")]
    assert not reserved, reserved
    for guard in ("_STDC_PREDEF_H", "_FEATURES_H", "_GNU_SOURCE", "_DEFAULT_SOURCE",
                  "_POSIX_C_SOURCE", "_STDIO_H", "_MATH_H"):
        assert guard not in defs.constants


def test_noise_stays_available_on_request():
    defs = ffikit.include("stdio.h")
    everything = defs.all_macros
    assert everything["__STDC__"] == 1 and everything["_STDIO_H"] == 1
    assert everything["__GNUC__"] == _gcc_major() and "__GNUC__" not in defs.constants
    assert everything["BUFSIZ"] == defs.constants["BUFSIZ"]  # constants are a subset
    assert set(defs.constants) - set(everything) <= {n for e in defs.enums.values() for n in
                                                      e.__members__}


def _gcc_major() -> int:
    out = subprocess.run([*compiler(), "-dM", "-E", "-x", "c", "-"], input="",
                         capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[2] for line in out.splitlines()
                    if line.startswith("#define __GNUC__ ")))


def test_user_text_keeps_its_own_underscore_macros():
    defs = ffikit.cdef("#define __MY_LIMIT 7\n#define _PRIVATE_H 1\n#define _IOBUF 3\n")
    assert defs.constants["__MY_LIMIT"] == 7
    assert defs.constants["_IOBUF"] == 3  # a reserved-looking name is still a constant
    assert "_PRIVATE_H" not in defs.constants  # an include guard is not
    assert defs.all_macros["_PRIVATE_H"] == 1


def test_undef_removes_and_redefine_replaces():
    defs = ffikit.cdef("#define A 1\n#define B 2\n#undef A\n#undef B\n#define B 3\n")
    assert "A" not in defs.constants and defs.constants["B"] == 3
    assert defs.where("B") == ("<cdef>", 5)
    macros = final_macros([("X", "1", "f.h", 1), ("X", None, "f.h", 2), ("Y", "2", "g.h", 3)])
    assert macros == {"Y": ("Y", "2", "g.h", 3)}


@pytest.mark.parametrize(("name", "body", "file", "system", "noise"), [
    ("__GNUC__", "12", "<built-in>", False, True),
    ("unix", "1", "<built-in>", False, True),
    ("__STDC_IEC_559__", "1", "/usr/include/stdc-predef.h", True, True),
    ("__WORDSIZE", "64", "/usr/include/bits/wordsize.h", True, True),
    ("__WORDSIZE", "64", "mine.h", False, False),
    ("_GNU_SOURCE", "1", "mine.h", False, True),
    ("_FILE_OFFSET_BITS", "64", "mine.h", False, True),
    ("_ZLIB_H", "", "zlib.h", True, True),
    ("ZLIB_H_INCLUDED", "1", "zlib.h", False, True),
    ("XK_H", "0x0048", "keysymdef.h", False, False),  # a constant that ends in _H
    ("_IOFBF", "0", "/usr/include/stdio.h", True, False),
    ("ENOENT", "2", "/usr/include/asm-generic/errno-base.h", True, False),
])
def test_is_noise(name, body, file, system, noise):
    assert is_noise(name, body, file, {file} if system else set()) is noise


def test_where_names_the_sub_header():
    m = ffikit.include("math.h")
    file, line = m.where("cos")
    assert file.endswith("/bits/mathcalls.h") and line > 0
    with open(file) as fh:
        assert "__MATHCALL" in fh.read().splitlines()[line - 1]
    file, line = m.where("M_PI")
    with open(file) as fh:
        assert "M_PI" in fh.read().splitlines()[line - 1]
    assert m.where("no_such_name") is None
    z = ffikit.include("zlib.h")
    file, line = z.where("z_stream")
    assert file.endswith("zlib.h")
    with open(file) as fh:
        assert "z_stream" in fh.read().splitlines()[line - 1]


def test_underscore_constants_by_attribute():
    import os

    stdio = ffikit.include("stdio.h")
    assert (stdio._IOFBF, stdio._IOLBF, stdio._IONBF) == (0, 1, 2)
    unistd = ffikit.include("unistd.h")
    assert unistd._SC_PAGESIZE == os.sysconf_names["SC_PAGESIZE"]  # an enum member via macro
    with pytest.raises(AttributeError):
        _ = stdio._no_such_thing


def test_guard_names_as_the_pattern_defined_them():
    """is_guard_name answers as ``_*\\w*?_(H|HPP|INCLUDED|DEFINED|DECLARED)_*`` (re.I) did,
    without its backtracking (names of many underscores took milliseconds each)."""
    import itertools
    import random
    import re

    pattern = re.compile(r"_*\w*?_(?:H|HPP|INCLUDED|DEFINED|DECLARED)_*", re.I)
    parts = ["", "_", "__", "FOO", "foo", "H", "h", "HPP", "INCLUDED", "Defined", "DECLARED",
             "X1", "9", "-", " ", "é"]
    names = {"".join(p) for p in itertools.product(parts, repeat=3)}
    rng = random.Random(21)
    names |= {"".join(rng.choice("_HhPx9") for _ in range(rng.randrange(1, 14))) for _ in range(3000)}
    names |= {"_" * 40, "_" * 40 + "H", "__SIZEOF_INT128__", "ZLIB_H", "_STDIO_H", "Z_DEFAULT_COMPRESSION"}
    for name in sorted(names):
        assert is_guard_name(name) == (pattern.fullmatch(name) is not None), repr(name)


def test_quote_includes_count_as_the_headers_own_from_the_first_line_on(tmp_path):
    """``declares()`` counts the headers a named header includes with quotes (the library's
    own parts), wherever the ``#include`` line is: the file's first line, after blank lines,
    indented; a ``<...>`` include is not the library's."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "first.h").write_text('#include "second.h"\nint from_first(void);\n')
    (tmp_path / "sub" / "second.h").write_text("int from_second(void);\n")
    (tmp_path / "third.h").write_text("int from_third(void);\n")
    main = tmp_path / "lib.h"
    main.write_text('#include "sub/first.h"\n\n\n   #  include "third.h"\n#include <stdio.h>\n'
                    "int from_main(FILE *f);\n")
    defs = ffikit.include(str(main))
    for name in ("from_main", "from_first", "from_second", "from_third"):
        assert defs.declares(name), name
    assert "fopen" in defs.functions and not defs.declares("fopen")
