"""A pointer result keeps alive the arguments it could point into.

``char *second(char **argv)`` returning ``argv[1]``, ``strchr("text", c)``
or ``memchr(bytearray(...), c, n)`` return a pointer into memory that only
the call's arguments hold: the temporary array ffikit built from a list,
the bytes it encoded from a ``str``, a buffer passed as a temporary.  When
the call returns those are freed and the result dangles (``string(r)``
reads freed memory).  So a non-NULL pointer result of a function with
pointer parameters carries every pointer argument of its call -- as the
caller gave it, as converted for C, and the copies made for it -- for as
long as the result lives.
Checking whether the address really lies inside each argument would cost
more than the call (a ctypes address read is ~0.5 us); holding a reference
costs one dict store.  Buffers are held by their object, not by an export,
so a ``bytearray`` can still be resized (then the pointer dangles, as in C).
"""

from __future__ import annotations

__all__ = ["pin", "KEEP"]

KEEP = "_ffikit_keep"


def pin(result, originals: tuple, passed: tuple, temporaries: tuple):
    """``result`` (a ctypes pointer), holding the call's pointer arguments unless NULL:
    ``originals`` as given, ``passed`` as converted for C, ``temporaries`` what the
    converters kept alive for the call (an export is held by its object instead)."""
    if result:
        result.__dict__[KEEP] = (originals, passed, tuple(
            k.obj if type(k) is memoryview else k for k in temporaries))
    return result
