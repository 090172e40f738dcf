"""C definitions of by-value structs for the compiled backend: one per distinct body."""

from __future__ import annotations

import ffikit
from ffikit.backends.compiled.cstructs import struct_c


def test_same_members_other_names_share_one_definition():
    defs = ffikit.cdef("typedef struct { long long quot, rem; } a_t;\n"
                       "typedef struct { long long q, r; } b_t;\nstruct c { long long x, y; };")
    definitions: list[str] = []
    tags = {struct_c(defs.types[n].type if n != "struct c" else defs.types[n], definitions)
            for n in ("a_t", "b_t", "struct c")}
    assert len(tags) == 1 and len(definitions) == 1


def test_div_results_of_every_width_by_value(backend):
    libc = ffikit.load("c", ffikit.include(["stdlib.h", "inttypes.h"]), backend=backend)
    for name in ("div", "ldiv", "lldiv", "imaxdiv"):
        result = getattr(libc, name)(17, 5)
        assert (result.quot, result.rem) == (3, 2), name
    assert libc.backend == backend
